"""Small helpers shared by the Podman end-to-end tests."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import firewall_driver, require_dns
from tests.e2e.sandbox import Sandbox


def create_network(sb: Sandbox, name: str, *args: str) -> dict:
    """``podman network create``; networks Podman creates with DNS (every bridge or
    macvlan network unless ``--disable-dns``) need netavark-py's DNS support."""
    if "--disable-dns" not in args:
        require_dns()
    return sb.network_create(name, *args)


def require_port_forwarding() -> None:
    if firewall_driver() == "none":
        pytest.skip("published ports need a firewall driver (NETAVARK_FW=none)")


def ctr_links(sb: Sandbox, ctr: str) -> dict[str, dict]:
    """Interfaces inside the container, from busybox ``ip`` (name → {"addrs", "mac"})."""
    out = sb.exec(ctr, "ip", "-o", "addr", "show").stdout
    links: dict[str, dict] = {}
    for line in out.splitlines():
        parts = line.split()
        name = parts[1].split("@")[0]
        entry = links.setdefault(name, {"addrs": []})
        if parts[2] in ("inet", "inet6"):
            entry["addrs"].append(parts[3])
    for line in sb.exec(ctr, "ip", "-o", "link", "show").stdout.splitlines():
        parts = line.split()
        name = parts[1].rstrip(":").split("@")[0]
        if "link/ether" in parts:
            links.setdefault(name, {"addrs": []})["mac"] = parts[parts.index("link/ether") + 1]
    return links


def ctr_routes(sb: Sandbox, ctr: str, family: str = "-4") -> list[str]:
    return sb.exec(ctr, "ip", family, "route", "show").stdout.splitlines()


def nv_chains(sb: Sandbox) -> list[str]:
    table = sb.nft_table()
    return sorted(c for c in (table or {"chains": {}})["chains"] if c.startswith("nv_"))


def netavark_calls(sb: Sandbox) -> list[list[str]]:
    try:
        with open(sb.calls_log) as f:
            return [line.split() for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


def network_file(sb: Sandbox, name: str) -> dict:
    with open(f"{sb.netconf}/{name}.json") as f:
        return json.load(f)
