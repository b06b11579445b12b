"""Typed link kinds (what to create) and the decoded :class:`Link` (what exists).

Each kind knows its ``IFLA_LINKINFO`` contents; :meth:`LinkSpec.attrs` returns
the attribute list in the order upstream sends it (rtnetlink.md §2).
"""

from __future__ import annotations

from . import rtnl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .attrs import Attrs


class Link:
    """A link as the kernel reported it."""

    __slots__ = ("address", "attrs", "flags", "index", "info_data", "kind", "link", "master",
                 "mtu", "name", "slave_kind", "type")

    def __init__(self, header: dict[str, Any], attrs: Attrs) -> None:
        self.index: int = header["index"]
        self.flags: int = header["flags"]
        self.type: int = header["type"]
        self.attrs = attrs
        self.name: str = attrs.get("ifname", "")
        self.mtu: int | None = attrs.get("mtu")
        self.address: str | None = attrs.get("address")
        self.master: int | None = attrs.get("master")
        self.link: int | None = attrs.get("link")
        info = attrs.get("linkinfo")
        self.kind: str | None = info.get("kind") if info else None
        self.info_data: Any = info.get("data") if info else None
        self.slave_kind: str | None = info.get("slave_kind") if info else None

    @property
    def is_up(self) -> bool:
        return bool(self.flags & rtnl.IFF_UP)

    def __repr__(self) -> str:
        return f"Link({self.index}, {self.name!r}, kind={self.kind!r})"


class LinkSpec:
    """Common attributes of a link to create."""

    kind = ""
    __slots__ = ("address", "link", "master", "mtu", "name", "netns_fd")

    def __init__(self, name: str = "", *, mtu: int = 0, address: str | None = None,
                 master: int = 0, link: int = 0, netns_fd: int | None = None) -> None:
        self.name = name
        self.mtu = mtu
        self.address = address
        self.master = master
        self.link = link
        self.netns_fd = netns_fd

    def info_data(self) -> list[tuple[str, Any]] | None:
        return None

    def linkinfo(self) -> list[tuple[str, Any]]:
        data = self.info_data()
        items: list[tuple[str, Any]] = [("kind", self.kind)]
        if data is not None:
            items.append(("data", data))
        return items

    def attrs(self) -> list[tuple[str, Any]]:
        return [
            ("linkinfo", self.linkinfo()),
            ("ifname", self.name or None),
            ("mtu", self.mtu or None),
            ("address", self.address),
            ("master", self.master or None),
            ("link", self.link or None),
            ("net_ns_fd", self.netns_fd),
        ]


class Bridge(LinkSpec):
    kind = "bridge"
    __slots__ = ("vlan_filtering",)

    def __init__(self, name: str, *, vlan_filtering: bool = False, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.vlan_filtering = vlan_filtering

    def info_data(self) -> list[tuple[str, Any]] | None:
        return [("vlan_filtering", 1)] if self.vlan_filtering else None


class Veth(LinkSpec):
    """A veth pair; ``peer`` is the other end (usually created in another netns)."""

    kind = "veth"
    __slots__ = ("peer",)

    def __init__(self, name: str, peer: LinkSpec, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.peer = peer

    def info_data(self) -> list[tuple[str, Any]] | None:
        return [("peer", ({}, self.peer.attrs()))]


class VethPeer(LinkSpec):
    kind = "veth"
    __slots__ = ()


class Macvlan(LinkSpec):
    kind = "macvlan"
    __slots__ = ("bc_cutoff", "mode")

    def __init__(self, name: str, *, mode: int = rtnl.MACVLAN_MODE_BRIDGE,
                 bc_cutoff: int | None = None, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.mode = mode
        self.bc_cutoff = bc_cutoff

    def info_data(self) -> list[tuple[str, Any]] | None:
        return [("mode", self.mode), ("bc_cutoff", self.bc_cutoff)]


class Ipvlan(LinkSpec):
    kind = "ipvlan"
    __slots__ = ("mode",)

    def __init__(self, name: str, *, mode: int = rtnl.IPVLAN_MODE_L2, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.mode = mode

    def info_data(self) -> list[tuple[str, Any]] | None:
        return [("mode", self.mode)]


class Vlan(LinkSpec):
    kind = "vlan"
    __slots__ = ("vlan_id",)

    def __init__(self, name: str, *, vlan_id: int, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.vlan_id = vlan_id

    def info_data(self) -> list[tuple[str, Any]] | None:
        return [("id", self.vlan_id)]


class Vrf(LinkSpec):
    kind = "vrf"
    __slots__ = ("table",)

    def __init__(self, name: str, *, table: int, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.table = table

    def info_data(self) -> list[tuple[str, Any]] | None:
        return [("table", self.table)]


class Dummy(LinkSpec):
    kind = "dummy"
    __slots__ = ()


# Rust debug names of netlink-packet-route's InfoKind, used in upstream messages
KIND_DEBUG_NAMES = {
    "dummy": "Dummy", "ifb": "Ifb", "tun": "Tun", "nlmon": "Nlmon", "vlan": "Vlan",
    "veth": "Veth", "vxlan": "Vxlan", "bond": "Bond", "ipvlan": "IpVlan", "ipvtap": "IpVtap",
    "macvlan": "MacVlan", "macvtap": "MacVtap", "gretap": "GreTap", "ip6gretap": "GreTap6",
    "ipip": "IpIp", "ip6tnl": "Ip6Tnl", "sit": "SitTun", "gre": "GreTun", "ip6gre": "GreTun6",
    "vti": "Vti", "vrf": "Vrf", "bridge": "Bridge", "gtp": "Gtp", "ipoib": "Ipoib",
    "wireguard": "Wireguard", "xfrm": "Xfrm", "macsec": "MacSec", "hsr": "Hsr",
    "geneve": "Geneve", "netkit": "Netkit", "vxcan": "Vxcan",
}


def kind_debug_name(kind: str) -> str:
    from ..rustfmt import debug_str

    return KIND_DEBUG_NAMES.get(kind) or f"Other({debug_str(kind)})"
