"""The only place netlink bytes meet the kernel: a blocking ``AF_NETLINK`` socket.

Requests are numbered with per-socket sequence numbers; every reply is matched
back to its request.  ``NETLINK_EXT_ACK`` asks the kernel for error texts and
``NETLINK_CAP_ACK`` keeps ACKs small.  Several requests can be sent in one
``sendmsg`` (:meth:`NetlinkSocket.transact`); the kernel then processes them
in order and answers each.  Uses ``_socket`` directly: ``socket.py`` pulls in
``enum`` and costs milliseconds of start-up.
"""

from __future__ import annotations

import _socket
import errno as _errno

from ..errors import IoError, NetavarkError, NetlinkError
from .attrs import NetlinkDecodeError
from .message import (
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_NOOP,
    NLMSG_OVERRUN,
    SOL_NETLINK,
    RawMessage,
    iter_messages,
    pack_message,
    parse_error,
)

AF_NETLINK = 16
NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
SOCK_CLOEXEC = 0o2000000
_RECV_SIZE = 1 << 18


class Request:
    """One request of a transaction: what to send and how to name it in errors."""

    __slots__ = ("dump", "error", "flags", "msg_type", "op", "payload", "replies", "seq")

    def __init__(self, msg_type: int, flags: int, payload: bytes, op: str = "") -> None:
        self.msg_type = msg_type
        self.flags = flags | NLM_F_REQUEST
        self.payload = payload
        self.op = op
        self.dump = flags & NLM_F_DUMP == NLM_F_DUMP
        self.seq = 0
        self.replies: list[RawMessage] = []
        self.error: NetlinkError | None = None


class NetlinkSocket:
    """A netlink socket bound in the network namespace of the calling thread."""

    def __init__(self, protocol: int = NETLINK_ROUTE, *, strict: bool = True) -> None:
        try:
            sock = _socket.socket(AF_NETLINK, _socket.SOCK_RAW | SOCK_CLOEXEC, protocol)
        except OSError as e:
            raise NetavarkError(f"open: {IoError.from_os(e)}") from None
        self._sock = sock
        for opt in (NETLINK_EXT_ACK, NETLINK_CAP_ACK):
            try:
                sock.setsockopt(SOL_NETLINK, opt, 1)
            except OSError:
                pass  # older kernels: plain errors still work
        try:
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, 1 << 20)
        except OSError:
            pass
        try:
            sock.bind((0, 0))
        except OSError as e:
            sock.close()
            raise NetavarkError(f"bind: {IoError.from_os(e)}") from None
        if strict:
            try:
                sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
            except OSError as e:
                sock.close()
                raise IoError.from_os(e) from None
        self._seq = 0
        self._buf = bytearray(_RECV_SIZE)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> NetlinkSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- core ---------------------------------------------------------
    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        return self._seq

    def send_raw(self, data: bytes) -> None:
        try:
            self._sock.send(data)
        except OSError as e:
            raise NetavarkError(f"send to netlink: {IoError.from_os(e)}") from None

    def recv_raw(self) -> list[RawMessage]:
        try:
            n = self._sock.recv_into(self._buf)
        except OSError as e:
            raise NetavarkError(f"recv from netlink: {IoError.from_os(e)}") from None
        return list(iter_messages(memoryview(self._buf)[:n]))

    def transact(self, requests: list[Request]) -> list[Request]:
        """Send all requests in one datagram and read every answer.

        Each request ends with its ACK, error, or ``NLMSG_DONE`` (dumps).  Errors
        are stored on the request (``.error``), not raised, so callers decide
        which failure to report; decode/sequence problems raise.
        """
        if not requests:
            return requests
        pending: dict[int, Request] = {}
        chunks = []
        for req in requests:
            req.seq = self.next_seq()
            pending[req.seq] = req
            chunks.append(pack_message(req.msg_type, req.flags, req.seq, req.payload))
        self.send_raw(b"".join(chunks))
        while pending:
            for msg in self.recv_raw():
                req = pending.get(msg.seq)
                if req is None:
                    if msg.type == NLMSG_NOOP:
                        continue
                    want = min(pending)
                    raise NetavarkError(
                        f"netlink: sequence_number out of sync (got {msg.seq}, want {want})")
                if msg.type == NLMSG_ERROR:
                    err = parse_error(msg)
                    if err.error:
                        code = -err.error
                        req.error = NetlinkError(code, req.op, err.extack)
                    del pending[msg.seq]
                elif msg.type == NLMSG_DONE:
                    # a dump that failed part-way reports an errno in the DONE payload
                    if len(msg.payload) >= 4:
                        code = int.from_bytes(msg.payload[:4], "little", signed=True)
                        if code < 0:
                            req.error = NetlinkError(-code, req.op)
                    if msg.flags & NLM_F_DUMP_INTR and req.error is None:
                        req.error = NetlinkError(_errno.EINTR, req.op, "dump interrupted")
                    del pending[msg.seq]
                elif msg.type == NLMSG_OVERRUN:
                    raise NetavarkError("unimplemented netlink message type OVERRUN")
                elif msg.type == NLMSG_NOOP:
                    continue
                else:
                    req.replies.append(msg)
                    if not req.dump and not req.flags & NLM_F_ACK:
                        del pending[msg.seq]
        return requests

    # -- conveniences -------------------------------------------------
    def request(self, msg_type: int, flags: int, payload: bytes, op: str = "") -> list[RawMessage]:
        """One request; raises its NetlinkError; returns data replies."""
        (req,) = self.transact([Request(msg_type, flags, payload, op)])
        if req.error is not None:
            raise req.error
        return req.replies

    def dump(self, msg_type: int, payload: bytes, op: str = "") -> list[RawMessage]:
        return self.request(msg_type, NLM_F_DUMP, payload, op)


def check_single(replies: list[RawMessage], op: str, want: int) -> None:
    if len(replies) != want:
        raise NetavarkError(
            f"{op}: unexpected netlink result (got {len(replies)} result(s), want {want})")


__all__ = ["AF_NETLINK", "NETLINK_NETFILTER", "NETLINK_ROUTE", "NetlinkDecodeError",
           "NetlinkSocket", "Request", "check_single"]
