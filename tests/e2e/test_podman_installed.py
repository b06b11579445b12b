"""Podman with an installed netavark-py (the zip application, and what
``make install`` installs) instead of the checkout's launcher, with aardvark-dns
and with the built-in DNS server the installed copy starts when Podman has no
aardvark-dns."""

from __future__ import annotations

from tests.e2e.helpers import create_network, require_port_forwarding
from tests.e2e.sandbox import HOST_V4


def test_installed_netavark_ports_and_dns(installed_sandbox):
    require_port_forwarding()
    sb = installed_sandbox
    create_network(sb, "inst", "--subnet", "10.89.95.0/24")
    sb.serve("web", "--network", "inst", "-p", "18080:80")
    sb.serve("peer", "--network", "inst")
    assert sb.http("host", "127.0.0.1", 18080) == "web:80"
    assert sb.http("client", HOST_V4, 18080) == "web:80"
    assert sb.nslookup("peer", "web") == [sb.ip_of("web", "inst")]
    assert sb.http("peer", "web.dns.podman", 80) == "web:80"
    (argv,) = sb.dns_servers().values()
    if sb.aardvark:
        assert argv[0] == f"{sb.helpers}/aardvark-dns"
    else:  # the built-in server, started by the installed netavark-py
        assert "netavark" in " ".join(argv[:6]) and "aardvark-dns" not in argv[0].split("/")[:-1]
    sb.podman("rm", "-f", "-t", "0", "web", "peer")
    sb.podman("network", "rm", "inst")
    sb.assert_clean()
