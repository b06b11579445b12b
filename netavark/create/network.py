"""``new_network``: turn Podman's partial network into a complete one.

The steps run in upstream's order, so that with several problems the same
one is reported.
"""

from __future__ import annotations

from .. import log
from ..errors import NetavarkError
from ..rustfmt import debug_str
from ..timefmt import Timestamp
from . import validate
from .drivers import create_bridge, create_macvlan_ipvlan, host_link_names, setup_bridge_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..config import Network
    from .drivers import LinkNames
    from .input import NetworkCreateConfig

LOG = log.Logger("netavark::network::create_config::config")


def new_network(create: NetworkCreateConfig, plugin_directories: Sequence[str] | None = None,
                link_names: LinkNames = host_link_names) -> Network:
    """Validate and complete ``create.network`` (modified in place and returned).

    ``link_names`` lists the host's interfaces (an rtnetlink dump by default).
    """
    network = create.network
    used = create.used
    validate.validate_name_id(network.name, network.id, used.names)
    if network.network_interface is not None:
        validate.validate_interface_name(network.network_interface)
    validate.validate_ipam_driver(network.ipam_options, network.subnets)

    check_used = False
    if network.driver == "bridge":
        check_used, check_conflict = setup_bridge_options(network)
        check_used = check_used and create.options.check_used_subnets
        create_bridge(network, used, check_used, check_conflict, create.options, link_names)
    elif network.driver in ("macvlan", "ipvlan"):
        create_macvlan_ipvlan(network, link_names)
    else:
        from .plugin_driver import exec_plugin_driver

        network = exec_plugin_driver(network, plugin_directories)

    if network.ipam_driver() == validate.IPAM_NONE:
        LOG.debug(f"dns disabled for network {debug_str(network.name)} because ipam driver "
                  "is set to none")
        network.dns_enabled = False
    if network.network_dns_servers is not None and not network.dns_enabled:
        raise NetavarkError(
            "cannot set NetworkDNSServers if DNS is not enabled for the network")

    add_gateway = not network.internal or network.dns_enabled
    validate.validate_subnets(network, add_gateway, check_used, used.subnets)
    if network.routes is not None:
        validate.validate_routes(network.routes)

    network.created = Timestamp.now()
    return network
