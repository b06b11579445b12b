"""nf_tables attribute tables (``NFTA_*``), declared on top of :mod:`netlink.attrs`.

Integers are big endian; register data (``NFTA_DATA_VALUE``) is raw bytes.
Nested attributes carry ``NLA_F_NESTED`` as ``nft`` sends them.
"""

from __future__ import annotations

from ..netlink.attrs import BE32, BE64, BINARY, STRZ, Nested, Policy

NFTA_LIST_ELEM = 1
NFTA_RULE_EXPRESSIONS = 4

VERDICT = Policy("NFTA_VERDICT", {
    1: ("code", BE32),
    2: ("chain", STRZ),
    3: ("chain_id", BE32),
}, nested_flag=True)

DATA = Policy("NFTA_DATA", {
    1: ("value", BINARY),
    2: ("verdict", Nested(VERDICT)),
}, nested_flag=True)

HOOK = Policy("NFTA_HOOK", {
    1: ("hooknum", BE32),
    2: ("priority", BE32),
    3: ("dev", STRZ),
}, nested_flag=True)

TABLE = Policy("NFTA_TABLE", {
    1: ("name", STRZ),
    2: ("flags", BE32),
    3: ("use", BE32),
    4: ("handle", BE64),
    6: ("userdata", BINARY),
    7: ("owner", BE32),
}, nested_flag=True)

CHAIN = Policy("NFTA_CHAIN", {
    1: ("table", STRZ),
    2: ("handle", BE64),
    3: ("name", STRZ),
    4: ("hook", Nested(HOOK)),
    5: ("policy", BE32),
    6: ("use", BE32),
    7: ("type", STRZ),
    8: ("counters", BINARY),
    10: ("flags", BE32),
    11: ("id", BE32),
    12: ("userdata", BINARY),
}, nested_flag=True)

EXPR = Policy("NFTA_EXPR", {
    1: ("name", STRZ),
    2: ("data", BINARY),
}, nested_flag=True)

RULE = Policy("NFTA_RULE", {
    1: ("table", STRZ),
    2: ("chain", STRZ),
    3: ("handle", BE64),
    4: ("expressions", BINARY),  # NFTA_LIST_ELEM list; decoded by expr.decode_list
    6: ("position", BE64),
    7: ("userdata", BINARY),
    9: ("id", BE32),
    10: ("position_id", BE32),
    11: ("chain_id", BE32),
}, nested_flag=True)

SET_DESC = Policy("NFTA_SET_DESC", {
    1: ("size", BE32),
    2: ("concat", BINARY),
}, nested_flag=True)

SET = Policy("NFTA_SET", {
    1: ("table", STRZ),
    2: ("name", STRZ),
    3: ("flags", BE32),
    4: ("key_type", BE32),
    5: ("key_len", BE32),
    6: ("data_type", BE32),
    7: ("data_len", BE32),
    8: ("policy", BE32),
    9: ("desc", Nested(SET_DESC)),
    10: ("id", BE32),
    11: ("timeout", BE64),
    12: ("gc_interval", BE32),
    13: ("userdata", BINARY),
    16: ("handle", BE64),
}, nested_flag=True)

SET_ELEM = Policy("NFTA_SET_ELEM", {
    1: ("key", Nested(DATA)),
    2: ("data", Nested(DATA)),
    3: ("flags", BE32),
    4: ("timeout", BE64),
    5: ("expiration", BE64),
    6: ("userdata", BINARY),
    10: ("key_end", Nested(DATA)),
}, nested_flag=True)

SET_ELEM_LIST = Policy("NFTA_SET_ELEM_LIST", {
    1: ("table", STRZ),
    2: ("set", STRZ),
    3: ("elements", BINARY),  # numbered list of NFTA_SET_ELEM; see objects.SetElems
    4: ("set_id", BE32),
}, nested_flag=True)

GEN = Policy("NFTA_GEN", {
    1: ("id", BE32),
    2: ("proc_pid", BE32),
    3: ("proc_name", STRZ),
}, nested_flag=True)

BATCH = Policy("NFNL_BATCH", {
    1: ("genid", BE32),
}, nested_flag=True)

# -- expression data ---------------------------------------------------------

IMMEDIATE = Policy("NFTA_IMMEDIATE", {
    1: ("dreg", BE32),
    2: ("data", Nested(DATA)),
}, nested_flag=True)

CMP = Policy("NFTA_CMP", {
    1: ("sreg", BE32),
    2: ("op", BE32),
    3: ("data", Nested(DATA)),
}, nested_flag=True)

RANGE = Policy("NFTA_RANGE", {
    1: ("sreg", BE32),
    2: ("op", BE32),
    3: ("from_data", Nested(DATA)),
    4: ("to_data", Nested(DATA)),
}, nested_flag=True)

BITWISE = Policy("NFTA_BITWISE", {
    1: ("sreg", BE32),
    2: ("dreg", BE32),
    3: ("len", BE32),
    4: ("mask", Nested(DATA)),
    5: ("xor", Nested(DATA)),
    6: ("op", BE32),
    7: ("data", Nested(DATA)),
}, nested_flag=True)

LOOKUP = Policy("NFTA_LOOKUP", {
    1: ("set", STRZ),
    2: ("sreg", BE32),
    3: ("dreg", BE32),
    4: ("set_id", BE32),
    5: ("flags", BE32),
}, nested_flag=True)

PAYLOAD = Policy("NFTA_PAYLOAD", {
    1: ("dreg", BE32),
    2: ("base", BE32),
    3: ("offset", BE32),
    4: ("len", BE32),
    5: ("sreg", BE32),
    6: ("csum_type", BE32),
    7: ("csum_offset", BE32),
    8: ("csum_flags", BE32),
}, nested_flag=True)

META = Policy("NFTA_META", {
    1: ("dreg", BE32),
    2: ("key", BE32),
    3: ("sreg", BE32),
}, nested_flag=True)

CT = Policy("NFTA_CT", {
    1: ("dreg", BE32),
    2: ("key", BE32),
    3: ("direction", BINARY),  # u8
    4: ("sreg", BE32),
}, nested_flag=True)

FIB = Policy("NFTA_FIB", {
    1: ("dreg", BE32),
    2: ("result", BE32),
    3: ("flags", BE32),
}, nested_flag=True)

NAT = Policy("NFTA_NAT", {
    1: ("type", BE32),
    2: ("family", BE32),
    3: ("reg_addr_min", BE32),
    4: ("reg_addr_max", BE32),
    5: ("reg_proto_min", BE32),
    6: ("reg_proto_max", BE32),
    7: ("flags", BE32),
}, nested_flag=True)

MASQ = Policy("NFTA_MASQ", {
    1: ("flags", BE32),
    2: ("reg_proto_min", BE32),
    3: ("reg_proto_max", BE32),
}, nested_flag=True)

COUNTER = Policy("NFTA_COUNTER", {
    1: ("bytes", BE64),
    2: ("packets", BE64),
}, nested_flag=True)
