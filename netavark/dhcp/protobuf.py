"""Protocol Buffers (proto3) wire format for flat messages, declared as field tables.

A message class lists ``FIELDS``: ``(number, attribute, kind)`` with kind one of
``uint32``, ``bool``, ``enum``, ``string``, ``bytes`` or ``repeated_string``.
Encoding omits default values and writes fields in table order (what prost
does); decoding skips unknown fields of any wire type and raises
:class:`ProtobufError` for anything malformed.  Sans-IO.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    M = TypeVar("M", bound="Message")

VARINT, FIXED64, LEN, SGROUP, EGROUP, FIXED32 = 0, 1, 2, 3, 4, 5
_WIRE_NAMES = {VARINT: "Varint", FIXED64: "SixtyFourBit", LEN: "LengthDelimited",
               SGROUP: "StartGroup", EGROUP: "EndGroup", FIXED32: "ThirtyTwoBit"}
_KIND_WIRE = {"uint32": VARINT, "bool": VARINT, "enum": VARINT, "string": LEN, "bytes": LEN,
              "repeated_string": LEN}
_DEFAULTS: dict[str, Any] = {"uint32": 0, "bool": False, "enum": 0, "string": "",
                             "bytes": b""}
_MAX_GROUP_DEPTH = 100


class ProtobufError(Exception):
    """A malformed protobuf message (text like prost's ``DecodeError``)."""


def encode_varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int32 values are sign-extended to 64 bits
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """``(value, new position)``; at most 10 bytes like every protobuf runtime."""
    result = 0
    shift = 0
    end = len(data)
    while True:
        if pos >= end:
            raise ProtobufError("buffer underflow")
        b = data[pos]
        pos += 1
        if shift == 63 and b > 1:
            raise ProtobufError("invalid varint")
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("invalid varint")


def _skip(data: bytes | memoryview, pos: int, wire: int, number: int, depth: int = 0) -> int:
    if wire == VARINT:
        return decode_varint(data, pos)[1]
    if wire == FIXED64:
        pos += 8
    elif wire == FIXED32:
        pos += 4
    elif wire == LEN:
        length, pos = decode_varint(data, pos)
        pos += length
    elif wire == SGROUP:
        if depth >= _MAX_GROUP_DEPTH:
            raise ProtobufError("recursion limit reached")
        while True:
            tag, pos = decode_varint(data, pos)
            inner_wire, inner_num = tag & 7, tag >> 3
            if inner_wire == EGROUP:
                if inner_num != number:
                    raise ProtobufError("unexpected end group tag")
                return pos
            if inner_num == 0:
                raise ProtobufError("invalid field number: 0")
            pos = _skip(data, pos, inner_wire, inner_num, depth + 1)
    else:
        raise ProtobufError("unexpected end group tag" if wire == EGROUP
                            else f"invalid wire type value: {wire}")
    if pos > len(data):
        raise ProtobufError("buffer underflow")
    return pos


class Message:
    """Base of the generated-by-hand message classes."""

    __slots__ = ()
    FIELDS: tuple[tuple[int, str, str], ...] = ()

    def __init__(self, **values: Any) -> None:
        for _, name, kind in self.FIELDS:
            if kind == "repeated_string":
                setattr(self, name, list(values.pop(name, [])))
            else:
                setattr(self, name, values.pop(name, _DEFAULTS[kind]))
        if values:
            raise TypeError(f"unknown fields {sorted(values)}")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for _, n, _ in self.FIELDS)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for _, n, _ in self.FIELDS)
        return f"{type(self).__name__}({inner})"

    def to_dict(self) -> dict[str, Any]:
        return {n: getattr(self, n) for _, n, _ in self.FIELDS}

    # -- wire ---------------------------------------------------------
    def encode(self) -> bytes:
        out = bytearray()
        for number, name, kind in self.FIELDS:
            value = getattr(self, name)
            if kind in ("uint32", "enum"):
                if value:
                    out += encode_varint(number << 3 | VARINT)
                    out += encode_varint(value if kind == "enum" else value & 0xFFFFFFFF)
            elif kind == "bool":
                if value:
                    out += encode_varint(number << 3 | VARINT)
                    out.append(1)
            elif kind == "repeated_string":
                for item in value:
                    _put_len(out, number, item.encode())
            elif value:
                _put_len(out, number, value.encode() if kind == "string" else bytes(value))
        return bytes(out)

    @classmethod
    def decode(cls: type[M], data: bytes | memoryview) -> M:
        by_number = {num: (name, kind) for num, name, kind in cls.FIELDS}
        msg = cls()
        pos = 0
        end = len(data)
        while pos < end:
            tag, pos = decode_varint(data, pos)
            wire, number = tag & 7, tag >> 3
            if number == 0:
                raise ProtobufError("invalid field number: 0")
            if tag > 0xFFFFFFFF:
                raise ProtobufError(f"invalid key value: {tag}")
            field = by_number.get(number)
            if field is None:
                pos = _skip(data, pos, wire, number)
                continue
            name, kind = field
            want = _KIND_WIRE[kind]
            if wire != want:
                raise ProtobufError(
                    f"{cls.__name__}.{name}: invalid wire type: {_WIRE_NAMES.get(wire, wire)} "
                    f"(expected {_WIRE_NAMES[want]})")
            if wire == VARINT:
                value, pos = decode_varint(data, pos)
                if kind == "bool":
                    setattr(msg, name, value != 0)
                elif kind == "enum":
                    v32 = value & 0xFFFFFFFF
                    setattr(msg, name, v32 - (1 << 32) if v32 & 0x80000000 else v32)
                else:
                    setattr(msg, name, value & 0xFFFFFFFF)
                continue
            length, pos = decode_varint(data, pos)
            if length > end - pos:
                raise ProtobufError("buffer underflow")
            raw = bytes(data[pos:pos + length])
            pos += length
            if kind == "bytes":
                setattr(msg, name, raw)
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtobufError(f"{cls.__name__}.{name}: invalid string value: data is "
                                    "not UTF-8 encoded") from None
            if kind == "repeated_string":
                getattr(msg, name).append(text)
            else:
                setattr(msg, name, text)
        return msg


def _put_len(out: bytearray, number: int, payload: bytes) -> None:
    out += encode_varint(number << 3 | LEN)
    out += encode_varint(len(payload))
    out += payload
