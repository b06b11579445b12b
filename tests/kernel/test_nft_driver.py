"""The nftables driver against the kernel, in private network namespaces.

``nft`` (the program) is the oracle: it lists what we created, and — fed the
JSON upstream netavark writes (``tests/nft_oracle.py``) — it creates what
upstream would create, so that our rules and upstream's can be compared and
mixed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from netavark.errors import NetavarkError
from netavark.firewall import PortForwardConfig, SetupNetwork
from netavark.firewall.nft import NftDriver
from netavark.netlink.netns import Netns
from tests.conftest import ROOT, TESTDATA
from tests.nft_examples import (
    NEVER,
    example_network,
    example_port_forward,
    mappings,
    scenarios,
)
from tests.nft_oracle import NftRunner

Scenario = list[tuple[SetupNetwork, list[PortForwardConfig]]]


def driver_in(ns) -> NftDriver:
    """A driver created inside ``ns``: its netlink socket stays there."""
    here = Netns.open("/proc/self/ns/net")
    there = Netns.open(ns.path)
    try:
        with there.entered(here):
            d = NftDriver()
    finally:
        here.close()
        there.close()
    return d


def ruleset(ns) -> str:
    return ns.run("nft", "list", "ruleset").stdout


def chain_lines(ns, chain: str) -> list[str]:
    return ns.run("nft", "list", "chain", "inet", "netavark", chain).stdout.splitlines()


@pytest.fixture
def ours(netns_factory):
    ns = netns_factory("nvnft")
    return ns, driver_in(ns)


@pytest.fixture
def theirs(netns_factory):
    ns = netns_factory("nvnfu")
    return ns, NftRunner(ns.name)


def setup_all(fw, scen: Scenario) -> None:
    for net, pfs in scen:
        for pf in pfs:
            fw.setup_network(net)
            fw.setup_port_forward(pf)


def teardown_net(fw, net: SetupNetwork, pfs: list[PortForwardConfig]) -> None:
    """As the bridge driver does: containers one by one, the last one completely."""
    for pf in pfs[:-1]:
        fw.teardown_port_forward(pf, False)
    fw.teardown_network(net)
    fw.teardown_port_forward(pfs[-1], True)


# -- the spec's example ---------------------------------------------------------------

def test_example_ruleset_is_exactly_the_spec(ours) -> None:
    ns, drv = ours
    drv.setup_network(example_network())
    drv.setup_port_forward(example_port_forward())
    with open(os.path.join(TESTDATA, "nft", "example_ruleset.txt")) as f:
        assert ruleset(ns) == f.read()


def test_example_with_dns_port(ours) -> None:
    ns, drv = ours
    drv.setup_network(example_network(1153))
    drv.setup_port_forward(example_port_forward(1153))
    lines = chain_lines(ns, "NETAVARK-HOSTPORT-DNAT")
    assert lines[2:5] == [
        "\t\tip6 daddr fd00::1 meta l4proto { tcp, udp } th dport 53 dnat ip6 to [fd00::1]:1153",
        "\t\tip daddr 10.88.0.1 meta l4proto { tcp, udp } th dport 53 dnat ip to 10.88.0.1:1153",
        "\t\ttcp dport 8080 jump nv_2f259bab_10_88_0_0_nm16_dnat"]
    drv.teardown_network(example_network(1153))
    drv.teardown_port_forward(example_port_forward(1153), True)
    assert len(chain_lines(ns, "NETAVARK-HOSTPORT-DNAT")) == 4
    assert len(chain_lines(ns, "FORWARD")) == 8 and len(chain_lines(ns, "POSTROUTING")) == 6


# -- same kernel objects as upstream ---------------------------------------------------

SCENARIOS = sorted(scenarios())


@pytest.mark.parametrize("dns_port", [53, 1153])
@pytest.mark.parametrize("name", SCENARIOS)
def test_same_ruleset_as_upstream_through_a_lifecycle(ours, theirs, name: str,
                                                      dns_port: int) -> None:
    (ns_a, drv), (ns_b, orc) = ours, theirs
    scen = scenarios(dns_port)[name]
    setup_all(drv, scen)
    setup_all(orc, scen)
    assert ruleset(ns_a) == ruleset(ns_b)
    # a reload on an intact table (replays everything: port rules get duplicated)
    setup_all(drv, scen)
    setup_all(orc, scen)
    assert ruleset(ns_a) == ruleset(ns_b)
    for net, pfs in reversed(scen):
        teardown_net(drv, net, pfs)
        teardown_net(orc, net, pfs)
        assert ruleset(ns_a) == ruleset(ns_b)
    # only the (empty) _dnat chain of a family the last container lacked may remain
    assert "dnat ip" not in ruleset(ns_a) and "jump nv_" not in ruleset(ns_a)


@pytest.mark.parametrize("name", SCENARIOS)
def test_we_tear_down_what_upstream_set_up(ours, theirs, name: str) -> None:
    """Rules created by the real nft from upstream's JSON are recognised and deleted."""
    (ns_a, drv), (ns_b, orc) = ours, theirs
    scen = scenarios(1153)[name]
    setup_all(NftRunner(ns_a.name), scen)
    setup_all(orc, scen)
    for net, pfs in scen:
        teardown_net(drv, net, pfs)
        teardown_net(orc, net, pfs)
        assert ruleset(ns_a) == ruleset(ns_b)


@pytest.mark.parametrize("name", SCENARIOS)
def test_upstream_tears_down_what_we_set_up(ours, theirs, name: str) -> None:
    (ns_a, drv), (ns_b, orc) = ours, theirs
    scen = scenarios(1153)[name]
    setup_all(drv, scen)
    setup_all(orc, scen)
    mixed = NftRunner(ns_a.name)
    for net, pfs in scen:
        teardown_net(mixed, net, pfs)
        teardown_net(orc, net, pfs)
        assert ruleset(ns_a) == ruleset(ns_b)


def test_upstream_listing_tests(ours) -> None:
    """Line-level facts the upstream bats tests assert (§13)."""
    ns, drv = ours
    net, pfs = scenarios()["simple"][0]
    drv.setup_network(net)
    drv.setup_port_forward(pfs[0])
    post = chain_lines(ns, "POSTROUTING")
    assert post[3].strip() == "meta mark & 0x00002000 == 0x00002000 masquerade"
    assert post[4].strip() == "ip saddr 10.88.0.0/16 jump nv_53ce4390_10_88_0_0_nm16"
    assert len(post) == 7
    sub = chain_lines(ns, "nv_53ce4390_10_88_0_0_nm16")
    assert [x.strip() for x in sub[2:4]] == ["ip daddr 10.88.0.0/16 accept",
                                             "ip daddr != 224.0.0.0/4 masquerade"]
    fwd = [x.strip() for x in chain_lines(ns, "FORWARD")]
    assert fwd[3:8] == ["ct state invalid drop", "ct mark & 0x00001000 == 0x00001000 accept",
                        "jump NETAVARK-ISOLATION-1",
                        "ip daddr 10.88.0.0/16 ct state established,related accept",
                        "ip saddr 10.88.0.0/16 accept"]
    assert chain_lines(ns, "NETAVARK-ISOLATION-1")[2].strip() == \
        'iifname "podman0" oifname != "podman0" jump NETAVARK-ISOLATION-3'
    drv.teardown_network(net)
    drv.teardown_port_forward(pfs[0], True)
    assert len(chain_lines(ns, "FORWARD")) == 8 and len(chain_lines(ns, "POSTROUTING")) == 6
    res = ns.run("nft", "list", "chain", "inet", "netavark", "nv_53ce4390_10_88_0_0_nm16",
                 check=False)
    assert res.returncode == 1


def test_host_ip_rules_and_their_removal(ours) -> None:
    ns, drv = ours
    net = example_network()
    pf = example_port_forward(ports=[
        dict(host_ip="192.168.188.25", container_port=8080, host_port=8080, protocol="tcp",
             range=1),
        dict(host_ip="192.168.188.24", container_port=8080, host_port=8080, protocol="udp",
             range=1)], v4="10.88.0.14", v6=None)
    drv.setup_network(net)
    drv.setup_port_forward(pf)
    lines = [x.strip() for x in chain_lines(ns, "nv_2f259bab_10_88_0_0_nm16_dnat")]
    setmark = "tcp dport 8080 jump NETAVARK-HOSTPORT-SETMARK"
    assert lines[2:5] == [
        f"ip saddr 10.88.0.0/16 ip daddr 192.168.188.25 {setmark}",
        f"ip saddr 127.0.0.1 ip daddr 192.168.188.25 {setmark}",
        "ip daddr 192.168.188.25 tcp dport 8080 ct mark set meta mark | 0x00001000 dnat ip to "
        "10.88.0.14:8080"]
    drv.teardown_network(net)
    drv.teardown_port_forward(pf, True)
    assert ns.run("nft", "list", "chain", "inet", "netavark", "NETAVARK-HOSTPORT-DNAT").stdout \
        == "table inet netavark {\n\tchain NETAVARK-HOSTPORT-DNAT {\n\t}\n}\n"


# -- other people's rules -------------------------------------------------------------

USER_RULES = textwrap.dedent("""\
    table inet filter {
    \tchain input {
    \t\ttype filter hook input priority filter; policy accept;
    \t\tip saddr 10.88.0.0/16 tcp dport 22 accept
    \t\tiifname "podman1" counter packets 0 bytes 0 drop
    \t}
    }
    table ip nat {
    \tchain postrouting {
    \t\ttype nat hook postrouting priority srcnat; policy accept;
    \t\tip saddr 10.88.0.0/16 masquerade
    \t}
    }
    """)


def test_user_tables_and_foreign_rules_are_untouched(ours) -> None:
    ns, drv = ours
    ns.run("nft", "-f", "-", input=USER_RULES)

    def user_tables() -> str:
        return ns.run("nft", "list", "table", "inet", "filter").stdout + \
            ns.run("nft", "list", "table", "ip", "nat").stdout

    assert user_tables() == USER_RULES
    net, pf = example_network(), example_port_forward(1153)
    other = example_port_forward(1153, ports=[dict(host_ip="", container_port=1,
                                                   host_port=8080, protocol="tcp", range=1)],
                                 container_id="other", v4="10.88.0.9", v6="fd00::9")
    drv.setup_network(net)
    drv.setup_port_forward(pf)
    drv.setup_port_forward(other)
    # a user rule in netavark's own table that no teardown criterion covers
    ns.run("nft", "add", "rule", "inet", "netavark", "FORWARD", "tcp", "dport", "2222",
           "accept")
    drv.teardown_port_forward(pf, False)
    text = ruleset(ns)
    assert text.count("dnat ip to 10.88.0.9:1") == 1 and "10.88.0.2" not in text
    assert "fd00::2" not in text and "dnat ip6 to [fd00::9]:1" in text
    drv.teardown_network(net)
    drv.teardown_port_forward(other, True)
    assert user_tables() == USER_RULES
    assert "tcp dport 2222 accept" in ruleset(ns)


def test_policy_is_reset_and_table_kept(ours) -> None:
    ns, drv = ours
    net = example_network()
    drv.setup_network(net)
    ns.run("nft", "add", "chain", "inet", "netavark", "INPUT", "{ policy drop ; }")
    assert "policy drop" in chain_lines(ns, "INPUT")[2]
    drv.setup_network(net)
    assert "policy accept" in chain_lines(ns, "INPUT")[2]
    drv.teardown_network(net)
    drv.teardown_network(net)  # nothing left to delete: no error
    assert "table inet netavark" in ruleset(ns)


def test_teardown_without_table_is_a_noop(ours) -> None:
    ns, drv = ours
    drv.teardown_port_forward(example_port_forward(1153), True)
    drv.teardown_network(example_network())
    assert ruleset(ns) == ""


# -- bad input changes nothing --------------------------------------------------------

@pytest.mark.parametrize(("port", "message"), [
    (dict(host_ip="abcd", container_port=80, host_port=8080, protocol="tcp", range=1),
     'invalid host ip "abcd" provided for port 8080'),
    (dict(host_ip="", container_port=80, host_port=8080, protocol="icmp", range=1),
     'nftables error: "nft" did not return successfully while applying ruleset: '),
    (dict(host_ip="", container_port=80, host_port=65535, protocol="tcp", range=3),
     'nftables error: "nft" did not return successfully while applying ruleset: '),
])
def test_bad_port_mapping_changes_nothing(ours, port: dict, message: str) -> None:
    ns, drv = ours
    net = example_network()
    drv.setup_network(net)
    drv.setup_port_forward(example_port_forward())
    before = ruleset(ns)
    bad = example_port_forward(ports=[*[dict(host_ip="", container_port=1, host_port=1000,
                                             protocol="udp", range=1)], port],
                               container_id="bad", v4="10.88.0.7", v6="fd00::7")
    with pytest.raises(NetavarkError) as ei:
        drv.setup_port_forward(bad)
    assert str(ei.value) == message
    assert ruleset(ns) == before


def test_kernel_refusal_names_the_operation(ours) -> None:
    from netavark.errors import NetlinkError
    from netavark.nft.batch import Batch

    ns, drv = ours
    drv.setup_network(example_network())
    before = ruleset(ns)
    b = Batch("netavark")
    b.add_rule("FORWARD", [("accept",)])
    b.add_rule("FORWARD", [("jump", "no-such-chain")])
    with pytest.raises(NetlinkError) as ei:
        drv._socket().commit(b)
    assert str(ei.value) == "Netlink error: No such file or directory (os error 2)"
    assert ei.value.op == "add rule inet netavark FORWARD"
    assert ruleset(ns) == before  # atomic: the first rule did not land either


# -- dumps --------------------------------------------------------------------------------

def test_dumps_decode_every_object(ours) -> None:
    ns, drv = ours
    drv.setup_network(example_network(1153))
    drv.setup_port_forward(example_port_forward(1153))
    sock = drv._socket()
    listing = json.loads(ns.run("nft", "-j", "list", "ruleset").stdout)["nftables"]
    tables = [t for t in sock.dump_tables() if t.name == "netavark"]
    assert [(t.name, t.handle) for t in tables] == \
        [(o["table"]["name"], o["table"]["handle"]) for o in listing if "table" in o]
    chains = sock.dump_chains("netavark")
    assert [(c.name, c.handle) for c in chains] == \
        [(o["chain"]["name"], o["chain"]["handle"]) for o in listing if "chain" in o]
    rules = sock.dump_rules("netavark")
    assert [(r.chain, r.handle) for r in rules] == \
        [(o["rule"]["chain"], o["rule"]["handle"]) for o in listing if "rule" in o]
    sets = sock.dump_sets("netavark")
    assert len(sets) == 4 and all(s.key_type == 12 for s in sets)
    for s in sets:
        keys = sorted(e.key for se in sock.dump_set_elems("netavark", s.name)
                      for e in se.elements)
        assert keys == [b"\x06", b"\x11"]


# -- concurrency ----------------------------------------------------------------------

_WORKER = """
import sys
sys.path.insert(0, {root!r})
from netavark.firewall.nft import NftDriver
from tests.nft_examples import scenarios
net, pfs = scenarios({dns})[{name!r}][{idx}]
d = NftDriver()
for _ in range({rounds}):
    for pf in pfs:
        d.setup_network(net)
        d.setup_port_forward(pf)
    if {teardown}:
        for pf in pfs[:-1]:
            d.teardown_port_forward(pf, False)
        d.teardown_network(net)
        d.teardown_port_forward(pfs[-1], True)
"""


def _workers(ns, jobs: list[tuple[str, int]], rounds: int, teardown: bool,
             dns: int = 1153) -> None:
    procs = []
    for name, idx in jobs:
        code = _WORKER.format(root=ROOT, name=name, idx=idx, rounds=rounds,
                              teardown=teardown, dns=dns)
        procs.append(subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, "-c",
                                       code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err


def test_concurrent_processes_do_not_corrupt_the_table(ours, theirs) -> None:
    """Networks set up and torn down by parallel processes: no duplicated global
    rules, nothing lost, nothing left — the generation check makes each
    list-then-commit step safe."""
    (ns, _drv), (ns_b, orc) = ours, theirs
    jobs = [("isolation", i) for i in range(4)] + [("two_networks", 0), ("two_networks", 1),
                                                   ("outbound", 0), ("odd_prefixes", 0)]
    _workers(ns, jobs, rounds=3, teardown=True)
    _workers(ns, jobs, rounds=1, teardown=False)
    text = ruleset(ns)
    lines = [x.strip() for x in text.splitlines()]
    for line in ("meta mark & 0x00002000 == 0x00002000 masquerade", "ct state invalid drop",
                 "ct mark & 0x00001000 == 0x00001000 accept", "jump NETAVARK-ISOLATION-1",
                 "fib daddr type local jump NETAVARK-HOSTPORT-DNAT",
                 "meta mark set meta mark | 0x00002000", "jump NETAVARK-ISOLATION-2"):
        assert lines.count(line) == (2 if "fib" in line else 1), line
    # same rules as a sequential upstream run (chain and rule order aside)
    for name, idx in jobs:
        net, pfs = scenarios(1153)[name][idx]
        for pf in pfs:
            orc.setup_network(net)
            orc.setup_port_forward(pf)
    assert sorted(text.splitlines()) == sorted(ruleset(ns_b).splitlines())


def test_retry_when_the_ruleset_changes_while_planning(ours, monkeypatch) -> None:
    from netavark.firewall import nft as D

    ns, drv = ours
    real = D.plan_setup_network
    calls = []

    def racing(net, view):
        calls.append(view.genid)
        if len(calls) == 1:  # another process commits between our listing and our batch
            ns.run("nft", "add", "table", "inet", "netavark")
            ns.run("nft", "add", "chain", "inet", "netavark", "FORWARD",
                   "{ type filter hook forward priority 0 ; }")
            ns.run("nft", "add", "rule", "inet", "netavark", "FORWARD", "ct", "state",
                   "invalid", "drop")
        return real(net, view)

    monkeypatch.setattr(D, "plan_setup_network", racing)
    drv.setup_network(example_network())
    assert len(calls) == 2 and calls[1] > calls[0]
    assert ruleset(ns).count("ct state invalid drop") == 1


# -- firewall-reload ----------------------------------------------------------------------

def test_firewall_reload_restores_rules(netavark, host) -> None:
    from netavark.firewall.state import write_fw_config

    net = example_network()
    pf = example_port_forward()
    write_fw_config(netavark.config_dir, net.network_id, pf.container_id, "nftables", net, pf)
    res = netavark("firewall-reload", env={"RUST_LOG": "info"}, check_rc=0)
    assert res.stderr.splitlines() == [
        "[INFO  netavark::firewall] Using nftables firewall driver",
        "[INFO  netavark::firewall::nft] Creating container chain nv_2f259bab_10_88_0_0_nm16",
        "[INFO  netavark::firewall::nft] Creating container chain nv_2f259bab_fd00--_nm64",
        "[INFO  netavark::commands::firewall_reload] Successfully reloaded firewall rules"]
    with open(os.path.join(TESTDATA, "nft", "example_ruleset.txt")) as f:
        expected = f.read()
    assert ruleset(host) == expected
    host.run("nft", "flush", "ruleset")
    netavark("firewall-reload", check_rc=0)
    assert ruleset(host) == expected


def test_firewall_reload_without_state_does_nothing(netavark, host) -> None:
    res = netavark("firewall-reload", env={"RUST_LOG": "info"}, check_rc=0)
    assert res.stdout == "" and res.stderr == ""
    assert os.path.exists(os.path.join(netavark.config_dir, "firewall",
                                       "firewall-reload.lock"))
    assert ruleset(host) == ""


def test_firewall_reload_corrupt_state(netavark) -> None:
    fw = os.path.join(netavark.config_dir, "firewall")
    os.makedirs(os.path.join(fw, "networks"))
    os.makedirs(os.path.join(fw, "ports"))
    with open(os.path.join(fw, "firewall-driver"), "w") as f:
        f.write("nftables")
    with open(os.path.join(fw, "networks", "x"), "w") as f:
        f.write("{")
    res = netavark("firewall-reload", check_rc=1)
    assert json.loads(res.stdout)["error"].startswith("read firewall config: JSON Decoding error:")


def test_isolate_false_network_keeps_jump_last(ours) -> None:
    ns, drv = ours
    scen = scenarios()["isolation"]
    setup_all(drv, scen)
    iso3 = [x.strip() for x in chain_lines(ns, "NETAVARK-ISOLATION-3")]
    assert iso3[2:4] == ['oifname "podman0" drop', "jump NETAVARK-ISOLATION-2"]
    assert scen[3][0].isolation == NEVER
    for net, pfs in scen:
        teardown_net(drv, net, pfs)
    assert len(chain_lines(ns, "NETAVARK-ISOLATION-1")) == 4
    assert len(chain_lines(ns, "NETAVARK-ISOLATION-3")) == 5


def test_duplicated_port_rules_all_removed(ours) -> None:
    ns, drv = ours
    net = example_network()
    pf = example_port_forward()
    pf2 = example_port_forward(container_id="dup")
    pf2.port_mappings = mappings([dict(host_ip="", container_port=80, host_port=8080,
                                       protocol="tcp", range=1)] * 2)
    drv.setup_network(net)
    drv.setup_port_forward(pf2)
    drv.setup_port_forward(pf2)
    assert ruleset(ns).count("dnat ip to 10.88.0.2:80") == 4
    drv.teardown_port_forward(pf2, False)
    assert "10.88.0.2" not in ruleset(ns)
    del pf


# -- upstream's own test inputs ------------------------------------------------------------

UPSTREAM_DIR = os.path.join(TESTDATA, "upstream", "test", "testfiles")


def _firewall_files() -> list[str]:
    """Inputs with a managed bridge network that uses the firewall (others never reach it)."""
    from tests.nft_examples import firewall_inputs

    return [f for f in sorted(os.listdir(UPSTREAM_DIR))
            if f.endswith(".json") and firewall_inputs(os.path.join(UPSTREAM_DIR, f))]


UPSTREAM_FILES = _firewall_files()


@pytest.mark.parametrize("fname", UPSTREAM_FILES)
def test_upstream_test_inputs_give_upstream_rules(ours, theirs, fname: str) -> None:
    from tests.nft_examples import firewall_inputs

    (ns_a, drv), (ns_b, orc) = ours, theirs
    inputs = firewall_inputs(os.path.join(UPSTREAM_DIR, fname), dns_port=1153)
    for net, pf in inputs:
        drv.setup_network(net)
        orc.setup_network(net)
        if fname == "invalid-port.json":
            with pytest.raises(NetavarkError, match='invalid host ip "abcd" provided'):
                drv.setup_port_forward(pf)
            continue
        drv.setup_port_forward(pf)
        orc.setup_port_forward(pf)
    assert ruleset(ns_a) == ruleset(ns_b)
    for net, pf in inputs:
        drv.teardown_network(net)
        orc.teardown_network(net)
        if fname != "invalid-port.json":
            drv.teardown_port_forward(pf, True)
            orc.teardown_port_forward(pf, True)
        assert ruleset(ns_a) == ruleset(ns_b)


def test_commit_with_a_small_receive_buffer(ours, monkeypatch) -> None:
    """Unprivileged sockets cannot grow their buffer: then only errors and the last
    message are acknowledged, and failures are still attributed."""
    from netavark.errors import NetlinkError
    from netavark.nft import transport
    from netavark.nft.batch import Batch

    ns, drv = ours
    monkeypatch.setattr(transport, "_REPLY_COST", 1 << 30)
    sock = drv._socket()
    drv.setup_network(example_network())
    drv.setup_port_forward(example_port_forward(ports=[
        dict(host_ip="", container_port=80, host_port=10000 + i, protocol="tcp", range=1)
        for i in range(300)]))
    assert ruleset(ns).count("ct mark set meta mark | 0x00001000 dnat ip to") == 300
    b = Batch("netavark")
    b.add_rule("FORWARD", [("accept",)])
    b.add_rule("FORWARD", [("jump", "no-such-chain")])
    b.add_rule("FORWARD", [("drop",)])
    with pytest.raises(NetlinkError) as ei:
        sock.commit(b)
    assert ei.value.op == "add rule inet netavark FORWARD" and ei.value.errno == 2
