"""Fuzz the setup/teardown JSON input path (parse, typed conversion, serde messages)."""

from __future__ import annotations

import glob
import os

from _harness import run

from netavark.config import NetworkOptions, decode
from netavark.errors import NetavarkError


def target(data: bytes) -> None:
    try:
        decode(data, NetworkOptions.from_json)
    except NetavarkError as e:
        if not str(e).startswith("IO error: "):
            raise AssertionError(f"unexpected error text {e}") from None


def seeds() -> list[bytes]:
    base = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "upstream", "test",
                        "testfiles", "*.json")
    out = []
    for path in sorted(glob.glob(base)):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


if __name__ == "__main__":
    run(target, seeds())
