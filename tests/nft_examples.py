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


def firewall_inputs(testfile: str, dns_port: int = 53, container_id: str | None = None
                    ) -> list[tuple[SetupNetwork, PortForwardConfig]]:
    """What the bridge driver hands the firewall driver for an upstream test input
    (managed bridges that use the firewall; first address of each family)."""
    import hashlib
    import json

    with open(testfile) as f:
        doc = json.load(f)
    nets = doc["networks"]
    items = nets.items() if isinstance(nets, dict) else [(n["name"], n) for n in nets]
    out = []
    iso_map = {None: STRICT, "strict": STRICT, "true": NORMAL, "false": NEVER}
    for name, per in items:
        info = doc["network_info"][name]
        if info.get("driver") != "bridge":
            continue
        opts = info.get("options") or {}
        if opts.get("mode", "managed") not in ("", "managed"):
            continue
        internal = bool(info.get("internal"))
        if internal and not info.get("dns_enabled"):
            continue
        subnets = [N(s["subnet"]) for s in info.get("subnets") or []]
        gws = [A(s["gateway"]) for s in info.get("subnets") or [] if s.get("gateway")]
        ips = [A(x) for x in per.get("static_ips") or []]
        v4 = next((ip for ip in ips if ip.version == 4), None)
        v6 = next((ip for ip in ips if ip.version == 6), None)

        def subnet_of(ip: IpAddr | None, subnets: list[IpNet] = subnets) -> IpNet | None:
            if ip is None:
                return None
            for s in subnets:
                if s.contains(ip):
                    return s.trunc()
            return None

        hash_name = hashlib.sha512(name.encode()).hexdigest().upper()[:13]
        out4 = opts.get("outbound_addr4")
        out6 = opts.get("outbound_addr6")
        net = SetupNetwork(subnets, info["network_interface"], info["id"], hash_name,
                           iso_map[opts.get("isolate")], dns_port, internal=internal,
                           outbound_addr4=A(out4) if out4 else None,
                           outbound_addr6=A(out6) if out6 else None)
        ports = doc.get("port_mappings")
        pf = PortForwardConfig(
            container_id or doc["container_id"], info["id"],
            None if ports is None else mappings(ports), name, hash_name,
            container_ip_v4=v4, subnet_v4=subnet_of(v4), container_ip_v6=v6,
            subnet_v6=subnet_of(v6), dns_port=dns_port, dns_server_ips=gws, internal=internal)
        out.append((net, pf))
    return out


def _net(name: str, bridge: str, net_id: str, subnets: list[str], iso: str = STRICT,
         dns_port: int = 53, **kw: object) -> SetupNetwork:
    return SetupNetwork([N(s) for s in subnets], bridge, net_id, name.upper()[:13], iso,
                        dns_port, **kw)  # type: ignore[arg-type]


def _ctr(net: SetupNetwork, cid: str, ips: list[str], ports: list[dict] | None,
         dns_port: int = 53) -> PortForwardConfig:
    addrs = [A(x) for x in ips]
    v4 = next((a for a in addrs if a.version == 4), None)
    v6 = next((a for a in addrs if a.version == 6), None)

    def sub(ip: IpAddr | None) -> IpNet | None:
        if ip is None:
            return None
        return next(s.trunc() for s in net.subnets or [] if s.contains(ip))

    gws = [IpAddr(s.version, s.network().value + 1) for s in net.subnets or []]
    return PortForwardConfig(cid, net.network_id, None if ports is None else mappings(ports),
                             net.bridge_name, net.network_hash_name, container_ip_v4=v4,
                             subnet_v4=sub(v4), container_ip_v6=v6, subnet_v6=sub(v6),
                             dns_port=dns_port, dns_server_ips=gws, internal=net.internal)


def _p(hp: int, cp: int, proto: str = "tcp", rng: int = 1, host_ip: str = "") -> dict:
    return dict(host_ip=host_ip, container_port=cp, host_port=hp, protocol=proto, range=rng)


def scenarios(dns_port: int = 53) -> dict[str, list[tuple[SetupNetwork, list[PortForwardConfig]]]]:
    """Named host states: networks, each with its containers' port-forward inputs."""
    d = dns_port
    out: dict[str, list[tuple[SetupNetwork, list[PortForwardConfig]]]] = {}
    n = _net("podman", "podman0", "53ce4390f3adb1681cde8a7ce39d28ab28290a2b0e8d36",
             ["10.88.0.0/16"], dns_port=d)
    out["simple"] = [(n, [_ctr(n, "c1", ["10.88.0.2"], None, d)])]
    n = example_network(d)
    out["example"] = [(n, [example_port_forward(d),
                           example_port_forward(d, [_p(9000, 90, "sctp")], "c2", "10.88.0.3",
                                                "fd00::3")])]
    nets = [
        _net("isolate1", "isolate1", "f3ac3c903b76f20e8a12", ["10.89.0.0/24", "fd90::/64"],
             NORMAL, d),
        _net("isolate2", "isolate2", "6ffba21f0e56b4a3d4a1", ["10.89.1.0/24", "fd99::/64"],
             NORMAL, d),
        _net("isolate3", "isolate3", "0c0b62e3a2a7f0a0e3b5", ["10.89.2.0/24", "fd92::/64"],
             STRICT, d),
        _net("podman", "podman0", "53ce4390f3adb1681cde", ["10.88.0.0/16"], NEVER, d),
    ]
    out["isolation"] = [
        (nets[0], [_ctr(nets[0], "i1", ["10.89.0.2", "fd90::2"], None, d)]),
        (nets[1], [_ctr(nets[1], "i2", ["10.89.1.2", "fd99::2"], [_p(8080, 80)], d)]),
        (nets[2], [_ctr(nets[2], "i3", ["10.89.2.2"], [_p(8081, 80, "udp")], d)]),
        (nets[3], [_ctr(nets[3], "i4", ["10.88.0.5"], [_p(8082, 80)], d)]),
    ]
    t1 = _net("t1", "podman2", "fae505bba2b3ad2b9bc7", ["10.89.1.0/24"], dns_port=d)
    t2 = _net("t2", "podman3", "d7322dfb9353cb5c1ada", ["10.89.2.0/24"], dns_port=d)
    out["two_networks"] = [(t1, [_ctr(t1, "a4", ["10.89.1.2"], [_p(8080, 8080)], d)]),
                           (t2, [_ctr(t2, "a4", ["10.89.2.2"], [_p(8080, 8080)], d)])]
    o = _net("outbound", "podman1", "2f259bab93aaaaa2542b", ["10.89.0.0/24", "fd10:88:a::/64"],
             dns_port=d, outbound_addr4=A("100.1.100.1"), outbound_addr6=A("fd20:100:200::1"))
    out["outbound"] = [(o, [_ctr(o, "o1", ["10.89.0.2", "fd10:88:a::2"], [], d)])]
    odd = _net("odd", "br-odd", "0dd0dd0dd0dd", ["10.77.2.0/23", "172.20.16.0/20",
                                                   "fd77:1:2::/63", "fd77:9::/120"], dns_port=d)
    out["odd_prefixes"] = [(odd, [
        _ctr(odd, "x1", ["10.77.3.9", "fd77:1:2:1::9"],
             [_p(7000, 70, "udp", 5), _p(7100, 71, host_ip="127.0.0.1"),
              _p(7200, 72, host_ip="::1"), _p(7300, 73, "sctp", 2, "0.0.0.0"),
              _p(7400, 74, host_ip="::"), _p(7500, 75, host_ip="fd77:1:2::1")], d),
        _ctr(odd, "x2", ["172.20.17.4"], [_p(7000, 70, "udp", 5)], d),
        _ctr(odd, "x3", ["fd77:9::42"], [_p(7600, 76)], d),
    ])]
    i = _net("internal", "podman9", "ec79dd0c00d3f0b8a6e0", ["10.89.3.0/24", "fd10:88:b::/64"],
             dns_port=d, internal=True)
    out["internal_dns"] = [(i, [_ctr(i, "n1", ["10.89.3.2", "fd10:88:b::2"], [_p(8080, 80)], d)])]
    return out
