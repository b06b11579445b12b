"""``netavark create`` input: ``NetworkCreateConfig`` and its parts.

Decoded like the setup input in ``netavark.config`` (serde rules: unknown
keys ignored, serde's messages for missing fields and wrong types).
"""

from __future__ import annotations

from ..config import Network, load
from ..serde import Path, as_bool, as_ipnet, as_list, as_str, as_str_map, as_u32, opt, req, struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..ip import IpNet


def _as_str_list(v: Any, path: Path) -> list[str]:
    return as_list(v, path, as_str)


class Used:
    """What Podman knows to be taken: host interfaces, network names, subnets."""

    __slots__ = ("interfaces", "names", "subnets")

    def __init__(self, interfaces: list[str] | None = None, names: dict[str, str] | None = None,
                 subnets: list[IpNet] | None = None) -> None:
        self.interfaces = [] if interfaces is None else interfaces
        self.names = {} if names is None else names
        self.subnets = [] if subnets is None else subnets

    @classmethod
    def from_json(cls, v: Any, path: Path) -> Used:
        o = struct(v, path, "Used")
        return cls(
            interfaces=req(o, "interfaces", path, _as_str_list),
            names=req(o, "names", path, as_str_map),
            subnets=req(o, "subnets", path, lambda x, p: as_list(x, p, as_ipnet)),
        )

    def to_json(self) -> dict[str, Any]:
        return {"interfaces": self.interfaces, "names": self.names,
                "subnets": [str(s) for s in self.subnets]}


class SubnetPool:
    """A range subnets are cut from: ``base`` split into ``/size`` pieces."""

    __slots__ = ("base", "size")

    def __init__(self, base: IpNet, size: int) -> None:
        self.base = base
        self.size = size

    @classmethod
    def from_json(cls, v: Any, path: Path) -> SubnetPool:
        o = struct(v, path, "SubnetPool")
        return cls(base=req(o, "base", path, as_ipnet), size=req(o, "size", path, as_u32))

    def to_json(self) -> dict[str, Any]:
        return {"base": str(self.base), "size": self.size}


class CreateOpts:
    __slots__ = ("check_used_subnets", "default_interface_name", "subnet_pools")

    def __init__(self, subnet_pools: list[SubnetPool] | None = None,
                 default_interface_name: str | None = None,
                 check_used_subnets: bool = False) -> None:
        self.subnet_pools = [] if subnet_pools is None else subnet_pools
        self.default_interface_name = default_interface_name
        self.check_used_subnets = check_used_subnets

    @classmethod
    def from_json(cls, v: Any, path: Path) -> CreateOpts:
        o = struct(v, path, "CreateOpts")
        return cls(
            subnet_pools=req(o, "subnet_pools", path,
                             lambda x, p: as_list(x, p, SubnetPool.from_json)),
            default_interface_name=opt(o, "default_interface_name", path, as_str),
            check_used_subnets=req(o, "check_used_subnets", path, as_bool),
        )

    def to_json(self) -> dict[str, Any]:
        return {"subnet_pools": [p.to_json() for p in self.subnet_pools],
                "default_interface_name": self.default_interface_name,
                "check_used_subnets": self.check_used_subnets}


class NetworkCreateConfig:
    """The whole ``create`` input: the partial network, what is used, options."""

    __slots__ = ("network", "options", "used")

    def __init__(self, network: Network, used: Used, options: CreateOpts) -> None:
        self.network = network
        self.used = used
        self.options = options

    @classmethod
    def from_json(cls, v: Any, path: Path = ()) -> NetworkCreateConfig:
        o = struct(v, path, "NetworkCreateConfig")
        return cls(
            network=req(o, "network", path, Network.from_json),
            used=req(o, "used", path, Used.from_json),
            options=req(o, "options", path, CreateOpts.from_json),
        )

    def to_json(self) -> dict[str, Any]:
        return {"network": self.network.to_json(), "used": self.used.to_json(),
                "options": self.options.to_json()}


def load_create_config(file: str | bytes | None) -> NetworkCreateConfig:
    """Read ``--file`` or stdin; errors as ``failed to load network create: ...``."""
    return load(file, NetworkCreateConfig.from_json, "failed to load network create")
