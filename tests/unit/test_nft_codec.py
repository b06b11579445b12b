"""Round trips and robustness of the nf_tables codec (expressions, objects, statements)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netavark.ip import IpAddr
from netavark.netlink.attrs import NetlinkDecodeError
from netavark.nft import consts as C
from netavark.nft import expr as E
from netavark.nft.batch import Batch, Reply, check_replies
from netavark.nft.objects import (
    Chain,
    Hook,
    Rule,
    Set,
    SetDesc,
    SetElem,
    SetElems,
    Table,
    decode_genid,
)
from netavark.nft.stmt import canon_rule, delinearize, linearize

u32 = st.integers(0, 0xFFFFFFFF)
ou32 = st.none() | u32
ou64 = st.none() | st.integers(0, 2**64 - 1)
data = st.binary(min_size=1, max_size=16)
odata = st.none() | data
names = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
                min_size=1, max_size=20)
onames = st.none() | names
verdicts = st.builds(E.Verdict, st.integers(-5, 5), onames, ou32)

EXPRS = st.one_of(
    st.builds(E.Payload, ou32, ou32, ou32, ou32, ou32, ou32, ou32, ou32),
    st.builds(E.Meta, ou32, ou32, ou32),
    st.builds(E.Ct, ou32, ou32, st.none() | st.binary(min_size=1, max_size=1), ou32),
    st.builds(E.Cmp, ou32, ou32, odata),
    st.builds(E.Range, ou32, ou32, odata, odata),
    st.builds(E.Bitwise, ou32, ou32, ou32, ou32, odata, odata, odata),
    st.builds(E.Immediate, ou32, odata, st.none()),
    st.builds(E.Immediate, ou32, st.none(), verdicts),
    st.builds(E.Lookup, ou32, ou32, onames, ou32, ou32),
    st.builds(E.Fib, ou32, ou32, ou32),
    st.builds(E.Nat, ou32, ou32, ou32, ou32, ou32, ou32, ou32),
    st.builds(E.Masq, ou32, ou32, ou32),
    st.builds(E.Counter, ou64, ou64),
    st.builds(E.Unknown, st.sampled_from(["log", "limit", "quota", "reject"]),
              st.binary(max_size=0) | st.just(b"\x08\x00\x01\x00\x00\x00\x00\x01")),
)


@given(EXPRS)
def test_expression_round_trip(e: E.Expr) -> None:
    b = e.encode()
    d = E.decode_expr(b)
    assert d == e
    assert d.encode() == b


@given(st.lists(EXPRS, max_size=12), st.text(min_size=1, max_size=10), names, ou64)
def test_rule_round_trip(exprs: list, table: str, chain: str, handle: int | None) -> None:
    r = Rule(table.replace("\0", "x"), chain, exprs, handle=handle)
    b = r.encode()
    d = Rule.decode(b)
    assert d == r
    assert d.encode() == b
    assert Rule(d.table, d.chain, d.exprs, handle=d.handle).encode() == b


hooks = st.none() | st.builds(Hook, st.integers(0, 4), st.integers(-2**31, 2**31 - 1))


@given(names, onames, st.integers(0, 255), ou64, hooks, ou32, st.none() | names, ou32)
def test_chain_round_trip(table: str, name: str | None, family: int, handle: int | None,
                          hook: Hook | None, policy: int | None, ctype: str | None,
                          flags: int | None) -> None:
    c = Chain(table, name, family, handle=handle, hook=hook, policy=policy, type=ctype,
              flags=flags)
    assert Chain.decode(c.encode()) == c


@given(names, st.integers(0, 255), ou32, ou64)
def test_table_round_trip(name: str, family: int, flags: int | None, handle: int | None) -> None:
    t = Table(name, family, flags=flags, handle=handle)
    assert Table.decode(t.encode()) == t


@given(names, names, ou32, ou32, ou32, ou32, st.none() | st.builds(SetDesc, u32),
       st.none() | st.binary(max_size=30), ou64)
def test_set_round_trip(table: str, name: str, flags: int | None, key_type: int | None,
                        key_len: int | None, sid: int | None, desc: SetDesc | None,
                        udata: bytes | None, handle: int | None) -> None:
    s = Set(table, name, flags=flags, key_type=key_type, key_len=key_len, id=sid, desc=desc,
            userdata=udata, handle=handle)
    assert Set.decode(s.encode()) == s


elems = st.builds(SetElem, data, key_end=odata, data=odata, flags=ou32)


@given(names, names, st.lists(elems, max_size=5), ou32)
def test_set_elems_round_trip(table: str, name: str, items: list, sid: int | None) -> None:
    s = SetElems(table, name, items, set_id=sid)
    assert SetElems.decode(s.encode()) == s


def test_genid_decodes() -> None:
    payload = b"\x00\x00\x00\x00" + b"\x08\x00\x01\x00" + struct.pack(">I", 77)
    assert decode_genid(payload) == 77


# -- robustness: decoders raise only our error -------------------------------------

DECODERS = [E.decode_expr, E.decode_list, Rule.decode, Chain.decode, Table.decode,
            Set.decode, SetElems.decode, decode_genid,
            lambda b: delinearize(E.decode_list(b))]


def _decode_all(b: bytes) -> None:
    for dec in DECODERS:
        try:
            dec(b)
        except NetlinkDecodeError:
            pass


@settings(max_examples=400)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_decode_error(b: bytes) -> None:
    _decode_all(b)


def _valid_samples() -> list[bytes]:
    r = Rule("netavark", "INPUT", [E.Meta(15, 1), E.Cmp(1, 0, b"\x02"),
                                   E.Payload(1, 1, 12, 2), E.Cmp(1, 0, b"\n\x58"),
                                   E.Immediate(0, None, E.Verdict(-3, "X"))], handle=5)
    return [r.encode(), Chain("netavark", "INPUT", hook=Hook(1, 0), policy=1,
                              type="filter").encode(),
            SetElems("t", "s", [SetElem(b"\x06"), SetElem(b"\x11")], set_id=1).encode()]


@settings(max_examples=300)
@given(st.sampled_from(_valid_samples()), st.integers(0, 400), st.binary(max_size=4),
       st.integers(0, 400))
def test_truncated_and_corrupted_messages(b: bytes, cut: int, junk: bytes, at: int) -> None:
    _decode_all(b[:cut])
    at = min(at, len(b))
    _decode_all(b[:at] + junk + b[at + len(junk):])


@given(st.lists(EXPRS, max_size=10))
def test_delinearize_never_fails_on_decodable_expressions(exprs: list) -> None:
    stmts = delinearize(exprs)
    assert isinstance(stmts, tuple)


# -- statements ------------------------------------------------------------------

ips4 = st.integers(0, 2**32 - 1).map(lambda v: str(IpAddr(4, v)))
ips6 = st.integers(0, 2**128 - 1).map(lambda v: str(IpAddr(6, v)))
protos = st.sampled_from(["tcp", "udp", "sctp", "udplite", "dccp"])
ports = st.integers(0, 65535)


def _prefix(fam: str) -> st.SearchStrategy:
    from netavark.ip import IpAddr, IpNet

    bits = 32 if fam == "ip" else 128
    # a full-length prefix is the address itself (nft lists it without "/32")
    return st.tuples(st.integers(0, 2**bits - 1), st.integers(0, bits - 1)).map(
        lambda t: ("prefix", str(IpNet(IpAddr(4 if fam == "ip" else 6, t[0]), t[1]).network()),
                   t[1]))


def _addr_match(fam: str) -> st.SearchStrategy:
    field = st.sampled_from(["saddr", "daddr"])
    value = (ips4 if fam == "ip" else ips6) | _prefix(fam)
    return st.builds(lambda f, v, op: ("match", ("payload", fam, f), op, v), field, value,
                     st.sampled_from(["==", "!="]))


port_match = st.builds(
    lambda p, v: ("match", ("payload", p, "dport"), "==", v), protos,
    ports | st.tuples(ports, ports).map(lambda t: ("range", min(t), max(t))))
verdict = st.sampled_from([("accept",), ("drop",), ("return",), ("jump", "NETAVARK-X"),
                           ("goto", "nv_abc")])
others = st.sampled_from([
    ("match", ("&", ("meta", "mark"), 0x2000), "==", 0x2000),
    ("match", ("&", ("ct", "mark"), 0x1000), "==", 0x1000),
    ("match", ("ct", "state"), "in", "invalid"),
    ("match", ("ct", "state"), "in", ("list", ("established", "related"))),
    ("match", ("fib", "type", ("daddr",)), "==", "local"),
    ("match", ("meta", "iifname"), "==", "podman1"),
    ("match", ("meta", "oifname"), "!=", "br-x*"),
    ("match", ("meta", "mark"), "==", 7),
    ("mangle", ("meta", "mark"), ("|", ("meta", "mark"), 0x2000)),
    ("mangle", ("ct", "mark"), ("|", ("meta", "mark"), 0x1000)),
    ("masquerade",),
])


def _nat(fam: str) -> st.SearchStrategy:
    return st.builds(lambda k, a, p: (k, fam, a, p, 0), st.sampled_from(["snat", "dnat"]),
                     ips4 if fam == "ip" else ips6, st.none() | ports)


def _rules(fam: str) -> st.SearchStrategy:
    return st.builds(lambda a, b, c, d: tuple(x for x in (*a, b, *c, d) if x is not None),
                     st.lists(_addr_match(fam), max_size=2), st.none() | port_match,
                     st.lists(others, max_size=2), verdict | _nat(fam))


@settings(max_examples=300)
@given(_rules("ip") | _rules("ip6"))
def test_statements_round_trip_through_expressions(stmts: tuple) -> None:
    exprs = linearize(stmts)
    assert delinearize(exprs) == stmts
    # and through the wire
    b = E.encode_list(exprs)
    again = E.decode_list(b)
    assert again == exprs and canon_rule(again) == canon_rule(exprs)


def test_full_length_prefix_is_an_address() -> None:
    stmts = (("match", ("payload", "ip", "daddr"), "==", ("prefix", "10.1.2.3", 32)),)
    assert delinearize(linearize(stmts)) == \
        (("match", ("payload", "ip", "daddr"), "==", "10.1.2.3"),)


def test_set_match_allocates_a_set_before_the_rule() -> None:
    b = Batch("netavark")
    b.add_rule("INPUT", [("match", ("meta", "l4proto"), "==", ("set", ("udp", "tcp"))),
                         ("match", ("payload", "th", "dport"), "==", 53), ("accept",)])
    b.add_rule("INPUT", [("match", ("meta", "l4proto"), "==", ("set", ("udp", "tcp"))),
                         ("accept",)])
    kinds = [op.msg_type & 0xFF for op in b.ops]
    assert kinds == [C.NFT_MSG_NEWSET, C.NFT_MSG_NEWSETELEM, C.NFT_MSG_NEWRULE] * 2
    s1 = Set.decode(b.ops[0].payload)
    s2 = Set.decode(b.ops[3].payload)
    assert (s1.name, s1.id, s2.id) == ("__set%d", 1, 2)
    assert s1.flags == C.NFT_SET_ANONYMOUS | C.NFT_SET_CONSTANT and s1.key_type == 12
    r = Rule.decode(b.ops[2].payload)
    lookups = [e for e in r.exprs if isinstance(e, E.Lookup)]
    assert [(x.set, x.set_id) for x in lookups] == [("__set%d", 1)]
    elems = SetElems.decode(b.ops[1].payload)
    assert [e.key for e in elems.elements] == [b"\x11", b"\x06"] and elems.set_id == 1


def test_batch_framing_and_reply_matching() -> None:
    from netavark.errors import NetavarkError, NetlinkError

    b = Batch("netavark")
    b.add_table()
    b.add_chain(Chain("netavark", "X"))
    b.delete_rule("FORWARD", 7)
    data, seqs = b.encode(100, genid=42)
    assert seqs == [101, 102, 103]
    # begin carries the generation, res_id = NFNL_SUBSYS_NFTABLES (big endian)
    length, mtype, _flags, seq = struct.unpack_from("=IHHI", data)
    assert (mtype, seq) == (C.NFNL_MSG_BATCH_BEGIN, 100)
    assert data[16:20] == b"\x00\x00\x00\x0a"
    assert data[20:28] == b"\x08\x00\x01\x00" + struct.pack(">I", 42)
    # every operation asks for an ACK; the end follows the last one
    off = length
    for want in seqs:
        ln, _t, fl, sq = struct.unpack_from("=IHHI", data, off)
        assert sq == want and fl & 0x4
        off += (ln + 3) & ~3
    _ln, t, _fl, sq = struct.unpack_from("=IHHI", data, off)
    assert (t, sq) == (C.NFNL_MSG_BATCH_END, 104)

    ok = {s: Reply(0) for s in seqs}
    check_replies(b, 100, seqs, ok)
    with pytest.raises(NetlinkError) as ei:
        check_replies(b, 100, seqs, {**ok, 103: Reply(2, "no such rule")})
    assert str(ei.value) == "Netlink error: No such file or directory (os error 2)"
    assert ei.value.op == "delete rule inet netavark FORWARD handle 7"
    assert ei.value.extack == "no such rule"
    with pytest.raises(NetlinkError) as ei:
        check_replies(b, 100, seqs, {100: Reply(85)})
    assert ei.value.errno == 85 and "commit batch" in ei.value.op
    with pytest.raises(NetavarkError, match="no acknowledgement"):
        check_replies(b, 100, seqs, {101: Reply(0)})


def test_batch_with_few_acks() -> None:
    """When the receive buffer cannot hold an ACK per message, only the last asks."""
    from netavark.errors import NetlinkError

    b = Batch("netavark")
    for name in ("A", "B", "C"):
        b.add_chain(Chain("netavark", name))
    data, seqs = b.encode(10, ack_all=False)
    flags = []
    off = 0
    while off < len(data):
        ln, _t, fl, _sq = struct.unpack_from("=IHHI", data, off)
        flags.append(fl & 0x4)
        off += (ln + 3) & ~3
    assert flags == [0, 0, 0, 0x4, 0]  # begin, A, B, C (acked), end
    check_replies(b, 10, seqs, {13: Reply(0)}, ack_all=False)
    with pytest.raises(NetlinkError) as ei:  # errors come for every message regardless
        check_replies(b, 10, seqs, {12: Reply(17), 13: Reply(0)}, ack_all=False)
    assert ei.value.op == "add chain inet netavark B"
