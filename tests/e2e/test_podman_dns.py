"""Container DNS through a real Podman: names, aliases and ``<name>.dns.podman``
between containers (A and AAAA), the DNS server's life cycle; with the
distribution's aardvark-dns and with netavark-py's built-in server."""

from __future__ import annotations

from tests.e2e.helpers import create_network


def test_dns_names_aliases_fqdn_dual_stack(dns_sandbox):
    sb = dns_sandbox
    net = create_network(sb, "dn", "--subnet", "10.89.50.0/24", "--subnet", "fd00:50::/64")
    assert net["dns_enabled"] is True
    sb.serve("a", "--network", "dn", "--network-alias", "web")
    sb.serve("b", "--network", "dn")
    a = sorted([sb.ip_of("a", "dn"), sb.ip6_of("a", "dn")])
    b = sorted([sb.ip_of("b", "dn"), sb.ip6_of("b", "dn")])

    resolv = sb.exec("b", "cat", "/etc/resolv.conf").stdout
    assert "search dns.podman" in resolv
    assert "nameserver 10.89.50.1" in resolv and "nameserver fd00:50::1" in resolv

    assert sb.nslookup("b", "a") == a
    assert sb.nslookup("b", "web") == a
    assert sb.nslookup("b", "a.dns.podman") == a
    assert sb.nslookup("b", "web.dns.podman") == a
    assert sb.nslookup("a", "b") == b
    assert sb.nslookup("a", "b.dns.podman") == b
    short_id = sb.inspect("a")["Id"][:12]
    assert sb.nslookup("b", short_id) == a
    # names are usable by clients in the container
    assert sb.http("b", "a", 80) == "a:80"
    assert sb.http("b", "web.dns.podman", 80) == "a:80"

    assert len(sb.aardvark_running()) == 1
    entries = [f for f in sb.run_dir_files() if "/aardvark-dns/" in f]
    assert "/run/containers/networks/aardvark-dns/dn" in entries

    sb.podman("rm", "-f", "-t", "0", "a")
    assert sb.nslookup("b", "a") == []
    assert sb.nslookup("b", "b") == b
    assert len(sb.aardvark_running()) == 1

    sb.podman("rm", "-f", "-t", "0", "b")
    assert sb.aardvark_running() == []
    sb.podman("network", "rm", "dn")
    sb.assert_clean()


def test_dns_two_networks_one_server(dns_sandbox):
    """One aardvark-dns serves every network, on each network's gateway; a name
    resolves only on the networks its container is on.  (aardvark-dns answers
    from the network whose address was asked, so a container on two networks asks
    each network's server for that network's names.)"""
    sb = dns_sandbox
    create_network(sb, "d1", "--subnet", "10.89.51.0/24")
    create_network(sb, "d2", "--subnet", "10.89.52.0/24")
    sb.serve("a", "--network", "d1", "--network", "d2")
    sb.serve("b", "--network", "d1")
    sb.serve("c", "--network", "d2")
    assert sb.nslookup("b", "a") == [sb.ip_of("a", "d1")]
    assert sb.nslookup("c", "a") == [sb.ip_of("a", "d2")]
    assert sb.nslookup("a", "b", "10.89.51.1") == [sb.ip_of("b", "d1")]
    assert sb.nslookup("a", "c", "10.89.52.1") == [sb.ip_of("c", "d2")]
    assert sb.nslookup("b", "c") == []
    assert sb.nslookup("c", "b.dns.podman") == []
    assert len(sb.aardvark_running()) == 1

    sb.podman("rm", "-f", "-t", "0", "a", "b", "c")
    assert sb.aardvark_running() == []
    sb.podman("network", "rm", "d1", "d2")
    sb.assert_clean()
