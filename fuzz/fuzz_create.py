"""Fuzz ``netavark create``: input decoding, validation, allocation, output."""

from __future__ import annotations

import glob
import os

from _harness import run

from netavark.config import decode
from netavark.create.input import NetworkCreateConfig
from netavark.create.network import new_network
from netavark.errors import NetavarkError


def target(data: bytes) -> None:
    try:
        cfg = decode(data, NetworkCreateConfig.from_json)
        # fixed host links; no plugin directories, so plugin drivers fail cleanly
        net = new_network(cfg, None, lambda: ["lo", "dummy0"])
    except NetavarkError:
        return
    net.to_json()


def seeds() -> list[bytes]:
    base = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "upstream", "test",
                        "testfiles", "create", "*.json")
    out = []
    for path in sorted(glob.glob(base)):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


if __name__ == "__main__":
    run(target, seeds())
