"""nf_tables objects (tables, chains, rules, sets, set elements) as message payloads.

A payload is ``struct nfgenmsg`` followed by attributes.  ``encode`` gives the
attributes in the order ``nft`` sends them; ``decode`` reads what the kernel
dumps (or what we sent) back into the same classes.
"""

from __future__ import annotations

import struct

from ..netlink.attrs import NLA_F_NESTED, NetlinkDecodeError, iter_attrs, pack_attr
from . import policies as P
from .consts import NFPROTO_INET
from .expr import Expr, decode_list, encode_list, split_attrs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NFGENMSG = struct.Struct(">BBH")
_NFTA_RULE_EXPRESSIONS = 4
_NFTA_SET_ELEM_LIST_ELEMENTS = 3  # family, version, res_id (big endian)


def nfgenmsg(family: int, res_id: int = 0) -> bytes:
    return NFGENMSG.pack(family, 0, res_id)


def split_nfgenmsg(payload: bytes) -> tuple[int, memoryview]:
    """(family, attribute bytes) of a message payload."""
    if len(payload) < NFGENMSG.size:
        raise NetlinkDecodeError(f"nf_tables message of {len(payload)} bytes")
    family, _version, _res = NFGENMSG.unpack_from(payload)
    return family, memoryview(payload)[NFGENMSG.size:]


class _Obj:
    """Value semantics over ``fields`` (for tests and comparisons)."""

    __slots__ = ()
    fields: tuple[str, ...] = ()

    def _ident(self) -> tuple:
        return tuple(getattr(self, f) for f in self.fields)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._ident() == other._ident()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._ident())

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields
                         if getattr(self, f) is not None)
        return f"{type(self).__name__}({args})"


class Table(_Obj):
    __slots__ = ("family", "flags", "handle", "name", "use")
    fields = ("family", "name", "flags", "handle", "use")

    def __init__(self, name: str, family: int = NFPROTO_INET, *, flags: int | None = 0,
                 handle: int | None = None, use: int | None = None) -> None:
        self.family = family
        self.name = name
        self.flags = flags
        self.handle = handle
        self.use = use

    def encode(self) -> bytes:
        return nfgenmsg(self.family) + P.TABLE.encode(
            [("name", self.name), ("handle", self.handle), ("flags", self.flags)])

    def encode_key(self) -> bytes:
        """Just enough to name the table (get/delete)."""
        return nfgenmsg(self.family) + P.TABLE.encode([("name", self.name)])

    @classmethod
    def decode(cls, payload: bytes) -> Table:
        family, data = split_nfgenmsg(payload)
        a = P.TABLE.decode(data)
        return cls(_req(a, "name", "table"), family, flags=a.get("flags"),
                   handle=a.get("handle"), use=a.get("use"))


class Hook(_Obj):
    __slots__ = ("hooknum", "priority")
    fields = ("hooknum", "priority")

    def __init__(self, hooknum: int, priority: int) -> None:
        self.hooknum = hooknum
        self.priority = priority


class Chain(_Obj):
    """A chain; base chains have ``hook``, ``type`` and ``policy``."""

    __slots__ = ("family", "flags", "handle", "hook", "name", "policy", "table", "type", "use")
    fields = ("family", "table", "name", "handle", "hook", "policy", "type", "flags", "use")

    def __init__(self, table: str, name: str | None, family: int = NFPROTO_INET, *,
                 handle: int | None = None, hook: Hook | None = None, policy: int | None = None,
                 type: str | None = None, flags: int | None = None,
                 use: int | None = None) -> None:
        self.family = family
        self.table = table
        self.name = name
        self.handle = handle
        self.hook = hook
        self.policy = policy
        self.type = type
        self.flags = flags
        self.use = use

    def encode(self) -> bytes:
        hook = None
        if self.hook is not None:
            hook = (("hooknum", self.hook.hooknum),
                    ("priority", self.hook.priority & 0xFFFFFFFF))
        return nfgenmsg(self.family) + P.CHAIN.encode([
            ("table", self.table), ("handle", self.handle), ("name", self.name),
            ("type", self.type), ("policy", self.policy), ("hook", hook),
            ("flags", self.flags)])

    def encode_key(self) -> bytes:
        """Table and name (or handle): what ``nft`` sends to get or delete a chain."""
        return nfgenmsg(self.family) + P.CHAIN.encode(
            [("table", self.table), ("handle", self.handle if self.name is None else None),
             ("name", self.name)])

    @classmethod
    def decode(cls, payload: bytes) -> Chain:
        family, data = split_nfgenmsg(payload)
        a = P.CHAIN.decode(data)
        hook = None
        h = a.get("hook")
        if h is not None and "hooknum" in h:
            prio = h.get("priority", 0)
            hook = Hook(h["hooknum"], prio - (1 << 32) if prio >= 1 << 31 else prio)
        return cls(_req(a, "table", "chain"), a.get("name"), family, handle=a.get("handle"),
                   hook=hook, policy=a.get("policy"), type=a.get("type"),
                   flags=a.get("flags"), use=a.get("use"))


class Rule(_Obj):
    """A rule: table, chain, expressions; ``handle`` once it exists in the kernel.

    Decoded rules keep the raw ``NFTA_RULE_EXPRESSIONS`` bytes (``raw``) and
    decode the expressions only when asked: most rules a dump returns are
    never looked at closely.
    """

    __slots__ = ("_exprs", "chain", "family", "handle", "position", "raw", "table", "userdata")
    fields = ("family", "table", "chain", "handle", "position", "exprs", "userdata")

    def __init__(self, table: str, chain: str, exprs: list[Expr] | None = None,
                 family: int = NFPROTO_INET, *, handle: int | None = None,
                 position: int | None = None, userdata: bytes | None = None,
                 raw: bytes | None = None) -> None:
        self.family = family
        self.table = table
        self.chain = chain
        self.handle = handle
        self.position = position
        self.userdata = userdata
        self._exprs = exprs
        self.raw = raw

    @property
    def exprs(self) -> list[Expr]:
        if self._exprs is None:
            self._exprs = decode_list(self.raw or b"")
        return self._exprs

    def decode_exprs(self, cache: dict[bytes, Expr] | None) -> list[Expr]:
        """Expressions, sharing already decoded ones through ``cache``."""
        if self._exprs is None:
            self._exprs = decode_list(self.raw or b"", cache)
        return self._exprs

    def _ident(self) -> tuple:
        return (self.family, self.table, self.chain, self.handle, self.position,
                tuple(self.exprs), self.userdata)

    def encode(self) -> bytes:
        return nfgenmsg(self.family) + P.RULE.encode([
            ("table", self.table), ("chain", self.chain), ("handle", self.handle),
            ("position", self.position), ("userdata", self.userdata),
        ]) + self._encode_exprs()

    def _encode_exprs(self) -> bytes:
        if self.raw is not None:  # decoded: re-encode exactly what was received
            body = self.raw
        elif self._exprs:
            body = encode_list(self._exprs)
        else:
            return b""
        return pack_attr(_NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, body)

    def encode_delete(self) -> bytes:
        """What ``nft`` sends to delete a rule: table, chain, handle."""
        return nfgenmsg(self.family) + P.RULE.encode(
            [("table", self.table), ("chain", self.chain), ("handle", self.handle)])

    @classmethod
    def decode(cls, payload: bytes) -> Rule:
        if len(payload) < NFGENMSG.size:
            raise NetlinkDecodeError(f"nf_tables message of {len(payload)} bytes")
        family = payload[0]
        table = chain = None
        handle = position = None
        userdata = raw = None
        for atype, p in split_attrs(bytes(payload[NFGENMSG.size:])):
            if atype == 1:
                table = _strz(p)
            elif atype == 2:
                chain = _strz(p)
            elif atype == 3:
                handle = _be64(p)
            elif atype == 4:
                raw = p
            elif atype == 6:
                position = _be64(p)
            elif atype == 7:
                userdata = p
        if table is None or chain is None:
            raise NetlinkDecodeError("rule without NFTA_RULE_TABLE/NFTA_RULE_CHAIN")
        return cls(table, chain, None if raw is not None else [], family, handle=handle,
                   position=position, userdata=userdata, raw=raw)


class SetDesc(_Obj):
    __slots__ = ("size",)
    fields = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size


class Set(_Obj):
    """A set (named or anonymous ``__set%d``)."""

    __slots__ = ("data_len", "data_type", "desc", "family", "flags", "handle", "id", "key_len",
                 "key_type", "name", "policy", "table", "userdata")
    fields = ("family", "table", "name", "flags", "key_type", "key_len", "data_type",
              "data_len", "policy", "id", "desc", "userdata", "handle")

    def __init__(self, table: str, name: str, family: int = NFPROTO_INET, *,
                 flags: int | None = None, key_type: int | None = None,
                 key_len: int | None = None, data_type: int | None = None,
                 data_len: int | None = None, policy: int | None = None,
                 id: int | None = None, desc: SetDesc | None = None,
                 userdata: bytes | None = None, handle: int | None = None) -> None:
        self.family = family
        self.table = table
        self.name = name
        self.flags = flags
        self.key_type = key_type
        self.key_len = key_len
        self.data_type = data_type
        self.data_len = data_len
        self.policy = policy
        self.id = id
        self.desc = desc
        self.userdata = userdata
        self.handle = handle

    def encode(self) -> bytes:
        desc = None if self.desc is None else (("size", self.desc.size),)
        return nfgenmsg(self.family) + P.SET.encode([
            ("table", self.table), ("name", self.name), ("handle", self.handle),
            ("flags", self.flags), ("key_type", self.key_type), ("key_len", self.key_len),
            ("data_type", self.data_type), ("data_len", self.data_len), ("policy", self.policy),
            ("id", self.id), ("desc", desc), ("userdata", self.userdata)])

    @classmethod
    def decode(cls, payload: bytes) -> Set:
        family, data = split_nfgenmsg(payload)
        a = P.SET.decode(data)
        d = a.get("desc")
        desc = SetDesc(d["size"]) if d is not None and "size" in d else None
        return cls(_req(a, "table", "set"), _req(a, "name", "set"), family,
                   flags=a.get("flags"), key_type=a.get("key_type"), key_len=a.get("key_len"),
                   data_type=a.get("data_type"), data_len=a.get("data_len"),
                   policy=a.get("policy"), id=a.get("id"), desc=desc,
                   userdata=a.get("userdata"), handle=a.get("handle"))


class SetElem(_Obj):
    __slots__ = ("data", "flags", "key", "key_end")
    fields = ("key", "key_end", "data", "flags")

    def __init__(self, key: bytes | None, *, key_end: bytes | None = None,
                 data: bytes | None = None, flags: int | None = None) -> None:
        self.key = key
        self.key_end = key_end
        self.data = data
        self.flags = flags

    def attrs(self) -> list[tuple[str, Any]]:
        def val(v: bytes | None) -> Any:
            return None if v is None else (("value", v),)

        return [("key", val(self.key)), ("key_end", val(self.key_end)),
                ("data", val(self.data)), ("flags", self.flags)]

    @classmethod
    def from_attrs(cls, a: dict) -> SetElem:
        def val(name: str) -> bytes | None:
            d = a.get(name)
            return None if d is None else d.get("value")

        return cls(val("key"), key_end=val("key_end"), data=val("data"), flags=a.get("flags"))


class SetElems(_Obj):
    """``NFT_MSG_NEWSETELEM`` / dumped elements of one set."""

    __slots__ = ("elements", "family", "set", "set_id", "table")
    fields = ("family", "table", "set", "set_id", "elements")

    def __init__(self, table: str, set: str, elements: list[SetElem],
                 family: int = NFPROTO_INET, *, set_id: int | None = None) -> None:
        self.family = family
        self.table = table
        self.set = set
        self.set_id = set_id
        self.elements = elements

    def _ident(self) -> tuple:
        return (self.family, self.table, self.set, self.set_id, tuple(self.elements))

    def encode(self) -> bytes:
        head = nfgenmsg(self.family) + P.SET_ELEM_LIST.encode([
            ("table", self.table), ("set", self.set), ("set_id", self.set_id)])
        if not self.elements:
            return head
        # libnftnl numbers the list entries 1, 2, 3...; the kernel ignores the type
        body = b"".join(pack_attr(i | NLA_F_NESTED, P.SET_ELEM.encode(e.attrs()))
                        for i, e in enumerate(self.elements, 1))
        return head + pack_attr(_NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, body)

    def encode_key(self) -> bytes:
        return nfgenmsg(self.family) + P.SET_ELEM_LIST.encode(
            [("table", self.table), ("set", self.set)])

    @classmethod
    def decode(cls, payload: bytes) -> SetElems:
        family, data = split_nfgenmsg(payload)
        a = P.SET_ELEM_LIST.decode(data)
        elems = [SetElem.from_attrs(P.SET_ELEM.decode(p))
                 for _t, p in iter_attrs(a.get("elements", b""))]
        return cls(_req(a, "table", "set element list"), _req(a, "set", "set element list"),
                   elems, family, set_id=a.get("set_id"))


def decode_genid(payload: bytes) -> int:
    """``NFT_MSG_NEWGEN`` → the ruleset generation id."""
    _family, data = split_nfgenmsg(payload)
    a = P.GEN.decode(data)
    return _req(a, "id", "generation")


# -- helpers -------------------------------------------------------------------

def _req(a: dict, name: str, what: str) -> Any:
    try:
        return a[name]
    except KeyError:
        raise NetlinkDecodeError(f"{what} message without {name} attribute") from None


def _strz(p: bytes | memoryview) -> str:
    raw = bytes(p)
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("utf-8", "surrogateescape")


def _be64(p: bytes | memoryview) -> int:
    if len(p) != 8:
        raise NetlinkDecodeError(f"be64 attribute of {len(p)} bytes")
    return int.from_bytes(p, "big")
