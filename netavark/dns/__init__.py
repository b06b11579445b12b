"""Container DNS: aardvark-dns config files and process control, plus a built-in server."""

from __future__ import annotations

# integers parsed like Rust's ``FromStr`` (NETAVARK_DNS_PORT, the pid file)
from ..network.options import ParseError as RustIntError
from ..network.options import parse_int as parse_rust_int

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
    """The port aardvark-dns listens on: ``NETAVARK_DNS_PORT`` (a u16) or 53."""
    import os

    value = os.environ.get("NETAVARK_DNS_PORT")
    if value is None:
        return 53
    try:
        return parse_rust_int(value, 16, False)
    except RustIntError as e:
        from ..errors import NetavarkError

        raise NetavarkError(f"Invalid NETAVARK_DNS_PORT {value}: {e}") from None


# ---------------------------------------------------------------------------
# which DNS server setup/teardown/update drive

SERVER_ENV = "NETAVARK_DNS_SERVER"
SERVER_MODES = ("auto", "aardvark", "builtin")


class DnsServerCommand:
    """The executable started as ``<argv...> --config <dir> -p <port> run``.

    ``usable`` is False only when aardvark-dns was asked for (or chosen) and its
    path does not exist: then setup skips DNS and update does nothing, as
    upstream does; teardown still cleans the config files with it.
    """

    __slots__ = ("argv", "builtin", "path", "usable")

    def __init__(self, path: str, argv: list[str] | None = None, builtin: bool = False,
                 usable: bool = True) -> None:
        self.path = path
        self.argv = argv if argv is not None else [path]
        self.builtin = builtin
        self.usable = usable

    def __repr__(self) -> str:
        return f"DnsServerCommand({self.argv!r}, builtin={self.builtin}, usable={self.usable})"


def builtin_server_command() -> DnsServerCommand:
    """Our own server: the ``bin/aardvark-dns`` launcher of this checkout (or of a
    ``make install`` tree) if there is one, the archive itself when running from
    ``netavark.pyz``, else ``<this python> -m netavark.dns`` (an installed package)."""
    import os
    import sys

    pkg_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    launcher = os.path.join(pkg_root, "bin", "aardvark-dns")
    if os.access(launcher, os.X_OK):
        return DnsServerCommand(launcher, builtin=True)
    python = sys.executable or "/usr/bin/python3"
    if os.path.isfile(pkg_root):
        # running from a zip application: the archive is not on a fresh
        # interpreter's path, so put it there before starting the server
        code = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
                "from netavark.dns.main import entry; entry()")
        return DnsServerCommand(python, [python, "-I", "-S", "-c", code, pkg_root],
                                builtin=True)
    return DnsServerCommand(python, [python, "-m", "netavark.dns"], builtin=True)


def select_dns_server(aardvark_binary: str) -> DnsServerCommand:
    """Choose the DNS server from ``NETAVARK_DNS_SERVER`` (``auto`` when unset).

    * ``aardvark``: exactly upstream: ``--aardvark-binary`` is used if it exists,
      otherwise DNS is disabled (``usable`` False).
    * ``builtin``: always our stdlib server, whatever ``--aardvark-binary`` says.
    * ``auto``: ``--aardvark-binary`` if it exists, else the built-in server, so
      containers still resolve each other on hosts without aardvark-dns.
    """
    import os

    mode = os.environ.get(SERVER_ENV, "auto").strip().lower() or "auto"
    if mode not in SERVER_MODES:
        from ..errors import NetavarkError

        raise NetavarkError(f"invalid {SERVER_ENV} value {mode!r}: expected one of "
                            f"{', '.join(SERVER_MODES)}")
    if mode == "builtin":
        return builtin_server_command()
    exists = os.path.exists(aardvark_binary) if aardvark_binary else False
    if exists or mode == "aardvark":
        return DnsServerCommand(aardvark_binary, usable=exists)
    return builtin_server_command()


def aardvark_config_dir(config: str) -> str:
    """``Path::new(config).join("aardvark-dns")``."""
    if not config:
        return "aardvark-dns"
    return config + ("aardvark-dns" if config.endswith("/") else "/aardvark-dns")
