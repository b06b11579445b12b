"""DHCPv4 messages (RFC 2131/2132) and the Ethernet/IPv4/UDP frames that carry them.  Sans-IO.

The proxy sends and receives whole Ethernet frames on a packet socket, so the
frame layer is here too: :func:`build_frame` and :func:`parse_frame`.  Message
contents follow what upstream's DHCP library (mozim, proxy mode) sends: the
container's MAC as ``chaddr`` and Ethernet source, a client identifier, the
host name if any and the same parameter request list.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# error kinds (their names are part of the messages, as upstream prints them)
TIMEOUT = "Timeout"
INVALID_ARGUMENT = "InvalidArgument"
INVALID_MESSAGE = "InvalidDhcpMessage"
IO_ERROR = "IoError"
NO_LEASE = "NoLease"
NOT_SUPPORTED = "NotSupported"
BUG = "Bug"


class DhcpError(Exception):
    """``<Kind>: <message>`` like upstream's DHCP library errors."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(msg)
        self.kind = kind
        self.msg = msg

    def __str__(self) -> str:
        return f"{self.kind}: {self.msg}"


# message types
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
TYPE_NAMES = {DISCOVER: "DISCOVERY", OFFER: "OFFER", REQUEST: "REQUEST", DECLINE: "DECLINE",
              ACK: "ACK", NAK: "NACK", RELEASE: "RELEASE", INFORM: "INFORM"}

# option codes
OPT_PAD = 0
OPT_SUBNET_MASK = 1
OPT_ROUTER = 3
OPT_DNS = 6
OPT_HOST_NAME = 12
OPT_DOMAIN_NAME = 15
OPT_MTU = 26
OPT_BROADCAST = 28
OPT_NTP = 42
OPT_REQUESTED_IP = 50
OPT_LEASE_TIME = 51
OPT_MESSAGE_TYPE = 53
OPT_SERVER_ID = 54
OPT_PARAM_LIST = 55
OPT_MESSAGE = 56
OPT_RENEWAL_TIME = 58
OPT_REBINDING_TIME = 59
OPT_CLIENT_ID = 61
OPT_CLASSLESS_ROUTE = 121
OPT_MS_CLASSLESS_ROUTE = 249
OPT_END = 255

# what upstream's library asks for, in its order
DEFAULT_REQUEST_OPTS = (OPT_HOST_NAME, OPT_SUBNET_MASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN_NAME,
                        OPT_MTU, OPT_NTP, OPT_CLASSLESS_ROUTE, OPT_MS_CLASSLESS_ROUTE)

BOOTREQUEST = 1
BOOTREPLY = 2
MAGIC_COOKIE = b"\x63\x82\x53\x63"
CLIENT_PORT = 68
SERVER_PORT = 67
BROADCAST_MAC = b"\xff" * 6
ZERO_IP = b"\0\0\0\0"
BROADCAST_IP = b"\xff\xff\xff\xff"
ETH_P_IP = 0x0800
ETH_P_8021Q = 0x8100
IPPROTO_UDP = 17
TTL = 128
MIN_LEN = 239  # fixed header (236) + cookie, and upstream wants room for one option

_FIXED = struct.Struct(">BBBBIHH4s4s4s4s16s64s128s")


def ip_str(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def ip_bytes(text: str) -> bytes:
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and p.isascii() and len(p) <= 3
                                  and (p == "0" or not p.startswith("0")) for p in parts):
        raise ValueError(f"invalid IPv4 address {text!r}")
    values = [int(p) for p in parts]
    if any(v > 255 for v in values):
        raise ValueError(f"invalid IPv4 address {text!r}")
    return bytes(values)


def _cstr(raw: bytes, what: str) -> str:
    end = raw.find(b"\0")
    if end >= 0:
        raw = raw[:end]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DhcpError(INVALID_MESSAGE, f"Invalid DHCPv4 {what}: not UTF-8") from None


class Config:
    """What the client needs to know about itself (upstream: ``DhcpV4Config``, proxy mode)."""

    __slots__ = ("client_id", "host_name", "iface_index", "iface_name", "request_opts",
                 "src_mac", "timeout_sec")

    def __init__(self, iface_name: str, src_mac: bytes, *, iface_index: int = 0,
                 client_id: bytes = b"", host_name: str = "", timeout_sec: int = 0,
                 request_opts: Iterable[int] = DEFAULT_REQUEST_OPTS) -> None:
        self.iface_name = iface_name
        self.iface_index = iface_index
        self.src_mac = src_mac
        self.client_id = client_id
        self.host_name = host_name
        self.timeout_sec = timeout_sec
        self.request_opts = tuple(request_opts)


class Message:
    """One DHCP message; options kept as ``code → raw bytes``."""

    __slots__ = ("chaddr", "ciaddr", "file", "flags", "giaddr", "hlen", "hops", "htype", "op",
                 "options", "secs", "siaddr", "sname", "xid", "yiaddr")

    def __init__(self, op: int = BOOTREQUEST, xid: int = 0, *, chaddr: bytes = b"",
                 ciaddr: bytes = ZERO_IP, yiaddr: bytes = ZERO_IP, siaddr: bytes = ZERO_IP,
                 giaddr: bytes = ZERO_IP, flags: int = 0, secs: int = 0, sname: str = "",
                 file: str = "", options: dict[int, bytes] | None = None) -> None:
        self.op = op
        self.htype = 1
        self.hlen = 6
        self.hops = 0
        self.xid = xid
        self.secs = secs
        self.flags = flags
        self.ciaddr = ciaddr
        self.yiaddr = yiaddr
        self.siaddr = siaddr
        self.giaddr = giaddr
        self.chaddr = chaddr
        self.sname = sname
        self.file = file
        self.options: dict[int, bytes] = dict(options or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return (f"Message(op={self.op}, xid={self.xid:#x}, type={self.message_type}, "
                f"ciaddr={ip_str(self.ciaddr)}, yiaddr={ip_str(self.yiaddr)}, "
                f"options={sorted(self.options)})")

    @property
    def message_type(self) -> int | None:
        raw = self.options.get(OPT_MESSAGE_TYPE)
        return raw[0] if raw is not None and len(raw) == 1 else None

    @property
    def client_mac(self) -> bytes:
        return self.chaddr[:6]

    # -- encoding -----------------------------------------------------
    def encode(self) -> bytes:
        out = bytearray(_FIXED.pack(
            self.op, self.htype, self.hlen, self.hops, self.xid, self.secs, self.flags,
            self.ciaddr, self.yiaddr, self.siaddr, self.giaddr, self.chaddr.ljust(16, b"\0"),
            self.sname.encode()[:63].ljust(64, b"\0"), self.file.encode()[:127].ljust(128, b"\0")))
        out += MAGIC_COOKIE
        for code in sorted(self.options):  # ascending code order, as upstream emits them
            data = self.options[code]
            if code in (OPT_PAD, OPT_END):
                continue
            # values over 255 bytes are split into several instances (RFC 3396)
            chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
            for chunk in chunks:
                out += bytes((code, len(chunk))) + chunk
        out.append(OPT_END)
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes | memoryview) -> Message:
        if len(raw) < MIN_LEN:
            raise DhcpError(INVALID_MESSAGE, f"RAW data length({len(raw)}) is less than "
                                             f"minimum DHCP message size{MIN_LEN}")
        (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr,
         sname, file) = _FIXED.unpack_from(raw)
        msg = cls(op, xid, chaddr=chaddr, ciaddr=ciaddr, yiaddr=yiaddr, siaddr=siaddr,
                  giaddr=giaddr, flags=flags, secs=secs,
                  sname=_cstr(sname, "header option 'sname'"),
                  file=_cstr(file, "header option 'file'"))
        msg.htype = htype
        msg.hlen = hlen
        msg.hops = hops
        cookie = bytes(raw[236:240])
        if cookie != MAGIC_COOKIE:
            raise DhcpError(INVALID_MESSAGE, f"DHCPv4 magic cookie not match, expected "
                                             f"{list(MAGIC_COOKIE)}, got {list(cookie)}")
        msg.options = parse_options(raw[240:])
        return msg


def parse_options(raw: bytes | memoryview) -> dict[int, bytes]:
    """Options up to END; repeated codes are concatenated (RFC 3396); a
    truncated option ends the list."""
    out: dict[int, bytes] = {}
    pos = 0
    end = len(raw)
    while pos < end:
        code = raw[pos]
        pos += 1
        if code == OPT_PAD:
            continue
        if code == OPT_END:
            break
        if pos >= end:
            break
        length = raw[pos]
        pos += 1
        if pos + length > end:
            break
        data = bytes(raw[pos:pos + length])
        pos += length
        out[code] = out.get(code, b"") + data
    return out


# ---------------------------------------------------------------------------
# leases


def _addr_list(raw: bytes) -> list[bytes]:
    return [raw[i:i + 4] for i in range(0, len(raw) - len(raw) % 4, 4)]


class Lease:
    """What a DHCPOFFER/DHCPACK grants (upstream: ``DhcpV4Lease``)."""

    __slots__ = ("broadcast_addr", "dns_srvs", "domain_name", "gateways", "host_name",
                 "lease_time", "mtu", "ntp_srvs", "siaddr", "srv_id", "srv_mac",
                 "subnet_mask", "t1", "t2", "yiaddr")

    def __init__(self) -> None:
        self.srv_mac = BROADCAST_MAC
        self.siaddr = ZERO_IP
        self.yiaddr = ZERO_IP
        self.t1 = 0
        self.t2 = 0
        self.lease_time = 0
        self.srv_id = ZERO_IP
        self.subnet_mask = ZERO_IP
        self.broadcast_addr: bytes | None = None
        self.dns_srvs: list[bytes] | None = None
        self.gateways: list[bytes] | None = None
        self.ntp_srvs: list[bytes] | None = None
        self.mtu: int | None = None
        self.host_name: str | None = None
        self.domain_name: str | None = None

    @classmethod
    def from_message(cls, msg: Message, srv_mac: bytes = BROADCAST_MAC,
                     jitter: int = 0) -> Lease:
        """The lease in a reply; ``jitter`` (-2..2 s) is added to derived T1/T2."""
        lease = cls()
        lease.srv_mac = srv_mac
        lease.siaddr = msg.siaddr
        lease.yiaddr = msg.yiaddr
        opts = msg.options

        def u32(code: int) -> int | None:
            raw = opts.get(code)
            return struct.unpack(">I", raw)[0] if raw is not None and len(raw) == 4 else None

        def addr(code: int) -> bytes | None:
            raw = opts.get(code)
            return raw if raw is not None and len(raw) == 4 else None

        def addrs(code: int) -> list[bytes] | None:
            raw = opts.get(code)
            return _addr_list(raw) if raw is not None else None

        def text(code: int) -> str | None:
            raw = opts.get(code)
            if raw is None:
                return None
            try:
                return _cstr(raw, f"option {code}")
            except DhcpError:
                return None

        lease_time = u32(OPT_LEASE_TIME)
        if lease_time is None:
            raise DhcpError(INVALID_MESSAGE, f"No lease time in DHCP message {msg!r}")
        lease.lease_time = lease_time
        t1 = u32(OPT_RENEWAL_TIME)
        lease.t1 = t1 if t1 is not None else _with_jitter(lease_time // 2, jitter)
        t2 = u32(OPT_REBINDING_TIME)
        lease.t2 = t2 if t2 is not None else _with_jitter(int(lease_time * 0.875), jitter)
        mtu = opts.get(OPT_MTU)
        if mtu is not None and len(mtu) == 2:
            lease.mtu = struct.unpack(">H", mtu)[0]
        lease.srv_id = addr(OPT_SERVER_ID) or ZERO_IP
        lease.subnet_mask = addr(OPT_SUBNET_MASK) or ZERO_IP
        lease.broadcast_addr = addr(OPT_BROADCAST)
        lease.dns_srvs = addrs(OPT_DNS)
        lease.gateways = addrs(OPT_ROUTER)
        lease.ntp_srvs = addrs(OPT_NTP)
        lease.host_name = text(OPT_HOST_NAME)
        lease.domain_name = text(OPT_DOMAIN_NAME)
        if lease.t1 > lease.t2:
            raise DhcpError(INVALID_MESSAGE, "Invalid DHCP lease: T1 is bigger than T2")
        if lease.t2 > lease.lease_time:
            raise DhcpError(INVALID_MESSAGE, "Invalid DHCP lease: T2 is bigger than lease time")
        return lease

    @property
    def server(self) -> bytes:
        """Where unicast requests go: the server identifier, else ``siaddr``."""
        return self.srv_id if self.srv_id != ZERO_IP else self.siaddr

    @property
    def prefix_len(self) -> int:
        return bin(int.from_bytes(self.subnet_mask, "big")).count("1")

    def same_address(self, other: Lease) -> bool:
        """What makes the container's configuration change (address, mask, routers)."""
        return (self.yiaddr == other.yiaddr and self.subnet_mask == other.subnet_mask
                and self.gateways == other.gateways)

    def __repr__(self) -> str:
        """Rust ``{:?}``-like rendering used in the proxy's log."""

        def opt(v: object) -> str:
            return "None" if v is None else f"Some({v})"

        def ips(v: list[bytes] | None) -> str:
            return "None" if v is None else "Some([" + ", ".join(ip_str(a) for a in v) + "])"

        def s(v: str | None) -> str:
            return "None" if v is None else f'Some("{v}")'

        return (f"DhcpV4Lease {{ srv_mac: {list(self.srv_mac)}, siaddr: {ip_str(self.siaddr)}, "
                f"yiaddr: {ip_str(self.yiaddr)}, t1_sec: {self.t1}, t2_sec: {self.t2}, "
                f"lease_time_sec: {self.lease_time}, srv_id: {ip_str(self.srv_id)}, "
                f"subnet_mask: {ip_str(self.subnet_mask)}, "
                f"broadcast_addr: {opt(ip_str(self.broadcast_addr) if self.broadcast_addr else None)}, "  # noqa: E501
                f"dns_srvs: {ips(self.dns_srvs)}, gateways: {ips(self.gateways)}, "
                f"ntp_srvs: {ips(self.ntp_srvs)}, mtu: {opt(self.mtu)}, "
                f"host_name: {s(self.host_name)}, domain_name: {s(self.domain_name)} }}")


def _with_jitter(value: int, jitter: int) -> int:
    # small values keep T1 < T2 < lease time intact
    return value if value < 20 else value + jitter


# ---------------------------------------------------------------------------
# messages the client sends


def _base(xid: int, config: Config, msg_type: int) -> Message:
    msg = Message(BOOTREQUEST, xid, chaddr=config.src_mac)
    if config.host_name:
        # upstream's library sends the name NUL-terminated, at most 254 bytes
        msg.options[OPT_HOST_NAME] = config.host_name.encode()[:254] + b"\0"
    msg.options[OPT_CLIENT_ID] = config.client_id
    msg.options[OPT_MESSAGE_TYPE] = bytes((msg_type,))
    return msg


def discover(xid: int, config: Config) -> Message:
    msg = _base(xid, config, DISCOVER)
    msg.options[OPT_PARAM_LIST] = bytes(config.request_opts)
    return msg


def request(xid: int, config: Config, offer: Lease) -> Message:
    """SELECTING: broadcast, naming the chosen server and address."""
    msg = _base(xid, config, REQUEST)
    msg.options[OPT_SERVER_ID] = offer.server
    msg.options[OPT_REQUESTED_IP] = offer.yiaddr
    msg.options[OPT_PARAM_LIST] = bytes(config.request_opts)
    return msg


def renew(xid: int, config: Config, lease: Lease) -> Message:
    """RENEWING/REBINDING: the address goes in ``ciaddr`` and nothing names the
    server or asks for an address (RFC 2131 §4.3.2)."""
    msg = _base(xid, config, REQUEST)
    msg.ciaddr = lease.yiaddr
    msg.options[OPT_PARAM_LIST] = bytes(config.request_opts)
    return msg


def release(xid: int, config: Config, lease: Lease) -> Message:
    """RFC 2131 §4.4.6: ``ciaddr`` is the address, option 54 names the server."""
    msg = _base(xid, config, RELEASE)
    msg.ciaddr = lease.yiaddr
    msg.options[OPT_SERVER_ID] = lease.server
    return msg


# ---------------------------------------------------------------------------
# Ethernet / IPv4 / UDP


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_frame(src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, sport: int,
                dport: int, payload: bytes) -> bytes:
    udp_len = 8 + len(payload)
    pseudo = src_ip + dst_ip + struct.pack(">BBH", 0, IPPROTO_UDP, udp_len)
    udp_csum = _checksum(pseudo + struct.pack(">HHHH", sport, dport, udp_len, 0) + payload)
    udp = struct.pack(">HHHH", sport, dport, udp_len, udp_csum or 0xFFFF)
    ip_hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, TTL, IPPROTO_UDP, 0,
                         src_ip, dst_ip)
    ip_hdr = ip_hdr[:10] + struct.pack(">H", _checksum(ip_hdr)) + ip_hdr[12:]
    return dst_mac + src_mac + struct.pack(">H", ETH_P_IP) + ip_hdr + udp + payload


class Frame:
    """A received UDP datagram with the addresses around it."""

    __slots__ = ("dport", "dst_ip", "dst_mac", "payload", "sport", "src_ip", "src_mac")

    def __init__(self, src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes,
                 sport: int, dport: int, payload: bytes) -> None:
        self.src_mac = src_mac
        self.dst_mac = dst_mac
        self.src_ip = src_ip
        self.dst_ip = dst_ip
        self.sport = sport
        self.dport = dport
        self.payload = payload


def _bad_frame(why: str) -> DhcpError:
    return DhcpError(INVALID_MESSAGE, f"Failed to parse ethernet package to DHCP message: {why}")


def parse_frame(buf: bytes | memoryview) -> Frame:
    if len(buf) < 14:
        raise _bad_frame("frame shorter than an Ethernet header")
    dst_mac, src_mac = bytes(buf[0:6]), bytes(buf[6:12])
    pos = 12
    ethertype = struct.unpack_from(">H", buf, pos)[0]
    pos += 2
    while ethertype == ETH_P_8021Q:
        if len(buf) < pos + 4:
            raise _bad_frame("truncated VLAN tag")
        ethertype = struct.unpack_from(">H", buf, pos + 2)[0]
        pos += 4
    if ethertype != ETH_P_IP:
        raise _bad_frame("Not UDP payload")
    if len(buf) < pos + 20:
        raise _bad_frame("truncated IPv4 header")
    vihl, _, total, _, frag, _, proto, _, src_ip, dst_ip = struct.unpack_from(
        ">BBHHHBBH4s4s", buf, pos)
    ihl = (vihl & 0xF) * 4
    if vihl >> 4 != 4 or ihl < 20:
        raise _bad_frame("invalid IPv4 header")
    if total < ihl or len(buf) < pos + total:
        raise _bad_frame("invalid IPv4 total length")
    if proto != IPPROTO_UDP or frag & 0x3FFF:
        raise _bad_frame("Not UDP payload")
    udp_at = pos + ihl
    ip_end = pos + total
    if ip_end - udp_at < 8:
        raise _bad_frame("truncated UDP header")
    sport, dport, udp_len = struct.unpack_from(">HHH", buf, udp_at)
    if udp_len < 8 or udp_at + udp_len > ip_end:
        raise _bad_frame("invalid UDP length")
    payload = bytes(buf[udp_at + 8:udp_at + udp_len])
    return Frame(src_mac, dst_mac, bytes(src_ip), bytes(dst_ip), sport, dport, payload)
