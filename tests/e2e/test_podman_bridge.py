"""Bridge networks driven by a real Podman: published ports (tcp, udp, ranges) from
localhost, the gateway and another machine; hairpin; dual stack; internal networks;
a container on two networks; network connect/disconnect; stop/start; network reload.
Every test ends with the host as it was before (``Sandbox.assert_clean``)."""

from __future__ import annotations

from tests.e2e.helpers import (
    create_network,
    ctr_links,
    ctr_routes,
    nv_chains,
    require_port_forwarding,
)
from tests.e2e.sandbox import CLIENT_V4, CLIENT_V6, HOST_V4, HOST_V6


def test_published_ports_ipv4_default_network(sandbox):
    """``podman run -p`` on Podman's default network (10.88.0.0/16, no DNS)."""
    require_port_forwarding()
    sb = sandbox
    sb.serve("a", "-p", "127.0.0.1:18080:80", "-p", "18082:80",
             "-p", "18100-18101:8000-8001", "-p", "18081:8081/udp",
             http=(80, 8000, 8001), udp=(8081,))
    sb.serve("b")
    a_ip = sb.ip_of("a", "podman")
    assert a_ip.startswith("10.88.")
    assert f"{a_ip}/16" in ctr_links(sb, "a")["eth0"]["addrs"]
    assert "default via 10.88.0.1 dev eth0 " in "\n".join(ctr_routes(sb, "a")) + " "
    assert "10.88.0.1/16" in [a["local"] + "/" + str(a["prefixlen"])
                              for a in sb.host.ip("addr", "show", "podman0")[0]["addr_info"]]

    # from the host itself: loopback, its own address, the gateway
    assert sb.http("host", "127.0.0.1", 18080) == "a:80"
    assert sb.http("host", "127.0.0.1", 18082) == "a:80"
    assert sb.http("host", HOST_V4, 18082) == "a:80"
    assert sb.http("host", "10.88.0.1", 18082) == "a:80"
    assert sb.http("host", "127.0.0.1", 18100) == "a:8000"
    assert sb.http("host", HOST_V4, 18101) == "a:8001"
    assert sb.udp("host", "127.0.0.1", 18081, "lo") == "a:8081:lo"
    assert sb.udp("host", HOST_V4, 18081, "ext") == "a:8081:ext"

    # from another machine
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    assert sb.http("client", HOST_V4, 18100) == "a:8000"
    assert sb.http("client", HOST_V4, 18101) == "a:8001"
    assert sb.udp("client", HOST_V4, 18081, "far") == "a:8081:far"
    sb.http_fails("client", HOST_V4, 18080)  # published on 127.0.0.1 only

    # hairpin: a neighbour on the same bridge through the host's published port (a
    # container reaching *itself* that way does not work with upstream netavark
    # either: bridge ports are not in hairpin mode)
    assert sb.http("b", HOST_V4, 18082) == "a:80"
    assert sb.http("b", "10.88.0.1", 18100) == "a:8000"
    assert sb.udp("b", HOST_V4, 18081, "hp") == "a:8081:hp"
    # containers reach other machines, masqueraded behind the host's address
    sb.start_whoami("client", 9000)
    assert sb.tcp("a", CLIENT_V4, 9000) == HOST_V4

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    sb.http_fails("host", "127.0.0.1", 18082)
    sb.http_fails("client", HOST_V4, 18082)
    sb.assert_clean()


def test_dual_stack_network(sandbox):
    """A network with an IPv4 and an IPv6 subnet: both families in the container,
    ports published on both, masquerade of both towards another machine."""
    require_port_forwarding()
    sb = sandbox
    net = create_network(sb, "ds", "--disable-dns", "--subnet", "10.89.20.0/24",
                         "--subnet", "fd00:20::/64")
    assert net["ipv6_enabled"] is True
    bridge = net["network_interface"]
    sb.serve("a", "--network", "ds", "-p", "18082:80", "-p", "18081:8081/udp", udp=(8081,))
    sb.serve("b", "--network", "ds")
    a4, a6 = sb.ip_of("a", "ds"), sb.ip6_of("a", "ds")
    assert a4.startswith("10.89.20.") and a6.startswith("fd00:20::")
    addrs = ctr_links(sb, "a")["eth0"]["addrs"]
    assert f"{a4}/24" in addrs and f"{a6}/64" in addrs
    assert any(r.startswith("default via fd00:20::1 dev eth0") for r in ctr_routes(sb, "a", "-6"))
    host_addrs = {a["local"] for a in sb.host.ip("addr", "show", bridge)[0]["addr_info"]}
    assert {"10.89.20.1", "fd00:20::1"} <= host_addrs

    # container to container, both families
    assert sb.http("b", a4, 80) == "a:80"
    assert sb.http("b", a6, 80) == "a:80"
    # published ports over IPv6 and IPv4, from the host and from another machine
    assert sb.http("host", HOST_V6, 18082) == "a:80"
    assert sb.http("host", "fd00:20::1", 18082) == "a:80"
    assert sb.http("client", HOST_V6, 18082) == "a:80"
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    assert sb.udp("client", HOST_V6, 18081, "six") == "a:8081:six"
    assert sb.udp("client", HOST_V4, 18081, "four") == "a:8081:four"
    assert sb.http("b", HOST_V6, 18082) == "a:80"  # hairpin over IPv6
    # outbound: masqueraded behind the host's address in each family
    sb.start_whoami("client", 9000)
    assert sb.tcp("b", CLIENT_V4, 9000) == HOST_V4
    assert sb.tcp("b", CLIENT_V6, 9000) == HOST_V6

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    sb.http_fails("client", HOST_V6, 18082)
    sb.podman("network", "rm", "ds")
    sb.assert_clean()


def test_internal_network(sandbox):
    """``--internal``: containers reach each other but nothing else; no gateway,
    no default route, no NAT rules."""
    sb = sandbox
    net = create_network(sb, "int", "--internal", "--disable-dns", "--subnet", "10.89.30.0/24")
    assert net["internal"] is True
    bridge = net["network_interface"]
    sb.serve("a", "--network", "int")
    sb.serve("b", "--network", "int")
    a_ip = sb.ip_of("a", "int")
    assert sb.http("b", a_ip, 80) == "a:80"
    assert not [r for r in ctr_routes(sb, "a") if r.startswith("default")]
    sb.start_whoami("client", 9000)
    res = sb._probe_cmd("a", ["tcp", CLIENT_V4, "9000", "1"])
    assert res.returncode != 0 and "unreachable" in res.stderr, res
    sb.http_fails("host", a_ip, 80)  # no route to the subnet: the bridge has no address
    assert bridge in sb.links()
    assert not [a for a in sb.host.ip("addr", "show", bridge)[0]["addr_info"]
                if a["family"] == "inet"]
    assert not [c for c in nv_chains(sb) if "10_89_30_0" in c]

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    assert bridge not in sb.links()
    sb.podman("network", "rm", "int")
    sb.assert_clean()


def test_container_on_two_networks(sandbox):
    """``--network n1 --network n2``: eth0 and eth1, each reachable from its own
    network; the networks stay isolated from each other (netavark 2.1: unset
    ``isolate`` means strict)."""
    sb = sandbox
    n1 = create_network(sb, "n1", "--disable-dns", "--subnet", "10.89.40.0/24")
    n2 = create_network(sb, "n2", "--disable-dns", "--subnet", "10.89.41.0/24")
    sb.serve("a", "--network", "n1", "--network", "n2")
    sb.serve("b", "--network", "n1")
    sb.serve("c", "--network", "n2")
    a1, a2 = sb.ip_of("a", "n1"), sb.ip_of("a", "n2")
    links = ctr_links(sb, "a")
    # which network becomes eth0 is Podman's choice (it varies between runs)
    v4 = sorted(a for name in ("eth0", "eth1") for a in links[name]["addrs"] if "." in a)
    assert v4 == sorted([f"{a1}/24", f"{a2}/24"])
    assert len([a for a in links["eth0"]["addrs"] if "." in a]) == 1
    defaults = [r for r in ctr_routes(sb, "a") if r.startswith("default")]
    assert len(defaults) == 2, defaults
    assert sb.http("b", a1, 80) == "a:80"
    assert sb.http("c", a2, 80) == "a:80"
    if sb.firewall_driver != "none":  # isolation is a firewall rule
        sb.http_fails("b", sb.ip_of("c", "n2"), 80)

    sb.podman("rm", "-f", "-t", "0", "a")
    links = sb.links()
    assert n1["network_interface"] in links and n2["network_interface"] in links
    sb.podman("rm", "-f", "-t", "0", "b", "c")
    sb.podman("network", "rm", "n1", "n2")
    sb.assert_clean()


def test_network_connect_disconnect(sandbox):
    """``podman network connect/disconnect`` add and remove eth1 of a running container."""
    sb = sandbox
    create_network(sb, "n1", "--disable-dns", "--subnet", "10.89.42.0/24")
    n2 = create_network(sb, "n2", "--disable-dns", "--subnet", "10.89.43.0/24")
    sb.serve("a", "--network", "n1")
    assert set(ctr_links(sb, "a")) == {"lo", "eth0"}
    assert n2["network_interface"] not in sb.links()

    sb.podman("network", "connect", "n2", "a")
    a2 = sb.ip_of("a", "n2")
    assert f"{a2}/24" in ctr_links(sb, "a")["eth1"]["addrs"]
    sb.serve("b", "--network", "n2")
    assert sb.http("b", a2, 80) == "a:80"

    sb.podman("network", "disconnect", "n2", "a")
    assert set(ctr_links(sb, "a")) == {"lo", "eth0"}
    sb.http_fails("b", a2, 80)
    assert n2["network_interface"] in sb.links()  # b still uses it
    sb.podman("rm", "-f", "-t", "0", "b")
    assert n2["network_interface"] not in sb.links()

    sb.podman("network", "connect", "n2", "a")
    assert "eth1" in ctr_links(sb, "a")
    sb.podman("rm", "-f", "-t", "0", "a")
    sb.podman("network", "rm", "n1", "n2")
    sb.assert_clean()


def test_stop_start(sandbox):
    """``podman stop`` tears the network down (last container: bridge and rules
    go); ``podman start`` sets it up again (Podman 4.3 releases the address on stop
    and allocates a new one on start)."""
    require_port_forwarding()
    sb = sandbox
    sb.serve("a", "-p", "18082:80")
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    chains = nv_chains(sb)

    sb.podman("stop", "-t", "0", "a")
    sb.http_fails("client", HOST_V4, 18082)
    sb.assert_clean()

    sb.podman("start", "a")
    assert f"{sb.ip_of('a', 'podman')}/16" in ctr_links(sb, "a")["eth0"]["addrs"]
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    assert nv_chains(sb) == chains

    sb.podman("rm", "-f", "-t", "0", "a")
    sb.assert_clean()


def test_network_reload(sandbox):
    """After the firewall rules are lost, ``podman network reload`` puts them back
    (Podman 4.3: teardown + setup with the container's MAC as ``static_mac``)."""
    require_port_forwarding()
    sb = sandbox
    sb.serve("a", "-p", "18082:80")
    sb.serve("b", "-p", "18083:80")
    mac = ctr_links(sb, "a")["eth0"]["mac"]
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    before = sb.nft_table()

    sb.host.run("nft", "delete", "table", "inet", "netavark")
    sb.http_fails("client", HOST_V4, 18082)

    sb.podman("network", "reload", "a")
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    assert ctr_links(sb, "a")["eth0"]["mac"] == mac
    sb.podman("network", "reload", "--all")
    assert sb.http("client", HOST_V4, 18083) == "b:80"
    assert sb.http("client", HOST_V4, 18082) == "a:80"
    after = sb.nft_table()
    assert before is not None and after is not None
    assert set(after["chains"]) == set(before["chains"])
    assert sum(map(len, after["chains"].values())) == sum(map(len, before["chains"].values()))

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    sb.assert_clean()
