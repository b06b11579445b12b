"""Netlink attributes (``struct nlattr``), declared as data.

A :class:`Policy` maps attribute ids to ``(name, codec)`` pairs, named after the
kernel headers.  Encoding takes an ordered sequence of ``(name, value)`` pairs
(the order is part of the wire format we reproduce); decoding gives an
:class:`Attrs` mapping.  Codecs are small objects with ``encode``/``decode``;
:class:`Nested` and :class:`Union` build trees from other policies.  Nothing
here does I/O.
"""

from __future__ import annotations

import struct

from ..errors import NetavarkError
from ..ip import IpAddr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF
NLA_HDR = struct.Struct("=HH")


class NetlinkDecodeError(NetavarkError):
    """Bytes from the kernel (or a peer) that do not fit the declared layout."""

    def __str__(self) -> str:
        return f"failed to deserialize netlink message: {self.msg}"


def align4(n: int) -> int:
    return (n + 3) & ~3


# ---------------------------------------------------------------------------
# scalar codecs


class Codec:
    """Base codec: raw bytes."""

    __slots__ = ()
    nested = False

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, data: bytes) -> Any:
        return bytes(data)


class _Int(Codec):
    __slots__ = ("name", "st")

    def __init__(self, fmt: str, name: str) -> None:
        self.st = struct.Struct(fmt)
        self.name = name

    def encode(self, value: int) -> bytes:
        try:
            return self.st.pack(value)
        except struct.error as e:
            raise ValueError(f"{self.name}: {e}") from None

    def decode(self, data: bytes) -> int:
        if len(data) != self.st.size:
            raise NetlinkDecodeError(f"{self.name} attribute of {len(data)} bytes")
        return self.st.unpack(data)[0]


class _Flag(Codec):
    __slots__ = ()

    def encode(self, value: Any) -> bytes:
        return b""

    def decode(self, data: bytes) -> bool:
        return True


class _StrZ(Codec):
    """NUL-terminated string on the wire; decoding tolerates a missing NUL."""

    __slots__ = ()

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8", "surrogateescape") + b"\0"

    def decode(self, data: bytes) -> str:
        data = bytes(data)
        end = data.find(b"\0")
        if end >= 0:
            data = data[:end]
        return data.decode("utf-8", "surrogateescape")


class _Str(_StrZ):
    """String without terminator (decoding still strips trailing NULs)."""

    __slots__ = ()

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8", "surrogateescape")


class _HwAddr(Codec):
    """Link-layer address as ``aa:bb:cc:dd:ee:ff`` text."""

    __slots__ = ()

    def encode(self, value: str | bytes) -> bytes:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        return bytes(int(p, 16) for p in value.split(":"))

    def decode(self, data: bytes) -> str:
        return ":".join(f"{b:02x}" for b in data)


class _Ip(Codec):
    __slots__ = ()

    def encode(self, value: IpAddr) -> bytes:
        return value.packed

    def decode(self, data: bytes) -> IpAddr:
        if len(data) not in (4, 16):
            raise NetlinkDecodeError(f"address attribute of {len(data)} bytes")
        return IpAddr.from_bytes(bytes(data))


BINARY = Codec()
FLAG = _Flag()
U8 = _Int("=B", "u8")
U16 = _Int("=H", "u16")
U32 = _Int("=I", "u32")
U64 = _Int("=Q", "u64")
S32 = _Int("=i", "s32")
BE16 = _Int(">H", "be16")
BE32 = _Int(">I", "be32")
BE64 = _Int(">Q", "be64")
STRZ = _StrZ()
STR = _Str()
HWADDR = _HwAddr()
IPADDR = _Ip()


# ---------------------------------------------------------------------------
# policies and nesting


class Attrs(dict):
    """Decoded attributes: name → value.  Unknown ids are kept as int → bytes."""

    __slots__ = ()


class Policy:
    """The attribute table of one attribute space (e.g. ``IFLA_*``).

    ``nested_flag`` sets ``NLA_F_NESTED`` on nested attributes when encoding
    (nf_tables wants it; rtnetlink requests from netavark do not carry it).
    ``multi`` names attributes that may repeat; they decode to lists.
    """

    __slots__ = ("by_id", "by_name", "multi", "name", "nested_flag")

    def __init__(self, name: str, table: dict[int, tuple[str, Codec]], *,
                 nested_flag: bool = False, multi: Iterable[str] = ()) -> None:
        self.name = name
        self.by_id = table
        self.by_name = {n: (i, c) for i, (n, c) in table.items()}
        self.nested_flag = nested_flag
        self.multi = frozenset(multi)

    # -- encode -------------------------------------------------------
    def encode(self, items: Iterable[tuple[str, Any]]) -> bytes:
        items = list(items)
        parts: list[bytes] = []
        siblings = None
        for name, value in items:
            if value is None:
                continue
            try:
                atype, codec = self.by_name[name]
            except KeyError:
                raise ValueError(f"{self.name}: unknown attribute {name}") from None
            if isinstance(codec, Union):
                if siblings is None:
                    siblings = dict(items)
                codec = codec.select(siblings)
            payload = codec.encode(value)
            if codec.nested and self.nested_flag:
                atype |= NLA_F_NESTED
            parts.append(pack_attr(atype, payload))
        return b"".join(parts)

    # -- decode -------------------------------------------------------
    def decode(self, data: bytes | memoryview) -> Attrs:
        out = Attrs()
        deferred: list[tuple[str, Union, bytes]] = []
        multi = self.multi
        for atype, payload in iter_attrs(data):
            entry = self.by_id.get(atype)
            if entry is None:
                out[atype] = bytes(payload)
                continue
            name, codec = entry
            if isinstance(codec, Union):
                deferred.append((name, codec, bytes(payload)))
                continue
            value = codec.decode(payload)
            if name in multi:
                out.setdefault(name, []).append(value)
            else:
                out[name] = value
        for name, codec, payload in deferred:
            out[name] = codec.select(out).decode(payload)
        return out


class Nested(Codec):
    """A nested attribute whose payload is attributes of ``policy``."""

    __slots__ = ("policy",)
    nested = True

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def encode(self, value: Iterable[tuple[str, Any]]) -> bytes:
        return self.policy.encode(value)

    def decode(self, data: bytes) -> Attrs:
        return self.policy.decode(data)


class NestedList(Codec):
    """A nested attribute holding repeated elements of one type (e.g. NFTA_LIST_ELEM)."""

    __slots__ = ("atype", "elem")
    nested = True

    def __init__(self, atype: int, elem: Codec, *, nested_flag: bool = True) -> None:
        self.atype = atype | (NLA_F_NESTED if nested_flag and elem.nested else 0)
        self.elem = elem

    def encode(self, value: Iterable[Any]) -> bytes:
        return b"".join(pack_attr(self.atype, self.elem.encode(v)) for v in value)

    def decode(self, data: bytes) -> list[Any]:
        want = self.atype & NLA_TYPE_MASK
        return [self.elem.decode(p) for t, p in iter_attrs(data) if t == want]


class Union(Codec):
    """Payload whose layout depends on a sibling attribute (e.g. IFLA_INFO_KIND)."""

    __slots__ = ("choices", "default", "key")
    nested = True

    def __init__(self, key: str, choices: dict[Any, Codec], default: Codec = BINARY) -> None:
        self.key = key
        self.choices = choices
        self.default = default

    def select(self, siblings: dict[Any, Any]) -> Codec:
        return self.choices.get(siblings.get(self.key), self.default)


class Struct(Codec):
    """A fixed C struct with named fields, optionally followed by attributes."""

    __slots__ = ("fields", "policy", "st")
    nested = True

    def __init__(self, fmt: str, fields: tuple[str, ...], policy: Policy | None = None) -> None:
        self.st = struct.Struct(fmt)
        self.fields = fields
        self.policy = policy

    def encode(self, value: tuple[dict[str, Any], Iterable[tuple[str, Any]]] | dict) -> bytes:
        if isinstance(value, dict):
            header, attrs = value, ()
        else:
            header, attrs = value
        head = self.st.pack(*(header.get(f, 0) for f in self.fields))
        if self.policy is None:
            return head
        return head + self.policy.encode(attrs)

    def decode(self, data: bytes) -> tuple[dict[str, Any], Attrs]:
        size = self.st.size
        if len(data) < size:
            raise NetlinkDecodeError(f"struct of {len(data)} bytes, want {size}")
        header = dict(zip(self.fields, self.st.unpack_from(data)))
        attrs = self.policy.decode(memoryview(data)[size:]) if self.policy else Attrs()
        return header, attrs


# ---------------------------------------------------------------------------
# raw TLV framing


def pack_attr(atype: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    if length > 0xFFFF:
        raise ValueError("netlink attribute too long")
    return NLA_HDR.pack(length, atype) + payload + b"\0" * (align4(length) - length)


def iter_attrs(data: bytes | memoryview) -> Iterable[tuple[int, memoryview]]:
    """Yield ``(type without flags, payload)``; raise on malformed framing."""
    mv = memoryview(data)
    n = len(mv)
    off = 0
    unpack = NLA_HDR.unpack_from
    while off + 4 <= n:
        length, atype = unpack(mv, off)
        if length < 4 or off + length > n:
            raise NetlinkDecodeError(
                f"attribute at offset {off} has bad length {length} ({n - off} bytes left)")
        yield atype & NLA_TYPE_MASK, mv[off + 4:off + length]
        off += align4(length)
    if off < n and any(mv[off:]):
        raise NetlinkDecodeError(f"{n - off} trailing bytes after attributes")
