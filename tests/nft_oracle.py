"""Test oracle: upstream netavark's nftables driver, expressed as ``nft -j`` JSON.

Upstream netavark (src/firewall/nft.rs, crate ``nftables`` 0.6) lists the
``inet netavark`` table with ``nft -j list table inet netavark``, decides what
to add or delete on that JSON, and pipes one JSON batch to ``nft -j -f -``.
This module builds the same JSON documents, so tests can make the real
``nft`` program create exactly the rules upstream would create (to check that
our netlink driver recognises and deletes them, that our bytes equal nft's,
and that ``nft list ruleset`` is the same after both).  Test-only: the runtime
never executes ``nft``.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from netavark.firewall import NEVER, STRICT, PortForwardConfig, SetupNetwork
from netavark.ip import IpAddr, IpNet

T = "netavark"
DNATCHAIN = "NETAVARK-HOSTPORT-DNAT"
MASKCHAIN = "NETAVARK-HOSTPORT-SETMARK"
ISO1, ISO2, ISO3 = "NETAVARK-ISOLATION-1", "NETAVARK-ISOLATION-2", "NETAVARK-ISOLATION-3"

# -- JSON building blocks ------------------------------------------------------


def table() -> dict:
    return {"table": {"family": "inet", "name": T}}


def base_chain(name: str, ctype: str, hook: str, prio: int) -> dict:
    return {"chain": {"family": "inet", "table": T, "name": name, "type": ctype, "hook": hook,
                      "prio": prio, "policy": "accept"}}


def chain(name: str) -> dict:
    return {"chain": {"family": "inet", "table": T, "name": name}}


def rule(chain_name: str, expr: list) -> dict:
    return {"rule": {"family": "inet", "table": T, "chain": chain_name, "expr": expr}}


def match(left: Any, right: Any, op: str = "==") -> dict:
    return {"match": {"left": left, "right": right, "op": op}}


def payload(proto: str, field: str) -> dict:
    return {"payload": {"protocol": proto, "field": field}}


def meta(key: str) -> dict:
    return {"meta": {"key": key}}


def ct(key: str) -> dict:
    return {"ct": {"key": key}}


def jump(target: str) -> dict:
    return {"jump": {"target": target}}


ACCEPT = {"accept": None}
DROP = {"drop": None}
MASQ = {"masquerade": None}


def ip_match(ip: IpAddr, field: str, op: str = "==") -> dict:
    return match(payload("ip" if ip.version == 4 else "ip6", field), str(ip), op)


def subnet_match(net: IpNet, field: str, op: str = "==") -> dict:
    return match(payload("ip" if net.version == 4 else "ip6", field),
                 {"prefix": {"addr": str(net.addr), "len": net.prefix}}, op)


def dport_cond(pm: Any) -> dict:
    if pm.range > 1:
        right: Any = {"range": [pm.host_port, pm.host_port + pm.range - 1]}
    else:
        right = pm.host_port
    return match(payload(pm.protocol, "dport"), right)


def l4_tcp_udp_dport53() -> list:
    return [match(meta("l4proto"), {"set": ["udp", "tcp"]}),
            match(payload("th", "dport"), 53)]


def nat(kind: str, ip: IpAddr, port: int | None = None) -> dict:
    d: dict[str, Any] = {"addr": str(ip), "family": "ip" if ip.version == 4 else "ip6"}
    if port is not None:
        d["port"] = port
    return {kind: d}


def subnet_chain_name(net: IpNet, net_id: str, dnat: bool) -> str:
    clean = str(net).replace(".", "_").replace(":", "-").replace("/", "_nm")
    name = f"nv_{net_id[:8]}_{clean}"
    return name + "_dnat" if dnat else name


# the individual global rules
G_MASQ = rule("POSTROUTING", [match({"&": [meta("mark"), 0x2000]}, 0x2000), MASQ])
G_SETMARK = rule(MASKCHAIN, [{"mangle": {"key": meta("mark"),
                                         "value": {"|": [meta("mark"), 0x2000]}}}])


def g_fib_jump(chain_name: str) -> dict:
    return rule(chain_name, [match({"fib": {"result": "type", "flags": ["daddr"]}}, "local"),
                             jump(DNATCHAIN)])


G_INVALID = rule("FORWARD", [match(ct("state"), "invalid", "in"), DROP])
G_CTMARK = rule("FORWARD", [match({"&": [ct("mark"), 0x1000]}, 0x1000), ACCEPT])
G_ISO1 = rule("FORWARD", [jump(ISO1)])
G_ISO3_JUMP = rule(ISO3, [jump(ISO2)])


def iso1_rule(br: str, target: str) -> dict:
    return rule(ISO1, [match(meta("iifname"), br), match(meta("oifname"), br, "!="),
                       jump(target)])


def oif_drop(chain_name: str, br: str) -> dict:
    return rule(chain_name, [match(meta("oifname"), br), DROP])


def dns_dnat_rule(ip: IpAddr, port: int) -> dict:
    return rule(DNATCHAIN, [ip_match(ip, "daddr"), *l4_tcp_udp_dport53(), nat("dnat", ip, port)])


# -- the listing -----------------------------------------------------------------


class Listing:
    """``nft -j list table inet netavark`` (empty when the table does not exist)."""

    def __init__(self, objects: list[dict]) -> None:
        self.objects = objects

    def rules(self, chain_name: str) -> list[dict]:
        return [o["rule"] for o in self.objects if "rule" in o and o["rule"]["chain"] == chain_name]

    def all_rules(self) -> list[dict]:
        return [o["rule"] for o in self.objects if "rule" in o]

    def chain(self, name: str) -> dict | None:
        for o in self.objects:
            if "chain" in o and o["chain"]["name"] == name:
                return o["chain"]
        return None

    def any(self, chain_name: str, pred: Any) -> list[dict]:
        return [r for r in self.rules(chain_name) if pred(r)]


def _matches(r: dict) -> list[dict]:
    return [s["match"] for s in r["expr"] if "match" in s]


def right_number(n: int) -> Any:
    return lambda r: any(isinstance(m["right"], int) and not isinstance(m["right"], bool)
                         and m["right"] == n for m in _matches(r))


def right_string(s: str) -> Any:
    return lambda r: any(isinstance(m["right"], str) and m["right"] == s for m in _matches(r))


def has_stmt(key: str) -> Any:
    return lambda r: any(key in s for s in r["expr"])


def first_jump(target: str) -> Any:
    def pred(r: dict) -> bool:
        for s in r["expr"]:
            if "jump" in s:
                return s["jump"]["target"] == target
        return False
    return pred


def right_prefix(net: IpNet) -> Any:
    def pred(r: dict) -> bool:
        for m in _matches(r):
            rt = m["right"]
            if isinstance(rt, dict) and "prefix" in rt:
                p = rt["prefix"]
                if p["addr"] == str(net.addr) and p["len"] == net.prefix:
                    return True
        return False
    return pred


# -- the four operations ---------------------------------------------------------


def setup_network(net: SetupNetwork, ex: Listing) -> list[dict]:
    cmds: list[dict] = [{"add": table()}]
    for args in (("INPUT", "filter", "input", 0), ("FORWARD", "filter", "forward", 0),
                 ("POSTROUTING", "nat", "postrouting", 100),
                 ("PREROUTING", "nat", "prerouting", -100), ("OUTPUT", "nat", "output", -100)):
        cmds.append({"add": base_chain(*args)})
    for name in (DNATCHAIN, MASKCHAIN, ISO1, ISO2, ISO3):
        cmds.append({"add": chain(name)})

    def add(r: dict) -> None:
        cmds.append({"add": r})

    if not ex.any("POSTROUTING", right_number(0x2000)):
        add(G_MASQ)
    if not ex.any(MASKCHAIN, has_stmt("mangle")):
        add(G_SETMARK)
    if not ex.any("PREROUTING", first_jump(DNATCHAIN)):
        add(g_fib_jump("PREROUTING"))
    if not ex.any("OUTPUT", first_jump(DNATCHAIN)):
        add(g_fib_jump("OUTPUT"))
    if not ex.any("FORWARD", has_stmt("drop")):
        add(G_INVALID)
    if not ex.any("FORWARD", right_number(0x1000)):
        add(G_CTMARK)
    if not ex.any("FORWARD", first_jump(ISO1)):
        add(G_ISO1)
    br = net.bridge_name
    if net.isolation != NEVER:
        if not ex.any(ISO1, right_string(br)):
            add(iso1_rule(br, ISO3 if net.isolation == STRICT else ISO2))
        if not ex.any(ISO2, right_string(br)):
            add(oif_drop(ISO2, br))
    elif not ex.any(ISO3, right_string(br)):
        cmds.append({"insert": oif_drop(ISO3, br)})
    if not ex.any(ISO3, first_jump(ISO2)):
        add(G_ISO3_JUMP)
    for s in net.subnets or []:
        name = subnet_chain_name(s, net.network_id, False)
        if ex.chain(name) is not None:
            continue
        add(chain(name))
        fam = "ip" if s.version == 4 else "ip6"
        mcast = IpNet.parse("224.0.0.0/4" if s.version == 4 else "ff00::/8")
        if not net.internal:
            add(rule(name, [subnet_match(s, "daddr"), ACCEPT]))
            out = net.outbound_addr4 if s.version == 4 else net.outbound_addr6
            last = MASQ if out is None else {"snat": {"addr": str(out), "family": fam}}
            add(rule(name, [subnet_match(mcast, "daddr", "!="), last]))
        add(rule("INPUT", [subnet_match(s, "saddr"), *l4_tcp_udp_dport53(), ACCEPT]))
        if not net.internal:
            add(rule("FORWARD", [subnet_match(s, "daddr"),
                                 match(ct("state"), ["established", "related"], "in"), ACCEPT]))
            add(rule("FORWARD", [subnet_match(s, "saddr"), ACCEPT]))
            add(rule("POSTROUTING", [subnet_match(s, "saddr"), jump(name)]))
    return cmds


def port_rules(ip: IpAddr, subnet: IpNet, pf: PortForwardConfig, ex: Listing) -> list[dict]:
    out: list[dict] = []
    if pf.port_mappings is None:
        return out
    dchain = subnet_chain_name(subnet, pf.network_id, True)
    if ex.chain(dchain) is None:
        out.append({"add": chain(dchain)})
    for pm in pf.port_mappings:
        dport = dport_cond(pm)
        daddr = None
        if pm.host_ip:
            if pm.host_ip == "0.0.0.0":
                if ip.version == 6:
                    continue
            elif pm.host_ip == "::":
                if ip.version == 4:
                    continue
            else:
                daddr = IpAddr.parse(pm.host_ip)
        if daddr is not None and daddr.version != ip.version:
            continue
        dcond = [ip_match(daddr, "daddr")] if daddr is not None else []
        out.append({"add": rule(DNATCHAIN, [*dcond, dport, jump(dchain)])})
        out.append({"add": rule(dchain, [subnet_match(subnet, "saddr"), *dcond, dport,
                                         jump(MASKCHAIN)])})
        if ip.version == 4:
            out.append({"add": rule(dchain, [ip_match(IpAddr.parse("127.0.0.1"), "saddr"),
                                             *dcond, dport, jump(MASKCHAIN)])})
        for i in range(pm.range or 1):
            hp, cp = pm.host_port + i, pm.container_port + i
            out.append({"add": rule(dchain, [
                *dcond, match(payload(pm.protocol, "dport"), hp),
                {"mangle": {"key": ct("mark"), "value": {"|": [meta("mark"), 0x1000]}}},
                nat("dnat", ip, cp)])})
    return out


def setup_port_forward(pf: PortForwardConfig, ex: Listing) -> list[dict]:
    cmds: list[dict] = []
    if pf.dns_port != 53:
        for ip in pf.dns_server_ips:
            if ex.any(DNATCHAIN, right_string(str(ip))):
                continue
            if (ip.version == 4 and pf.container_ip_v4 is not None) or \
                    (ip.version == 6 and pf.container_ip_v6 is not None):
                cmds.append({"insert": dns_dnat_rule(ip, pf.dns_port)})
    if not pf.internal:
        if pf.container_ip_v4 is not None and pf.subnet_v4 is not None:
            cmds += port_rules(pf.container_ip_v4, pf.subnet_v4, pf, ex)
        if pf.container_ip_v6 is not None and pf.subnet_v6 is not None:
            cmds += port_rules(pf.container_ip_v6, pf.subnet_v6, pf, ex)
    return cmds


def _delete_rule(r: dict) -> dict:
    return {"delete": {"rule": r}}


def teardown_network(net: SetupNetwork, ex: Listing) -> list[dict]:
    cmds: list[dict] = []
    for s in net.subnets or []:
        pred = right_prefix(s)
        for c in ("INPUT", "FORWARD", "POSTROUTING"):
            cmds += [_delete_rule(r) for r in ex.any(c, pred)]
        name = subnet_chain_name(s, net.network_id, False)
        ch = ex.chain(name)
        if ch is not None:
            cmds.append({"delete": {"chain": ch}})
    pred = right_string(net.bridge_name)
    for c in (ISO1, ISO2, ISO3):
        cmds += [_delete_rule(r) for r in ex.any(c, pred)]
    return cmds


def teardown_port_forward(pf: PortForwardConfig, complete: bool, ex: Listing) -> list[dict]:
    cmds: list[dict] = []
    for ip, sub in ((pf.container_ip_v4, pf.subnet_v4), (pf.container_ip_v6, pf.subnet_v6)):
        if ip is None or sub is None:
            continue
        want = [c["add"]["rule"] for c in port_rules(ip, sub, pf, ex) if "rule" in c.get("add", {})]
        for r in ex.all_rules():
            for w in want:
                if w["chain"] == r["chain"] and w["expr"] == r["expr"]:
                    cmds.append(_delete_rule(r))
    if complete:
        ips = [str(i) for i in pf.dns_server_ips]
        for r in ex.rules(DNATCHAIN):
            if any(right_string(i)(r) for i in ips):
                cmds.append(_delete_rule(r))
        for sub in (pf.subnet_v4, pf.subnet_v6):
            if sub is None:
                continue
            ch = ex.chain(subnet_chain_name(sub, pf.network_id, True))
            if ch is not None:
                cmds.append({"delete": {"chain": ch}})
    return cmds


# -- running nft in a namespace ----------------------------------------------------


class NftRunner:
    """Runs ``nft`` inside a named network namespace (``ip netns exec``)."""

    def __init__(self, netns: str) -> None:
        self.netns = netns

    def nft(self, *args: str, input: str | None = None, check: bool = True) -> str:
        res = subprocess.run(["ip", "netns", "exec", self.netns, "nft", *args], input=input,
                             capture_output=True, text=True, timeout=60)
        if check and res.returncode != 0:
            raise AssertionError(f"nft {args} failed: {res.stderr}")
        return res.stdout

    def listing(self) -> Listing:
        res = subprocess.run(["ip", "netns", "exec", self.netns, "nft", "-j", "list", "table",
                              "inet", T], capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            assert "No such file or directory" in res.stderr, res.stderr
            return Listing([])
        return Listing(json.loads(res.stdout)["nftables"])

    def apply(self, cmds: list[dict]) -> None:
        if cmds:
            self.nft("-j", "-f", "-", input=json.dumps({"nftables": cmds}))

    # upstream's four operations, end to end
    def setup_network(self, net: SetupNetwork) -> None:
        self.apply(setup_network(net, self.listing()))

    def setup_port_forward(self, pf: PortForwardConfig) -> None:
        self.apply(setup_port_forward(pf, self.listing()))

    def teardown_network(self, net: SetupNetwork) -> None:
        self.apply(teardown_network(net, self.listing()))

    def teardown_port_forward(self, pf: PortForwardConfig, complete: bool) -> None:
        self.apply(teardown_port_forward(pf, complete, self.listing()))


# -- nft JSON → our statement tuples (to compare with netavark.nft.stmt) -----------------

def _left(j: Any) -> tuple:
    if "payload" in j:
        return ("payload", j["payload"]["protocol"], j["payload"]["field"])
    if "meta" in j:
        return ("meta", j["meta"]["key"])
    if "ct" in j:
        return ("ct", j["ct"]["key"])
    if "fib" in j:
        return ("fib", j["fib"]["result"], tuple(j["fib"]["flags"]))
    if "&" in j:
        return ("&", _left(j["&"][0]), j["&"][1])
    if "|" in j:
        return ("|", _left(j["|"][0]), j["|"][1])
    raise ValueError(f"unknown left side {j!r}")


def _right(j: Any) -> Any:
    if isinstance(j, (int, str)):
        return j
    if isinstance(j, list):
        return ("list", tuple(j))
    if "prefix" in j:
        return ("prefix", j["prefix"]["addr"], j["prefix"]["len"])
    if "range" in j:
        return ("range", j["range"][0], j["range"][1])
    if "set" in j:
        return ("set", tuple(j["set"]))
    raise ValueError(f"unknown right side {j!r}")


def to_stmts(expr: list) -> tuple:
    """Statements of a rule in nft JSON (as upstream builds or nft lists them)."""
    out = []
    for s in expr:
        (key, val), = s.items()
        if key == "match":
            right = _right(val["right"])
            if isinstance(right, tuple) and right[0] == "list" and len(right[1]) == 1:
                right = right[1][0]
            out.append(("match", _left(val["left"]), val["op"], right))
        elif key in ("accept", "drop", "return", "continue", "masquerade"):
            out.append((key,))
        elif key in ("jump", "goto"):
            out.append((key, val["target"]))
        elif key == "mangle":
            out.append(("mangle", _left(val["key"]), _left(val["value"])))
        elif key in ("snat", "dnat"):
            out.append((key, val["family"], val["addr"], val.get("port"), 0))
        elif key == "counter":
            out.append(("counter",))
        else:
            raise ValueError(f"unknown statement {s!r}")
    return tuple(out)
