"""An aardvark entry like the ones upstream's DNS tests use, with overridable fields."""

from __future__ import annotations

from netavark.dns import AardvarkEntry
from netavark.ip import IpAddr

CID = "f031bf33eecba75d0d84952337b1ceef6a239eb8e94b48aee0993d0791345325"


def ips(*texts: str) -> list[IpAddr]:
    return [IpAddr.parse(t) for t in texts]


def entry(**kw) -> AardvarkEntry:
    args = {"network_name": "podman1", "network_gateways": ips("10.89.3.1", "fd10:88:a::1"),
            "network_dns_servers": None, "container_id": CID,
            "container_ips_v4": ips("10.89.3.2"), "container_ips_v6": ips("fd10:88:a::2"),
            "container_names": ["somename"], "container_dns_servers": None,
            "is_internal": False}
    args.update(kw)
    return AardvarkEntry(**args)
