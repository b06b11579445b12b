"""macvlan networks driven by a real Podman, the parent being a veth of the test
host whose peer is a "LAN" machine."""

from __future__ import annotations

from tests.e2e.helpers import create_network, ctr_links, ctr_routes
from tests.e2e.sandbox import run


def test_macvlan_network(sandbox):
    sb = sandbox
    lan = sb.add_netns("lan")
    run(["ip", "link", "add", "lan0", "netns", sb.host.name, "type", "veth",
         "peer", "name", "eth0", "netns", lan.name])
    sb.host.run("ip", "link", "set", "lan0", "up")
    lan.run("ip", "addr", "add", "192.168.77.200/24", "dev", "eth0")
    lan.run("ip", "link", "set", "eth0", "up")

    # Podman 4.3 keeps its default dns_enabled for macvlan; netavark gives such
    # containers no DNS server
    net = create_network(sb, "mv", "-d", "macvlan", "-o", "parent=lan0",
                         "--subnet", "192.168.77.0/24", "--gateway", "192.168.77.1")
    assert net["driver"] == "macvlan" and net["network_interface"] == "lan0"
    assert net["dns_enabled"] is True
    sb.serve("a", "--network", "mv")
    sb.serve("b", "--network", "mv")
    ip = sb.ip_of("a", "mv")
    assert ip.startswith("192.168.77.")
    links = ctr_links(sb, "a")
    assert f"{ip}/24" in links["eth0"]["addrs"]
    assert "default via 192.168.77.1 dev eth0" in "\n".join(ctr_routes(sb, "a"))
    assert "192.168.77." not in sb.exec("a", "cat", "/etc/resolv.conf").stdout
    assert sb.aardvark_running() == []
    # the macvlan links live in the containers; the host only has the parent
    assert set(sb.links()) == {"lo", "ext0", "lan0"}

    assert sb.http(lan.name, ip, 80) == "a:80"
    assert sb.http("b", ip, 80) == "a:80"
    macs = {m["mac"] for m in (links["eth0"], ctr_links(sb, "b")["eth0"])}
    neigh = {n.get("lladdr") for n in lan.ip("neigh", "show", "dev", "eth0")}
    assert links["eth0"]["mac"] in neigh and len(macs) == 2

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    sb.http_fails(lan.name, ip, 80)
    assert set(sb.links()) == {"lo", "ext0", "lan0"}
    sb.podman("network", "rm", "mv")
    sb.assert_clean(extra_links=("lan0",))
