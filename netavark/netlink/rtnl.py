"""rtnetlink message layouts, declared as data (``linux/rtnetlink.h``, ``if_link.h``,
``if_addr.h``, ``if_bridge.h``, ``veth.h``).  Sans-IO."""

from __future__ import annotations

from .attrs import (
    BE16,
    BINARY,
    HWADDR,
    IPADDR,
    S32,
    STRZ,
    U8,
    U16,
    U32,
    U64,
    Nested,
    Policy,
    Struct,
    Union,
)

# message types (linux/rtnetlink.h)
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWADDR = 20
RTM_DELADDR = 21
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_DELROUTE = 25
RTM_GETROUTE = 26

AF_UNSPEC = 0
AF_INET = 2
AF_BRIDGE = 7
AF_INET6 = 10

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000

# route table / protocol / scope / type (linux/rtnetlink.h)
RT_TABLE_UNSPEC = 0
RT_TABLE_MAIN = 254
RTPROT_UNSPEC = 0
RTPROT_KERNEL = 2
RTPROT_BOOT = 3
RTPROT_STATIC = 4
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254
RTN_UNICAST = 1
RTN_LOCAL = 2
RTN_BLACKHOLE = 6
RTN_UNREACHABLE = 7
RTN_PROHIBIT = 8

# bridge vlan (linux/if_bridge.h)
BRIDGE_VLAN_INFO_PVID = 2
BRIDGE_VLAN_INFO_UNTAGGED = 4

# macvlan / ipvlan modes (linux/if_link.h)
MACVLAN_MODE_PRIVATE = 1
MACVLAN_MODE_VEPA = 2
MACVLAN_MODE_BRIDGE = 4
MACVLAN_MODE_PASSTHRU = 8
MACVLAN_MODE_SOURCE = 16
IPVLAN_MODE_L2 = 0
IPVLAN_MODE_L3 = 1
IPVLAN_MODE_L3S = 2

# ---------------------------------------------------------------------------
# fixed headers

IFINFOMSG = ("=BxHiII", ("family", "type", "index", "flags", "change"))
IFADDRMSG = ("=BBBBI", ("family", "prefixlen", "flags", "scope", "index"))
RTMSG = ("=BBBBBBBBI", ("family", "dst_len", "src_len", "tos", "table", "protocol",
                        "scope", "type", "flags"))

# ---------------------------------------------------------------------------
# IFLA_INFO_DATA per kind

IFLA_BR = Policy("IFLA_BR", {
    1: ("forward_delay", U32),
    2: ("hello_time", U32),
    3: ("max_age", U32),
    4: ("ageing_time", U32),
    5: ("stp_state", U32),
    6: ("priority", U16),
    7: ("vlan_filtering", U8),
    8: ("vlan_protocol", BE16),
    9: ("group_fwd_mask", U16),
})

IFLA_MACVLAN = Policy("IFLA_MACVLAN", {
    1: ("mode", U32),
    2: ("flags", U16),
    3: ("macaddr_mode", U32),
    6: ("macaddr_count", U32),
    7: ("bc_queue_len", U32),
    8: ("bc_queue_len_used", U32),
    9: ("bc_cutoff", S32),
})

IFLA_IPVLAN = Policy("IFLA_IPVLAN", {
    1: ("mode", U16),
    2: ("flags", U16),
})

IFLA_VLAN = Policy("IFLA_VLAN", {
    1: ("id", U16),
    2: ("flags", BINARY),
    5: ("protocol", BE16),
})

IFLA_VRF = Policy("IFLA_VRF", {
    1: ("table", U32),
})

IFLA_VETH = Policy("VETH_INFO", {})  # filled in below (recursive through IFLA)

INFO_DATA = Union("kind", {
    "bridge": Nested(IFLA_BR),
    "veth": Nested(IFLA_VETH),
    "macvlan": Nested(IFLA_MACVLAN),
    "macvtap": Nested(IFLA_MACVLAN),
    "ipvlan": Nested(IFLA_IPVLAN),
    "ipvtap": Nested(IFLA_IPVLAN),
    "vlan": Nested(IFLA_VLAN),
    "vrf": Nested(IFLA_VRF),
})

IFLA_INFO = Policy("IFLA_INFO", {
    1: ("kind", STRZ),
    2: ("data", INFO_DATA),
    4: ("slave_kind", STRZ),
    5: ("slave_data", BINARY),
})

IFLA_BRIDGE = Policy("IFLA_BRIDGE", {
    0: ("flags", U16),
    1: ("mode", U16),
    2: ("vlan_info", Struct("=HH", ("flags", "vid"))),
})

IFLA = Policy("IFLA", {
    1: ("address", HWADDR),
    2: ("broadcast", HWADDR),
    3: ("ifname", STRZ),
    4: ("mtu", U32),
    5: ("link", U32),
    6: ("qdisc", STRZ),
    10: ("master", U32),
    13: ("txqlen", U32),
    16: ("operstate", U8),
    17: ("linkmode", U8),
    18: ("linkinfo", Nested(IFLA_INFO)),
    19: ("net_ns_pid", U32),
    20: ("ifalias", STRZ),
    26: ("af_spec", Nested(IFLA_BRIDGE)),
    27: ("group", U32),
    28: ("net_ns_fd", S32),
    29: ("ext_mask", U32),
    30: ("promiscuity", U32),
    31: ("num_tx_queues", U32),
    32: ("num_rx_queues", U32),
    33: ("carrier", U8),
    37: ("link_netnsid", S32),
    41: ("gso_max_size", U32),
    50: ("min_mtu", U32),
    51: ("max_mtu", U32),
    53: ("alt_ifname", STRZ),
    54: ("perm_address", HWADDR),
})

IFLA_VETH.by_id[1] = ("peer", Struct(*IFINFOMSG, policy=IFLA))
IFLA_VETH.by_name["peer"] = (1, IFLA_VETH.by_id[1][1])

IFA = Policy("IFA", {
    1: ("address", IPADDR),
    2: ("local", IPADDR),
    3: ("label", STRZ),
    4: ("broadcast", IPADDR),
    5: ("anycast", IPADDR),
    6: ("cacheinfo", BINARY),
    7: ("multicast", IPADDR),
    8: ("flags", U32),
    9: ("rt_priority", U32),
    11: ("proto", U8),
})

RTA = Policy("RTA", {
    1: ("dst", IPADDR),
    2: ("src", IPADDR),
    3: ("iif", U32),
    4: ("oif", U32),
    5: ("gateway", IPADDR),
    6: ("priority", U32),
    7: ("prefsrc", IPADDR),
    8: ("metrics", BINARY),
    9: ("multipath", BINARY),
    12: ("cacheinfo", BINARY),
    15: ("table", U32),
    16: ("mark", U32),
    20: ("pref", U8),
    23: ("expires", U64),
})

LINK_MSG = Struct(*IFINFOMSG, policy=IFLA)
ADDR_MSG = Struct(*IFADDRMSG, policy=IFA)
ROUTE_MSG = Struct(*RTMSG, policy=RTA)
