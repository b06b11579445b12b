"""Rootless Podman: netavark runs as the user's root inside Podman's rootless
network namespace (``--rootless=true``), published ports arrive through
rootlessport, and DNS runs in that namespace too.

On a machine where ``/dev/net/tun`` is not accessible to other users (mode 0600),
slirp4netns fails with ``open("/dev/net/tun"): Permission denied``; the sandbox
then uses a private ``0666`` node for the same device (see RootlessSandbox).
"""

from __future__ import annotations

import json

from tests.e2e.helpers import create_network
from tests.e2e.sandbox import HOST_V4, wait_for


def test_rootless_bridge_ports_dns(rootless_sandbox):
    sb = rootless_sandbox
    info = sb.podman("info", "--format", "{{.Host.Security.Rootless}}").stdout.strip()
    assert info == "true"
    net = create_network(sb, "rn", "--subnet", "10.89.90.0/24")
    bridge = net["network_interface"]
    sb.serve("a", "--network", "rn", "--network-alias", "web", "-p", "18080:80")
    sb.serve("b", "--network", "rn")
    a_ip = sb.ip_of("a", "rn")

    # the bridge and the rules are in the rootless network namespace, not on the host
    inner = {link["ifname"] for link in json.loads(sb.rootless_netns("ip", "-j", "link").stdout)}
    assert bridge in inner
    assert set(sb.links()) == {"lo", "ext0"}
    assert sb.nft_table() is None
    ruleset = sb.rootless_netns("nft", "list", "table", "inet", "netavark").stdout
    assert f"dnat ip to {a_ip}:80" in ruleset

    assert sb.nslookup("b", "web") == [a_ip]
    assert sb.nslookup("b", "a.dns.podman") == [a_ip]
    assert sb.http("b", "a", 80) == "a:80"
    assert sb.http("host", "127.0.0.1", 18080) == "a:80"
    assert sb.http("client", HOST_V4, 18080) == "a:80"
    names = set(sb.user_processes().values())
    assert {"aardvark-dns", "slirp4netns"} <= names, names

    sb.podman("rm", "-f", "-t", "0", "a", "b")
    sb.http_fails("host", "127.0.0.1", 18080)

    def gone() -> bool:
        names = set(sb.user_processes().values())
        return "aardvark-dns" not in names and "slirp4netns" not in names

    assert wait_for(gone), sb.user_processes()
    sb.podman("network", "rm", "rn")
    assert not sb.state_leftovers(), sb.state_leftovers()
