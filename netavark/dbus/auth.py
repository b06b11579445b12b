"""The client side of the D-Bus SASL handshake, mechanism EXTERNAL (no I/O).

The server authenticates us by the socket's peer credentials; we only state
our uid.  ``BEGIN`` is pipelined right behind ``AUTH`` (the daemon handles the
lines in order) so that connecting costs a single round trip; if the server
rejects us we give up anyway.
"""

from __future__ import annotations

from ..errors import DbusError

MAX_LINE = 16384


class HandshakeError(DbusError):
    def __init__(self, why: str) -> None:
        super().__init__(f"D-Bus handshake failed: {why}")


class SaslExternal:
    """Feed it what the server sends; it says when the message stream begins."""

    __slots__ = ("_buf", "guid", "state", "uid")

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.state = "new"
        self.guid = ""
        self._buf = bytearray()

    def initial(self) -> bytes:
        """Everything the client sends before its first message."""
        self.state = "wait_ok"
        hex_uid = str(self.uid).encode().hex().encode()
        return b"\0AUTH EXTERNAL " + hex_uid + b"\r\nBEGIN\r\n"

    def feed(self, data: bytes) -> bytes | None:
        """None while the reply line is incomplete; then the bytes that follow it."""
        if self.state != "wait_ok":
            raise HandshakeError(f"unexpected input in state {self.state}")
        self._buf += data
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > MAX_LINE:
                self.state = "failed"
                raise HandshakeError("server reply line too long")
            return None
        line = bytes(self._buf[:end])
        rest = bytes(self._buf[end + 2:])
        self._buf.clear()
        cmd, _, arg = line.partition(b" ")
        if cmd == b"OK":
            self.state = "done"
            self.guid = arg.decode("ascii", "replace")
            return rest
        self.state = "failed"
        text = arg.decode("ascii", "replace")
        if cmd == b"REJECTED":
            raise HandshakeError(f"EXTERNAL authentication rejected (server offers: {text})")
        if cmd == b"ERROR":
            raise HandshakeError(f"server error: {text}" if text else "server error")
        raise HandshakeError(f"unexpected server reply {line.decode('ascii', 'replace')!r}")
