"""Fuzz the DHCP frame/message/lease decoders with bytes as seen on the LAN."""

from __future__ import annotations

import glob
import os

from _harness import run

from netavark.dhcp.dhcpv4 import DhcpError, Lease, Message, parse_frame


def target(data: bytes) -> None:
    try:
        frame = parse_frame(data)
        payload = frame.payload
    except DhcpError:
        payload = data  # also try the bytes as a bare DHCP message
    try:
        Lease.from_message(Message.parse(payload))
    except DhcpError:
        pass


def seeds() -> list[bytes]:
    here = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "dhcp")
    out = []
    for path in sorted(glob.glob(os.path.join(here, "*.frame"))):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


if __name__ == "__main__":
    run(target, seeds())
