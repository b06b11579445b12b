"""Capture golden nf_tables bytes from the real ``nft`` (run once, as root).

    python3 tests/data/nft/capture.py [OUT_DIR]

For every rule shape upstream netavark creates, the JSON upstream would pipe
to ``nft -j -f -`` (built by ``tests/nft_oracle.py``) is fed to ``nft`` under
``strace`` inside a scratch network namespace, and the netlink messages ``nft``
sends are recorded (``golden.json``).  Then the §5 example ruleset of the spec
is created the same way and the kernel's dump of it is recorded
(``dump.json``), together with ``nft -j``/``nft`` listings of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

from netavark.ip import IpAddr, IpNet  # noqa: E402
from tests import nft_oracle as O  # noqa: E402
from tests.nft_examples import EXAMPLE_ID, example_network, example_port_forward  # noqa: E402

NS = f"nftcap-{os.getpid()}"


def sh(*cmd: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, input=input, capture_output=True, text=True, check=False)


def in_ns(*cmd: str, input: str | None = None) -> subprocess.CompletedProcess:
    return sh("ip", "netns", "exec", NS, *cmd, input=input)


def nft_json(cmds: list[dict]) -> None:
    res = in_ns("nft", "-j", "-f", "-", input=json.dumps({"nftables": cmds}))
    if res.returncode != 0:
        raise SystemExit(f"nft failed: {res.stderr}\n{json.dumps(cmds)}")


_HEX = re.compile(r"^ \| [0-9a-f]{5}  (.{49})")


def _dumps(strace_out: str, call: str) -> list[bytes]:
    """Buffers strace printed (-e write=/read=) after each ``call`` line."""
    bufs: list[bytearray] = []
    cur: bytearray | None = None
    for line in strace_out.splitlines():
        if line.startswith(call + "("):
            cur = bytearray()
            bufs.append(cur)
            continue
        m = _HEX.match(line)
        if m and cur is not None:
            cur.extend(bytes.fromhex(m.group(1).replace(" ", "")))
        elif not line.startswith(" "):
            cur = None
    return [bytes(b) for b in bufs]


def split_messages(buf: bytes) -> list[tuple[int, int, bytes]]:
    out = []
    off = 0
    while off + 16 <= len(buf):
        length = int.from_bytes(buf[off:off + 4], "little")
        mtype = int.from_bytes(buf[off + 4:off + 6], "little")
        flags = int.from_bytes(buf[off + 6:off + 8], "little")
        if length < 16 or off + length > len(buf):
            break
        out.append((mtype, flags, buf[off + 16:off + length]))
        off += (length + 3) & ~3
    return out


def _tempfile(cmds: list[dict]) -> str:
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"nftables": cmds}, f)
    return path


def capture_batch(cmds: list[dict]) -> list[list]:
    path = _tempfile(cmds)
    res = in_ns("strace", "-e", "trace=sendmsg", "-e", "write=3", "-xx", "-s", "0",
                "nft", "-j", "-f", path)
    os.unlink(path)
    if res.returncode != 0:
        raise SystemExit(f"nft failed: {res.stderr}\n{json.dumps(cmds)}")
    msgs = []
    for buf in _dumps(res.stderr, "sendmsg"):
        for mtype, flags, payload in split_messages(buf):
            if mtype in (16, 17):  # batch begin/end
                continue
            msgs.append([mtype, flags, payload.hex()])
    return msgs


def debug_text(cmds: list[dict]) -> str:
    """``nft --debug=netlink`` bytecode listing of a batch, for humans."""
    path = _tempfile(cmds)
    res = in_ns("nft", "--debug=netlink", "-c", "-j", "-f", path)
    os.unlink(path)
    return res.stdout


def capture_dump() -> list[list]:
    res = in_ns("strace", "-e", "trace=recvmsg", "-e", "read=3", "-xx", "-s", "0",
                "nft", "-j", "list", "table", "inet", "netavark")
    msgs = []
    for buf in _dumps(res.stderr, "recvmsg"):
        for mtype, flags, payload in split_messages(buf):
            if mtype >> 8 == 10:
                msgs.append([mtype, flags, payload.hex()])
    return msgs


ALL_CHAINS = [O.DNATCHAIN, O.MASKCHAIN, O.ISO1, O.ISO2, O.ISO3]


def prelude(extra_chains: list[str] = ()) -> list[dict]:  # type: ignore[assignment]
    cmds = [{"add": O.table()}]
    for args in (("INPUT", "filter", "input", 0), ("FORWARD", "filter", "forward", 0),
                 ("POSTROUTING", "nat", "postrouting", 100),
                 ("PREROUTING", "nat", "prerouting", -100), ("OUTPUT", "nat", "output", -100)):
        cmds.append({"add": O.base_chain(*args)})
    for c in [*ALL_CHAINS, *extra_chains]:
        cmds.append({"add": O.chain(c)})
    return cmds


def rule_cases() -> dict[str, tuple[list[str], list[dict]]]:
    """name → (extra chains the prelude creates, captured commands)."""
    A = IpAddr.parse
    N = IpNet.parse
    cases: dict[str, tuple[list[str], list[dict]]] = {}

    def add(name: str, r: dict, chains: list[str] = (), insert: bool = False) -> None:  # type: ignore[assignment]
        cases[name] = (list(chains), [{"insert" if insert else "add": r}])

    add("g_masq", O.G_MASQ)
    add("g_setmark", O.G_SETMARK)
    add("g_fib_prerouting", O.g_fib_jump("PREROUTING"))
    add("g_fib_output", O.g_fib_jump("OUTPUT"))
    add("g_invalid", O.G_INVALID)
    add("g_ctmark", O.G_CTMARK)
    add("g_iso1", O.G_ISO1)
    add("g_iso3_jump", O.G_ISO3_JUMP)
    add("iso1_strict", O.iso1_rule("podman1", O.ISO3))
    add("iso1_normal", O.iso1_rule("podman1", O.ISO2))
    add("iso2_drop", O.oif_drop(O.ISO2, "podman1"))
    add("iso3_insert_drop", O.oif_drop(O.ISO3, "podman0"), insert=True)
    for sub, tag in (("10.88.0.0/16", "v4_16"), ("10.89.2.0/23", "v4_23"),
                     ("10.89.3.0/24", "v4_24"), ("fd00::/64", "v6_64"),
                     ("fd10:88:a::/63", "v6_63"), ("fd20::/120", "v6_120")):
        s = N(sub)
        name = O.subnet_chain_name(s, EXAMPLE_ID, False)
        mcast = N("224.0.0.0/4" if s.version == 4 else "ff00::/8")
        add(f"subnet_daddr_accept_{tag}",
            O.rule(name, [O.subnet_match(s, "daddr"), O.ACCEPT]), [name])
        add(f"subnet_masq_{tag}",
            O.rule(name, [O.subnet_match(mcast, "daddr", "!="), O.MASQ]), [name])
        add(f"input_dns_{tag}", O.rule("INPUT", [O.subnet_match(s, "saddr"),
                                                 *O.l4_tcp_udp_dport53(), O.ACCEPT]))
        add(f"forward_established_{tag}", O.rule("FORWARD", [
            O.subnet_match(s, "daddr"), O.match(O.ct("state"), ["established", "related"], "in"),
            O.ACCEPT]))
        add(f"forward_saddr_{tag}", O.rule("FORWARD", [O.subnet_match(s, "saddr"), O.ACCEPT]))
        add(f"postrouting_jump_{tag}",
            O.rule("POSTROUTING", [O.subnet_match(s, "saddr"), O.jump(name)]), [name])
    add("snat_v4", O.rule("nv_x", [O.subnet_match(N("224.0.0.0/4"), "daddr", "!="),
                                   {"snat": {"addr": "100.1.100.1", "family": "ip"}}]), ["nv_x"])
    snat6 = {"snat": {"addr": "fd20:100:200::1", "family": "ip6"}}
    add("snat_v6", O.rule("nv_x", [O.subnet_match(N("ff00::/8"), "daddr", "!="), snat6]),
        ["nv_x"])
    add("dns_dnat_v4", O.dns_dnat_rule(A("10.88.0.1"), 1153), insert=True)
    add("dns_dnat_v6", O.dns_dnat_rule(A("fd00::1"), 1153), insert=True)
    return cases


def port_cases() -> dict[str, tuple[list[str], list[dict]]]:
    """Full port-forward batches of single mappings (every shape of §7)."""
    from tests.nft_examples import pf_with

    def m(host_ip: str, cport: int, hport: int, proto: str, rng: int) -> dict:
        return dict(host_ip=host_ip, container_port=cport, host_port=hport, protocol=proto,
                    range=rng)

    cases = {}
    for name, mapping, v6 in (
        ("pf_tcp", m("", 80, 8080, "tcp", 1), False),
        ("pf_udp_range", m("", 53, 5300, "udp", 3), False),
        ("pf_sctp", m("", 80, 8080, "sctp", 1), False),
        ("pf_hostip_v4", m("192.168.1.10", 443, 8443, "tcp", 1), False),
        ("pf_hostip_v4_range", m("192.168.1.10", 443, 8443, "udp", 2), False),
        ("pf_wild_v4", m("0.0.0.0", 80, 8080, "tcp", 1), False),
        ("pf_v6_tcp", m("", 80, 8080, "tcp", 1), True),
        ("pf_v6_hostip", m("fd00::10", 80, 8080, "tcp", 1), True),
        ("pf_v6_range", m("::", 53, 5300, "udp", 3), True),
    ):
        pf = pf_with([mapping], v6=v6)
        cmds = O.setup_port_forward(pf, O.Listing([]))
        chains = [c["add"]["chain"]["name"] for c in cmds if "chain" in c.get("add", {})]
        cases[name] = (chains, [c for c in cmds if "chain" not in c.get("add", {})])
    return cases


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else HERE
    r = sh("ip", "netns", "add", NS)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    try:
        version = in_ns("nft", "--version").stdout.strip()
        golden: dict = {"nft_version": version, "cases": {}}
        # objects
        cases: dict[str, tuple[list[dict], list[dict]]] = {
            "table": ([], [{"add": O.table()}]),
            "base_chains": ([{"add": O.table()}], prelude()[1:6]),
            "regular_chains": ([{"add": O.table()}], [{"add": O.chain(c)} for c in ALL_CHAINS]),
        }
        for name, (chains, cmds) in {**rule_cases(), **port_cases()}.items():
            cases[name] = (prelude(chains), cmds)
        for name, (pre, cmds) in cases.items():
            in_ns("nft", "flush", "ruleset")
            if pre:
                nft_json(pre)
            golden["cases"][name] = {"commands": cmds, "messages": capture_batch(cmds),
                                     "debug": debug_text(cmds)}
        # deletes need handles of existing objects
        in_ns("nft", "flush", "ruleset")
        nft_json([*prelude(["nv_x"]), {"add": O.G_INVALID}])
        lst = json.loads(in_ns("nft", "-j", "list", "table", "inet", "netavark").stdout)
        rule = next(o["rule"] for o in lst["nftables"] if "rule" in o)
        ch = next(o["chain"] for o in lst["nftables"]
                  if "chain" in o and o["chain"]["name"] == "nv_x")
        dels = [{"delete": {"rule": rule}}, {"delete": {"chain": ch}}]
        golden["cases"]["delete_rule_and_chain"] = {
            "commands": dels, "messages": capture_batch(dels), "debug": "",
            "handles": {"rule": rule["handle"], "chain": ch["handle"]}}
        # the spec's example as whole operations
        in_ns("nft", "flush", "ruleset")
        ops = {}
        net = example_network()
        for dns_port in (53, 1153):
            in_ns("nft", "flush", "ruleset")
            net.dns_port = dns_port
            pf = example_port_forward(dns_port)
            cmds = O.setup_network(net, O.Listing([]))
            ops[f"example_setup_network_{dns_port}"] = {"commands": cmds,
                                                        "messages": capture_batch(cmds)}
            lst = O.NftRunner(NS).listing()
            cmds = O.setup_port_forward(pf, lst)
            ops[f"example_setup_port_forward_{dns_port}"] = {"commands": cmds,
                                                             "messages": capture_batch(cmds)}
        golden["operations"] = ops
        with open(os.path.join(out_dir, "golden.json"), "w") as f:
            json.dump(golden, f, indent=1, sort_keys=True)
            f.write("\n")
        # dump of the example (dns port 1153 state is what the namespace holds now)
        dump = {
            "nft_version": version,
            "messages": capture_dump(),
            "json": json.loads(in_ns("nft", "-j", "list", "table", "inet", "netavark").stdout),
            "text": in_ns("nft", "list", "ruleset").stdout,
        }
        with open(os.path.join(out_dir, "dump.json"), "w") as f:
            json.dump(dump, f, indent=1, sort_keys=True)
            f.write("\n")
    finally:
        sh("ip", "netns", "del", NS)


if __name__ == "__main__":
    main()
