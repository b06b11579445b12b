"""The nftables firewall driver, speaking nf_tables to the kernel directly.

Objects and rules are exactly those of upstream netavark 2.1 (table
``inet netavark``); rules are described as nft-level statements
(:mod:`netavark.nft.stmt`), so that rules created by upstream (through the
``nft`` program) and by us are recognised the same way: by content.

Each operation is one planning step and one atomic batch:

1. read the ruleset generation id, then list only what the decisions need
   (single chains, chain existence) — never the whole table;
2. decide what to add/delete (pure functions ``plan_*`` below, testable
   without a kernel);
3. commit the batch tagged with that generation id.  If another process
   changed nf_tables in between, the kernel refuses the batch with
   ``ERESTART`` and we start again from 1, so concurrent netavark processes
   cannot create duplicate global rules or delete stale handles.
"""

from __future__ import annotations

import errno as _errno

from .. import log
from ..errors import NetavarkError, NetlinkError
from ..ip import IpAddr, IpNet
from ..nft import consts as C
from ..nft.batch import Batch
from ..nft.expr import Expr, decode_expr, split_attrs
from ..nft.objects import Chain, Hook, Rule
from ..nft.policies import NFTA_LIST_ELEM
from ..nft.stmt import (
    ACCEPT,
    DROP,
    MASQUERADE,
    PORT_PROTOS,
    LinearizeError,
    canon,
    delinearize,
    jump,
    linearize,
    match,
    meta,
    nat,
    payload,
    prefix,
)
from . import NEVER, NFTABLES, STRICT, FirewallDriver, PortForwardConfig, SetupNetwork

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ..config import PortMapping
    from ..nft.transport import NftSocket

    Pred = Callable[[tuple], bool]

_log = log.Logger("netavark::firewall::nft")

TABLE = "netavark"
INPUT = "INPUT"
FORWARD = "FORWARD"
POSTROUTING = "POSTROUTING"
PREROUTING = "PREROUTING"
OUTPUT = "OUTPUT"
DNATCHAIN = "NETAVARK-HOSTPORT-DNAT"
MASKCHAIN = "NETAVARK-HOSTPORT-SETMARK"
ISO1 = "NETAVARK-ISOLATION-1"
ISO2 = "NETAVARK-ISOLATION-2"
ISO3 = "NETAVARK-ISOLATION-3"

MASQUERADE_MARK = 0x2000
DNAT_MARK = 0x1000
_MCAST4 = IpNet.parse("224.0.0.0/4")
_MCAST6 = IpNet.parse("ff00::/8")
_LOCALHOST = IpAddr.parse("127.0.0.1")

# (name, type, hook, priority), in creation order
BASE_CHAINS = (
    (INPUT, "filter", C.NF_INET_LOCAL_IN, 0),
    (FORWARD, "filter", C.NF_INET_FORWARD, 0),
    (POSTROUTING, "nat", C.NF_INET_POST_ROUTING, 100),
    (PREROUTING, "nat", C.NF_INET_PRE_ROUTING, -100),
    (OUTPUT, "nat", C.NF_INET_LOCAL_OUT, -100),
)
REGULAR_CHAINS = (DNATCHAIN, MASKCHAIN, ISO1, ISO2, ISO3)

# the kernel refuses a batch computed from an outdated listing with ERESTART;
# a dump that raced with a commit reports EINTR.  Both mean: list again.
_RETRY_ERRNOS = frozenset({_errno.ERESTART, _errno.EINTR})
_MAX_TRIES = 64

# upstream reports nft's failure to compile a rule this way (nft's own
# diagnostics are not captured, hence nothing after the colon)
_APPLY_ERROR = 'nftables error: "nft" did not return successfully while applying ruleset: '


# -- rule building blocks (statements, as upstream writes them) -----------------------

def _fam(x: IpAddr | IpNet) -> str:
    return "ip" if x.version == 4 else "ip6"


def subnet_match(net: IpNet, field: str, op: str = "==") -> tuple:
    # the address keeps host bits, like upstream's JSON (nft masks them when compiling)
    return match(payload(_fam(net), field), prefix(str(net.addr), net.prefix), op)


def ip_match(ip: IpAddr, field: str, op: str = "==") -> tuple:
    return match(payload(_fam(ip), field), str(ip), op)


def _l4_dns() -> tuple:
    return (match(meta("l4proto"), ("set", ("udp", "tcp"))),
            match(payload("th", "dport"), 53))


G_MASQ = (match(("&", meta("mark"), MASQUERADE_MARK), MASQUERADE_MARK), MASQUERADE)
G_SETMARK = (("mangle", meta("mark"), ("|", meta("mark"), MASQUERADE_MARK)),)
G_FIB_JUMP = (match(("fib", "type", ("daddr",)), "local"), jump(DNATCHAIN))
G_INVALID = (match(("ct", "state"), "invalid", "in"), DROP)
G_CTMARK = (match(("&", ("ct", "mark"), DNAT_MARK), DNAT_MARK), ACCEPT)
G_JUMP_ISO1 = (jump(ISO1),)
G_JUMP_ISO2 = (jump(ISO2),)
_CT_MARK_SET = ("mangle", ("ct", "mark"), ("|", meta("mark"), DNAT_MARK))


def iso1_rule(bridge: str, target: str) -> tuple:
    return (match(meta("iifname"), bridge), match(meta("oifname"), bridge, "!="), jump(target))


def oif_drop(bridge: str) -> tuple:
    return (match(meta("oifname"), bridge), DROP)


def dns_dnat_rule(ip: IpAddr, port: int) -> tuple:
    return (ip_match(ip, "daddr"), *_l4_dns(), nat("dnat", ip, port))


def subnet_chain_name(net: IpNet, network_id: str, dnat: bool) -> str:
    clean = str(net).replace(".", "_").replace(":", "-").replace("/", "_nm")
    name = f"nv_{network_id[:8]}_{clean}"
    return name + "_dnat" if dnat else name


# -- predicates over a rule's statements (upstream's "already exists" tests) --------

def right_number(n: int) -> Pred:
    return lambda stmts: any(s[0] == "match" and type(s[3]) is int and s[3] == n for s in stmts)


def right_string(text: str) -> Pred:
    return lambda stmts: any(s[0] == "match" and type(s[3]) is str and s[3] == text
                             for s in stmts)


def right_prefix(net: IpNet) -> Pred:
    want = prefix(str(net.addr), net.prefix)
    return lambda stmts: any(s[0] == "match" and s[3] == want for s in stmts)


def has_stmt(tag: str) -> Pred:
    return lambda stmts: any(s[0] == tag for s in stmts)


def first_jump(target: str) -> Pred:
    def pred(stmts: tuple) -> bool:
        for s in stmts:
            if s[0] == "jump":
                return s[1] == target
        return False
    return pred


# -- the listing an operation decides on ------------------------------------------

class View:
    """What planning may ask about the current table (implemented over netlink
    by :class:`KernelView`, and by plain data in tests)."""

    def find(self, chain: str, pred: Pred, needle: bytes | None = None) -> list[int]:
        """Handles of the rules of ``chain`` (in order) whose statements satisfy ``pred``.

        ``needle``: bytes every satisfying rule contains (a cheap pre-filter).
        """
        raise NotImplementedError

    def find_equal(self, chain: str, wanted: set[tuple], ports: set[int]) -> list[int]:
        """Handles of the rules of ``chain`` whose statements are one of ``wanted``.

        ``ports``: every wanted rule matches one of these destination ports.
        """
        return self.find(chain, wanted.__contains__)

    def has_chain(self, name: str) -> bool:
        raise NotImplementedError


# the header of an NFTA_DATA_VALUE attribute holding 2 bytes (a port, in a cmp or range)
_PORT_VALUE_ATTR = b"\x06\x00\x01\x00"


def _has_port(msg: bytes, ports: set[bytes]) -> bool:
    """Does the message contain a 2-byte data value that is one of ``ports``?"""
    find = msg.find
    i = find(_PORT_VALUE_ATTR)
    while i >= 0:
        if msg[i + 4:i + 6] in ports and msg[i + 6:i + 8] == b"\0\0":
            return True
        i = find(_PORT_VALUE_ATTR, i + 1)
    return False


class KernelView(View):
    """Generation id and lazily dumped chains of ``inet netavark``.

    Dumped rules stay raw bytes until a question needs them: pre-filters look
    for bytes a matching rule must contain, and rules we generated ourselves
    (or upstream did, through the same nft bytecode) are recognised by
    comparing expressions before falling back to full statements.
    """

    def __init__(self, sock: NftSocket, chains: Iterable[str] = ()) -> None:
        self.sock = sock
        self.genid, self.table_exists, found = sock.snapshot(TABLE, list(chains))
        self._chains = found
        self._raw: dict[str, list[bytes]] = {}
        self._rules: dict[bytes, Rule] = {}
        self._expr_cache: dict[bytes, Expr] = {}
        self._stmts: dict[bytes, tuple] = {}
        self._ids: dict[tuple, int] = {}
        self._elem_ids: dict[bytes, int] = {}

    def has_chain(self, name: str) -> bool:
        if name not in self._chains:
            if not self.table_exists:
                return False
            self._chains.update(self.sock.get_chains(TABLE, [name]))
        return self._chains[name] is not None

    def raw(self, chain: str) -> list[bytes]:
        raw = self._raw.get(chain)
        if raw is None:
            raw = self.sock.dump_rules_raw(TABLE, chain) if self.table_exists else []
            self._raw[chain] = raw
        return raw

    def rule(self, msg: bytes) -> Rule:
        r = self._rules.get(msg)
        if r is None:
            r = self._rules[msg] = Rule.decode(msg)
        return r

    def stmts(self, rule: Rule) -> tuple:
        raw = rule.raw or b""
        s = self._stmts.get(raw)
        if s is None:
            s = delinearize(rule.decode_exprs(self._expr_cache))
            self._stmts[raw] = s
        return s

    def find(self, chain: str, pred: Pred, needle: bytes | None = None) -> list[int]:
        out = []
        for msg in self.raw(chain):
            if needle is not None and needle not in msg:
                continue
            r = self.rule(msg)
            if r.handle is not None and pred(self.stmts(r)):
                out.append(r.handle)
        return out

    def find_equal(self, chain: str, wanted: set[tuple], ports: set[int]) -> list[int]:
        # fast path: the wanted rules compiled as nft compiles them, compared
        # expression by expression (interned to small ints) with the dump;
        # anything else that might match is compared as statements
        keys = set()
        for stmts in wanted:
            try:
                keys.add(tuple([self._expr_id(e) for e in linearize(stmts)]))
            except (LinearizeError, ValueError, NetavarkError):
                pass  # cannot exist in the kernel in exactly this form
        port_bytes = {p.to_bytes(2, "big") for p in ports}
        out = []
        for msg in self.raw(chain):
            if not _has_port(msg, port_bytes):
                continue
            r = self.rule(msg)
            if r.handle is None:
                continue
            if self._rule_key(r.raw or b"") in keys or self.stmts(r) in wanted:
                out.append(r.handle)
        return out

    def _expr_id(self, e: Expr) -> int:
        c = canon(e)
        i = self._ids.get(c)
        if i is None:
            i = self._ids[c] = len(self._ids)
        return i

    def _rule_key(self, raw: bytes) -> tuple:
        ids = self._elem_ids
        key = []
        for atype, b in split_attrs(raw):
            if atype != NFTA_LIST_ELEM:
                continue
            i = ids.get(b)
            if i is None:
                e = self._expr_cache.get(b)
                if e is None:
                    e = self._expr_cache[b] = decode_expr(b)
                i = ids[b] = self._expr_id(e)
            key.append(i)
        return tuple(key)


# -- planning (pure) ------------------------------------------------------------------

class Plan:
    """A batch plus the INFO lines its planning produced."""

    __slots__ = ("batch", "deleted", "logs")

    def __init__(self) -> None:
        self.batch = Batch(TABLE)
        self.logs: list[str] = []
        self.deleted: set[tuple[str, int]] = set()

    def delete_rules(self, chain: str, handles: list[int]) -> None:
        """Delete rules by handle, each once even when several criteria match it."""
        for h in handles:
            if (chain, h) not in self.deleted:
                self.deleted.add((chain, h))
                self.batch.delete_rule(chain, h)


def plan_setup_network(net: SetupNetwork, view: View) -> Plan:
    p = Plan()
    b = p.batch
    b.add_table()
    for name, ctype, hook, prio in BASE_CHAINS:
        b.add_chain(Chain(TABLE, name, hook=Hook(hook, prio), policy=C.NF_ACCEPT, type=ctype))
    for name in REGULAR_CHAINS:
        b.add_chain(Chain(TABLE, name))

    def ensure(chain: str, pred: Pred, stmts: tuple) -> None:
        if not view.find(chain, pred):
            b.add_rule(chain, stmts)

    ensure(POSTROUTING, right_number(MASQUERADE_MARK), G_MASQ)
    ensure(MASKCHAIN, has_stmt("mangle"), G_SETMARK)
    ensure(PREROUTING, first_jump(DNATCHAIN), G_FIB_JUMP)
    ensure(OUTPUT, first_jump(DNATCHAIN), G_FIB_JUMP)
    ensure(FORWARD, has_stmt("drop"), G_INVALID)
    ensure(FORWARD, right_number(DNAT_MARK), G_CTMARK)
    ensure(FORWARD, first_jump(ISO1), G_JUMP_ISO1)

    br = net.bridge_name
    ours = right_string(br)
    if net.isolation != NEVER:
        ensure(ISO1, ours, iso1_rule(br, ISO3 if net.isolation == STRICT else ISO2))
        ensure(ISO2, ours, oif_drop(br))
    elif not view.find(ISO3, ours):
        # at the top, so that the jump to ISOLATION-2 stays last
        b.add_rule(ISO3, oif_drop(br), insert=True)
    ensure(ISO3, first_jump(ISO2), G_JUMP_ISO2)

    for s in net.subnets or ():
        name = subnet_chain_name(s, net.network_id, False)
        if view.has_chain(name):
            continue
        p.logs.append(f"Creating container chain {name}")
        b.add_chain(Chain(TABLE, name))
        if not net.internal:
            b.add_rule(name, (subnet_match(s, "daddr"), ACCEPT))
            mcast = _MCAST4 if s.version == 4 else _MCAST6
            out = net.outbound_addr4 if s.version == 4 else net.outbound_addr6
            last = MASQUERADE if out is None else nat("snat", out)
            b.add_rule(name, (subnet_match(mcast, "daddr", "!="), last))
        b.add_rule(INPUT, (subnet_match(s, "saddr"), *_l4_dns(), ACCEPT))
        if not net.internal:
            b.add_rule(FORWARD, (subnet_match(s, "daddr"),
                                 match(("ct", "state"), ("list", ("established", "related")),
                                       "in"), ACCEPT))
            b.add_rule(FORWARD, (subnet_match(s, "saddr"), ACCEPT))
            b.add_rule(POSTROUTING, (subnet_match(s, "saddr"), jump(name)))
    return p


def port_rules(ip: IpAddr, subnet: IpNet, pf: PortForwardConfig) -> list[tuple[str, tuple]]:
    """The port-forwarding rules of one container address, as (chain, statements).

    Raises upstream's error for a host IP that does not parse.
    """
    out: list[tuple[str, tuple]] = []
    if pf.port_mappings is None:
        return out
    dchain = subnet_chain_name(subnet, pf.network_id, True)
    for pm in pf.port_mappings:
        daddr = _host_daddr(pm, ip)
        if daddr is False:
            continue
        dport = _dport_match(pm)
        dcond = () if daddr is None else (ip_match(daddr, "daddr"),)  # type: ignore[arg-type]
        out.append((DNATCHAIN, (*dcond, dport, jump(dchain))))
        out.append((dchain, (subnet_match(subnet, "saddr"), *dcond, dport, jump(MASKCHAIN))))
        if ip.version == 4:
            out.append((dchain, (ip_match(_LOCALHOST, "saddr"), *dcond, dport,
                                 jump(MASKCHAIN))))
        for i in range(pm.range or 1):
            hport = (pm.host_port + i) & 0xFFFF
            cport = (pm.container_port + i) & 0xFFFF
            out.append((dchain, (*dcond, match(payload(pm.protocol, "dport"), hport),
                                 _CT_MARK_SET, nat("dnat", ip, cport))))
    return out


def _host_daddr(pm: PortMapping, ip: IpAddr) -> Any:
    """The host address to match: None for any, False to skip the mapping for ``ip``'s family."""
    h = pm.host_ip
    if not h:
        return None
    if h == "0.0.0.0":
        return False if ip.version == 6 else None
    if h == "::":
        return False if ip.version == 4 else None
    try:
        addr = IpAddr.parse(h)
    except NetavarkError:
        raise NetavarkError(
            f'invalid host ip "{h}" provided for port {pm.host_port}') from None
    return False if addr.version != ip.version else addr


def _dport_match(pm: PortMapping) -> tuple:
    if pm.range > 1:
        last = (pm.host_port + pm.range - 1) & 0xFFFF  # u16 arithmetic, as upstream
        return match(payload(pm.protocol, "dport"), ("range", pm.host_port, last))
    return match(payload(pm.protocol, "dport"), pm.host_port)


def _families(pf: PortForwardConfig) -> list[tuple[IpAddr, IpNet]]:
    out = []
    if pf.container_ip_v4 is not None and pf.subnet_v4 is not None:
        out.append((pf.container_ip_v4, pf.subnet_v4))
    if pf.container_ip_v6 is not None and pf.subnet_v6 is not None:
        out.append((pf.container_ip_v6, pf.subnet_v6))
    return out


def plan_setup_port_forward(pf: PortForwardConfig, view: View) -> Plan:
    p = Plan()
    b = p.batch
    if pf.dns_port != 53:
        for ip in pf.dns_server_ips:
            if view.find(DNATCHAIN, right_string(str(ip)), needle=ip.packed):
                continue
            has_ip = pf.container_ip_v4 if ip.version == 4 else pf.container_ip_v6
            if has_ip is not None:
                b.add_rule(DNATCHAIN, dns_dnat_rule(ip, pf.dns_port), insert=True)
    if pf.internal or pf.port_mappings is None:
        return p
    per_family = [(subnet, port_rules(ip, subnet, pf)) for ip, subnet in _families(pf)]
    for _subnet, rules in per_family:
        _check_compilable(rules)
    for subnet, rules in per_family:
        dchain = subnet_chain_name(subnet, pf.network_id, True)
        if not view.has_chain(dchain):
            b.add_chain(Chain(TABLE, dchain))
        for chain, stmts in rules:
            b.add_rule(chain, stmts)
    return p


def _check_compilable(rules: list[tuple[str, tuple]]) -> None:
    """Refuse what nft would refuse to compile (upstream learns it when applying)."""
    for _chain, stmts in rules:
        for s in stmts:
            if s[0] != "match" or s[1][0] != "payload" or s[1][2] != "dport":
                continue
            if s[1][1] not in PORT_PROTOS:
                raise NetavarkError(_APPLY_ERROR)
            r = s[3]
            if isinstance(r, tuple) and r[0] == "range" and r[1] > r[2]:
                raise NetavarkError(_APPLY_ERROR)


def plan_teardown_network(net: SetupNetwork, view: View,
                          on_subnet: Callable[[IpNet], None] | None = None) -> Plan:
    p = Plan()
    b = p.batch
    delete = p.delete_rules
    for s in net.subnets or ():
        pred = right_prefix(s)
        needle = s.network().packed[:max(1, (s.prefix + 7) // 8)]
        for chain in (INPUT, FORWARD, POSTROUTING):
            delete(chain, view.find(chain, pred, needle=needle if s.prefix else None))
        name = subnet_chain_name(s, net.network_id, False)
        if view.has_chain(name):
            b.delete_chain(name)
        if on_subnet is not None:
            on_subnet(s)
    ours = right_string(net.bridge_name)
    for chain in (ISO1, ISO2, ISO3):
        delete(chain, view.find(chain, ours))
    return p


def plan_teardown_port_forward(pf: PortForwardConfig, complete: bool, view: View) -> Plan:
    p = Plan()
    b = p.batch
    wanted: dict[str, set[tuple]] = {}
    for ip, subnet in _families(pf):
        for chain, stmts in port_rules(ip, subnet, pf):
            wanted.setdefault(chain, set()).add(stmts)
    ports = {pm.host_port for pm in pf.port_mappings or ()}
    ports |= {(pm.host_port + i) & 0xFFFF for pm in pf.port_mappings or ()
              for i in range(pm.range or 1)}
    delete = p.delete_rules
    for chain, stmts_set in wanted.items():
        delete(chain, view.find_equal(chain, stmts_set, ports))
    if complete:
        for ip in pf.dns_server_ips:
            delete(DNATCHAIN, view.find(DNATCHAIN, right_string(str(ip)), needle=ip.packed))
        for subnet in (pf.subnet_v4, pf.subnet_v6):
            if subnet is None:
                continue
            name = subnet_chain_name(subnet, pf.network_id, True)
            if view.has_chain(name):
                b.delete_chain(name)
    return p


# -- the driver ---------------------------------------------------------------------

def _subnet_chains(subnets: Iterable[IpNet] | None, network_id: str, dnat: bool) -> list[str]:
    return [subnet_chain_name(s, network_id, dnat) for s in subnets or ()]


class NftDriver(FirewallDriver):
    name = NFTABLES

    def __init__(self, release_at_exit: bool = False) -> None:
        # The socket is opened now, in the namespace the driver is created in
        # (the host's): later calls may happen while the thread visits a
        # container's namespace.  An error is kept for the first real use,
        # where upstream would have failed running nft.
        self._sock: NftSocket | None = None
        self._open_error: NetavarkError | None = None
        try:
            from ..nft.transport import NftSocket

            self._sock = NftSocket()
        except NetavarkError as e:
            self._open_error = e
        else:
            if release_at_exit:
                self._sock.release_at_exit()

    def _socket(self) -> NftSocket:
        if self._sock is None:
            if self._open_error is not None:
                raise self._open_error
            raise NetavarkError("nftables driver used after close")
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._open_error = None

    def _run(self, planner: Callable[[View], Plan], chains: Iterable[str] = ()) -> None:
        """List, plan, commit; again from scratch if the ruleset changed meanwhile."""
        sock = self._socket()
        chains = list(chains)
        logged: set[str] = set()
        for attempt in range(_MAX_TRIES):
            try:
                view = KernelView(sock, chains)
                plan = planner(view)
            except NetlinkError as e:
                if e.errno == _errno.EINTR and attempt + 1 < _MAX_TRIES:
                    continue
                raise
            for line in plan.logs:
                if line not in logged:
                    logged.add(line)
                    _log.info(line)
            try:
                sock.commit(plan.batch, view.genid)
                return
            except NetlinkError as e:
                if e.errno in _RETRY_ERRNOS and attempt + 1 < _MAX_TRIES:
                    _log.debug(f"nftables ruleset changed while planning, retrying: {e.describe()}")
                    continue
                _log.debug(f"nftables batch failed: {e.describe()}")
                raise

    def setup_network(self, net: SetupNetwork, dbus: Any = None) -> None:
        if dbus is not None:
            for s in net.subnets or ():
                _firewalld_add(dbus, s)
        self._run(lambda view: plan_setup_network(net, view),
                  _subnet_chains(net.subnets, net.network_id, False))

    def teardown_network(self, net: SetupNetwork) -> None:
        removed: set[IpNet] = set()

        def on_subnet(s: IpNet) -> None:
            if s not in removed:  # once, even if the batch has to be planned again
                removed.add(s)
                _firewalld_remove(s)

        self._run(lambda view: plan_teardown_network(net, view, on_subnet),
                  _subnet_chains(net.subnets, net.network_id, False))

    def setup_port_forward(self, pf: PortForwardConfig, dbus: Any = None) -> None:
        if dbus is not None and _strict_forward_ports(dbus):
            used = pf.dns_port != 53 or bool(pf.port_mappings)
            if used:
                raise NetavarkError(
                    "Port forwarding not possible as firewalld StrictForwardPorts enabled")
        chains = [] if pf.internal or pf.port_mappings is None else \
            [subnet_chain_name(s, pf.network_id, True) for _ip, s in _families(pf)]
        self._run(lambda view: plan_setup_port_forward(pf, view), chains)

    def teardown_port_forward(self, pf: PortForwardConfig, complete: bool) -> None:
        chains = [subnet_chain_name(s, pf.network_id, True)
                  for s in (pf.subnet_v4, pf.subnet_v6) if s is not None] if complete else []
        self._run(lambda view: plan_teardown_port_forward(pf, complete, view), chains)


# -- firewalld (only imported when a bus connection exists / a subnet is removed) ---------

def _firewalld_add(conn: Any, subnet: IpNet) -> None:
    try:
        from ..dbus.firewalld import add_trusted_subnet
    except ImportError:
        return
    add_trusted_subnet(conn, subnet)


def _firewalld_remove(subnet: IpNet) -> None:
    try:
        from ..dbus.firewalld import remove_trusted_subnet
    except ImportError:
        return
    remove_trusted_subnet(subnet)


def _strict_forward_ports(conn: Any) -> bool:
    try:
        from ..dbus.firewalld import strict_forward_ports_enabled
    except ImportError:
        return False
    return strict_forward_ports_enabled(conn)
