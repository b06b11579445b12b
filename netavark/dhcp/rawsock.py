"""The packet socket the DHCP client sends and receives whole Ethernet frames on.

Bound to the host interface with ``ETH_P_ALL``, a classic BPF program keeps
only unfragmented IPv4/UDP to port 68, and in proxy mode the interface is put
in promiscuous mode through a packet-socket membership (it ends when the
socket closes), so replies to the container's MAC address are seen too.
"""

from __future__ import annotations

import _socket
import struct

from .dhcpv4 import BUG, DhcpError

AF_PACKET = 17
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
SO_ATTACH_FILTER = 26
SOCK_NONBLOCK = 0o4000
SOCK_CLOEXEC = 0o2000000

# classic BPF: (code, jt, jf, k)
BPF_PROGRAM = (
    (0x28, 0, 0, 12),          # ldh [12]            ethertype
    (0x15, 0, 8, 0x0800),      # jeq IPv4, else drop
    (0x30, 0, 0, 23),          # ldb [23]            IP protocol
    (0x15, 0, 6, 17),          # jeq UDP, else drop
    (0x28, 0, 0, 20),          # ldh [20]            flags + fragment offset
    (0x45, 4, 0, 0x1FFF),      # jset offset: drop fragments
    (0xB1, 0, 0, 14),          # ldxb 4*([14]&0xf)   IP header length
    (0x48, 0, 0, 16),          # ldh [x+16]          UDP destination port
    (0x15, 0, 1, 68),          # jeq 68, else drop
    (0x06, 0, 0, 0xFFFFFFFF),  # accept
    (0x06, 0, 0, 0),           # drop
)


def _attach_filter(sock: _socket.socket) -> None:
    import ctypes

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8),
                    ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    program = (SockFilter * len(BPF_PROGRAM))(*[SockFilter(*ins) for ins in BPF_PROGRAM])
    fprog = SockFprog(len(BPF_PROGRAM), program)
    # the kernel copies the program during the call; ``program`` outlives it
    sock.setsockopt(_socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))


def open_packet_socket(ifname: str, ifindex: int, promisc: bool = True) -> _socket.socket:
    """A non-blocking packet socket on ``ifname``; errors are :class:`DhcpError`.

    Created with protocol 0 (receives nothing) so that no frame gets queued
    before the filter is attached; ``bind`` then turns on reception.
    """
    try:
        sock = _socket.socket(AF_PACKET, _socket.SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
    except OSError as e:
        raise DhcpError(BUG, f"Failed to create raw ethernet socket: {e.strerror}") from None
    try:
        try:
            _attach_filter(sock)
        except OSError as e:
            raise DhcpError(BUG, f"Failed to apply socket BPF filter, error: {e.strerror}"
                            ) from None
        try:
            sock.bind((ifname, ETH_P_ALL))
        except OSError as e:
            raise DhcpError(BUG, f"Failed to bind socket: {e.strerror}") from None
        if promisc:
            mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
            try:
                sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            except OSError as e:
                raise DhcpError(BUG, "Failed to set socket to promiscuous mode with error: "
                                f"{e.strerror}") from None
    except BaseException:
        sock.close()
        raise
    return sock
