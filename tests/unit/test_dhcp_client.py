"""The DHCP client state machine, with a datagram socketpair standing in for
the packet socket and a scripted server on the other end."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from netavark.dhcp import client as client_mod
from netavark.dhcp import dhcpv4
from netavark.dhcp.client import DONE, INIT, REBINDING, RENEWING, DhcpV4Client
from netavark.dhcp.dhcpv4 import DhcpError, Message, build_frame, ip_bytes, parse_frame

MAC = bytes.fromhex("020000000001")
SRV_MAC = bytes.fromhex("020000000099")
SRV = ip_bytes("192.0.2.1")
ADDR = ip_bytes("192.0.2.50")


class FakeServer:
    """Answers each request frame with what ``script`` says (None: stay silent)."""

    def __init__(self, script) -> None:
        self.script = script
        self.seen: list[tuple[dhcpv4.Frame, Message]] = []
        self.ends: list[socket.socket] = []

    def open_socket(self, ifname: str, ifindex: int) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        ours.setblocking(False)
        theirs.setblocking(False)
        self.ends.append(theirs)
        asyncio.get_running_loop().add_reader(theirs.fileno(), self._on_frame, theirs)
        return ours

    def _on_frame(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(4096)
        except OSError:
            asyncio.get_running_loop().remove_reader(sock.fileno())
            return
        frame = parse_frame(data)
        msg = Message.parse(frame.payload)
        self.seen.append((frame, msg))
        for reply in self.script(msg) or []:
            try:
                sock.send(reply)
            except OSError:
                pass

    def close(self) -> None:
        for s in self.ends:
            try:
                asyncio.get_running_loop().remove_reader(s.fileno())
            except (RuntimeError, ValueError):
                pass
            s.close()


def reply(req: Message, mtype: int, *, xid: int | None = None, mac: bytes = MAC,
          t1: int = 60, t2: int = 105, lease: int = 120, addr: bytes = ADDR) -> bytes:
    opts = {dhcpv4.OPT_MESSAGE_TYPE: bytes((mtype,)), dhcpv4.OPT_SERVER_ID: SRV,
            dhcpv4.OPT_LEASE_TIME: struct.pack(">I", lease),
            dhcpv4.OPT_RENEWAL_TIME: struct.pack(">I", t1),
            dhcpv4.OPT_REBINDING_TIME: struct.pack(">I", t2),
            dhcpv4.OPT_SUBNET_MASK: ip_bytes("255.255.255.0"),
            dhcpv4.OPT_ROUTER: SRV, dhcpv4.OPT_DNS: SRV}
    msg = Message(dhcpv4.BOOTREPLY, req.xid if xid is None else xid, chaddr=mac, yiaddr=addr,
                  siaddr=SRV, options=opts)
    return build_frame(SRV_MAC, mac, SRV, addr, 67, 68, msg.encode())


def standard(req: Message) -> list[bytes]:
    t = req.message_type
    if t == dhcpv4.DISCOVER:
        return [reply(req, dhcpv4.OFFER)]
    if t == dhcpv4.REQUEST:
        return [reply(req, dhcpv4.ACK, t1=1, t2=2, lease=3)]
    return []


def make_client(server: FakeServer, timeout: int = 5) -> DhcpV4Client:
    cfg = dhcpv4.Config("lan0", MAC, iface_index=3, client_id=b"\0id", host_name="h",
                        timeout_sec=timeout)
    return DhcpV4Client(cfg, server.open_socket)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_dora_then_renew_unicast():
    async def scenario() -> None:
        server = FakeServer(standard)
        c = make_client(server)
        try:
            lease = await c.get_lease()
            assert (lease.yiaddr, lease.t1, lease.srv_mac) == (ADDR, 1, SRV_MAC)
            assert c.sock is None  # closed once bound
            (f1, discover), (_, request) = server.seen
            assert f1.dst_mac == dhcpv4.BROADCAST_MAC and f1.src_mac == MAC
            assert discover.message_type == dhcpv4.DISCOVER
            assert request.options[dhcpv4.OPT_REQUESTED_IP] == ADDR
            assert request.options[dhcpv4.OPT_SERVER_ID] == SRV
            assert discover.xid == request.xid == c.xid
            # T1: RENEWING, then a unicast request to the server's MAC and address
            assert await c.run() == RENEWING
            assert await c.run() == DONE
            f3, renew = server.seen[2]
            assert (f3.dst_mac, f3.dst_ip, f3.src_ip) == (SRV_MAC, SRV, ADDR)
            assert renew.ciaddr == ADDR and dhcpv4.OPT_SERVER_ID not in renew.options
        finally:
            c.clean_up()
            server.close()

    run(scenario())


def test_ignores_foreign_replies():
    def script(req: Message) -> list[bytes]:
        if req.message_type == dhcpv4.DISCOVER:
            return [reply(req, dhcpv4.OFFER, xid=req.xid + 1),           # other transaction
                    reply(req, dhcpv4.OFFER, mac=b"\2\0\0\0\0\2"),      # other client
                    reply(req, dhcpv4.ACK),                              # wrong type
                    b"\0" * 60,                                          # garbage
                    reply(req, dhcpv4.OFFER, addr=ip_bytes("192.0.2.51"))]
        return standard(req)

    async def scenario() -> None:
        server = FakeServer(script)
        c = make_client(server)
        try:
            assert (await c.get_lease()).yiaddr == ADDR  # from the ACK
            assert server.seen[1][1].options[dhcpv4.OPT_REQUESTED_IP] == ip_bytes("192.0.2.51")
        finally:
            c.clean_up()
            server.close()

    run(scenario())


def test_nak_restarts_discovery():
    naks = []

    def script(req: Message) -> list[bytes]:
        if req.message_type == dhcpv4.REQUEST and not naks:
            naks.append(1)
            return [reply(req, dhcpv4.NAK)]
        return standard(req)

    async def scenario() -> None:
        server = FakeServer(script)
        c = make_client(server)
        try:
            assert await c.run() == "selecting"
            assert await c.run() == INIT
            await c.get_lease()
            assert [m.message_type for _, m in server.seen] == [1, 3, 1, 3]
        finally:
            c.clean_up()
            server.close()

    run(scenario())


def test_timeout_error_sticks_until_clean_up():
    async def scenario() -> None:
        server = FakeServer(lambda req: None)
        c = make_client(server, timeout=1)
        try:
            with pytest.raises(DhcpError) as e:
                await c.run()
            assert str(e.value) == "Timeout: Timeout on acquiring DHCPv4 lease on lan0"
            assert c.error is e.value
            c.clean_up()
            assert c.error is None and c.state == INIT
        finally:
            c.clean_up()
            server.close()

    run(scenario())


def test_unanswered_renew_rebinds_then_expires(monkeypatch):
    monkeypatch.setattr(client_mod, "MIN_RENEW_REBIND_WAIT", 0.2)

    def script(req: Message) -> list[bytes]:
        if req.ciaddr != dhcpv4.ZERO_IP:
            return []  # the server is gone after the first lease
        return standard(req)

    async def scenario() -> None:
        server = FakeServer(script)
        c = make_client(server, timeout=0)
        try:
            await c.get_lease()  # T1 1 s, T2 2 s, lease 3 s
            assert await c.run() == RENEWING
            assert await c.run() == REBINDING
            assert await c.run() == INIT
            assert c.lease is None
            kinds = [(f.dst_mac == dhcpv4.BROADCAST_MAC, m.ciaddr == ADDR)
                     for f, m in server.seen[2:]]
            assert (False, True) in kinds and (True, True) in kinds  # renew and rebind
        finally:
            c.clean_up()
            server.close()

    run(scenario())


def test_release_frame():
    async def scenario() -> None:
        server = FakeServer(standard)
        c = make_client(server)
        try:
            lease = await c.get_lease()
            await c.release(lease)
            await asyncio.sleep(0.05)
            frame, msg = server.seen[-1]
            assert msg.message_type == dhcpv4.RELEASE
            assert (frame.dst_mac, frame.dst_ip, msg.ciaddr) == (SRV_MAC, SRV, ADDR)
            assert c.state == INIT and c.sock is None
        finally:
            c.clean_up()
            server.close()

    run(scenario())
