"""D-Bus messages: header, header fields, body; and a framer for a byte stream.

Everything here is pure: bytes in, :class:`Message` out and back.  Both byte
orders are accepted on input; we write little-endian unless told otherwise.
Decoding keeps the order of the header fields so a received message encodes
back to exactly the same bytes.
"""

from __future__ import annotations

import struct

from .marshal import (
    MAX_ARRAY,
    MAX_MESSAGE,
    DbusDecodeError,
    DbusEncodeError,
    Reader,
    Variant,
    Writer,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
TYPE_NAMES = {METHOD_CALL: "method_call", METHOD_RETURN: "method_return", ERROR: "error",
              SIGNAL: "signal"}
NO_REPLY_EXPECTED, NO_AUTO_START, ALLOW_INTERACTIVE_AUTHORIZATION = 0x1, 0x2, 0x4
PROTOCOL_VERSION = 1
FIXED_HEADER = 16  # 12 fixed bytes + the header-field array length

# code → (attribute, type code); the order of this table is our default field order
FIELDS = {1: ("path", "o"), 2: ("interface", "s"), 3: ("member", "s"),
          4: ("error_name", "s"), 5: ("reply_serial", "u"), 6: ("destination", "s"),
          7: ("sender", "s"), 8: ("signature", "g"), 9: ("unix_fds", "u")}
_REQUIRED = {METHOD_CALL: ("path", "member"), METHOD_RETURN: ("reply_serial",),
             ERROR: ("error_name", "reply_serial"), SIGNAL: ("path", "interface", "member")}
_LENGTHS = {"<": struct.Struct("<III"), ">": struct.Struct(">III")}
_FIXED = {"<": struct.Struct("<cBBBII"), ">": struct.Struct(">cBBBII")}


class Message:
    """One D-Bus message; header fields are attributes (None when absent)."""

    __slots__ = ("body", "destination", "error_name", "field_order", "flags", "interface",
                 "little", "member", "msg_type", "path", "reply_serial", "sender", "serial",
                 "signature", "unix_fds")

    def __init__(self, msg_type: int, *, flags: int = 0, serial: int = 0,
                 path: str | None = None, interface: str | None = None,
                 member: str | None = None, error_name: str | None = None,
                 reply_serial: int | None = None, destination: str | None = None,
                 sender: str | None = None, signature: str = "", body: Any = (),
                 unix_fds: int | None = None, little: bool = True) -> None:
        self.msg_type = msg_type
        self.flags = flags
        self.serial = serial
        self.path = path
        self.interface = interface
        self.member = member
        self.error_name = error_name
        self.reply_serial = reply_serial
        self.destination = destination
        self.sender = sender
        self.signature = signature
        self.body = tuple(body)
        self.unix_fds = unix_fds
        self.little = little
        self.field_order: tuple[int, ...] | None = None

    # -- constructors ------------------------------------------------------
    @classmethod
    def method_call(cls, destination: str | None, path: str, interface: str | None,
                    member: str, signature: str = "", body: Any = (),
                    flags: int = 0) -> Message:
        return cls(METHOD_CALL, destination=destination, path=path, interface=interface,
                   member=member, signature=signature, body=body, flags=flags)

    @classmethod
    def signal(cls, path: str, interface: str, member: str, signature: str = "",
               body: Any = ()) -> Message:
        return cls(SIGNAL, path=path, interface=interface, member=member,
                   signature=signature, body=body, flags=NO_REPLY_EXPECTED)

    @classmethod
    def method_return(cls, call: Message, signature: str = "", body: Any = ()) -> Message:
        return cls(METHOD_RETURN, reply_serial=call.serial, destination=call.sender,
                   signature=signature, body=body, flags=NO_REPLY_EXPECTED)

    @classmethod
    def error(cls, call: Message, name: str, text: str) -> Message:
        return cls(ERROR, reply_serial=call.serial, destination=call.sender, error_name=name,
                   signature="s", body=(text,), flags=NO_REPLY_EXPECTED)

    # -- helpers -------------------------------------------------------------
    def error_text(self) -> str:
        """The human-readable part of an error reply (its first string argument)."""
        if self.signature[:1] == "s" and self.body:
            return self.body[0]
        return ""

    def expect(self, signature: str) -> tuple:
        """The body, if its signature is exactly ``signature``."""
        if self.signature != signature:
            raise DbusDecodeError(
                f"Signature mismatch: got `{self.signature}`, expected `{signature}`")
        return self.body

    def is_signal(self, interface: str, member: str) -> bool:
        return (self.msg_type == SIGNAL and self.interface == interface
                and self.member == member)

    def __repr__(self) -> str:
        kind = TYPE_NAMES.get(self.msg_type, str(self.msg_type))
        fields = " ".join(f"{attr}={getattr(self, attr)!r}" for attr, _ in FIELDS.values()
                          if getattr(self, attr) not in (None, ""))
        return f"<Message {kind} serial={self.serial} {fields} body={self.body!r}>"

    # -- wire format -----------------------------------------------------------
    def encode(self, serial: int | None = None) -> bytes:
        """The message on the wire; ``serial`` overrides :attr:`serial`."""
        if serial is not None:
            self.serial = serial
        if not self.serial:
            raise DbusEncodeError("a message needs a non-zero serial")
        endian = "<" if self.little else ">"
        body_w = Writer(self.little)
        body_w.write_all(self.signature, self.body)
        received = self.field_order or ()
        fields = []
        for code in (*received, *(c for c in FIELDS if c not in received)):
            attr, typ = FIELDS[code]
            value = getattr(self, attr)
            if value is None or (code == 8 and value == "" and code not in received):
                continue  # no SIGNATURE field for an empty body, unless it came so
            fields.append((code, Variant(typ, value)))
        w = Writer(self.little)
        w.buf += _FIXED[endian].pack(b"l" if self.little else b"B", self.msg_type,
                                     self.flags, PROTOCOL_VERSION, len(body_w.buf),
                                     self.serial)
        w.write("a(yv)", fields, 0)
        w.pad(8)
        w.buf += body_w.buf
        return bytes(w.buf)

    @classmethod
    def decode(cls, data: bytes) -> Message:
        """Decode exactly one complete message."""
        total = message_length(data)
        if len(data) != total:
            raise DbusDecodeError("message length does not match its header")
        endian_b, msg_type, flags, version, body_len, serial = _FIXED[_endian(data)] \
            .unpack_from(data, 0)
        little = endian_b == b"l"
        if version != PROTOCOL_VERSION:
            raise DbusDecodeError(f"unsupported protocol version {version}")
        if msg_type == 0:
            raise DbusDecodeError("invalid message type 0")
        if serial == 0:
            raise DbusDecodeError("message serial is 0")
        body_start = total - body_len
        r = Reader(data, 12, body_start, little)
        raw_fields = r.read("a(yv)", 0)
        r.align(8)
        msg = cls(msg_type, flags=flags, serial=serial, little=little)
        order = []
        for code, var in raw_fields:
            spec = FIELDS.get(code)
            if code == 0:
                raise DbusDecodeError("invalid header field code 0")
            if spec is None:
                continue  # unknown fields must be ignored
            if code in order:
                raise DbusDecodeError(f"header field {code} appears twice")
            if var.signature != spec[1]:
                raise DbusDecodeError(f"header field {code} has type `{var.signature}`, "
                                      f"expected `{spec[1]}`")
            setattr(msg, spec[0], var.value)
            order.append(code)
        msg.field_order = tuple(order)
        for attr in _REQUIRED.get(msg_type, ()):
            if getattr(msg, attr) is None:
                raise DbusDecodeError(f"{TYPE_NAMES[msg_type]} without {attr} header field")
        if msg.reply_serial == 0:
            raise DbusDecodeError("reply serial is 0")
        br = Reader(data, body_start, total, little)
        msg.body = br.read_all(msg.signature)
        if br.pos != total:
            raise DbusDecodeError("body is longer than its signature says")
        return msg


def _endian(data: bytes) -> str:
    b = data[0]
    if b == 0x6C:  # 'l'
        return "<"
    if b == 0x42:  # 'B'
        return ">"
    raise DbusDecodeError(f"invalid byte order mark 0x{b:02x}")


def message_length(data: bytes) -> int:
    """Total length of the message starting at ``data[0]`` (needs 16 bytes)."""
    if len(data) < FIXED_HEADER:
        raise DbusDecodeError("message is truncated")
    endian = _endian(data)
    body_len, _serial, fields_len = _LENGTHS[endian].unpack_from(data, 4)
    if fields_len > MAX_ARRAY:
        raise DbusDecodeError("header field array is too long")
    header = FIXED_HEADER + fields_len
    header += -header % 8
    total = header + body_len
    if total > MAX_MESSAGE:
        raise DbusDecodeError(f"message longer than {MAX_MESSAGE} bytes")
    return total


class Framer:
    """Cuts a byte stream into messages; feed it whatever the socket returned."""

    __slots__ = ("_buf", "_need")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._need = 0  # length of the message at the head, once known

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        out = []
        while True:
            if not self._need:
                if len(buf) < FIXED_HEADER:
                    break
                self._need = message_length(buf)
            if len(buf) < self._need:
                break
            n = self._need
            self._need = 0
            out.append(Message.decode(bytes(buf[:n])))
            del buf[:n]
        return out

    def buffered(self) -> int:
        return len(self._buf)
