"""macvlan/ipvlan driver logic without a kernel: validation, the temporary-name
dance, rollback, teardown order, the DHCP hand-off.

The kernel behaviour itself is covered by tests/kernel/test_vlan.py; here the
two namespaces are an in-memory model (:class:`World`) so that rare paths
(random-name clashes, failing renames and deletes) can be forced.
"""

from __future__ import annotations

import contextlib
import errno
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netavark.config import NetworkOptions
from netavark.errors import NetavarkError, NetlinkError
from netavark.netlink import rtnl
from netavark.netlink.route import route_request
from netavark.network import vlan as vlan_mod
from netavark.network.driver import DriverInfo
from netavark.network.vlan import (
    Vlan,
    VlanOptions,
    ipvlan_mode,
    macvlan_mode,
    parse_vlan_opts,
    random_tmp_name,
)

# ---------------------------------------------------------------------------
# an in-memory host + container


class FakeLink:
    def __init__(self, index: int, name: str, address: str | None) -> None:
        self.index = index
        self.name = name
        self.address = address


class FakeSock:
    def __init__(self, handle: FakeRtnl) -> None:
        self.handle = handle

    def transact(self, reqs: list) -> list:
        for r in reqs:
            self.handle.calls.append(("transact", r.msg_type))
            r.error = self.handle.fail("transact")
            if r.msg_type == rtnl.RTM_NEWROUTE and r.error is None:
                self.handle.routes.append(r.payload)
        return reqs


class FakeRtnl:
    """One namespace: links by name, scripted failures per operation."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.links: dict[str, FakeLink] = {}
        self.routes: list[bytes] = []
        self.calls: list[tuple] = []
        self.errors: dict[str, list[NetavarkError | None]] = {}
        self.sock = FakeSock(self)

    def fail(self, op: str) -> NetavarkError | None:
        errs = self.errors.get(op)
        return errs.pop(0) if errs else None

    def _raise(self, op: str) -> None:
        err = self.fail(op)
        if err is not None:
            raise err

    def add(self, name: str, mac: str | None = "02:00:00:00:00:01") -> FakeLink:
        link = FakeLink(self.world.next_index(), name, mac)
        self.links[name] = link
        return link

    def get_link(self, name: str) -> FakeLink:
        self.calls.append(("get_link", name))
        self._raise("get_link")
        if name not in self.links:
            raise NetlinkError(errno.ENODEV)
        return self.links[name]

    def default_route_interface(self) -> FakeLink:
        self.calls.append(("default_route_interface",))
        self._raise("default_route_interface")
        if self.world.default_route is None:
            raise NetavarkError("failed to get default route interface")
        return self.links[self.world.default_route]

    def create_link(self, spec) -> None:
        self.calls.append(("create_link", spec.kind, spec.name, spec.link, spec.mtu,
                           spec.address, spec.info_data()))
        self._raise("create_link")
        target = self.world.netns
        if spec.name in target.links:
            raise NetlinkError(errno.EEXIST)
        target.add(spec.name, spec.address or "02:00:00:00:00:99")

    def rename(self, index: int, name: str) -> None:
        self.calls.append(("rename", index, name))
        self._raise("rename")
        if name in self.links:
            raise NetlinkError(errno.EEXIST)
        (old,) = [n for n, link in self.links.items() if link.index == index]
        link = self.links.pop(old)
        link.name = name
        self.links[name] = link

    def _delete(self, name: str | None) -> None:
        if name is None or name not in self.links:
            raise NetlinkError(errno.ENODEV)
        del self.links[name]

    def del_link(self, index: int) -> None:
        self.calls.append(("del_link", index))
        self._raise("del_link")
        names = [n for n, link in self.links.items() if link.index == index]
        self._delete(names[0] if names else None)

    def del_link_by_name(self, name: str) -> None:
        self.calls.append(("del_link_by_name", name))
        self._raise("del_link_by_name")
        self._delete(name)

    def del_route(self, route) -> None:
        self.calls.append(("del_route", str(route)))
        self._raise("del_route")
        payload = route_request(route)
        if payload not in self.routes:
            raise NetlinkError(errno.ESRCH)
        self.routes.remove(payload)


class World:
    def __init__(self) -> None:
        self._index = 1
        self.host = FakeRtnl(self, "host")
        self.netns = FakeRtnl(self, "container")
        self.default_route: str | None = None
        self.sysctls: list[str] = []

    def next_index(self) -> int:
        self._index += 1
        return self._index


class FakeNs:
    fd = 77

    def entered(self, back: object) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    w = World()
    w.host.add("lan0", "02:00:00:00:00:10")
    monkeypatch.setattr(vlan_mod.sysctl, "disable_ipv6_autoconf", w.sysctls.append)
    return w


NET_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"


def make(kind: str = "macvlan", *, options: dict | None = None, static_ips: list | None = None,
         static_mac: str | None = None, subnets: list | None = None, routes: list | None = None,
         ipam: str = "host-local", parent: str | None = "lan0", internal: bool = False,
         interface_name: str = "eth0", hostname: str | None = None,
         dns_servers: list | None = None) -> Vlan:
    per_net: dict = {"interface_name": interface_name}
    if ipam == "host-local":
        per_net["static_ips"] = ["10.88.0.2"] if static_ips is None else static_ips
    if static_mac is not None:
        per_net["static_mac"] = static_mac
    net: dict = {"name": "podman", "id": NET_ID, "driver": kind,
                 "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]
                 if subnets is None else subnets,
                 "ipv6_enabled": False, "internal": internal, "dns_enabled": False,
                 "ipam_options": {"driver": ipam}}
    if parent is not None:
        net["network_interface"] = parent
    if options is not None:
        net["options"] = options
    if routes is not None:
        net["routes"] = routes
    doc: dict = {"container_id": "someID", "container_name": "someName",
                 "networks": {"podman": per_net}, "network_info": {"podman": net}}
    if hostname is not None:
        doc["container_hostname"] = hostname
    if dns_servers is not None:
        doc["dns_servers"] = dns_servers
    opts = NetworkOptions.from_json(doc)
    _, pno = opts.networks[0]
    return Vlan(DriverInfo(
        firewall=None, container_id=opts.container_id,  # type: ignore[arg-type]
        container_name=opts.container_name, container_hostname=opts.container_hostname,
        container_dns_servers=opts.dns_servers, netns_host=FakeNs(),  # type: ignore[arg-type]
        netns_container=FakeNs(), netns_path="/run/netns/c1",  # type: ignore[arg-type]
        network=opts.network_info["podman"], per_network_opts=pno, port_mappings=None,
        dns_port=53, config_dir="/nonexistent", rootless=False))


def run_setup(d: Vlan, w: World):
    d.validate()
    return d.setup(w.host, w.netns)  # type: ignore[arg-type]


def error_of(fn, *args) -> str:
    with pytest.raises(NetavarkError) as exc:
        fn(*args)
    return str(exc.value)


# ---------------------------------------------------------------------------
# options and validation


@pytest.mark.parametrize(("text", "mode"), [
    (None, rtnl.MACVLAN_MODE_BRIDGE), ("", rtnl.MACVLAN_MODE_BRIDGE),
    ("bridge", rtnl.MACVLAN_MODE_BRIDGE), ("private", rtnl.MACVLAN_MODE_PRIVATE),
    ("vepa", rtnl.MACVLAN_MODE_VEPA), ("passthru", rtnl.MACVLAN_MODE_PASSTHRU),
    ("source", rtnl.MACVLAN_MODE_SOURCE)])
def test_macvlan_modes(text: str | None, mode: int) -> None:
    assert macvlan_mode(text) == mode


@pytest.mark.parametrize(("text", "mode"), [
    (None, rtnl.IPVLAN_MODE_L2), ("", rtnl.IPVLAN_MODE_L2), ("l2", rtnl.IPVLAN_MODE_L2),
    ("l3", rtnl.IPVLAN_MODE_L3), ("l3s", rtnl.IPVLAN_MODE_L3S)])
def test_ipvlan_modes(text: str | None, mode: int) -> None:
    assert ipvlan_mode(text) == mode


@pytest.mark.parametrize(("kind", "mode", "message"), [
    ("macvlan", "Bridge", 'invalid macvlan mode "Bridge"'),
    ("macvlan", "l2", 'invalid macvlan mode "l2"'),
    ("ipvlan", "bridge", 'invalid ipvlan mode "bridge"'),
    ("ipvlan", "L3", 'invalid ipvlan mode "L3"'),
])
def test_unknown_mode(kind: str, mode: str, message: str) -> None:
    assert error_of(make(kind, options={"mode": mode}).validate) == message


def test_options_parsed_in_upstream_order() -> None:
    # every option is bad: the first one upstream parses (mtu, after mode) is reported
    bad = {"bclim": "x", "no_default_route": "yes", "metric": "-1", "mtu": "big"}
    assert error_of(VlanOptions, bad) == 'unable to parse "mtu": invalid digit found in string'
    del bad["mtu"]
    assert error_of(VlanOptions, bad) == 'unable to parse "metric": invalid digit found in string'
    del bad["metric"]
    assert error_of(VlanOptions, bad) == (
        'unable to parse "no_default_route": provided string was not `true` or `false`')
    del bad["no_default_route"]
    assert error_of(VlanOptions, bad) == 'unable to parse "bclim": invalid digit found in string'
    assert error_of(VlanOptions, {"bclim": "2147483648"}) == (
        'unable to parse "bclim": number too large to fit in target type')
    assert VlanOptions({"bclim": "-2147483648"}).bclim == -(1 << 31)


def test_strict_options_for_create() -> None:
    assert error_of(parse_vlan_opts, {"mode": "l2", "isolate": "true"}, True) == (
        "unsupported vlan network option: isolate")
    assert parse_vlan_opts({"isolate": "true"}, False).mode is None


def test_validation_order_and_messages() -> None:
    # interface name first, then options, then IPAM, then the mode
    d = make(interface_name="", options={"mode": "nope", "mtu": "x"}, static_ips=["1.2.3.4"])
    assert error_of(d.validate) == "no container interface name given"
    d = make(options={"mode": "nope", "mtu": "x"}, static_ips=["1.2.3.4"])
    assert error_of(d.validate) == 'unable to parse "mtu": invalid digit found in string'
    d = make(options={"mode": "nope"}, static_ips=["1.2.3.4"])
    assert error_of(d.validate) == "not all static IPs matched a subnet: expected 1, got 0"
    d = make(options={"mode": "nope"})
    assert error_of(d.validate) == 'invalid macvlan mode "nope"'


@pytest.mark.parametrize(("static_ips", "subnets", "message"), [
    (["10.1.2.5", "10.1.3.249"], [{"subnet": "10.1.2.0/23"}, {"subnet": "10.1.3.248/30"}],
     "overlapping subnets: 10.1.2.0/23 and 10.1.3.248/30"),
    (["10.88.0.5"], [{"subnet": "10.88.0.0/16"}, {"subnet": "10.88.0.0/16"}],
     "duplicate subnet defined: 10.88.0.0/16"),
    (["10.88.0.5", "10.89.0.10", "10.90.0.15"],
     [{"subnet": "10.88.0.0/16"}, {"subnet": "10.89.0.0/16"}],
     "not all static IPs matched a subnet: expected 3, got 2"),
])
@pytest.mark.parametrize("kind", ["macvlan", "ipvlan"])
def test_subnet_errors(kind: str, static_ips: list, subnets: list, message: str) -> None:
    assert error_of(make(kind, static_ips=static_ips, subnets=subnets).validate) == message


def test_missing_static_ips() -> None:
    d = make()
    d.info.per_network_opts.static_ips = None
    assert error_of(d.validate) == "no static ips provided"


def test_bad_static_mac() -> None:
    assert error_of(make(static_mac="aa:bb:cc").validate) == (
        "invalid mac length for address: aa:bb:cc")
    # ipvlan ignores static_mac entirely (it has no MAC of its own)
    make("ipvlan", static_mac="aa:bb:cc").validate()


def test_unsupported_kind() -> None:
    assert error_of(make("vxlan").validate) == "unsupported VLAN type vxlan"


def test_defaults() -> None:
    d = make()
    d.validate()
    data = d.data
    assert data is not None
    assert (data.mtu, data.metric, data.no_default_route, data.bclim, data.mac) == (
        0, 99, False, None, None)
    d = make(options={"metric": "0", "mtu": "1400", "no_default_route": "true", "bclim": "3"},
             static_mac="AA-bb-cc-dd-ee-0F")
    d.validate()
    data = d.data
    assert data is not None
    assert (data.mtu, data.metric, data.no_default_route, data.bclim, data.mac) == (
        1400, 0, True, 3, bytes.fromhex("aabbccddee0f"))


def test_internal_drops_gateways() -> None:
    d = make(internal=True)
    d.validate()
    assert d.data is not None
    assert d.data.ipam.gateway_addresses == []
    # the result still reports the subnet gateway
    assert str(d.data.ipam.net_addresses[0].gateway) == "10.88.0.1"


@given(st.dictionaries(st.sampled_from(["mode", "mtu", "metric", "no_default_route", "bclim",
                                        "other"]), st.text(max_size=12)))
def test_option_parsing_only_raises_our_errors(opts: dict) -> None:
    try:
        VlanOptions(opts, strict=True)
    except NetavarkError:
        pass


def test_random_tmp_name() -> None:
    names = {random_tmp_name() for _ in range(200)}
    assert len(names) == 200
    for name in names:
        assert re.fullmatch(r"mv-[A-Za-z0-9]{10}", name)
        assert len(name) <= 15  # IFNAMSIZ - 1


def test_setup_before_validate(world: World) -> None:
    assert error_of(make().setup, world.host, world.netns) == (
        "must call validate() before setup()")


# ---------------------------------------------------------------------------
# setup


def test_setup_result_and_order(world: World) -> None:
    status, entry = run_setup(make(routes=[{"destination": "10.89.0.0/24",
                                        "gateway": "10.88.0.5"}]), world)
    assert entry is None
    link = world.netns.links["eth0"]
    assert status.to_json() == {
        "dns_search_domains": [], "dns_server_ips": [],
        "interfaces": {"eth0": {"mac_address": link.address,
                                "subnets": [{"ipnet": "10.88.0.2/16",
                                             "gateway": "10.88.0.1"}]}}}
    lan0 = world.host.links["lan0"].index
    assert world.host.calls == [
        ("get_link", "lan0"),
        ("create_link", "macvlan", "eth0", lan0, 0, None,
         [("mode", rtnl.MACVLAN_MODE_BRIDGE), ("bc_cutoff", None)])]
    assert world.sysctls == ["eth0"]
    # address, up, default route, static route: one batch
    assert world.netns.calls == [("get_link", "eth0")] + [
        ("transact", t) for t in (rtnl.RTM_NEWADDR, rtnl.RTM_SETLINK, rtnl.RTM_NEWROUTE,
                                  rtnl.RTM_NEWROUTE)]


def test_ipvlan_never_gets_a_mac(world: World) -> None:
    run_setup(make("ipvlan", options={"mode": "l3s", "mtu": "9000"},
               static_mac="aa:bb:cc:dd:ee:ff"), world)
    (create,) = [c for c in world.host.calls if c[0] == "create_link"]
    assert create[1:] == ("ipvlan", "eth0", world.host.links["lan0"].index, 9000, None,
                          [("mode", rtnl.IPVLAN_MODE_L3S)])


def test_parent_from_default_route(world: World) -> None:
    world.host.add("eth9")
    world.default_route = "eth9"
    for parent in (None, ""):
        w_calls = len(world.host.calls)
        run_setup(make(parent=parent), world)
        create = world.host.calls[-1]
        assert world.host.calls[w_calls] == ("default_route_interface",)
        assert create[3] == world.host.links["eth9"].index
        world.netns.links.clear()


def test_parent_errors_are_not_wrapped(world: World) -> None:
    assert error_of(run_setup, make(parent="nope"), world) == (
        "Netlink error: No such device (os error 19)")
    assert error_of(run_setup, make(parent=None), world) == "failed to get default route interface"
    world.host.errors["default_route_interface"] = [
        NetavarkError("dump routes: Netlink error: Invalid argument (os error 22)")]
    assert error_of(run_setup, make(parent=None), world) == (
        "dump routes: Netlink error: Invalid argument (os error 22)")
    assert world.netns.links == {}


def test_create_error_wrapped(world: World) -> None:
    world.host.errors["create_link"] = [NetlinkError(errno.EOPNOTSUPP)]
    assert error_of(run_setup, make("ipvlan"), world) == (
        "create ipvlan interface: Netlink error: Operation not supported (os error 95)")
    assert world.netns.links == {}


def test_name_taken_in_container(world: World) -> None:
    """Upstream's path: temporary name, rename fails, temporary link deleted."""
    existing = world.netns.add("eth0")
    msg = error_of(run_setup, make(), world)
    assert msg == "rename tmp macvlan interface: Netlink error: File exists (os error 17)"
    assert world.netns.links == {"eth0": existing}
    creates = [c for c in world.host.calls if c[0] == "create_link"]
    assert creates[0][2] == "eth0"
    assert re.fullmatch(r"mv-[A-Za-z0-9]{10}", creates[1][2])
    assert len(creates) == 2
    ops = [c[0] for c in world.netns.calls]
    assert ops == ["get_link", "rename", "del_link"]


def test_tmp_name_then_rename_succeeds(world: World) -> None:
    """A kernel that reports EEXIST for a name clash elsewhere: renamed into place."""
    world.host.errors["create_link"] = [NetlinkError(errno.EEXIST)]
    status, _ = run_setup(make(), world)
    assert list(world.netns.links) == ["eth0"]
    assert list(status.interfaces) == ["eth0"]
    tmp = [c for c in world.host.calls if c[0] == "create_link"][1][2]
    assert world.netns.calls[:2] == [("get_link", tmp),
                                     ("rename", world.netns.links["eth0"].index, "eth0")]


def test_tmp_name_clashes_three_times(world: World) -> None:
    world.host.errors["create_link"] = [NetlinkError(errno.EEXIST)] * 4
    assert error_of(run_setup, make(), world) == (
        "create macvlan interface: Netlink error: File exists (os error 17)")
    assert len([c for c in world.host.calls if c[0] == "create_link"]) == 4
    assert world.netns.links == {}


def test_tmp_name_clash_then_success(world: World) -> None:
    world.host.errors["create_link"] = [NetlinkError(errno.EEXIST)] * 3
    run_setup(make(), world)
    assert len([c for c in world.host.calls if c[0] == "create_link"]) == 4
    assert list(world.netns.links) == ["eth0"]


def test_tmp_create_other_error(world: World) -> None:
    world.host.errors["create_link"] = [NetlinkError(errno.EEXIST), NetlinkError(errno.ENOMEM)]
    assert error_of(run_setup, make(), world) == (
        "create macvlan interface: Netlink error: Cannot allocate memory (os error 12)")
    assert len([c for c in world.host.calls if c[0] == "create_link"]) == 2


def test_get_tmp_failure_is_rolled_back(world: World) -> None:
    world.host.errors["create_link"] = [NetlinkError(errno.EEXIST)]
    world.netns.errors["get_link"] = [NetlinkError(errno.EBUSY)]
    assert error_of(run_setup, make(), world) == (
        "get tmp macvlan interface: Netlink error: Device or resource busy (os error 16)")
    assert world.netns.links == {}


def test_failed_tmp_delete_is_logged(world: World, capfd: pytest.CaptureFixture) -> None:
    world.netns.add("eth0")
    world.netns.errors["del_link"] = [NetlinkError(errno.EPERM)]
    assert error_of(run_setup, make(), world).startswith("rename tmp macvlan interface: ")
    err = capfd.readouterr().err
    assert re.search(r"\[ERROR netavark::network::vlan\] failed to delete tmp macvlan link "
                     r"mv-[A-Za-z0-9]{10}: Netlink error: Operation not permitted "
                     r"\(os error 1\)", err), err
    # no second attempt by the rollback
    assert "failed to undo" not in err


def test_later_failures_remove_the_link(world: World) -> None:
    world.netns.errors["get_link"] = [NetlinkError(errno.EBUSY)]
    assert error_of(run_setup, make(), world) == (
        "get macvlan interface: Netlink error: Device or resource busy (os error 16)")
    assert world.netns.links == {}


@pytest.mark.parametrize(("position", "message"), [
    (0, "add ip addr to macvlan: Netlink error: File exists (os error 17)"),
    (1, "set macvlan up: Netlink error: File exists (os error 17)"),
    (2, "add default route (dest: 0.0.0.0/0, gw: 10.88.0.1, metric 99): "
        "Netlink error: File exists (os error 17)"),
    (3, "Netlink error: File exists (os error 17)"),
])
def test_configure_errors(world: World, position: int, message: str) -> None:
    world.netns.errors["transact"] = [None] * position + [NetlinkError(errno.EEXIST)]
    d = make(routes=[{"destination": "10.89.0.0/24", "gateway": "10.88.0.5"},
                     {"destination": "10.92.0.0/24", "gateway": "10.91.0.1"}])
    assert error_of(run_setup, d, world) == message
    assert world.netns.links == {}
    # static routes that did get added (e.g. through another interface) are removed
    deleted = [c[1] for c in world.netns.calls if c[0] == "del_route"]
    route1 = "(dest: 10.89.0.0/24, gw: 10.88.0.5, metric 100)"
    route2 = "(dest: 10.92.0.0/24, gw: 10.91.0.1, metric 100)"
    assert sorted(deleted) == ([route2] if position == 3 else [route1, route2])
    # what is left would go with the link in a kernel (the fake keeps it): the default route
    assert all(p[1] == 0 for p in world.netns.routes)


def test_ipv6_disabled_message(world: World) -> None:
    world.netns.errors["transact"] = [None, NetlinkError(errno.EACCES)]
    d = make(static_ips=["10.88.0.2", "fd00::2"],
             subnets=[{"subnet": "10.88.0.0/16"}, {"subnet": "fd00::/64"}])
    assert error_of(run_setup, d, world) == (
        "add ip addr to macvlan: failed to add ipv6 address, is ipv6 enabled in the kernel?: "
        "Netlink error: Permission denied (os error 13)")


def test_missing_mac_is_reported_last(world: World) -> None:
    d = make()
    d.validate()
    real_create = world.host.create_link

    def create(spec) -> None:
        real_create(spec)
        world.netns.links[spec.name].address = None

    world.host.create_link = create  # type: ignore[method-assign]
    assert error_of(d.setup, world.host, world.netns) == (
        "failed to get the the container mac address")
    assert world.netns.links == {}


def test_default_routes(world: World) -> None:
    subnets = [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"},
               {"subnet": "10.89.0.0/16", "gateway": "10.89.0.1"},
               {"subnet": "fd00::/64", "gateway": "fd00::1"}]
    d = make(static_ips=["10.88.0.2", "10.89.0.2", "fd00::2"], subnets=subnets,
             options={"metric": "200"})
    run_setup(d, world)
    from netavark.ip import IpAddr, IpNet
    from netavark.netlink.route import RouteSpec

    want = [route_request(RouteSpec(IpNet.parse("0.0.0.0/0"), IpAddr.parse("10.88.0.1"), 200)),
            route_request(RouteSpec(IpNet.parse("::/0"), IpAddr.parse("fd00::1"), 200))]
    assert world.netns.routes == want


@pytest.mark.parametrize("kw", [{"internal": True}, {"options": {"no_default_route": "true"}}])
def test_no_default_route(world: World, kw: dict) -> None:
    run_setup(make(**kw), world)
    assert world.netns.routes == []


def test_dhcp_lease_arguments(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from netavark.config import NetAddress
    from netavark.ip import IpAddr, IpNet
    from netavark.network import dhcp

    calls = []
    lease = [NetAddress(IpNet.parse("192.168.1.50/24"), IpAddr.parse("192.168.1.1"))]

    def get_dhcp_lease(*args: object) -> tuple:
        calls.append(args)
        return lease, [IpAddr.parse("192.168.1.1")], ["example.com"]

    monkeypatch.setattr(dhcp, "get_dhcp_lease", get_dhcp_lease)
    status, _ = run_setup(make(ipam="dhcp", subnets=[], hostname="web"), world)
    mac = world.netns.links["eth0"].address
    assert calls == [("lan0", "eth0", "/run/netns/c1", mac, "web", "someID")]
    assert status.to_json() == {
        "dns_search_domains": ["example.com"], "dns_server_ips": ["192.168.1.1"],
        "interfaces": {"eth0": {"mac_address": mac, "subnets": [
            {"ipnet": "192.168.1.50/24", "gateway": "192.168.1.1"}]}}}
    # no address requests: only "up" in the batch
    assert [c for c in world.netns.calls if c[0] == "transact"] == [
        ("transact", rtnl.RTM_SETLINK)]

    # auto-detected parent: upstream passes "" (quirk); --dns given: lease DNS ignored
    world.netns.links.clear()
    world.host.add("eth9")
    world.default_route = "eth9"
    status, _ = run_setup(make(ipam="dhcp", subnets=[], parent=None, dns_servers=["9.9.9.9"]),
                      world)
    assert calls[1][0] == "" and calls[1][4] == ""
    assert status.dns_server_ips == []


def test_dhcp_failure_removes_link(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from netavark.network import dhcp

    def get_dhcp_lease(*args: object) -> tuple:
        raise NetavarkError("unable to obtain lease: nope")

    monkeypatch.setattr(dhcp, "get_dhcp_lease", get_dhcp_lease)
    assert error_of(run_setup, make(ipam="dhcp", subnets=[]), world) == (
        "unable to obtain lease: nope")
    assert world.netns.links == {}


def test_ipam_none(world: World) -> None:
    status, _ = run_setup(make(ipam="none", subnets=[]), world)
    assert status.to_json()["interfaces"]["eth0"]["subnets"] == []
    assert world.netns.routes == []


# ---------------------------------------------------------------------------
# teardown


ROUTES = [{"destination": "10.89.0.0/24", "gateway": "10.88.0.5"},
          {"destination": "fd:2f2f::/64", "gateway": "fd:1f1f::20"}]


def test_teardown_without_netns(world: World) -> None:
    make(routes=ROUTES).teardown(world.host, None)  # type: ignore[arg-type]
    assert world.host.calls == []


def test_teardown_order(world: World) -> None:
    run_setup(make(), world)
    world.netns.calls.clear()
    world.netns.routes.append(route_request(_route("10.89.0.0/24", "10.88.0.5")))
    world.netns.routes.append(route_request(_route("fd:2f2f::/64", "fd:1f1f::20")))
    make(routes=ROUTES).teardown(world.host, world.netns)  # type: ignore[arg-type]
    assert world.netns.calls == [
        ("del_route", "(dest: 10.89.0.0/24, gw: 10.88.0.5, metric 100)"),
        ("del_route", "(dest: fd:2f2f::/64, gw: fd:1f1f::20, metric 100)"),
        ("del_link_by_name", "eth0")]
    assert world.netns.links == {}


def _route(dest: str, gw: str):
    from netavark.ip import IpAddr, IpNet
    from netavark.netlink.route import RouteSpec

    return RouteSpec(IpNet.parse(dest), IpAddr.parse(gw), 100)


def test_teardown_fail_fast(world: World) -> None:
    run_setup(make(), world)
    world.netns.calls.clear()
    # the first route is missing: its error is returned, nothing else is tried
    assert error_of(make(routes=ROUTES).teardown, world.host, world.netns) == (
        "Netlink error: No such process (os error 3)")
    assert world.netns.calls == [
        ("del_route", "(dest: 10.89.0.0/24, gw: 10.88.0.5, metric 100)")]
    assert "eth0" in world.netns.links


def test_teardown_errors(world: World) -> None:
    assert error_of(make().teardown, world.host, world.netns) == (
        "Netlink error: No such device (os error 19)")
    d = make()
    d.info.per_network_opts.static_ips = None
    assert error_of(d.teardown, world.host, world.netns) == "no static ips provided"
    assert error_of(make(routes=[{"destination": "10.89.0.0/24"}]).teardown, world.host,
                    world.netns) == "route 10.89.0.0/24 requires a gateway for type unicast"
    assert world.netns.calls == [("del_link_by_name", "eth0")]


def test_teardown_dhcp(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from netavark.network import dhcp

    calls = []
    monkeypatch.setattr(dhcp, "dhcp_teardown", lambda info, netns: calls.append((info, netns)))
    world.netns.add("eth0")
    d = make(ipam="dhcp", subnets=[])
    d.teardown(world.host, world.netns)  # type: ignore[arg-type]
    assert calls == [(d.info, world.netns)]
    assert world.netns.links == {}

    def fail(info: object, netns: object) -> None:
        raise NetavarkError("drop DHCP lease: gone")

    monkeypatch.setattr(dhcp, "dhcp_teardown", fail)
    world.netns.add("eth0")
    assert error_of(d.teardown, world.host, world.netns) == "drop DHCP lease: gone"
    assert "eth0" in world.netns.links
