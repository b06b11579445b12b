"""IPAM driver ``dhcp``: leases come from the DHCP proxy (``netavark dhcp-proxy``).

The proxy performs DHCP for the container and configures the address and
default route inside the container's namespace; netavark only asks for the
lease (setup) and gives it back (teardown).  The socket path is fixed, as in
upstream.  Imports happen when a lease is asked for, not when this module is
loaded.
"""

from __future__ import annotations

from ..errors import NetavarkError, wrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config import NetAddress
    from ..dhcp.proto import NetworkConfig
    from ..ip import IpAddr
    from ..netlink.route import RtnlHandle
    from .driver import DriverInfo

DEFAULT_UDS_PATH = "/run/podman/nv-proxy.sock"


def _config(host_iface: str, container_iface: str, ns_path: str, mac: str, hostname: str,
            container_id: str) -> NetworkConfig:
    from ..dhcp.proto import VERSION_V4, NetworkConfig

    return NetworkConfig(host_iface=host_iface, container_iface=container_iface,
                         container_mac_addr=mac, domain_name="", host_name=hostname,
                         version=VERSION_V4, ns_path=ns_path, container_id=container_id)


def _call(method: str, request: bytes, what: str) -> bytes:
    """One proxy call; gRPC errors become ``<what>: <status message>``."""
    from ..dhcp import rpc_client
    from ..dhcp.grpc import GrpcError

    try:
        return rpc_client.call(DEFAULT_UDS_PATH, method, request)
    except GrpcError as e:
        raise NetavarkError(f"{what}: {e.message}") from None


def get_dhcp_lease(host_iface: str, container_iface: str, ns_path: str, mac: str,
                   hostname: str, container_id: str
                   ) -> tuple[list[NetAddress], list[IpAddr] | None, list[str] | None]:
    """Ask the proxy for a lease: ``(subnets, dns servers, search domains)``."""
    from ..config import NetAddress
    from ..dhcp.proto import SETUP_PATH, Lease
    from ..dhcp.protobuf import ProtobufError
    from ..errors import AddrParseError
    from ..ip import IpAddr, IpNet, prefix_from_mask

    request = _config(host_iface, container_iface, ns_path, mac, hostname, container_id)
    try:
        raw = _call(SETUP_PATH, request.encode(), "get DHCP lease")
        try:
            lease = Lease.decode(raw)
        except ProtobufError as e:
            raise NetavarkError(f"get DHCP lease: failed to decode Protobuf message: {e}"
                                ) from None
    except NetavarkError as e:
        raise wrap("unable to obtain lease", e) from None

    gateway = None
    if lease.gateways:
        try:
            gateway = IpAddr.parse(lease.gateways[0])
        except AddrParseError as e:
            raise NetavarkError(f"bad gateway address: {e.msg}") from None
    dns_servers = None
    if lease.dns_servers:
        dns_servers = []
        for d in lease.dns_servers:
            try:
                dns_servers.append(IpAddr.parse(d))
            except AddrParseError as e:
                raise NetavarkError(f"bad dns address: {e.msg}") from None
    domain = [lease.domain_name] if lease.domain_name else None
    try:
        ip = IpAddr.parse(lease.yiaddr)
    except AddrParseError as e:
        raise NetavarkError(e.msg) from None
    try:
        mask = IpAddr.parse(lease.subnet_mask, 4)
    except AddrParseError as e:
        raise NetavarkError(e.msg) from None
    try:
        net = IpNet(ip, prefix_from_mask(mask))
    except AddrParseError:
        raise NetavarkError("invalid IP prefix length") from None
    return [NetAddress(net, gateway)], dns_servers, domain


def release_dhcp_lease(host_iface: str, container_iface: str, ns_path: str, mac: str) -> None:
    from ..dhcp.proto import TEARDOWN_PATH, Lease
    from ..dhcp.protobuf import ProtobufError

    request = _config(host_iface, container_iface, ns_path, mac, "", "")
    raw = _call(TEARDOWN_PATH, request.encode(), "drop DHCP lease")
    try:
        Lease.decode(raw)
    except ProtobufError as e:
        raise NetavarkError(f"drop DHCP lease: failed to decode Protobuf message: {e}"
                            ) from None


def dhcp_teardown(info: DriverInfo, netns: RtnlHandle) -> None:
    """Give the container's lease back (the proxy stops renewing and releases it)."""
    from .ipam import get_ipam_addresses

    ipam = get_ipam_addresses(info.per_network_opts, info.network)
    if not ipam.dhcp_enabled:
        return
    name = info.per_network_opts.interface_name
    try:
        link = netns.get_link(name)
    except NetavarkError as e:
        raise wrap(f"get container interface {name}", e) from None
    if not link.address:
        raise NetavarkError("failed to get the the container mac address")
    release_dhcp_lease(info.network.network_interface or "", name, info.netns_path,
                       link.address)
