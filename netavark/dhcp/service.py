"""The proxy's gRPC methods: Setup, Teardown, Clean (upstream: ``NetavarkProxy``).

Setup runs a DHCP exchange for the container's MAC on the host interface,
caches the lease, configures the container and leaves a task per MAC that
keeps the lease alive.  Teardown stops that task, releases the lease and
forgets it.  Errors are :class:`~.grpc.GrpcError` with upstream's codes and
messages.  Daemon-only module (imports asyncio at module level).
"""

from __future__ import annotations

import asyncio

from .. import log
from ..errors import NetavarkError, io_display
from . import grpc, netconf, proto
from .client import DONE, DhcpV4Client
from .dhcpv4 import INVALID_ARGUMENT, NO_LEASE, TIMEOUT, Config, DhcpError, ip_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .cache import LeaseCache
    from .dhcpv4 import Lease as DhcpLease

_log = log.Logger("netavark::commands::dhcp_proxy")
_svc_log = log.Logger("netavark::dhcp_proxy::dhcp_service")

_STATUS_OF_KIND = {TIMEOUT: grpc.ABORTED, INVALID_ARGUMENT: grpc.INVALID_ARGUMENT,
                   NO_LEASE: grpc.NOT_FOUND}


def status_of(err: DhcpError) -> grpc.GrpcError:
    return grpc.GrpcError(_STATUS_OF_KIND.get(err.kind, grpc.INTERNAL), str(err))


def _library_mac(mac: str) -> bytes:
    """The DHCP library's own MAC parser (``:`` only; Rust ``u8::from_str_radix``)."""
    out = []
    for part in mac.split(":"):
        digits = part[1:] if part.startswith("+") else part
        if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits) \
                or int(digits, 16) > 255:
            raise DhcpError(INVALID_ARGUMENT,
                            f"Invalid MAC address {mac}, expecting format 01:02:2a:2c:f7:04")
        out.append(int(digits, 16))
    if len(out) != 6:
        raise DhcpError("NotSupported",
                        f"Supported MAC address {mac}, expecting format 01:02:2a:2c:f7:04")
    return bytes(out)


def to_proto_lease(lease: DhcpLease, nc: proto.NetworkConfig) -> proto.Lease:
    def ips(v: list[bytes] | None) -> list[str]:
        return [ip_str(a) for a in v or []]

    return proto.Lease(
        t1=lease.t1, t2=lease.t2, lease_time=lease.lease_time, mtu=lease.mtu or 0,
        # the request's domain replaces the server's (upstream behaviour)
        domain_name=nc.domain_name, mac_address=nc.container_mac_addr, is_v6=False,
        siaddr=ip_str(lease.siaddr), yiaddr=ip_str(lease.yiaddr), srv_id=ip_str(lease.srv_id),
        subnet_mask=ip_str(lease.subnet_mask), broadcast_addr="",
        dns_servers=ips(lease.dns_srvs), gateways=ips(lease.gateways),
        ntp_servers=ips(lease.ntp_srvs), host_name=lease.host_name or "")


class DhcpV4Service:
    """One container's DHCP client plus the last lease applied to it."""

    def __init__(self, nc: proto.NetworkConfig, client: DhcpV4Client) -> None:
        self.nc = nc
        self.client = client
        self.previous: DhcpLease | None = None

    @classmethod
    def new(cls, nc: proto.NetworkConfig, timeout: int,
            open_socket: Callable | None = None) -> DhcpV4Service:
        from ..netlink.route import RtnlHandle

        try:
            mac = _library_mac(nc.container_mac_addr)
        except DhcpError as e:
            raise grpc.GrpcError(grpc.INVALID_ARGUMENT, str(e)) from None
        try:
            handle = RtnlHandle.open()
            try:
                link = handle.get_link(nc.host_iface)
            finally:
                handle.close()
        except NetavarkError as e:
            raise grpc.GrpcError(grpc.INVALID_ARGUMENT, str(e)) from None
        # the container id as client identifier (type 0: not a hardware address)
        # keeps the address stable across restarts with new random MACs
        config = Config(nc.host_iface, mac, iface_index=link.index,
                        client_id=b"\0" + nc.container_id.encode(), host_name=nc.host_name,
                        timeout_sec=timeout)
        return cls(nc, DhcpV4Client(config, open_socket))

    @property
    def mac(self) -> str:
        return self.nc.container_mac_addr

    async def get_lease(self) -> proto.Lease:
        while True:
            try:
                state = await self.client.run()
            except DhcpError as e:
                raise status_of(e) from None
            if state == DONE and self.client.lease is not None:
                lease = self.client.lease
                out = to_proto_lease(lease, self.nc)
                _svc_log.debug(f"found a lease for {self.mac!r}, {out!r}")
                self.previous = lease
                return out
            _log_state(self.nc, self.client)

    async def release_lease(self) -> None:
        if self.previous is None:
            _svc_log.debug(f"No previous lease to release for MAC: {self.mac}")
            return
        _svc_log.debug(f"Attempting to release lease for MAC: {self.mac}")
        await self.client.release(self.previous)

    async def keep_alive(self) -> None:
        """Renew for as long as the container lives; apply changed leases."""
        client = self.client
        mac = self.mac
        while True:
            try:
                state = await client.run()
            except DhcpError as e:
                _svc_log.error(f"Failed to acquire DHCPv4 lease for {mac}: {e}")
                _svc_log.info(f"Retrying DHCPv4 proxy for {mac}")
                client.clean_up()
                continue
            lease = client.lease
            if state != DONE or lease is None:
                _log_state(self.nc, client)
                continue
            _svc_log.info(f"got new lease for mac {mac}: {lease!r}")
            old = self.previous
            if old is not None and not old.same_address(lease):
                _svc_log.info(f"ip or gateway for mac {mac} changed, update address")
                try:
                    netconf.update_lease_ip(self.nc.ns_path, self.nc.container_iface, old, lease)
                except NetavarkError as e:
                    _svc_log.error(str(e))
            self.previous = lease


def _log_state(nc: proto.NetworkConfig, client: DhcpV4Client) -> None:
    _svc_log.debug(f"DHCPv4 proxy on {nc.host_iface} for {nc.container_mac_addr} enter "
                   f"{client.describe_state()} state")


class ProxyService:
    """State shared by all connections: cache, renewal tasks, activity timer."""

    def __init__(self, cache: LeaseCache, dora_timeout: int,
                 on_activity: Callable[[], None] | None = None,
                 open_socket: Callable | None = None) -> None:
        self.cache = cache
        self.dora_timeout = dora_timeout
        self.on_activity = on_activity
        self.open_socket = open_socket
        self.tasks: dict[str, tuple[DhcpV4Service, asyncio.Task]] = {}

    def _activity(self) -> None:
        if self.on_activity is not None:
            self.on_activity()

    async def setup(self, nc: proto.NetworkConfig) -> proto.Lease:
        from ..network.options import decode_mac

        self._activity()
        try:
            decode_mac(nc.container_mac_addr)
        except NetavarkError as e:
            raise grpc.GrpcError(grpc.INVALID_ARGUMENT, str(e)) from None
        mac = nc.container_mac_addr
        if nc.version == proto.VERSION_V4:
            service = DhcpV4Service.new(nc, self.dora_timeout, self.open_socket)
            try:
                lease = await service.get_lease()
            except BaseException:
                service.client.clean_up()  # closes its socket; the client went away
                raise
            task = asyncio.ensure_future(service.keep_alive())
            old = self.tasks.pop(mac, None)
            if old is not None:
                old[1].cancel()
            self.tasks[mac] = (service, task)
        elif nc.version == proto.VERSION_V6:
            raise grpc.GrpcError(grpc.INVALID_ARGUMENT, "ipv6 not yet supported")
        else:
            raise grpc.GrpcError(grpc.INVALID_ARGUMENT, "invalid protocol version")
        try:
            self.cache.add_lease(mac, lease)
        except OSError as e:
            raise grpc.GrpcError(grpc.INTERNAL, "Error caching the lease: "
                                 f"{_io_text(e)}") from None
        try:
            netconf.setup(lease, nc.container_iface, nc.ns_path)
        except NetavarkError as e:
            raise grpc.GrpcError(grpc.UNKNOWN, str(e)) from None
        return lease

    async def teardown(self, nc: proto.NetworkConfig) -> proto.Lease:
        self._activity()
        mac = nc.container_mac_addr
        entry = self.tasks.pop(mac, None)
        if entry is not None:
            service, task = entry
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as e:  # the task's own failure must not block teardown
                _log.error(f"renewal task for {mac} failed: {e}")
            try:
                await service.release_lease()
            except (DhcpError, OSError) as e:
                _log.warn(f"Failed to send DHCPRELEASE for {mac}: {e}")
            finally:
                service.client.close_socket()
        try:
            return self.cache.remove_lease(mac)
        except OSError as e:
            raise grpc.GrpcError(grpc.INTERNAL, _io_text(e)) from None

    async def clean(self, _req: proto.Empty) -> proto.OperationResponse:
        try:
            self.cache.teardown()
        except OSError as e:
            raise grpc.GrpcError(grpc.UNKNOWN, _io_text(e)) from None
        return proto.OperationResponse(success=True)

    def cancel_all(self) -> None:
        for _, task in self.tasks.values():
            task.cancel()

    # path → (request type, handler)
    def methods(self) -> dict[str, tuple[type, Callable]]:
        return {proto.SETUP_PATH: (proto.NetworkConfig, self.setup),
                proto.TEARDOWN_PATH: (proto.NetworkConfig, self.teardown),
                proto.CLEAN_PATH: (proto.Empty, self.clean)}


def _io_text(e: OSError) -> str:
    return io_display(e.errno) if e.errno is not None else str(e)
