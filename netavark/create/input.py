"""``netavark create`` input: ``NetworkCreateConfig`` and its parts.

Decoded like the setup input in ``netavark.config`` (serde rules: unknown
keys ignored, serde's messages for missing fields and wrong types).
"""

from __future__ import annotations

from ..config import Network, load
from ..serde import (
    Path,
    SchemaError,
    as_bool,
    as_ipnet,
    as_list,
    as_str,
    as_str_map,
    as_u32,
    struct,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..ip import IpNet


def _as_str_list(v: Any, path: Path) -> list[str]:
    return as_list(v, path, as_str)


def _fields(o: dict[str, Any], path: Path,
            spec: tuple[tuple[str, Callable[[Any, Path], Any], bool], ...]) -> dict[str, Any]:
    """Decode known keys in document order, then report the first missing one.

    That is the order serde's derived decoder finds problems in, so with
    several faults the same one is reported.  ``spec``: (key, converter,
    required); optional keys may be null.
    """
    table = {name: (conv, required) for name, conv, required in spec}
    out: dict[str, Any] = {}
    for key, value in o.items():
        entry = table.get(key)
        if entry is None:
            continue
        conv, required = entry
        out[key] = None if value is None and not required else conv(value, (*path, key))
    for name, _, required in spec:
        if required and name not in out:
            raise SchemaError(f"missing field `{name}`", path)
    return out


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
        f = _fields(struct(v, path, "Used"), path, (
            ("interfaces", _as_str_list, True),
            ("names", as_str_map, True),
            ("subnets", lambda x, p: as_list(x, p, as_ipnet), True),
        ))
        return cls(f["interfaces"], f["names"], f["subnets"])

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
        f = _fields(struct(v, path, "SubnetPool"), path,
                    (("base", as_ipnet, True), ("size", as_u32, True)))
        return cls(f["base"], f["size"])

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
        f = _fields(struct(v, path, "CreateOpts"), path, (
            ("subnet_pools", lambda x, p: as_list(x, p, SubnetPool.from_json), True),
            ("default_interface_name", as_str, False),
            ("check_used_subnets", as_bool, True),
        ))
        return cls(f["subnet_pools"], f.get("default_interface_name"), f["check_used_subnets"])

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
        f = _fields(struct(v, path, "NetworkCreateConfig"), path, (
            ("network", Network.from_json, True),
            ("used", Used.from_json, True),
            ("options", CreateOpts.from_json, True),
        ))
        return cls(f["network"], f["used"], f["options"])

    def to_json(self) -> dict[str, Any]:
        return {"network": self.network.to_json(), "used": self.used.to_json(),
                "options": self.options.to_json()}


def load_create_config(file: str | bytes | None) -> NetworkCreateConfig:
    """Read ``--file`` or stdin; errors as ``failed to load network create: ...``."""
    return load(file, NetworkCreateConfig.from_json, "failed to load network create")
