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
from tests.e2e.sandbox import CLIENT_V4, HOST_V4, HOST_V6


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

    # hairpin: the container through its own published port, and a neighbour
    assert sb.http("a", HOST_V4, 18082) == "a:80"
    assert sb.http("a", "10.88.0.1", 18100) == "a:8000"
    assert sb.http("b", HOST_V4, 18082) == "a:80"
    assert sb.udp("b", HOST_V4, 18081, "hp") == "a:8081:hp"
    # containers reach other machines, masqueraded behind the host's address
    sb.start_whoami("client", 9000)
    assert sb.tcp("a", CLIENT_V4, 9000) == HOST_V4

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    sb.http_fails("host", "127.0.0.1", 18082)
    sb.http_fails("client", HOST_V4, 18082)
    sb.assert_clean()
