"""macvlan/ipvlan end to end: ``netavark setup``/``teardown`` against the kernel.

Layout of every test: a "host" namespace with a veth ``lan0`` as the parent
("the LAN port"), whose peer ``lanp`` sits in a third namespace with
10.88.0.1/16 and fd00:88::1/64 (another machine on the LAN, also the
gateway); one or two container namespaces.  ``ip -j`` is the oracle.  The
firewall driver is ``none``: these drivers never touch the firewall.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.kernel.conftest import Netns

ENV = {"NETAVARK_FW": "none"}
NET_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="session")
def ipvlan_supported() -> bool:
    """Whether this kernel can create ipvlan links (tried in a scratch namespace)."""
    name = f"nvipv-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "add", "p0", "type", "veth", "peer", "name",
                        "p1"], check=True)
        res = subprocess.run(["ip", "-n", name, "link", "add", "link", "p0", "name", "iv0",
                              "type", "ipvlan", "mode", "l2"], capture_output=True)
        return res.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def needs_ipvlan(ipvlan_supported: bool) -> None:
    if not ipvlan_supported:
        pytest.skip("kernel lacks ipvlan links (creating one in a scratch namespace failed)")


@pytest.fixture
def lan(host: Netns, netns_factory) -> Netns:
    """``lan0`` in the host, its peer with the gateway addresses in its own namespace."""
    peer = netns_factory("nvl")
    host.run("ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lanp", "netns",
             peer.name)
    host.run("ip", "link", "set", "lan0", "up")
    peer.run("sysctl", "-qw", "net.ipv6.conf.lanp.accept_dad=0")
    peer.run("ip", "addr", "add", "10.88.0.1/16", "dev", "lanp")
    peer.run("ip", "addr", "add", "fd00:88::1/64", "dev", "lanp")
    peer.run("ip", "link", "set", "lanp", "up")
    return peer


def conf(*, driver: str = "macvlan", static_ips: list[str] | None = None,
         subnets: list[dict] | None = None, parent: str | None = "lan0",
         options: dict | None = None, ipam: str = "host-local", internal: bool = False,
         routes: list[dict] | None = None, static_mac: str | None = None,
         interface_name: str = "eth0") -> dict:
    per_net: dict = {"interface_name": interface_name}
    if ipam == "host-local":
        per_net["static_ips"] = ["10.88.0.2"] if static_ips is None else static_ips
    if static_mac is not None:
        per_net["static_mac"] = static_mac
    net: dict = {
        "name": "podman", "id": NET_ID, "driver": driver,
        "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]
        if subnets is None else subnets,
        "ipv6_enabled": False, "internal": internal, "dns_enabled": False,
        "ipam_options": {"driver": ipam}}
    if parent is not None:
        net["network_interface"] = parent
    if options is not None:
        net["options"] = options
    if routes is not None:
        net["routes"] = routes
    return {"container_id": "someID", "container_name": "someName",
            "networks": {"podman": per_net}, "network_info": {"podman": net}}


def run_setup(netavark, container: Netns, config: dict) -> dict:
    return netavark.json("setup", container.path, input=config, env=ENV)


def setup_fails(netavark, container: Netns, config: dict) -> str:
    res = netavark("setup", container.path, input=config, env=ENV)
    assert res.returncode == 1, (res.stdout, res.stderr)
    return json.loads(res.stdout)["error"]


def run_teardown(netavark, container: Netns | str, config: dict) -> subprocess.CompletedProcess:
    path = container if isinstance(container, str) else container.path
    return netavark("teardown", path, input=config, env=ENV)


def snapshot(ns: Netns) -> tuple:
    """Links, addresses and routes (all tables) of a namespace."""
    links = sorted((link["ifname"], link.get("linkinfo", {}).get("info_kind"))
                   for link in ns.ip("-d", "link", "show"))
    addrs = sorted((a["ifname"], i["local"]) for a in ns.ip("addr", "show")
                   for i in a.get("addr_info", []))
    routes = [json.dumps(r, sort_keys=True) for fam in ("-4", "-6")
              for r in ns.ip(fam, "route", "show", "table", "all")]
    return links, addrs, sorted(routes)


def link(ns: Netns, name: str = "eth0") -> dict:
    (info,) = ns.ip("-d", "link", "show", name)
    return info


def addresses(ns: Netns, name: str = "eth0") -> list[str]:
    (info,) = ns.ip("addr", "show", name)
    return [f"{a['local']}/{a['prefixlen']}" for a in info.get("addr_info", [])
            if a.get("scope") == "global"]


def default_routes(ns: Netns, family: str = "-4") -> list[dict]:
    return [r for r in ns.ip(family, "route", "show") if r["dst"] == "default"]


def ifindex(ns: Netns, name: str) -> int:
    return link(ns, name)["ifindex"]


# ---------------------------------------------------------------------------
# setup and teardown


def test_macvlan_setup_and_teardown(lan: Netns, host: Netns, container: Netns,
                                    netavark) -> None:
    host_before = snapshot(host)
    out = run_setup(netavark, container, conf())
    info = link(container)
    assert out == {"podman": {
        "dns_search_domains": [], "dns_server_ips": [],
        "interfaces": {"eth0": {"mac_address": info["address"],
                                "subnets": [{"ipnet": "10.88.0.2/16",
                                             "gateway": "10.88.0.1"}]}}}}
    assert info["linkinfo"]["info_kind"] == "macvlan"
    assert info["linkinfo"]["info_data"]["mode"] == "bridge"
    assert "UP" in info["flags"]
    assert info["mtu"] == 1500
    # its parent is the host's lan0
    assert info["link_index"] == ifindex(host, "lan0")
    assert addresses(container) == ["10.88.0.2/16"]
    (default,) = default_routes(container)
    assert (default["gateway"], default["metric"], default["protocol"]) == (
        "10.88.0.1", 99, "static")
    assert container.sysctl("net/ipv6/conf/eth0/autoconf") == "0"
    # nothing on the host: no link, no sysctl file, no state
    assert snapshot(host) == host_before
    assert os.listdir(netavark.config_dir) == []

    res = run_teardown(netavark, container, conf())
    assert (res.returncode, res.stdout) == (0, ""), res.stderr
    assert [x["ifname"] for x in container.ip("link", "show")] == ["lo"]
    assert snapshot(host) == host_before


def test_two_containers_reach_each_other_and_the_lan(lan: Netns, netns_factory,
                                                     netavark) -> None:
    c1, c2 = netns_factory("nvc"), netns_factory("nvc")
    run_setup(netavark, c1, conf(static_ips=["10.88.0.2"]))
    run_setup(netavark, c2, conf(static_ips=["10.88.0.3"]))
    assert link(c1)["address"] != link(c2)["address"]
    c1.run("ping", "-c", "1", "-W", "5", "10.88.0.3")
    c2.run("ping", "-c", "1", "-W", "5", "10.88.0.2")
    c1.run("ping", "-c", "1", "-W", "5", "10.88.0.1")
    c2.run("ping", "-c", "1", "-W", "5", "10.88.0.1")
    # the LAN peer learnt both containers' own MACs
    neigh = {n["dst"]: n.get("lladdr") for n in lan.ip("neigh", "show", "dev", "lanp")}
    assert neigh["10.88.0.2"] == link(c1)["address"]
    assert neigh["10.88.0.3"] == link(c2)["address"]
    for c in (c1, c2):
        assert run_teardown(netavark, c, conf()).returncode == 0
    # after teardown the LAN cannot reach them any more
    res = lan.run("ping", "-c", "1", "-W", "1", "10.88.0.2", check=False)
    assert res.returncode != 0


@pytest.mark.parametrize("mode", ["bridge", "private", "vepa", "passthru", "source"])
def test_macvlan_modes(lan: Netns, container: Netns, netavark, mode: str) -> None:
    config = conf(options={"mode": mode})
    run_setup(netavark, container, config)
    info = link(container)
    assert info["linkinfo"]["info_data"]["mode"] == mode
    assert info["mtu"] == 1500
    assert "UP" in info["flags"]
    assert run_teardown(netavark, container, config).returncode == 0
    assert [x["ifname"] for x in container.ip("link", "show")] == ["lo"]


def test_mtu_inherited_from_parent_or_set(lan: Netns, host: Netns, container: Netns,
                                          netavark) -> None:
    host.run("ip", "link", "set", "lan0", "mtu", "1480")
    run_setup(netavark, container, conf())
    assert link(container)["mtu"] == 1480
    run_teardown(netavark, container, conf())
    run_setup(netavark, container, conf(options={"mtu": "1400"}))
    assert link(container)["mtu"] == 1400


def test_static_mac(lan: Netns, container: Netns, netavark) -> None:
    out = run_setup(netavark, container, conf(static_mac="aa:bb:cc:dd:ee:ff"))
    assert out["podman"]["interfaces"]["eth0"]["mac_address"] == "aa:bb:cc:dd:ee:ff"
    assert link(container)["address"] == "aa:bb:cc:dd:ee:ff"


def test_bclim(lan: Netns, container: Netns, netavark) -> None:
    run_setup(netavark, container, conf(options={"bclim": "-1"}))
    # iproute2 here does not print the cutoff; read what the kernel reports
    code = ("from netavark.netlink.route import RtnlHandle; "
            "print(RtnlHandle.open().get_link('eth0').info_data.get('bc_cutoff'))")
    res = container.run(sys.executable, "-c", code, env={**os.environ, "PYTHONPATH": ROOT})
    value = res.stdout.strip()
    if value == "None":
        pytest.skip("kernel does not report IFLA_MACVLAN_BC_CUTOFF (older than 6.4)")
    assert value == "-1"


def test_several_addresses_dual_stack(lan: Netns, container: Netns, netavark) -> None:
    subnets = [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
               {"subnet": "10.89.0.0/16", "gateway": "10.89.0.1"},
               {"subnet": "fd00:88::/64", "gateway": "fd00:88::1"}]
    ips = ["10.88.0.5", "fd00:88::5", "10.89.0.10", "10.88.0.15", "fd00:88::6"]
    out = run_setup(netavark, container, conf(static_ips=ips, subnets=subnets))
    assert out["podman"]["interfaces"]["eth0"]["subnets"] == [
        {"ipnet": "10.88.0.5/16", "gateway": "10.88.0.1"},
        {"ipnet": "10.88.0.15/16", "gateway": "10.88.0.1"},
        {"ipnet": "10.89.0.10/16", "gateway": "10.89.0.1"},
        {"ipnet": "fd00:88::5/64", "gateway": "fd00:88::1"},
        {"ipnet": "fd00:88::6/64", "gateway": "fd00:88::1"}]
    assert sorted(addresses(container)) == sorted(
        ["10.88.0.5/16", "10.88.0.15/16", "10.89.0.10/16", "fd00:88::5/64", "fd00:88::6/64"])
    # one default route per family, via the first gateway of that family
    (v4,) = default_routes(container)
    (v6,) = default_routes(container, "-6")
    assert (v4["gateway"], v4["metric"]) == ("10.88.0.1", 99)
    assert (v6["gateway"], v6["metric"]) == ("fd00:88::1", 99)
    container.run("ping", "-c", "1", "-W", "5", "10.88.0.1")


def test_static_routes(lan: Netns, container: Netns, netavark) -> None:
    # a second interface in the container, as upstream's test has
    container.run("ip", "link", "add", "other0", "type", "veth", "peer", "name", "other1")
    container.run("ip", "addr", "add", "10.91.0.10/24", "dev", "other0")
    container.run("ip", "link", "set", "other0", "up")
    container.run("ip", "link", "set", "other1", "up")
    before = snapshot(container)
    subnets = [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
               {"subnet": "fd:1f1f::/64", "gateway": "fd:1f1f::1"}]
    routes = [{"destination": "10.89.0.0/24", "gateway": "10.88.0.2"},
              {"destination": "10.90.0.0/24", "gateway": "10.88.0.3", "metric": 50},
              {"destination": "10.92.0.0/24", "gateway": "10.91.0.1"},
              {"destination": "fd:2f2f::/64", "gateway": "fd:1f1f::20"}]
    config = conf(static_ips=["10.88.0.2", "fd:1f1f::2"], subnets=subnets, routes=routes)
    run_setup(netavark, container, config)
    v4 = {r["dst"]: r for r in container.ip("-4", "route", "show")}
    assert (v4["10.89.0.0/24"]["gateway"], v4["10.89.0.0/24"]["metric"]) == ("10.88.0.2", 100)
    assert (v4["10.90.0.0/24"]["gateway"], v4["10.90.0.0/24"]["metric"]) == ("10.88.0.3", 50)
    assert (v4["10.92.0.0/24"]["gateway"], v4["10.92.0.0/24"]["dev"]) == ("10.91.0.1", "other0")
    v6 = {r["dst"]: r for r in container.ip("-6", "route", "show")}
    assert v6["fd:2f2f::/64"]["gateway"] == "fd:1f1f::20"
    res = run_teardown(netavark, container, config)
    assert (res.returncode, res.stdout) == (0, ""), res.stderr
    assert snapshot(container) == before


@pytest.mark.parametrize("config", [
    conf(options={"no_default_route": "true"}),
    conf(internal=True),
], ids=["no_default_route", "internal"])
def test_no_default_route(lan: Netns, container: Netns, netavark, config: dict) -> None:
    config["networks"]["podman"]["static_ips"].append("fd00:88::2")
    config["network_info"]["podman"]["subnets"].append(
        {"subnet": "fd00:88::/64", "gateway": "fd00:88::1"})
    out = run_setup(netavark, container, config)
    assert default_routes(container) == []
    assert default_routes(container, "-6") == []
    # the result still names the gateway
    assert out["podman"]["interfaces"]["eth0"]["subnets"][0]["gateway"] == "10.88.0.1"
    assert addresses(container) == ["10.88.0.2/16", "fd00:88::2/64"]


def test_internal_keeps_static_routes(lan: Netns, container: Netns, netavark) -> None:
    config = conf(internal=True, routes=[{"destination": "10.89.0.0/24",
                                          "gateway": "10.88.0.7"}])
    run_setup(netavark, container, config)
    assert [r["dst"] for r in container.ip("-4", "route", "show")
            if r.get("protocol") == "static"] == ["10.89.0.0/24"]


def test_metric(lan: Netns, container: Netns, netavark) -> None:
    subnets = [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
               {"subnet": "fd00:88::/64", "gateway": "fd00:88::1"}]
    run_setup(netavark, container, conf(static_ips=["10.88.0.2", "fd00:88::2"], subnets=subnets,
                                    options={"metric": "200"}))
    assert [r["metric"] for r in default_routes(container)] == [200]
    assert [r["metric"] for r in default_routes(container, "-6")] == [200]


def test_ipam_none(lan: Netns, container: Netns, netavark) -> None:
    config = conf(ipam="none", subnets=[])
    out = run_setup(netavark, container, config)
    info = link(container)
    assert out["podman"]["interfaces"]["eth0"] == {"mac_address": info["address"],
                                                   "subnets": []}
    assert "UP" in info["flags"]
    assert addresses(container) == []
    assert container.ip("-4", "route", "show") == []
    assert run_teardown(netavark, container, config).returncode == 0


def test_parent_from_default_route(lan: Netns, host: Netns, container: Netns,
                                   netavark) -> None:
    host.run("ip", "link", "add", "other0", "type", "veth", "peer", "name", "other1")
    host.run("ip", "link", "set", "other0", "up")
    host.run("ip", "addr", "add", "192.0.2.2/24", "dev", "lan0")
    host.run("ip", "route", "add", "default", "via", "192.0.2.1", "dev", "lan0")
    for parent in (None, ""):
        config = conf(parent=parent)
        run_setup(netavark, container, config)
        assert link(container)["link_index"] == ifindex(host, "lan0")
        container.run("ping", "-c", "1", "-W", "5", "10.88.0.1")
        assert run_teardown(netavark, container, config).returncode == 0


# ---------------------------------------------------------------------------
# errors: exact message, nothing left behind


def _fails_cleanly(netavark, host: Netns, container: Netns, config: dict) -> str:
    before = snapshot(host), snapshot(container)
    msg = setup_fails(netavark, container, config)
    assert (snapshot(host), snapshot(container)) == before
    return msg


@pytest.mark.parametrize(("config", "message"), [
    (conf(options={"mode": "bogus"}), 'invalid macvlan mode "bogus"'),
    (conf(driver="ipvlan", options={"mode": "bridge"}), 'invalid ipvlan mode "bridge"'),
    (conf(interface_name=""), "no container interface name given"),
    (conf(options={"mtu": "-1"}), 'unable to parse "mtu": invalid digit found in string'),
    (conf(options={"metric": "x"}), 'unable to parse "metric": invalid digit found in string'),
    (conf(options={"no_default_route": "1"}),
     'unable to parse "no_default_route": provided string was not `true` or `false`'),
    (conf(options={"bclim": "1.5"}), 'unable to parse "bclim": invalid digit found in string'),
    (conf(static_mac="aa:bb:cc:dd:ee"), "invalid mac length for address: aa:bb:cc:dd:ee"),
    (conf(static_mac="aa:bb:cc:dd:ee:gg"),
     "unable to parse mac address aa:bb:cc:dd:ee:gg: invalid digit found in string"),
    (conf(ipam="unknown"), "unsupported ipam driver unknown"),
], ids=["macvlan-mode", "ipvlan-mode", "no-interface", "mtu", "metric", "no_default_route",
        "bclim", "mac-length", "mac-digit", "ipam"])
def test_validation_errors(lan: Netns, host: Netns, container: Netns, netavark,
                           config: dict, message: str) -> None:
    assert _fails_cleanly(netavark, host, container, config) == message


SUBNET_ERRORS = [
    (["10.1.2.5", "10.1.3.249", "10.1.2.100"],
     [{"subnet": "10.1.2.0/23", "gateway": "10.1.2.1"},
      {"subnet": "10.1.3.248/30", "gateway": "10.1.3.249"}],
     "overlapping subnets: 10.1.2.0/23 and 10.1.3.248/30"),
    (["10.88.0.5", "10.88.0.10"],
     [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
      {"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}],
     "duplicate subnet defined: 10.88.0.0/16"),
    (["10.88.0.5", "10.89.0.10", "10.90.0.15"],
     [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
      {"subnet": "10.89.0.0/16", "gateway": "10.89.0.1"}],
     "not all static IPs matched a subnet: expected 3, got 2"),
    (["10.88.0.5", "10.88.0.10", "10.89.0.15"],
     [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}],
     "not all static IPs matched a subnet: expected 3, got 2"),
]


@pytest.mark.parametrize("driver", ["macvlan", "ipvlan"])
@pytest.mark.parametrize(("ips", "subnets", "message"), SUBNET_ERRORS,
                         ids=["overlap", "duplicate", "unmatched", "outside"])
def test_subnet_errors(lan: Netns, host: Netns, container: Netns, netavark,
                       driver: str, ips: list, subnets: list, message: str) -> None:
    config = conf(driver=driver, static_ips=ips, subnets=subnets)
    assert _fails_cleanly(netavark, host, container, config) == message


def test_missing_parent(lan: Netns, host: Netns, container: Netns, netavark) -> None:
    assert _fails_cleanly(netavark, host, container, conf(parent="nope0")) == (
        "Netlink error: No such device (os error 19)")


def test_no_default_route_for_parent(lan: Netns, host: Netns, container: Netns,
                                     netavark) -> None:
    assert _fails_cleanly(netavark, host, container, conf(parent=None)) == (
        "failed to get default route interface")


def test_name_taken_in_container(lan: Netns, host: Netns, container: Netns,
                                 netavark) -> None:
    container.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
    msg = _fails_cleanly(netavark, host, container, conf())
    assert msg == "rename tmp macvlan interface: Netlink error: File exists (os error 17)"
    assert link(container)["linkinfo"]["info_kind"] == "veth"


def test_name_taken_on_host_only(host: Netns, container: Netns, netns_factory,
                                 netavark) -> None:
    peer = netns_factory("nvl")
    host.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "lanp", "netns",
             peer.name)
    host.run("ip", "link", "set", "eth0", "up")
    config = conf(parent="eth0")
    run_setup(netavark, container, config)
    info = link(container)
    assert (info["linkinfo"]["info_kind"], info["link_index"]) == (
        "macvlan", ifindex(host, "eth0"))
    assert run_teardown(netavark, container, config).returncode == 0


def test_create_error(lan: Netns, host: Netns, container: Netns, netavark) -> None:
    msg = _fails_cleanly(netavark, host, container, conf(options={"mtu": "70000"}))
    assert msg == "create macvlan interface: Netlink error: Invalid argument (os error 22)"


def test_unreachable_static_route_rolls_back(lan: Netns, host: Netns, container: Netns,
                                             netavark) -> None:
    config = conf(routes=[{"destination": "10.99.0.0/24", "gateway": "192.0.2.1"}])
    msg = _fails_cleanly(netavark, host, container, config)
    assert msg == "Netlink error: Network is unreachable (os error 101)"


def test_failed_setup_removes_routes_through_other_links(lan: Netns, host: Netns,
                                                         container: Netns,
                                                         netavark) -> None:
    container.run("ip", "link", "add", "other0", "type", "veth", "peer", "name", "other1")
    container.run("ip", "addr", "add", "10.91.0.10/24", "dev", "other0")
    container.run("ip", "link", "set", "other0", "up")
    container.run("ip", "link", "set", "other1", "up")
    routes = [{"destination": "10.92.0.0/24", "gateway": "10.91.0.1"},
              {"destination": "10.93.0.0/24", "gateway": "10.91.0.1"},
              {"destination": "10.92.0.0/24", "gateway": "10.91.0.1"}]  # duplicate: EEXIST
    msg = _fails_cleanly(netavark, host, container, conf(routes=routes))
    assert msg == "Netlink error: File exists (os error 17)"


def test_ipv6_disabled(lan: Netns, host: Netns, container: Netns, netavark) -> None:
    container.run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                  "net.ipv6.conf.default.disable_ipv6=1")
    subnets = [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
               {"subnet": "fd00:88::/64", "gateway": "fd00:88::1"}]
    config = conf(static_ips=["10.88.0.2", "fd00:88::2"], subnets=subnets)
    assert _fails_cleanly(netavark, host, container, config) == (
        "add ip addr to macvlan: failed to add ipv6 address, is ipv6 enabled in the kernel?: "
        "Netlink error: Permission denied (os error 13)")


def test_dhcp_failure_rolls_back(lan: Netns, host: Netns, container: Netns,
                                 netavark) -> None:
    msg = _fails_cleanly(netavark, host, container, conf(ipam="dhcp", subnets=[]))
    assert msg.startswith("unable to obtain lease: "), msg


# ---------------------------------------------------------------------------
# teardown


def test_teardown_without_netns(lan: Netns, host: Netns, container: Netns,
                                netavark) -> None:
    run_setup(netavark, container, conf())
    res = netavark("teardown", f"{container.path}-gone", input=conf(),
                   env={**ENV, "RUST_LOG": "warn"})
    assert (res.returncode, res.stdout) == (0, ""), res.stderr
    assert "container netns not found" in res.stderr


def test_teardown_is_fail_fast(lan: Netns, container: Netns, netavark) -> None:
    routes = [{"destination": "10.89.0.0/24", "gateway": "10.88.0.5"}]
    run_setup(netavark, container, conf(routes=routes))
    container.run("ip", "route", "del", "10.89.0.0/24")
    res = run_teardown(netavark, container, conf(routes=routes))
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": "Netlink error: No such process (os error 3)"}
    # stopped at the first error: the interface is still there
    assert link(container)["linkinfo"]["info_kind"] == "macvlan"
    res = run_teardown(netavark, container, conf())
    assert (res.returncode, res.stdout) == (0, "")
    res = run_teardown(netavark, container, conf())
    assert json.loads(res.stdout) == {"error": "Netlink error: No such device (os error 19)"}


# ---------------------------------------------------------------------------
# ipvlan


def test_ipvlan_without_kernel_support_fails_cleanly(lan: Netns, host: Netns, container: Netns,
                                                     netavark, ipvlan_supported: bool
                                                     ) -> None:
    if ipvlan_supported:
        pytest.skip("kernel has ipvlan links: the failure path cannot be reached")
    msg = _fails_cleanly(netavark, host, container, conf(driver="ipvlan"))
    assert msg == "create ipvlan interface: Netlink error: Operation not supported (os error 95)"


def test_ipvlan_setup_and_teardown(needs_ipvlan: None, lan: Netns, host: Netns,
                                   container: Netns, netavark) -> None:
    host_before = snapshot(host)
    config = conf(driver="ipvlan", static_mac="aa:bb:cc:dd:ee:ff")
    out = run_setup(netavark, container, config)
    info = link(container)
    assert info["linkinfo"]["info_kind"] == "ipvlan"
    assert info["linkinfo"]["info_data"]["mode"] == "l2"
    # ipvlan shares the parent's MAC; static_mac is ignored
    assert info["address"] == link(host, "lan0")["address"]
    assert out["podman"]["interfaces"]["eth0"]["mac_address"] == info["address"]
    assert addresses(container) == ["10.88.0.2/16"]
    (default,) = default_routes(container)
    assert (default["gateway"], default["metric"]) == ("10.88.0.1", 99)
    container.run("ping", "-c", "1", "-W", "5", "10.88.0.1")
    assert snapshot(host) == host_before
    assert run_teardown(netavark, container, config).returncode == 0
    assert [x["ifname"] for x in container.ip("link", "show")] == ["lo"]


@pytest.mark.parametrize("mode", ["l2", "l3", "l3s"])
def test_ipvlan_modes(needs_ipvlan: None, lan: Netns, container: Netns, netavark,
                      mode: str) -> None:
    config = conf(driver="ipvlan", options={"mode": mode, "mtu": "1400"})
    run_setup(netavark, container, config)
    info = link(container)
    assert (info["linkinfo"]["info_data"]["mode"], info["mtu"]) == (mode, 1400)


def test_ipvlan_name_taken_in_container(needs_ipvlan: None, lan: Netns, host: Netns,
                                        container: Netns, netavark) -> None:
    container.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
    msg = _fails_cleanly(netavark, host, container, conf(driver="ipvlan"))
    assert msg == "rename tmp ipvlan interface: Netlink error: File exists (os error 17)"
