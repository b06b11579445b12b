"""Firewall driver interface, its inputs, and driver selection.

Drivers (``nftables``, ``firewalld``, ``none``) implement
:class:`FirewallDriver`.  Only the selected driver's module is imported.
"""

from __future__ import annotations

from .. import log, serde
from ..errors import NetavarkError, wrap
from ..ip import IpAddr, IpNet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..config import PortMapping

_log = log.Logger("netavark::firewall")

NFTABLES = "nftables"
FIREWALLD = "firewalld"
NONE = "none"
DEFAULT_DRIVER = NFTABLES

STRICT, NORMAL, NEVER = "Strict", "Normal", "Never"


class SetupNetwork:
    """What a driver needs to set up a network (also the ``networks/<id>`` state file)."""

    __slots__ = ("bridge_name", "dns_port", "internal", "isolation", "network_hash_name",
                 "network_id", "outbound_addr4", "outbound_addr6", "subnets")

    def __init__(self, subnets: list[IpNet] | None, bridge_name: str, network_id: str,
                 network_hash_name: str, isolation: str, dns_port: int, *,
                 internal: bool = False, outbound_addr4: IpAddr | None = None,
                 outbound_addr6: IpAddr | None = None) -> None:
        self.subnets = subnets
        self.bridge_name = bridge_name
        self.network_id = network_id
        self.network_hash_name = network_hash_name
        self.isolation = isolation
        self.dns_port = dns_port
        self.internal = internal
        self.outbound_addr4 = outbound_addr4
        self.outbound_addr6 = outbound_addr6

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "subnets": None if self.subnets is None else [str(s) for s in self.subnets],
            "bridge_name": self.bridge_name,
            "network_id": self.network_id,
            "network_hash_name": self.network_hash_name,
            "isolation": self.isolation,
            "dns_port": self.dns_port,
            "internal": self.internal,
        }
        if self.outbound_addr4 is not None:
            d["outbound_addr4"] = str(self.outbound_addr4)
        if self.outbound_addr6 is not None:
            d["outbound_addr6"] = str(self.outbound_addr6)
        return d

    @classmethod
    def from_json(cls, v: Any, path: tuple = ()) -> SetupNetwork:
        o = serde.struct(v, path, "SetupNetwork")
        iso = serde.req(o, "isolation", path, serde.as_str)
        if iso not in (STRICT, NORMAL, NEVER):
            raise serde.SchemaError(
                f"unknown variant `{iso}`, expected one of `Strict`, `Normal`, `Never`",
                (*path, "isolation"))
        return cls(
            subnets=serde.opt(o, "subnets", path,
                              lambda x, p: serde.as_list(x, p, serde.as_ipnet)),
            bridge_name=serde.req(o, "bridge_name", path, serde.as_str),
            network_id=serde.opt(o, "network_id", path, serde.as_str) or "",
            network_hash_name=serde.req(o, "network_hash_name", path, serde.as_str),
            isolation=iso,
            dns_port=serde.req(o, "dns_port", path, serde.as_u16),
            internal=serde.opt(o, "internal", path, serde.as_bool) or False,
            outbound_addr4=serde.opt(o, "outbound_addr4", path, _as_ip_version(4)),
            outbound_addr6=serde.opt(o, "outbound_addr6", path, _as_ip_version(6)),
        )


def _as_ip_version(version: int) -> Any:
    def conv(v: Any, path: tuple) -> IpAddr:
        ip = serde.as_ip(v, path)
        if ip.version != version:
            raise serde.SchemaError(f"invalid IPv{version} address syntax", path)
        return ip

    return conv


class PortForwardConfig:
    """Per-container port forwarding input (also the ``ports/<net>_<ctr>`` state file)."""

    __slots__ = ("container_id", "container_ip_v4", "container_ip_v6", "dns_port",
                 "dns_server_ips", "internal", "network_hash_name", "network_id",
                 "network_name", "port_mappings", "subnet_v4", "subnet_v6")

    def __init__(self, container_id: str, network_id: str,
                 port_mappings: list[PortMapping] | None, network_name: str,
                 network_hash_name: str, *, container_ip_v4: IpAddr | None = None,
                 subnet_v4: IpNet | None = None, container_ip_v6: IpAddr | None = None,
                 subnet_v6: IpNet | None = None, dns_port: int = 53,
                 dns_server_ips: list[IpAddr] | None = None, internal: bool = False) -> None:
        self.container_id = container_id
        self.network_id = network_id
        self.port_mappings = port_mappings
        self.network_name = network_name
        self.network_hash_name = network_hash_name
        self.container_ip_v4 = container_ip_v4
        self.subnet_v4 = subnet_v4
        self.container_ip_v6 = container_ip_v6
        self.subnet_v6 = subnet_v6
        self.dns_port = dns_port
        self.dns_server_ips = dns_server_ips if dns_server_ips is not None else []
        self.internal = internal

    def to_json(self) -> dict[str, Any]:
        def s(x: Any) -> str | None:
            return None if x is None else str(x)

        return {
            "container_id": self.container_id,
            "network_id": self.network_id,
            "port_mappings": None if self.port_mappings is None else
            [p.to_json() for p in self.port_mappings],
            "network_name": self.network_name,
            "network_hash_name": self.network_hash_name,
            "container_ip_v4": s(self.container_ip_v4),
            "subnet_v4": s(self.subnet_v4),
            "container_ip_v6": s(self.container_ip_v6),
            "subnet_v6": s(self.subnet_v6),
            "dns_port": self.dns_port,
            "dns_server_ips": [str(x) for x in self.dns_server_ips],
            "internal": self.internal,
        }

    @classmethod
    def from_json(cls, v: Any, path: tuple = ()) -> PortForwardConfig:
        from ..config import PortMapping

        o = serde.struct(v, path, "PortForwardConfig")
        return cls(
            container_id=serde.req(o, "container_id", path, serde.as_str),
            network_id=serde.opt(o, "network_id", path, serde.as_str) or "",
            port_mappings=serde.req(o, "port_mappings", path, lambda x, p: None if x is None
                                    else serde.as_list(x, p, PortMapping.from_json)),
            network_name=serde.req(o, "network_name", path, serde.as_str),
            network_hash_name=serde.req(o, "network_hash_name", path, serde.as_str),
            container_ip_v4=serde.opt(o, "container_ip_v4", path, serde.as_ip),
            subnet_v4=serde.opt(o, "subnet_v4", path, serde.as_ipnet),
            container_ip_v6=serde.opt(o, "container_ip_v6", path, serde.as_ip),
            subnet_v6=serde.opt(o, "subnet_v6", path, serde.as_ipnet),
            dns_port=serde.req(o, "dns_port", path, serde.as_u16),
            dns_server_ips=serde.req(o, "dns_server_ips", path,
                                     lambda x, p: serde.as_list(x, p, serde.as_ip)),
            internal=serde.opt(o, "internal", path, serde.as_bool) or False,
        )


class FirewallDriver:
    """Interface every firewall driver implements.

    ``dbus`` is an open system-bus connection or None; drivers that do not
    talk to firewalld ignore it.
    """

    name = ""

    def setup_network(self, net: SetupNetwork, dbus: Any = None) -> None:
        raise NotImplementedError

    def teardown_network(self, net: SetupNetwork) -> None:
        raise NotImplementedError

    def setup_port_forward(self, pf: PortForwardConfig, dbus: Any = None) -> None:
        raise NotImplementedError

    def teardown_port_forward(self, pf: PortForwardConfig, complete: bool) -> None:
        raise NotImplementedError


def get_firewall_driver(name: str | None, one_shot: bool = False) -> FirewallDriver:
    """Instantiate the driver named on the command line / ``NETAVARK_FW`` (or the default).

    ``one_shot``: the process exits after this command, so kernel clean-up that
    would make it wait at exit may be left to a background child.
    """
    if name is None:
        name = DEFAULT_DRIVER
    lname = name.lower()
    if lname == FIREWALLD:
        from ..dbus import system_bus

        try:
            conn = system_bus()
        except NetavarkError as e:
            raise wrap("Error retrieving dbus connection for requested firewall backend",
                       e) from None
        from .firewalld import FirewalldDriver

        _log.info("Using firewalld firewall driver")
        return FirewalldDriver(conn)
    if lname == NFTABLES:
        from .nft import NftDriver

        _log.info("Using nftables firewall driver")
        return NftDriver(release_at_exit=one_shot)
    if lname == NONE:
        from .none import NoneDriver

        _log.info("Not using firewall")
        return NoneDriver()
    raise NetavarkError(f"Must provide a valid firewall backend, got {lname}")


def try_system_bus() -> Any:
    """A system D-Bus connection if one can be opened, else None (silently)."""
    try:
        from ..dbus import system_bus
    except ImportError:
        return None
    try:
        return system_bus()
    except NetavarkError:
        return None
