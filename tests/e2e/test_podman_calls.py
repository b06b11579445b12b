"""What Podman 4.3 asks of netavark, and ``netavark create`` against Podman's own
network creation.

Podman 4.3 runs only ``setup`` and ``teardown`` (always as
``--config <run dir> --rootless=<bool> --aardvark-binary=<path> setup|teardown
<netns>``); it creates, lists, inspects and removes networks itself and never
runs ``create``, ``version``, ``update`` or the firewall reload commands.  Later
Podman versions hand network creation to ``netavark create``: the second test
checks that, given what Podman knew, ours creates the same networks Podman 4.3
creates."""

from __future__ import annotations

import json

from tests.e2e.helpers import create_network, netavark_calls, network_file

RUN_DIR = "/run/containers/networks"


def test_podman_calls_only_setup_and_teardown(logged_sandbox):
    sb = logged_sandbox
    create_network(sb, "n1", "--subnet", "10.89.60.0/24")
    create_network(sb, "n2", "--subnet", "10.89.61.0/24")
    sb.podman("network", "ls")
    sb.podman("network", "inspect", "n1")
    sb.podman("info")
    assert netavark_calls(sb) == []

    def new_calls() -> list[list[str]]:
        calls = netavark_calls(sb)
        fresh = calls[new_calls.seen:]
        new_calls.seen = len(calls)
        return fresh

    new_calls.seen = 0
    prefix = ["--config", RUN_DIR, "--rootless=false",
              f"--aardvark-binary={sb.helpers}/aardvark-dns"]

    sb.serve("a", "--network", "n1", "-p", "18082:80")
    (setup,) = new_calls()
    assert setup[:4] == prefix and setup[4] == "setup", setup
    netns = setup[5]
    assert netns.startswith("/run/netns/netns-") and len(setup) == 6

    sb.podman("stop", "-t", "0", "a")
    assert new_calls() == [[*prefix, "teardown", netns]]
    sb.podman("start", "a")
    (setup,) = new_calls()
    assert setup[:5] == [*prefix, "setup"]
    netns = setup[5]
    sb.podman("network", "reload", "a")
    assert new_calls() == [[*prefix, "teardown", netns], [*prefix, "setup", netns]]
    sb.podman("network", "connect", "n2", "a")
    assert new_calls() == [[*prefix, "setup", netns]]
    sb.podman("network", "disconnect", "n2", "a")
    assert new_calls() == [[*prefix, "teardown", netns]]
    sb.podman("rm", "-f", "-t", "0", "a")
    assert new_calls() == [[*prefix, "teardown", netns]]
    sb.podman("network", "rm", "n1", "n2")
    sb.podman("network", "prune", "-f")
    assert new_calls() == []
    sb.assert_clean()


# (name, podman network create arguments, what the user asked for in netavark's
# terms, where netavark's result differs from Podman 4.3's on purpose)
CREATE_CASES = [
    ("auto", [], {}, {}),
    ("explicit", ["--subnet", "10.89.77.0/24", "--gateway", "10.89.77.254"],
     {"subnets": [{"subnet": "10.89.77.0/24", "gateway": "10.89.77.254"}]}, {}),
    ("auto2", [], {}, {}),
    ("internal", ["--internal", "--disable-dns"], {"internal": True, "dns_enabled": False},
     {}),
    ("dual", ["--subnet", "10.89.78.0/24", "--subnet", "fd00:78::/64"],
     {"subnets": [{"subnet": "10.89.78.0/24"}, {"subnet": "fd00:78::/64"}]}, {}),
    ("opts", ["-o", "mtu=1400", "-o", "isolate=true"],
     {"options": {"mtu": "1400", "isolate": "true"}}, {}),
    # Podman 4.3 records dns_enabled for macvlan (setup ignores it); netavark's
    # create clears it
    ("mv", ["-d", "macvlan", "-o", "parent=ext0", "--subnet", "10.89.79.0/24"],
     {"driver": "macvlan", "network_interface": "ext0",
      "subnets": [{"subnet": "10.89.79.0/24"}]}, {"dns_enabled": False}),
]


def _normalise(net: dict) -> dict:
    out = {k: v for k, v in net.items() if k != "created" and v not in ({}, None, [])}
    if "subnets" in out:
        out["subnets"] = sorted(out["subnets"], key=lambda s: s["subnet"])
    return out


def test_create_agrees_with_podman(sandbox):
    sb = sandbox
    for name, args, asked, differs in CREATE_CASES:
        known = [json.loads(sb.podman("network", "inspect", n).stdout)[0]
                 for n in sb.podman("network", "ls", "--format", "{{.Name}}").stdout.split()]
        sb.network_create(name, *args)  # no container: DNS support is not needed
        podman_made = network_file(sb, name)
        request = {
            "network": {"name": name, "id": podman_made["id"], "driver": "bridge",
                        "dns_enabled": podman_made["dns_enabled"], "internal": False,
                        "ipv6_enabled": False, **asked},
            "used": {
                "interfaces": [n["network_interface"] for n in known
                               if n["driver"] == "bridge"],
                "names": {n["name"]: n["id"] for n in known},
                "subnets": [s["subnet"] for n in known for s in n.get("subnets", [])],
            },
            "options": {"subnet_pools": [{"base": "10.89.0.0/16", "size": 24}],
                        "default_interface_name": "podman", "check_used_subnets": True},
        }
        res = sb.in_host(sb.launcher_path(), "create", input=json.dumps(request))
        ours = json.loads(res.stdout)
        assert _normalise(ours) == _normalise({**podman_made, **differs}), (name, request)
