"""gRPC server over a Unix stream socket: HTTP/2 connections → unary calls.

Each connection runs :class:`~.h2.Connection`; a request (HEADERS + DATA
ending the stream) becomes a task running the method; a reset stream or a
closed connection cancels it (upstream aborts the DHCP exchange when the
client goes away).  Daemon-only module (imports asyncio at module level).
"""

from __future__ import annotations

import asyncio

from .. import log
from . import grpc, h2
from .protobuf import ProtobufError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_log = log.Logger("netavark::dhcp_proxy::server")
READ_SIZE = 65536
MAX_PENDING_CALLS = 1024


class _Call:
    __slots__ = ("messages", "method", "reader", "task")

    def __init__(self, method: tuple[type, Callable] | None) -> None:
        self.method = method
        self.reader = grpc.MessageReader()
        self.messages: list[bytes] = []
        self.task: asyncio.Task | None = None


class GrpcConnection:
    """One client connection."""

    def __init__(self, methods: dict[str, tuple[type, Callable]],
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.methods = methods
        self.reader = reader
        self.writer = writer
        self.conn = h2.Connection(client=False, local_settings={
            h2.MAX_CONCURRENT_STREAMS: 100, h2.MAX_HEADER_LIST_SIZE: 16384})
        self.calls: dict[int, _Call] = {}

    def _flush(self) -> None:
        data = self.conn.outbound()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def serve(self) -> None:
        try:
            self._flush()
            while True:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    break
                try:
                    events = self.conn.receive(data)
                except h2.H2ConnectionError as e:
                    _log.debug(f"connection error: {e}")
                    self._flush()
                    break
                for ev in events:
                    self._event(ev)
                self._flush()
                await self.writer.drain()
        except (ConnectionError, OSError) as e:
            _log.debug(f"connection lost: {e}")
        finally:
            for call in self.calls.values():
                if call.task is not None:
                    call.task.cancel()
            self.calls.clear()
            self.writer.close()

    def _event(self, ev: h2.Event) -> None:
        sid = ev.stream_id
        if isinstance(ev, h2.RequestReceived) and not isinstance(ev, h2.TrailersReceived):
            headers = dict(ev.headers)
            path = headers.get(":path", "")
            ctype = headers.get("content-type", "")
            if headers.get(":method") != "POST" or not ctype.startswith(grpc.CONTENT_TYPE):
                self.conn.send_headers(sid, [(":status", "415")], end_stream=True)
                return
            method = self.methods.get(path)
            if method is None:
                self._finish_error(sid, grpc.GrpcError(grpc.UNIMPLEMENTED, ""))
                return
            if len(self.calls) >= MAX_PENDING_CALLS:
                self.conn.reset_stream(sid, h2.REFUSED_STREAM)
                return
            self.calls[sid] = _Call(method)
            if ev.end_stream:
                self._start(sid)
        elif isinstance(ev, h2.DataReceived):
            call = self.calls.get(sid)
            if call is None or call.task is not None:
                return
            try:
                call.messages += call.reader.feed(ev.data)
            except grpc.GrpcError as e:
                del self.calls[sid]
                self._finish_error(sid, e)
                return
            if ev.end_stream:
                self._start(sid)
        elif isinstance(ev, h2.TrailersReceived):
            if ev.end_stream:
                self._start(sid)
        elif isinstance(ev, h2.StreamReset):
            call = self.calls.pop(sid, None)
            if call is not None and call.task is not None:
                call.task.cancel()

    def _start(self, sid: int) -> None:
        call = self.calls.get(sid)
        if call is None or call.task is not None:
            return
        messages = call.messages
        if len(messages) != 1 or call.reader.pending:
            del self.calls[sid]
            text = "Missing request message." if not messages else \
                "Expected one request message"
            self._finish_error(sid, grpc.GrpcError(grpc.INTERNAL, text))
            return
        call.task = asyncio.ensure_future(self._run(sid, call, messages[0]))

    async def _run(self, sid: int, call: _Call, payload: bytes) -> None:
        assert call.method is not None
        req_type, handler = call.method
        try:
            try:
                request = req_type.decode(payload)
            except ProtobufError as e:
                raise grpc.GrpcError(grpc.INTERNAL,
                                     f"failed to decode Protobuf message: {e}") from None
            response = await handler(request)
        except asyncio.CancelledError:
            _log.debug("Request dropped, aborting DORA")
            raise
        except grpc.GrpcError as e:
            self._finish_error(sid, e)
        except Exception as e:  # a bug: answer instead of hanging the client
            _log.error(f"internal error: {e!r}")
            self._finish_error(sid, grpc.GrpcError(grpc.UNKNOWN, str(e)))
        else:
            try:
                self.conn.send_headers(sid, grpc.response_headers())
                self.conn.send_data(sid, grpc.frame_message(response.encode()))
                self.conn.send_headers(sid, grpc.status_trailers(grpc.OK), end_stream=True)
            except h2.H2Error:
                pass  # the stream went away meanwhile
        finally:
            self.calls.pop(sid, None)
        self._flush()

    def _finish_error(self, sid: int, err: grpc.GrpcError) -> None:
        try:
            self.conn.send_headers(sid, grpc.trailers_only(err.code, err.message),
                                   end_stream=True)
        except h2.H2Error:
            pass
        self._flush()


def connection_handler(methods: dict[str, tuple[type, Callable]]) -> Callable:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await GrpcConnection(methods, reader, writer).serve()

    return handle
