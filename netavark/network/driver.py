"""The network driver interface and driver selection."""

from __future__ import annotations

from ..errors import NetavarkError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config import (
        Network,
        NetworkOptions,
        PerNetworkOptions,
        PortMapping,
        StatusBlock,
    )
    from ..dns import AardvarkEntry
    from ..firewall import FirewallDriver
    from ..ip import IpAddr
    from ..netlink.netns import Netns
    from ..netlink.route import RtnlHandle
    from .core import Undo


class DriverInfo:
    """Everything a driver gets to know about one network of one container."""

    __slots__ = ("config_dir", "container_dns_servers", "container_hostname", "container_id",
                 "container_name", "dns_port", "firewall", "netns_container", "netns_host",
                 "netns_path", "network", "per_network_opts", "port_mappings", "rootless")

    def __init__(self, *, firewall: FirewallDriver, container_id: str, container_name: str,
                 container_hostname: str | None, container_dns_servers: list[IpAddr] | None,
                 netns_host: Netns, netns_container: Netns | None, netns_path: str,
                 network: Network, per_network_opts: PerNetworkOptions,
                 port_mappings: list[PortMapping] | None, dns_port: int, config_dir: str,
                 rootless: bool) -> None:
        self.firewall = firewall
        self.container_id = container_id
        self.container_name = container_name
        self.container_hostname = container_hostname
        self.container_dns_servers = container_dns_servers
        self.netns_host = netns_host
        self.netns_container = netns_container
        self.netns_path = netns_path
        self.network = network
        self.per_network_opts = per_network_opts
        self.port_mappings = port_mappings
        self.dns_port = dns_port
        self.config_dir = config_dir
        self.rootless = rootless


def driver_for(name: str, per_net: PerNetworkOptions, opts: NetworkOptions, *,
               firewall: FirewallDriver, netns_host: Netns, netns_container: Netns | None,
               netns_path: str, dns_port: int, config_dir: str, rootless: bool,
               plugin_dirs: list[str] | None) -> NetworkDriver:
    """The driver for network ``name`` of a setup/teardown request."""
    network = opts.network_info.get(name)
    if network is None:
        raise NetavarkError(f"network info for network {name} not found")
    return get_network_driver(DriverInfo(
        firewall=firewall, container_id=opts.container_id,
        container_name=opts.container_name, container_hostname=opts.container_hostname,
        container_dns_servers=opts.dns_servers, netns_host=netns_host,
        netns_container=netns_container, netns_path=netns_path, network=network,
        per_network_opts=per_net, port_mappings=opts.port_mappings, dns_port=dns_port,
        config_dir=config_dir, rootless=rootless), plugin_dirs)


class NetworkDriver:
    """One network attachment of one container.

    ``validate`` runs for every network before anything is created; ``setup``
    either completes or removes what it created before raising; ``teardown``
    keeps going after errors and raises them all together.
    """

    def __init__(self, info: DriverInfo) -> None:
        self.info = info

    @property
    def network_name(self) -> str:
        return self.info.network.name

    def validate(self) -> None:
        raise NotImplementedError

    def setup(self, host: RtnlHandle, netns: RtnlHandle
              ) -> tuple[StatusBlock, AardvarkEntry | None]:
        """Run :meth:`setup_steps`; on failure undo what it recorded, newest first."""
        from .core import Undo

        undo = Undo(self.info.network.name)
        try:
            return self.setup_steps(host, netns, undo)
        except BaseException:
            undo.run()
            raise

    def setup_steps(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo
                    ) -> tuple[StatusBlock, AardvarkEntry | None]:
        raise NotImplementedError

    def teardown(self, host: RtnlHandle, netns: RtnlHandle | None) -> None:
        raise NotImplementedError


def get_network_driver(info: DriverInfo, plugin_dirs: list[str] | None) -> NetworkDriver:
    driver = info.network.driver
    if driver == "bridge":
        from .bridge import Bridge

        return Bridge(info)
    if driver in ("macvlan", "ipvlan"):
        from .vlan import Vlan

        return Vlan(info)
    from ..plugin import find_plugin

    path = find_plugin(plugin_dirs or [], driver)
    if path is None:
        raise NetavarkError(f'unknown network driver "{driver}"')
    from .plugin import PluginDriver

    return PluginDriver(info, path)
