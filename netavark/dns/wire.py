"""DNS messages on the wire (RFC 1035, EDNS from RFC 6891), sans-IO.

Two levels:

* :class:`Message` parses and encodes a whole message (names decompressed,
  record data kept as raw bytes).  Used for round-trip tests and to check
  upstream answers before relaying them.
* :func:`parse_query` is the server's fast path: it validates a request the
  same way but keeps offsets into the original bytes, so a reply is the
  request with a new header and answers spliced in (question, EDNS and any
  other records echoed as received, which is what aardvark-dns does too).

Anything malformed raises :class:`DnsFormatError` and nothing else.
"""

from __future__ import annotations

import struct

from ..errors import NetavarkError

HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")
_QFIXED = struct.Struct("!HH")
_U16 = struct.Struct("!H")

# header flags
QR = 0x8000
OPCODE_MASK = 0x7800
AA = 0x0400
TC = 0x0200
RD = 0x0100
RA = 0x0080
RCODE_MASK = 0x000F

# rcodes
NOERROR = 0
FORMERR = 1
SERVFAIL = 2
NXDOMAIN = 3
NOTIMP = 4

# types / classes
TYPE_A = 1
TYPE_PTR = 12
TYPE_AAAA = 28
TYPE_OPT = 41
CLASS_IN = 1

MAX_NAME = 255
MAX_LABEL = 63
MIN_UDP = 512
POINTER_TO_QUESTION = b"\xc0\x0c"


class DnsFormatError(NetavarkError):
    """Bytes that are not a well-formed DNS message."""


# ---------------------------------------------------------------------------
# names


def read_name(buf: bytes, off: int) -> tuple[tuple[bytes, ...], int]:
    """Decode the name at ``off``; returns its labels and the offset after it.

    Compression pointers must point strictly backwards, which rules out loops.
    """
    labels: list[bytes] = []
    n = len(buf)
    end = -1
    total = 1
    while True:
        if off >= n:
            raise DnsFormatError("name runs past the end of the message")
        length = buf[off]
        if length == 0:
            off += 1
            break
        tag = length & 0xC0
        if tag == 0xC0:
            if off + 1 >= n:
                raise DnsFormatError("truncated compression pointer")
            ptr = ((length & 0x3F) << 8) | buf[off + 1]
            if ptr >= off:
                raise DnsFormatError("compression pointer does not point backwards")
            if end < 0:
                end = off + 2
            off = ptr
            continue
        if tag:
            raise DnsFormatError(f"unsupported label type {tag >> 6}")
        off += 1
        if off + length > n:
            raise DnsFormatError("label runs past the end of the message")
        total += length + 1
        if total > MAX_NAME:
            raise DnsFormatError("name longer than 255 octets")
        labels.append(buf[off:off + length])
        off += length
    return tuple(labels), (end if end >= 0 else off)


def encode_name(labels: tuple[bytes, ...] | list[bytes]) -> bytes:
    out = bytearray()
    for label in labels:
        if not 0 < len(label) <= MAX_LABEL:
            raise DnsFormatError(f"bad label length {len(label)}")
        out.append(len(label))
        out += label
    out.append(0)
    if len(out) > MAX_NAME:
        raise DnsFormatError("name longer than 255 octets")
    return bytes(out)


_PLAIN = frozenset(range(0x21, 0x7F)) - {ord("."), ord("\\")}


def name_to_text(labels: tuple[bytes, ...]) -> str:
    """Presentation form with a trailing dot (``.`` for the root).

    Bytes outside printable ASCII, dots and backslashes inside a label are
    escaped, so a label can never be mistaken for two.
    """
    if not labels:
        return "."
    parts = []
    for label in labels:
        if all(b in _PLAIN for b in label):
            parts.append(label.decode("ascii"))
        else:
            parts.append("".join(
                chr(b) if b in _PLAIN else (f"\\{chr(b)}" if b in (0x2E, 0x5C) else f"\\{b:03d}")
                for b in label))
    return ".".join(parts) + "."


def text_to_labels(text: str) -> tuple[bytes, ...] | None:
    """A plain ASCII name (``a.b.`` or ``a.b``) as labels; None if not encodable."""
    if text.endswith("."):
        text = text[:-1]
    if not text:
        return ()
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    labels = tuple(raw.split(b"."))
    if any(not 0 < len(lb) <= MAX_LABEL for lb in labels):
        return None
    if sum(len(lb) + 1 for lb in labels) + 1 > MAX_NAME:
        return None
    return labels


# ---------------------------------------------------------------------------
# whole messages


class Question:
    __slots__ = ("labels", "qclass", "qtype")

    def __init__(self, labels: tuple[bytes, ...], qtype: int, qclass: int = CLASS_IN) -> None:
        self.labels = labels
        self.qtype = qtype
        self.qclass = qclass

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Question) and self.labels == other.labels
                and self.qtype == other.qtype and self.qclass == other.qclass)

    def __repr__(self) -> str:
        return f"Question({name_to_text(self.labels)!r}, {self.qtype}, {self.qclass})"


class Record:
    __slots__ = ("labels", "rclass", "rdata", "rtype", "ttl")

    def __init__(self, labels: tuple[bytes, ...], rtype: int, rclass: int, ttl: int,
                 rdata: bytes) -> None:
        self.labels = labels
        self.rtype = rtype
        self.rclass = rclass
        self.ttl = ttl
        self.rdata = rdata

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Record) and self.labels == other.labels
                and self.rtype == other.rtype and self.rclass == other.rclass
                and self.ttl == other.ttl and self.rdata == other.rdata)

    def __repr__(self) -> str:
        return (f"Record({name_to_text(self.labels)!r}, {self.rtype}, {self.rclass}, "
                f"{self.ttl}, {self.rdata!r})")


def _read_record(buf: bytes, off: int) -> tuple[Record, int]:
    labels, off = read_name(buf, off)
    if off + 10 > len(buf):
        raise DnsFormatError("record header runs past the end of the message")
    rtype, rclass, ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
    off += 10
    if off + rdlen > len(buf):
        raise DnsFormatError("record data runs past the end of the message")
    return Record(labels, rtype, rclass, ttl, buf[off:off + rdlen]), off + rdlen


def _skip_record(buf: bytes, off: int) -> tuple[int, int, int]:
    """Validate the record at ``off``; returns (type, class, offset after it)."""
    _, off = read_name(buf, off)
    if off + 10 > len(buf):
        raise DnsFormatError("record header runs past the end of the message")
    rtype, rclass, _ttl, rdlen = _RR_FIXED.unpack_from(buf, off)
    off += 10 + rdlen
    if off > len(buf):
        raise DnsFormatError("record data runs past the end of the message")
    return rtype, rclass, off


class Message:
    """A complete DNS message."""

    __slots__ = ("additionals", "answers", "authorities", "flags", "id", "questions")

    def __init__(self, id: int = 0, flags: int = 0, questions: list[Question] | None = None,
                 answers: list[Record] | None = None, authorities: list[Record] | None = None,
                 additionals: list[Record] | None = None) -> None:
        self.id = id
        self.flags = flags
        self.questions = questions or []
        self.answers = answers or []
        self.authorities = authorities or []
        self.additionals = additionals or []

    @property
    def rcode(self) -> int:
        return self.flags & RCODE_MASK

    @classmethod
    def parse(cls, buf: bytes) -> Message:
        if len(buf) < 12:
            raise DnsFormatError("message shorter than a header")
        id_, flags, qd, an, ns, ar = HEADER.unpack_from(buf)
        off = 12
        questions = []
        for _ in range(qd):
            labels, off = read_name(buf, off)
            if off + 4 > len(buf):
                raise DnsFormatError("question runs past the end of the message")
            qtype, qclass = _QFIXED.unpack_from(buf, off)
            off += 4
            questions.append(Question(labels, qtype, qclass))
        sections: list[list[Record]] = []
        for count in (an, ns, ar):
            records = []
            for _ in range(count):
                rr, off = _read_record(buf, off)
                records.append(rr)
            sections.append(records)
        return cls(id_, flags, questions, *sections)

    def encode(self) -> bytes:
        out = [HEADER.pack(self.id, self.flags, len(self.questions), len(self.answers),
                           len(self.authorities), len(self.additionals))]
        for q in self.questions:
            out.append(encode_name(q.labels))
            out.append(_QFIXED.pack(q.qtype, q.qclass))
        for section in (self.answers, self.authorities, self.additionals):
            for rr in section:
                if len(rr.rdata) > 0xFFFF:
                    raise DnsFormatError("record data longer than 65535 octets")
                out.append(encode_name(rr.labels))
                out.append(_RR_FIXED.pack(rr.rtype, rr.rclass, rr.ttl, len(rr.rdata)))
                out.append(rr.rdata)
        return b"".join(out)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Message) and self.id == other.id
                and self.flags == other.flags and self.questions == other.questions
                and self.answers == other.answers and self.authorities == other.authorities
                and self.additionals == other.additionals)

    def __repr__(self) -> str:
        return (f"Message(id={self.id}, flags={self.flags:#06x}, q={self.questions}, "
                f"an={self.answers}, ns={self.authorities}, ar={self.additionals})")


# ---------------------------------------------------------------------------
# the server's view of a request


class Query:
    """A validated request: header fields, first question and section offsets."""

    __slots__ = ("an_end", "ancount", "arcount", "flags", "id", "labels", "nscount", "opt",
                 "qclass", "qd_end", "qdcount", "qtype", "udp_size")

    def __init__(self) -> None:
        self.labels: tuple[bytes, ...] = ()
        self.qtype = 0
        self.qclass = 0
        self.opt = b""
        self.udp_size = MIN_UDP


def parse_query(buf: bytes) -> Query:
    if len(buf) < 12:
        raise DnsFormatError("message shorter than a header")
    q = Query()
    q.id, q.flags, q.qdcount, q.ancount, q.nscount, q.arcount = HEADER.unpack_from(buf)
    off = 12
    n = len(buf)
    for i in range(q.qdcount):
        labels, off = read_name(buf, off)
        if off + 4 > n:
            raise DnsFormatError("question runs past the end of the message")
        if i == 0:
            q.labels = labels
            q.qtype, q.qclass = _QFIXED.unpack_from(buf, off)
        off += 4
    q.qd_end = off
    for _ in range(q.ancount):
        off = _skip_record(buf, off)[2]
    q.an_end = off
    for _ in range(q.nscount):
        off = _skip_record(buf, off)[2]
    for _ in range(q.arcount):
        start = off
        rtype, rclass, off = _skip_record(buf, off)
        if rtype == TYPE_OPT and not q.opt:
            q.opt = buf[start:off]
            q.udp_size = max(MIN_UDP, rclass)
    return q


def check_message(buf: bytes) -> None:
    """Raise DnsFormatError unless ``buf`` is structurally a DNS message."""
    parse_query(buf)


def answer_record(rtype: int, rdata: bytes) -> bytes:
    """An IN record with TTL 0 owned by the (first) question's name."""
    return POINTER_TO_QUESTION + _RR_FIXED.pack(rtype, CLASS_IN, 0, len(rdata)) + rdata


def reply_flags(flags: int, rcode: int) -> int:
    """Response flags for a request: QR set, rcode replaced, RA set if RD was."""
    flags = (flags | QR) & ~RCODE_MASK | rcode
    if flags & RD:
        flags |= RA
    return flags


def build_reply(buf: bytes, q: Query, rcode: int, answers: list[bytes]) -> bytes:
    """The request turned into a response with ``answers`` appended to its answer section."""
    return (HEADER.pack(q.id, reply_flags(q.flags, rcode), q.qdcount,
                        q.ancount + len(answers), q.nscount, q.arcount)
            + buf[12:q.an_end] + b"".join(answers) + buf[q.an_end:])


def truncate_reply(buf: bytes, q: Query, reply: bytes) -> bytes:
    """A reply too big for UDP cut to header, question and EDNS record with TC set,
    so the client retries over TCP."""
    flags = _U16.unpack_from(reply, 2)[0] | TC
    return (HEADER.pack(q.id, flags, q.qdcount, 0, 0, 1 if q.opt else 0)
            + buf[12:q.qd_end] + q.opt)


def relay_response(resp: bytes, client_id: int) -> bytes:
    """An upstream answer with the client's id, RA set when RD is (aardvark's fix-up)."""
    flags = _U16.unpack_from(resp, 2)[0]
    if flags & RD:
        flags |= RA
    return _U16.pack(client_id) + _U16.pack(flags) + resp[4:]
