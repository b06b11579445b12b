"""Fuzz target: the D-Bus message parser (everything read from the bus is untrusted).

With atheris installed: ``python3 fuzz/fuzz_dbus_message.py [atheris options]``.
Without: ``python3 fuzz/fuzz_dbus_message.py [iterations]`` mutates the real
messages of tests/data/dbus/captures.json at random.  Either way the only
acceptable failure is our own DbusDecodeError, and whatever decodes must
encode back to bytes that decode to the same message.
"""

from __future__ import annotations

import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from netavark.dbus.marshal import DbusDecodeError  # noqa: E402
from netavark.dbus.message import Framer, Message, message_length  # noqa: E402


def test_one_input(data: bytes) -> None:
    try:
        msgs = Framer().feed(data)
    except DbusDecodeError:
        return
    for msg in msgs:
        raw = msg.encode()
        assert Message.decode(raw).encode() == raw


def seeds() -> list[bytes]:
    path = os.path.join(ROOT, "tests", "data", "dbus", "captures.json")
    with open(path) as f:
        captures = json.load(f)
    out = []
    for conv in captures.values():
        for side in ("client", "server"):
            stream = bytes.fromhex(conv[side])
            start = stream.find(b"\r\nl")  # first message after the handshake lines
            stream = stream[start + 2:] if start >= 0 else b""
            while len(stream) >= 16:
                try:
                    n = message_length(stream)
                except DbusDecodeError:
                    break
                out.append(stream[:n])
                stream = stream[n:]
    return out


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if op < 0.6 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op < 0.8:
            buf[rng.randrange(len(buf) + 1):] = b""
        else:
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    if rng.random() < 0.7:
        _fix_body_length(buf)  # so the mutation reaches the decoder, not the framer
    return bytes(buf)


def _fix_body_length(buf: bytearray) -> None:
    if len(buf) < 16 or buf[0] not in b"lB":
        return
    endian = "<" if buf[0] == ord("l") else ">"
    (fields_len,) = struct.unpack_from(endian + "I", buf, 12)
    header = 16 + fields_len + (-(16 + fields_len) % 8)
    if header <= len(buf):
        struct.pack_into(endian + "I", buf, 4, len(buf) - header)


def random_loop(iterations: int) -> None:
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "0")) or None)
    corpus = seeds()
    for i in range(iterations):
        if i % 10 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        else:
            data = mutate(rng, rng.choice(corpus))
        test_one_input(data)
    print(f"{iterations} inputs, no unexpected exception")


def main() -> None:
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        random_loop(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
