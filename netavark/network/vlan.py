"""The macvlan and ipvlan drivers: a child link of a host ("parent") interface,
created straight into the container namespace.

Nothing is left on the host: no firewall rules, state files, DNS or sysctls.
Order of kernel operations and every message follow upstream
(macvlan-ipvlan.md).  Unlike upstream, a failing setup removes the link it
created (and static routes it added through other interfaces).
"""

from __future__ import annotations

import errno
import os

from .. import log
from ..config import StatusBlock
from ..errors import NetavarkError, errno_of, wrap
from ..netlink import rtnl
from ..netlink.links import Ipvlan, Macvlan
from ..netlink.message import NLM_F_ACK, NLM_F_CREATE
from ..netlink.route import CREATE_FLAGS, route_request, set_up_request
from ..netlink.socket import Request
from . import sysctl
from .core import Undo, addr_requests, container_status, delete_route, first_error
from .driver import NetworkDriver
from .ipam import create_route_list, default_routes, get_ipam_addresses
from .options import (
    decode_mac,
    format_mac,
    parse_bool,
    parse_i32,
    parse_option,
    parse_str,
    parse_u32,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ..dns import AardvarkEntry
    from ..netlink.links import LinkSpec
    from ..netlink.route import RouteSpec, RtnlHandle
    from .ipam import IpamAddresses

_log = log.Logger("netavark::network::vlan")
_route_log = log.Logger("netavark::network::netlink_route")

MACVLAN, IPVLAN = "macvlan", "ipvlan"
NO_CONTAINER_INTERFACE = "no container interface name given"
# upstream's default: just below the bridge's 100 so a macvlan default route wins
DEFAULT_METRIC = 99
VALID_VLAN_OPTS = ("mode", "mtu", "metric", "no_default_route", "bclim")

MACVLAN_MODES = {
    None: rtnl.MACVLAN_MODE_BRIDGE, "": rtnl.MACVLAN_MODE_BRIDGE,
    "bridge": rtnl.MACVLAN_MODE_BRIDGE, "private": rtnl.MACVLAN_MODE_PRIVATE,
    "vepa": rtnl.MACVLAN_MODE_VEPA, "passthru": rtnl.MACVLAN_MODE_PASSTHRU,
    "source": rtnl.MACVLAN_MODE_SOURCE,
}
IPVLAN_MODES = {
    None: rtnl.IPVLAN_MODE_L2, "": rtnl.IPVLAN_MODE_L2, "l2": rtnl.IPVLAN_MODE_L2,
    "l3": rtnl.IPVLAN_MODE_L3, "l3s": rtnl.IPVLAN_MODE_L3S,
}

# temporary names for a link whose name is taken: "mv-" + 10 of these
TMP_PREFIX = "mv-"
TMP_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
TMP_ATTEMPTS = 3


def macvlan_mode(mode: str | None) -> int:
    try:
        return MACVLAN_MODES[mode]
    except KeyError:
        raise NetavarkError(f'invalid macvlan mode "{mode}"') from None


def ipvlan_mode(mode: str | None) -> int:
    try:
        return IPVLAN_MODES[mode]
    except KeyError:
        raise NetavarkError(f'invalid ipvlan mode "{mode}"') from None


def random_tmp_name() -> str:
    """``mv-`` and 10 uniformly random ASCII letters/digits."""
    out: list[str] = []
    n = len(TMP_ALPHABET)
    limit = 256 - 256 % n  # reject the bytes that would bias the modulo
    while len(out) < 10:
        for b in os.urandom(16):
            if b < limit and len(out) < 10:
                out.append(TMP_ALPHABET[b % n])
    return TMP_PREFIX + "".join(out)


class VlanOptions:
    """``Network.options`` of a macvlan/ipvlan network, parsed in upstream's order."""

    __slots__ = ("bclim", "metric", "mode", "mtu", "no_default_route")

    def __init__(self, opts: Mapping[str, str] | None, strict: bool = False) -> None:
        if strict and opts:
            for key in opts:
                if key not in VALID_VLAN_OPTS:
                    raise NetavarkError(f"unsupported vlan network option: {key}")
        self.mode: str | None = parse_option(opts, "mode", parse_str)
        self.mtu: int | None = parse_option(opts, "mtu", parse_u32)
        self.metric: int | None = parse_option(opts, "metric", parse_u32)
        self.no_default_route: bool | None = parse_option(opts, "no_default_route", parse_bool)
        self.bclim: int | None = parse_option(opts, "bclim", parse_i32)


class _Data:
    """What ``validate`` worked out for ``setup``."""

    __slots__ = ("bclim", "container_if", "host_if", "ipam", "kind", "mac", "metric", "mode",
                 "mtu", "no_default_route")

    def __init__(self, kind: str, container_if: str, host_if: str, ipam: IpamAddresses,
                 mtu: int, metric: int, no_default_route: bool, mode: int,
                 mac: bytes | None, bclim: int | None) -> None:
        self.kind = kind
        self.container_if = container_if
        self.host_if = host_if
        self.ipam = ipam
        self.mtu = mtu
        self.metric = metric
        self.no_default_route = no_default_route
        self.mode = mode
        self.mac = mac
        self.bclim = bclim

    def link_spec(self, name: str, parent: int, netns_fd: int) -> LinkSpec:
        if self.kind == IPVLAN:
            return Ipvlan(name, mode=self.mode, mtu=self.mtu, link=parent, netns_fd=netns_fd)
        return Macvlan(name, mode=self.mode, bc_cutoff=self.bclim, mtu=self.mtu,
                       address=format_mac(self.mac) if self.mac is not None else None, link=parent,
                       netns_fd=netns_fd)


class Vlan(NetworkDriver):
    data: _Data | None = None

    # ------------------------------------------------------------------ validate
    def validate(self) -> None:
        info = self.info
        net = info.network
        pno = info.per_network_opts
        if not pno.interface_name:
            raise NetavarkError(NO_CONTAINER_INTERFACE)
        opts = VlanOptions(net.options)
        ipam = get_ipam_addresses(pno, net)
        if net.internal:
            ipam.gateway_addresses = []
        mac = None
        bclim = None
        if net.driver == IPVLAN:
            mode = ipvlan_mode(opts.mode)
        elif net.driver == MACVLAN:
            mode = macvlan_mode(opts.mode)
            if pno.static_mac is not None:
                mac = decode_mac(pno.static_mac)
            bclim = opts.bclim
        else:
            raise NetavarkError(f"unsupported VLAN type {net.driver}")
        self.data = _Data(
            net.driver, pno.interface_name, net.network_interface or "", ipam,
            opts.mtu or 0, DEFAULT_METRIC if opts.metric is None else opts.metric,
            bool(opts.no_default_route), mode, mac, bclim)

    # ------------------------------------------------------------------ setup
    def setup_steps(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo
               ) -> tuple[StatusBlock, AardvarkEntry | None]:
        d = self.data
        if d is None:
            raise NetavarkError("must call validate() before setup()")
        info = self.info
        _log.debug(f"Setup network {info.network.name}")
        addrs = ", ".join(str(a) for a in d.ipam.container_addresses)
        _log.debug(f"Container interface name: {d.container_if} with IP addresses [{addrs}]")

        mac = self._create_link(host, netns, undo)

        status = container_status(info, d.ipam, d.host_if, d.container_if, mac)
        return status, None

    def _parent_index(self, host: RtnlHandle) -> int:
        d = self.data
        assert d is not None
        if d.host_if:
            return host.get_link(d.host_if).index
        return host.default_route_interface().index

    def _create_link(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo) -> str:
        """Create, configure and bring up the container link; return its MAC."""
        d = self.data
        assert d is not None
        info = self.info
        container_ns = info.netns_container
        assert container_ns is not None
        kind = d.kind
        if_name = d.container_if
        parent = self._parent_index(host)
        if kind == MACVLAN and d.bclim is not None:
            _log.debug(f"setting macvlan bclim to {d.bclim}")

        try:
            host.create_link(d.link_spec(if_name, parent, container_ns.fd))
        except NetavarkError as e:
            if errno_of(e) != errno.EEXIST:
                raise wrap(f"create {kind} interface", e) from None
            # a link of that name already exists; try a temporary name, then rename
            self._create_with_tmp_name(host, netns, undo, parent)
        else:
            undo.add(f"{kind} {if_name}", lambda: netns.del_link_by_name(if_name))

        with container_ns.entered(info.netns_host):
            sysctl.disable_ipv6_autoconf(if_name)

        try:
            link = netns.get_link(if_name)
        except NetavarkError as e:
            raise wrap(f"get {kind} interface", e) from None

        routes = [] if d.no_default_route else default_routes(d.ipam.gateway_addresses,
                                                              d.metric)
        self._configure(netns, link.index, routes, undo)
        if not link.address:
            raise NetavarkError("failed to get the the container mac address")
        return link.address

    def _create_with_tmp_name(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo,
                              parent: int) -> None:
        d = self.data
        assert d is not None
        container_ns = self.info.netns_container
        assert container_ns is not None
        kind = d.kind
        for attempt in range(TMP_ATTEMPTS):
            tmp = random_tmp_name()
            try:
                host.create_link(d.link_spec(tmp, parent, container_ns.fd))
            except NetavarkError as e:
                # a clash with another random name: try again (but only so often)
                if errno_of(e) == errno.EEXIST and attempt < TMP_ATTEMPTS - 1:
                    continue
                raise wrap(f"create {kind} interface", e) from None
            break
        holder = _Created(netns, tmp)
        undo.add(f"{kind} {tmp}", holder.delete)
        try:
            link = netns.get_link(tmp)
        except NetavarkError as e:
            raise wrap(f"get tmp {kind} interface", e) from None
        try:
            netns.rename(link.index, d.container_if)
        except NetavarkError as e:
            err = wrap(f"rename tmp {kind} interface", e)
            holder.name = None  # deleted here, as upstream does, not by the rollback
            try:
                netns.del_link(link.index)
            except NetavarkError as de:
                _log.error(f"failed to delete tmp {kind} link {tmp}: {de}")
            raise err from None
        holder.name = d.container_if

    def _configure(self, netns: RtnlHandle, index: int, default: list[RouteSpec],
                   undo: Undo) -> None:
        """Addresses, link up, default and static routes in one datagram, in upstream's
        order; the first failure is reported with upstream's wording."""
        d = self.data
        assert d is not None
        kind = d.kind
        reqs, ctxs, v6 = addr_requests(index, d.ipam.container_addresses,
                                       f"add ip addr to {kind}")
        reqs.append(Request(rtnl.RTM_SETLINK, CREATE_FLAGS, set_up_request(index),
                            "set link up"))
        ctxs.append(f"set {kind} up")
        v6.append(False)
        static: list[tuple[Request, RouteSpec]] = []
        for route, ctx in [(r, f"add default route {r}") for r in default] + [
                (r, None) for r in d.ipam.routes]:
            _route_log.info(f"Adding route {route}")
            req = Request(rtnl.RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, route_request(route),
                          f"add route {route}")
            reqs.append(req)
            ctxs.append(ctx)
            v6.append(False)
            if ctx is None:
                static.append((req, route))
        netns.sock.transact(reqs)
        err = first_error(reqs, ctxs, v6)
        if err is None:
            return
        # routes through the container's other interfaces outlive our link
        for req, route in static:
            if req.error is None:
                undo.add(f"route {route}", _route_deleter(netns, route))
        raise err

    # ------------------------------------------------------------------ teardown
    def teardown(self, host: RtnlHandle, netns: RtnlHandle | None) -> None:
        """Fail-fast: the first error is returned, as upstream does."""
        if netns is None:
            return
        info = self.info
        ipam = get_ipam_addresses(info.per_network_opts, info.network)
        if ipam.dhcp_enabled:
            from .dhcp import dhcp_teardown

            dhcp_teardown(info, netns)
        for route in create_route_list(info.network.routes):
            delete_route(netns, route)
        netns.del_link_by_name(info.per_network_opts.interface_name)


class _Created:
    """The name of the link a setup created (it changes on rename); None: nothing to undo."""

    __slots__ = ("handle", "name")

    def __init__(self, handle: RtnlHandle, name: str | None) -> None:
        self.handle = handle
        self.name = name

    def delete(self) -> None:
        if self.name is not None:
            self.handle.del_link_by_name(self.name)


def _route_deleter(netns: RtnlHandle, route: RouteSpec) -> Callable[[], None]:
    return lambda: netns.del_route(route)


def parse_vlan_opts(opts: Mapping[str, str] | None, strict: bool) -> VlanOptions:
    """Upstream's option parser (``strict`` rejects unknown keys, for ``create``)."""
    return VlanOptions(opts, strict)


__all__ = ["IPVLAN", "MACVLAN", "Vlan", "VlanOptions",
           "parse_vlan_opts"]
