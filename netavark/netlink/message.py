"""Netlink message framing (``struct nlmsghdr``) and error/ACK payloads.  Sans-IO."""

from __future__ import annotations

import struct

from .attrs import BINARY, STRZ, U32, NetlinkDecodeError, Policy, align4

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

# linux/netlink.h
NLMSG_NOOP = 0x1
NLMSG_ERROR = 0x2
NLMSG_DONE = 0x3
NLMSG_OVERRUN = 0x4

NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
NLM_F_ECHO = 0x08
NLM_F_DUMP_INTR = 0x10
NLM_F_ROOT = 0x100
NLM_F_MATCH = 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
# flags of NLMSG_ERROR messages
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12

NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2
NLMSGERR_ATTR_COOKIE = 3

NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
NLMSGERR = struct.Struct("=i")

NLMSGERR_POLICY = Policy("NLMSGERR_ATTR", {
    NLMSGERR_ATTR_MSG: ("msg", STRZ),
    NLMSGERR_ATTR_OFFS: ("offs", U32),
    NLMSGERR_ATTR_COOKIE: ("cookie", BINARY),
})


class RawMessage:
    """One netlink message as received: header fields and the payload bytes."""

    __slots__ = ("flags", "payload", "pid", "seq", "type")

    def __init__(self, type: int, flags: int, seq: int, pid: int, payload: bytes) -> None:
        self.type = type
        self.flags = flags
        self.seq = seq
        self.pid = pid
        self.payload = payload

    def __repr__(self) -> str:
        return (f"RawMessage(type={self.type}, flags={self.flags:#x}, seq={self.seq}, "
                f"len={len(self.payload)})")


def pack_message(msg_type: int, flags: int, seq: int, payload: bytes, pid: int = 0) -> bytes:
    length = NLMSGHDR.size + len(payload)
    pad = align4(length) - length
    return NLMSGHDR.pack(length, msg_type, flags, seq, pid) + payload + b"\0" * pad


def iter_messages(data: bytes | memoryview) -> Iterator[RawMessage]:
    """Split a datagram into messages; malformed framing raises NetlinkDecodeError."""
    mv = memoryview(data)
    n = len(mv)
    off = 0
    size = NLMSGHDR.size
    while off < n:
        if n - off < size:
            raise NetlinkDecodeError(f"truncated message header ({n - off} bytes)")
        length, mtype, flags, seq, pid = NLMSGHDR.unpack_from(mv, off)
        if length < size or off + length > n:
            raise NetlinkDecodeError(f"message with bad length {length} ({n - off} bytes left)")
        yield RawMessage(mtype, flags, seq, pid, bytes(mv[off + size:off + length]))
        off += align4(length)


class ErrorPayload:
    """Decoded ``struct nlmsgerr`` plus extended-ACK attributes."""

    __slots__ = ("error", "extack", "offset", "orig_seq", "orig_type")

    def __init__(self, error: int, orig_type: int, orig_seq: int, extack: str,
                 offset: int | None) -> None:
        self.error = error
        self.orig_type = orig_type
        self.orig_seq = orig_seq
        self.extack = extack
        self.offset = offset


def parse_error(msg: RawMessage) -> ErrorPayload:
    """Decode an ``NLMSG_ERROR`` (error 0 is an ACK)."""
    p = msg.payload
    if len(p) < NLMSGERR.size + NLMSGHDR.size:
        raise NetlinkDecodeError(f"NLMSG_ERROR payload of {len(p)} bytes")
    (error,) = NLMSGERR.unpack_from(p, 0)
    olen, otype, _oflags, oseq, _opid = NLMSGHDR.unpack_from(p, 4)
    extack, offset = "", None
    if msg.flags & NLM_F_ACK_TLVS:
        # without NLM_F_CAPPED the original request follows the header
        start = 4 + (NLMSGHDR.size if msg.flags & NLM_F_CAPPED else align4(olen))
        if start <= len(p):
            attrs = NLMSGERR_POLICY.decode(p[start:])
            extack = attrs.get("msg", "")
            offset = attrs.get("offs")
    return ErrorPayload(error, otype, oseq, extack, offset)
