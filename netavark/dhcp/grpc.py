"""gRPC over HTTP/2: message framing, status codes, metadata.  Sans-IO.

Each gRPC message in the DATA frames of a stream is a compressed flag byte, a
big-endian 32-bit length and the protobuf bytes.  A call ends with trailers
carrying ``grpc-status`` and, on error, ``grpc-message`` (percent-encoded).
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hpack import Header

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
RESOURCE_EXHAUSTED = 8
ABORTED = 10
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14

CONTENT_TYPE = "application/grpc"
MAX_MESSAGE = 4 << 20  # tonic's default decoding limit
_PREFIX = struct.Struct(">BI")


class GrpcError(Exception):
    """A call failed with a gRPC status; ``str()`` is the status message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


def frame_message(payload: bytes) -> bytes:
    return _PREFIX.pack(0, len(payload)) + payload


class MessageReader:
    """Collects DATA bytes of one stream and splits them into gRPC messages."""

    __slots__ = ("_buf", "limit")

    def __init__(self, limit: int = MAX_MESSAGE) -> None:
        self._buf = bytearray()
        self.limit = limit

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out = []
        while len(self._buf) >= 5:
            compressed, length = _PREFIX.unpack_from(self._buf)
            if compressed:
                raise GrpcError(UNIMPLEMENTED, "Message compressed, compression not supported")
            if length > self.limit:
                raise GrpcError(RESOURCE_EXHAUSTED,
                                f"Error, decoded message length too large: found {length} "
                                f"bytes, the limit is: {self.limit} bytes")
            if len(self._buf) < 5 + length:
                break
            out.append(bytes(self._buf[5:5 + length]))
            del self._buf[:5 + length]
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message still buffered."""
        return len(self._buf)


# ---------------------------------------------------------------------------
# metadata


def percent_encode(msg: str) -> str:
    """The grpc-message encoding: bytes outside printable ASCII and ``%`` as ``%XX``."""
    out = []
    for b in msg.encode("utf-8"):
        if 0x20 <= b <= 0x7E and b != 0x25:
            out.append(chr(b))
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


def percent_decode(text: str) -> str:
    raw = text.encode("latin-1", "replace")
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x25 and i + 2 < len(raw) and _is_hex(raw[i + 1:i + 3]):
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", "replace")


def _is_hex(two: bytes) -> bool:
    return len(two) == 2 and all(c in b"0123456789abcdefABCDEF" for c in two)


def request_headers(path: str, authority: str, user_agent: str) -> list[Header]:
    return [(":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", authority), ("content-type", CONTENT_TYPE), ("te", "trailers"),
            ("user-agent", user_agent)]


def response_headers() -> list[Header]:
    return [(":status", "200"), ("content-type", CONTENT_TYPE)]


def status_trailers(code: int, message: str = "") -> list[Header]:
    out = [("grpc-status", str(code))]
    if message:
        out.append(("grpc-message", percent_encode(message)))
    return out


def trailers_only(code: int, message: str) -> list[Header]:
    """An error answer as one header block (no DATA)."""
    return response_headers() + status_trailers(code, message)


def status_from_headers(headers: list[Header]) -> GrpcError | None:
    """The call's status from trailers; None when ``grpc-status`` is absent."""
    code = None
    message = ""
    for name, value in headers:
        if name == "grpc-status":
            try:
                code = int(value)
            except ValueError:
                return GrpcError(UNKNOWN, f"invalid grpc-status: {value}")
        elif name == "grpc-message":
            message = percent_decode(value)
    if code is None:
        return None
    return GrpcError(code, message)


def header_value(headers: list[Header], name: str) -> str | None:
    for n, v in headers:
        if n == name:
            return v
    return None
