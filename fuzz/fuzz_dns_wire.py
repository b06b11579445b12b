"""Fuzz the DNS parsers the built-in server applies to bytes from containers.

Invariant: any input either parses or raises DnsFormatError; a request that
parses gets a decision (and a local reply that parses again) without any
other exception.  ``python3 fuzz/fuzz_dns_wire.py [-runs=N]``.
"""

from __future__ import annotations

from _harness import run

from netavark.dns import wire
from netavark.dns.backend import LOCAL, Backend, decide

BACKEND = Backend()
BACKEND.add_network("net", False, "10.0.0.1\nc1 10.0.0.2 fd00::2 web,www\n")
BACKEND.add_network("int", True, "10.1.0.1\nc2 10.1.0.2  inner\n")
BACKEND.finish()
SOURCES = (bytes([10, 0, 0, 2]), bytes([10, 1, 0, 2]), None)


def target(data: bytes) -> None:
    try:
        wire.Message.parse(data)
    except wire.DnsFormatError:
        pass
    try:
        q = wire.parse_query(data)
    except wire.DnsFormatError:
        return
    for src in SOURCES:
        kind, value = decide(BACKEND, "net", src, q, data, False)
        if kind == LOCAL:
            wire.Message.parse(value)  # type: ignore[arg-type]
            wire.truncate_reply(data, q, value)  # type: ignore[arg-type]


def seeds() -> list[bytes]:
    return [
        wire.Message(1, wire.RD, [wire.Question((b"web",), wire.TYPE_A)]).encode(),
        wire.Message(2, wire.RD, [wire.Question((b"2", b"0", b"0", b"10", b"in-addr", b"arpa"),
                                                wire.TYPE_PTR)],
                     additionals=[wire.Record((), wire.TYPE_OPT, 1232, 0, b"")]).encode(),
        wire.Message(3, 0, [wire.Question((b"x", b"dns", b"podman"), wire.TYPE_AAAA)]).encode(),
        wire.Message(4, wire.QR | wire.RD, [wire.Question((b"web",), wire.TYPE_A)],
                     [wire.Record((b"web",), 1, 1, 0, b"\x0a\x00\x00\x02")]).encode(),
    ]


if __name__ == "__main__":
    run(target, seeds())
