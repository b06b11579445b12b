"""The messages and service of upstream's ``src/proto/proxy.proto`` (package ``netavark_proxy``)."""

from __future__ import annotations

from .protobuf import Message

SERVICE = "netavark_proxy.NetavarkProxy"
SETUP_PATH = f"/{SERVICE}/Setup"
TEARDOWN_PATH = f"/{SERVICE}/Teardown"
CLEAN_PATH = f"/{SERVICE}/Clean"

VERSION_V4 = 0
VERSION_V6 = 1


class NetworkConfig(Message):
    __slots__ = ("container_id", "container_iface", "container_mac_addr", "domain_name",
                 "host_iface", "host_name", "ns_path", "version")
    FIELDS = (
        (1, "host_iface", "string"),
        (2, "container_iface", "string"),
        (3, "container_mac_addr", "string"),
        (4, "domain_name", "string"),
        (5, "host_name", "string"),
        (6, "version", "enum"),
        (7, "ns_path", "string"),
        (8, "container_id", "string"),
    )


class Lease(Message):
    """A DHCP lease as the proxy returns it (and stores it in its cache file)."""

    __slots__ = ("broadcast_addr", "dns_servers", "domain_name", "gateways", "host_name",
                 "is_v6", "lease_time", "mac_address", "mtu", "ntp_servers", "siaddr",
                 "srv_id", "subnet_mask", "t1", "t2", "yiaddr")
    # declaration order = field order of the cache file's JSON objects
    FIELDS = (
        (1, "t1", "uint32"),
        (2, "t2", "uint32"),
        (3, "lease_time", "uint32"),
        (4, "mtu", "uint32"),
        (5, "domain_name", "string"),
        (6, "mac_address", "string"),
        (10, "is_v6", "bool"),
        (11, "siaddr", "string"),
        (12, "yiaddr", "string"),
        (16, "srv_id", "string"),
        (17, "subnet_mask", "string"),
        (18, "broadcast_addr", "string"),
        (19, "dns_servers", "repeated_string"),
        (20, "gateways", "repeated_string"),
        (21, "ntp_servers", "repeated_string"),
        (22, "host_name", "string"),
    )


class Empty(Message):
    __slots__ = ()
    FIELDS = ()


class OperationResponse(Message):
    __slots__ = ("success",)
    FIELDS = ((1, "success", "bool"),)


class NvIpv4Addr(Message):
    """Declared by upstream's proto file, never used on the wire."""

    __slots__ = ("octets",)
    FIELDS = ((1, "octets", "bytes"),)


class NvIpv6Addr(Message):
    __slots__ = ("octets",)
    FIELDS = ((1, "octets", "bytes"),)
