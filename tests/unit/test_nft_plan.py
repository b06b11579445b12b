"""The driver's decisions (pure planning over a listing), without a kernel."""

from __future__ import annotations

import pytest

from netavark.errors import NetavarkError
from netavark.firewall import nft as D
from netavark.firewall.nft import (
    DNATCHAIN,
    FORWARD,
    INPUT,
    ISO1,
    ISO2,
    ISO3,
    MASKCHAIN,
    OUTPUT,
    POSTROUTING,
    PREROUTING,
)
from netavark.ip import IpAddr, IpNet
from netavark.nft import consts as C
from netavark.nft.objects import Chain, Rule, SetElems
from netavark.nft.stmt import delinearize
from tests.nft_examples import (
    EXAMPLE_ID,
    NEVER,
    NORMAL,
    STRICT,
    example_network,
    example_port_forward,
)


class FakeView(D.View):
    """A listing as plain data: chain → [(handle, statements)], plus chain names."""

    def __init__(self, rules: dict[str, list[tuple]] | None = None,
                 chains: set[str] | None = None) -> None:
        self.rules: dict[str, list[tuple[int, tuple]]] = {}
        n = 100
        for chain, stmts_list in (rules or {}).items():
            for stmts in stmts_list:
                n += 1
                self.rules.setdefault(chain, []).append((n, stmts))
        self.chains = set(chains or ()) | set(self.rules)

    def find(self, chain, pred, needle=None):
        return [h for h, s in self.rules.get(chain, []) if pred(s)]

    def has_chain(self, name):
        return name in self.chains


def rules_of(plan: D.Plan) -> list[tuple[str, str, tuple]]:
    """(verb, chain, statements) of the rule messages of a plan."""
    out = []
    last_set: tuple = ()
    for op in plan.batch.ops:
        msg = op.msg_type & 0xFF
        if msg == C.NFT_MSG_NEWSETELEM:  # an anonymous set precedes the rule using it
            last_set = tuple(e.key for e in SetElems.decode(op.payload).elements)
        elif msg == C.NFT_MSG_NEWRULE:
            r = Rule.decode(op.payload)
            verb = "add" if op.flags & 0x800 else "insert"
            out.append((verb, r.chain, delinearize(r.exprs, lambda _n, s=last_set: s)))
        elif msg == C.NFT_MSG_DELRULE:
            r = Rule.decode(op.payload)
            out.append(("delete", r.chain, r.handle))
    return out


def chains_of(plan: D.Plan, msg: int = C.NFT_MSG_NEWCHAIN) -> list[str]:
    return [Chain.decode(op.payload).name for op in plan.batch.ops
            if op.msg_type & 0xFF == msg]


FIXED = ["INPUT", "FORWARD", "POSTROUTING", "PREROUTING", "OUTPUT", DNATCHAIN, MASKCHAIN,
         ISO1, ISO2, ISO3]


def test_first_setup_creates_everything_in_order() -> None:
    plan = D.plan_setup_network(example_network(), FakeView())
    assert chains_of(plan) == [*FIXED, "nv_2f259bab_10_88_0_0_nm16", "nv_2f259bab_fd00--_nm64"]
    got = [(v, c) for v, c, _s in rules_of(plan)]
    assert got == [("add", POSTROUTING), ("add", MASKCHAIN), ("add", PREROUTING),
                   ("add", OUTPUT), ("add", FORWARD), ("add", FORWARD), ("add", FORWARD),
                   ("add", ISO1), ("add", ISO2), ("add", ISO3),
                   ("add", "nv_2f259bab_10_88_0_0_nm16"), ("add", "nv_2f259bab_10_88_0_0_nm16"),
                   ("add", INPUT), ("add", FORWARD), ("add", FORWARD), ("add", POSTROUTING),
                   ("add", "nv_2f259bab_fd00--_nm64"), ("add", "nv_2f259bab_fd00--_nm64"),
                   ("add", INPUT), ("add", FORWARD), ("add", FORWARD), ("add", POSTROUTING)]
    # base chains: accept policy, hooks and priorities of §1
    base = {c.name: c for c in (Chain.decode(op.payload) for op in plan.batch.ops
                                if op.msg_type & 0xFF == C.NFT_MSG_NEWCHAIN) if c.hook}
    assert {n: (c.type, c.hook.hooknum, c.hook.priority, c.policy)  # type: ignore[union-attr]
            for n, c in base.items()} == {
        "INPUT": ("filter", 1, 0, 1), "FORWARD": ("filter", 2, 0, 1),
        "POSTROUTING": ("nat", 4, 100, 1), "PREROUTING": ("nat", 0, -100, 1),
        "OUTPUT": ("nat", 3, -100, 1)}


@pytest.mark.parametrize(("chain", "existing", "missing"), [
    (POSTROUTING, (("match", ("meta", "mark"), "==", 0x2000),), D.G_MASQ),
    (MASKCHAIN, (("mangle", ("ct", "mark"), ("|", ("meta", "mark"), 1)),), D.G_SETMARK),
    (PREROUTING, (("jump", DNATCHAIN),), D.G_FIB_JUMP),
    (OUTPUT, (("match", ("meta", "oifname"), "==", "x"), ("jump", DNATCHAIN)), D.G_FIB_JUMP),
    (FORWARD, (("match", ("meta", "iifname"), "==", "eth9"), ("drop",)), D.G_INVALID),
    # upstream's test is "a match against the number 0x1000": a port matches too
    (FORWARD, (("match", ("payload", "tcp", "dport"), "==", 0x1000), ("accept",)), D.G_CTMARK),
    (FORWARD, (("jump", ISO1),), D.G_JUMP_ISO1),
    (ISO3, (("jump", ISO2),), D.G_JUMP_ISO2),
])
def test_global_rules_have_existence_tests(chain: str, existing: tuple, missing: tuple) -> None:
    plan = D.plan_setup_network(example_network(), FakeView({chain: [existing]}))
    assert ("add", chain, missing) not in rules_of(plan)
    fresh = D.plan_setup_network(example_network(), FakeView())
    assert ("add", chain, missing) in rules_of(fresh)


def test_first_jump_only_counts() -> None:
    # a rule that jumps elsewhere first does not count as the PREROUTING jump
    existing = (("jump", "USER"), ("jump", DNATCHAIN))
    plan = D.plan_setup_network(example_network(), FakeView({PREROUTING: [existing]}))
    assert ("add", PREROUTING, D.G_FIB_JUMP) in rules_of(plan)


@pytest.mark.parametrize(("iso", "expect"), [
    (STRICT, [("add", ISO1, D.iso1_rule("podman1", ISO3)), ("add", ISO2, D.oif_drop("podman1"))]),
    (NORMAL, [("add", ISO1, D.iso1_rule("podman1", ISO2)), ("add", ISO2, D.oif_drop("podman1"))]),
    (NEVER, [("insert", ISO3, D.oif_drop("podman1"))]),
])
def test_isolation_rules(iso: str, expect: list) -> None:
    got = [r for r in rules_of(D.plan_setup_network(example_network(isolation=iso), FakeView()))
           if r[1] in (ISO1, ISO2) or (r[1] == ISO3 and r[2] != D.G_JUMP_ISO2)]
    assert got == expect


def test_isolation_rules_exist_by_bridge_name_only() -> None:
    # changing isolate while rules for the bridge exist changes nothing (quirk)
    view = FakeView({ISO1: [D.iso1_rule("podman1", ISO3)], ISO2: [D.oif_drop("podman1")],
                     ISO3: [D.oif_drop("podman1"), D.G_JUMP_ISO2]})
    for iso in (STRICT, NORMAL, NEVER):
        got = rules_of(D.plan_setup_network(example_network(isolation=iso), view))
        assert not [r for r in got if r[1] in (ISO1, ISO2, ISO3)]


def test_existing_subnet_chain_skips_the_subnet() -> None:
    view = FakeView(chains={"nv_2f259bab_10_88_0_0_nm16"})
    plan = D.plan_setup_network(example_network(), view)
    assert plan.logs == ["Creating container chain nv_2f259bab_fd00--_nm64"]
    assert not any(r[1] == "nv_2f259bab_10_88_0_0_nm16" for r in rules_of(plan))
    assert all("10.88.0.0" not in repr(r) for r in rules_of(plan))


def test_outbound_addresses_use_snat() -> None:
    net = example_network()
    net.outbound_addr4 = IpAddr.parse("100.1.100.1")
    net.outbound_addr6 = IpAddr.parse("fd20:100:200::1")
    got = rules_of(D.plan_setup_network(net, FakeView()))
    assert ("add", "nv_2f259bab_10_88_0_0_nm16",
            (("match", ("payload", "ip", "daddr"), "!=", ("prefix", "224.0.0.0", 4)),
             ("snat", "ip", "100.1.100.1", None, 0))) in got
    assert ("add", "nv_2f259bab_fd00--_nm64",
            (("match", ("payload", "ip6", "daddr"), "!=", ("prefix", "ff00::", 8)),
             ("snat", "ip6", "fd20:100:200::1", None, 0))) in got


def test_internal_network_with_dns_gets_only_dns_rules() -> None:
    net = example_network()
    net.internal = True
    plan = D.plan_setup_network(net, FakeView())
    subnet_rules = [r for r in rules_of(plan) if "10.88" in repr(r) or "fd00" in repr(r)]
    assert [(v, c) for v, c, _ in subnet_rules] == [("add", INPUT), ("add", INPUT)]
    assert chains_of(plan)[-2:] == ["nv_2f259bab_10_88_0_0_nm16", "nv_2f259bab_fd00--_nm64"]
    pf = example_port_forward(1153)
    pf.internal = True
    got = rules_of(D.plan_setup_port_forward(pf, FakeView()))
    assert [(v, c) for v, c, _ in got] == [("insert", DNATCHAIN), ("insert", DNATCHAIN)]
    assert chains_of(D.plan_setup_port_forward(pf, FakeView())) == []


def test_dns_dnat_rules_inserted_per_family_unless_present() -> None:
    pf = example_port_forward(1153)
    got = [r for r in rules_of(D.plan_setup_port_forward(pf, FakeView())) if r[1] == DNATCHAIN]
    assert got[:2] == [("insert", DNATCHAIN, D.dns_dnat_rule(IpAddr.parse("10.88.0.1"), 1153)),
                       ("insert", DNATCHAIN, D.dns_dnat_rule(IpAddr.parse("fd00::1"), 1153))]
    # an existing match on the gateway string suppresses it; v6 skipped without a v6 address
    pf = example_port_forward(1153, v6=None)
    view = FakeView({DNATCHAIN: [(("match", ("payload", "ip", "daddr"), "==", "10.88.0.1"),
                                  ("accept",))]})
    got = [r for r in rules_of(D.plan_setup_port_forward(pf, view)) if r[0] == "insert"]
    assert got == []
    got = rules_of(D.plan_setup_port_forward(example_port_forward(53), FakeView()))
    assert not [r for r in got if r[0] == "insert"]


def _pm(host_ip: str, hp: int = 8080, cp: int = 80, proto: str = "tcp", rng: int = 1) -> dict:
    return dict(host_ip=host_ip, container_port=cp, host_port=hp, protocol=proto, range=rng)


@pytest.mark.parametrize(("host_ip", "n4", "n6"), [
    ("", 4, 3), ("0.0.0.0", 4, 0), ("::", 0, 3), ("192.168.1.10", 4, 0), ("fd00::10", 0, 3)])
def test_host_ip_selects_families(host_ip: str, n4: int, n6: int) -> None:
    got = rules_of(D.plan_setup_port_forward(example_port_forward(ports=[_pm(host_ip)]),
                                             FakeView()))
    v4 = [r for r in got if "10_88" in r[1] or ("_dnat" in repr(r) and "10_88" in repr(r))]
    v6 = [r for r in got if "fd00--" in r[1] or "fd00--" in repr(r[2])]
    assert (len(v4), len(v6)) == (n4, n6)


def test_port_rules_for_a_range() -> None:
    pf = example_port_forward(ports=[_pm("", 5300, 53, "udp", 3)], v6=None)
    got = rules_of(D.plan_setup_port_forward(pf, FakeView()))
    dport = ("match", ("payload", "udp", "dport"), "==", ("range", 5300, 5302))
    chain = "nv_2f259bab_10_88_0_0_nm16_dnat"
    assert got[0] == ("add", DNATCHAIN, (dport, ("jump", chain)))
    assert got[1][2][0] == ("match", ("payload", "ip", "saddr"), "==", ("prefix", "10.88.0.0", 16))
    assert got[2][2][0] == ("match", ("payload", "ip", "saddr"), "==", "127.0.0.1")
    assert [r[2][0] for r in got[3:]] == [("match", ("payload", "udp", "dport"), "==", p)
                                          for p in (5300, 5301, 5302)]
    assert [r[2][-1] for r in got[3:]] == [("dnat", "ip", "10.88.0.2", p, 0) for p in (53, 54, 55)]


def test_empty_port_list_creates_the_chain_only() -> None:
    plan = D.plan_setup_port_forward(example_port_forward(ports=[]), FakeView())
    assert chains_of(plan) == ["nv_2f259bab_10_88_0_0_nm16_dnat", "nv_2f259bab_fd00--_nm64_dnat"]
    assert rules_of(plan) == []
    pf = example_port_forward()
    pf.port_mappings = None
    assert D.plan_setup_port_forward(pf, FakeView()).batch.ops == []


def test_bad_host_ip_and_protocol_errors() -> None:
    pf = example_port_forward(ports=[_pm(""), _pm("abcd", 8081)])
    with pytest.raises(NetavarkError) as ei:
        D.plan_setup_port_forward(pf, FakeView())
    assert str(ei.value) == 'invalid host ip "abcd" provided for port 8081'
    pf = example_port_forward(ports=[_pm("", proto="icmp")])
    with pytest.raises(NetavarkError) as ei:
        D.plan_setup_port_forward(pf, FakeView())
    assert str(ei.value) == \
        'nftables error: "nft" did not return successfully while applying ruleset: '
    # the host ip error wins even when the bad protocol comes first (nft would fail later)
    pf = example_port_forward(ports=[_pm("", proto="icmp"), _pm("1.2.3", 9)])
    with pytest.raises(NetavarkError, match="invalid host ip"):
        D.plan_setup_port_forward(pf, FakeView())
    # a skipped mapping is not looked at
    pf = example_port_forward(ports=[_pm("::", proto="icmp")], v6=None)
    assert D.plan_setup_port_forward(pf, FakeView()).batch.ops


def test_teardown_network_deletes_by_prefix_and_bridge() -> None:
    net = example_network()
    s4 = D.subnet_match(IpNet.parse("10.88.0.0/16"), "saddr")
    user = (("match", ("payload", "ip", "daddr"), "==", ("prefix", "10.88.0.0", 16)),
            ("counter",), ("accept",))
    other = (D.subnet_match(IpNet.parse("10.89.0.0/16"), "saddr"), ("accept",))
    view = FakeView({INPUT: [(s4, ("accept",)), other], FORWARD: [D.G_INVALID, user, other],
                     POSTROUTING: [D.G_MASQ, (s4, ("jump", "nv_2f259bab_10_88_0_0_nm16"))],
                     ISO1: [D.iso1_rule("podman1", ISO3), D.iso1_rule("podman9", ISO3)],
                     ISO3: [D.oif_drop("podman1"), D.G_JUMP_ISO2]},
                    chains={"nv_2f259bab_10_88_0_0_nm16"})
    seen = []
    plan = D.plan_teardown_network(net, view, seen.append)
    assert rules_of(plan) == [("delete", INPUT, 101), ("delete", FORWARD, 104),
                              ("delete", POSTROUTING, 107), ("delete", ISO1, 108),
                              ("delete", ISO3, 110)]
    assert chains_of(plan, C.NFT_MSG_DELCHAIN) == ["nv_2f259bab_10_88_0_0_nm16"]
    assert seen == net.subnets


def test_teardown_port_forward_deletes_exactly_this_container() -> None:
    pf = example_port_forward(ports=[_pm("", 8080, 80)], v6=None)
    other = example_port_forward(ports=[_pm("", 8081, 80)], v6=None, v4="10.88.0.3")
    mine = D.port_rules(pf.container_ip_v4, pf.subnet_v4, pf)  # type: ignore[arg-type]
    theirs = D.port_rules(other.container_ip_v4, other.subnet_v4, other)  # type: ignore[arg-type]
    rules: dict[str, list] = {}
    for chain, stmts in theirs + mine + mine[:1]:  # one duplicate (a reload did it twice)
        rules.setdefault(chain, []).append(stmts)
    rules[DNATCHAIN].insert(0, D.dns_dnat_rule(IpAddr.parse("10.88.0.1"), 1153))
    view = FakeView(rules, chains={"nv_2f259bab_10_88_0_0_nm16_dnat"})
    got = rules_of(D.plan_teardown_port_forward(pf, False, view))
    deleted = {(c, h) for _v, c, h in got}
    mine_handles = {(c, h) for c, lst in view.rules.items() for h, s in lst
                    if (c, s) in set(mine)}
    assert deleted == mine_handles and len(deleted) == 5
    assert D.plan_teardown_port_forward(pf, False, view).batch.ops[0].desc.startswith("delete")
    plan = D.plan_teardown_port_forward(pf, True, view)
    assert ("delete", DNATCHAIN, 101) in rules_of(plan)
    assert chains_of(plan, C.NFT_MSG_DELCHAIN) == ["nv_2f259bab_10_88_0_0_nm16_dnat"]


def test_subnet_chain_names() -> None:
    n = IpNet.parse
    assert D.subnet_chain_name(n("10.88.0.0/16"), EXAMPLE_ID, False) == \
        "nv_2f259bab_10_88_0_0_nm16"
    assert D.subnet_chain_name(n("fd10:88:a::/64"), EXAMPLE_ID, True) == \
        "nv_2f259bab_fd10-88-a--_nm64_dnat"
    assert D.subnet_chain_name(n("10.0.0.0/8"), "abc", False) == "nv_abc_10_0_0_0_nm8"


def test_firewalld_helpers_are_called_as_upstream(monkeypatch) -> None:
    """StrictForwardPorts refuses port forwarding before anything is changed;
    subnets go to / leave the trusted zone (the D-Bus side is dbus.firewalld's)."""
    from netavark.dbus import firewalld as fwd

    calls: list = []
    monkeypatch.setattr(fwd, "strict_forward_ports_enabled", lambda conn: calls.append(
        ("strict", conn)) or True)
    monkeypatch.setattr(fwd, "add_trusted_subnet", lambda conn, s: calls.append(("add", str(s))))
    monkeypatch.setattr(fwd, "remove_trusted_subnet", lambda s: calls.append(("rm", str(s))))

    class NoKernel(D.NftDriver):
        def _run(self, planner, chains=()):
            plan = planner(FakeView())
            calls.append(("commit", len(plan.batch)))

    drv = NoKernel()
    with pytest.raises(NetavarkError) as ei:
        drv.setup_port_forward(example_port_forward(), dbus="conn")
    assert str(ei.value) == "Port forwarding not possible as firewalld StrictForwardPorts enabled"
    assert calls == [("strict", "conn")]
    calls.clear()
    pf = example_port_forward(ports=[])
    drv.setup_port_forward(pf, dbus="conn")  # nothing to forward: allowed
    assert calls[0] == ("strict", "conn") and calls[1][0] == "commit"
    drv.setup_port_forward(example_port_forward(), dbus=None)  # no bus: no check
    calls.clear()
    drv.setup_network(example_network(), dbus="conn")
    assert calls[:2] == [("add", "10.88.0.0/16"), ("add", "fd00::/64")]
    calls.clear()
    drv.setup_network(example_network(), dbus=None)
    assert [c for c in calls if c[0] == "add"] == []
    calls.clear()
    drv.teardown_network(example_network())
    assert calls == [("rm", "10.88.0.0/16"), ("rm", "fd00::/64"), ("commit", 0)]
    drv.close()
