#!/usr/bin/python3
"""Fuzz the DNS parsers the built-in server applies to bytes from containers.

Invariant: any input either parses or raises DnsFormatError; a request that
parses gets a decision (and a reply that parses again) without any other
exception.  Runs under atheris when installed (``python3 fuzz/fuzz_dns_wire.py
-atheris_runs=100000``), else a random-input loop (``python3 fuzz/fuzz_dns_wire.py
[iterations]``) that mutates real queries as well as pure noise.
"""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from netavark.dns import wire
from netavark.dns.backend import LOCAL, Backend, decide

BACKEND = Backend()
BACKEND.add_network("net", False, "10.0.0.1\nc1 10.0.0.2 fd00::2 web,www\n")
BACKEND.add_network("int", True, "10.1.0.1\nc2 10.1.0.2  inner\n")
BACKEND.finish()
SOURCES = (bytes([10, 0, 0, 2]), bytes([10, 1, 0, 2]), None)
SEEDS = [
    wire.Message(1, wire.RD, [wire.Question((b"web",), wire.TYPE_A)]).encode(),
    wire.Message(2, wire.RD, [wire.Question((b"2", b"0", b"0", b"10", b"in-addr", b"arpa"),
                                            wire.TYPE_PTR)],
                 additionals=[wire.Record((), wire.TYPE_OPT, 1232, 0, b"")]).encode(),
    wire.Message(3, 0, [wire.Question((b"x", b"dns", b"podman"), wire.TYPE_AAAA)]).encode(),
]


def one_input(data: bytes) -> None:
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


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(4)
        if op == 0 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 1:
            buf.insert(rng.randint(0, len(buf)), rng.randrange(256))
        elif op == 2 and buf:
            del buf[rng.randrange(len(buf))]
        else:
            buf = buf[:rng.randint(0, len(buf))]
    return bytes(buf)


def main() -> None:
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        atheris = None
    if atheris is not None and sys.argv[1:2] != ["--loop"]:
        atheris.Setup(sys.argv, one_input)
        atheris.Fuzz()
        return
    args = [a for a in sys.argv[1:] if a != "--loop"]
    iterations = int(args[0]) if args else 200000
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "0")) or None)
    for i in range(iterations):
        if i % 3 == 0:
            data = rng.randbytes(rng.randint(0, 80)) if hasattr(rng, "randbytes") else \
                os.urandom(rng.randint(0, 80))
        else:
            data = mutate(rng, rng.choice(SEEDS))
        one_input(data)
    print(f"fuzz_dns_wire: {iterations} inputs, no unexpected exception")


if __name__ == "__main__":
    main()
