"""HTTP/2 (RFC 9113) framing and a small connection state machine.  Sans-IO.

:class:`Connection` takes received bytes (:meth:`Connection.receive`) and
returns events; whatever it wants to send collects in :meth:`Connection.outbound`.
It does what a gRPC peer needs: the connection preface, SETTINGS and their
ACKs, PING replies, HEADERS+CONTINUATION header blocks (HPACK), DATA with flow
control in both directions (received data is re-credited at once), RST_STREAM
and GOAWAY.  PRIORITY frames are ignored, PUSH_PROMISE is refused (push is
disabled), unknown frame types are skipped.  Protocol violations raise
:class:`H2ConnectionError` after queueing a GOAWAY.
"""

from __future__ import annotations

import struct

from .hpack import Decoder, Encoder, HpackError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hpack import Header

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# frame types
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
FRAME_NAMES = ("DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
               "GOAWAY", "WINDOW_UPDATE", "CONTINUATION")
# flags
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# settings
HEADER_TABLE_SIZE = 0x1
ENABLE_PUSH = 0x2
MAX_CONCURRENT_STREAMS = 0x3
INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME_SIZE = 0x5
MAX_HEADER_LIST_SIZE = 0x6

# error codes
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, \
    STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, \
    CONNECT_ERROR, ENHANCE_YOUR_CALM, INADEQUATE_SECURITY, HTTP_1_1_REQUIRED = range(14)

DEFAULT_WINDOW = 65535
DEFAULT_MAX_FRAME = 16384
MAX_WINDOW = (1 << 31) - 1
_HEADER = struct.Struct(">I B I")  # length<<8|type, flags, stream id


class H2Error(Exception):
    """Base of HTTP/2 errors."""


class H2ConnectionError(H2Error):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code


# ---------------------------------------------------------------------------
# frames


class Frame:
    __slots__ = ("flags", "payload", "stream_id", "type")

    def __init__(self, ftype: int, flags: int, stream_id: int, payload: bytes) -> None:
        self.type = ftype
        self.flags = flags
        self.stream_id = stream_id
        self.payload = payload

    def __repr__(self) -> str:
        name = FRAME_NAMES[self.type] if self.type < len(FRAME_NAMES) else str(self.type)
        return f"Frame({name}, flags={self.flags:#x}, stream={self.stream_id}, " \
               f"len={len(self.payload)})"


def encode_frame(ftype: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return _HEADER.pack(len(payload) << 8 | ftype, flags, stream_id & 0x7FFFFFFF) + payload


def parse_frame(buf: bytes | bytearray | memoryview, max_size: int
                ) -> tuple[Frame | None, int]:
    """One frame from the front of ``buf``: ``(frame, bytes used)`` or ``(None, 0)``."""
    if len(buf) < 9:
        return None, 0
    word, flags, stream_id = _HEADER.unpack_from(buf, 0)
    length = word >> 8
    if length > max_size:
        raise H2ConnectionError(FRAME_SIZE_ERROR, f"frame of {length} bytes, limit {max_size}")
    if len(buf) < 9 + length:
        return None, 0
    return Frame(word & 0xFF, flags, stream_id & 0x7FFFFFFF, bytes(buf[9:9 + length])), \
        9 + length


def encode_settings(settings: dict[int, int]) -> bytes:
    return b"".join(struct.pack(">HI", k, v) for k, v in settings.items())


def _strip_padding(frame: Frame) -> bytes:
    data = frame.payload
    if frame.flags & PADDED:
        if not data:
            raise H2ConnectionError(PROTOCOL_ERROR, "padded frame without pad length")
        pad = data[0]
        if pad >= len(data):
            raise H2ConnectionError(PROTOCOL_ERROR, "padding longer than the frame")
        return data[1:len(data) - pad]
    return data


# ---------------------------------------------------------------------------
# events


class Event:
    __slots__ = ("stream_id",)

    def __init__(self, stream_id: int = 0) -> None:
        self.stream_id = stream_id

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}"
                           for cls in type(self).__mro__ for k in getattr(cls, "__slots__", ()))
        return f"{type(self).__name__}({fields})"


class RequestReceived(Event):
    """Server side: the header block that opens a stream."""

    __slots__ = ("end_stream", "headers")

    def __init__(self, stream_id: int, headers: list[Header], end_stream: bool) -> None:
        super().__init__(stream_id)
        self.headers = headers
        self.end_stream = end_stream


class ResponseReceived(RequestReceived):
    """Client side: the first header block of a response."""

    __slots__ = ()


class TrailersReceived(RequestReceived):
    """A header block after the first one of a stream (gRPC status lives here)."""

    __slots__ = ()


class DataReceived(Event):
    __slots__ = ("data", "end_stream")

    def __init__(self, stream_id: int, data: bytes, end_stream: bool) -> None:
        super().__init__(stream_id)
        self.data = data
        self.end_stream = end_stream


class StreamReset(Event):
    __slots__ = ("error_code",)

    def __init__(self, stream_id: int, error_code: int) -> None:
        super().__init__(stream_id)
        self.error_code = error_code


class ConnectionTerminated(Event):
    """GOAWAY received."""

    __slots__ = ("debug", "error_code", "last_stream_id")

    def __init__(self, error_code: int, last_stream_id: int, debug: bytes) -> None:
        super().__init__(0)
        self.error_code = error_code
        self.last_stream_id = last_stream_id
        self.debug = debug


class SettingsAcked(Event):
    __slots__ = ()


class PingAcked(Event):
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        super().__init__(0)
        self.data = data


# ---------------------------------------------------------------------------
# connection


class _Stream:
    __slots__ = ("headers_seen", "pending", "pending_end", "recv_closed", "send_closed",
                 "send_window")

    def __init__(self, send_window: int) -> None:
        self.send_window = send_window
        self.headers_seen = False
        self.recv_closed = False
        self.send_closed = False
        self.pending = bytearray()  # DATA waiting for flow-control credit
        self.pending_end = False


class Connection:
    """One HTTP/2 connection, client or server side."""

    def __init__(self, client: bool, local_settings: dict[int, int] | None = None) -> None:
        self.client = client
        self.local_settings = {ENABLE_PUSH: 0} if client else {}
        self.local_settings.update(local_settings or {})
        self.max_recv_frame = DEFAULT_MAX_FRAME
        self.peer_max_frame = DEFAULT_MAX_FRAME
        self.peer_initial_window = DEFAULT_WINDOW
        self.send_window = DEFAULT_WINDOW
        self.decoder = Decoder(self.local_settings.get(HEADER_TABLE_SIZE, 4096),
                               self.local_settings.get(MAX_HEADER_LIST_SIZE, 1 << 16))
        self.encoder = Encoder()
        self.streams: dict[int, _Stream] = {}
        self.highest_peer_stream = 0
        self.next_stream_id = 1 if client else 2
        self._in = bytearray()
        self._out = bytearray()
        self._preface_pending = not client  # a server first reads the client's preface
        self._settings_seen = False
        self._continuation: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self.closed = False
        if client:
            self._out += PREFACE
        self._out += encode_frame(SETTINGS, 0, 0, encode_settings(self.local_settings))

    # -- output -------------------------------------------------------
    def outbound(self) -> bytes:
        """Bytes to write to the peer (and forget)."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def _send(self, ftype: int, flags: int, stream_id: int, payload: bytes = b"") -> None:
        self._out += encode_frame(ftype, flags, stream_id, payload)

    def send_headers(self, stream_id: int, headers: list[Header], end_stream: bool = False
                     ) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            if not self.client:
                raise H2Error(f"stream {stream_id} is not open")
            stream = self.streams[stream_id] = _Stream(self.peer_initial_window)
        if stream.send_closed:
            raise H2Error(f"stream {stream_id} already closed for sending")
        block = self.encoder.encode(headers)
        chunk = self.peer_max_frame
        first, rest = block[:chunk], block[chunk:]
        flags = (END_STREAM if end_stream else 0) | (0 if rest else END_HEADERS)
        self._send(HEADERS, flags, stream_id, first)
        while rest:
            part, rest = rest[:chunk], rest[chunk:]
            self._send(CONTINUATION, 0 if rest else END_HEADERS, stream_id, part)
        if end_stream:
            stream.send_closed = True
            self._maybe_forget(stream_id)

    def new_stream_id(self) -> int:
        sid = self.next_stream_id
        self.next_stream_id += 2
        return sid

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.send_closed or stream.pending_end:
            raise H2Error(f"stream {stream_id} is not open for sending")
        stream.pending += data
        stream.pending_end = end_stream
        self._flush(stream_id, stream)

    def _flush(self, stream_id: int, stream: _Stream) -> None:
        while stream.pending:
            n = min(len(stream.pending), self.peer_max_frame, stream.send_window,
                    self.send_window)
            if n <= 0:
                return
            chunk = bytes(stream.pending[:n])
            del stream.pending[:n]
            stream.send_window -= n
            self.send_window -= n
            last = not stream.pending and stream.pending_end
            self._send(DATA, END_STREAM if last else 0, stream_id, chunk)
            if last:
                stream.send_closed = True
                self._maybe_forget(stream_id)
                return
        if stream.pending_end and not stream.send_closed:
            self._send(DATA, END_STREAM, stream_id)
            stream.send_closed = True
            self._maybe_forget(stream_id)

    def reset_stream(self, stream_id: int, code: int = CANCEL) -> None:
        self._send(RST_STREAM, 0, stream_id, struct.pack(">I", code))
        self.streams.pop(stream_id, None)

    def ping(self, data: bytes = b"\0" * 8) -> None:
        self._send(PING, 0, 0, data)

    def close(self, code: int = NO_ERROR, debug: bytes = b"") -> None:
        """Queue a GOAWAY; no new streams are accepted afterwards."""
        if not self.closed:
            self._send(GOAWAY, 0, 0, struct.pack(">II", self.highest_peer_stream, code) + debug)
            self.closed = True

    def _maybe_forget(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is not None and stream.send_closed and stream.recv_closed:
            del self.streams[stream_id]

    # -- input --------------------------------------------------------
    def receive(self, data: bytes) -> list[Event]:
        """Feed received bytes; returns the events they complete."""
        self._in += data
        events: list[Event] = []
        try:
            if self._preface_pending:
                if len(self._in) < len(PREFACE):
                    if not PREFACE.startswith(bytes(self._in)):
                        raise H2ConnectionError(PROTOCOL_ERROR, "invalid connection preface")
                    return events
                if bytes(self._in[:len(PREFACE)]) != PREFACE:
                    raise H2ConnectionError(PROTOCOL_ERROR, "invalid connection preface")
                del self._in[:len(PREFACE)]
                self._preface_pending = False
            while True:
                frame, used = parse_frame(self._in, self.max_recv_frame)
                if frame is None:
                    break
                del self._in[:used]
                self._handle(frame, events)
        except H2ConnectionError as e:
            self.close(e.code, str(e).encode()[:256])
            raise
        return events

    def _handle(self, f: Frame, events: list[Event]) -> None:
        if not self._settings_seen:
            if f.type != SETTINGS or f.flags & ACK:
                raise H2ConnectionError(PROTOCOL_ERROR, "first frame must be SETTINGS")
            self._settings_seen = True
        if self._continuation is not None and f.type != CONTINUATION:
            raise H2ConnectionError(PROTOCOL_ERROR, "expected CONTINUATION frame")
        handler = _HANDLERS.get(f.type)
        if handler is not None:
            handler(self, f, events)

    def _on_settings(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id:
            raise H2ConnectionError(PROTOCOL_ERROR, "SETTINGS on a stream")
        if f.flags & ACK:
            if f.payload:
                raise H2ConnectionError(FRAME_SIZE_ERROR, "SETTINGS ACK with payload")
            events.append(SettingsAcked())
            return
        if len(f.payload) % 6:
            raise H2ConnectionError(FRAME_SIZE_ERROR, "SETTINGS length not a multiple of 6")
        for off in range(0, len(f.payload), 6):
            key, value = struct.unpack_from(">HI", f.payload, off)
            if key == ENABLE_PUSH and value > 1:
                raise H2ConnectionError(PROTOCOL_ERROR, "invalid ENABLE_PUSH")
            if key == INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise H2ConnectionError(FLOW_CONTROL_ERROR, "invalid INITIAL_WINDOW_SIZE")
                delta = value - self.peer_initial_window
                self.peer_initial_window = value
                for stream in self.streams.values():
                    stream.send_window += delta
            elif key == MAX_FRAME_SIZE:
                if not DEFAULT_MAX_FRAME <= value <= (1 << 24) - 1:
                    raise H2ConnectionError(PROTOCOL_ERROR, "invalid MAX_FRAME_SIZE")
                self.peer_max_frame = value
        self._send(SETTINGS, ACK, 0)
        self._flush_all()

    def _on_ping(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id:
            raise H2ConnectionError(PROTOCOL_ERROR, "PING on a stream")
        if len(f.payload) != 8:
            raise H2ConnectionError(FRAME_SIZE_ERROR, "PING payload must be 8 bytes")
        if f.flags & ACK:
            events.append(PingAcked(f.payload))
        else:
            self._send(PING, ACK, 0, f.payload)

    def _on_window_update(self, f: Frame, events: list[Event]) -> None:
        if len(f.payload) != 4:
            raise H2ConnectionError(FRAME_SIZE_ERROR, "WINDOW_UPDATE payload must be 4 bytes")
        inc = struct.unpack(">I", f.payload)[0] & 0x7FFFFFFF
        if f.stream_id == 0:
            if inc == 0:
                raise H2ConnectionError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            self.send_window += inc
            if self.send_window > MAX_WINDOW:
                raise H2ConnectionError(FLOW_CONTROL_ERROR, "connection window overflow")
            self._flush_all()
            return
        stream = self.streams.get(f.stream_id)
        if stream is None:
            return  # a closed stream: allowed and ignored
        if inc == 0:
            self.reset_stream(f.stream_id, PROTOCOL_ERROR)
            events.append(StreamReset(f.stream_id, PROTOCOL_ERROR))
            return
        stream.send_window += inc
        if stream.send_window > MAX_WINDOW:
            self.reset_stream(f.stream_id, FLOW_CONTROL_ERROR)
            events.append(StreamReset(f.stream_id, FLOW_CONTROL_ERROR))
            return
        self._flush(f.stream_id, stream)

    def _flush_all(self) -> None:
        for sid, stream in list(self.streams.items()):
            if stream.pending or (stream.pending_end and not stream.send_closed):
                self._flush(sid, stream)

    def _on_rst_stream(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id == 0:
            raise H2ConnectionError(PROTOCOL_ERROR, "RST_STREAM on stream 0")
        if len(f.payload) != 4:
            raise H2ConnectionError(FRAME_SIZE_ERROR, "RST_STREAM payload must be 4 bytes")
        self._check_known(f.stream_id)
        self.streams.pop(f.stream_id, None)
        events.append(StreamReset(f.stream_id, struct.unpack(">I", f.payload)[0]))

    def _on_goaway(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id:
            raise H2ConnectionError(PROTOCOL_ERROR, "GOAWAY on a stream")
        if len(f.payload) < 8:
            raise H2ConnectionError(FRAME_SIZE_ERROR, "GOAWAY payload too short")
        last, code = struct.unpack_from(">II", f.payload)
        events.append(ConnectionTerminated(code, last & 0x7FFFFFFF, f.payload[8:]))

    def _on_priority(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id == 0:
            raise H2ConnectionError(PROTOCOL_ERROR, "PRIORITY on stream 0")
        if len(f.payload) != 5:
            self.reset_stream(f.stream_id, FRAME_SIZE_ERROR)

    def _on_push_promise(self, f: Frame, events: list[Event]) -> None:
        raise H2ConnectionError(PROTOCOL_ERROR, "PUSH_PROMISE while push is disabled")

    def _check_known(self, stream_id: int) -> None:
        """Frames on streams never opened are a connection error (idle state)."""
        peer_initiated = (stream_id % 2 == 0) == self.client
        if peer_initiated:
            if stream_id > self.highest_peer_stream:
                raise H2ConnectionError(PROTOCOL_ERROR, f"frame on idle stream {stream_id}")
        elif stream_id >= self.next_stream_id:
            raise H2ConnectionError(PROTOCOL_ERROR, f"frame on idle stream {stream_id}")

    def _on_data(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id == 0:
            raise H2ConnectionError(PROTOCOL_ERROR, "DATA on stream 0")
        self._check_known(f.stream_id)
        size = len(f.payload)
        data = _strip_padding(f)
        # the whole frame counts against the windows; credit it back right away
        if size:
            self._send(WINDOW_UPDATE, 0, 0, struct.pack(">I", size))
        stream = self.streams.get(f.stream_id)
        if stream is None or stream.recv_closed:
            self.reset_stream(f.stream_id, STREAM_CLOSED)
            return
        if size:
            self._send(WINDOW_UPDATE, 0, f.stream_id, struct.pack(">I", size))
        end = bool(f.flags & END_STREAM)
        if end:
            stream.recv_closed = True
        events.append(DataReceived(f.stream_id, data, end))
        if end:
            self._maybe_forget(f.stream_id)

    def _on_headers(self, f: Frame, events: list[Event]) -> None:
        if f.stream_id == 0:
            raise H2ConnectionError(PROTOCOL_ERROR, "HEADERS on stream 0")
        block = _strip_padding(f)
        if f.flags & PRIORITY_FLAG:
            if len(block) < 5:
                raise H2ConnectionError(PROTOCOL_ERROR, "HEADERS priority data truncated")
            block = block[5:]
        if f.flags & END_HEADERS:
            self._header_block(f.stream_id, f.flags, bytes(block), events)
        else:
            self._continuation = (f.stream_id, f.flags, bytearray(block))

    def _on_continuation(self, f: Frame, events: list[Event]) -> None:
        if self._continuation is None or self._continuation[0] != f.stream_id:
            raise H2ConnectionError(PROTOCOL_ERROR, "unexpected CONTINUATION frame")
        sid, flags, block = self._continuation
        block += f.payload
        if len(block) > self.decoder.max_header_list_size * 2:
            raise H2ConnectionError(ENHANCE_YOUR_CALM, "header block too large")
        if f.flags & END_HEADERS:
            self._continuation = None
            self._header_block(sid, flags, bytes(block), events)

    def _header_block(self, sid: int, flags: int, block: bytes, events: list[Event]) -> None:
        try:
            headers = self.decoder.decode(block)
        except HpackError as e:
            raise H2ConnectionError(COMPRESSION_ERROR, f"hpack: {e}") from None
        end = bool(flags & END_STREAM)
        stream = self.streams.get(sid)
        peer_initiated = (sid % 2 == 0) == self.client
        if stream is None:
            if not peer_initiated or sid <= self.highest_peer_stream:
                # a stream we reset or finished; the block was still decoded above
                # to keep the HPACK state in sync
                self._check_known(sid)
                self.reset_stream(sid, STREAM_CLOSED)
                return
            self.highest_peer_stream = sid
            if self.closed:
                self.reset_stream(sid, REFUSED_STREAM)
                return
            stream = self.streams[sid] = _Stream(self.peer_initial_window)
            stream.headers_seen = True
            stream.recv_closed = end
            events.append(RequestReceived(sid, headers, end))
        else:
            if stream.recv_closed:
                self.reset_stream(sid, STREAM_CLOSED)
                return
            if stream.headers_seen:
                if not end:
                    self.reset_stream(sid, PROTOCOL_ERROR)
                    events.append(StreamReset(sid, PROTOCOL_ERROR))
                    return
                stream.recv_closed = True
                events.append(TrailersReceived(sid, headers, end))
            else:
                stream.headers_seen = True
                stream.recv_closed = end
                cls = ResponseReceived if self.client else RequestReceived
                events.append(cls(sid, headers, end))
        if end:
            self._maybe_forget(sid)


_HANDLERS = {
    DATA: Connection._on_data,
    HEADERS: Connection._on_headers,
    PRIORITY: Connection._on_priority,
    RST_STREAM: Connection._on_rst_stream,
    SETTINGS: Connection._on_settings,
    PUSH_PROMISE: Connection._on_push_promise,
    PING: Connection._on_ping,
    GOAWAY: Connection._on_goaway,
    WINDOW_UPDATE: Connection._on_window_update,
    CONTINUATION: Connection._on_continuation,
}
