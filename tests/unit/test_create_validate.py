"""``create`` step by step: validation messages, option checks, driver defaults."""

from __future__ import annotations

import pytest

from netavark.config import LeaseRange, Route, Subnet
from netavark.create import validate
from netavark.errors import NetavarkError
from netavark.ip import IpAddr, IpNet
from tests.unit.create_helpers import base_input, create_doc


def err(doc: dict, **kw: object) -> str:
    out = create_doc(doc, **kw)
    assert "error" in out, out
    return out["error"]


def ok(doc: dict, **kw: object) -> dict:
    out = create_doc(doc, **kw)
    assert "error" not in out, out
    return out


# ---------------------------------------------------------------------------
# name and id


@pytest.mark.parametrize("name", ["a", "A", "0", "a.b-c_d", "x" * 300, "9-"])
def test_valid_names(name: str) -> None:
    assert ok(base_input(name=name))["name"] == name


@pytest.mark.parametrize(("name", "shown"), [
    ("-a", '"-a"'), (".a", '".a"'), ("_a", '"_a"'), ("a b", '"a b"'), ("a/b", '"a/b"'),
    ("a\n", '"a\\n"'), ("ä", '"ä"'), ('a"', '"a\\""'), ("a\tb", '"a\\tb"'),
])
def test_invalid_names(name: str, shown: str) -> None:
    assert err(base_input(name=name)) == (
        f"Invalid characters in network name {shown}: must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")


def test_name_checks_come_before_id_checks() -> None:
    assert err(base_input(name="", id="")) == "Network name must be supplied"
    doc = base_input(name="taken", id="zz")
    doc["used"]["names"] = {"taken": "00" * 32}
    assert err(doc) == "network already exists taken"


@pytest.mark.parametrize("net_id", ["ab" * 31, "ab" * 33, "g" * 64, "ab" * 32 + "\n",
                                    " " + "a" * 63, "é" * 64])
def test_invalid_ids(net_id: str) -> None:
    quoted = '"' + net_id.replace("\n", "\\n") + '"'
    assert err(base_input(id=net_id)) == f"Network id must be a hexadecimal string {quoted}"


def test_upper_case_id_is_accepted() -> None:
    assert ok(base_input(id="AB" * 32))["id"] == "AB" * 32


# ---------------------------------------------------------------------------
# interface names


@pytest.mark.parametrize(("name", "message"), [
    ("a" * 16, "Interface name is too long: interface names must be 15 characters or less: "
               + "a" * 16),
    # characters, not bytes: 15 two-byte characters are fine for this check
    ("", "Interface name cannot be . or .."),
    ("..", "Interface name cannot be . or .."),
    ("a/b", 'Interface name cannot contain"/"'),
    ("a:b", 'Interface name cannot contain":"'),
    ("a b", 'Interface name cannot contain" "'),
    ("a\u3000b", 'Interface name cannot contain"\u3000"'),
    ("a\x85", 'Interface name cannot contain"\x85"'),
    ("x:y/z", 'Interface name cannot contain":"'),
])
def test_interface_name_errors(name: str, message: str) -> None:
    with pytest.raises(NetavarkError) as e:
        validate.validate_interface_name(name)
    assert str(e.value) == message


@pytest.mark.parametrize("name", [".", "ä" * 15, "a\x1cb", "eth0", "a" * 15])
def test_interface_names_passing_the_generic_check(name: str) -> None:
    validate.validate_interface_name(name)


def test_interface_name_is_checked_for_every_driver() -> None:
    for driver in ("bridge", "macvlan", "ipvlan", "some-plugin"):
        doc = base_input(driver=driver, network_interface="a" * 16)
        assert err(doc).startswith("Interface name is too long"), driver


def test_bridge_name_must_match_the_name_pattern() -> None:
    assert err(base_input(network_interface=".")) == "bridge name . is invalid"
    assert err(base_input(network_interface="a\u00e9")) == "bridge name a\u00e9 is invalid"


# ---------------------------------------------------------------------------
# IPAM driver


@pytest.mark.parametrize(("ipam", "subnets", "message"), [
    ({"driver": ""}, None, "Unsupported ipam driver: "),
    ({"driver": "static"}, None, "Unsupported ipam driver: static"),
    ({"driver": "none"}, [{"subnet": "10.1.0.0/24"}],
     "None ipam driver is set but subnets are given"),
])
def test_ipam_driver_errors(ipam: dict, subnets: list | None, message: str) -> None:
    assert err(base_input(ipam_options=ipam, subnets=subnets)) == message


def test_ipam_none_with_empty_subnet_list_is_fine() -> None:
    out = ok(base_input(ipam_options={"driver": "none"}, subnets=[]))
    assert out["subnets"] == []
    assert out["ipam_options"] == {"driver": "none"}


def test_ipam_map_without_driver_gets_host_local_and_keeps_other_keys() -> None:
    out = ok(base_input(ipam_options={"foo": "bar"}))
    assert out["ipam_options"] == {"foo": "bar", "driver": "host-local"}


def test_bridge_with_dhcp_keeps_no_subnets() -> None:
    out = ok(base_input(ipam_options={"driver": "dhcp"}, options={"mode": "unmanaged"}))
    assert "subnets" not in out
    assert out["ipam_options"] == {"driver": "dhcp"}


# ---------------------------------------------------------------------------
# bridge options


def test_docker_option_aliases() -> None:
    out = ok(base_input(options={"com.docker.network.driver.mtu": "9000", "mtu": "1",
                                 "com.docker.network.bridge.name": "br-x"},
                        network_interface="ignored"))
    assert out["options"] == {"mtu": "9000"}
    assert out["network_interface"] == "br-x"


def test_docker_bridge_name_skips_the_length_check() -> None:
    long_name = "b" * 20
    out = ok(base_input(options={"com.docker.network.bridge.name": long_name}))
    assert out["network_interface"] == long_name
    assert err(base_input(options={"com.docker.network.bridge.name": "a b"})) == \
        "bridge name a b is invalid"


def test_options_emptied_by_aliases_stay_an_empty_map() -> None:
    out = ok(base_input(options={"com.docker.network.bridge.name": "brx"}))
    assert out["options"] == {}


@pytest.mark.parametrize(("opts", "message"), [
    ({"outbound_addr4": "1.2.3.4"}, "unsupported bridge network option: outbound_addr4"),
    ({"bclim": "1"}, "unsupported bridge network option: bclim"),
    ({"mtu": ""}, 'unable to parse "mtu": cannot parse integer from empty string'),
    ({"mtu": "-1"}, 'unable to parse "mtu": invalid digit found in string'),
    ({"mtu": "4294967296"}, 'unable to parse "mtu": number too large to fit in target type'),
    ({"mtu": "99999999999x"}, 'unable to parse "mtu": number too large to fit in target type'),
    ({"isolate": "yes"}, 'invalid isolate option "yes"'),
    ({"isolate": "yes", "metric": "x"}, 'invalid isolate option "yes"'),
    ({"mtu": "x", "isolate": "yes"}, 'unable to parse "mtu": invalid digit found in string'),
    ({"metric": "1.5"}, 'unable to parse "metric": invalid digit found in string'),
    ({"no_default_route": "1"},
     'unable to parse "no_default_route": provided string was not `true` or `false`'),
    ({"vlan": "65536"}, 'unable to parse "vlan": number too large to fit in target type'),
    ({"vlan": "4095"}, "vlan must be between 0 and 4094"),
])
def test_bridge_option_errors(opts: dict, message: str) -> None:
    assert err(base_input(options=opts)) == message


def test_bridge_options_accepted_as_given() -> None:
    opts = {"mode": "whatever", "mtu": "+1500", "isolate": "false", "metric": "0",
            "no_default_route": "true", "vrf": "v", "vlan": "0"}
    assert ok(base_input(options=opts))["options"] == opts


def _used(doc: dict, interfaces: list[str] = (), subnets: list[str] = ()) -> dict:
    doc["used"]["interfaces"] = list(interfaces)
    doc["used"]["subnets"] = list(subnets)
    doc["options"]["check_used_subnets"] = True
    return doc


@pytest.mark.parametrize("opts", [{"vlan": "5"}, {"mode": "unmanaged"}, {"mode": ""}])
def test_vlan_or_unmanaged_bridges_may_share_name_and_subnet(opts: dict) -> None:
    doc = _used(base_input(options=opts, network_interface="br0",
                           subnets=[{"subnet": "10.1.0.0/24"}]), ["br0"], ["10.1.0.0/24"])
    assert ok(doc)["network_interface"] == "br0"


def test_managed_bridge_checks_name_and_subnet() -> None:
    doc = _used(base_input(options={"mode": "managed"}, network_interface="br0"), ["br0"])
    assert err(doc) == "bridge name br0 already in use"
    doc = _used(base_input(subnets=[{"subnet": "10.1.0.128/25"}]), [], ["10.1.0.0/24"])
    assert err(doc) == "subnet 10.1.0.128/25 is already used on the host or by another config"
    doc = _used(base_input(subnets=[{"subnet": "10.0.0.0/8"}]), [], ["10.1.0.0/24"])
    assert err(doc) == "subnet 10.0.0.0/8 is already used on the host or by another config"


def test_used_subnets_are_ignored_without_check_used_subnets() -> None:
    doc = base_input(subnets=[{"subnet": "10.1.0.0/24"}])
    doc["used"]["subnets"] = ["10.1.0.0/24"]
    assert ok(doc)["subnets"] == [{"gateway": "10.1.0.1", "subnet": "10.1.0.0/24"}]


def test_used_subnets_of_the_other_family_do_not_clash() -> None:
    doc = _used(base_input(subnets=[{"subnet": "10.1.0.0/24"}]), [], ["::/0"])
    assert ok(doc)["subnets"][0]["subnet"] == "10.1.0.0/24"


# ---------------------------------------------------------------------------
# interface name allocation


def test_free_name_skips_host_links_used_interfaces_and_network_names() -> None:
    doc = base_input()
    doc["used"]["interfaces"] = ["podman2"]
    doc["used"]["names"] = {"podman3": "00" * 32}
    out = ok(doc, links=["lo", "podman1", "podman4x"])
    assert out["network_interface"] == "podman4"


def test_free_name_uses_the_prefix_and_starts_at_one() -> None:
    doc = base_input()
    doc["options"]["default_interface_name"] = "cni-podman"
    assert ok(doc, links=["podman1"])["network_interface"] == "cni-podman1"


def test_free_name_without_prefix() -> None:
    doc = base_input()
    del doc["options"]["default_interface_name"]
    assert err(doc) == "default interface name is not set"
    doc["options"]["default_interface_name"] = None
    assert err(doc) == "default interface name is not set"


def test_free_name_when_link_dump_fails() -> None:
    from netavark.create.drivers import free_device_name
    from netavark.create.input import Used

    assert free_device_name("p", Used(["p1"]), lambda: None) == "p2"


def test_free_name_exhausted() -> None:
    from netavark.create.drivers import free_device_name
    from netavark.create.input import Used

    taken = [f"p{i}" for i in range(1, 1_000_000)]
    with pytest.raises(NetavarkError) as e:
        free_device_name("p", Used(taken), lambda: [])
    assert str(e.value) == "Could not find a free device name after 1,000,000 attempts"
    assert free_device_name("p", Used(taken[:-1]), lambda: []) == "p999999"


# ---------------------------------------------------------------------------
# dual stack


def test_ipv6_enabled_with_only_an_ipv6_subnet_adds_ipv4_after_it() -> None:
    out = ok(base_input(ipv6_enabled=True, subnets=[{"subnet": "fd00:1::/64"}]))
    assert out["subnets"] == [{"gateway": "fd00:1::1", "subnet": "fd00:1::/64"},
                              {"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]


def test_ipv6_enabled_with_both_families_adds_nothing() -> None:
    subnets = [{"subnet": "10.5.0.0/16"}, {"subnet": "fd00::/120"}]
    out = ok(base_input(ipv6_enabled=True, subnets=subnets))
    assert [s["subnet"] for s in out["subnets"]] == ["10.5.0.0/16", "fd00::/120"]


def test_random_ipv6_subnet_avoids_used_even_without_check() -> None:
    from netavark.create import subnets as alloc

    seq = iter([IpNet.parse("fd00:0:0:1::/64"), IpNet.parse("fd00:0:0:2::/64")])
    orig = alloc.random_ula_subnet
    alloc.random_ula_subnet = lambda: next(seq)
    try:
        got = alloc.free_ipv6_subnet([IpNet.parse("fd00:0:0:1::5/128")])
    finally:
        alloc.random_ula_subnet = orig
    assert str(got.subnet) == "fd00:0:0:2::/64"


def test_random_ipv6_subnet_gives_up() -> None:
    from netavark.create.subnets import free_ipv6_subnet

    with pytest.raises(NetavarkError) as e:
        free_ipv6_subnet([IpNet.parse("fd00::/8")])
    assert str(e.value) == "failed to get random ipv6 subnet"


# ---------------------------------------------------------------------------
# macvlan / ipvlan


@pytest.mark.parametrize(("driver", "ipam", "subnets", "result"), [
    ("macvlan", None, None, {"driver": "dhcp"}),
    ("macvlan", None, [], {"driver": "dhcp"}),
    ("macvlan", {}, None, {"driver": "dhcp"}),
    ("macvlan", {"driver": "dhcp"}, None, {"driver": "dhcp"}),
    ("macvlan", {"driver": "dhcp"}, [{"subnet": "10.9.0.0/24"}],
     "ipam driver dhcp set but subnets are set"),
    ("macvlan", {"driver": "host-local"}, None,
     "macvlan driver needs at least one subnet specified when the host-local ipam driver is set"),
    ("ipvlan", {"driver": "host-local"}, [],
     "ipvlan driver needs at least one subnet specified when the host-local ipam driver is set"),
    ("ipvlan", None, None, "ipam driver dhcp is not supported with ipvlan"),
    ("ipvlan", {"driver": "dhcp"}, [{"subnet": "10.9.0.0/24"}],
     "ipam driver dhcp is not supported with ipvlan"),
    ("ipvlan", None, [{"subnet": "10.9.0.0/24"}], {"driver": "host-local"}),
    ("ipvlan", {"driver": "none"}, None, {"driver": "none"}),
    ("macvlan", {"driver": "none", "x": "y"}, [], {"driver": "none", "x": "y"}),
])
def test_macvlan_ipvlan_ipam(driver: str, ipam: dict | None, subnets: list | None,
                             result: dict | str) -> None:
    out = create_doc(base_input(driver=driver, ipam_options=ipam, subnets=subnets,
                                dns_enabled=True))
    if isinstance(result, str):
        assert out == {"error": result}
    else:
        assert out["ipam_options"] == result
        assert out["dns_enabled"] is False
        assert "network_interface" not in out


def test_macvlan_subnets_are_not_checked_against_used() -> None:
    doc = _used(base_input(driver="macvlan", subnets=[{"subnet": "10.1.0.0/24"}]), [],
                ["10.1.0.0/24"])
    assert ok(doc)["subnets"] == [{"gateway": "10.1.0.1", "subnet": "10.1.0.0/24"}]


def test_macvlan_parent_check() -> None:
    doc = base_input(driver="macvlan", network_interface="eth5")
    assert err(doc, links=["lo"]) == "parent interface eth5 does not exist"
    assert ok(doc, links=["lo", "eth5"])["network_interface"] == "eth5"


def test_macvlan_parent_check_skipped_when_links_cannot_be_read() -> None:
    from netavark.create.drivers import create_macvlan_ipvlan
    from netavark.create.input import NetworkCreateConfig

    cfg = NetworkCreateConfig.from_json(base_input(driver="macvlan", network_interface="eth5"))
    create_macvlan_ipvlan(cfg.network, lambda: None)
    assert cfg.network.ipam_options == {"driver": "dhcp"}


@pytest.mark.parametrize(("driver", "opts", "message"), [
    ("macvlan", {"vlan": "1"}, "unsupported vlan network option: vlan"),
    ("ipvlan", {"isolate": "true"}, "unsupported vlan network option: isolate"),
    ("macvlan", {"mode": "l2"}, 'invalid macvlan mode "l2"'),
    ("ipvlan", {"mode": "bridge"}, 'invalid ipvlan mode "bridge"'),
    ("ipvlan", {"bclim": "1"}, "unsupported ipvlan network option bclim"),
    ("ipvlan", {"bclim": "x"}, 'unable to parse "bclim": invalid digit found in string'),
    ("macvlan", {"bclim": "-2147483649"},
     'unable to parse "bclim": number too small to fit in target type'),
    ("macvlan", {"mtu": "x", "mode": "bad"},
     'unable to parse "mtu": invalid digit found in string'),
])
def test_vlan_option_errors(driver: str, opts: dict, message: str) -> None:
    doc = base_input(driver=driver, options=opts, subnets=[{"subnet": "10.9.0.0/24"}])
    assert err(doc) == message


@pytest.mark.parametrize(("driver", "mode"), [
    ("macvlan", ""), ("macvlan", "bridge"), ("macvlan", "private"), ("macvlan", "vepa"),
    ("macvlan", "passthru"), ("macvlan", "source"), ("ipvlan", ""), ("ipvlan", "l2"),
    ("ipvlan", "l3"), ("ipvlan", "l3s"),
])
def test_vlan_modes(driver: str, mode: str) -> None:
    opts = {"mode": mode, "mtu": "1400", "metric": "5", "no_default_route": "false"}
    if driver == "macvlan":
        opts["bclim"] = "-1"
    doc = base_input(driver=driver, options=opts, subnets=[{"subnet": "10.9.0.0/24"}])
    assert ok(doc)["options"] == opts


# ---------------------------------------------------------------------------
# dns, gateways, subnets


def test_dns_servers_need_dns() -> None:
    msg = "cannot set NetworkDNSServers if DNS is not enabled for the network"
    assert err(base_input(network_dns_servers=[])) == msg
    assert err(base_input(dns_enabled=True, network_dns_servers=["1.1.1.1"],
                          ipam_options={"driver": "none"})) == msg
    assert err(base_input(driver="macvlan", dns_enabled=True,
                          network_dns_servers=["1.1.1.1"])) == msg
    out = ok(base_input(dns_enabled=True, network_dns_servers=[]))
    assert out["network_dns_servers"] == []


@pytest.mark.parametrize(("internal", "dns", "gateway"), [
    (False, False, True), (True, True, True), (True, False, False), (False, True, True)])
def test_gateway_added_unless_internal_without_dns(internal: bool, dns: bool,
                                                   gateway: bool) -> None:
    out = ok(base_input(internal=internal, dns_enabled=dns))
    assert ("gateway" in out["subnets"][0]) is gateway


@pytest.mark.parametrize(("subnet", "gateway"), [
    ("10.0.0.0/30", "10.0.0.1"), ("10.0.0.5/24", "10.0.0.1"), ("0.0.0.0/0", "0.0.0.1"),
    ("fd00::/127", "fd00::1"), ("fd00::8/64", "fd00::1"), ("::/0", "::1"),
    ("::ffff:0:0/96", "::ffff:0.0.0.1"),
])
def test_first_ip(subnet: str, gateway: str) -> None:
    assert str(validate.first_ip(IpNet.parse(subnet))) == gateway


@pytest.mark.parametrize(("subnet", "limit"), [
    ("10.0.0.0/31", 31), ("10.0.0.1/32", 31), ("fd00::/128", 128)])
def test_no_room_for_a_gateway(subnet: str, limit: int) -> None:
    with pytest.raises(NetavarkError) as e:
        validate.first_ip(IpNet.parse(subnet))
    assert str(e.value) == (f"could not create gateway for subnet {subnet} because it has a "
                            f"{limit} or greater subnet prefix")


def test_explicit_gateway_on_a_31_is_fine() -> None:
    out = ok(base_input(subnets=[{"subnet": "10.0.0.0/31", "gateway": "10.0.0.1"}]))
    assert out["subnets"] == [{"gateway": "10.0.0.1", "subnet": "10.0.0.0/31"}]


def test_gateway_of_other_family_is_not_in_subnet() -> None:
    assert err(base_input(subnets=[{"subnet": "10.0.0.0/24", "gateway": "::1"}])) == \
        "gateway ::1 not in subnet 10.0.0.0/24"


@pytest.mark.parametrize(("subnets", "message"), [
    (["10.0.0.0/24", "10.0.0.0/24"], "duplicate subnet defined: 10.0.0.0/24"),
    (["10.0.0.0/24", "10.1.0.0/24", "10.0.0.0/16"],
     "overlapping subnets: 10.0.0.0/24 and 10.0.0.0/16"),
    # host bits make it a different value, so it is an overlap, not a duplicate
    (["10.0.0.0/24", "10.0.0.7/24"], "overlapping subnets: 10.0.0.0/24 and 10.0.0.7/24"),
    (["fd00::/64", "fd00::/48"], "overlapping subnets: fd00::/64 and fd00::/48"),
])
def test_subnet_overlaps(subnets: list[str], message: str) -> None:
    assert err(base_input(subnets=[{"subnet": s} for s in subnets])) == message


def test_overlap_is_checked_before_gateways() -> None:
    subnets = [{"subnet": "10.0.0.0/32"}, {"subnet": "10.0.0.0/32"}]
    assert err(base_input(subnets=subnets)) == "duplicate subnet defined: 10.0.0.0/32"


# ---------------------------------------------------------------------------
# lease ranges


def _lease(start: str | None, end: str | None, subnet: str = "10.0.0.0/24") -> None:
    validate.validate_lease_range(LeaseRange(start, end), IpNet.parse(subnet))


@pytest.mark.parametrize(("start", "end", "message"), [
    ("x", None, "invalid start_ip: invalid IP address syntax"),
    ("", None, "invalid start_ip: invalid IP address syntax"),
    ("10.0.0.010", None, "invalid start_ip: invalid IP address syntax"),
    (None, "10.0.1.1", "lease range end_ip 10.0.1.1 not in subnet 10.0.0.0/24"),
    ("10.0.1.1", "x", "lease range start_ip 10.0.1.1 not in subnet 10.0.0.0/24"),
    ("10.0.0.5", "x", "invalid end_ip: invalid IP address syntax"),
    ("10.0.0.5", "10.0.0.4", "lease range start_ip 10.0.0.5 must be less than or equal to "
                             "end_ip 10.0.0.4"),
])
def test_lease_range_errors(start: str | None, end: str | None, message: str) -> None:
    with pytest.raises(NetavarkError) as e:
        _lease(start, end)
    assert str(e.value) == message


def test_lease_range_ok_and_kept_verbatim() -> None:
    _lease("10.0.0.5", "10.0.0.5")
    _lease(None, None)
    out = ok(base_input(subnets=[{"subnet": "fd00::/64",
                                  "lease_range": {"start_ip": "FD00::0:5", "end_ip": None}}]))
    assert out["subnets"][0]["lease_range"] == {"end_ip": None, "start_ip": "FD00::0:5"}
    with pytest.raises(NetavarkError) as e:
        _lease("fd00:0::9", "fd00::8", "fd00::/64")
    assert str(e.value) == ("lease range start_ip fd00::9 must be less than or equal to "
                            "end_ip fd00::8")


# ---------------------------------------------------------------------------
# routes


@pytest.mark.parametrize(("route", "message"), [
    (Route(IpNet.parse("10.0.0.1/24"), IpAddr.parse("10.0.0.1")), "route destination invalid"),
    (Route(IpNet.parse("fd00::1/64"), None, route_type="blackhole"),
     "route destination invalid"),
    (Route(IpNet.parse("10.0.0.0/24")), "route 10.0.0.0/24 requires a gateway for type unicast"),
    (Route(IpNet.parse("10.0.0.0/24"), route_type=""),
     "route 10.0.0.0/24 requires a gateway for type unicast"),
    (Route(IpNet.parse("10.0.0.0/24"), IpAddr.parse("1.1.1.1"), route_type="prohibit"),
     "route 10.0.0.0/24 must not have a gateway for type prohibit"),
    (Route(IpNet.parse("10.0.0.0/24"), IpAddr.parse("1.1.1.1"), route_type="Unicast"),
     'invalid route type "Unicast"'),
    (Route(IpNet.parse("10.0.0.0/24"), route_type="local"), 'invalid route type "local"'),
])
def test_route_errors(route: Route, message: str) -> None:
    with pytest.raises(NetavarkError) as e:
        validate.validate_route(route)
    assert str(e.value) == message


def test_routes_ok() -> None:
    routes = [
        {"destination": "0.0.0.0/0", "gateway": "10.89.0.9", "metric": 5},
        {"destination": "fd00::/8", "gateway": "10.89.0.9", "route_type": "unicast"},
        {"destination": "10.7.0.0/16", "route_type": "unreachable"},
        {"destination": "10.8.0.0/16", "route_type": "prohibit", "metric": 0},
    ]
    out = ok(base_input(routes=routes))
    assert out["routes"] == [
        {"gateway": "10.89.0.9", "destination": "0.0.0.0/0", "metric": 5},
        {"gateway": "10.89.0.9", "destination": "fd00::/8", "metric": None,
         "route_type": "unicast"},
        {"destination": "10.7.0.0/16", "metric": None, "route_type": "unreachable"},
        {"destination": "10.8.0.0/16", "metric": 0, "route_type": "prohibit"},
    ]


def test_subnet_errors_come_before_route_errors() -> None:
    doc = base_input(subnets=[{"subnet": "10.0.0.0/24", "gateway": "10.1.0.1"}],
                     routes=[{"destination": "10.0.0.1/8"}])
    assert err(doc) == "gateway 10.1.0.1 not in subnet 10.0.0.0/24"


# ---------------------------------------------------------------------------
# the rest of the network is passed through


def test_created_is_replaced_and_labels_kept() -> None:
    out = ok(base_input(created="2001-01-01T00:00:00Z", labels={"a": "b"}))
    assert out["created"] != "2001-01-01T00:00:00Z"
    assert out["labels"] == {"a": "b"}


def test_validate_subnet_sets_ipv6_enabled_for_any_driver() -> None:
    out = ok(base_input(driver="macvlan", subnets=[{"subnet": "fd01::/64"}]))
    assert out["ipv6_enabled"] is True


def test_subnet_objects_are_updated_in_place() -> None:
    s = Subnet(IpNet.parse("10.3.0.0/16"))
    validate.validate_subnet(s, True, False, [])
    assert str(s.gateway) == "10.3.0.1"
