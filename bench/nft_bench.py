"""Benchmark of the nftables driver (root; runs in a private network namespace).

    /usr/bin/python3 -I bench/nft_bench.py [--quick]

Measures, in a scratch namespace:

* a container with 1000 published ports: firewall setup (setup_network +
  setup_port_forward) and teardown (teardown_port_forward + teardown_network);
* a network that already has 1000 containers with one port each: setup and
  teardown of one more container, against the same for the first container
  of an empty network (target: at most 1.2x);

and prints each as milliseconds and as a ratio to floors measured in the same
run: an empty nf_tables round trip and ``python3 -I -c pass``.
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


def _net(internal: bool = False):  # noqa: ANN202
    from netavark.firewall import STRICT, SetupNetwork
    from netavark.ip import IpNet

    return SetupNetwork([IpNet.parse("10.90.0.0/16")], "nvbench0", NET_ID, "BENCH", STRICT, 53)


def _pf(idx: int, ports: list[tuple[int, int]]):  # noqa: ANN202
    from netavark.config import PortMapping
    from netavark.firewall import PortForwardConfig
    from netavark.ip import IpAddr, IpNet

    ip = IpAddr(4, IpAddr.parse("10.90.0.2").value + idx)
    maps = [PortMapping(c, "", h, "tcp", 1) for h, c in ports]
    return PortForwardConfig(f"ctr{idx}", NET_ID, maps, "bench", "BENCH", container_ip_v4=ip,
                             subnet_v4=IpNet.parse("10.90.0.0/16"), dns_port=53,
                             dns_server_ips=[IpAddr.parse("10.90.0.1")])


def _median(fn, n: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def inner(quick: bool) -> None:
    from netavark.firewall.nft import NftDriver
    from netavark.nft.transport import NftSocket

    reps = 3 if quick else 7
    drv = NftDriver()
    sock = NftSocket()
    floor_rt = _median(sock.genid, 200)
    res = {}

    net = _net()
    many = _pf(0, [(10000 + i, 80 + i) for i in range(1000)])

    def setup_many() -> None:
        drv.setup_network(net)
        drv.setup_port_forward(many)

    def teardown_many() -> None:
        drv.teardown_port_forward(many, True)
        drv.teardown_network(net)

    s, t = [], []
    for _ in range(reps):
        s.append(_median(setup_many, 1))
        t.append(_median(teardown_many, 1))
    res["1000 ports: setup"] = statistics.median(s)
    res["1000 ports: teardown"] = statistics.median(t)
    out = subprocess.run(["nft", "list", "table", "inet", "netavark"], capture_output=True,
                         text=True).stdout
    assert "nv_be7c4a11" not in out, "teardown left rules behind"

    one = _pf(5000, [(20000, 80)])

    def setup_one() -> None:
        drv.setup_network(net)
        drv.setup_port_forward(one)

    def teardown_one_last() -> None:
        drv.teardown_port_forward(one, True)
        drv.teardown_network(net)

    def teardown_one() -> None:
        drv.teardown_port_forward(one, False)

    first_s, first_t = [], []
    for _ in range(reps):
        first_s.append(_median(setup_one, 1))
        first_t.append(_median(teardown_one_last, 1))
    res["first container: setup"] = statistics.median(first_s)
    res["first container: teardown"] = statistics.median(first_t)

    drv.setup_network(net)
    n = 1000
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        drv.setup_network(net)
        drv.setup_port_forward(_pf(i, [(30000 + i, 80)]))
    fill = time.perf_counter() - t0
    nth_s, nth_t = [], []
    for _ in range(reps):
        nth_s.append(_median(setup_one, 1))
        nth_t.append(_median(teardown_one, 1))
    res["1001st container: setup"] = statistics.median(nth_s)
    res["1001st container: teardown"] = statistics.median(nth_t)

    t0 = time.perf_counter()
    py = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
        py.append(time.perf_counter() - t0)
    floor_py = statistics.median(py)

    print(f"floor: empty nf_tables round trip {floor_rt * 1e6:.0f} us; "
          f"python3 -I -c pass {floor_py * 1e3:.1f} ms")
    print(f"(filling the network with {n} containers took {fill:.2f} s, "
          f"{fill / n * 1e3:.2f} ms per container)")
    for k, v in res.items():
        print(f"{k:30s} {v * 1e3:8.1f} ms  = {v / floor_py:6.2f} x python-start "
              f"= {v / floor_rt:8.0f} x round-trip")
    r_setup = res["1001st container: setup"] / res["first container: setup"]
    r_tear = res["1001st container: teardown"] / res["first container: teardown"]
    print(f"1001st / first container: setup {r_setup:.2f}x, teardown {r_tear:.2f}x")
    ok = (res["1000 ports: setup"] <= 0.25 and res["1000 ports: teardown"] <= 0.25
          and r_setup <= 1.2)
    print("targets (1000 ports <= 0.25 s each, 1001st setup <= 1.2x first):",
          "met" if ok else "NOT met")


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
