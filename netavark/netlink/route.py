"""rtnetlink operations netavark needs, as methods of a handle bound to one socket
(and therefore to one network namespace).

Request bytes are built by pure ``*_request`` functions (unit tested against
captured kernel traffic); the handle only sends them.
"""

from __future__ import annotations

from ..errors import NetavarkError
from ..ip import IpAddr, IpNet
from . import rtnl
from .links import Link, LinkSpec
from .message import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST
from .socket import NETLINK_ROUTE, NetlinkSocket, Request, check_single

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .attrs import Attrs
    from .message import RawMessage

CREATE_FLAGS = NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE


# ---------------------------------------------------------------------------
# routes as netavark models them


class RouteSpec:
    """A route inside a container (always table main, proto static)."""

    __slots__ = ("dest", "gateway", "metric", "rtype")

    UNICAST, BLACKHOLE, UNREACHABLE, PROHIBIT = (rtnl.RTN_UNICAST, rtnl.RTN_BLACKHOLE,
                                                 rtnl.RTN_UNREACHABLE, rtnl.RTN_PROHIBIT)
    TYPE_NAMES = {rtnl.RTN_UNICAST: "Unicast", rtnl.RTN_BLACKHOLE: "BlackHole",
                  rtnl.RTN_UNREACHABLE: "Unreachable", rtnl.RTN_PROHIBIT: "Prohibit"}

    def __init__(self, dest: IpNet, gateway: IpAddr | None = None, metric: int = 100,
                 rtype: int = rtnl.RTN_UNICAST) -> None:
        self.dest = dest
        self.gateway = gateway
        self.metric = metric
        self.rtype = rtype

    def __str__(self) -> str:
        """Upstream's route display used in logs and error messages."""
        if self.rtype == rtnl.RTN_UNICAST:
            return f"(dest: {self.dest}, gw: {self.gateway}, metric {self.metric})"
        return f"({self.TYPE_NAMES[self.rtype]} dest: {self.dest}, metric {self.metric})"


# ---------------------------------------------------------------------------
# pure request builders


def link_msg(attrs: list[tuple[str, Any]] | tuple = (), **header: Any) -> bytes:
    return rtnl.LINK_MSG.encode((header, attrs))


def get_link_by_name_request(name: str) -> bytes:
    return link_msg([("ifname", name)])


def create_link_request(spec: LinkSpec) -> bytes:
    return link_msg(spec.attrs())


def set_up_request(index: int, up: bool = True) -> bytes:
    return link_msg(index=index, flags=rtnl.IFF_UP if up else 0, change=rtnl.IFF_UP)


def addr_request(index: int, addr: IpNet) -> bytes:
    ip = addr.addr
    header = {"family": rtnl.AF_INET if ip.version == 4 else rtnl.AF_INET6,
              "prefixlen": addr.prefix, "index": index}
    if ip.version == 4:
        attrs = [("broadcast", addr.broadcast()), ("local", ip)]
    else:
        attrs = [("local", ip)]
    return rtnl.ADDR_MSG.encode((header, attrs))


def route_request(route: RouteSpec) -> bytes:
    dest = route.dest
    header = {"family": rtnl.AF_INET if dest.version == 4 else rtnl.AF_INET6,
              "dst_len": dest.prefix, "table": rtnl.RT_TABLE_MAIN,
              "protocol": rtnl.RTPROT_STATIC, "scope": rtnl.RT_SCOPE_UNIVERSE,
              "type": route.rtype}
    attrs = [("dst", dest.addr), ("gateway", route.gateway), ("priority", route.metric)]
    return rtnl.ROUTE_MSG.encode((header, attrs))


def route_dump_request(table: int) -> bytes:
    header = {"type": rtnl.RTN_UNICAST}
    return rtnl.ROUTE_MSG.encode((header, [("table", table)]))


# ---------------------------------------------------------------------------
# decoded replies


class Address:
    __slots__ = ("address", "family", "index", "local", "prefixlen", "scope")

    def __init__(self, header: dict[str, Any], attrs: Attrs) -> None:
        self.family = header["family"]
        self.prefixlen = header["prefixlen"]
        self.scope = header["scope"]
        self.index = header["index"]
        self.address: IpAddr | None = attrs.get("address")
        self.local: IpAddr | None = attrs.get("local")


class Route:
    __slots__ = ("attrs", "dst", "dst_len", "family", "gateway", "oif", "priority", "table",
                 "type")

    def __init__(self, header: dict[str, Any], attrs: Attrs) -> None:
        self.family = header["family"]
        self.dst_len = header["dst_len"]
        self.type = header["type"]
        self.table = attrs.get("table", header["table"])
        self.attrs = attrs
        self.dst: IpAddr | None = attrs.get("dst")
        self.gateway: IpAddr | None = attrs.get("gateway")
        self.oif: int | None = attrs.get("oif")
        self.priority: int | None = attrs.get("priority")


def decode_link(msg: RawMessage) -> Link:
    header, attrs = rtnl.LINK_MSG.decode(msg.payload)
    return Link(header, attrs)


# ---------------------------------------------------------------------------
# the handle


class RtnlHandle:
    """rtnetlink requests over one socket (i.e. in one network namespace)."""

    def __init__(self, sock: NetlinkSocket) -> None:
        self.sock = sock

    @classmethod
    def open(cls) -> RtnlHandle:
        return cls(NetlinkSocket(NETLINK_ROUTE))

    def close(self) -> None:
        self.sock.close()

    # -- links --------------------------------------------------------
    def get_link(self, name: str) -> Link:
        replies = self.sock.request(rtnl.RTM_GETLINK, 0, get_link_by_name_request(name),
                                    f"get link {name}")
        check_single(replies, "get_link", 1)
        return decode_link(replies[0])

    def get_link_by_index(self, index: int) -> Link:
        replies = self.sock.request(rtnl.RTM_GETLINK, 0, link_msg(index=index),
                                    f"get link {index}")
        check_single(replies, "get_link", 1)
        return decode_link(replies[0])

    def dump_links(self, master: int | None = None) -> list[Link]:
        attrs = [("master", master)] if master is not None else []
        return [decode_link(m) for m in
                self.sock.dump(rtnl.RTM_GETLINK, link_msg(attrs), "dump links")]

    def create_link(self, spec: LinkSpec) -> None:
        self.sock.request(rtnl.RTM_NEWLINK, CREATE_FLAGS, create_link_request(spec),
                          f"create {spec.kind} {spec.name}")

    def set_up(self, index: int) -> None:
        self.sock.request(rtnl.RTM_SETLINK, CREATE_FLAGS, set_up_request(index),
                          f"set link {index} up")

    def set_mac(self, index: int, mac: str) -> None:
        self.sock.request(rtnl.RTM_SETLINK, NLM_F_ACK,
                          link_msg([("address", mac)], index=index), f"set mac of {index}")

    def set_mtu(self, index: int, mtu: int) -> None:
        self.sock.request(rtnl.RTM_SETLINK, NLM_F_ACK,
                          link_msg([("mtu", mtu)], index=index), f"set mtu of {index}")

    def rename(self, index: int, name: str) -> None:
        self.sock.request(rtnl.RTM_SETLINK, NLM_F_ACK,
                          link_msg([("ifname", name)], index=index), f"rename {index}")

    def set_netns(self, index: int, netns_fd: int) -> None:
        self.sock.request(rtnl.RTM_SETLINK, NLM_F_ACK,
                          link_msg([("net_ns_fd", netns_fd)], index=index),
                          f"move {index} to netns")

    def set_master(self, index: int, master: int) -> None:
        self.sock.request(rtnl.RTM_SETLINK, NLM_F_ACK,
                          link_msg([("master", master)], index=index), f"set master of {index}")

    def del_link(self, index: int) -> None:
        self.sock.request(rtnl.RTM_DELLINK, NLM_F_ACK, link_msg(index=index),
                          f"delete link {index}")

    def del_link_by_name(self, name: str) -> None:
        self.sock.request(rtnl.RTM_DELLINK, NLM_F_ACK, link_msg([("ifname", name)]),
                          f"delete link {name}")

    def enable_vlan_filtering(self, index: int) -> None:
        attrs = [("linkinfo", [("kind", "bridge"), ("data", [("vlan_filtering", 1)])])]
        self.sock.request(rtnl.RTM_NEWLINK, NLM_F_ACK, link_msg(attrs, index=index),
                          "enable vlan filtering")

    def bridge_vlan_add(self, index: int, vid: int) -> None:
        flags = rtnl.BRIDGE_VLAN_INFO_PVID | rtnl.BRIDGE_VLAN_INFO_UNTAGGED
        attrs = [("af_spec", [("vlan_info", {"flags": flags, "vid": vid})])]
        self.sock.request(rtnl.RTM_SETLINK, NLM_F_ACK,
                          link_msg(attrs, family=rtnl.AF_BRIDGE, index=index), "bridge vlan add")

    # -- addresses ----------------------------------------------------
    def add_addr(self, index: int, addr: IpNet) -> None:
        self.sock.request(rtnl.RTM_NEWADDR, CREATE_FLAGS, addr_request(index, addr),
                          f"add address {addr}")

    def add_addrs(self, index: int, addrs: list[IpNet]) -> None:
        """Several addresses in one datagram; the first failure is raised."""
        reqs = [Request(rtnl.RTM_NEWADDR, CREATE_FLAGS, addr_request(index, a),
                        f"add address {a}") for a in addrs]
        for r in self.sock.transact(reqs):
            if r.error is not None:
                raise r.error

    def del_addr(self, index: int, addr: IpNet) -> None:
        self.sock.request(rtnl.RTM_DELADDR, NLM_F_ACK, addr_request(index, addr),
                          f"delete address {addr}")

    def dump_addrs(self, index: int = 0) -> list[Address]:
        payload = rtnl.ADDR_MSG.encode(({"index": index}, ()))
        out = []
        for m in self.sock.dump(rtnl.RTM_GETADDR, payload, "dump addresses"):
            header, attrs = rtnl.ADDR_MSG.decode(m.payload)
            if index and header["index"] != index:
                continue
            out.append(Address(header, attrs))
        return out

    # -- routes -------------------------------------------------------
    def add_route(self, route: RouteSpec) -> None:
        self.sock.request(rtnl.RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, route_request(route),
                          f"add route {route}")

    def del_route(self, route: RouteSpec) -> None:
        self.sock.request(rtnl.RTM_DELROUTE, NLM_F_ACK, route_request(route),
                          f"delete route {route}")

    def dump_routes(self, table: int = rtnl.RT_TABLE_MAIN) -> list[Route]:
        out = []
        for m in self.sock.dump(rtnl.RTM_GETROUTE, route_dump_request(table), "dump routes"):
            header, attrs = rtnl.ROUTE_MSG.decode(m.payload)
            out.append(Route(header, attrs))
        return out

    def default_route_interface(self, table: int = rtnl.RT_TABLE_MAIN) -> Link:
        """Interface of the first default route of ``table`` (upstream's lookup)."""
        try:
            routes = self.dump_routes(table)
        except NetavarkError as e:
            from ..errors import wrap

            raise wrap("dump routes", e) from None
        for r in routes:
            if r.table != table:
                continue
            if "dst" not in r.attrs and r.oif:
                return self.get_link_by_index(r.oif)
        raise NetavarkError("failed to get default route interface")


__all__ = ["NLM_F_DUMP", "NLM_F_REQUEST", "RouteSpec", "RtnlHandle"]
