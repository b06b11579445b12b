"""Shared helpers for the ``create`` tests: run the pipeline in-process."""

from __future__ import annotations

import copy
import json
import os

from netavark.create.input import NetworkCreateConfig, load_create_config
from netavark.create.network import new_network
from netavark.errors import NetavarkError
from netavark.ip import IpAddr, IpNet
from netavark.timefmt import Timestamp
from tests.conftest import TESTDATA

UPSTREAM = os.path.join(TESTDATA, "upstream", "test", "testfiles", "create")
HOST_LINKS = ["lo", "dummy0"]


def fake_links(names: list[str] | None = None):
    names = HOST_LINKS if names is None else names
    return lambda: list(names)


def base_input(**network: object) -> dict:
    """A minimal valid bridge request; keyword arguments override network keys."""
    doc = {
        "network": {"name": "testnet", "id": "ab" * 32, "driver": "bridge",
                    "dns_enabled": False, "internal": False, "ipv6_enabled": False},
        "used": {"interfaces": [], "names": {}, "subnets": []},
        "options": {"subnet_pools": [{"base": "10.89.0.0/16", "size": 24}],
                    "default_interface_name": "podman", "check_used_subnets": False},
    }
    doc["network"].update(network)
    return doc


def create_doc(doc: dict, links: list[str] | None = None,
               plugin_directories: list[str] | None = None) -> dict:
    """Run create on a JSON document; the output object or ``{"error": ...}``."""
    from netavark.config import decode

    try:
        cfg = decode(json.dumps(doc).encode(), NetworkCreateConfig.from_json)
        net = new_network(copy.deepcopy(cfg), plugin_directories, fake_links(links))
    except NetavarkError as e:
        return {"error": str(e)}
    return json.loads(json.dumps(net.to_json()))


def create_file(path: str, links: list[str] | None = None) -> dict:
    try:
        cfg = load_create_config(path)
        net = new_network(cfg, None, fake_links(links))
    except NetavarkError as e:
        return {"error": str(e)}
    return net.to_json()


def is_random_ula64(text: str) -> bool:
    """``fdXX:XXXX:XXXX:XXXX::/64`` with the interface part zero."""
    net = IpNet.parse(text)
    return (net.version == 6 and net.prefix == 64 and net.addr.value >> 120 == 0xFD
            and net.addr.value & ((1 << 64) - 1) == 0)


def normalise(out: dict, expected: dict | None = None) -> dict:
    """Replace the time and random IPv6 parts by placeholders after checking them.

    A subnet becomes ``<ula>::/64`` where ``expected`` has that placeholder.
    """
    out = copy.deepcopy(out)
    if "created" in out:
        ts = Timestamp.parse(out["created"])
        assert str(ts) == out["created"]
        assert out["created"].endswith("Z")
        out["created"] = "<now>"
    want = (expected or {}).get("subnets") or []
    for i, s in enumerate(out.get("subnets") or []):
        if i < len(want) and want[i].get("subnet") == "<ula>::/64":
            assert is_random_ula64(s["subnet"]), s
            net = IpNet.parse(s["subnet"])
            if "gateway" in s:
                assert s["gateway"] == str(IpAddr(6, net.addr.value + 1)), s
                s["gateway"] = "<ula>::1"
            s["subnet"] = "<ula>::/64"
    return out
