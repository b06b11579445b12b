"""Firewall driver inputs used by the nftables tests (the spec's §5 example and friends)."""

from __future__ import annotations

from netavark.config import PortMapping
from netavark.firewall import NEVER, NORMAL, STRICT, PortForwardConfig, SetupNetwork
from netavark.ip import IpAddr, IpNet

EXAMPLE_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
A = IpAddr.parse
N = IpNet.parse

__all__ = ["NEVER", "NORMAL", "STRICT", "example_network", "example_port_forward", "pf_with"]


def example_network(dns_port: int = 53, isolation: str = STRICT) -> SetupNetwork:
    return SetupNetwork([N("10.88.0.0/16"), N("fd00::/64")], "podman1", EXAMPLE_ID,
                        "1D8721804F16F", isolation, dns_port)


def mappings(specs: list[dict]) -> list[PortMapping]:
    return [PortMapping(s["container_port"], s["host_ip"], s["host_port"], s["protocol"],
                        s["range"]) for s in specs]


EXAMPLE_PORTS = [
    dict(host_ip="", container_port=80, host_port=8080, protocol="tcp", range=1),
    dict(host_ip="", container_port=53, host_port=5300, protocol="udp", range=3),
    dict(host_ip="192.168.1.10", container_port=443, host_port=8443, protocol="tcp", range=1),
]


def example_port_forward(dns_port: int = 53, ports: list[dict] | None = None,
                         container_id: str = "c0ffee", v4: str = "10.88.0.2",
                         v6: str | None = "fd00::2") -> PortForwardConfig:
    return PortForwardConfig(
        container_id, EXAMPLE_ID, mappings(EXAMPLE_PORTS if ports is None else ports),
        "podman1", "1D8721804F16F",
        container_ip_v4=A(v4) if v4 else None, subnet_v4=N("10.88.0.0/16") if v4 else None,
        container_ip_v6=A(v6) if v6 else None, subnet_v6=N("fd00::/64") if v6 else None,
        dns_port=dns_port, dns_server_ips=[A("10.88.0.1"), A("fd00::1")])


def pf_with(ports: list[dict], v6: bool = False) -> PortForwardConfig:
    """One container with only an IPv4 (or only an IPv6) address."""
    if v6:
        return example_port_forward(ports=ports, v4="", v6="fd00::2")
    return example_port_forward(ports=ports, v6=None)
