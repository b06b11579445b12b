#!/usr/bin/python3 -I
"""Queries per second for container names: the built-in server against aardvark-dns.

Both servers get the same configuration (one network, N containers, default
1000), run in one private network namespace at the same time on two gateway
addresses, and are measured by the same load generator in the same run,
alternating rounds.  The load generator is ``dnsperf`` (Debian package
``dnsperf``) if installed, else a Python one (which then is likely the
bottleneck; the output says which).  Queries are A lookups of container
names, half of them with the ``.dns.podman`` suffix, sent from a container
address.  Also reported: resident memory (VmRSS) of both servers with the N
containers loaded.

Run as root: ``bench/dns_bench.py [-n CONTAINERS] [-t SECONDS] [-r ROUNDS]
[--aardvark PATH] [--no-cache]`` (``--no-cache`` runs the built-in server with
its answer cache off, to measure the codec and lookup path alone).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILTIN = os.path.join(ROOT, "bin", "aardvark-dns")
PY = "/usr/bin/python3"
GW_AARDVARK = "10.200.0.1"
GW_BUILTIN = "10.200.0.2"
CLIENT = "10.200.1.250"
PORT = 53


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def write_config(path: str, gateway: str, n: int) -> None:
    os.makedirs(path)
    lines = [gateway]
    for i in range(n):
        lines.append(f"{i:064x} 10.200.{1 + i // 250}.{1 + i % 250}  c{i},alias{i}")
    lines.append(f"{'f' * 64} {CLIENT}  client")
    with open(os.path.join(path, "bench"), "w") as f:
        f.write("\n".join(lines) + "\n")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pid_of(config: str) -> int:
    with open(os.path.join(config, "aardvark.pid")) as f:
        return int(f.read())


def query_file(path: str, n: int) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"c{i} A\n" if i % 2 else f"c{i}.dns.podman A\n")


def dnsperf(ns: str, server: str, data: str, seconds: float) -> float:
    out = sh("ip", "netns", "exec", ns, "dnsperf", "-s", server, "-p", str(PORT), "-a", CLIENT,
             "-d", data, "-l", str(seconds), "-c", "8", "-q", "256", "-t", "2").stdout
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    if not m:
        raise SystemExit(f"dnsperf output not understood:\n{out}")
    if lost and int(lost.group(1)) > 0:
        print(f"    ({lost.group(1)} queries lost)")
    return float(m.group(1))


PY_LOADGEN = r"""
import os, select, socket, struct, sys, time
server, client, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def q(i, name):
    labels = b"".join(bytes([len(p)]) + p for p in name.encode().split(b"."))
    return struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + labels + b"\0\0\1\0\1"
names = [f"c{i}" if i % 2 else f"c{i}.dns.podman" for i in range(n)]
socks = []
for _ in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((client, 0))
    s.connect((server, 53)); s.setblocking(False); socks.append(s)
ep = select.epoll()
for s in socks: ep.register(s.fileno(), select.EPOLLIN)
by_fd = {s.fileno(): s for s in socks}
done = sent = 0
end = time.monotonic() + seconds
for s in socks:
    for _ in range(32):
        s.send(q(sent, names[sent % n])); sent += 1
while time.monotonic() < end:
    for fd, _ in ep.poll(0.5):
        s = by_fd[fd]
        while True:
            try: s.recv(4096)
            except BlockingIOError: break
            done += 1
            s.send(q(sent, names[sent % n])); sent += 1
print(done / seconds)
"""


def pyload(ns: str, server: str, n: int, seconds: float) -> float:
    out = sh("ip", "netns", "exec", ns, PY, "-c", PY_LOADGEN, server, CLIENT, str(n),
             str(seconds)).stdout
    return float(out.strip())


def check_answer(ns: str, server: str) -> None:
    """Both servers must really answer before we time them."""
    code = ("import socket,struct,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2)\n"
            f"s.bind(({CLIENT!r},0))\n"
            "s.sendto(struct.pack('!HHHHHH',1,256,1,0,0,0)+b'\\x02c7\\x00\\x00\\x01\\x00\\x01',"
            f"({server!r},53))\n"
            "r=s.recv(512); sys.stdout.write(socket.inet_ntoa(r[-4:]))\n")
    got = sh("ip", "netns", "exec", ns, PY, "-c", code).stdout
    if got != "10.200.1.8":
        raise SystemExit(f"{server} answered {got!r} for c7")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="containers configured")
    ap.add_argument("-t", type=float, default=10, help="seconds per measurement")
    ap.add_argument("-r", type=int, default=2, help="rounds (each measures both servers)")
    ap.add_argument("--aardvark", default="/usr/lib/podman/aardvark-dns")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (private network namespace)")
    if not os.access(args.aardvark, os.X_OK):
        raise SystemExit(f"aardvark-dns not found at {args.aardvark}")
    ns = f"dnsbench-{os.getpid()}"
    tmp = tempfile.mkdtemp(prefix="dnsbench.")
    sh("ip", "netns", "add", ns)
    pids: list[int] = []
    try:
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        for addr in (GW_AARDVARK, GW_BUILTIN, CLIENT):
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/32", "dev", "lo")
        cfg_a = os.path.join(tmp, "a", "aardvark-dns")
        cfg_b = os.path.join(tmp, "b", "aardvark-dns")
        write_config(cfg_a, GW_AARDVARK, args.n)
        write_config(cfg_b, GW_BUILTIN, args.n)
        env = dict(os.environ, RUST_LOG="warn", AARDVARK_NO_PROXY="1")
        if args.no_cache:
            env["NETAVARK_DNS_CACHE_SIZE"] = "0"
        for binary, cfg in ((args.aardvark, cfg_a), (BUILTIN, cfg_b)):
            subprocess.run(["ip", "netns", "exec", ns, binary, "--config", cfg, "-p", str(PORT),
                            "run"], check=True, env=env, stderr=subprocess.DEVNULL)
            pids.append(pid_of(cfg))
        check_answer(ns, GW_AARDVARK)
        check_answer(ns, GW_BUILTIN)
        data = os.path.join(tmp, "queries")
        query_file(data, args.n)
        gen = "dnsperf" if shutil.which("dnsperf") else "python"
        print(f"load generator: {gen}; {args.n} containers; {args.t:g} s x {args.r} rounds; "
              f"built-in cache {'off' if args.no_cache else 'on'}")
        results: dict[str, list[float]] = {"aardvark-dns": [], "built-in": []}
        for rnd in range(args.r):
            for label, gw in (("aardvark-dns", GW_AARDVARK), ("built-in", GW_BUILTIN)):
                qps = (dnsperf(ns, gw, data, args.t) if gen == "dnsperf"
                       else pyload(ns, gw, args.n, args.t))
                results[label].append(qps)
                print(f"  round {rnd + 1} {label:12s} {qps:10.0f} qps")
        best_a = max(results["aardvark-dns"])
        best_b = max(results["built-in"])
        print(f"aardvark-dns {best_a:.0f} qps, built-in {best_b:.0f} qps, "
              f"ratio {best_b / best_a:.2f}x")
        print(f"RSS with {args.n} containers: aardvark-dns {rss_kib(pids[0]) / 1024:.1f} MiB, "
              f"built-in {rss_kib(pids[1]) / 1024:.1f} MiB")
    finally:
        # the servers, then anything else left in our own namespace; a pid from a
        # pid file is only trusted if it is > 1 (kill(-1) would hit every process)
        targets = [p for p in pids if p > 1]
        targets += [int(p) for p in sh("ip", "netns", "pids", ns, check=False).stdout.split()]
        for pid in targets:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
