"""``netavark create`` against a real (private) network namespace.

Interface allocation and the macvlan parent check read the links of the
namespace create runs in; the result must be usable by ``setup``.
"""

from __future__ import annotations

import json

from tests.unit.create_helpers import base_input


def test_free_bridge_name_skips_links_of_the_namespace(host, netavark) -> None:
    host.run("ip", "link", "add", "podman1", "type", "veth", "peer", "name", "podman2")
    host.run("ip", "link", "add", "podman4", "type", "bridge")
    doc = base_input()
    doc["used"]["interfaces"] = ["podman3"]
    out = netavark.json("create", input=doc, config=False)
    assert out["network_interface"] == "podman5"
    # nothing was created by create itself
    assert sorted(host.links()) == ["lo", "podman1", "podman2", "podman4"]


def test_fresh_namespace_gives_podman1(host, netavark) -> None:
    out = netavark.json("create", input=base_input(), config=False)
    assert out["network_interface"] == "podman1"


def test_macvlan_parent_must_exist_in_the_namespace(host, netavark) -> None:
    doc = base_input(driver="macvlan", network_interface="parent0")
    res = netavark("create", input=doc, config=False, check_rc=1)
    assert res.stdout == '{"error":"parent interface parent0 does not exist"}\n'
    host.run("ip", "link", "add", "parent0", "type", "veth", "peer", "name", "parent0p")
    out = netavark.json("create", input=doc, config=False)
    assert out["ipam_options"] == {"driver": "dhcp"}
    assert out["network_interface"] == "parent0"


def test_created_network_sets_up_and_tears_down(host, container, netavark) -> None:
    doc = base_input(name="made", ipv6_enabled=True)
    doc["used"]["subnets"] = ["10.89.0.0/24"]
    doc["options"]["check_used_subnets"] = True
    net = netavark.json("create", input=doc, config=False)
    v4, v6 = net["subnets"]
    assert v4 == {"gateway": "10.89.1.1", "subnet": "10.89.1.0/24"}
    ip6 = v6["gateway"][:-1] + "2"
    opts = {
        "container_id": "c" * 64, "container_name": "ctr",
        "networks": {"made": {"interface_name": "eth0", "static_ips": ["10.89.1.2", ip6]}},
        "network_info": {"made": net},
    }
    status = netavark.json("--firewall-driver", "none", "setup", container.path,
                           input=json.dumps(opts))
    subnets = status["made"]["interfaces"]["eth0"]["subnets"]
    assert subnets == [{"gateway": "10.89.1.1", "ipnet": "10.89.1.2/24"},
                       {"gateway": v6["gateway"], "ipnet": ip6 + "/64"}]
    bridge = host.ip("-j", "addr", "show", "podman1")[0]
    assert {(a["local"], a["prefixlen"]) for a in bridge["addr_info"]
            if a["scope"] == "global"} == {("10.89.1.1", 24), (v6["gateway"], 64)}
    eth0 = container.ip("-j", "addr", "show", "eth0")[0]
    assert "10.89.1.2" in {a["local"] for a in eth0["addr_info"]}
    netavark("--firewall-driver", "none", "teardown", container.path, input=json.dumps(opts),
             check_rc=0)
    assert "podman1" not in host.links()


# ---------------------------------------------------------------------------
# property: whatever create returns, setup accepts and teardown removes again

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from netavark.ip import IpAddr, IpNet  # noqa: E402

bridge_options = st.fixed_dictionaries({}, optional={
    "mtu": st.integers(1280, 9000).map(str),
    "isolate": st.sampled_from(["true", "false", "strict"]),
    "metric": st.integers(1, 1000).map(str),
    "no_default_route": st.sampled_from(["true", "false"]),
})


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=bridge_options, ipv6=st.booleans(), internal=st.booleans(),
       explicit=st.one_of(st.none(), st.integers(0, 255).map(lambda b: f"10.77.{b}.0/24")),
       ports=st.lists(st.integers(1024, 60000), max_size=3, unique=True))
def test_any_created_bridge_network_sets_up_and_tears_down(host, container, netavark, options,
                                                           ipv6, internal, explicit, ports):
    doc = base_input(name="prop", ipv6_enabled=ipv6, internal=internal)
    if options:
        doc["network"]["options"] = options
    if explicit:
        doc["network"]["subnets"] = [{"subnet": explicit}]
    net = netavark.json("create", input=doc, config=False)
    static = []
    for s in net["subnets"]:
        base = IpNet.parse(s["subnet"]).network()
        static.append(str(IpAddr(base.version, base.value + 2)))
    opts = {
        "container_id": "e" * 64, "container_name": "ctr",
        "port_mappings": [{"host_ip": "", "container_port": p, "host_port": p, "range": 1,
                           "protocol": "tcp"} for p in ports],
        "networks": {"prop": {"interface_name": "eth0", "static_ips": static}},
        "network_info": {"prop": net},
    }
    status = netavark.json("setup", container.path, input=json.dumps(opts))
    got = [a["ipnet"].split("/")[0] for a in status["prop"]["interfaces"]["eth0"]["subnets"]]
    assert got == static
    eth0 = container.ip("-j", "addr", "show", "eth0")[0]
    assert set(static) <= {a["local"] for a in eth0["addr_info"]}
    if "mtu" in options:
        assert eth0["mtu"] == int(options["mtu"])
    defaults = container.ip("route", "show", "default")
    assert bool(defaults) == (not internal and options.get("no_default_route") != "true")
    netavark("teardown", container.path, input=json.dumps(opts), check_rc=0)
    assert set(host.links()) == {"lo"} and set(container.links()) == {"lo"}
    rules = host.run("nft", "list", "ruleset").stdout
    for s in net["subnets"]:
        assert IpNet.parse(s["subnet"]).trunc().__str__() not in rules
