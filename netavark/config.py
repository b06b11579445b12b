"""The JSON contract with Podman as typed objects.

Setup/teardown input (``NetworkOptions``), network definitions (``Network``),
and the setup result (``StatusBlock``).  Decoding follows serde: unknown keys are
ignored, missing required keys and wrong types produce serde's messages.
"""

from __future__ import annotations

import sys

from . import serde
from .errors import IoError, NetavarkError, wrap
from .serde import (
    Path,
    SchemaError,
    as_bool,
    as_ip,
    as_ipnet,
    as_list,
    as_str,
    as_str_map,
    as_u16,
    as_u32,
    opt,
    req,
    struct,
)
from .timefmt import Timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .ip import IpAddr, IpNet


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _ips(v: list[IpAddr] | None) -> list[str] | None:
    return None if v is None else [str(x) for x in v]


class PortMapping:
    __slots__ = ("container_port", "host_ip", "host_port", "protocol", "range")

    def __init__(self, container_port: int, host_ip: str, host_port: int, protocol: str,
                 range: int) -> None:
        self.container_port = container_port
        self.host_ip = host_ip
        self.host_port = host_port
        self.protocol = protocol
        self.range = range

    @classmethod
    def from_json(cls, v: Any, path: Path) -> PortMapping:
        o = struct(v, path, "PortMapping")
        return cls(
            container_port=req(o, "container_port", path, as_u16),
            host_ip=req(o, "host_ip", path, as_str),
            host_port=req(o, "host_port", path, as_u16),
            protocol=req(o, "protocol", path, as_str),
            range=req(o, "range", path, as_u16),
        )

    def to_json(self) -> dict[str, Any]:
        return {"container_port": self.container_port, "host_ip": self.host_ip,
                "host_port": self.host_port, "protocol": self.protocol, "range": self.range}


class LeaseRange:
    __slots__ = ("end_ip", "start_ip")

    def __init__(self, start_ip: str | None, end_ip: str | None) -> None:
        self.start_ip = start_ip
        self.end_ip = end_ip

    @classmethod
    def from_json(cls, v: Any, path: Path) -> LeaseRange:
        o = struct(v, path, "LeaseRange")
        return cls(opt(o, "start_ip", path, as_str), opt(o, "end_ip", path, as_str))

    def to_json(self) -> dict[str, Any]:
        return {"end_ip": self.end_ip, "start_ip": self.start_ip}


class Subnet:
    __slots__ = ("gateway", "lease_range", "subnet")

    def __init__(self, subnet: IpNet, gateway: IpAddr | None = None,
                 lease_range: LeaseRange | None = None) -> None:
        self.subnet = subnet
        self.gateway = gateway
        self.lease_range = lease_range

    @classmethod
    def from_json(cls, v: Any, path: Path) -> Subnet:
        o = struct(v, path, "Subnet")
        return cls(
            gateway=opt(o, "gateway", path, as_ip),
            lease_range=opt(o, "lease_range", path, LeaseRange.from_json),
            subnet=req(o, "subnet", path, as_ipnet),
        )

    def to_json(self) -> dict[str, Any]:
        return _drop_none({
            "gateway": None if self.gateway is None else str(self.gateway),
            "lease_range": None if self.lease_range is None else self.lease_range.to_json(),
            "subnet": str(self.subnet),
        })


def check_subnet_overlaps(subnets: list[Subnet] | None) -> None:
    """No duplicate or nested subnets within one network (pairs i < j in order)."""
    from .errors import NetavarkError

    subnets = subnets or []
    for i, a in enumerate(subnets):
        for b in subnets[i + 1:]:
            if a.subnet == b.subnet:
                raise NetavarkError(f"duplicate subnet defined: {a.subnet}")
            if a.subnet.overlaps(b.subnet):
                raise NetavarkError(f"overlapping subnets: {a.subnet} and {b.subnet}")


class Route:
    __slots__ = ("destination", "gateway", "metric", "route_type")

    def __init__(self, destination: IpNet, gateway: IpAddr | None = None,
                 metric: int | None = None, route_type: str | None = None) -> None:
        self.destination = destination
        self.gateway = gateway
        self.metric = metric
        self.route_type = route_type

    @classmethod
    def from_json(cls, v: Any, path: Path) -> Route:
        o = struct(v, path, "Route")
        return cls(
            gateway=opt(o, "gateway", path, as_ip),
            destination=req(o, "destination", path, as_ipnet),
            metric=opt(o, "metric", path, as_u32),
            route_type=opt(o, "route_type", path, as_str),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        out["destination"] = str(self.destination)
        out["metric"] = self.metric
        if self.route_type is not None:
            out["route_type"] = self.route_type
        return out


def _as_timestamp(v: Any, path: Path) -> Timestamp:
    s = as_str(v, path)
    try:
        return Timestamp.parse(s)
    except ValueError as e:
        raise SchemaError(str(e), path) from None


class Network:
    __slots__ = ("created", "dns_enabled", "driver", "id", "internal", "ipam_options",
                 "ipv6_enabled", "labels", "name", "network_dns_servers", "network_interface",
                 "options", "routes", "subnets")

    def __init__(self, name: str, id: str, driver: str, *, created: Timestamp | None = None,
                 dns_enabled: bool = False, internal: bool = False, ipv6_enabled: bool = False,
                 network_interface: str | None = None, options: dict[str, str] | None = None,
                 ipam_options: dict[str, str] | None = None,
                 subnets: list[Subnet] | None = None, routes: list[Route] | None = None,
                 network_dns_servers: list[IpAddr] | None = None,
                 labels: dict[str, str] | None = None) -> None:
        self.name = name
        self.id = id
        self.driver = driver
        self.created = created
        self.dns_enabled = dns_enabled
        self.internal = internal
        self.ipv6_enabled = ipv6_enabled
        self.network_interface = network_interface
        self.options = options
        self.ipam_options = ipam_options
        self.subnets = subnets
        self.routes = routes
        self.network_dns_servers = network_dns_servers
        self.labels = labels

    @classmethod
    def from_json(cls, v: Any, path: Path) -> Network:
        o = struct(v, path, "Network")
        return cls(
            created=opt(o, "created", path, _as_timestamp),
            dns_enabled=req(o, "dns_enabled", path, as_bool),
            driver=req(o, "driver", path, as_str),
            id=req(o, "id", path, as_str),
            internal=req(o, "internal", path, as_bool),
            ipv6_enabled=req(o, "ipv6_enabled", path, as_bool),
            name=req(o, "name", path, as_str),
            network_interface=opt(o, "network_interface", path, as_str),
            options=opt(o, "options", path, as_str_map),
            ipam_options=opt(o, "ipam_options", path, as_str_map),
            subnets=opt(o, "subnets", path,
                        lambda x, p: as_list(x, p, Subnet.from_json)),
            routes=opt(o, "routes", path, lambda x, p: as_list(x, p, Route.from_json)),
            network_dns_servers=opt(o, "network_dns_servers", path,
                                    lambda x, p: as_list(x, p, as_ip)),
            labels=opt(o, "labels", path, as_str_map),
        )

    def to_json(self) -> dict[str, Any]:
        """Serialised as upstream does: unset fields omitted, fixed key order."""
        return _drop_none({
            "created": None if self.created is None else str(self.created),
            "dns_enabled": self.dns_enabled,
            "driver": self.driver,
            "id": self.id,
            "internal": self.internal,
            "ipv6_enabled": self.ipv6_enabled,
            "name": self.name,
            "network_interface": self.network_interface,
            "options": self.options,
            "ipam_options": self.ipam_options,
            "subnets": None if self.subnets is None else [s.to_json() for s in self.subnets],
            "routes": None if self.routes is None else [r.to_json() for r in self.routes],
            "network_dns_servers": _ips(self.network_dns_servers),
            "labels": self.labels,
        })

    def option(self, key: str) -> str | None:
        return None if self.options is None else self.options.get(key)

    def ipam_driver(self) -> str | None:
        return None if self.ipam_options is None else self.ipam_options.get("driver")


class PerNetworkOptions:
    __slots__ = ("aliases", "interface_name", "options", "static_ips", "static_mac")

    def __init__(self, interface_name: str, static_ips: list[IpAddr] | None = None,
                 static_mac: str | None = None, aliases: list[str] | None = None,
                 options: dict[str, str] | None = None) -> None:
        self.interface_name = interface_name
        self.static_ips = static_ips
        self.static_mac = static_mac
        self.aliases = aliases
        self.options = options

    @classmethod
    def from_json(cls, v: Any, path: Path) -> PerNetworkOptions:
        o = struct(v, path, "PerNetworkOptions")
        return cls(
            aliases=opt(o, "aliases", path, lambda x, p: as_list(x, p, as_str)),
            interface_name=req(o, "interface_name", path, as_str),
            static_ips=opt(o, "static_ips", path, lambda x, p: as_list(x, p, as_ip)),
            static_mac=opt(o, "static_mac", path, as_str),
            options=opt(o, "options", path, as_str_map),
        )

    def to_json(self) -> dict[str, Any]:
        return {"aliases": self.aliases, "interface_name": self.interface_name,
                "static_ips": _ips(self.static_ips), "static_mac": self.static_mac,
                "options": self.options}


def _networks(v: Any, path: Path) -> list[tuple[str, PerNetworkOptions]]:
    if isinstance(v, dict):
        return [(k, PerNetworkOptions.from_json(x, (*path, k))) for k, x in v.items()]
    if isinstance(v, list):
        out = []
        for i, x in enumerate(v):
            p = (*path, i)
            o = struct(x, p, "NamedPerNetworkOptions")
            name = req(o, "name", p, as_str)
            out.append((name, PerNetworkOptions.from_json(o, p)))
        return out
    raise serde.invalid_type(v, "array of network options or map", path)


class NetworkOptions:
    """``setup``/``teardown`` input."""

    __slots__ = ("container_hostname", "container_id", "container_name", "dns_servers",
                 "network_info", "networks", "port_mappings")

    def __init__(self, container_id: str, container_name: str,
                 networks: list[tuple[str, PerNetworkOptions]],
                 network_info: dict[str, Network], *, container_hostname: str | None = None,
                 port_mappings: list[PortMapping] | None = None,
                 dns_servers: list[IpAddr] | None = None) -> None:
        self.container_id = container_id
        self.container_name = container_name
        self.container_hostname = container_hostname
        self.networks = networks
        self.network_info = network_info
        self.port_mappings = port_mappings
        self.dns_servers = dns_servers

    @classmethod
    def from_json(cls, v: Any, path: Path = ()) -> NetworkOptions:
        o = struct(v, path, "NetworkOptions")
        return cls(
            container_id=req(o, "container_id", path, as_str),
            container_name=req(o, "container_name", path, as_str),
            container_hostname=opt(o, "container_hostname", path, as_str),
            networks=req(o, "networks", path, _networks),
            network_info=req(o, "network_info", path,
                             lambda x, p: serde.as_map(x, p, Network.from_json)),
            port_mappings=opt(o, "port_mappings", path,
                              lambda x, p: as_list(x, p, PortMapping.from_json)),
            dns_servers=opt(o, "dns_servers", path, lambda x, p: as_list(x, p, as_ip)),
        )


def read_input(file: str | bytes | None) -> bytes:
    """The raw JSON from ``--file`` or stdin (``-`` is a file name, as upstream)."""
    if file is None:
        return sys.stdin.buffer.read()
    with open(file, "rb") as f:
        return f.read()


def decode(raw: bytes, builder: Any) -> Any:
    """Parse and convert, raising ``IoError(detail=<serde message>)`` on failure."""
    try:
        doc = serde.loads(raw)
        try:
            return builder(doc, ())
        except SchemaError as e:
            raise serde.located(raw, e) from None
    except serde.DecodeError as e:
        raise IoError(detail=str(e)) from None


def load(file: str | bytes | None, builder: Any, context: str) -> Any:
    """Read and decode input, errors wrapped with ``context`` as upstream does."""
    try:
        raw = read_input(file)
    except OSError as e:
        raise wrap(context, IoError.from_os(e)) from None
    try:
        return decode(raw, builder)
    except NetavarkError as e:
        raise wrap(context, e) from None


def load_network_options(file: str | bytes | None) -> NetworkOptions:
    return load(file, NetworkOptions.from_json, "failed to load network options")


# ---------------------------------------------------------------------------
# output


class NetAddress:
    __slots__ = ("gateway", "ipnet")

    def __init__(self, ipnet: IpNet, gateway: IpAddr | None) -> None:
        self.ipnet = ipnet
        self.gateway = gateway

    def to_json(self) -> dict[str, Any]:
        return {"gateway": None if self.gateway is None else str(self.gateway),
                "ipnet": str(self.ipnet)}


class NetInterface:
    __slots__ = ("mac_address", "subnets")

    def __init__(self, mac_address: str, subnets: list[NetAddress] | None) -> None:
        self.mac_address = mac_address
        self.subnets = subnets

    def to_json(self) -> dict[str, Any]:
        return {"mac_address": self.mac_address,
                "subnets": None if self.subnets is None else [s.to_json() for s in self.subnets]}


class StatusBlock:
    """Per-network setup result."""

    __slots__ = ("dns_search_domains", "dns_server_ips", "interfaces")

    def __init__(self, dns_search_domains: list[str] | None = None,
                 dns_server_ips: list[IpAddr] | None = None,
                 interfaces: dict[str, NetInterface] | None = None) -> None:
        self.dns_search_domains = dns_search_domains
        self.dns_server_ips = dns_server_ips
        self.interfaces = interfaces

    def to_json(self) -> dict[str, Any]:
        return {
            "dns_search_domains": self.dns_search_domains,
            "dns_server_ips": _ips(self.dns_server_ips),
            "interfaces": None if self.interfaces is None else
            {k: v.to_json() for k, v in self.interfaces.items()},
        }
