"""Checks ``create`` applies to names, interfaces, IPAM, subnets and routes.

Each function raises ``NetavarkError`` with upstream's exact message or
returns normally; subnet validation also fills in missing gateways.
"""

from __future__ import annotations

from ..config import check_subnet_overlaps
from ..errors import AddrParseError, NetavarkError
from ..ip import IpAddr
from ..rustfmt import debug_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config import LeaseRange, Network, Route, Subnet
    from ..ip import IpNet

# upstream's patterns ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ and ^[0-9a-fA-F]{64}$ as
# character sets (``re`` is not imported at run time); ASCII only
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_REST = _ALNUM | frozenset("_.-")
_HEX = frozenset("0123456789abcdefABCDEF")

MAX_INTERFACE_NAME_LEN = 15

# Unicode White_Space (what Rust's char::is_whitespace tests); str.isspace()
# differs (it also accepts U+001C..U+001F)
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000")

IPAM_HOST_LOCAL = "host-local"
IPAM_DHCP = "dhcp"
IPAM_NONE = "none"


def valid_name(name: str) -> bool:
    """Network names and bridge names share this pattern."""
    return bool(name) and name[0] in _ALNUM and all(c in _NAME_REST for c in name)


def validate_name_id(name: str, net_id: str, used_names: dict[str, str]) -> None:
    if not name:
        raise NetavarkError("Network name must be supplied")
    if not valid_name(name):
        raise NetavarkError(f"Invalid characters in network name {debug_str(name)}: "
                            "must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
    if name in used_names:
        raise NetavarkError(f"network already exists {name}")
    if not net_id:
        raise NetavarkError("Network id must be supplied")
    if len(net_id) != 64 or not all(c in _HEX for c in net_id):
        raise NetavarkError(f"Network id must be a hexadecimal string {debug_str(net_id)}")


def validate_interface_name(name: str) -> None:
    """The kernel's rules for a link name (``dev_valid_name``), as upstream words them."""
    if len(name) > MAX_INTERFACE_NAME_LEN:
        raise NetavarkError("Interface name is too long: interface names must be "
                            f"{MAX_INTERFACE_NAME_LEN} characters or less: {name}")
    # "." itself passes: upstream only rejects "" and ".."
    if name in ("", ".."):
        raise NetavarkError("Interface name cannot be . or ..")
    for c in name:
        if c in "/:" or c in WHITE_SPACE:
            raise NetavarkError(f'Interface name cannot contain"{c}"')


def validate_ipam_driver(ipam_options: dict[str, str] | None,
                         subnets: list[Subnet] | None) -> None:
    if ipam_options is None or "driver" not in ipam_options:
        return
    driver = ipam_options["driver"]
    if driver in (IPAM_HOST_LOCAL, IPAM_DHCP):
        return
    if driver == IPAM_NONE:
        if subnets:
            raise NetavarkError("None ipam driver is set but subnets are given")
        return
    raise NetavarkError(f"Unsupported ipam driver: {driver}")


def intersects_any(net: IpNet, used: list[IpNet]) -> bool:
    """Same family and one contains the other's network address."""
    return any(net.version == u.version and net.overlaps(u) for u in used)


def first_ip(net: IpNet) -> IpAddr:
    """The default gateway: network address + 1.

    IPv4 /31 and /32 have no room for one (the last address is the broadcast);
    IPv6 only fails at /128.
    """
    limit = 31 if net.version == 4 else 128
    if net.prefix >= limit:
        raise NetavarkError(f"could not create gateway for subnet {net} because it has a "
                            f"{limit} or greater subnet prefix")
    return IpAddr(net.version, net.network().value + 1)


def _lease_ip(text: str, which: str, net: IpNet) -> IpAddr:
    try:
        ip = IpAddr.parse(text)
    except AddrParseError as e:
        raise NetavarkError(f"invalid {which}: {e.msg}") from None
    if not net.contains(ip):
        raise NetavarkError(f"lease range {which} {ip} not in subnet {net}")
    return ip


def validate_lease_range(lease: LeaseRange, net: IpNet) -> None:
    start = None if lease.start_ip is None else _lease_ip(lease.start_ip, "start_ip", net)
    end = None if lease.end_ip is None else _lease_ip(lease.end_ip, "end_ip", net)
    if start is not None and end is not None:
        if start.version != end.version:
            raise NetavarkError("lease range start_ip and end_ip must be the same IP version")
        if end < start:
            raise NetavarkError(f"lease range start_ip {start} must be less than or equal "
                                f"to end_ip {end}")


def validate_subnet(s: Subnet, add_gateway: bool, check_used: bool,
                    used: list[IpNet]) -> None:
    if check_used and intersects_any(s.subnet, used):
        raise NetavarkError(
            f"subnet {s.subnet} is already used on the host or by another config")
    if s.gateway is not None:
        if not s.subnet.contains(s.gateway):
            raise NetavarkError(f"gateway {s.gateway} not in subnet {s.subnet}")
    elif add_gateway:
        s.gateway = first_ip(s.subnet)
    if s.lease_range is not None:
        validate_lease_range(s.lease_range, s.subnet)


def validate_subnets(network: Network, add_gateway: bool, check_used: bool,
                     used: list[IpNet]) -> None:
    check_subnet_overlaps(network.subnets)
    for s in network.subnets or ():
        validate_subnet(s, add_gateway, check_used, used)
        if s.subnet.version == 6:
            network.ipv6_enabled = True


ROUTE_TYPES_WITHOUT_GATEWAY = ("blackhole", "unreachable", "prohibit")


def validate_route(route: Route) -> None:
    dest = route.destination
    if dest.addr != dest.network():
        raise NetavarkError("route destination invalid")
    kind = "unicast" if route.route_type is None else route.route_type
    if kind in ("unicast", ""):
        if route.gateway is None:
            raise NetavarkError(f"route {dest} requires a gateway for type unicast")
    elif kind in ROUTE_TYPES_WITHOUT_GATEWAY:
        if route.gateway is not None:
            raise NetavarkError(f"route {dest} must not have a gateway for type {kind}")
    else:
        raise NetavarkError(f'invalid route type "{kind}"')


def validate_routes(routes: list[Route] | None) -> None:
    for r in routes or ():
        validate_route(r)
