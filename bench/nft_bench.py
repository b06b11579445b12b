"""Benchmark of the nftables driver (root; runs in a private network namespace).

    /usr/bin/python3 -I bench/nft_bench.py [--quick]

Measures, in a scratch namespace:

* a container with 1000 published ports: firewall setup (setup_network +
  setup_port_forward) and teardown (teardown_port_forward + teardown_network);
* one container on an empty network, and the 1001st container on a network
  that already has 1000 containers with a published port each: setup and
  teardown, in-process (split into the kernel's commit time and ours) and as
  whole processes (interpreter start, imports, driver) — the way netavark
  runs, once per container;

and prints each with ratios to floors measured in the same run: an empty
nf_tables round trip and ``python3 -I -c pass``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

NS = f"nvbench-{os.getpid()}"
NET_ID = "be7c4a11" + "0" * 56

# one container's firewall work, as a netavark process does it
PROC = """
import sys
sys.path.insert(0, {root!r})
from netavark.config import PortMapping
from netavark.firewall import STRICT, PortForwardConfig, SetupNetwork, get_firewall_driver
from netavark.ip import IpAddr, IpNet
net = SetupNetwork([IpNet.parse("10.90.0.0/16")], "nvbench0", {net_id!r}, "BENCH", STRICT, 53)
pf = PortForwardConfig("ctr5000", {net_id!r}, [PortMapping(80, "", 20000, "tcp", 1)], "bench",
                       "BENCH", container_ip_v4=IpAddr.parse("10.90.19.138"),
                       subnet_v4=IpNet.parse("10.90.0.0/16"), dns_port=53,
                       dns_server_ips=[IpAddr.parse("10.90.0.1")])
drv = get_firewall_driver("nftables")
if {setup}:
    drv.setup_network(net)
    drv.setup_port_forward(pf)
else:
    if {complete}:
        drv.teardown_network(net)
    drv.teardown_port_forward(pf, {complete})
"""


def _net():
    from netavark.firewall import STRICT, SetupNetwork
    from netavark.ip import IpNet

    return SetupNetwork([IpNet.parse("10.90.0.0/16")], "nvbench0", NET_ID, "BENCH", STRICT, 53)


def _pf(idx: int, ports: list[tuple[int, int]]):
    from netavark.config import PortMapping
    from netavark.firewall import PortForwardConfig
    from netavark.ip import IpAddr, IpNet

    ip = IpAddr(4, IpAddr.parse("10.90.0.2").value + idx)
    maps = [PortMapping(c, "", h, "tcp", 1) for h, c in ports]
    return PortForwardConfig(f"ctr{idx}", NET_ID, maps, "bench", "BENCH", container_ip_v4=ip,
                             subnet_v4=IpNet.parse("10.90.0.0/16"), dns_port=53,
                             dns_server_ips=[IpAddr.parse("10.90.0.1")])


class Clock:
    """Wall time of calls, and the part spent in the kernel's batch commits."""

    def __init__(self, sock) -> None:
        self.kernel = 0.0
        real = sock.commit

        def commit(batch, genid=None) -> None:
            t0 = time.perf_counter()
            try:
                real(batch, genid)
            finally:
                self.kernel += time.perf_counter() - t0

        sock.commit = commit

    def run(self, fn) -> tuple[float, float]:
        self.kernel = 0.0
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0, self.kernel


def _med(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _process(setup: bool, complete: bool = False) -> float:
    code = PROC.format(root=ROOT, net_id=NET_ID, setup=setup, complete=complete)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", code], check=True)
    return time.perf_counter() - t0


def inner(quick: bool) -> None:
    from netavark.firewall.nft import NftDriver

    reps = 3 if quick else 9
    drv = NftDriver()
    sock = drv._socket()
    clock = Clock(sock)
    floor_rt = statistics.median(_timed(sock.genid) for _ in range(200))
    floor_py = statistics.median(_timed(lambda: subprocess.run(
        [sys.executable, "-I", "-c", "pass"], check=True)) for _ in range(reps))
    net = _net()
    many = _pf(0, [(10000 + i, 80 + i) for i in range(1000)])
    one = _pf(5000, [(20000, 80)])

    def setup(pf) -> None:
        drv.setup_network(net)
        drv.setup_port_forward(pf)

    def teardown_last(pf) -> None:
        drv.teardown_network(net)
        drv.teardown_port_forward(pf, True)

    res: dict[str, tuple[float, float]] = {}
    s, t = [], []
    for _ in range(reps):
        s.append(clock.run(lambda: setup(many)))
        t.append(clock.run(lambda: teardown_last(many)))
    res["1000 ports: setup"], res["1000 ports: teardown"] = _med(s), _med(t)
    out = subprocess.run(["nft", "list", "table", "inet", "netavark"], capture_output=True,
                         text=True).stdout
    assert "nv_be7c4a11" not in out, "teardown left rules behind"

    def container_costs(label: str, complete: bool) -> None:
        s, t, ps, pt, fl = [], [], [], [], []
        for _ in range(reps):
            s.append(clock.run(lambda: setup(one)))
            if complete:
                t.append(clock.run(lambda: teardown_last(one)))
            else:
                t.append(clock.run(lambda: drv.teardown_port_forward(one, False)))
            # an empty interpreter started from this same (grown) process, for reference
            fl.append(_timed(lambda: subprocess.run([sys.executable, "-I", "-c", "pass"],
                                                    check=True)))
            ps.append(_process(True))
            pt.append(_process(False, complete))
        res[f"{label}: setup"], res[f"{label}: teardown"] = _med(s), _med(t)
        res[f"{label}: setup, process"] = (statistics.median(ps), 0.0)
        res[f"{label}: teardown, process"] = (statistics.median(pt), 0.0)
        res[f"{label}: python3 -c pass"] = (statistics.median(fl), 0.0)

    container_costs("first container", True)
    drv.setup_network(net)
    n = 1000
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        setup(_pf(i, [(30000 + i, 80)]))
    fill = time.perf_counter() - t0
    container_costs("1001st container", False)

    print(f"floors: empty nf_tables round trip {floor_rt * 1e6:.0f} us; "
          f"python3 -I -c pass {floor_py * 1e3:.1f} ms")
    print(f"(filling the network with {n} containers took {fill:.2f} s, "
          f"{fill / n * 1e3:.2f} ms per container)")
    print(f"{'':38s} {'total':>9s} {'kernel':>9s} {'ours':>9s}  {'x py-start':>10s}")
    for k, (tot, kern) in res.items():
        ours = f"{(tot - kern) * 1e3:7.2f}ms" if kern else ""
        kernel = f"{kern * 1e3:7.2f}ms" if kern else ""
        print(f"{k:38s} {tot * 1e3:7.2f}ms {kernel:>9s} {ours:>9s}  {tot / floor_py:10.2f}")

    def ratio(what: str) -> float:
        return res[f"1001st container: {what}"][0] / res[f"first container: {what}"][0]

    print("1001st / first container:")
    for what in ("setup", "teardown"):
        a, b = res[f"first container: {what}"], res[f"1001st container: {what}"]
        print(f"  {what:9s} in-process {b[0] / a[0]:5.2f}x (ours alone "
              f"{(b[0] - b[1]) / (a[0] - a[1]):5.2f}x, kernel commit "
              f"{b[1] / a[1]:5.2f}x); whole process {ratio(what + ', process'):5.2f}x")
    ok_ports = res["1000 ports: setup"][0] <= 0.25 and res["1000 ports: teardown"][0] <= 0.25
    print(f"1000 published ports within 0.25 s each: {'yes' if ok_ports else 'NO'}")
    print(f"1001st container setup within 1.2x of the first (whole process): "
          f"{'yes' if ratio('setup, process') <= 1.2 else 'NO'}")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        inner("--quick" in sys.argv)
        return
    if os.geteuid() != 0:
        raise SystemExit("needs root (creates a network namespace)")
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        args = ["ip", "netns", "exec", NS, sys.executable, "-I", os.path.abspath(__file__),
                "--inner", *sys.argv[1:]]
        subprocess.run(args, check=True, cwd=ROOT)
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=False)


if __name__ == "__main__":
    main()
