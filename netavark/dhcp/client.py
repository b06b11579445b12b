"""A DHCPv4 client acting for a container (proxy mode), driven by asyncio.

It follows the state machine of upstream's DHCP library so that timing and
logs match: :meth:`DhcpV4Client.run` advances one state (INIT → SELECTING →
DONE, then at T1 RENEWING, at T2 REBINDING, at lease end back to INIT) and,
unless the state is DONE, gives up with a ``Timeout`` error after
``timeout_sec``; an error sticks until :meth:`DhcpV4Client.clean_up`.
Retransmission waits grow 3, 7, 15, 31, 62 s (+ up to 2 s random).

Everything goes through one packet socket on the host interface with the
container's MAC as Ethernet source and ``chaddr``; renewals and the release
are unicast frames to the server's MAC (the host owns no address for the
container).  A DHCPNAK sends the client back to INIT at once.

This module is only imported by the long-running ``dhcp-proxy`` command, so
it imports asyncio at module level.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

from .. import log
from . import dhcpv4
from .dhcpv4 import (
    ACK,
    BOOTREPLY,
    BROADCAST_IP,
    BROADCAST_MAC,
    CLIENT_PORT,
    INVALID_MESSAGE,
    IO_ERROR,
    NAK,
    OFFER,
    SERVER_PORT,
    TIMEOUT,
    TYPE_NAMES,
    ZERO_IP,
    Config,
    DhcpError,
    Lease,
    Message,
    build_frame,
    parse_frame,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import _socket

INIT = "init_reboot"
SELECTING = "selecting"
RENEWING = "renewing"
REBINDING = "rebinding"
DONE = "done"

MIN_RENEW_REBIND_WAIT = 60.0
RECV_SIZE = 4096
_LOG_CLIENT = log.Logger("mozim::dhcpv4::client")
_LOG_DISCOVERY = log.Logger("mozim::dhcpv4::discovery")
_LOG_REQUEST = log.Logger("mozim::dhcpv4::request")
_LOG_RENEW = log.Logger("mozim::dhcpv4::renew")
_LOG_REBIND = log.Logger("mozim::dhcpv4::rebind")
_LOG_SOCKET = log.Logger("mozim::dhcpv4::socket")


def boottime() -> float:
    """Seconds on a clock that keeps running while the host sleeps."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


async def sleep_until(deadline: float) -> None:
    # short slices so a suspend/resume does not stretch the wait
    while True:
        left = deadline - boottime()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 30.0))


class _Nak(Exception):
    pass


class DhcpV4Client:
    def __init__(self, config: Config, open_socket: object = None) -> None:
        self.config = config
        self.state = INIT
        self.lease: Lease | None = None
        self.pending: Lease | None = None
        self.sock: _socket.socket | None = None
        self.retry_count = 0
        self.xid = int.from_bytes(os.urandom(4), "big")
        self.t1_at: float | None = None
        self.t2_at: float | None = None
        self.lease_at: float | None = None
        self.error: DhcpError | None = None
        if open_socket is None:
            from .rawsock import open_packet_socket

            open_socket = open_packet_socket
        self._open_socket = open_socket

    def describe_state(self) -> str:
        if self.state == DONE and self.lease is not None:
            return f"done({dhcpv4.ip_str(self.lease.yiaddr)})"
        return self.state

    # -- driving ------------------------------------------------------
    async def run(self) -> str:
        """Advance one state; returns the new state (DONE: see :attr:`lease`)."""
        if self.error is not None:
            _LOG_CLIENT.error("Previous error found, please run DhcpV4Client::clean_up() if "
                              "you want to start the DHCP process again")
            await asyncio.sleep(5)
            raise self.error
        if self.state != DONE and self.config.timeout_sec:
            try:
                return await asyncio.wait_for(self._run_state(), self.config.timeout_sec)
            except asyncio.TimeoutError:
                err = DhcpError(TIMEOUT, "Timeout on acquiring DHCPv4 lease on "
                                         f"{self.config.iface_name}")
                self.error = err
                raise err from None
        return await self._run_state()

    async def _run_state(self) -> str:
        try:
            if self.state == INIT:
                await self._discovery()
            elif self.state == SELECTING:
                await self._request()
            elif self.state == RENEWING:
                await self._renew()
            elif self.state == REBINDING:
                await self._rebind()
            else:
                await self._wait_t1()
        except DhcpError as e:
            self.error = e
            raise
        except _Nak:
            _LOG_CLIENT.info("Got DHCPNAK from the server, starting over with DHCPDISCOVER")
            self.clean_up()
        return self.state

    async def get_lease(self) -> Lease:
        """Run until a lease is bound (errors propagate)."""
        while True:
            state = await self.run()
            if state == DONE and self.lease is not None:
                return self.lease

    # -- state steps --------------------------------------------------
    def max_wait(self) -> float:
        base = min(2 ** (self.retry_count + 2) - 1, 62)
        return base + random.random() * 2

    async def _retrying(self, step: object, logger: log.Logger, what: str) -> None:
        while True:
            wait = self.max_wait()
            try:
                await asyncio.wait_for(step(), wait)  # type: ignore[operator]
                return
            except asyncio.TimeoutError:
                logger.info(f"Timeout({int(wait)}s) on waiting DHCP server {what}, retrying")
                self.retry_count += 1
            except DhcpError as e:
                logger.info(f"Retrying on error {e} after {int(wait)} seconds")
                await asyncio.sleep(wait)

    async def _discovery(self) -> None:
        if self.retry_count == 0:
            await asyncio.sleep(random.random() * 0.2)
        await self._retrying(self._discovery_once, _LOG_DISCOVERY,
                             "DHCPOFFER reply for DHCPDISCOVER")

    async def _discovery_once(self) -> None:
        self.state = INIT
        self.lease = None
        msg = dhcpv4.discover(self.xid, self.config)
        await self._send(self._broadcast(msg, ZERO_IP))
        _LOG_DISCOVERY.debug("Waiting server reply with DHCPOFFER")
        self.pending = await self._recv_lease(OFFER)
        self.state = SELECTING

    async def _request(self) -> None:
        if self.pending is None:
            _LOG_REQUEST.error("BUG: Got empty lease but in DhcpV4State::Selecting, rollback "
                               "to DhcpV4State::InitReboot")
            self.state = INIT
            return
        await self._retrying(self._request_once, _LOG_REQUEST,
                             "DHCPACK reply for DHCPREQUEST")

    async def _request_once(self) -> None:
        assert self.pending is not None
        msg = dhcpv4.request(self.xid, self.config, self.pending)
        await self._send(self._broadcast(msg, ZERO_IP))
        _LOG_REQUEST.debug("Waiting DHCP server reply with DHCPACK")
        self.done(await self._recv_lease(ACK))

    async def _renew(self) -> None:
        if self.lease is None:
            self.state = INIT
            return
        await self._refresh(self._renew_once, self.t2_at, REBINDING, _LOG_RENEW, "renew")

    async def _renew_once(self) -> None:
        lease = self.lease
        assert lease is not None
        msg = dhcpv4.renew(self.xid, self.config, lease)
        frame = build_frame(self.config.src_mac, lease.srv_mac, lease.yiaddr, lease.server,
                            CLIENT_PORT, SERVER_PORT, msg.encode())
        _LOG_RENEW.debug("Sending unicast DHCPREQUEST for renew")
        await self._send(frame)
        self.done(await self._recv_lease(ACK))

    async def _rebind(self) -> None:
        if self.lease is None:
            self.state = INIT
            return
        await self._refresh(self._rebind_once, self.lease_at, INIT, _LOG_REBIND, "rebind")

    async def _rebind_once(self) -> None:
        lease = self.lease
        assert lease is not None
        msg = dhcpv4.renew(self.xid, self.config, lease)
        _LOG_REBIND.debug("Sending broadcast DHCPREQUEST for rebind")
        await self._send(self._broadcast(msg, lease.yiaddr))
        self.done(await self._recv_lease(ACK))

    async def _refresh(self, step: object, deadline: float | None, next_state: str,
                       logger: log.Logger, what: str) -> None:
        """RENEWING/REBINDING: retry at half the time left (at least 60 s) until ``deadline``."""
        while True:
            left = max(0.0, (deadline or 0.0) - boottime())
            if left <= 0:
                if next_state == INIT:
                    logger.debug("DHCP lease expired, entering init_reboot state")
                    self.lease = None
                else:
                    logger.debug("DHCP lease T2 expired, entering rebinding state")
                    self.retry_count = 0
                self.state = next_state
                return
            wait = min(left, max(left / 2, MIN_RENEW_REBIND_WAIT))
            try:
                await asyncio.wait_for(step(), wait)  # type: ignore[operator]
                return
            except asyncio.TimeoutError:
                logger.info(f"Timeout({int(wait)}s) on waiting DHCP server DHCPACK reply for "
                            f"DHCPREQUEST {what}, retrying")
                self.retry_count += 1
            except DhcpError as e:
                logger.info(f"Retrying on error {e} after {int(wait)} seconds")
                await asyncio.sleep(wait)

    async def _wait_t1(self) -> None:
        if self.t1_at is None:
            _LOG_CLIENT.error("BUG: wait_t1_timer() got no T1 timer")
            self.state = INIT
            return
        await sleep_until(self.t1_at)
        self.state = RENEWING

    # -- lease bookkeeping --------------------------------------------
    def done(self, lease: Lease) -> None:
        now = boottime()
        self.t1_at = now + lease.t1
        self.t2_at = now + lease.t2
        self.lease_at = now + lease.lease_time
        self.close_socket()
        self.pending = None
        self.lease = lease
        self.retry_count = 0
        self.state = DONE

    def clean_up(self) -> None:
        self.state = INIT
        self.lease = None
        self.pending = None
        self.close_socket()
        self.t1_at = self.t2_at = self.lease_at = None
        self.error = None

    async def release(self, lease: Lease) -> None:
        msg = dhcpv4.release(self.xid, self.config, lease)
        frame = build_frame(self.config.src_mac, lease.srv_mac, lease.yiaddr, lease.server,
                            CLIENT_PORT, SERVER_PORT, msg.encode())
        await self._send(frame)
        self.clean_up()

    # -- socket -------------------------------------------------------
    def _socket(self) -> _socket.socket:
        if self.sock is None:
            self.sock = self._open_socket(self.config.iface_name,  # type: ignore[operator]
                                          self.config.iface_index)
            _LOG_SOCKET.debug(f"Raw socket created {self.sock.fileno()}")
        return self.sock

    def close_socket(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _broadcast(self, msg: Message, src_ip: bytes) -> bytes:
        return build_frame(self.config.src_mac, BROADCAST_MAC, src_ip, BROADCAST_IP,
                           CLIENT_PORT, SERVER_PORT, msg.encode())

    async def _send(self, frame: bytes) -> None:
        sock = self._socket()
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_sendall(sock, frame)
        except OSError as e:
            raise DhcpError(IO_ERROR, f"Failed to send packet to raw socket: {e}") from None

    async def _recv_lease(self, expected: int) -> Lease:
        sock = self._socket()
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await loop.sock_recv(sock, RECV_SIZE)
            except OSError as e:
                raise DhcpError(IO_ERROR, f"Failed to receive from raw socket: {e}") from None
            lease = self.match_reply(data, expected)
            if lease is not None:
                return lease

    def match_reply(self, data: bytes, expected: int) -> Lease | None:
        """The lease in ``data`` if it is the reply we wait for; raises :class:`_Nak`."""
        try:
            frame = parse_frame(data)
            if frame.dport != CLIENT_PORT:
                return None
            msg = Message.parse(frame.payload)
        except DhcpError as e:
            _LOG_SOCKET.info(f"Ignoring invalid DHCP package: {e}")
            _LOG_SOCKET.trace(f"invalid package: {bytes(data).hex()}")
            return None
        if msg.op != BOOTREPLY:
            return None
        mtype = msg.message_type
        if mtype is None:
            _LOG_SOCKET.debug("Dropping DHCP message due to missing message type option")
            return None
        if msg.xid != self.xid or msg.client_mac != self.config.src_mac:
            return None
        if mtype == NAK and expected == ACK:
            raise _Nak()
        if mtype != expected:
            _LOG_SOCKET.debug("Dropping DHCP message due to type miss-match. Expecting "
                              f"{TYPE_NAMES.get(expected)}, got {TYPE_NAMES.get(mtype, mtype)}")
            return None
        try:
            return Lease.from_message(msg, frame.src_mac, random.randrange(4) - 2)
        except DhcpError as e:
            if e.kind == INVALID_MESSAGE:
                _LOG_SOCKET.debug(str(e))
                return None
            raise
