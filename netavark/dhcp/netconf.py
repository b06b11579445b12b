"""Applying a lease inside the container's network namespace (proxy side).

The address goes on the container interface and one IPv4 default route via
the first router (metric 100, proto static); a renewed lease with another
address, mask or routers swaps them live.  Errors are worded as upstream's
proxy words them (they become gRPC status messages or log lines).
"""

from __future__ import annotations

import errno

from .. import log
from ..errors import NetavarkError, wrap
from ..ip import IpAddr, IpNet
from ..netlink.route import RouteSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..netlink.route import RtnlHandle
    from .dhcpv4 import Lease as DhcpLease
    from .proto import Lease

_route_log = log.Logger("netavark::network::netlink_route")
_log = log.Logger("netavark::dhcp_proxy::ip")
DEFAULT_METRIC = 100
V4_SYNTAX = "invalid IPv4 address syntax"
IP_SYNTAX = "invalid IP address syntax"


class ProxyError(NetavarkError):
    """A configuration error (gRPC status UNKNOWN)."""


def _open_container(ns_path: str) -> RtnlHandle:
    """A netlink socket inside the namespace at ``ns_path`` (errors as upstream's)."""
    from ..network.core import Namespaces

    ns = Namespaces.open(ns_path)
    handle = ns.container_rtnl
    assert handle is not None
    # keep only the container socket
    ns.container_rtnl = None
    ns.close()
    return handle


def _parse_v4(text: str) -> IpAddr:
    from ..errors import AddrParseError

    try:
        return IpAddr.parse(text, 4)
    except AddrParseError:
        raise ProxyError(V4_SYNTAX) from None


def default_route(gw: IpAddr) -> RouteSpec:
    return RouteSpec(IpNet(IpAddr(4, 0), 0), gw, DEFAULT_METRIC)


def add_route(handle: RtnlHandle, route: RouteSpec) -> None:
    _route_log.info(f"Adding route {route}")
    handle.add_route(route)


def setup(lease: Lease, interface: str, ns_path: str) -> None:
    """Address and default route from a fresh lease."""
    _log.debug(f"setting up {interface}")
    try:
        address = IpAddr.parse(lease.yiaddr)
    except NetavarkError:
        raise ProxyError(f"bad address: {IP_SYNTAX}") from None
    gateways = []
    try:
        for g in lease.gateways:
            _parse_v4(lease.subnet_mask)
            gateways.append(_parse_v4(g))
    except ProxyError as e:
        raise ProxyError(f"bad gateways: {e.msg}") from None
    prefix = bin(_parse_v4(lease.subnet_mask).value).count("1")
    try:
        handle = _open_container(ns_path)
    except NetavarkError as e:
        raise ProxyError(str(e)) from None
    try:
        try:
            net = IpNet(address, prefix)
        except NetavarkError:
            raise ProxyError("invalid IP prefix length") from None
        try:
            link = handle.get_link(interface)
            handle.add_addr(link.index, net)
        except NetavarkError as e:
            raise ProxyError(str(e)) from None
        v4 = [g for g in gateways if g.version == 4][:1]
        for gw in v4:
            route = default_route(gw)
            try:
                add_route(handle, route)
            except NetavarkError as e:
                raise ProxyError(str(wrap(f"add default route {route}", e))) from None
    finally:
        handle.close()


def _netmask_net(addr: bytes, mask: bytes, what: str) -> IpNet:
    m = int.from_bytes(mask, "big")
    prefix = bin(m).count("1")
    if m != ((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1):
        raise NetavarkError(f"{what}: invalid IP prefix length")
    return IpNet(IpAddr(4, int.from_bytes(addr, "big")), prefix)


def update_lease_ip(ns_path: str, interface: str, old: DhcpLease, new: DhcpLease) -> None:
    """Swap address and default route after a renewal changed them."""
    try:
        handle = _open_container(ns_path)
    except NetavarkError as e:
        raise wrap("failed to open netlink socket in netns", e) from None
    try:
        old_net = _netmask_net(old.yiaddr, old.subnet_mask, "create ipnet from old lease")
        new_net = _netmask_net(new.yiaddr, new.subnet_mask, "create ipnet from new lease")
        if new_net != old_net:
            try:
                link = handle.get_link(interface)
            except NetavarkError as e:
                raise wrap("get interface in netns", e) from None
            try:
                handle.add_addr(link.index, new_net)
            except NetavarkError as e:
                raise wrap("add new addr", e) from None
            try:
                handle.del_addr(link.index, old_net)
            except NetavarkError as e:
                raise wrap("remove old addrs", e) from None
        if new.gateways != old.gateways:
            if old.gateways:
                route = default_route(IpAddr(4, int.from_bytes(old.gateways[0], "big")))
                _route_log.info(f"Deleting route {route}")
                try:
                    handle.del_route(route)
                except NetavarkError as e:
                    if e.errno != errno.ESRCH:
                        raise wrap("delete old default route", e) from None
            if new.gateways:
                add_route(handle, default_route(IpAddr(4, int.from_bytes(new.gateways[0],
                                                                         "big"))))
    finally:
        handle.close()
