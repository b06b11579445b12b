"""Bridge driver against the real kernel, checked with ``ip -j`` as the oracle.

Each test gets a private "host" namespace (where netavark runs) and a
"container" namespace; both are removed afterwards.  The firewall driver is
``none`` here: firewall behaviour has its own tests.
"""

from __future__ import annotations

import copy
import json
import os

import pytest

from tests.conftest import ROOT

TESTFILES = os.path.join(ROOT, "tests", "data", "upstream", "test", "testfiles")
FW_NONE = {"NETAVARK_FW": "none"}


def load(name: str) -> dict:
    with open(os.path.join(TESTFILES, name)) as f:
        return json.load(f)


def nv_setup(netavark, container, doc: dict, **kw) -> dict:
    return netavark.json("setup", container.path, input=doc, env={**FW_NONE, **kw})


def nv_teardown(netavark, container, doc: dict, **kw):
    return netavark("teardown", container.path, input=doc, env={**FW_NONE, **kw})


def addrs(ns, ifname: str) -> list[str]:
    return sorted(f"{a['local']}/{a['prefixlen']}" for link in ns.ip("addr", "show", ifname)
                  for a in link["addr_info"] if a.get("scope") != "link")


def simple_doc() -> dict:
    return load("simplebridge.json")


def test_simple_bridge_setup_and_teardown(netavark, host, container):
    out = nv_setup(netavark, container, simple_doc())
    iface = out["podman"]["interfaces"]["eth0"]
    assert out["podman"]["dns_search_domains"] == [] and out["podman"]["dns_server_ips"] == []
    assert iface["subnets"] == [{"gateway": "10.88.0.1", "ipnet": "10.88.0.2/16"}]

    clinks = container.links()
    eth0 = clinks["eth0"]
    assert eth0["linkinfo"]["info_kind"] == "veth"
    assert "UP" in eth0["flags"] and eth0["address"] == iface["mac_address"]
    assert "UP" in clinks["lo"]["flags"]
    assert addrs(container, "eth0") == ["10.88.0.2/16"]
    routes = container.ip("route", "show", "default")
    assert routes == [{"dst": "default", "gateway": "10.88.0.1", "dev": "eth0",
                       "protocol": "static", "metric": 100, "flags": []}]

    hlinks = host.links()
    br = hlinks["podman0"]
    assert br["linkinfo"]["info_kind"] == "bridge" and "UP" in br["flags"]
    assert addrs(host, "podman0") == ["10.88.0.1/16"]
    veth = hlinks["veth0"]
    assert veth["master"] == "podman0" and "UP" in veth["flags"]
    assert veth["address"] != br["address"]
    # the MAC is pinned (set explicitly), so it no longer follows the ports
    assert host.run("cat", "/sys/class/net/podman0/addr_assign_type").stdout.strip() == "3"
    assert host.sysctl("net/ipv4/ip_forward") == "1"
    assert host.sysctl("net/ipv4/conf/podman0/rp_filter") == "2"
    assert host.sysctl("net/ipv4/conf/podman0/route_localnet") == "1"
    assert container.sysctl("net/ipv4/conf/eth0/rp_filter") == "2"
    assert container.sysctl("net/ipv4/conf/eth0/arp_notify") == "1"
    assert container.sysctl("net/ipv6/conf/eth0/autoconf") == "0"
    host.run("ping", "-c1", "-W2", "10.88.0.2")

    res = nv_teardown(netavark, container, simple_doc())
    assert res.returncode == 0 and res.stdout == "", res
    assert set(host.links()) == {"lo"}
    assert set(container.links()) == {"lo"}


def test_bridge_mac_stays_pinned_when_ports_change(netavark, host, container, netns_factory):
    nv_setup(netavark, container, simple_doc())
    mac = host.links()["podman0"]["address"]
    second = netns_factory("nvc")
    doc = simple_doc()
    doc["container_id"] = "second"
    doc["networks"]["podman"]["static_ips"] = ["10.88.0.3"]
    nv_setup(netavark, second, doc)
    nv_teardown(netavark, container, simple_doc())
    assert host.links()["podman0"]["address"] == mac
    assert set(host.links()) == {"lo", "podman0", "veth1"}
    nv_teardown(netavark, second, doc)
    assert set(host.links()) == {"lo"}


def test_dual_stack(netavark, host, container):
    doc = load("dualstack-bridge.json")
    doc["network_info"]["podman1"]["dns_enabled"] = False
    out = nv_setup(netavark, container, doc)
    net = out["podman1"]
    assert [s["ipnet"] for s in net["interfaces"]["eth0"]["subnets"]] == \
        ["10.89.3.2/24", "fd10:88:a::2/64"]
    assert addrs(container, "eth0") == ["10.89.3.2/24", "fd10:88:a::2/64"]
    assert addrs(host, "podman1") == ["10.89.3.1/24", "fd10:88:a::1/64"]
    v6 = container.ip("-6", "route", "show", "default")
    assert v6[0]["gateway"] == "fd10:88:a::1" and v6[0]["metric"] == 100
    assert container.sysctl("net/ipv6/conf/eth0/accept_dad") == "0"
    assert host.sysctl("net/ipv6/conf/all/forwarding") == "1"
    assert host.sysctl("net/ipv6/conf/podman1/accept_ra") == "0"
    assert host.sysctl("net/ipv6/conf/veth0/accept_dad") == "0"
    host.run("ping", "-c1", "-W2", "fd10:88:a::2")
    nv_teardown(netavark, container, doc)
    assert set(host.links()) == {"lo"}


@pytest.mark.parametrize("reverse", [False, True])
def test_two_networks_keep_input_order(netavark, host, container, reverse):
    doc = load("two-networks.json")
    if reverse:
        doc["networks"] = list(reversed(doc["networks"]))
    out = nv_setup(netavark, container, doc)
    assert set(out) == {n["name"] for n in doc["network_info"].values()}
    links = container.links()
    order = [n for n, _ in sorted(((k, v["ifindex"]) for k, v in links.items()
                                   if k != "lo"), key=lambda x: x[1])]
    expected = [opts["interface_name"] for opts in doc["networks"]]
    assert order == expected
    nv_teardown(netavark, container, doc)
    assert set(host.links()) == {"lo"}


def test_static_and_blackhole_routes_and_metric(netavark, host, container):
    # the third route's gateway is reached through a second container interface
    container.run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
    container.run("ip", "addr", "add", "10.91.0.10/24", "dev", "d0")
    container.run("ip", "link", "set", "d0", "up")
    doc = load("bridge-staticroutes.json")
    nv_setup(netavark, container, doc)
    routes = {r["dst"]: r for r in container.ip("route", "show")}
    for r in doc["network_info"][next(iter(doc["network_info"]))]["routes"]:
        dst = r["destination"]
        assert dst in routes and routes[dst]["gateway"] == r["gateway"]
    nv_teardown(netavark, container, doc)
    left = {r["dst"] for r in container.ip("route", "show")}
    assert not left & {"10.89.0.0/24", "10.90.0.0/24", "10.92.0.0/24"}

    doc = load("bridge-blackholeroutes.json")
    nv_setup(netavark, container, doc)
    types = {r["dst"]: r.get("type") for r in container.ip("route", "show")}
    assert "blackhole" in types.values()
    nv_teardown(netavark, container, doc)

    doc = load("metric.json")
    nv_setup(netavark, container, doc)
    assert container.ip("route", "show", "default")[0]["metric"] == 200
    nv_teardown(netavark, container, doc)
    assert set(host.links()) == {"lo"}


def test_no_default_route_and_internal(netavark, host, container):
    for name in ("bridge-nodefaultroute.json", "internal.json"):
        doc = load(name)
        nv_setup(netavark, container, doc)
        assert container.ip("route", "show", "default") == []
        assert container.ip("-6", "route", "show", "default") == []
        nv_teardown(netavark, container, doc)
    assert set(host.links()) == {"lo"}


def test_internal_network_blocks_forwarding_on_its_bridge(netavark, host, container):
    doc = load("internal.json")
    nv_setup(netavark, container, doc)
    br = load("internal.json")["network_info"]
    bridge = next(iter(br.values()))["network_interface"]
    assert host.sysctl(f"net/ipv4/conf/{bridge}/forwarding") == "0"
    host.run("ping", "-c1", "-W2", "10.88.0.2")
    nv_teardown(netavark, container, doc)


def test_host_interface_name(netavark, host, container):
    doc = load("bridge-vethname.json")
    nv_setup(netavark, container, doc)
    link = host.links()["my-veth"]
    assert link["master"] == "podman0" and "UP" in link["flags"]
    assert link["linkinfo"]["info_kind"] == "veth"
    nv_teardown(netavark, container, doc)
    assert "my-veth" not in host.links()


def test_host_interface_name_clash_is_reported_and_rolled_back(netavark, host, container):
    res = netavark("setup", container.path, input=load("bridge-vethname-exists.json"),
                   env=FW_NONE)
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": (
        "create veth pair: interface eth0 already exists on container namespace or podman0 "
        "exists on host namespace: Netlink error: File exists (os error 17)")}
    # nothing left behind: the bridge this call created is gone too
    assert set(host.links()) == {"lo"}
    assert set(container.links()) == {"lo"}


def test_existing_container_interface_is_reported_and_untouched(netavark, host, container):
    container.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "other0")
    res = netavark("setup", container.path, input=simple_doc(), env=FW_NONE)
    assert json.loads(res.stdout)["error"] == (
        "create veth pair: interface eth0 already exists on container namespace: "
        "Netlink error: File exists (os error 17)")
    assert set(container.links()) == {"lo", "eth0", "other0"}
    assert set(host.links()) == {"lo"}


def test_failure_in_second_network_rolls_back_everything(netavark, host, container):
    doc = load("two-networks.json")
    second = doc["networks"][1]["name"]
    # a gateway that is not on-link makes the route add fail after the veth exists
    doc["network_info"][second]["routes"] = [{"destination": "10.99.0.0/24",
                                              "gateway": "192.0.2.1"}]
    res = netavark("setup", container.path, input=doc, env=FW_NONE)
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": "Netlink error: Network is unreachable (os error "
                                               "101)"}
    assert set(host.links()) == {"lo"}
    assert set(container.links()) == {"lo"}


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["network_info"]["podman"].update(driver="nope"),
     'unknown network driver "nope"'),
    (lambda d: d["network_info"]["podman"].update(options={"mode": "weird"}),
     'invalid bridge mode "weird"'),
    (lambda d: d["network_info"]["podman"].update(options={"isolate": "maybe"}),
     'invalid isolate option "maybe"'),
    (lambda d: d["network_info"]["podman"].update(options={"mtu": "abc"}),
     'unable to parse "mtu": invalid digit found in string'),
    (lambda d: d["network_info"]["podman"].update(options={"vlan": "5000"}),
     "vlan must be between 0 and 4094"),
    (lambda d: d["network_info"]["podman"].update(network_interface=""),
     "no bridge interface name given"),
    (lambda d: d["networks"]["podman"].update(interface_name=""),
     "no container interface name given"),
    (lambda d: d["networks"]["podman"].update(static_ips=["10.99.0.2"]),
     "not all static IPs matched a subnet: expected 1, got 0"),
    (lambda d: d["networks"]["podman"].pop("static_ips"), "no static ips provided"),
    (lambda d: d["networks"]["podman"].update(static_mac="zz:zz:zz:zz:zz:zz"),
     "unable to parse mac address zz:zz:zz:zz:zz:zz: invalid digit found in string"),
    (lambda d: d["network_info"]["podman"].update(ipam_options={"driver": "someDriver"}),
     "unsupported ipam driver someDriver"),
    (lambda d: d["network_info"]["podman"].update(ipam_options={"driver": "dhcp"}),
     "cannot use dhcp ipam driver without using the option mode=unmanaged"),
    (lambda d: d["network_info"]["podman"]["subnets"].append(
        {"subnet": "10.88.1.0/24", "gateway": "10.88.1.1"}),
     "overlapping subnets: 10.88.0.0/16 and 10.88.1.0/24"),
    (lambda d: d["network_info"]["podman"].update(
        routes=[{"destination": "10.1.0.0/24", "route_type": "fancy"}]),
     'invalid route type "fancy"'),
    (lambda d: d["network_info"]["podman"].update(options={"outbound_addr4": "fd00::1"}),
     'unable to parse "outbound_addr4": invalid IPv4 address syntax'),
    (lambda d: d.update(networks={"missing": {"interface_name": "eth0"}}),
     "network info for network missing not found"),
])
def test_bad_input_changes_nothing(netavark, host, container, mutate, message):
    doc = copy.deepcopy(simple_doc())
    mutate(doc)
    before_host, before_ctr = set(host.links()), set(container.links())
    res = netavark("setup", container.path, input=doc, env=FW_NONE)
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": message}
    assert set(host.links()) == before_host
    assert set(container.links()) == before_ctr


def test_invalid_json_changes_nothing(netavark, host, container):
    res = netavark("setup", container.path, input='{"container_id": ', env=FW_NONE)
    assert res.returncode == 1
    assert json.loads(res.stdout)["error"].startswith(
        "failed to load network options: IO error: EOF while parsing")
    assert set(host.links()) == {"lo"}


def test_unmanaged_mode(netavark, host, container):
    doc = load("bridge-unmanaged.json")
    res = netavark("setup", container.path, input=doc, env=FW_NONE)
    assert json.loads(res.stdout)["error"] == (
        "in unmanaged mode, the bridge must already exist on the host: Netlink error: "
        "No such device (os error 19)")
    bridge = next(iter(doc["network_info"].values()))["network_interface"]
    host.run("ip", "link", "add", bridge, "type", "bridge")
    host.run("ip", "link", "set", bridge, "up")
    nv_setup(netavark, container, doc)
    assert addrs(host, bridge) == []  # no gateway address in unmanaged mode
    nv_teardown(netavark, container, doc)
    assert bridge in host.links()  # never deleted


def test_existing_non_bridge_interface(netavark, host, container):
    host.run("ip", "link", "add", "podman0", "type", "veth", "peer", "name", "p1")
    res = netavark("setup", container.path, input=simple_doc(), env=FW_NONE)
    assert json.loads(res.stdout)["error"] == \
        "bridge interface podman0 already exists but is a Veth interface"


def test_mtu_option_and_default_route_mtu(netavark, host, container):
    doc = load("bridge-mtu.json")
    mtu = int(next(iter(doc["network_info"].values()))["options"]["mtu"])
    nv_setup(netavark, container, doc)
    assert container.links()["eth0"]["mtu"] == mtu
    assert host.links()["veth0"]["mtu"] == mtu
    nv_teardown(netavark, container, doc)

    host.run("ip", "link", "add", "up0", "mtu", "9000", "type", "veth", "peer", "name", "up1")
    host.run("ip", "addr", "add", "192.168.0.0/24", "dev", "up0")
    host.run("ip", "link", "set", "up0", "up")
    host.run("ip", "route", "add", "default", "via", "192.168.0.1", "dev", "up0", "onlink")
    nv_setup(netavark, container, load("bridge-managed.json"))
    links = host.links()
    assert links["podman0"]["mtu"] == links["veth0"]["mtu"] == 9000
    assert container.links()["eth0"]["mtu"] == 9000


def test_static_mac_and_ipam_none(netavark, host, container):
    doc = simple_doc()
    doc["networks"]["podman"]["static_mac"] = "aa:bb:cc:dd:ee:01"
    out = nv_setup(netavark, container, doc)
    assert out["podman"]["interfaces"]["eth0"]["mac_address"] == "aa:bb:cc:dd:ee:01"
    assert container.links()["eth0"]["address"] == "aa:bb:cc:dd:ee:01"
    nv_teardown(netavark, container, doc)

    doc = simple_doc()
    doc["network_info"]["podman"]["ipam_options"] = {"driver": "none"}
    doc["networks"]["podman"].pop("static_ips")
    out = nv_setup(netavark, container, doc)
    assert out["podman"]["interfaces"]["eth0"]["subnets"] == []
    assert addrs(container, "eth0") == [] and container.ip("route", "show") == []
    assert "UP" in container.links()["eth0"]["flags"]
    nv_teardown(netavark, container, doc)


def test_teardown_without_netns_still_cleans_host(netavark, host, container):
    nv_setup(netavark, container, simple_doc())
    res = netavark("teardown", "/proc/does-not-exist/ns/net", input=simple_doc(),
                   env={**FW_NONE, "RUST_LOG": "netavark=warn"})
    assert res.returncode == 0, res
    assert ("[WARN  netavark::commands::teardown] container netns not found: open container "
            "netns: open /proc/does-not-exist/ns/net: IO error: No such file or directory "
            "(os error 2)") in res.stderr
    # the veth lives on while the container namespace does, so the bridge stays
    assert "podman0" in host.links()


def test_teardown_reports_every_error(netavark, host, container):
    doc = load("two-networks.json")
    nv_setup(netavark, container, doc)
    for ifname in ("eth0", "eth1"):
        container.run("ip", "link", "del", ifname)
    res = netavark("teardown", container.path, input=doc, env=FW_NONE)
    assert res.returncode == 1
    err = json.loads(res.stdout)["error"]
    assert err.startswith("netavark encountered multiple errors:\n\t- ")
    assert "failed to delete container veth eth0: Netlink error: No such device (os error 19)" \
        in err
    assert "failed to delete container veth eth1: Netlink error: No such device (os error 19)" \
        in err
    # host side still cleaned up: both bridges are gone
    assert set(host.links()) == {"lo"}


def test_ipv6_disabled_on_host(netavark, host, container):
    host.run("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
    host.run("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1")
    res = netavark("setup", container.path, input=load("ipv6-bridge.json"), env=FW_NONE)
    assert res.stdout == ('{"error":"add ip addr to bridge: failed to add ipv6 address, is ipv6 '
                          'enabled in the kernel?: Netlink error: Permission denied (os error '
                          '13)"}\n')
    assert set(host.links()) == {"lo"}


def test_teardown_ignores_sigterm(netavark, host, container):
    # SIGTERM right at start-up must not stop the cleanup
    nv_setup(netavark, container, simple_doc())
    res = netavark("teardown", container.path, input=simple_doc(), env=FW_NONE)
    assert res.returncode == 0
    assert set(host.links()) == {"lo"}


PODMAN = os.path.join(ROOT, "tests", "data", "podman-4.3.1")


@pytest.mark.parametrize("name", ["01-setup-bridge-dns-4-portmappings.json",
                                  "10-setup-dual-stack.json", "12-setup-two-networks.json",
                                  "07-setup-internal-no-dns.json"])
def test_what_podman_sends_gives_what_podman_got(netavark, host, container, name):
    with open(os.path.join(PODMAN, name)) as f:
        case = json.load(f)
    out = nv_setup(netavark, container, case["stdin"])
    want = case["stdout_netavark_1_4_0"]
    assert set(out) == set(want)
    for net, block in want.items():
        got = out[net]
        assert got["dns_search_domains"] == block["dns_search_domains"]
        assert got["dns_server_ips"] == block["dns_server_ips"]
        for ifname, iface in block["interfaces"].items():
            assert got["interfaces"][ifname]["subnets"] == iface["subnets"]
    nv_teardown(netavark, container, case["stdin"])
    assert set(host.links()) == {"lo"}
