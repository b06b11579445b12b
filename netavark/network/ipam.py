"""IPAM for the builtin drivers: which addresses, gateways and routes a container gets.

Podman has already chosen the addresses (``static_ips``); this matches them to
the network's subnets exactly as upstream does, including its error messages.
"""

from __future__ import annotations

from ..config import NetAddress, check_subnet_overlaps
from ..errors import NetavarkError
from ..ip import IpNet
from ..netlink.route import RouteSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config import Network, PerNetworkOptions, Route
    from ..ip import IpAddr

HOST_LOCAL = "host-local"
DHCP = "dhcp"
NONE = "none"


class IpamAddresses:
    __slots__ = ("container_addresses", "dhcp_enabled", "gateway_addresses", "ipv6_enabled",
                 "nameservers", "net_addresses", "routes")

    def __init__(self) -> None:
        self.container_addresses: list[IpNet] = []
        self.dhcp_enabled = False
        self.gateway_addresses: list[IpNet] = []
        self.routes: list[RouteSpec] = []
        self.ipv6_enabled = False
        self.net_addresses: list[NetAddress] = []
        self.nameservers: list[IpAddr] = []


ROUTE_TYPES = {None: RouteSpec.UNICAST, "": RouteSpec.UNICAST, "unicast": RouteSpec.UNICAST,
               "blackhole": RouteSpec.BLACKHOLE, "unreachable": RouteSpec.UNREACHABLE,
               "prohibit": RouteSpec.PROHIBIT}


def create_route_list(routes: list[Route] | None) -> list[RouteSpec]:
    out = []
    for r in routes or []:
        rtype = ROUTE_TYPES.get(r.route_type)
        if rtype is None:
            raise NetavarkError(f'invalid route type "{r.route_type}"')
        dst, gw = r.destination, r.gateway
        if rtype == RouteSpec.UNICAST and gw is None:
            raise NetavarkError(f"route {dst} requires a gateway for type unicast")
        if rtype != RouteSpec.UNICAST and gw is not None:
            raise NetavarkError(
                f"route {dst} must not have a gateway for type {RouteSpec.TYPE_NAMES[rtype]}")
        if gw is not None and gw.version != dst.version:
            if dst.version == 6:
                raise NetavarkError(
                    f"route with ipv6 destination and ipv4 gateway ({dst} via {gw})")
            raise NetavarkError(f"route with ipv4 destination and ipv6 gateway ({dst} via {gw})")
        out.append(RouteSpec(dst, gw, 100 if r.metric is None else r.metric, rtype))
    return out


def get_ipam_addresses(per_net: PerNetworkOptions, network: Network) -> IpamAddresses:
    driver = network.ipam_driver()
    res = IpamAddresses()
    if driver is None or driver == HOST_LOCAL:
        static_ips = per_net.static_ips
        if static_ips is None:
            raise NetavarkError("no static ips provided")
        check_subnet_overlaps(network.subnets)
        for subnet in network.subnets or []:
            prefix = subnet.subnet.prefix
            if subnet.gateway is not None:
                res.gateway_addresses.append(_with_prefix(subnet.gateway, prefix))
                res.nameservers.append(subnet.gateway)
            if subnet.subnet.version == 6:
                res.ipv6_enabled = True
            for ip in static_ips:
                if subnet.subnet.contains(ip):
                    addr = _with_prefix(ip, prefix)
                    res.container_addresses.append(addr)
                    res.net_addresses.append(NetAddress(addr, subnet.gateway))
        if network.subnets is not None and len(res.container_addresses) != len(static_ips):
            raise NetavarkError(
                f"not all static IPs matched a subnet: expected {len(static_ips)}, "
                f"got {len(res.container_addresses)}")
        res.routes = create_route_list(network.routes)
        return res
    if driver == NONE:
        return res
    if driver == DHCP:
        res.dhcp_enabled = True
        return res
    raise NetavarkError(f"unsupported ipam driver {driver}")


def _with_prefix(ip: IpAddr, prefix: int) -> IpNet:
    if prefix > ip.bits:
        raise NetavarkError(f"failed to parse address {ip}/{prefix}: invalid IP prefix length")
    return IpNet(ip, prefix)


def default_routes(gateways: list[IpNet], metric: int) -> list[RouteSpec]:
    """One default route per family via the first gateway of that family."""
    seen: set[int] = set()
    out = []
    for gw in gateways:
        v = gw.version
        if v in seen:
            continue
        seen.add(v)
        dest = IpNet.parse("0.0.0.0/0" if v == 4 else "::/0")
        out.append(RouteSpec(dest, gw.addr, metric))
    return out
