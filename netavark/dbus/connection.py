"""A blocking D-Bus connection over a unix socket: the only I/O of this package.

One connection per caller, no threads: a method call sends the message and
reads until the reply with its serial arrives; signals that arrive meanwhile
are queued for :meth:`Connection.receive`.  Uses ``_socket`` directly (the
``socket`` module pulls in ``enum`` and costs start-up time).
"""

from __future__ import annotations

import _socket
import errno as _errno
import os
import time

from ..errors import DbusError, io_display
from .address import unix_targets
from .auth import HandshakeError, SaslExternal
from .message import ERROR, METHOD_CALL, METHOD_RETURN, NO_REPLY_EXPECTED, SIGNAL, Framer, Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BUS_NAME = "org.freedesktop.DBus"
BUS_PATH = "/org/freedesktop/DBus"
BUS_INTERFACE = "org.freedesktop.DBus"
PEER_INTERFACE = "org.freedesktop.DBus.Peer"

CONNECT_TIMEOUT = 30.0
CALL_TIMEOUT = 120.0  # the bus itself answers NoReply long before this
MAX_QUEUED = 4096
_SOCK_CLOEXEC = 0o2000000


def _io_error(err: int | None, detail: str = "") -> DbusError:
    if err is not None:
        return DbusError(f"I/O error: {io_display(err)}")
    return DbusError(f"I/O error: {detail}")


class ConnectionClosed(DbusError):
    def __init__(self) -> None:
        super().__init__("I/O error: connection closed by the bus")


class Connection:
    """An authenticated bus connection (``Hello`` done, unique name known)."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._framer = Framer()
        self._serial = 0
        self._waiting: set[int] = set()
        self._replies: dict[int, Message] = {}
        self._queue: list[Message] = []
        self.unique_name = ""
        self.guid = ""
        self.closed = False

    # -- set-up ------------------------------------------------------------
    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT) -> Connection:
        """Connect to the first reachable unix address of ``address``."""
        last_err: OSError | None = None
        for target in unix_targets(address):
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _SOCK_CLOEXEC)
            sock.settimeout(timeout)
            try:
                sock.connect(target)
            except OSError as e:
                sock.close()
                last_err = e
                continue
            conn = cls(sock)
            try:
                conn._handshake(time.monotonic() + timeout)
            except BaseException:
                conn.close()
                raise
            return conn
        assert last_err is not None
        raise _io_error(last_err.errno, str(last_err))

    def _handshake(self, deadline: float) -> None:
        sasl = SaslExternal(os.getuid())
        hello = Message.method_call(BUS_NAME, BUS_PATH, BUS_INTERFACE, "Hello")
        serial = self._next_serial()
        self._waiting.add(serial)
        self._sendall(sasl.initial() + hello.encode(serial))
        rest = None
        while rest is None:
            data = self._recv(deadline)
            if not data:
                raise HandshakeError("the bus closed the connection")
            rest = sasl.feed(data)
        self.guid = sasl.guid
        self._dispatch(self._framer.feed(rest))
        reply = self._wait_reply(serial, deadline)
        if reply.msg_type == ERROR:
            raise _method_error(reply)
        self.unique_name = reply.expect("s")[0]

    # -- plumbing ------------------------------------------------------------
    def _next_serial(self) -> int:
        self._serial = self._serial % 0xFFFFFFFF + 1
        return self._serial

    def _sendall(self, data: bytes) -> None:
        try:
            self._sock.settimeout(CALL_TIMEOUT)
            self._sock.sendall(data)
        except OSError as e:
            self.closed = True
            raise _io_error(e.errno, str(e)) from None

    def _recv(self, deadline: float | None) -> bytes:
        """Some bytes, or b"" at end of stream; raises on timeout."""
        if self.closed:
            return b""
        if deadline is None:
            self._sock.settimeout(None)
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _io_error(_errno.ETIMEDOUT)
            self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(65536)
        except _socket.timeout:
            raise _io_error(_errno.ETIMEDOUT) from None
        except OSError as e:
            self.closed = True
            raise _io_error(e.errno, str(e)) from None
        if not data:
            self.closed = True
        return data

    def _feed(self, data: bytes) -> None:
        try:
            msgs = self._framer.feed(data)
        except DbusError:
            self.closed = True  # the stream cannot be resynchronised
            raise
        self._dispatch(msgs)

    def _dispatch(self, msgs: list[Message]) -> None:
        for msg in msgs:
            if msg.msg_type in (METHOD_RETURN, ERROR):
                if msg.reply_serial in self._waiting:
                    self._waiting.discard(msg.reply_serial)
                    self._replies[msg.reply_serial] = msg  # type: ignore[index]
            elif msg.msg_type == SIGNAL:
                if len(self._queue) >= MAX_QUEUED:
                    del self._queue[0]
                self._queue.append(msg)
            elif msg.msg_type == METHOD_CALL and not msg.flags & NO_REPLY_EXPECTED:
                self._answer(msg)
            # other (future) message types are ignored, as the specification says

    def _answer(self, call: Message) -> None:
        """Nobody should call us; be a polite peer anyway."""
        if call.interface == PEER_INTERFACE and call.member == "Ping":
            reply = Message.method_return(call)
        else:
            reply = Message.error(call, "org.freedesktop.DBus.Error.UnknownMethod",
                                  f"No such method {call.member!r}")
        self._sendall(reply.encode(self._next_serial()))

    def _wait_reply(self, serial: int, deadline: float | None) -> Message:
        try:
            while serial not in self._replies:
                data = self._recv(deadline)
                if not data:
                    raise ConnectionClosed()
                self._feed(data)
        finally:
            self._waiting.discard(serial)
        return self._replies.pop(serial)

    # -- API -----------------------------------------------------------------
    def send(self, msg: Message) -> int:
        """Send without waiting; returns the serial used."""
        serial = self._next_serial()
        self._sendall(msg.encode(serial))
        return serial

    def call(self, destination: str | None, path: str, interface: str | None, member: str,
             signature: str = "", body: Any = (), timeout: float | None = CALL_TIMEOUT,
             ) -> Message:
        """Call a method and return its METHOD_RETURN; an ERROR reply raises DbusError."""
        if self.closed:
            raise ConnectionClosed()
        msg = Message.method_call(destination, path, interface, member, signature, body)
        serial = self._next_serial()
        self._waiting.add(serial)
        self._sendall(msg.encode(serial))
        deadline = None if timeout is None else time.monotonic() + timeout
        reply = self._wait_reply(serial, deadline)
        if reply.msg_type == ERROR:
            raise _method_error(reply)
        return reply

    def receive(self, timeout: float | None = None) -> Message | None:
        """The next signal; None on timeout or when the bus went away (see :attr:`closed`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._queue:
            if self.closed:
                return None
            try:
                data = self._recv(deadline)
                if not data:
                    return None
                self._feed(data)
            except DbusError:
                return None  # a timeout, or the stream broke (then closed is set)
        return self._queue.pop(0)

    def add_match(self, rule: str) -> None:
        self.call(BUS_NAME, BUS_PATH, BUS_INTERFACE, "AddMatch", "s", (rule,))

    def name_owner(self, name: str) -> str:
        """Unique name owning ``name``; DbusError (NameHasNoOwner) if nobody does."""
        reply = self.call(BUS_NAME, BUS_PATH, BUS_INTERFACE, "GetNameOwner", "s", (name,))
        return reply.expect("s")[0]

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self.closed = True
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _method_error(reply: Message) -> DbusError:
    return DbusError.reply(reply.error_name or "", reply.error_text() or "no details")
