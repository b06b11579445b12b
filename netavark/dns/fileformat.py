"""The aardvark-dns network file: one per network under ``<config>/aardvark-dns/``.

```
<bind ip>[,<bind ip>...][ <network dns server>[,...]]
<container id> <ipv4>[,...] <ipv6>[,...] <name>[,...][ <container dns server>[,...]]
```

Fields are separated by single spaces and lists by commas; an empty list is an
empty field.  Writing (netavark side) and parsing (the built-in server) live
together so that both sides agree on every detail.  Pure functions, no I/O.
"""

from __future__ import annotations

from ..errors import NetavarkError
from ..ip import IpAddr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from . import AardvarkEntry

INTERNAL_SUFFIX = "%int"
PID_FILE = "aardvark.pid"


def _join(items: Iterable[object]) -> str:
    return ",".join(str(i) for i in items)


def header_line(entry: AardvarkEntry) -> str:
    """First line of a new network file (bind IPs, then network DNS servers if any)."""
    line = _join(entry.network_gateways)
    if entry.network_dns_servers:
        line += " " + _join(entry.network_dns_servers)
    return line + "\n"


def container_line(entry: AardvarkEntry) -> str:
    """The line for one container: id, IPv4s, IPv6s, names[, DNS servers]."""
    line = (f"{entry.container_id} {_join(entry.container_ips_v4)} "
            f"{_join(entry.container_ips_v6)} {','.join(entry.container_names)}")
    if entry.container_dns_servers:
        line += " " + _join(entry.container_dns_servers)
    return line + "\n"


def replace_network_dns_servers(content: str, servers: list[str]) -> str:
    """``netavark update``: keep the bind IPs of line 1, put ``servers`` after them.

    Every line is re-terminated with ``\\n``; the servers are not validated.
    """
    out = []
    for idx, line in enumerate(split_terminator(content)):
        if idx == 0:
            line = line.split(" ")[0]
            if servers:
                line += " " + ",".join(servers)
        out.append(line + "\n")
    return "".join(out)


def remove_container(content: str, container_id: str) -> tuple[str, int]:
    """Drop every line containing ``container_id``; returns new content and line count."""
    kept = [line + "\n" for line in split_terminator(content) if container_id not in line]
    return "".join(kept), len(kept)


def split_terminator(content: str) -> list[str]:
    """Rust ``str::split_terminator('\\n')``: a trailing empty piece is dropped."""
    if not content:
        return []
    lines = content.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


# ---------------------------------------------------------------------------
# parsing (the server side)


class ConfigError(NetavarkError):
    """A network file the server cannot use (message as aardvark-dns logs it)."""


class ContainerEntry:
    __slots__ = ("dns_servers", "id", "names", "v4", "v6")

    def __init__(self, id: str, v4: list[IpAddr], v6: list[IpAddr], names: list[str],
                 dns_servers: list[IpAddr] | None) -> None:
        self.id = id
        self.v4 = v4
        self.v6 = v6
        self.names = names
        self.dns_servers = dns_servers


class NetworkFile:
    """One parsed network file."""

    __slots__ = ("bind_ips", "containers", "dns_servers")

    def __init__(self, bind_ips: list[IpAddr], dns_servers: list[IpAddr],
                 containers: list[ContainerEntry]) -> None:
        self.bind_ips = bind_ips
        self.dns_servers = dns_servers
        self.containers = containers


def _parse_ips(field: str, version: int | None, what: str) -> list[IpAddr]:
    out = []
    for text in field.split(","):
        try:
            out.append(IpAddr.parse(text, version))
        except NetavarkError as e:
            raise ConfigError(f"error parsing {what} {text}: {e.msg}") from None
    return out


def parse_network_file(content: str, path: str = "") -> NetworkFile:
    """Parse like aardvark-dns: empty lines skipped, line 1 = bind IPs [+ DNS servers],
    then one container per line with at least 4 fields."""
    bind_ips: list[IpAddr] = []
    dns_servers: list[IpAddr] = []
    containers: list[ContainerEntry] = []
    first = True
    for line in content.split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        if first:
            first = False
            bind_ips = _parse_ips(parts[0], None, "ip address")
            if len(parts) > 1:
                dns_servers = _parse_ips(parts[1], None, "network dns address")
            continue
        if len(parts) < 4:
            raise ConfigError(f"configuration file {path} line {line} is improperly "
                              "formatted - too few entries")
        v4 = _list_field(parts[1], 4)
        v6 = _list_field(parts[2], 6)
        names = parts[3].lower().split(",")
        servers = None
        if len(parts) == 5 and parts[4]:
            servers = _list_field(parts[4], None, "DNS server address")
        containers.append(ContainerEntry(parts[0].lower(), v4, v6, names, servers))
    if not bind_ips:
        raise ConfigError(f"configuration file {path} does not provide any bind addresses")
    return NetworkFile(bind_ips, dns_servers, containers)


def _list_field(field: str, version: int | None, what: str = "IP address") -> list[IpAddr]:
    if not field:
        return []
    out = []
    for text in field.split(","):
        try:
            out.append(IpAddr.parse(text, version))
        except NetavarkError as e:
            raise ConfigError(f"error parsing {what} {field}: {e.msg}") from None
    return out
