"""A blocking unary gRPC call over a Unix socket (what ``netavark setup`` uses).

One connection per call: preface, SETTINGS, one HEADERS + DATA stream, then
frames are read until the call's status arrives.  Plain ``_socket``: this runs
in the short-lived ``netavark`` process.
"""

from __future__ import annotations

import _socket
import errno

from .. import __version__
from ..errors import NetavarkError, io_display
from . import grpc, h2

AUTHORITY = "[::1]"
USER_AGENT = f"netavark/{__version__}"
SOCK_CLOEXEC = 0o2000000
READ_SIZE = 65536


class ConnectError(NetavarkError):
    """The proxy socket could not be reached."""


def _connect(path: str) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        code = e.errno or 0
        hint = ", is the netavark-dhcp-proxy.socket unit enabled?" \
            if code in (errno.ENOENT, errno.ECONNREFUSED) else ""
        raise ConnectError(f'socket "{path}": {io_display(code)}{hint}') from None
    return sock


def call(path: str, method: str, request: bytes) -> bytes:
    """The response message bytes; :class:`grpc.GrpcError` for a failed call,
    :class:`ConnectError` if the socket is unreachable."""
    sock = _connect(path)
    try:
        return _exchange(sock, method, request)
    finally:
        sock.close()


def _transport_error(detail: str) -> grpc.GrpcError:
    return grpc.GrpcError(grpc.UNAVAILABLE, f"transport error: {detail}")


def _exchange(sock: _socket.socket, method: str, request: bytes) -> bytes:
    conn = h2.Connection(client=True)
    sid = conn.new_stream_id()
    conn.send_headers(sid, grpc.request_headers(method, AUTHORITY, USER_AGENT))
    conn.send_data(sid, grpc.frame_message(request), end_stream=True)
    reader = grpc.MessageReader()
    messages: list[bytes] = []
    status: grpc.GrpcError | None = None
    try:
        sock.sendall(conn.outbound())
        while status is None:
            data = sock.recv(READ_SIZE)
            if not data:
                raise _transport_error("connection closed before the call ended")
            try:
                events = conn.receive(data)
            except h2.H2ConnectionError as e:
                raise _transport_error(f"h2 protocol error: {e}") from None
            for ev in events:
                if ev.stream_id not in (0, sid):
                    continue
                if isinstance(ev, h2.ResponseReceived):
                    code = grpc.header_value(ev.headers, ":status")
                    if code != "200":
                        raise grpc.GrpcError(grpc.UNKNOWN, f"HTTP status {code}")
                    if ev.end_stream:  # trailers-only answer
                        status = _status(ev.headers)
                elif isinstance(ev, h2.TrailersReceived):
                    status = _status(ev.headers)
                elif isinstance(ev, h2.DataReceived):
                    messages += reader.feed(ev.data)
                elif isinstance(ev, h2.StreamReset):
                    raise _transport_error(f"stream reset with code {ev.error_code}")
                elif isinstance(ev, h2.ConnectionTerminated) and ev.last_stream_id < sid:
                    raise _transport_error("connection closed by the server")
            out = conn.outbound()
            if out:
                sock.sendall(out)
    except OSError as e:
        raise _transport_error(io_display(e.errno or 0)) from None
    # tell the server we are done (best effort)
    conn.close()
    try:
        sock.sendall(conn.outbound())
    except OSError:
        pass
    if status.code != grpc.OK:
        raise status
    if len(messages) != 1:
        raise grpc.GrpcError(grpc.INTERNAL, "Missing response message.")
    return messages[0]


def _status(headers: list) -> grpc.GrpcError:
    st = grpc.status_from_headers(headers)
    if st is None:
        return grpc.GrpcError(grpc.UNKNOWN, "missing grpc-status in trailers")
    return st
