"""Container DNS: aardvark-dns config files and process control, plus a built-in server."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..ip import IpAddr

DNS_DOMAIN = "dns.podman"


def safe_string(value: str) -> str | None:
    """Why ``value`` cannot go into an aardvark config line, or None if it can."""
    if not value:
        return "name is empty"
    if "," in value or "\n" in value or " " in value:
        return "name contains invalid chars"
    return None


class AardvarkEntry:
    """One container on one DNS-enabled network (a line of ``<config>/aardvark-dns/<net>``).

    ``network_gateways`` are the addresses aardvark-dns binds to; names are
    already filtered through :func:`safe_string`.
    """

    __slots__ = ("container_dns_servers", "container_id", "container_ips_v4",
                 "container_ips_v6", "container_names", "is_internal", "network_dns_servers",
                 "network_gateways", "network_name")

    def __init__(self, network_name: str, network_gateways: list[IpAddr],
                 network_dns_servers: list[IpAddr] | None, container_id: str,
                 container_ips_v4: list[IpAddr], container_ips_v6: list[IpAddr],
                 container_names: list[str], container_dns_servers: list[IpAddr] | None,
                 is_internal: bool) -> None:
        self.network_name = network_name
        self.network_gateways = network_gateways
        self.network_dns_servers = network_dns_servers
        self.container_id = container_id
        self.container_ips_v4 = container_ips_v4
        self.container_ips_v6 = container_ips_v6
        self.container_names = container_names
        self.container_dns_servers = container_dns_servers
        self.is_internal = is_internal


def dns_port_from_env() -> int:
    """``NETAVARK_DNS_PORT`` (default 53), parsed like Rust's ``u16``."""
    import os

    from ..errors import NetavarkError
    from ..network.options import ParseError, parse_u16

    value = os.environ.get("NETAVARK_DNS_PORT")
    if value is None:
        return 53
    try:
        return parse_u16(value)
    except ParseError as e:
        raise NetavarkError(f"Invalid NETAVARK_DNS_PORT {value}: {e}") from None
