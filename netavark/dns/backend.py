"""What the built-in server knows: the network files turned into lookup tables,
and the decision for one query (answer locally, NXDOMAIN, or forward where).

Sans-IO apart from :func:`load_config_dir`, which reads the directory.  IPs
are keyed by their packed bytes (4 or 16), which is what the server derives
from a client address.
"""

from __future__ import annotations

import os

from ..errors import IoError, NetavarkError
from . import wire
from .fileformat import INTERNAL_SUFFIX, PID_FILE, ConfigError, parse_network_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..ip import IpAddr

DEFAULT_SEARCH_DOMAIN = ".dns.podman"


class Backend:
    """Lookup tables built from every network file of the config directory."""

    __slots__ = ("_memberships", "ctr_dns", "internal", "ip_networks", "listen", "names",
                 "net_dns", "reverse", "search_domain")

    def __init__(self, search_domain: str = DEFAULT_SEARCH_DOMAIN) -> None:
        if not search_domain.endswith("."):
            search_domain += "."
        self.search_domain = search_domain
        # container ip -> names of the networks its container is on (file order)
        self.ip_networks: dict[bytes, list[str]] = {}
        # network -> name -> ips
        self.names: dict[str, dict[str, list[bytes]]] = {}
        # network -> ip -> names
        self.reverse: dict[str, dict[bytes, list[str]]] = {}
        # container ip -> its own DNS servers (None: not configured)
        self.ctr_dns: dict[bytes, list[IpAddr] | None] = {}
        # network -> network DNS servers
        self.net_dns: dict[str, list[IpAddr]] = {}
        self.internal: dict[str, bool] = {}
        # network -> addresses to listen on
        self.listen: dict[str, list[IpAddr]] = {}
        # (container id, network, its ips) in file order, for finish()
        self._memberships: list[tuple[str, str, list[bytes]]] = []

    # -- building -----------------------------------------------------------
    def add_network(self, name: str, internal: bool, content: str, path: str = "") -> None:
        """Merge one network file (raises ConfigError if it does not parse)."""
        parsed = parse_network_file(content, path)
        if parsed.dns_servers and not internal:
            self.net_dns[name] = parsed.dns_servers
        if internal:
            self.net_dns[name] = []
        self.listen.setdefault(name, []).extend(parsed.bind_ips)
        if not parsed.containers:
            return
        names = self.names.setdefault(name, {})
        reverse = self.reverse.setdefault(name, {})
        for ctr in parsed.containers:
            ips = [ip.packed for ip in (*ctr.v4, *ctr.v6)]
            for ip in ips:
                reverse.setdefault(ip, []).extend(ctr.names)
                if not internal:
                    self.ctr_dns[ip] = ctr.dns_servers
            for alias in ctr.names:
                names.setdefault(alias, []).extend(ips)
            self.internal[name] = internal
            self._memberships.append((ctr.id, name, ips))

    def finish(self) -> None:
        """Derive ip -> networks: every ip of a container belongs to all its networks."""
        networks_of: dict[str, list[str]] = {}
        ips_of: dict[str, list[bytes]] = {}
        for cid, net, ips in self._memberships:
            nets = networks_of.setdefault(cid, [])
            if net not in nets:
                nets.append(net)
            ips_of.setdefault(cid, []).extend(ips)
        for cid, ips in ips_of.items():
            for ip in ips:
                self.ip_networks.setdefault(ip, []).extend(networks_of[cid])

    # -- queries ------------------------------------------------------------
    def lookup(self, src: bytes | None, network: str, name: str) -> list[bytes] | None:
        """All addresses for ``name`` on the networks ``src`` may see, or None."""
        name = name.lower()
        if name.endswith(self.search_domain):
            name = name[:-len(self.search_domain)]
        if name.endswith("."):
            name = name[:-1]
        nets = self.ip_networks.get(src) if src is not None else None
        if nets is None:
            nets = [network]
        results: list[bytes] = []
        for net in nets:
            table = self.names.get(net)
            if table is not None:
                found = table.get(name)
                if found:
                    results.extend(found)
        return results or None

    def reverse_lookup(self, src: bytes | None, ip: bytes) -> list[str] | None:
        nets = self.ip_networks.get(src) if src is not None else None
        if nets is None:
            return None
        for net in nets:
            table = self.reverse.get(net)
            if table is not None:
                names = table.get(ip)
                if names is not None:
                    return names
        return None

    def only_internal(self, src: bytes | None) -> bool:
        """True iff ``src`` is a container on internal networks only (no forwarding)."""
        nets = self.ip_networks.get(src) if src is not None else None
        if nets is None:
            return False
        return all(self.internal.get(net, True) for net in nets)

    def upstream_for(self, src: bytes | None) -> list[IpAddr] | None:
        """Container DNS servers, else the union of its networks' servers (None: unknown src)."""
        if src is None:
            return None
        servers = self.ctr_dns.get(src)
        if servers:
            return list(servers)
        nets = self.ip_networks.get(src)
        if nets is None:
            return None
        out: list[IpAddr] = []
        for net in nets:
            out.extend(self.net_dns.get(net, ()))
        return out


def load_config_dir(path: str, search_domain: str = DEFAULT_SEARCH_DOMAIN,
                    on_file_error: Callable[[str, NetavarkError], None] | None = None) -> Backend:
    """Read every network file of ``path`` (aardvark-dns semantics).

    A missing directory is an error; a file that does not parse is skipped
    (reported through ``on_file_error``).
    """
    try:
        if not os.path.isdir(path):
            os.stat(path)  # raises if missing
            raise NetavarkError(f"config directory {path} must exist and be a directory")
        entries = os.listdir(path)
    except OSError as e:
        raise IoError.from_os(e) from None
    backend = Backend(search_domain)
    for entry in entries:
        if entry == PID_FILE:
            continue
        try:
            entry.encode("utf-8")
        except UnicodeEncodeError:
            lossy = os.fsencode(entry).decode("utf-8", "replace")
            raise NetavarkError(f"configuration file {lossy} name has non-UTF8 characters"
                                ) from None
        full = os.path.join(path, entry)
        try:
            with open(full, "rb") as f:
                content = f.read().decode("utf-8")
            internal = entry.endswith(INTERNAL_SUFFIX)
            name = entry[:-len(INTERNAL_SUFFIX)] if internal else entry
            backend.add_network(name, internal, content, full)
        except FileNotFoundError:
            continue  # removed while we were reading
        except IsADirectoryError as e:
            if on_file_error is not None:
                on_file_error(full, IoError.from_os(e))
        except OSError as e:
            if on_file_error is not None:
                on_file_error(full, IoError.from_os(e))
        except UnicodeDecodeError:
            if on_file_error is not None:
                on_file_error(full, IoError(None, "stream did not contain valid UTF-8"))
        except ConfigError as e:
            if on_file_error is not None:
                on_file_error(full, e)
    backend.finish()
    return backend


# ---------------------------------------------------------------------------
# deciding what to do with one query

LOCAL = 0     # reply is ready
FORWARD = 1   # send to the upstream servers in ``servers``
DROP = 2      # no reply at all


def _ptr_ip(name: str) -> bytes | None:
    """The address a reverse name stands for (suffixes matched as received)."""
    from ..ip import IpAddr

    if name.endswith(".in-addr.arpa."):
        text = ".".join(reversed(name[:-len(".in-addr.arpa.")].split(".")))
    elif name.endswith(".ip6.arpa."):
        parts = []
        for i, c in enumerate(reversed(name[:-len(".ip6.arpa.")].split("."))):
            parts.append(c)
            if i % 4 == 3 and i < 31:
                parts.append(":")
        text = "".join(parts)
    else:
        return None
    try:
        return IpAddr.parse(text).packed
    except NetavarkError:
        return None


def decide(backend: Backend, network: str, src: bytes | None, q: wire.Query, buf: bytes,
           no_proxy: bool) -> tuple[int, bytes | list[IpAddr] | None]:
    """What to do with a parsed request from ``src`` received on ``network``.

    Returns (LOCAL, reply without size limit), (FORWARD, servers or None for the
    host resolvers) or (DROP, None).
    """
    if q.flags & wire.QR:
        return DROP, None  # a response sent to us: answering could start a loop
    if q.qdcount == 0:
        return LOCAL, wire.build_reply(buf, q, wire.FORMERR, [])
    if q.flags & wire.OPCODE_MASK:
        return LOCAL, wire.build_reply(buf, q, wire.NOTIMP, [])
    name = wire.name_to_text(q.labels)
    qtype = q.qtype
    if qtype == wire.TYPE_A or qtype == wire.TYPE_AAAA:
        ips = backend.lookup(src, network, name)
        if ips is not None:
            size = 4 if qtype == wire.TYPE_A else 16
            answers = [wire.answer_record(qtype, ip) for ip in ips if len(ip) == size]
            return LOCAL, wire.build_reply(buf, q, wire.NOERROR, answers)
    elif qtype == wire.TYPE_PTR:
        ip = _ptr_ip(name)
        if ip is not None:
            names = backend.reverse_lookup(src, ip)
            if names is not None:
                answers = []
                for entry in names:
                    labels = wire.text_to_labels(entry + ".")
                    if labels is not None:
                        answers.append(wire.answer_record(wire.TYPE_PTR,
                                                          wire.encode_name(labels)))
                return LOCAL, wire.build_reply(buf, q, wire.NOERROR, answers)
    if no_proxy or backend.only_internal(src) or name.endswith(backend.search_domain):
        return LOCAL, wire.build_reply(buf, q, wire.NXDOMAIN, [])
    servers = backend.upstream_for(src)
    return FORWARD, (servers or None)
