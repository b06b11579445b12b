"""The firewalld driver's calls, rule texts and error messages (FakeFirewalldBus).

The same operations against a real firewalld are in tests/kernel/test_firewalld.py.
"""

from __future__ import annotations

import pytest

from netavark import log
from netavark.config import PortMapping
from netavark.dbus.marshal import Variant
from netavark.errors import NetavarkError
from netavark.firewall import PortForwardConfig, SetupNetwork
from netavark.firewall.firewalld import FirewalldDriver
from netavark.ip import IpAddr, IpNet
from tests.unit.fake_firewalld import FakeFirewalldBus

FW_EXC = "org.fedoraproject.FirewallD1.Exception"


def net(*subnets: str, internal: bool = False) -> SetupNetwork:
    return SetupNetwork([IpNet.parse(s) for s in subnets], "podman1", "2f259bab" * 8,
                        "1D8721804F16F", "Strict", 53, internal=internal)


def pf(ports: list[PortMapping] | None, v4: str | None = "10.88.0.2",
       v6: str | None = None, dns_port: int = 53, dns: tuple = (),
       internal: bool = False) -> PortForwardConfig:
    return PortForwardConfig(
        "c0ffee" * 10 + "abcd", "2f259bab" * 8, ports, "podman1", "1D8721804F16F",
        container_ip_v4=IpAddr.parse(v4) if v4 else None,
        subnet_v4=IpNet.parse("10.88.0.0/16") if v4 else None,
        container_ip_v6=IpAddr.parse(v6) if v6 else None,
        subnet_v6=IpNet.parse("fd00::/64") if v6 else None,
        dns_port=dns_port, dns_server_ips=[IpAddr.parse(x) for x in dns], internal=internal)


def port(host_port: int, container_port: int, proto: str = "tcp", host_ip: str = "",
         count: int = 1) -> PortMapping:
    return PortMapping(container_port, host_ip, host_port, proto, count)


@pytest.fixture
def bus() -> FakeFirewalldBus:
    return FakeFirewalldBus()


@pytest.fixture
def ready(bus: FakeFirewalldBus) -> FakeFirewalldBus:
    """A firewalld where netavark's zone and policies already run."""
    FirewalldDriver(bus).setup_network(net())
    bus.calls.clear()
    return bus


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setenv("RUST_LOG", "netavark=debug")
    log.reset_filter()
    yield lambda: capsys.readouterr().err
    log.reset_filter()


# -- setup_network ------------------------------------------------------------------


def test_first_setup_creates_zone_and_policies_then_reloads(bus: FakeFirewalldBus) -> None:
    FirewalldDriver(bus).setup_network(net("10.88.0.0/16", "fd00::/64"))
    assert bus.calls == [
        ("getZones", ()), ("getZoneNames", ()), ("addZone2", ("netavark_zone", {})),
        ("getPolicies", ()), ("getPolicyNames", ()),
        ("addPolicy", ("netavark_policy", {
            "egress_zones": Variant("as", ["ANY"]),
            "ingress_zones": Variant("as", ["netavark_zone"]),
            "masquerade": Variant("b", True), "target": Variant("s", "ACCEPT")})),
        ("getPolicies", ()), ("getPolicyNames", ()),
        ("addPolicy", ("netavark_portfwd", {
            "egress_zones": Variant("as", ["HOST"]), "ingress_zones": Variant("as", ["ANY"]),
            "target": Variant("s", "CONTINUE")})),
        ("getPolicies", ()), ("getPolicyNames", ()),
        ("addPolicy", ("netavark_host_fwd", {
            "egress_zones": Variant("as", ["ANY"]), "ingress_zones": Variant("as", ["HOST"]),
            "target": Variant("s", "CONTINUE")})),
        ("getPolicies", ()), ("getPolicyNames", ()),
        ("addPolicy", ("netavark_zone_acc", {
            "egress_zones": Variant("as", ["netavark_zone"]),
            "ingress_zones": Variant("as", ["ANY"]),
            "masquerade": Variant("b", True), "target": Variant("s", "CONTINUE")})),
        ("reload", ()),
        ("getZoneOfSource", ("10.88.0.0/16",)),
        ("changeZoneOfSource", ("netavark_zone", "10.88.0.0/16")),
        ("getZoneOfSource", ("fd00::/64",)),
        ("changeZoneOfSource", ("netavark_zone", "fd00::/64")),
    ]
    assert bus.sources == {"10.88.0.0/16": "netavark_zone", "fd00::/64": "netavark_zone"}


def test_policy_settings_dict_key_order(bus: FakeFirewalldBus) -> None:
    FirewalldDriver(bus).setup_network(net())
    assert list(bus.perm_policies["netavark_policy"]) == [
        "egress_zones", "ingress_zones", "masquerade", "target"]


def test_setup_with_everything_running_does_not_reload(ready: FakeFirewalldBus) -> None:
    FirewalldDriver(ready).setup_network(net("10.88.0.0/16"))
    assert "reload" not in ready.members()
    assert ready.members().count("addPolicy") == 0
    assert ready.members()[-1] == "changeZoneOfSource"


def test_objects_only_in_permanent_config_trigger_a_reload(bus: FakeFirewalldBus) -> None:
    bus.perm_zones.append("netavark_zone")
    FirewalldDriver(bus).setup_network(net())
    assert "addZone2" not in bus.members()
    assert bus.members().count("reload") == 1
    bus.calls.clear()
    bus.policies.pop("netavark_host_fwd")  # e.g. created by another host tool, not loaded
    FirewalldDriver(bus).setup_network(net())
    assert "addPolicy" not in bus.members()
    assert bus.members().count("reload") == 1


def test_subnet_already_in_zone_stops_processing(ready: FakeFirewalldBus) -> None:
    """Upstream returns at the first subnet already bound, skipping later ones."""
    ready.sources["10.88.0.0/16"] = "netavark_zone"
    FirewalldDriver(ready).setup_network(net("10.88.0.0/16", "fd00::/64"))
    assert ready.calls[-1] == ("getZoneOfSource", ("10.88.0.0/16",))
    assert "fd00::/64" not in ready.sources


def test_subnet_in_another_zone_is_moved(ready: FakeFirewalldBus) -> None:
    ready.sources["10.88.0.0/16"] = "trusted"
    FirewalldDriver(ready).setup_network(net("10.88.0.0/16"))
    assert ready.sources["10.88.0.0/16"] == "netavark_zone"


def test_no_subnets(ready: FakeFirewalldBus) -> None:
    n = net()
    n.subnets = None
    FirewalldDriver(ready).setup_network(n)
    assert "getZoneOfSource" not in ready.members()


def test_internal_network_makes_no_calls(bus: FakeFirewalldBus) -> None:
    d = FirewalldDriver(bus)
    d.setup_network(net("10.89.3.0/24", internal=True))
    d.setup_port_forward(pf([port(8080, 80)], internal=True))
    d.teardown_port_forward(pf([port(8080, 80)], internal=True), True)
    d.teardown_network(net("10.89.3.0/24", internal=True))
    assert bus.calls == []


@pytest.mark.parametrize(("member", "expected"), [
    ("getZones", "Error creating zone netavark_zone: DBus error: {exc}: boom"),
    ("getZoneNames", "Error creating zone netavark_zone: DBus error: {exc}: boom"),
    ("addZone2", "Error creating zone netavark_zone: DBus error: {exc}: boom"),
    ("getPolicies", "Error creating policy netavark_policy: DBus error: {exc}: boom"),
    ("addPolicy", "Error creating policy netavark_policy: DBus error: {exc}: boom"),
    ("reload", "DBus error: {exc}: boom"),
    ("getZoneOfSource",
     "Error adding source subnets to zone netavark_zone: DBus error: {exc}: boom"),
    ("changeZoneOfSource",
     "Error adding source subnets to zone netavark_zone: DBus error: {exc}: boom"),
])
def test_setup_network_errors(bus: FakeFirewalldBus, member: str, expected: str) -> None:
    bus.errors[member] = (FW_EXC, "boom")
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(bus).setup_network(net("10.88.0.0/16"))
    assert str(e.value) == expected.format(exc=FW_EXC)


@pytest.mark.parametrize(("member", "prefix", "got"), [
    ("getZones", "Error creating zone netavark_zone: Error decoding DBus message for active "
     "zones", "s"),
    ("getZoneNames", "Error creating zone netavark_zone: Error decoding DBus message for "
     "permanent zones", "s"),
    ("getPolicies", "Error creating policy netavark_policy: Error decoding policy list "
     "response", "s"),
    ("getPolicyNames", "Error creating policy netavark_policy: Error decoding permanent "
     "policy list response", "s"),
])
def test_undecodable_name_lists(bus: FakeFirewalldBus, member: str, prefix: str,
                                got: str) -> None:
    bus.replies[member] = ("s", ("oops",))
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(bus).setup_network(net())
    assert str(e.value) == f"{prefix}: DBus error: Signature mismatch: got `{got}`, expected `as`"


def test_undecodable_zone_of_source(ready: FakeFirewalldBus) -> None:
    ready.replies["getZoneOfSource"] = ("as", (["x"],))
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).setup_network(net("10.88.0.0/16"))
    assert str(e.value) == ("Error adding source subnets to zone netavark_zone: Error decoding "
                            "DBus message for zone of subnet: DBus error: Signature mismatch: "
                            "got `as`, expected `s`")


# -- teardown_network ---------------------------------------------------------------


def test_teardown_network_removes_sources(ready: FakeFirewalldBus) -> None:
    d = FirewalldDriver(ready)
    d.setup_network(net("10.88.0.0/16", "fd00::/64"))
    ready.calls.clear()
    d.teardown_network(net("10.88.0.0/16", "fd00::/64"))
    assert ready.calls == [("removeSource", ("netavark_zone", "10.88.0.0/16")),
                           ("removeSource", ("netavark_zone", "fd00::/64"))]
    assert ready.sources == {}


def test_teardown_network_first_error_skips_the_rest(ready: FakeFirewalldBus) -> None:
    ready.sources["fd00::/64"] = "netavark_zone"
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).teardown_network(net("10.88.0.0/16", "fd00::/64"))
    assert str(e.value) == (f"DBus error: {FW_EXC}: UNKNOWN_SOURCE: '10.88.0.0/16' is not in "
                            "any zone")
    assert ready.members() == ["removeSource"]
    assert "fd00::/64" in ready.sources


# -- setup_port_forward ---------------------------------------------------------------


def rich(family: str, dest: str, p: str, proto: str, to_port: str, to_addr: str) -> str:
    return (f'rule family="{family}" destination address="{dest}" forward-port port="{p}" '
            f'protocol="{proto}" to-port="{to_port}" to-addr="{to_addr}"')


def test_wildcard_ports_dual_stack(ready: FakeFirewalldBus, logs) -> None:
    FirewalldDriver(ready).setup_port_forward(pf(
        [port(8080, 80), port(5300, 53, "udp", count=3)], v6="fd00::2"))
    portfwd = ready.policies["netavark_portfwd"]
    assert portfwd["forward_ports"] == Variant("a(ssss)", [
        ("8080", "tcp", "80", "10.88.0.2"), ("8080", "tcp", "80", "fd00::2"),
        ("5300-5302", "udp", "53-55", "10.88.0.2"), ("5300-5302", "udp", "53-55", "fd00::2")])
    assert "rich_rules" not in portfwd
    assert ready.policies["netavark_host_fwd"]["rich_rules"] == Variant("as", [
        rich("ipv4", "127.0.0.1", "8080", "tcp", "80", "10.88.0.2"),
        rich("ipv4", "127.0.0.1", "5300-5302", "udp", "53-55", "10.88.0.2")])
    assert ready.members() == ["getPolicySettings", "setPolicySettings", "getPolicySettings",
                               "setPolicySettings"]
    # only the changed keys are sent
    assert list(ready.calls[1][1][1]) == ["forward_ports"]
    assert list(ready.calls[3][1][1]) == ["rich_rules"]
    out = logs()
    assert (f"[INFO  netavark::firewall::firewalld] Successfully added port-forwarding rules "
            f"for container {'c0ffee' * 10}abcd\n") in out
    assert ('[DEBUG netavark::firewall::firewalld] Port is ("8080", "tcp", "80", "10.88.0.2")'
            in out)


@pytest.mark.parametrize(("host_ip", "v4", "v6", "ports", "rules", "local"), [
    ("0.0.0.0", "10.88.0.2", "fd00::2", [("8080", "tcp", "80", "10.88.0.2")], None,
     [rich("ipv4", "127.0.0.1", "8080", "tcp", "80", "10.88.0.2")]),
    ("::", "10.88.0.2", "fd00::2", [("8080", "tcp", "80", "fd00::2")], None, None),
    ("127.0.0.1", "10.88.0.2", "fd00::2", None, None,
     [rich("ipv4", "127.0.0.1", "8080", "tcp", "80", "10.88.0.2")]),
    ("127.0.0.1", None, "fd00::2", None, None, None),
    ("::1", "10.88.0.2", "fd00::2", None, None, None),
    ("192.168.1.10", "10.88.0.2", "fd00::2", None,
     [rich("ipv4", "192.168.1.10", "8080", "tcp", "80", "10.88.0.2")], None),
    ("192.168.1.10", None, "fd00::2", None, None, None),
    ("fd65::1", "10.88.0.2", "fd00::2", None,
     [rich("ipv6", "fd65::1", "8080", "tcp", "80", "fd00::2")], None),
    ("fd65:0::1", "10.88.0.2", "fd00::2", None,  # the host IP text is used as given
     [rich("ipv6", "fd65:0::1", "8080", "tcp", "80", "fd00::2")], None),
])
def test_host_ip_matrix(ready: FakeFirewalldBus, host_ip: str, v4: str | None, v6: str | None,
                        ports: list | None, rules: list | None, local: list | None) -> None:
    FirewalldDriver(ready).setup_port_forward(pf([port(8080, 80, host_ip=host_ip)], v4, v6))
    portfwd = ready.policies["netavark_portfwd"]
    assert portfwd.get("forward_ports") == (None if ports is None
                                            else Variant("a(ssss)", ports))
    assert portfwd.get("rich_rules") == (None if rules is None else Variant("as", rules))
    host_fwd = ready.policies["netavark_host_fwd"]
    assert host_fwd.get("rich_rules") == (None if local is None else Variant("as", local))
    if ports is None and rules is None and local is None:
        assert ready.calls == []  # nothing generated, nothing sent


def test_invalid_host_ip(ready: FakeFirewalldBus) -> None:
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).setup_port_forward(pf([port(8080, 80, host_ip="abcd")]))
    assert str(e.value) == 'invalid host ip "abcd" provided for port 8080'
    assert ready.calls == []


def test_dns_rules_for_every_dns_ip(ready: FakeFirewalldBus) -> None:
    """Added for every DNS IP, even of a family the container has no address in."""
    FirewalldDriver(ready).setup_port_forward(
        pf([], v4="10.89.3.2", dns_port=1153, dns=("10.89.3.1", "fd10:88:a::1")))
    assert ready.policies["netavark_portfwd"]["rich_rules"] == Variant("as", [
        rich("ipv4", "10.89.3.1", "53", "udp", "1153", "10.89.3.1"),
        rich("ipv6", "fd10:88:a::1", "53", "udp", "1153", "fd10:88:a::1")])
    assert "forward_ports" not in ready.policies["netavark_portfwd"]


def test_dns_port_53_adds_nothing(ready: FakeFirewalldBus) -> None:
    FirewalldDriver(ready).setup_port_forward(pf(None, dns=("10.89.3.1",)))
    assert ready.calls == []


def test_rules_are_appended_without_deduplication(ready: FakeFirewalldBus) -> None:
    d = FirewalldDriver(ready)
    cfg = pf([port(8080, 80)], dns_port=1153, dns=("10.88.0.1",))
    d.setup_port_forward(cfg)
    d.setup_port_forward(cfg)
    portfwd = ready.policies["netavark_portfwd"]
    assert portfwd["forward_ports"].value == [("8080", "tcp", "80", "10.88.0.2")] * 2
    assert len(portfwd["rich_rules"].value) == 2
    assert len(ready.policies["netavark_host_fwd"]["rich_rules"].value) == 2


def test_port_range_wraps_like_u16(ready: FakeFirewalldBus) -> None:
    FirewalldDriver(ready).setup_port_forward(pf([port(65535, 65534, count=2)]))
    assert ready.policies["netavark_portfwd"]["forward_ports"].value == [
        ("65535-0", "tcp", "65534-65535", "10.88.0.2")]


@pytest.mark.parametrize(("key", "value", "cfg", "msg"), [
    ("forward_ports", Variant("s", "x"), pf([port(80, 80)]),
     "forward_ports in firewalld policy object has a bad type"),
    ("forward_ports", Variant("a{ss}", {}), pf([port(80, 80)]),
     "forward_ports in firewalld policy object has a bad type"),
    ("rich_rules", Variant("b", True), pf([], dns_port=1153, dns=("10.88.0.1",)),
     "rich_rules in firewalld policy object has a bad type"),
    ("forward_ports", Variant("as", ["x"]), pf([port(80, 80)]),
     "DBus Variant Error: Signature mismatch: got `(ssss)`, expected `s`"),
])
def test_setup_bad_existing_settings(ready: FakeFirewalldBus, key: str, value: Variant,
                                     cfg: PortForwardConfig, msg: str) -> None:
    ready.policies["netavark_portfwd"][key] = value
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).setup_port_forward(cfg)
    assert str(e.value) == msg


def test_setup_bad_localhost_settings(ready: FakeFirewalldBus) -> None:
    ready.policies["netavark_host_fwd"]["rich_rules"] = Variant("i", 1)
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).setup_port_forward(pf([port(80, 80, host_ip="127.0.0.1")]))
    assert str(e.value) == "rich_rules in firewalld policy object has a bad type"


def test_setup_port_forward_call_errors(ready: FakeFirewalldBus) -> None:
    ready.errors["setPolicySettings"] = (FW_EXC, "INVALID_FORWARD: nope")
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).setup_port_forward(pf([port(80, 80)]))
    assert str(e.value) == ("Failed to update firewalld policy netavark_portfwd port "
                            f"forwarding rules: DBus error: {FW_EXC}: INVALID_FORWARD: nope")
    del ready.errors["setPolicySettings"]
    ready.replies["getPolicySettings"] = ("as", ([],))
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).setup_port_forward(pf([port(80, 80)]))
    assert str(e.value) == ("Error decoding DBus message for policy netavark_portfwd "
                            "configuration: DBus error: Signature mismatch: got `as`, "
                            "expected `a{sv}`")


# -- teardown_port_forward -----------------------------------------------------------


def test_teardown_removes_only_this_containers_rules(ready: FakeFirewalldBus) -> None:
    d = FirewalldDriver(ready)
    mine = pf([port(8080, 80), port(8443, 443, host_ip="192.168.1.10")], v6="fd00::2",
              dns_port=1153, dns=("10.88.0.1", "fd00::1"))
    other = pf([port(9090, 90)], v4="10.88.0.3", v6="fd00::3", dns_port=1153,
               dns=("10.88.0.1", "fd00::1"))
    d.setup_port_forward(other)
    before = {k: dict(v) for k, v in ready.policies.items()}
    d.setup_port_forward(mine)
    ready.calls.clear()
    d.teardown_port_forward(mine, False)
    assert ready.members() == ["getPolicySettings", "getPolicySettings", "setPolicySettings",
                               "setPolicySettings"]
    portfwd = ready.policies["netavark_portfwd"]
    assert portfwd["forward_ports"] == before["netavark_portfwd"]["forward_ports"]
    # not complete: the DNS rules (both copies) stay
    assert portfwd["rich_rules"].value == before["netavark_portfwd"]["rich_rules"].value * 2
    assert ready.policies["netavark_host_fwd"]["rich_rules"] == \
        before["netavark_host_fwd"]["rich_rules"]
    # last container: complete teardown also drops every copy of the DNS rules
    d.teardown_port_forward(other, True)
    assert ready.policies["netavark_portfwd"]["forward_ports"] == Variant("a(ssss)", [])
    assert ready.policies["netavark_portfwd"]["rich_rules"] == Variant("as", [])
    assert ready.policies["netavark_host_fwd"]["rich_rules"] == Variant("as", [])


def test_teardown_with_nothing_configured_sends_empty_updates(
        ready: FakeFirewalldBus) -> None:
    FirewalldDriver(ready).teardown_port_forward(pf([port(8080, 80)]), True)
    assert ready.calls == [("getPolicySettings", ("netavark_portfwd",)),
                           ("getPolicySettings", ("netavark_host_fwd",)),
                           ("setPolicySettings", ("netavark_portfwd", {})),
                           ("setPolicySettings", ("netavark_host_fwd", {}))]


def test_teardown_matches_rich_rules_by_to_addr_substring(ready: FakeFirewalldBus) -> None:
    ready.policies["netavark_portfwd"]["rich_rules"] = Variant("as", [
        'rule family="ipv4" forward-port port="1" protocol="tcp" to-addr="10.88.0.2"',
        'rule family="ipv4" forward-port port="1" protocol="tcp" to-addr="10.88.0.22"',
        "rule family=\"ipv6\" source address=\"fd00::/64\" accept"])
    ready.policies["netavark_host_fwd"]["rich_rules"] = Variant("as", [
        'rule to-addr="fd00::2"', 'rule to-addr="10.88.0.2"'])
    FirewalldDriver(ready).teardown_port_forward(pf(None, v6="fd00::2"), False)
    assert ready.policies["netavark_portfwd"]["rich_rules"].value == [
        'rule family="ipv4" forward-port port="1" protocol="tcp" to-addr="10.88.0.22"',
        "rule family=\"ipv6\" source address=\"fd00::/64\" accept"]
    # the localhost policy only ever holds IPv4 rules: IPv6 is not looked for
    assert ready.policies["netavark_host_fwd"]["rich_rules"].value == ['rule to-addr="fd00::2"']


@pytest.mark.parametrize(("policy", "key", "value", "msg"), [
    ("netavark_portfwd", "forward_ports", Variant("s", "x"),
     "forward-port in firewalld policy object has a bad type"),
    ("netavark_portfwd", "forward_ports", Variant("as", ["x"]),
     "Port forwarding rule that was not a structure encountered"),
    ("netavark_portfwd", "forward_ports", Variant("a(sss)", [("1", "tcp", "1")]),
     "Port forwarding rule that was not a 4-tuple encountered"),
    ("netavark_portfwd", "forward_ports", Variant("a(sssi)", [("1", "tcp", "1", 4)]),
     "Port forwarding tuples must contain only strings, encountered a non-string object"),
    ("netavark_portfwd", "rich_rules", Variant("u", 1),
     "rich_rules in firewalld policy object has a bad type"),
    ("netavark_portfwd", "rich_rules", Variant("ao", ["/x"]),
     "Rich rule that was not a string encountered"),
    ("netavark_host_fwd", "rich_rules", Variant("s", "x"),
     "rich_rules in firewalld localhost policy object has a bad type"),
    ("netavark_host_fwd", "rich_rules", Variant("av", [Variant("s", "x")]),
     "Rich rule that was not a string encountered"),
])
def test_teardown_bad_settings(ready: FakeFirewalldBus, policy: str, key: str,
                               value: Variant, msg: str) -> None:
    ready.policies[policy][key] = value
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).teardown_port_forward(pf([port(80, 80)]), True)
    assert str(e.value) == msg
    assert "setPolicySettings" not in ready.members()


def test_teardown_empty_arrays_of_odd_types_are_fine(ready: FakeFirewalldBus) -> None:
    ready.policies["netavark_portfwd"]["forward_ports"] = Variant("as", [])
    ready.policies["netavark_portfwd"]["rich_rules"] = Variant("ai", [])
    FirewalldDriver(ready).teardown_port_forward(pf(None), True)
    assert ready.policies["netavark_portfwd"]["forward_ports"] == Variant("as", [])


def test_teardown_update_error(ready: FakeFirewalldBus) -> None:
    ready.errors["setPolicySettings"] = (FW_EXC, "boom")
    with pytest.raises(NetavarkError) as e:
        FirewalldDriver(ready).teardown_port_forward(pf(None), True)
    assert str(e.value) == ("Failed to update firewalld policy netavark_portfwd port "
                            f"forwarding rules: DBus error: {FW_EXC}: boom")


def test_driver_identity() -> None:
    bus = FakeFirewalldBus()
    d = FirewalldDriver(bus)
    assert d.name == "firewalld"
    d.close()
    assert bus.closed
