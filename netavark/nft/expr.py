"""nf_tables expressions: one small class per kernel expression.

Each class lists its fields (constructor and equality order) and the order in
which ``libnftnl`` puts the attributes on the wire, so that what we encode is
byte for byte what ``nft`` sends.  ``decode`` accepts the attributes in any
order (the kernel dumps some extra ones, e.g. ``NFTA_NAT_REG_ADDR_MAX``); every
field is optional so that ``encode(decode(x)) == x`` for any well-formed
input.  Register data (``NFTA_DATA_VALUE``) is kept as raw bytes.
"""

from __future__ import annotations

from ..netlink.attrs import (
    BE32,
    BE64,
    BINARY,
    NLA_F_NESTED,
    STRZ,
    Attrs,
    Nested,
    NetlinkDecodeError,
    pack_attr,
)
from . import policies as P

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..netlink.attrs import Policy

_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER
_NFTA_EXPR_NAME = 1
_NFTA_EXPR_DATA = 2


def _s32(v: int | None) -> int | None:
    """BE32 attributes that the kernel treats as signed (verdict codes, priorities)."""
    if v is None:
        return None
    return v - (1 << 32) if v >= 1 << 31 else v


class Verdict:
    """``NFTA_DATA_VERDICT``: a verdict code and, for jump/goto, the chain."""

    __slots__ = ("chain", "chain_id", "code")

    def __init__(self, code: int, chain: str | None = None, chain_id: int | None = None) -> None:
        self.code = code
        self.chain = chain
        self.chain_id = chain_id

    def attrs(self) -> list[tuple[str, Any]]:
        return [("code", self.code & 0xFFFFFFFF), ("chain", self.chain),
                ("chain_id", self.chain_id)]

    @classmethod
    def from_attrs(cls, a: dict) -> Verdict:
        code = _s32(a.get("code"))
        if code is None:
            raise NetlinkDecodeError("verdict without NFTA_VERDICT_CODE")
        return cls(code, a.get("chain"), a.get("chain_id"))

    def _key(self) -> tuple:
        return (self.code, self.chain, self.chain_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verdict) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Verdict({self.code}, {self.chain!r})"


class Expr:
    """Base class: generic encode/decode driven by ``fields``/``order``."""

    __slots__ = ("_canon", "_elem", "_enc")
    kind = ""
    policy: Policy
    fields: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    data_fields: frozenset[str] = frozenset()

    def ident(self) -> tuple:
        """Value identity: kind and all fields."""
        return (self.kind, *(getattr(self, f) for f in self.fields))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self.ident() == other.ident()

    def __hash__(self) -> int:
        return hash(self.ident())

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields
                         if getattr(self, f) is not None)
        return f"{type(self).__name__}({args})"

    # -- wire ---------------------------------------------------------
    def data_attrs(self) -> list[tuple[str, Any]]:
        out = []
        for name in self.order:
            v = getattr(self, name)
            if v is None:
                continue
            if name in self.data_fields:
                v = (("value", v),)
            out.append((name, v))
        return out

    def encode_data(self) -> bytes:
        return self.policy.encode(self.data_attrs())

    def encode(self) -> bytes:
        """The payload of one ``NFTA_LIST_ELEM`` (name + data), cached."""
        try:
            return self._enc
        except AttributeError:
            pass
        enc = (pack_attr(_NFTA_EXPR_NAME, self.kind.encode() + b"\0")
               + pack_attr(_NFTA_EXPR_DATA | NLA_F_NESTED, self.encode_data()))
        self._enc = enc
        return enc

    def encode_elem(self) -> bytes:
        """The whole ``NFTA_LIST_ELEM`` attribute, cached."""
        try:
            return self._elem
        except AttributeError:
            pass
        elem = pack_attr(P.NFTA_LIST_ELEM | NLA_F_NESTED, self.encode())
        self._elem = elem
        return elem

    @classmethod
    def decode_data(cls, data: bytes) -> Expr:
        a = fast_decode(cls.policy, data)
        kw = {}
        for f in cls.fields:
            v = a.get(f)
            if v is not None and f in cls.data_fields:
                v = _data_value(v, f)
            kw[f] = v
        return cls(**kw)  # type: ignore[call-arg]


def _data_value(a: dict, what: str) -> bytes:
    v = a.get("value")
    if v is None:
        raise NetlinkDecodeError(f"{what} without NFTA_DATA_VALUE")
    return v


class Payload(Expr):
    """``[ payload load <len>b @ <base> + <offset> => reg <dreg> ]`` (or a write with sreg)."""

    __slots__ = ("base", "csum_flags", "csum_offset", "csum_type", "dreg", "len", "offset", "sreg")
    kind = "payload"
    policy = P.PAYLOAD
    fields = ("dreg", "base", "offset", "len", "sreg", "csum_type", "csum_offset", "csum_flags")
    order = fields

    def __init__(self, dreg: int | None = None, base: int | None = None,
                 offset: int | None = None, len: int | None = None, sreg: int | None = None,
                 csum_type: int | None = None, csum_offset: int | None = None,
                 csum_flags: int | None = None) -> None:
        self.dreg = dreg
        self.base = base
        self.offset = offset
        self.len = len
        self.sreg = sreg
        self.csum_type = csum_type
        self.csum_offset = csum_offset
        self.csum_flags = csum_flags


class Meta(Expr):
    """``[ meta load <key> => reg ]`` or ``[ meta set <key> with reg ]``."""

    __slots__ = ("dreg", "key", "sreg")
    kind = "meta"
    policy = P.META
    fields = ("key", "dreg", "sreg")
    order = fields

    def __init__(self, key: int | None = None, dreg: int | None = None,
                 sreg: int | None = None) -> None:
        self.key = key
        self.dreg = dreg
        self.sreg = sreg


class Ct(Expr):
    """``[ ct load <key> => reg ]`` or ``[ ct set <key> with reg ]``."""

    __slots__ = ("direction", "dreg", "key", "sreg")
    kind = "ct"
    policy = P.CT
    fields = ("key", "dreg", "direction", "sreg")
    order = fields

    def __init__(self, key: int | None = None, dreg: int | None = None,
                 direction: bytes | None = None, sreg: int | None = None) -> None:
        self.key = key
        self.dreg = dreg
        self.direction = direction
        self.sreg = sreg


class Cmp(Expr):
    """``[ cmp <op> reg <sreg> <data> ]``."""

    __slots__ = ("data", "op", "sreg")
    kind = "cmp"
    policy = P.CMP
    fields = ("sreg", "op", "data")
    order = fields
    data_fields = frozenset({"data"})

    def __init__(self, sreg: int | None = None, op: int | None = None,
                 data: bytes | None = None) -> None:
        self.sreg = sreg
        self.op = op
        self.data = data


class Range(Expr):
    """``[ range <op> reg <sreg> <from> <to> ]`` (newer nft for port ranges)."""

    __slots__ = ("from_data", "op", "sreg", "to_data")
    kind = "range"
    policy = P.RANGE
    fields = ("sreg", "op", "from_data", "to_data")
    order = fields
    data_fields = frozenset({"from_data", "to_data"})

    def __init__(self, sreg: int | None = None, op: int | None = None,
                 from_data: bytes | None = None, to_data: bytes | None = None) -> None:
        self.sreg = sreg
        self.op = op
        self.from_data = from_data
        self.to_data = to_data


class Bitwise(Expr):
    """``[ bitwise reg <dreg> = ( reg <sreg> & <mask> ) ^ <xor> ]``."""

    __slots__ = ("data", "dreg", "len", "mask", "op", "sreg", "xor")
    kind = "bitwise"
    policy = P.BITWISE
    fields = ("sreg", "dreg", "op", "len", "mask", "xor", "data")
    order = fields
    data_fields = frozenset({"mask", "xor", "data"})

    def __init__(self, sreg: int | None = None, dreg: int | None = None, op: int | None = None,
                 len: int | None = None, mask: bytes | None = None, xor: bytes | None = None,
                 data: bytes | None = None) -> None:
        self.sreg = sreg
        self.dreg = dreg
        self.op = op
        self.len = len
        self.mask = mask
        self.xor = xor
        self.data = data


class Immediate(Expr):
    """``[ immediate reg <dreg> <data|verdict> ]``."""

    __slots__ = ("data", "dreg", "verdict")
    kind = "immediate"
    policy = P.IMMEDIATE
    fields = ("dreg", "data", "verdict")

    def __init__(self, dreg: int | None = None, data: bytes | None = None,
                 verdict: Verdict | None = None) -> None:
        self.dreg = dreg
        self.data = data
        self.verdict = verdict

    def data_attrs(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("dreg", self.dreg)]
        if self.verdict is not None:
            out.append(("data", (("verdict", self.verdict.attrs()),)))
        elif self.data is not None:
            out.append(("data", (("value", self.data),)))
        return out

    @classmethod
    def decode_data(cls, data: bytes) -> Immediate:
        a = fast_decode(cls.policy, data)
        d = a.get("data")
        value = verdict = None
        if d is not None:
            if "verdict" in d:
                verdict = Verdict.from_attrs(d["verdict"])
            else:
                value = _data_value(d, "immediate")
        return cls(a.get("dreg"), value, verdict)


class Lookup(Expr):
    """``[ lookup reg <sreg> set <name> ]`` (set referenced by name and/or batch id)."""

    __slots__ = ("dreg", "flags", "set", "set_id", "sreg")
    kind = "lookup"
    policy = P.LOOKUP
    fields = ("sreg", "dreg", "set", "set_id", "flags")
    order = fields

    def __init__(self, sreg: int | None = None, dreg: int | None = None, set: str | None = None,
                 set_id: int | None = None, flags: int | None = None) -> None:
        self.sreg = sreg
        self.dreg = dreg
        self.set = set
        self.set_id = set_id
        self.flags = flags


class Fib(Expr):
    """``[ fib <flags> <result> => reg <dreg> ]``."""

    __slots__ = ("dreg", "flags", "result")
    kind = "fib"
    policy = P.FIB
    fields = ("dreg", "result", "flags")
    order = ("flags", "result", "dreg")

    def __init__(self, dreg: int | None = None, result: int | None = None,
                 flags: int | None = None) -> None:
        self.dreg = dreg
        self.result = result
        self.flags = flags


class Nat(Expr):
    """``[ nat snat|dnat <family> addr_min reg .. proto_min reg .. flags .. ]``."""

    __slots__ = ("family", "flags", "reg_addr_max", "reg_addr_min", "reg_proto_max",
                 "reg_proto_min", "type")
    kind = "nat"
    policy = P.NAT
    fields = ("type", "family", "reg_addr_min", "reg_addr_max", "reg_proto_min",
              "reg_proto_max", "flags")
    order = fields

    def __init__(self, type: int | None = None, family: int | None = None,
                 reg_addr_min: int | None = None, reg_addr_max: int | None = None,
                 reg_proto_min: int | None = None, reg_proto_max: int | None = None,
                 flags: int | None = None) -> None:
        self.type = type
        self.family = family
        self.reg_addr_min = reg_addr_min
        self.reg_addr_max = reg_addr_max
        self.reg_proto_min = reg_proto_min
        self.reg_proto_max = reg_proto_max
        self.flags = flags


class Masq(Expr):
    """``[ masq ]`` (optionally with flags / port registers)."""

    __slots__ = ("flags", "reg_proto_max", "reg_proto_min")
    kind = "masq"
    policy = P.MASQ
    fields = ("flags", "reg_proto_min", "reg_proto_max")
    order = fields

    def __init__(self, flags: int | None = None, reg_proto_min: int | None = None,
                 reg_proto_max: int | None = None) -> None:
        self.flags = flags
        self.reg_proto_min = reg_proto_min
        self.reg_proto_max = reg_proto_max


class Counter(Expr):
    """``[ counter pkts N bytes M ]``."""

    __slots__ = ("bytes", "packets")
    kind = "counter"
    policy = P.COUNTER
    fields = ("bytes", "packets")
    order = fields

    def __init__(self, bytes: int | None = None, packets: int | None = None) -> None:
        self.bytes = bytes
        self.packets = packets


class Unknown(Expr):
    """Any other expression, kept as raw attribute bytes so it re-encodes unchanged."""

    __slots__ = ("kind_", "raw")
    fields = ("kind_", "raw")

    def __init__(self, kind: str, raw: bytes = b"") -> None:
        self.kind_ = kind
        self.raw = raw

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.kind_

    def ident(self) -> tuple:
        return ("?", self.kind_, self.raw)

    def encode_data(self) -> bytes:
        return self.raw


EXPRESSIONS: dict[str, type[Expr]] = {
    c.kind: c for c in (Payload, Meta, Ct, Cmp, Range, Bitwise, Immediate, Lookup, Fib, Nat,
                        Masq, Counter)
}


_KINDS: dict[int, dict[int, tuple[str, Any]]] = {}


def fast_decode(policy: Policy, data: bytes) -> Attrs:
    """``policy.decode(data)`` for the flat tables of expressions (integers,
    strings, raw bytes, nested ``NFTA_DATA``), without the generic machinery:
    rule dumps decode many thousands of these."""
    kinds = _KINDS.get(id(policy))
    if kinds is None:
        kinds = {}
        for atype, (name, codec) in policy.by_id.items():
            kind: Any = ("nested", codec.policy) if isinstance(codec, Nested) else \
                {id(BE32): "be32", id(BE64): "be64", id(STRZ): "strz"}.get(id(codec), "raw")
            if kind == "raw" and codec is not BINARY:
                kind = ("codec", codec)
            kinds[atype] = (name, kind)
        _KINDS[id(policy)] = kinds
    out = Attrs()
    for atype, p in split_attrs(data):
        entry = kinds.get(atype)
        if entry is None:
            out[atype] = p
            continue
        name, kind = entry
        if kind == "be32":
            if len(p) != 4:
                raise NetlinkDecodeError(f"be32 attribute of {len(p)} bytes")
            out[name] = int.from_bytes(p, "big")
        elif kind == "raw":
            out[name] = p
        elif kind == "strz":
            end = p.find(b"\0")
            out[name] = (p if end < 0 else p[:end]).decode("utf-8", "surrogateescape")
        elif kind == "be64":
            if len(p) != 8:
                raise NetlinkDecodeError(f"be64 attribute of {len(p)} bytes")
            out[name] = int.from_bytes(p, "big")
        elif kind[0] == "nested":
            out[name] = fast_decode(kind[1], p)
        else:
            out[name] = kind[1].decode(p)
    return out


def split_attrs(data: bytes) -> list[tuple[int, bytes]]:
    """``(type without flags, payload)`` pairs of a flat attribute stream.

    The same checks as :func:`netlink.attrs.iter_attrs`, as a plain loop over
    bytes: dumps of thousands of rules go through here.
    """
    out = []
    n = len(data)
    off = 0
    while off + 4 <= n:
        length = data[off] | data[off + 1] << 8
        if length < 4 or off + length > n:
            raise NetlinkDecodeError(
                f"attribute at offset {off} has bad length {length} ({n - off} bytes left)")
        out.append(((data[off + 2] | data[off + 3] << 8) & _TYPE_MASK, data[off + 4:off + length]))
        off += (length + 3) & ~3
    if off < n and any(data[off:]):
        raise NetlinkDecodeError(f"{n - off} trailing bytes after attributes")
    return out


def decode_expr(elem: bytes) -> Expr:
    """One ``NFTA_LIST_ELEM`` payload → expression."""
    name = None
    data = b""
    for atype, payload in split_attrs(bytes(elem)):
        if atype == _NFTA_EXPR_NAME:
            end = payload.find(b"\0")
            name = (payload if end < 0 else payload[:end]).decode("utf-8", "surrogateescape")
        elif atype == _NFTA_EXPR_DATA:
            data = payload
    if name is None:
        raise NetlinkDecodeError("expression without NFTA_EXPR_NAME")
    cls = EXPRESSIONS.get(name)
    if cls is None:
        return Unknown(name, data)
    return cls.decode_data(data)


def decode_list(data: bytes, cache: dict[bytes, Expr] | None = None) -> list[Expr]:
    """``NFTA_RULE_EXPRESSIONS`` payload → expressions.

    ``cache`` maps element bytes to already decoded expressions: rules of one
    chain share most of their expressions, so a dump decodes each only once.
    """
    out = []
    for atype, b in split_attrs(bytes(data)):
        if atype != P.NFTA_LIST_ELEM:
            continue
        if cache is None:
            out.append(decode_expr(b))
            continue
        e = cache.get(b)
        if e is None:
            e = decode_expr(b)
            cache[b] = e
        out.append(e)
    return out


def encode_list(exprs: list[Expr]) -> bytes:
    """Expressions → ``NFTA_RULE_EXPRESSIONS`` payload."""
    return b"".join([e.encode_elem() for e in exprs])
