"""Helpers the builtin drivers share: namespace handles, batched container-side
configuration, rollback bookkeeping, network name hashing."""

from __future__ import annotations

import errno

from .. import log
from ..errors import NetavarkError, wrap
from ..netlink.message import NLM_F_ACK, NLM_F_CREATE
from ..netlink.netns import HOST_NETNS_PATH, Netns
from ..netlink.route import CREATE_FLAGS, RtnlHandle, addr_request, route_request
from ..netlink.rtnl import RTM_NEWADDR, RTM_NEWROUTE, RTM_SETLINK
from ..netlink.socket import NETLINK_ROUTE, NetlinkSocket, Request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..config import StatusBlock
    from ..ip import IpNet
    from ..netlink.route import RouteSpec
    from .driver import DriverInfo
    from .ipam import IpamAddresses

_route_log = log.Logger("netavark::network::netlink_route")

IPV6_DISABLED = "failed to add ipv6 address, is ipv6 enabled in the kernel?"


class Namespaces:
    """The host namespace and (optionally) the container namespace, each with a socket."""

    __slots__ = ("container", "container_rtnl", "host", "host_rtnl")

    def __init__(self, host: Netns, host_rtnl: RtnlHandle, container: Netns | None = None,
                 container_rtnl: RtnlHandle | None = None) -> None:
        self.host = host
        self.host_rtnl = host_rtnl
        self.container = container
        self.container_rtnl = container_rtnl

    @classmethod
    def open(cls, container_path: str) -> Namespaces:
        """Both namespaces, in upstream's order (container file, host file, sockets)."""
        container = _open_ns(container_path, "open container netns")
        try:
            host = _open_ns(HOST_NETNS_PATH, "open host netns")
        except NetavarkError:
            container.close()
            raise
        ns = cls(host, _socket_here("host netlink socket", host, container))
        ns.container = container
        ns.container_rtnl = _socket_in(container, host, ns)
        return ns

    @classmethod
    def open_host(cls) -> Namespaces:
        host = _open_ns(HOST_NETNS_PATH, "open host netns")
        return cls(host, _socket_here("host netlink socket", host))

    def attach_container(self, path: str) -> None:
        """Open the container namespace and a socket inside it."""
        container = _open_ns(path, "open container netns")
        self.container = container
        self.container_rtnl = _socket_in(container, self.host, self)

    def close(self) -> None:
        for h in (self.host_rtnl, self.container_rtnl):
            if h is not None:
                h.close()
        for ns in (self.host, self.container):
            if ns is not None:
                ns.close()
        self.container_rtnl = None
        self.container = None


def _open_ns(path: str, context: str) -> Netns:
    try:
        return Netns.open(path)
    except OSError as e:
        raise wrap(f"{context}: open {path}", e) from None


def _socket_here(context: str, *close_on_error: Netns) -> RtnlHandle:
    try:
        return RtnlHandle(NetlinkSocket(NETLINK_ROUTE))
    except NetavarkError as e:
        for ns in close_on_error:
            ns.close()
        raise wrap(context, e) from None


def _socket_in(container: Netns, host: Netns, owner: Namespaces) -> RtnlHandle:
    """A socket created inside ``container`` (it stays bound to that namespace)."""
    try:
        with container.entered(host):
            try:
                return RtnlHandle(NetlinkSocket(NETLINK_ROUTE))
            except NetavarkError as e:
                raise wrap("netns netlink socket", e) from None
    except NetavarkError:
        container.close()
        owner.container = None
        raise


def first_error(reqs: list[Request], contexts: list[str | None],
                ipv6_flags: list[bool] | None = None) -> NetavarkError | None:
    """The first failed request's error, wrapped in its context (None: unwrapped)."""
    for i, r in enumerate(reqs):
        if r.error is None:
            continue
        err: NetavarkError = r.error
        if ipv6_flags and ipv6_flags[i] and r.error.errno == errno.EACCES:
            err = wrap(IPV6_DISABLED, err)
        ctx = contexts[i]
        return wrap(ctx, err) if ctx else err
    return None


def addr_requests(index: int, addrs: list[IpNet], context: str
                  ) -> tuple[list[Request], list[str | None], list[bool]]:
    reqs = [Request(RTM_NEWADDR, CREATE_FLAGS, addr_request(index, a), f"add address {a}")
            for a in addrs]
    return reqs, [context] * len(reqs), [a.version == 6 for a in addrs]


def add_addresses(handle: RtnlHandle, index: int, addrs: list[IpNet], context: str) -> None:
    """Add addresses in one datagram; errors as upstream words them."""
    reqs, ctxs, v6 = addr_requests(index, addrs, context)
    handle.sock.transact(reqs)
    err = first_error(reqs, ctxs, v6)
    if err is not None:
        raise err


def configure_container_side(handle: RtnlHandle, index: int, addrs: list[IpNet], *,
                             addr_context: str, up_context: str,
                             default_routes: list[RouteSpec], static_routes: list[RouteSpec]
                             ) -> None:
    """Addresses, link up, default and static routes: one datagram, processed in order."""
    from ..netlink.route import set_up_request

    reqs, ctxs, v6 = addr_requests(index, addrs, addr_context)
    reqs.append(Request(RTM_SETLINK, CREATE_FLAGS, set_up_request(index), "set link up"))
    ctxs.append(up_context)
    v6.append(False)
    for r in default_routes:
        _route_log.info(f"Adding route {r}")
        reqs.append(Request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, route_request(r),
                            f"add route {r}"))
        ctxs.append(f"add default route {r}")
        v6.append(False)
    for r in static_routes:
        _route_log.info(f"Adding route {r}")
        reqs.append(Request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, route_request(r),
                            f"add route {r}"))
        ctxs.append(None)
        v6.append(False)
    handle.sock.transact(reqs)
    err = first_error(reqs, ctxs, v6)
    if err is not None:
        raise err


def container_status(info: DriverInfo, ipam: IpamAddresses, dhcp_iface: str,
                     container_if: str, mac: str) -> StatusBlock:
    """The StatusBlock of one container interface; with IPAM ``dhcp`` the lease decides."""
    from ..config import NetInterface, StatusBlock

    status = StatusBlock(dns_search_domains=[], dns_server_ips=[], interfaces={})
    if ipam.dhcp_enabled:
        from .dhcp import get_dhcp_lease

        subnets, dns_servers, domain = get_dhcp_lease(
            dhcp_iface, container_if, info.netns_path, mac, info.container_hostname or "",
            info.container_id)
        if info.container_dns_servers is None:
            status.dns_server_ips = dns_servers
        if domain is not None:
            status.dns_search_domains = domain
    else:
        subnets = list(ipam.net_addresses)
    status.interfaces = {container_if: NetInterface(mac, subnets)}
    return status


def delete_route(handle: RtnlHandle, route: RouteSpec) -> None:
    _route_log.info(f"Deleting route {route}")
    handle.del_route(route)


_undo_log = log.Logger("netavark::network::driver")


class Undo:
    """Actions that reverse what a setup created, run newest first on failure."""

    __slots__ = ("actions", "network")

    def __init__(self, network: str) -> None:
        self.actions: list[tuple[str, Callable[[], None]]] = []
        self.network = network

    def add(self, what: str, action: Callable[[], None]) -> None:
        self.actions.append((what, action))

    def run(self) -> None:
        while self.actions:
            what, action = self.actions.pop()
            try:
                action()
            except Exception as e:  # keep undoing the rest
                _undo_log.error(f"failed to undo {what} of network {self.network} after setup "
                                f"failed: {e}")


def network_hash_name(name: str, length: int = 13) -> str:
    """First ``length`` characters of the upper-case hex SHA-512 of the network name."""
    try:
        from _sha512 import sha512  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha2 import sha512  # type: ignore[import-not-found,no-redef]
        except ImportError:
            from hashlib import sha512  # type: ignore[no-redef]
    return sha512(name.encode()).hexdigest().upper()[:length]
