"""D-Bus values on the wire, driven by signature strings (no I/O).

Python representation of each type code:

======  ==========================================
``y``   int 0..255
``b``   bool
``n q i u x t``  int within the type's range
``h``   int (index into the message's file descriptors)
``d``   float
``s o g``  str
``v``   :class:`Variant` (its own signature plus value)
``a…``  list; ``ay`` decodes to bytes; ``a{kv}`` decodes to dict
``(…)`` tuple
======  ==========================================

Alignment is relative to the start of the message; a body always starts on an
8-byte boundary, so a body can be (de)serialised on its own with offset 0.
Input from the bus is untrusted: every limit of the specification (signature
length, nesting depth, array and message size, padding, UTF-8, object path
syntax, booleans) is enforced and any violation raises
:class:`DbusDecodeError`, never another exception.
"""

from __future__ import annotations

import struct

from ..errors import DbusError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_SIGNATURE = 255
MAX_ARRAY = 1 << 26
MAX_MESSAGE = 1 << 27
MAX_ARRAY_DEPTH = 32
MAX_STRUCT_DEPTH = 32
MAX_DEPTH = 64  # arrays + structs + variants, counted while values nest

BASIC = frozenset("ybnqiuxtdsogh")
ALIGN = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8, "d": 8, "h": 4,
         "s": 4, "o": 4, "g": 1, "v": 1, "a": 4, "(": 8, "{": 8}
# fixed-size types: struct format letter and allowed range
_FIXED = {"y": ("B", 0, 0xFF), "n": ("h", -0x8000, 0x7FFF), "q": ("H", 0, 0xFFFF),
          "i": ("i", -(1 << 31), (1 << 31) - 1), "u": ("I", 0, 0xFFFFFFFF),
          "x": ("q", -(1 << 63), (1 << 63) - 1), "t": ("Q", 0, (1 << 64) - 1),
          "h": ("I", 0, 0xFFFFFFFF)}
_STRUCTS = {(e, c): struct.Struct(e + f) for e in "<>"
            for c, f in [*((k, v[0]) for k, v in _FIXED.items()), ("d", "d"), ("b", "I")]}
_PATH_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class DbusDecodeError(DbusError):
    """Bytes from the bus that are not a valid D-Bus message or value."""


class DbusEncodeError(DbusError):
    """A value that cannot be written with the requested signature."""


class Variant:
    """A ``v`` value: a single complete type and a value of that type."""

    __slots__ = ("signature", "value")

    def __init__(self, signature: str, value: Any) -> None:
        self.signature = signature
        self.value = value

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Variant) and self.signature == other.signature
                and self.value == other.value)

    def __hash__(self) -> int:
        return hash(self.signature)

    def __repr__(self) -> str:
        return f"Variant({self.signature!r}, {self.value!r})"


# ---------------------------------------------------------------------------
# signatures

_split_cache: dict[str, tuple[str, ...]] = {}


def split_signature(sig: str) -> tuple[str, ...]:
    """The single complete types of ``sig``; raises DbusDecodeError if invalid."""
    cached = _split_cache.get(sig)
    if cached is not None:
        return cached
    if len(sig) > MAX_SIGNATURE:
        raise DbusDecodeError(f"signature is longer than {MAX_SIGNATURE} bytes")
    out = []
    i = 0
    while i < len(sig):
        j = _complete_end(sig, i, 0, 0)
        out.append(sig[i:j])
        i = j
    result = tuple(out)
    if len(_split_cache) < 512:
        _split_cache[sig] = result
    return result


def _bad_sig(sig: str, why: str) -> DbusDecodeError:
    return DbusDecodeError(f"invalid signature `{sig}`: {why}")


def _complete_end(sig: str, i: int, arrays: int, structs: int) -> int:
    """Index just past the single complete type starting at ``sig[i]``."""
    if i >= len(sig):
        raise _bad_sig(sig, "incomplete type")
    c = sig[i]
    if c in BASIC or c == "v":
        return i + 1
    if c == "a":
        if arrays + 1 > MAX_ARRAY_DEPTH:
            raise _bad_sig(sig, "arrays nested too deeply")
        if i + 1 < len(sig) and sig[i + 1] == "{":
            if structs + 1 > MAX_STRUCT_DEPTH:
                raise _bad_sig(sig, "structures nested too deeply")
            if i + 2 >= len(sig) or sig[i + 2] not in BASIC:
                raise _bad_sig(sig, "dict entry key must be a basic type")
            j = _complete_end(sig, i + 3, arrays + 1, structs + 1)
            if j >= len(sig) or sig[j] != "}":
                raise _bad_sig(sig, "dict entry must have exactly two types")
            return j + 1
        return _complete_end(sig, i + 1, arrays + 1, structs)
    if c == "(":
        if structs + 1 > MAX_STRUCT_DEPTH:
            raise _bad_sig(sig, "structures nested too deeply")
        j = i + 1
        if j < len(sig) and sig[j] == ")":
            raise _bad_sig(sig, "empty structure")
        while True:
            if j >= len(sig):
                raise _bad_sig(sig, "unterminated structure")
            if sig[j] == ")":
                return j + 1
            j = _complete_end(sig, j, arrays, structs + 1)
    if c == "{":
        raise _bad_sig(sig, "dict entry outside an array")
    raise _bad_sig(sig, f"unknown type code {c!r}")


def single_type(sig: str) -> str:
    """Check that ``sig`` is exactly one complete type (as a variant needs)."""
    types = split_signature(sig)
    if len(types) != 1:
        raise _bad_sig(sig, "a variant must hold exactly one complete type")
    return sig


def valid_object_path(path: str) -> bool:
    if path == "/":
        return True
    if not path.startswith("/") or path.endswith("/"):
        return False
    return all(seg and _PATH_CHARS.issuperset(seg) for seg in path[1:].split("/"))


# ---------------------------------------------------------------------------
# encoding


class Writer:
    """Appends marshalled values to a buffer whose offset 0 is 8-aligned."""

    __slots__ = ("buf", "endian")

    def __init__(self, little: bool = True) -> None:
        self.buf = bytearray()
        self.endian = "<" if little else ">"

    def pad(self, align: int) -> None:
        n = -len(self.buf) % align
        if n:
            self.buf += bytes(n)

    def write_all(self, sig: str, values: Any) -> None:
        _encode_sig(sig)
        types = split_signature(sig)
        values = tuple(values)
        if len(values) != len(types):
            raise DbusEncodeError(
                f"signature `{sig}` needs {len(types)} values, got {len(values)}")
        for t, v in zip(types, values):
            self.write(t, v, 0)

    def write(self, sig: str, value: Any, depth: int) -> None:
        c = sig[0]
        buf = self.buf
        fixed = _FIXED.get(c)
        if fixed is not None:
            if not isinstance(value, int):
                raise DbusEncodeError(f"`{c}` needs an integer, got {value!r}")
            if not fixed[1] <= value <= fixed[2]:
                raise DbusEncodeError(f"{value} out of range for `{c}`")
            self.pad(ALIGN[c])
            buf += _STRUCTS[(self.endian, c)].pack(value)
        elif c == "b":
            if value not in (True, False):  # also accepts 0 and 1
                raise DbusEncodeError(f"`b` needs a boolean, got {value!r}")
            self.pad(4)
            buf += _STRUCTS[(self.endian, "b")].pack(1 if value else 0)
        elif c == "d":
            if not isinstance(value, (int, float)):
                raise DbusEncodeError(f"`d` needs a number, got {value!r}")
            self.pad(8)
            buf += _STRUCTS[(self.endian, "d")].pack(float(value))
        elif c in "sog":
            data = _text(c, value)
            if c == "g":
                buf.append(len(data))
            else:
                self.pad(4)
                buf += _STRUCTS[(self.endian, "u")].pack(len(data))
            buf += data
            buf.append(0)
        elif c == "v":
            if not isinstance(value, Variant):
                raise DbusEncodeError(f"`v` needs a Variant, got {value!r}")
            if depth + 1 > MAX_DEPTH:
                raise DbusEncodeError("values nested too deeply")
            inner = _encode_sig(value.signature, single=True)
            data = inner.encode()
            buf.append(len(data))
            buf += data
            buf.append(0)
            self.write(inner, value.value, depth + 1)
        elif c == "a":
            self._write_array(sig, value, depth + 1)
        elif c == "(":
            if depth + 1 > MAX_DEPTH:
                raise DbusEncodeError("values nested too deeply")
            fields = split_signature(sig[1:-1])
            if not isinstance(value, (tuple, list)) or len(value) != len(fields):
                raise DbusEncodeError(f"`{sig}` needs a sequence of {len(fields)} values, "
                                      f"got {value!r}")
            self.pad(8)
            for t, v in zip(fields, value):
                self.write(t, v, depth + 1)
        else:
            raise DbusEncodeError(f"cannot encode type `{sig}`")

    def _write_array(self, sig: str, value: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise DbusEncodeError("values nested too deeply")
        elem = sig[1:]
        self.pad(4)
        len_at = len(self.buf)
        self.buf += bytes(4)
        self.pad(ALIGN[elem[0]])
        start = len(self.buf)
        if elem[0] == "{":
            key_t = elem[1]
            val_t = elem[2:-1]
            items = value.items() if isinstance(value, dict) else value
            for item in items:
                if not isinstance(item, (tuple, list)) or len(item) != 2:
                    raise DbusEncodeError(f"`{sig}` needs key/value pairs, got {item!r}")
                self.pad(8)
                self.write(key_t, item[0], depth + 1)
                self.write(val_t, item[1], depth + 1)
        elif elem == "y" and isinstance(value, (bytes, bytearray, memoryview)):
            self.buf += value
        else:
            if isinstance(value, (str, bytes, dict)):
                raise DbusEncodeError(f"`{sig}` needs a sequence, got {value!r}")
            for item in value:
                self.write(elem, item, depth)
        length = len(self.buf) - start
        if length > MAX_ARRAY:
            raise DbusEncodeError(f"array longer than {MAX_ARRAY} bytes")
        _STRUCTS[(self.endian, "u")].pack_into(self.buf, len_at, length)


def _text(code: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise DbusEncodeError(f"`{code}` needs a string, got {value!r}")
    try:
        data = value.encode()
    except UnicodeEncodeError:
        raise DbusEncodeError(f"string is not valid UTF-8: {value!r}") from None
    if b"\0" in data:
        raise DbusEncodeError(f"string contains a NUL byte: {value!r}")
    if code == "o" and not valid_object_path(value):
        raise DbusEncodeError(f"invalid object path {value!r}")
    if code == "g":
        _encode_sig(value)
    return data


def _encode_sig(sig: str, single: bool = False) -> str:
    """Validate a signature we are about to write."""
    try:
        return single_type(sig) if single else (split_signature(sig) and sig)
    except DbusDecodeError as e:
        raise DbusEncodeError(e.msg) from None


def marshal(sig: str, values: Any, little: bool = True) -> bytes:
    """Serialise ``values`` (one per complete type of ``sig``) from an 8-aligned offset."""
    w = Writer(little)
    w.write_all(sig, values)
    return bytes(w.buf)


# ---------------------------------------------------------------------------
# decoding


class Reader:
    """Reads values from ``buf[pos:end]``; positions are offsets from an 8-aligned start."""

    __slots__ = ("buf", "end", "endian", "pos")

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None,
                 little: bool = True) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end
        self.endian = "<" if little else ">"

    def _need(self, n: int) -> None:
        if self.pos + n > self.end:
            raise DbusDecodeError("message is truncated")

    def align(self, align: int) -> None:
        new = (self.pos + align - 1) & ~(align - 1)
        if new > self.end:
            raise DbusDecodeError("message is truncated")
        if new != self.pos:
            if any(self.buf[self.pos:new]):
                raise DbusDecodeError("non-zero padding byte")
            self.pos = new

    def _fixed(self, c: str, size: int) -> Any:
        self.align(size)
        self._need(size)
        (v,) = _STRUCTS[(self.endian, c)].unpack_from(self.buf, self.pos)
        self.pos += size
        return v

    def read_all(self, sig: str) -> tuple:
        return tuple(self.read(t, 0) for t in split_signature(sig))

    def read(self, sig: str, depth: int) -> Any:
        c = sig[0]
        if c == "y":
            self._need(1)
            v = self.buf[self.pos]
            self.pos += 1
            return v
        if c in "nq":
            return self._fixed(c, 2)
        if c in "iuh":
            return self._fixed(c, 4)
        if c in "xtd":
            return self._fixed(c, 8)
        if c == "b":
            v = self._fixed("b", 4)
            if v > 1:
                raise DbusDecodeError(f"invalid boolean value {v}")
            return v == 1
        if c in "so":
            n = self._fixed("u", 4)
            text = self._string(n)
            if c == "o" and not valid_object_path(text):
                raise DbusDecodeError(f"invalid object path {text!r}")
            return text
        if c == "g":
            return self._signature()
        if c == "v":
            if depth + 1 > MAX_DEPTH:
                raise DbusDecodeError("values nested too deeply")
            inner = single_type(self._signature())
            return Variant(inner, self.read(inner, depth + 1))
        if c == "a":
            return self._array(sig, depth + 1)
        if c == "(":
            if depth + 1 > MAX_DEPTH:
                raise DbusDecodeError("values nested too deeply")
            self.align(8)
            return tuple(self.read(t, depth + 1) for t in split_signature(sig[1:-1]))
        raise DbusDecodeError(f"cannot decode type `{sig}`")

    def _string(self, n: int) -> str:
        self._need(n + 1)
        start = self.pos
        raw = self.buf[start:start + n]
        if self.buf[start + n] != 0:
            raise DbusDecodeError("string is not NUL-terminated")
        if b"\0" in raw:
            raise DbusDecodeError("string contains a NUL byte")
        try:
            text = bytes(raw).decode()
        except UnicodeDecodeError:
            raise DbusDecodeError("string is not valid UTF-8") from None
        self.pos = start + n + 1
        return text

    def _signature(self) -> str:
        self._need(1)
        n = self.buf[self.pos]
        self.pos += 1
        text = self._string(n)
        split_signature(text)
        return text

    def _array(self, sig: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise DbusDecodeError("values nested too deeply")
        n = self._fixed("u", 4)
        if n > MAX_ARRAY:
            raise DbusDecodeError(f"array longer than {MAX_ARRAY} bytes")
        elem = sig[1:]
        self.align(ALIGN[elem[0]])
        self._need(n)
        end = self.pos + n
        saved_end = self.end
        self.end = end
        try:
            if elem == "y":
                data = bytes(self.buf[self.pos:end])
                self.pos = end
                return data
            if elem[0] == "{":
                key_t = elem[1]
                val_t = elem[2:-1]
                out: dict = {}
                while self.pos < end:
                    self.align(8)
                    k = self.read(key_t, depth + 1)
                    out[k] = self.read(val_t, depth + 1)
                return out
            items = []
            while self.pos < end:
                items.append(self.read(elem, depth))
            return items
        finally:
            self.end = saved_end


def unmarshal(sig: str, data: bytes, little: bool = True) -> tuple:
    """Decode a complete body: all of ``data``, nothing left over."""
    r = Reader(data, 0, len(data), little)
    values = r.read_all(sig)
    if r.pos != len(data):
        raise DbusDecodeError("excess data after the last value")
    return values
