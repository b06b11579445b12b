"""HPACK (RFC 7541): header compression for HTTP/2.  Sans-IO.

The decoder handles every representation: indexed fields, literals with and
without indexing, never-indexed literals, dynamic table size updates and
Huffman-coded strings.  The encoder uses the static table where a field or name
is in it and otherwise plain literals without indexing, so it never needs the
peer's dynamic table (optionally Huffman-coding strings).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

Header = tuple  # (name: str, value: str); bytes are kept as latin-1 text


class HpackError(Exception):
    """A malformed header block (a COMPRESSION_ERROR for the connection)."""


STATIC_TABLE: tuple[tuple[str, str], ...] = (
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
)
_STATIC_FIELD = {f: i + 1 for i, f in reversed(list(enumerate(STATIC_TABLE)))}
_STATIC_NAME = {f[0]: i + 1 for i, f in reversed(list(enumerate(STATIC_TABLE)))}

# Code lengths of the canonical Huffman code of RFC 7541 Appendix B, one letter
# per symbol 0..256 ('a' = 5 bits ... 'z' = 30 bits); symbol 256 is EOS.  Codes
# are assigned canonically: ordered by (length, symbol), each the previous + 1.
_LENGTHS = (
    "isxxxxxxxtzxxzxxxxxxxxzxxxxxxxxxbffhibdgffdgdbbbaaabbbbbbbcdkbhf"
    "ibccccccccccccccccccccccdcdioijbkabababbbaccbbbabcbaabccccckgjix"
    "prpprrrsrssssststtrstssssqrsrsstrqprrssqsrrtqrssqqrqsrssprrrsrrs"
    "vvporsruvvvwwvtuoqvwwvwtqqvvxwwwptpqrqqsrruuttvsvwvvwwwwwxwwwwwv"
    "z"
)
EOS = 256


def _build_codes() -> tuple[list[tuple[int, int]], dict[tuple[int, int], int]]:
    lengths = [ord(c) - ord("a") + 5 for c in _LENGTHS]
    codes: list[tuple[int, int]] = [(0, 0)] * 257
    code = -1
    prev = 0
    for sym in sorted(range(257), key=lambda s: (lengths[s], s)):
        code = (code + 1) << (lengths[sym] - prev) if code >= 0 else 0
        prev = lengths[sym]
        codes[sym] = (code, prev)
    return codes, {(n, c): s for s, (c, n) in enumerate(codes)}


_CODES, _DECODE = _build_codes()
_MIN_LEN = 5
_MAX_LEN = 30


def huffman_encode(data: bytes) -> bytes:
    acc = 0
    nbits = 0
    for b in data:
        code, n = _CODES[b]
        acc = (acc << n) | code
        nbits += n
    pad = -nbits % 8
    acc = (acc << pad) | ((1 << pad) - 1)  # padded with the EOS prefix (all ones)
    return acc.to_bytes((nbits + pad) // 8, "big")


def huffman_decode(data: bytes | memoryview) -> bytes:
    out = bytearray()
    code = 0
    n = 0
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            n += 1
            if n >= _MIN_LEN:
                sym = _DECODE.get((n, code))
                if sym is not None:
                    if sym == EOS:
                        raise HpackError("huffman: EOS symbol in string")
                    out.append(sym)
                    code = 0
                    n = 0
                elif n >= _MAX_LEN:
                    raise HpackError("huffman: invalid code")
    # what is left must be a strict prefix of EOS: fewer than 8 bits, all ones
    if n > 7 or code != (1 << n) - 1:
        raise HpackError("huffman: invalid padding")
    return bytes(out)


# ---------------------------------------------------------------------------
# primitives


def encode_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_int(data: bytes | memoryview, pos: int, prefix_bits: int) -> tuple[int, int]:
    if pos >= len(data):
        raise HpackError("truncated integer")
    limit = (1 << prefix_bits) - 1
    value = data[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data):
            raise HpackError("truncated integer")
        b = data[pos]
        pos += 1
        value += (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 28:  # nothing sensible needs more than 2**32
            raise HpackError("integer overflow")
    return value, pos


def encode_string(s: str, huffman: bool = False) -> bytes:
    raw = s.encode("latin-1")
    if huffman:
        coded = huffman_encode(raw)
        if len(coded) < len(raw):
            return encode_int(len(coded), 7, 0x80) + coded
    return encode_int(len(raw), 7) + raw


def decode_string(data: bytes | memoryview, pos: int, max_len: int) -> tuple[str, int]:
    if pos >= len(data):
        raise HpackError("truncated string")
    huffman = data[pos] & 0x80
    length, pos = decode_int(data, pos, 7)
    if length > len(data) - pos:
        raise HpackError("truncated string")
    if length > max_len:
        raise HpackError("header string too long")
    raw = data[pos:pos + length]
    pos += length
    text = huffman_decode(raw) if huffman else bytes(raw)
    return text.decode("latin-1"), pos


# ---------------------------------------------------------------------------
# dynamic table


def entry_size(name: str, value: str) -> int:
    return len(name) + len(value) + 32


class DynamicTable:
    __slots__ = ("entries", "max_size", "size")

    def __init__(self, max_size: int = 4096) -> None:
        self.entries: list[tuple[str, str]] = []  # newest first
        self.size = 0
        self.max_size = max_size

    def add(self, name: str, value: str) -> None:
        self.entries.insert(0, (name, value))
        self.size += entry_size(name, value)
        self._evict()

    def resize(self, max_size: int) -> None:
        self.max_size = max_size
        self._evict()

    def _evict(self) -> None:
        while self.size > self.max_size and self.entries:
            name, value = self.entries.pop()
            self.size -= entry_size(name, value)

    def get(self, index: int) -> tuple[str, str]:
        """Index in the combined address space (static entries come first)."""
        if index <= 0:
            raise HpackError("index 0 is invalid")
        if index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        i = index - len(STATIC_TABLE) - 1
        if i >= len(self.entries):
            raise HpackError(f"index {index} out of range")
        return self.entries[i]


class Decoder:
    """Decodes header blocks of one connection direction (keeps its dynamic table)."""

    __slots__ = ("max_header_list_size", "settings_max_table_size", "table")

    def __init__(self, max_table_size: int = 4096, max_header_list_size: int = 1 << 16) -> None:
        self.table = DynamicTable(max_table_size)
        # the limit we announced in SETTINGS_HEADER_TABLE_SIZE
        self.settings_max_table_size = max_table_size
        self.max_header_list_size = max_header_list_size

    def decode(self, block: bytes | memoryview) -> list[Header]:
        headers: list[Header] = []
        pos = 0
        total = 0
        end = len(block)
        allow_size_update = True
        while pos < end:
            b = block[pos]
            if b & 0x80:  # indexed field
                index, pos = decode_int(block, pos, 7)
                name, value = self.table.get(index)
            elif b & 0xC0 == 0x40:  # literal with incremental indexing
                name, value, pos = self._literal(block, pos, 6)
                self.table.add(name, value)
            elif b & 0xE0 == 0x20:  # dynamic table size update
                if not allow_size_update:
                    raise HpackError("table size update after a header field")
                size, pos = decode_int(block, pos, 5)
                if size > self.settings_max_table_size:
                    raise HpackError(f"table size update {size} above the limit")
                self.table.resize(size)
                continue
            else:  # literal without indexing (0000) or never indexed (0001)
                name, value, pos = self._literal(block, pos, 4)
            allow_size_update = False
            total += entry_size(name, value)
            if total > self.max_header_list_size:
                raise HpackError("header list too large")
            headers.append((name, value))
        return headers

    def _literal(self, block: bytes | memoryview, pos: int, prefix: int
                 ) -> tuple[str, str, int]:
        index, pos = decode_int(block, pos, prefix)
        limit = self.max_header_list_size
        if index:
            name = self.table.get(index)[0]
        else:
            name, pos = decode_string(block, pos, limit)
        value, pos = decode_string(block, pos, limit)
        return name, value, pos


class Encoder:
    """Static-table-only encoder: never inserts into the peer's dynamic table."""

    __slots__ = ("huffman",)

    def __init__(self, huffman: bool = False) -> None:
        self.huffman = huffman

    def encode(self, headers: Iterable[Header]) -> bytes:
        out = bytearray()
        for name, value in headers:
            index = _STATIC_FIELD.get((name, value))
            if index is not None:
                out += encode_int(index, 7, 0x80)
                continue
            name_index = _STATIC_NAME.get(name, 0)
            out += encode_int(name_index, 4, 0x00)
            if not name_index:
                out += encode_string(name, self.huffman)
            out += encode_string(value, self.huffman)
        return bytes(out)
