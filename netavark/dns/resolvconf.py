"""The host's upstream resolvers: ``nameserver`` lines of ``/etc/resolv.conf``."""

from __future__ import annotations

from ..errors import NetavarkError
from ..ip import IpAddr

RESOLV_CONF = "/etc/resolv.conf"
DNS_PORT = 53
MAX_NAMESERVERS = 3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    SockAddr = Union[tuple[str, int], tuple[str, int, int, int]]


def sockaddr(ip: IpAddr, scope: int = 0) -> tuple:
    """The ``_socket`` address of port 53 on ``ip``."""
    if ip.version == 4:
        return (str(ip), DNS_PORT)
    return (str(ip), DNS_PORT, 0, scope)


def parse_resolv_conf(content: str) -> list[tuple]:
    """The first three nameservers as socket addresses (a bad entry is an error)."""
    from _socket import if_nametoindex

    servers: list[tuple] = []
    for line in content.split("\n"):
        for sep in "#;":
            cut = line.find(sep)
            if cut >= 0:
                line = line[:cut]
        parts = line.split()
        if len(parts) < 2 or parts[0] != "nameserver":
            continue
        text = parts[1]
        scope = None
        if "%" in text:
            text, _, zone = text.partition("%")
            if zone.isascii() and zone.isdigit() and int(zone) < 1 << 32:
                scope = int(zone)
            else:
                try:
                    scope = if_nametoindex(zone)
                except OSError as e:
                    raise NetavarkError(f"resolve scope id: {e}") from None
        try:
            ip = IpAddr.parse(text)
        except NetavarkError as e:
            raise NetavarkError(f"{text}: parse address: {e.msg}") from None
        if ip.version == 4 and scope is not None:
            raise NetavarkError("scope id not supported for ipv4 address")
        servers.append(sockaddr(ip, scope or 0))
    return servers[:MAX_NAMESERVERS]


def read_resolv_conf(path: str = RESOLV_CONF) -> list[tuple]:
    from ..errors import IoError, wrap

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise wrap("open resolv.conf", IoError.from_os(e)) from None
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        raise wrap("read resolv.conf",
                   IoError(None, "stream did not contain valid UTF-8")) from None
    return parse_resolv_conf(content)
