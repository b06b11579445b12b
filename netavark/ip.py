"""IP addresses and networks with Rust's parsing and display rules.

Upstream parses with Rust's ``std::net`` and the ``ipnet`` crate: strict dotted
quads, no zone ids, and it keeps host bits in a CIDR (``10.88.0.5/16`` stays so).
Display is RFC 5952 for IPv6 with ``::ffff:a.b.c.d`` for IPv4-mapped addresses,
which the stdlib ``ipaddress`` module (before 3.13) does not do.  Addresses are
stored as (version, int) which makes prefix arithmetic cheap.
"""

from __future__ import annotations

from _socket import AF_INET, AF_INET6, inet_ntop, inet_pton

from .errors import AddrParseError

V4_SYNTAX = "invalid IPv4 address syntax"
V6_SYNTAX = "invalid IPv6 address syntax"
IP_SYNTAX = "invalid IP address syntax"


class IpAddr:
    """An IPv4 or IPv6 address (immutable, hashable, ordered like Rust's IpAddr)."""

    __slots__ = ("value", "version")

    def __init__(self, version: int, value: int) -> None:
        self.version = version
        self.value = value

    # -- construction -------------------------------------------------
    @classmethod
    def parse(cls, text: str, version: int | None = None) -> IpAddr:
        """Parse like Rust's ``FromStr`` (``IpAddr``, ``Ipv4Addr`` or ``Ipv6Addr``)."""
        if not isinstance(text, str):
            raise AddrParseError(IP_SYNTAX)
        if version != 6 and _looks_v4(text):
            try:
                return cls(4, int.from_bytes(inet_pton(AF_INET, text), "big"))
            except (OSError, ValueError):
                pass
        elif version != 4 and ":" in text:
            try:
                return cls(6, int.from_bytes(inet_pton(AF_INET6, text), "big"))
            except (OSError, ValueError):
                pass
        raise AddrParseError(V4_SYNTAX if version == 4 else V6_SYNTAX if version == 6
                             else IP_SYNTAX)

    @classmethod
    def from_bytes(cls, data: bytes) -> IpAddr:
        if len(data) == 4:
            return cls(4, int.from_bytes(data, "big"))
        if len(data) == 16:
            return cls(6, int.from_bytes(data, "big"))
        raise ValueError(f"bad address length {len(data)}")

    # -- properties ---------------------------------------------------
    @property
    def bits(self) -> int:
        return 32 if self.version == 4 else 128

    @property
    def packed(self) -> bytes:
        return self.value.to_bytes(4 if self.version == 4 else 16, "big")

    @property
    def is_ipv4(self) -> bool:
        return self.version == 4

    @property
    def is_ipv6(self) -> bool:
        return self.version == 6

    @property
    def family(self) -> int:
        return AF_INET if self.version == 4 else AF_INET6

    def is_unspecified(self) -> bool:
        return self.value == 0

    def is_loopback(self) -> bool:
        if self.version == 4:
            return self.value >> 24 == 127
        return self.value == 1

    def is_unicast_link_local(self) -> bool:
        """fe80::/10 (Rust's ``Ipv6Addr::is_unicast_link_local``)."""
        return self.version == 6 and self.value >> 118 == 0x3FA

    # -- formatting ---------------------------------------------------
    def __str__(self) -> str:
        if self.version == 4:
            return inet_ntop(AF_INET, self.packed)
        v = self.value
        if v >> 32 == 0xFFFF:  # IPv4-mapped
            return "::ffff:" + inet_ntop(AF_INET, (v & 0xFFFFFFFF).to_bytes(4, "big"))
        return _format_v6(v)

    def __repr__(self) -> str:
        return f"IpAddr({str(self)!r})"

    # -- comparison ---------------------------------------------------
    def _key(self) -> tuple[int, int]:
        return (self.version, self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IpAddr) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: IpAddr) -> bool:
        return self._key() < other._key()

    def __le__(self, other: IpAddr) -> bool:
        return self._key() <= other._key()


def _looks_v4(text: str) -> bool:
    return ":" not in text


def _format_v6(v: int) -> str:
    groups = [(v >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    # longest run of zero groups, first one on ties, only runs of 2 or more
    best_start, best_len, i = -1, 0, 0
    while i < 8:
        if groups[i] == 0:
            j = i
            while j < 8 and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best_start, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_len < 2:
        return ":".join(f"{g:x}" for g in groups)
    head = ":".join(f"{g:x}" for g in groups[:best_start])
    tail = ":".join(f"{g:x}" for g in groups[best_start + best_len:])
    return f"{head}::{tail}"


class IpNet:
    """``addr/prefix`` keeping host bits, like the ``ipnet`` crate."""

    __slots__ = ("addr", "prefix")

    def __init__(self, addr: IpAddr, prefix: int) -> None:
        if not 0 <= prefix <= addr.bits:
            raise AddrParseError(IP_SYNTAX)
        self.addr = addr
        self.prefix = prefix

    @classmethod
    def parse(cls, text: str) -> IpNet:
        if not isinstance(text, str):
            raise AddrParseError(IP_SYNTAX)
        addr_s, sep, prefix_s = text.partition("/")
        if not sep or not prefix_s or len(prefix_s) > 3 or not prefix_s.isdigit() \
                or not prefix_s.isascii():
            raise AddrParseError(IP_SYNTAX)
        try:
            addr = IpAddr.parse(addr_s)
        except AddrParseError:
            raise AddrParseError(IP_SYNTAX) from None
        return cls(addr, int(prefix_s))

    @property
    def version(self) -> int:
        return self.addr.version

    @property
    def bits(self) -> int:
        return self.addr.bits

    @property
    def netmask_int(self) -> int:
        bits = self.addr.bits
        return ((1 << bits) - 1) ^ ((1 << (bits - self.prefix)) - 1)

    def network(self) -> IpAddr:
        return IpAddr(self.addr.version, self.addr.value & self.netmask_int)

    def broadcast(self) -> IpAddr:
        hostmask = (1 << (self.addr.bits - self.prefix)) - 1
        return IpAddr(self.addr.version, self.addr.value | hostmask)

    def trunc(self) -> IpNet:
        """The same prefix with host bits cleared."""
        return IpNet(self.network(), self.prefix)

    def contains(self, ip: IpAddr) -> bool:
        if ip.version != self.addr.version:
            return False
        mask = self.netmask_int
        return ip.value & mask == self.addr.value & mask

    def contains_net(self, other: IpNet) -> bool:
        return other.prefix >= self.prefix and self.contains(other.addr)

    def overlaps(self, other: IpNet) -> bool:
        """Upstream's test: one contains the other's network address."""
        return self.contains(other.network()) or other.contains(self.network())

    def __str__(self) -> str:
        return f"{self.addr}/{self.prefix}"

    def __repr__(self) -> str:
        return f"IpNet({str(self)!r})"

    def _key(self) -> tuple[int, int, int]:
        return (self.addr.version, self.addr.value, self.prefix)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IpNet) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def prefix_from_mask(mask: IpAddr) -> int:
    """Number of leading one bits (``popcount`` of a contiguous netmask)."""
    return bin(mask.value).count("1")
