#!/usr/bin/python3 -I
"""Whole-process timings of the core commands, as ratios against floors measured now.

The floor (same run, same machine) is ``python3 -I -S -c pass``: the unavoidable
start of a Python process.  ``ip netns exec`` wraps every sample and is subtracted.
Commands measured: ``version`` (start-up + imports), ``setup`` and ``teardown`` of one
container on a bridge network, with firewall driver ``none`` and with ``nftables``.

Run as root (it works in private network namespaces): ``bench/setup_bench.py [-n N]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "bin", "netavark")
PY = "/usr/bin/python3"
SIMPLE = os.path.join(ROOT, "tests", "data", "upstream", "test", "testfiles",
                      "simplebridge.json")


def ns(name: str, *cmd: str) -> list[str]:
    return ["ip", "netns", "exec", name, *cmd]


def timed(argv: list[str], env: dict | None = None, stdin: bytes | None = None) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"{argv} failed: {res.stderr.decode()}")
    return dt


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    n = 30
    if "-n" in sys.argv:
        n = int(sys.argv[sys.argv.index("-n") + 1])
    host, ctr = f"nvbench-h-{os.getpid()}", f"nvbench-c-{os.getpid()}"
    cfg = tempfile.mkdtemp(prefix="nvbench")
    env = dict(os.environ, NETAVARK_FW="none", DBUS_SYSTEM_BUS_ADDRESS="")
    env.pop("RUST_LOG", None)
    for name in (host, ctr):
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(ns(host, "ip", "link", "set", "lo", "up"), check=True)
        # an untimed warm-up writes the bytecode cache
        base = [LAUNCHER, "--config", cfg, "-f", SIMPLE]
        timed(ns(host, *base, "setup", f"/run/netns/{ctr}"), env)
        timed(ns(host, *base, "teardown", f"/run/netns/{ctr}"), env)

        nft_env = dict(env, NETAVARK_FW="nftables")
        timed(ns(host, *base, "setup", f"/run/netns/{ctr}"), nft_env)
        timed(ns(host, *base, "teardown", f"/run/netns/{ctr}"), nft_env)
        interp, version, setup, teardown, nsetup, nteardown = [], [], [], [], [], []
        for _ in range(n):
            interp.append(timed(ns(host, PY, "-I", "-S", "-c", "pass")))
            version.append(timed(ns(host, LAUNCHER, "version")))
            setup.append(timed(ns(host, *base, "setup", f"/run/netns/{ctr}"), env))
            teardown.append(timed(ns(host, *base, "teardown", f"/run/netns/{ctr}"), env))
            nsetup.append(timed(ns(host, *base, "setup", f"/run/netns/{ctr}"), nft_env))
            nteardown.append(timed(ns(host, *base, "teardown", f"/run/netns/{ctr}"), nft_env))
        # `ip netns exec` itself is part of every sample; measure it to subtract
        wrapper = [timed(ns(host, "true")) for _ in range(n)]
        w = median_ms(wrapper)
        floor = median_ms(interp) - w
        rows = [("interpreter start (floor)", floor), ("version", median_ms(version) - w),
                ("setup, bridge, fw none", median_ms(setup) - w),
                ("teardown, bridge, fw none", median_ms(teardown) - w),
                ("setup, bridge, fw nftables", median_ms(nsetup) - w),
                ("teardown, bridge, fw nftables", median_ms(nteardown) - w)]
        print(f"{'command':32} {'median ms':>10} {'x floor':>8}")
        for label, ms in rows:
            print(f"{label:32} {ms:10.1f} {ms / floor:8.2f}")
        none_setup = median_ms(setup) - w
        print(f"nftables setup / fw-none setup: {(median_ms(nsetup) - w) / none_setup:.2f}x")
        print(json.dumps({label: round(ms, 2) for label, ms in rows}))
    finally:
        for name in (host, ctr):
            subprocess.run(["ip", "netns", "del", name], check=False)
        subprocess.run(["rm", "-rf", cfg], check=False)


if __name__ == "__main__":
    main()
