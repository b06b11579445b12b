"""Driver-specific parts of ``create``: bridge and macvlan/ipvlan defaults.

Host link names come from an rtnetlink dump of the namespace ``create`` runs
in; when that fails the checks that need it are skipped, as upstream does.
"""

from __future__ import annotations

from ..errors import NetavarkError
from . import options as opt
from .subnets import free_ipv4_subnet, free_ipv6_subnet
from .validate import IPAM_DHCP, IPAM_HOST_LOCAL, valid_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..config import Network
    from .input import CreateOpts, Used

    LinkNames = Callable[[], "list[str] | None"]

DOCKER_MTU = "com.docker.network.driver.mtu"
DOCKER_BRIDGE_NAME = "com.docker.network.bridge.name"
MAX_DEVICE_INDEX = 1_000_000


def host_link_names() -> list[str] | None:
    """Names of all links in the current namespace, None if the dump fails."""
    from ..netlink.route import RtnlHandle

    try:
        handle = RtnlHandle.open()
    except (NetavarkError, OSError):
        return None
    try:
        return [link.name for link in handle.dump_links()]
    except (NetavarkError, OSError):
        return None
    finally:
        handle.close()


# ---------------------------------------------------------------------------
# bridge


def setup_bridge_options(network: Network) -> tuple[bool, bool]:
    """Apply Docker option aliases, validate options.

    Returns ``(check_used, check_bridge_conflict)``: both off for a vlan
    bridge or a non-managed mode, where sharing a bridge or a subnet with
    another network is legitimate.
    """
    opts = network.options
    if opts is None:
        return True, True
    if DOCKER_MTU in opts:
        opts[opt.MTU] = opts.pop(DOCKER_MTU)
    if DOCKER_BRIDGE_NAME in opts:
        network.network_interface = opts.pop(DOCKER_BRIDGE_NAME)
    values = opt.parse_bridge_options(opts)
    if values[opt.VLAN] is not None:
        return False, False
    mode = values[opt.MODE]
    if mode is not None and mode != "managed":
        return False, False
    return True, True


def free_device_name(prefix: str | None, used: Used,
                     link_names: LinkNames = host_link_names) -> str:
    """``<prefix>N`` for the smallest N ≥ 1 not taken on the host or by Podman."""
    if prefix is None:
        raise NetavarkError("default interface name is not set")
    taken = set(link_names() or ())
    taken.update(used.interfaces)
    taken.update(used.names)
    for i in range(1, MAX_DEVICE_INDEX):
        name = f"{prefix}{i}"
        if name not in taken:
            return name
    raise NetavarkError("Could not find a free device name after 1,000,000 attempts")


def create_bridge(network: Network, used: Used, check_used: bool, check_bridge_conflict: bool,
                  create_opts: CreateOpts, link_names: LinkNames = host_link_names) -> None:
    iface = network.network_interface
    if iface is not None:
        if check_bridge_conflict and iface in used.interfaces:
            raise NetavarkError(f"bridge name {iface} already in use")
        if not valid_name(iface):
            raise NetavarkError(f"bridge name {iface} is invalid")
    else:
        network.network_interface = free_device_name(create_opts.default_interface_name,
                                                     used, link_names)

    driver = network.ipam_driver()
    if driver is not None and driver not in ("", IPAM_HOST_LOCAL):
        return
    pools = create_opts.subnet_pools
    if not network.subnets:
        network.subnets = [free_ipv4_subnet(used.subnets, pools, check_used)]
    if network.ipv6_enabled:
        have4 = any(s.subnet.version == 4 for s in network.subnets)
        have6 = any(s.subnet.version == 6 for s in network.subnets)
        added = []
        if not have4:
            added.append(free_ipv4_subnet(used.subnets, pools, check_used))
        if not have6:
            added.append(free_ipv6_subnet(used.subnets))
        network.subnets = network.subnets + added
    if network.ipam_options is None:
        network.ipam_options = {}
    network.ipam_options["driver"] = IPAM_HOST_LOCAL


# ---------------------------------------------------------------------------
# macvlan / ipvlan


def create_macvlan_ipvlan(network: Network, link_names: LinkNames = host_link_names) -> None:
    parent = network.network_interface
    if parent is not None:
        names = link_names()
        if names is not None and parent not in names:
            raise NetavarkError(f"parent interface {parent} does not exist")

    driver = network.driver
    is_macvlan = driver != "ipvlan"
    # no aardvark-dns for these drivers: the host cannot reach the containers
    network.dns_enabled = False

    if network.ipam_options is None:
        network.ipam_options = {}
    ipam = network.ipam_options
    ipam_driver = ipam.get("driver", "")
    has_subnets = bool(network.subnets)
    if ipam_driver == "":
        if not has_subnets:
            ipam["driver"] = IPAM_DHCP
            if not is_macvlan:
                raise NetavarkError("ipam driver dhcp is not supported with ipvlan")
        else:
            ipam["driver"] = IPAM_HOST_LOCAL
    elif ipam_driver == IPAM_HOST_LOCAL:
        if not has_subnets:
            raise NetavarkError(f"{driver} driver needs at least one subnet specified when "
                                "the host-local ipam driver is set")
    elif ipam_driver == IPAM_DHCP:
        if not is_macvlan:
            raise NetavarkError("ipam driver dhcp is not supported with ipvlan")
        if has_subnets:
            raise NetavarkError("ipam driver dhcp set but subnets are set")

    opt.parse_vlan_options(network.options, driver)
