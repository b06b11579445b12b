"""nft-level statements, and their translation to and from kernel expressions.

Statements are plain hashable tuples shaped like ``nft -j`` output, which is
what upstream netavark reasons about::

    ("match", left, op, right)      op: "==", "!=", "in", "<", "<=", ">", ">="
    ("accept",) ("drop",) ("return",) ("continue",) ("jump", chain) ("goto", chain)
    ("mangle", key, value)          e.g. ct mark set meta mark | 0x1000
    ("masquerade",)
    ("snat"|"dnat", "ip"|"ip6", addr, port|None, extra_flags)
    ("counter",) ("unknown", expression name)

Left sides: ``("payload", proto, field)``, ``("meta", key)``, ``("ct", key)``,
``("fib", result, flags)``, ``("&", left, mask)``, ``("|", left, value)``.
Right sides: ``int``, ``str``, ``("prefix", addr, len)``, ``("range", lo, hi)``,
``("set", items)``, ``("list", items)`` (several ct states).

:func:`linearize` produces exactly the expressions ``nft`` 1.0.6 generates
(protocol dependencies included); :func:`delinearize` reads expressions back,
dropping those dependencies and merging ``cmp >= / <=`` pairs (or a ``range``
expression, as newer nft emits) into one range match — so rules created by
``nft`` (upstream netavark) and by us compare equal.
"""

from __future__ import annotations

import struct

from ..ip import IpAddr
from . import consts as C
from .expr import (
    Bitwise,
    Cmp,
    Counter,
    Ct,
    Expr,
    Fib,
    Immediate,
    Lookup,
    Masq,
    Meta,
    Nat,
    Payload,
    Range,
    Verdict,
)
from .objects import Set, SetDesc, SetElem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Union

    Stmt = tuple
    SetResolver = Callable[[str], Union[tuple, None]]

ACCEPT = ("accept",)
DROP = ("drop",)
RETURN = ("return",)
MASQUERADE = ("masquerade",)


def match(left: tuple, right: Any, op: str = "==") -> tuple:
    return ("match", left, op, right)


def payload(proto: str, field: str) -> tuple:
    return ("payload", proto, field)


def meta(key: str) -> tuple:
    return ("meta", key)


def ct(key: str) -> tuple:
    return ("ct", key)


def jump(chain: str) -> tuple:
    return ("jump", chain)


def prefix(addr: str, length: int) -> tuple:
    return ("prefix", addr, length)


def nat(kind: str, addr: IpAddr, port: int | None = None) -> tuple:
    return (kind, "ip" if addr.version == 4 else "ip6", str(addr), port, 0)


class LinearizeError(ValueError):
    """A statement we cannot express (a bug in the caller, or bad user input)."""


# -- names -----------------------------------------------------------------------

L4PROTO = {"tcp": 6, "udp": 17, "sctp": 132, "udplite": 136, "dccp": 33, "icmp": 1,
           "ipv6-icmp": 58, "igmp": 2, "esp": 50, "ah": 51, "comp": 108, "gre": 47}
L4PROTO_NAME = {v: k for k, v in L4PROTO.items()}
# transport protocols whose header starts with 16-bit source and destination ports
PORT_PROTOS = frozenset({"tcp", "udp", "sctp", "udplite", "dccp"})
NFPROTO_NAME = {C.NFPROTO_IPV4: "ipv4", C.NFPROTO_IPV6: "ipv6"}
NFPROTO = {v: k for k, v in NFPROTO_NAME.items()}
META_KEYS = {"mark": C.NFT_META_MARK, "iifname": C.NFT_META_IIFNAME,
             "oifname": C.NFT_META_OIFNAME, "nfproto": C.NFT_META_NFPROTO,
             "l4proto": C.NFT_META_L4PROTO, "protocol": C.NFT_META_PROTOCOL,
             "iif": C.NFT_META_IIF, "oif": C.NFT_META_OIF, "len": C.NFT_META_LEN,
             "priority": C.NFT_META_PRIORITY}
META_NAME = {v: k for k, v in META_KEYS.items()}
CT_KEYS = {"state": C.NFT_CT_STATE, "direction": C.NFT_CT_DIRECTION,
           "status": C.NFT_CT_STATUS, "mark": C.NFT_CT_MARK}
CT_NAME = {v: k for k, v in CT_KEYS.items()}
CT_STATES = {"invalid": C.NF_CT_STATE_INVALID_BIT, "established": C.NF_CT_STATE_ESTABLISHED_BIT,
             "related": C.NF_CT_STATE_RELATED_BIT, "new": C.NF_CT_STATE_NEW_BIT,
             "untracked": C.NF_CT_STATE_UNTRACKED_BIT}
RTN_TYPES = ("unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole",
             "unreachable", "prohibit", "throw", "nat", "xresolve")
FIB_RESULTS = {"oif": C.NFT_FIB_RESULT_OIF, "oifname": C.NFT_FIB_RESULT_OIFNAME,
               "type": C.NFT_FIB_RESULT_ADDRTYPE}
FIB_RESULT_NAME = {v: k for k, v in FIB_RESULTS.items()}
FIB_FLAGS = (("saddr", C.NFTA_FIB_F_SADDR), ("daddr", C.NFTA_FIB_F_DADDR),
             ("mark", C.NFTA_FIB_F_MARK), ("iif", C.NFTA_FIB_F_IIF), ("oif", C.NFTA_FIB_F_OIF))
CMP_OPS = {"==": C.NFT_CMP_EQ, "!=": C.NFT_CMP_NEQ, "<": C.NFT_CMP_LT, "<=": C.NFT_CMP_LTE,
           ">": C.NFT_CMP_GT, ">=": C.NFT_CMP_GTE}
CMP_OP_NAME = {v: k for k, v in CMP_OPS.items()}

# (protocol, field) → (offset, length) in the network header
ADDR_FIELDS = {("ip", "saddr"): (12, 4), ("ip", "daddr"): (16, 4),
               ("ip6", "saddr"): (8, 16), ("ip6", "daddr"): (24, 16)}
ADDR_AT = {("ip", off): (field, ln) for (p, field), (off, ln) in ADDR_FIELDS.items() if p == "ip"}
ADDR_AT.update({("ip6", off): (field, ln) for (p, field), (off, ln) in ADDR_FIELDS.items()
                if p == "ip6"})
PORT_FIELDS = {"sport": 0, "dport": 2}
PORT_AT = {v: k for k, v in PORT_FIELDS.items()}

_U32H = struct.Struct("=I")  # marks, ct state, fib type: host byte order registers
_BE16 = struct.Struct(">H")
_IFNAMSIZ = 16
_R1 = C.NFT_REG_1
_R2 = C.NFT_REG_2

# the anonymous { tcp, udp } set: key type inet_proto (12), 1 byte keys; the
# userdata is what nft records for "typeof meta l4proto" (host byte order)
INET_PROTO_TYPE = 12
_L4PROTO_SET_UDATA = (b"\x00\x04" + _U32H.pack(1) + b"\x03\x0e" + b"\x00\x04"
                      + struct.pack("=I", 9) + b"\x01\x06\x00\x04" + _U32H.pack(16))


_MEMO: dict[tuple, Expr] = {}


def _x(cls: type[Expr], *args: Any) -> Expr:
    """Shared, immutable expression instances: most expressions recur in every
    rule of a kind, and an instance encodes itself only once."""
    key = (cls, args)
    e = _MEMO.get(key)
    if e is None:
        if len(_MEMO) > 20000:
            _MEMO.clear()
        e = _MEMO[key] = cls(*args)
    return e


def _u32h(v: int) -> bytes:
    return _U32H.pack(v & 0xFFFFFFFF)


def _verdict_expr(code: int, chain: str | None = None) -> Immediate:
    return _x(Immediate, C.NFT_REG_VERDICT, None, Verdict(code, chain))


class AnonSet:
    """An anonymous constant set a rule needs (created in the same batch)."""

    __slots__ = ("elements", "key_len", "key_type", "userdata")

    def __init__(self, key_type: int, key_len: int, elements: list[bytes],
                 userdata: bytes | None) -> None:
        self.key_type = key_type
        self.key_len = key_len
        self.elements = elements
        self.userdata = userdata

    def set_object(self, table: str, set_id: int, family: int = C.NFPROTO_INET) -> Set:
        return Set(table, "__set%d", family,
                   flags=C.NFT_SET_ANONYMOUS | C.NFT_SET_CONSTANT, key_type=self.key_type,
                   key_len=self.key_len, id=set_id, desc=SetDesc(len(self.elements)),
                   userdata=self.userdata)

    def elems(self) -> list[SetElem]:
        return [SetElem(e) for e in self.elements]


# -- statements → expressions ------------------------------------------------------


class _Lin:
    """Linearization state of one rule (the protocol context nft tracks)."""

    __slots__ = ("alloc", "l4", "net", "out")

    def __init__(self, alloc: Callable[[AnonSet], int] | None) -> None:
        self.out: list[Expr] = []
        self.net: str | None = None
        self.l4: str | None = None
        self.alloc = alloc

    def need_net(self, proto: str) -> None:
        if self.net != proto:
            fam = NFPROTO["ipv4" if proto == "ip" else "ipv6"]
            self.out += [_x(Meta, C.NFT_META_NFPROTO, _R1),
                         _x(Cmp, _R1, C.NFT_CMP_EQ, bytes([fam]))]
            self.net = proto

    def need_l4(self, proto: str) -> None:
        if self.l4 != proto:
            self.out += [_x(Meta, C.NFT_META_L4PROTO, _R1),
                         _x(Cmp, _R1, C.NFT_CMP_EQ, bytes([L4PROTO[proto]]))]
            self.l4 = proto


def linearize(stmts: Sequence[tuple], alloc: Callable[[AnonSet], int] | None = None) -> list[Expr]:
    """Statements → the expressions ``nft`` generates for them.

    ``alloc`` registers an anonymous set in the surrounding batch and returns
    its batch id (needed only for set matches).
    """
    st = _Lin(alloc)
    out = st.out
    for s in stmts:
        # most statements recur across rules: reuse their expressions, keyed by
        # the protocol context they start from (set matches allocate, never cached)
        key = (s, st.net, st.l4)
        hit = _LIN_MEMO.get(key)
        if hit is not None:
            out += hit[0]
            st.net, st.l4 = hit[1], hit[2]
            continue
        start = len(out)
        _lin_one(st, s)
        r = s[3] if s[0] == "match" else None
        if not (isinstance(r, tuple) and r and r[0] == "set"):
            if len(_LIN_MEMO) > 20000:
                _LIN_MEMO.clear()
            _LIN_MEMO[key] = (tuple(out[start:]), st.net, st.l4)
    return out


_LIN_MEMO: dict[tuple, tuple] = {}


def _lin_one(st: _Lin, s: tuple) -> None:
    tag = s[0]
    if tag == "match":
        _lin_match(st, s[1], s[2], s[3])
    elif tag == "accept":
        st.out.append(_verdict_expr(C.NF_ACCEPT))
    elif tag == "drop":
        st.out.append(_verdict_expr(C.NF_DROP))
    elif tag == "jump":
        st.out.append(_verdict_expr(C.NFT_JUMP, s[1]))
    elif tag == "goto":
        st.out.append(_verdict_expr(C.NFT_GOTO, s[1]))
    elif tag == "return":
        st.out.append(_verdict_expr(C.NFT_RETURN))
    elif tag == "continue":
        st.out.append(_verdict_expr(C.NFT_CONTINUE))
    elif tag == "mangle":
        _lin_mangle(st, s[1], s[2])
    elif tag == "masquerade":
        st.out.append(_x(Masq))
    elif tag in ("snat", "dnat"):
        _lin_nat(st, s)
    elif tag == "counter":
        st.out.append(_x(Counter, 0, 0))
    else:
        raise LinearizeError(f"cannot linearize statement {s!r}")


def _load(st: _Lin, left: tuple) -> str:
    """Emit the load of ``left`` into reg 1; return the value kind for the right side."""
    kind = left[0]
    if kind == "meta":
        key = META_KEYS.get(left[1])
        if key is None:
            raise LinearizeError(f"unknown meta key {left[1]!r}")
        st.out.append(_x(Meta, key, _R1))
        return {"mark": "u32h", "iifname": "ifname", "oifname": "ifname", "l4proto": "l4proto",
                "nfproto": "nfproto"}.get(left[1], "u32h")
    if kind == "ct":
        key = CT_KEYS.get(left[1])
        if key is None:
            raise LinearizeError(f"unknown ct key {left[1]!r}")
        st.out.append(_x(Ct, key, _R1))
        return "ctstate" if left[1] == "state" else "u32h"
    if kind == "fib":
        flags = 0
        for name, bit in FIB_FLAGS:
            if name in left[2]:
                flags |= bit
        st.out.append(_x(Fib, _R1, FIB_RESULTS[left[1]], flags))
        return "rtntype"
    if kind == "payload":
        proto, field = left[1], left[2]
        if proto in PORT_PROTOS or proto == "th":
            if field not in PORT_FIELDS:
                raise LinearizeError(f"unknown field {proto} {field}")
            if proto != "th":
                st.need_l4(proto)
            st.out.append(_x(Payload, _R1, C.NFT_PAYLOAD_TRANSPORT_HEADER, PORT_FIELDS[field], 2))
            return "port"
        raise LinearizeError(f"unknown payload {proto} {field}")
    raise LinearizeError(f"cannot load {left!r}")


def _lin_match(st: _Lin, left: tuple, op: str, right: Any) -> None:
    out = st.out
    if left[0] == "payload" and (left[1], left[2]) in ADDR_FIELDS:
        _lin_addr_match(st, left, op, right)
        return
    if left[0] == "&":  # "meta mark & N == M": an explicit binop carries NFTA_BITWISE_OP
        if _load(st, left[1]) != "u32h":
            raise LinearizeError(f"cannot mask {left[1]!r}")
        out.append(_x(Bitwise, _R1, _R1, C.NFT_BITWISE_BOOL, 4, _u32h(left[2]), _u32h(0)))
        out.append(_x(Cmp, _R1, CMP_OPS[op], _u32h(right)))
        return
    kind = _load(st, left)
    if kind == "ctstate":
        names = (right,) if isinstance(right, str) else right[1]
        mask = 0
        for n in names:
            mask |= CT_STATES[n]
        out.append(_x(Bitwise, _R1, _R1, None, 4, _u32h(mask), _u32h(0)))
        out.append(_x(Cmp, _R1, C.NFT_CMP_EQ if op == "!=" else C.NFT_CMP_NEQ, _u32h(0)))
        return
    if isinstance(right, tuple) and right[0] == "set":
        if st.alloc is None:
            raise LinearizeError("set match outside of a batch")
        elems = [_value(kind, v) for v in right[1]]
        udata = _L4PROTO_SET_UDATA if kind == "l4proto" else None
        key_type = INET_PROTO_TYPE if kind == "l4proto" else 0
        set_id = st.alloc(AnonSet(key_type, len(elems[0]), elems, udata))
        out.append(Lookup(_R1, None, "__set%d", set_id, C.NFT_LOOKUP_F_INV if op == "!=" else None))
        if kind == "l4proto":
            st.l4 = None
        return
    if isinstance(right, tuple) and right[0] == "range":
        lo, hi = _value(kind, right[1]), _value(kind, right[2])
        if op == "==":
            out += [_x(Cmp, _R1, C.NFT_CMP_GTE, lo), _x(Cmp, _R1, C.NFT_CMP_LTE, hi)]
        else:
            out.append(_x(Range, _R1, C.NFT_RANGE_NEQ, lo, hi))
        return
    out.append(_x(Cmp, _R1, CMP_OPS[op], _value(kind, right)))
    if kind == "l4proto" and op == "==" and isinstance(right, str):
        st.l4 = right
    elif kind == "nfproto" and op == "==":
        st.net = "ip" if right == "ipv4" else "ip6"


def _lin_addr_match(st: _Lin, left: tuple, op: str, right: Any) -> None:
    proto, field = left[1], left[2]
    off, full = ADDR_FIELDS[(proto, field)]
    st.need_net(proto)
    cop = CMP_OPS[op]
    if isinstance(right, str):
        addr = IpAddr.parse(right, 4 if proto == "ip" else 6)
        st.out += [_x(Payload, _R1, C.NFT_PAYLOAD_NETWORK_HEADER, off, full),
                   _x(Cmp, _R1, cop, addr.packed)]
        return
    if not (isinstance(right, tuple) and right[0] == "prefix"):
        raise LinearizeError(f"cannot match {proto} {field} against {right!r}")
    addr = IpAddr.parse(right[1], 4 if proto == "ip" else 6)
    plen = right[2]
    bits = full * 8
    if not 0 <= plen <= bits:
        raise LinearizeError(f"bad prefix length {plen}")
    mask = ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)
    net = (addr.value & mask).to_bytes(full, "big")
    if plen % 8 == 0 and plen:
        n = plen // 8
        st.out += [_x(Payload, _R1, C.NFT_PAYLOAD_NETWORK_HEADER, off, n),
                   _x(Cmp, _R1, cop, net[:n])]
    else:
        st.out += [_x(Payload, _R1, C.NFT_PAYLOAD_NETWORK_HEADER, off, full),
                   _x(Bitwise, _R1, _R1, None, full, mask.to_bytes(full, "big"), bytes(full)),
                   _x(Cmp, _R1, cop, net)]


def _value(kind: str, v: Any) -> bytes:
    if kind == "port":
        return _BE16.pack(v)
    if kind == "u32h":
        return _u32h(v)
    if kind == "l4proto":
        return bytes([L4PROTO[v] if isinstance(v, str) else v])
    if kind == "nfproto":
        return bytes([NFPROTO[v] if isinstance(v, str) else v])
    if kind == "ifname":
        if v.endswith("*"):
            return v[:-1].encode()
        b = v.encode()
        if len(b) >= _IFNAMSIZ:
            raise LinearizeError(f"interface name too long: {v!r}")
        return b.ljust(_IFNAMSIZ, b"\0")
    if kind == "rtntype":
        return _u32h(RTN_TYPES.index(v) if isinstance(v, str) else v)
    raise LinearizeError(f"cannot encode {v!r} as {kind}")


def _lin_mangle(st: _Lin, key: tuple, value: tuple) -> None:
    # only "<key> set meta mark | N" (all netavark needs)
    if not (value[0] == "|" and value[1] == ("meta", "mark")):
        raise LinearizeError(f"cannot linearize mangle value {value!r}")
    n = value[2]
    st.out += [_x(Meta, C.NFT_META_MARK, _R1),
               _x(Bitwise, _R1, _R1, C.NFT_BITWISE_BOOL, 4, _u32h(~n), _u32h(n))]
    if key == ("meta", "mark"):
        st.out.append(_x(Meta, C.NFT_META_MARK, None, _R1))
    elif key == ("ct", "mark"):
        st.out.append(_x(Ct, C.NFT_CT_MARK, None, None, _R1))
    else:
        raise LinearizeError(f"cannot set {key!r}")


def _lin_nat(st: _Lin, s: tuple) -> None:
    kind, family, addr_s, port, flags = s
    version = 4 if family == "ip" else 6
    addr = IpAddr.parse(addr_s, version)
    st.out.append(_x(Immediate, _R1, addr.packed))
    nfproto = C.NFPROTO_IPV4 if version == 4 else C.NFPROTO_IPV6
    ntype = C.NFT_NAT_SNAT if kind == "snat" else C.NFT_NAT_DNAT
    if port is None:
        st.out.append(_x(Nat, ntype, nfproto, _R1, None, None, None, flags or None))
        return
    st.out.append(_x(Immediate, _R2, _BE16.pack(port)))
    st.out.append(_x(Nat, ntype, nfproto, _R1, None, _R2, None,
                      C.NF_NAT_RANGE_PROTO_SPECIFIED | flags))


# -- expressions → statements ---------------------------------------------------------


class _Reg:
    """What a register holds while reading a rule back: the left side and its value kind."""

    __slots__ = ("data", "kind", "left", "load_len", "mask")

    def __init__(self, left: Any, kind: str, load_len: int = 0, data: bytes = b"",
                 mask: bytes | None = None) -> None:
        self.left = left
        self.kind = kind
        self.load_len = load_len
        self.data = data
        self.mask = mask


_VERDICTS = {C.NF_ACCEPT: ACCEPT, C.NF_DROP: DROP, C.NFT_RETURN: RETURN,
             C.NFT_CONTINUE: ("continue",), C.NF_QUEUE: ("queue",)}


def delinearize(exprs: Sequence[Expr], sets: SetResolver | None = None) -> tuple:
    """Expressions of a rule → its statements (see the module doc)."""
    out: list[Any] = []
    regs: dict[int, _Reg] = {}
    net = l4 = None
    net_dep = l4_dep = -1  # index in out of a dependency match that can be dropped
    drop: set[int] = set()
    for e in exprs:
        cls = type(e)
        if cls is Meta:
            name = META_NAME.get(e.key, e.key)  # type: ignore[arg-type]
            if e.dreg is not None:
                kind = {"mark": "u32h", "iifname": "ifname", "oifname": "ifname",
                        "l4proto": "l4proto", "nfproto": "nfproto"}.get(name, "raw")  # type: ignore[arg-type]
                regs[e.dreg] = _Reg(("meta", name), kind)
            elif e.sreg is not None:
                out.append(("mangle", ("meta", name), _reg_value(regs.get(e.sreg))))
            else:
                out.append(("unknown", "meta"))
        elif cls is Ct:
            name = CT_NAME.get(e.key, e.key)  # type: ignore[arg-type]
            if e.dreg is not None:
                regs[e.dreg] = _Reg(("ct", name), "ctstate" if name == "state" else
                                    "u32h" if name == "mark" else "raw")
            elif e.sreg is not None:
                out.append(("mangle", ("ct", name), _reg_value(regs.get(e.sreg))))
            else:
                out.append(("unknown", "ct"))
        elif cls is Fib:
            if e.dreg is None:
                out.append(("unknown", "fib"))
                continue
            flags = tuple(n for n, bit in FIB_FLAGS if (e.flags or 0) & bit)
            result = FIB_RESULT_NAME.get(e.result, e.result)  # type: ignore[arg-type]
            regs[e.dreg] = _Reg(("fib", result, flags),
                                "rtntype" if result == "type" else "raw")
        elif cls is Payload:
            if e.dreg is None:
                out.append(("unknown", "payload"))
                continue
            left: Any = ("rawpayload", e.base, e.offset, e.len)
            kind = "raw"
            if e.base == C.NFT_PAYLOAD_NETWORK_HEADER and net is not None:
                hit = ADDR_AT.get((net, e.offset))
                if hit is not None and e.len is not None and 0 < e.len <= hit[1]:
                    left, kind = ("payload", net, hit[0]), "addr"
                    if net_dep >= 0:
                        drop.add(net_dep)
            elif e.base == C.NFT_PAYLOAD_TRANSPORT_HEADER and e.len == 2 and e.offset in PORT_AT:
                left, kind = ("payload", l4 or "th", PORT_AT[e.offset]), "port"  # type: ignore[index]
                if l4 is not None and l4_dep >= 0:
                    drop.add(l4_dep)
            regs[e.dreg] = _Reg(left, kind, e.len or 0)
        elif cls is Bitwise:
            src = regs.get(e.sreg)  # type: ignore[arg-type]
            if src is None or e.dreg is None or e.mask is None or e.xor is None:
                out.append(("unknown", "bitwise"))
                continue
            regs[e.dreg] = _bitwise(src, e.mask, e.xor)
        elif cls is Cmp:
            src = regs.get(e.sreg)  # type: ignore[arg-type]
            op = CMP_OP_NAME.get(e.op, "?")  # type: ignore[arg-type]
            if src is None or e.data is None:
                out.append(("unknown", "cmp"))
                continue
            s = _cmp(src, op, e.data)
            prev = out[-1] if out else None
            if (op == "<=" and prev is not None and prev[0] == "match" and prev[2] == ">="
                    and prev[1] == s[1] and len(out) - 1 not in drop):
                out[-1] = ("match", s[1], "==", ("range", prev[3], s[3]))
                continue
            out.append(s)
            if s[1] == ("meta", "nfproto") and op == "==" and s[3] in ("ipv4", "ipv6"):
                net, net_dep = ("ip" if s[3] == "ipv4" else "ip6"), len(out) - 1
            elif s[1] == ("meta", "l4proto") and op == "==" and isinstance(s[3], str):
                l4, l4_dep = s[3], len(out) - 1
        elif cls is Range:
            src = regs.get(e.sreg)  # type: ignore[arg-type]
            if src is None or e.from_data is None or e.to_data is None:
                out.append(("unknown", "range"))
                continue
            lo = _cmp(src, "==", e.from_data)[3]
            hi = _cmp(src, "==", e.to_data)[3]
            op = "!=" if e.op == C.NFT_RANGE_NEQ else "=="
            out.append(("match", src.left, op, ("range", lo, hi)))
        elif cls is Lookup:
            src = regs.get(e.sreg)  # type: ignore[arg-type]
            if src is None or e.dreg is not None:
                out.append(("unknown", "lookup"))
                continue
            items = sets(e.set or "") if sets is not None else None
            if items is not None:
                right: Any = ("set", tuple(_decode_value(src, b) for b in items))
            else:
                right = ("setref", e.set)
            out.append(("match", src.left, "!=" if (e.flags or 0) & C.NFT_LOOKUP_F_INV
                        else "==", right))
            if src.left == ("meta", "l4proto"):
                l4, l4_dep = None, -1
        elif cls is Immediate:
            if e.dreg == C.NFT_REG_VERDICT and e.verdict is not None:
                v = e.verdict
                if v.code == C.NFT_JUMP:
                    out.append(("jump", v.chain))
                elif v.code == C.NFT_GOTO:
                    out.append(("goto", v.chain))
                else:
                    out.append(_VERDICTS.get(v.code, ("verdict", v.code)))
            elif e.dreg is not None and e.data is not None:
                regs[e.dreg] = _Reg(("imm",), "data", len(e.data), e.data)
            else:
                out.append(("unknown", "immediate"))
        elif cls is Nat:
            out.append(_nat(e, regs))
        elif cls is Masq:
            if e.flags or e.reg_proto_min:
                out.append(("masquerade", e.flags, e.reg_proto_min))
            else:
                out.append(MASQUERADE)
        elif cls is Counter:
            out.append(("counter",))
        else:
            out.append(("unknown", e.kind))
    if drop:
        return tuple(s for i, s in enumerate(out) if i not in drop)
    return tuple(out)


def _bitwise(src: _Reg, mask: bytes, xor: bytes) -> _Reg:
    # nft tells a prefix from an explicit "&" by the data type, as we do: the
    # kernel dumps NFTA_BITWISE_OP for both, whatever nft sent
    if len(mask) != len(xor):
        return _Reg(("bitwise", src.left, mask.hex(), xor.hex()), "raw")
    if not any(xor):
        if src.kind == "addr":
            return _Reg(src.left, "addr", src.load_len, mask=mask)
        if src.kind == "ctstate":
            return _Reg(src.left, "ctflags", mask=mask)
        if src.kind == "u32h" and len(mask) == 4:
            return _Reg(("&", src.left, _U32H.unpack(mask)[0]), "u32h")
        return _Reg(("&", src.left, mask.hex()), "raw")
    inv = bytes(b ^ 0xFF for b in mask)
    if inv == xor and src.kind == "u32h" and len(xor) == 4:
        return _Reg(("|", src.left, _U32H.unpack(xor)[0]), "u32h")
    return _Reg(("bitwise", src.left, mask.hex(), xor.hex()), "raw")


def _cmp(src: _Reg, op: str, data: bytes) -> tuple:
    if src.kind == "ctflags" and src.mask is not None and not any(data) and op in ("!=", "=="):
        names = _ct_state_names(src.mask)
        if names is not None:
            # "ct state X" is "(state & X) != 0", shown by nft as an implicit "in"
            right = names[0] if len(names) == 1 else ("list", names)
            return ("match", src.left, "in" if op == "!=" else "!=", right)
    if src.kind == "addr":
        return ("match", src.left, op, _addr_value(src, data))
    return ("match", src.left, op, _decode_value(src, data))


def _ct_state_names(mask: bytes) -> tuple | None:
    if len(mask) != 4:
        return None
    m = _U32H.unpack(mask)[0]
    names = tuple(n for n, bit in sorted(CT_STATES.items(), key=lambda kv: kv[1]) if m & bit)
    covered = 0
    for n in names:
        covered |= CT_STATES[n]
    return names if names and covered == m else None


def _addr_value(src: _Reg, data: bytes) -> Any:
    proto = src.left[1]
    full = 4 if proto == "ip" else 16
    if len(data) != src.load_len:
        return ("raw", data.hex())
    if src.mask is not None:
        if len(src.mask) != full or len(data) != full:
            return ("raw", data.hex())
        m = int.from_bytes(src.mask, "big")
        plen = bin(m).count("1")
        if m != ((1 << full * 8) - 1) ^ ((1 << (full * 8 - plen)) - 1):
            return ("raw", data.hex())
        return ("prefix", str(IpAddr.from_bytes(data)), plen)
    if src.load_len == full:
        return str(IpAddr.from_bytes(data))
    return ("prefix", str(IpAddr.from_bytes(data.ljust(full, b"\0"))), src.load_len * 8)


def _decode_value(src: _Reg, data: bytes) -> Any:
    kind = src.kind
    if kind == "port" and len(data) == 2:
        return _BE16.unpack(data)[0]
    if kind == "u32h" and len(data) == 4:
        return _U32H.unpack(data)[0]
    if kind == "l4proto" and len(data) == 1:
        return L4PROTO_NAME.get(data[0], data[0])
    if kind == "nfproto" and len(data) == 1:
        return NFPROTO_NAME.get(data[0], data[0])
    if kind == "ifname" and len(data) <= _IFNAMSIZ:
        end = data.find(b"\0")
        if end < 0:
            return data.decode("utf-8", "surrogateescape") + "*"
        return data[:end].decode("utf-8", "surrogateescape")
    if kind == "rtntype" and len(data) == 4:
        n = _U32H.unpack(data)[0]
        return RTN_TYPES[n] if n < len(RTN_TYPES) else n
    return ("raw", data.hex())


def _reg_value(r: _Reg | None) -> Any:
    if r is None:
        return ("unknown",)
    return r.left


def _nat(e: Nat, regs: dict[int, _Reg]) -> tuple:
    kind = "snat" if e.type == C.NFT_NAT_SNAT else "dnat" if e.type == C.NFT_NAT_DNAT else None
    family = {C.NFPROTO_IPV4: "ip", C.NFPROTO_IPV6: "ip6"}.get(e.family)  # type: ignore[arg-type]
    if kind is None:
        return ("unknown", "nat")
    addr = port = None
    if e.reg_addr_min is not None:
        r = regs.get(e.reg_addr_min)
        if r is None or r.kind != "data" or len(r.data) not in (4, 16):
            return ("unknown", "nat")
        addr = str(IpAddr.from_bytes(r.data))
        if e.reg_addr_max not in (None, e.reg_addr_min):
            return ("unknown", "nat")
    if e.reg_proto_min is not None:
        r = regs.get(e.reg_proto_min)
        if r is None or r.kind != "data" or len(r.data) != 2:
            return ("unknown", "nat")
        port = _BE16.unpack(r.data)[0]
        if e.reg_proto_max not in (None, e.reg_proto_min):
            return ("unknown", "nat")
    # address/port presence implies these flags; the kernel adds them to its dump
    flags = (e.flags or 0) & ~(C.NF_NAT_RANGE_MAP_IPS | C.NF_NAT_RANGE_PROTO_SPECIFIED)
    return (kind, family, addr, port, flags)



# -- exact comparison ------------------------------------------------------------------

_IMPLICIT_NAT_FLAGS = C.NF_NAT_RANGE_MAP_IPS | C.NF_NAT_RANGE_PROTO_SPECIFIED


def canon(e: Expr) -> tuple:
    """Identity of an expression, minus what the kernel adds when dumping it
    (``NFTA_BITWISE_OP`` 0, ``NFTA_LOOKUP_FLAGS`` 0, NAT max registers equal to
    the min ones and implied range flags).  Cached on the (immutable) instance."""
    try:
        return e._canon  # type: ignore[attr-defined]
    except AttributeError:
        pass
    k = e._canon = _canon(e)  # type: ignore[attr-defined]
    return k


def _canon(e: Expr) -> tuple:
    cls = type(e)
    if cls is Bitwise and not e.op:
        return ("bitwise", e.sreg, e.dreg, e.len, e.mask, e.xor, e.data)
    if cls is Nat:
        amax = None if e.reg_addr_max == e.reg_addr_min else e.reg_addr_max
        pmax = None if e.reg_proto_max == e.reg_proto_min else e.reg_proto_max
        return ("nat", e.type, e.family, e.reg_addr_min, amax, e.reg_proto_min, pmax,
                (e.flags or 0) & ~_IMPLICIT_NAT_FLAGS)
    if cls is Lookup:
        return ("lookup", e.sreg, e.dreg, e.set, e.set_id, e.flags or 0)
    return e.ident()


def canon_rule(exprs: Sequence[Expr]) -> tuple:
    """Equal for two expression lists means equal statements (the converse
    needs :func:`delinearize`, e.g. for rules written by another nft version)."""
    return tuple(canon(e) for e in exprs)
