"""Fuzz the D-Bus message parser with bytes as a hostile bus peer might send.

Seeds are the real messages of tests/data/dbus/captures.json.  Most mutations
break the length fields and would only ever reach the framer's "need more
bytes" path, so each input is also tried with its body length patched to fit.
Whatever decodes must encode back to bytes that decode the same.
"""

from __future__ import annotations

import json
import os
import struct

from _harness import run

from netavark.dbus.marshal import DbusDecodeError
from netavark.dbus.message import Framer, Message, message_length


def _fit_body_length(data: bytes) -> bytes:
    if len(data) < 16 or data[0] not in b"lB":
        return data
    endian = "<" if data[0] == ord("l") else ">"
    (fields_len,) = struct.unpack_from(endian + "I", data, 12)
    header = 16 + fields_len + (-(16 + fields_len) % 8)
    if header > len(data):
        return data
    buf = bytearray(data)
    struct.pack_into(endian + "I", buf, 4, len(buf) - header)
    return bytes(buf)


def target(data: bytes) -> None:
    for candidate in (data, _fit_body_length(data)):
        try:
            msgs = Framer().feed(candidate)
        except DbusDecodeError:
            continue
        for msg in msgs:
            raw = msg.encode()
            assert Message.decode(raw).encode() == raw


def seeds() -> list[bytes]:
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "dbus",
                        "captures.json")
    with open(path) as f:
        captures = json.load(f)
    out = []
    for conv in captures.values():
        for side in ("client", "server"):
            stream = bytes.fromhex(conv[side])
            start = stream.find(b"\r\nl")  # the first message after the handshake lines
            stream = stream[start + 2:] if start >= 0 else b""
            while len(stream) >= 16:
                n = message_length(stream)
                out.append(stream[:n])
                stream = stream[n:]
    return out


if __name__ == "__main__":
    run(target, seeds())
