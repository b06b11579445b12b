"""Golden tests: our nf_tables bytes equal those ``nft`` 1.0.6 sends, and decode back.

``tests/data/nft/golden.json`` holds, per rule shape, the messages ``nft -j -f``
sent for the JSON upstream netavark writes (captured with strace by
``tests/data/nft/capture.py``); ``dump.json`` holds the kernel's dump of the
spec's example ruleset together with ``nft``'s own listings of it.
"""

from __future__ import annotations

import json
import os

import pytest

from netavark.firewall import nft as D
from netavark.netlink.message import NLM_F_ACK
from netavark.nft import consts as C
from netavark.nft.batch import Batch
from netavark.nft.expr import Lookup
from netavark.nft.objects import Chain, Rule, Set, SetElems, Table
from netavark.nft.stmt import delinearize
from tests import nft_oracle as O
from tests.conftest import TESTDATA
from tests.nft_examples import example_network, example_port_forward

with open(os.path.join(TESTDATA, "nft", "golden.json")) as _f:
    GOLDEN = json.load(_f)
with open(os.path.join(TESTDATA, "nft", "dump.json")) as _f:
    DUMP = json.load(_f)

DECODERS = {C.NFT_MSG_NEWTABLE: Table, C.NFT_MSG_NEWCHAIN: Chain, C.NFT_MSG_NEWRULE: Rule,
            C.NFT_MSG_NEWSET: Set, C.NFT_MSG_NEWSETELEM: SetElems}


def ops_of(batch: Batch) -> list[list]:
    """Our batch in the golden format: [type, flags (without our ACK), payload hex]."""
    return [[op.msg_type, op.flags & ~NLM_F_ACK, op.payload.hex()] for op in batch.ops]


def renumber_sets(msgs: list[list]) -> list[list]:
    """Batch-local set ids are arbitrary (nft's counter may not start at 1): number
    them in order of appearance on both sides before comparing."""
    ids: dict[int, int] = {}
    out = []
    for mtype, flags, hexdata in msgs:
        data = bytes.fromhex(hexdata)
        msg = mtype & 0xFF
        if msg == C.NFT_MSG_NEWSET:
            st = Set.decode(data)
            st.id = ids.setdefault(st.id, len(ids) + 1)
            data = st.encode()
        elif msg == C.NFT_MSG_NEWSETELEM:
            se = SetElems.decode(data)
            se.set_id = ids.get(se.set_id, se.set_id)
            data = se.encode()
        elif msg == C.NFT_MSG_NEWRULE:
            r = Rule.decode(data)
            exprs = []
            for e in r.exprs:
                if isinstance(e, Lookup) and e.set_id is not None:
                    e = Lookup(e.sreg, e.dreg, e.set, ids.get(e.set_id, e.set_id), e.flags)
                exprs.append(e)
            data = Rule(r.table, r.chain, exprs, r.family).encode()
        out.append([mtype, flags, data.hex()])
    return out


def batch_from_commands(cmds: list[dict]) -> Batch:
    """Build a batch from upstream's JSON commands, through our statement layer."""
    b = Batch("netavark")
    for cmd in cmds:
        (verb, obj), = cmd.items()
        (kind, body), = obj.items()
        if kind == "table":
            b.add_table()
        elif kind == "chain" and verb == "add":
            hook = None
            if "hook" in body:
                hooks = {"input": 1, "forward": 2, "postrouting": 4, "prerouting": 0,
                         "output": 3}
                from netavark.nft.objects import Hook

                hook = Hook(hooks[body["hook"]], body["prio"])
            b.add_chain(Chain("netavark", body["name"], hook=hook,
                              policy=C.NF_ACCEPT if hook else None, type=body.get("type")))
        elif kind == "chain":
            b.delete_chain(body["name"])
        elif kind == "rule" and verb in ("add", "insert"):
            b.add_rule(body["chain"], O.to_stmts(body["expr"]), insert=verb == "insert")
        elif kind == "rule":
            b.delete_rule(body["chain"], body["handle"])
        else:
            raise AssertionError(cmd)
    return b


@pytest.mark.parametrize("name", sorted(GOLDEN["cases"]))
def test_rule_shapes_match_nft_bytes(name: str) -> None:
    case = GOLDEN["cases"][name]
    assert renumber_sets(ops_of(batch_from_commands(case["commands"]))) == \
        renumber_sets(case["messages"])


class _EmptyView(D.View):
    def find(self, chain, pred, needle=None):
        return []

    def has_chain(self, name):
        return False


class _ListedView(D.View):
    """A view over an nft -j listing, as upstream sees the table."""

    def __init__(self, listing: list[dict]) -> None:
        self.rules = [o["rule"] for o in listing if "rule" in o]
        self.chains = {o["chain"]["name"] for o in listing if "chain" in o}

    def find(self, chain, pred, needle=None):
        return [r["handle"] for r in self.rules
                if r["chain"] == chain and pred(O.to_stmts(r["expr"]))]

    def has_chain(self, name):
        return name in self.chains


@pytest.mark.parametrize("dns_port", [53, 1153])
def test_whole_operations_match_nft_bytes(dns_port: int) -> None:
    """The driver's batches for the spec's example are byte-identical to nft's."""
    ops = GOLDEN["operations"]
    plan = D.plan_setup_network(example_network(dns_port), _EmptyView())
    assert renumber_sets(ops_of(plan.batch)) == \
        renumber_sets(ops[f"example_setup_network_{dns_port}"]["messages"])
    assert plan.logs == ["Creating container chain nv_2f259bab_10_88_0_0_nm16",
                         "Creating container chain nv_2f259bab_fd00--_nm64"]

    class AfterNetwork(_EmptyView):
        def has_chain(self, name):
            return not name.endswith("_dnat")

    plan = D.plan_setup_port_forward(example_port_forward(dns_port), AfterNetwork())
    assert renumber_sets(ops_of(plan.batch)) == \
        renumber_sets(ops[f"example_setup_port_forward_{dns_port}"]["messages"])


def test_second_setup_on_listing_adds_nothing_new() -> None:
    """Planned against nft's listing of the finished example, only the table,
    chains and (without existence test) port rules come again — like upstream."""
    listing = DUMP["json"]["nftables"]
    view = _ListedView(listing)
    plan = D.plan_setup_network(example_network(1153), view)
    kinds = {op.msg_type & 0xFF for op in plan.batch.ops}
    assert kinds == {C.NFT_MSG_NEWTABLE, C.NFT_MSG_NEWCHAIN}
    assert len(plan.batch.ops) == 11 and plan.logs == []
    plan = D.plan_setup_port_forward(example_port_forward(1153), view)
    assert all(op.msg_type & 0xFF == C.NFT_MSG_NEWRULE for op in plan.batch.ops)
    assert len(plan.batch.ops) == 5 + 11 + 6  # jump rules + v4 chain rules + v6 chain rules


@pytest.mark.parametrize("name", sorted(GOLDEN["cases"]))
def test_golden_messages_decode_and_reencode(name: str) -> None:
    sets: dict[str, tuple] = {}
    for mtype, _flags, hexdata in GOLDEN["cases"][name]["messages"]:
        data = bytes.fromhex(hexdata)
        msg = mtype & 0xFF
        if msg in (C.NFT_MSG_DELRULE, C.NFT_MSG_DELCHAIN):
            continue
        obj = DECODERS[msg].decode(data)
        assert obj.encode() == data
        if isinstance(obj, Rule):
            rebuilt = Rule(obj.table, obj.chain, obj.exprs, obj.family)
            assert rebuilt.encode() == data  # from decoded expression objects
        if isinstance(obj, SetElems):
            sets[obj.set] = tuple(e.key for e in obj.elements)


def test_golden_rules_decode_to_upstream_statements() -> None:
    """Decoding what nft sent gives the statements of upstream's JSON."""
    n = 0
    for name, case in GOLDEN["cases"].items():
        rules = [c for c in case["commands"] if "rule" in next(iter(c.values()))]
        if not rules or "delete" in rules[0]:
            continue
        sets: dict[str, tuple] = {}
        msgs = [m for m in case["messages"] if m[0] & 0xFF == C.NFT_MSG_NEWRULE]
        for m in case["messages"]:
            if m[0] & 0xFF == C.NFT_MSG_NEWSETELEM:
                se = SetElems.decode(bytes.fromhex(m[2]))
                sets[se.set] = tuple(e.key for e in se.elements)
        assert len(msgs) == len(rules), name
        for cmd, m in zip(rules, msgs):
            want = O.to_stmts(next(iter(cmd.values()))["rule"]["expr"])
            got = delinearize(Rule.decode(bytes.fromhex(m[2])).exprs, sets.get)
            assert got == want, name
            n += 1
    assert n > 60


def test_kernel_dump_decodes_to_nft_listing() -> None:
    """The kernel's dump of the example, decoded by us, says what ``nft -j list`` says."""
    listing = [o["rule"] for o in DUMP["json"]["nftables"] if "rule" in o]
    elems: dict[str, tuple] = {}
    for mtype, _f, hexdata in DUMP["messages"]:
        if mtype & 0xFF == C.NFT_MSG_NEWSETELEM:
            se = SetElems.decode(bytes.fromhex(hexdata))
            if se.elements:
                elems[se.set] = tuple(e.key for e in se.elements)
    rules = [Rule.decode(bytes.fromhex(h)) for t, _f, h in DUMP["messages"]
             if t & 0xFF == C.NFT_MSG_NEWRULE]
    assert len(rules) == len(listing) > 40
    for r, j in zip(rules, listing):
        assert (r.chain, r.handle) == (j["chain"], j["handle"])
        got = delinearize(r.exprs, elems.get)
        want = O.to_stmts(j["expr"])
        # nft sorts the anonymous set's members when listing; the kernel keeps
        # insertion order (udp, tcp as upstream wrote them)
        got = tuple(_sorted_sets(s) for s in got)
        assert got == tuple(_sorted_sets(s) for s in want)


def _sorted_sets(s: tuple) -> tuple:
    if s[0] == "match" and isinstance(s[3], tuple) and s[3][0] == "set":
        return (*s[:3], ("set", tuple(sorted(s[3][1]))))
    return s


def test_kernel_dump_chains_and_table() -> None:
    chains = [Chain.decode(bytes.fromhex(h)) for t, _f, h in DUMP["messages"]
              if t & 0xFF == C.NFT_MSG_NEWCHAIN]
    listed = [o["chain"] for o in DUMP["json"]["nftables"] if "chain" in o]
    assert [c.name for c in chains] == [c["name"] for c in listed]
    for c, j in zip(chains, listed):
        assert c.handle == j["handle"]
        if "hook" in j:
            assert c.type == j["type"] and c.policy == C.NF_ACCEPT
            assert c.hook is not None and c.hook.priority == j["prio"]
        else:
            assert c.hook is None
    tables = [Table.decode(bytes.fromhex(h)) for t, _f, h in DUMP["messages"]
              if t & 0xFF == C.NFT_MSG_NEWTABLE]
    assert [(t.name, t.family) for t in tables] == [("netavark", C.NFPROTO_INET)]


def test_example_listing_is_the_spec_text() -> None:
    """nft's text listing of the captured example is the spec's §5 ruleset (DNS port 1153)."""
    text = DUMP["text"]
    assert text.startswith("table inet netavark {\n\tchain INPUT {\n")
    assert "\t\tip6 daddr fd00::1 meta l4proto { tcp, udp } th dport 53 dnat ip6 to " \
           "[fd00::1]:1153\n\t\tip daddr 10.88.0.1 meta l4proto { tcp, udp } th dport 53 " \
           "dnat ip to 10.88.0.1:1153\n\t\ttcp dport 8080 jump " \
           "nv_2f259bab_10_88_0_0_nm16_dnat\n" in text
