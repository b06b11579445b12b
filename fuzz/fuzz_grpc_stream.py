"""Fuzz what the proxy reads from its socket: HTTP/2 frames, HPACK, gRPC
framing and the protobuf request inside."""

from __future__ import annotations

import os

from _harness import run

from netavark.dhcp import h2, proto
from netavark.dhcp.grpc import GrpcError, MessageReader
from netavark.dhcp.protobuf import ProtobufError


def target(data: bytes) -> None:
    conn = h2.Connection(client=False)
    reader = MessageReader()
    # most inputs keep a valid preface so the frame layer gets exercised
    feed = data if data[:1] == b"P" else h2.PREFACE + data
    try:
        events = conn.receive(feed)
    except h2.H2Error:
        return
    for ev in events:
        if isinstance(ev, h2.DataReceived):
            try:
                for msg in reader.feed(ev.data):
                    proto.NetworkConfig.decode(msg)
                    proto.Lease.decode(msg)
            except (GrpcError, ProtobufError):
                pass


def seeds() -> list[bytes]:
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "dhcp",
                        "grpcio-setup-request.h2")
    with open(path, "rb") as f:
        data = f.read()
    return [data[len(h2.PREFACE):]]


if __name__ == "__main__":
    run(target, seeds())
