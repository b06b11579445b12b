"""A one-shot command's netfilter socket is released in the background after a commit."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import ROOT

SCRIPT = f"""
import os, sys, time
sys.path.insert(0, {ROOT!r})
from netavark.firewall import STRICT, SetupNetwork, get_firewall_driver
from netavark.ip import IpNet
drv = get_firewall_driver("nftables", one_shot=True)
drv.setup_network(SetupNetwork([IpNet.parse("10.95.0.0/24")], "nvrel0", "ab" * 32, "X",
                               STRICT, 53), None)
print(os.getpid(), flush=True)
"""


def test_release_leaves_rules_and_no_process_behind(host):
    t0 = time.perf_counter()
    res = host.run(sys.executable, "-I", "-c", SCRIPT)
    elapsed = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr
    assert elapsed < 10
    rules = host.run("nft", "list", "chain", "inet", "netavark", "POSTROUTING").stdout
    assert "ip saddr 10.95.0.0/24 jump nv_abababab_10_95_0_0_nm24" in rules
    # the background child that held the socket is gone shortly after
    deadline = time.time() + 5
    while time.time() < deadline:
        left = subprocess.run(["ip", "netns", "pids", host.name], capture_output=True,
                              text=True).stdout.split()
        if not left:
            break
        time.sleep(0.05)
    assert not left, f"processes still in the namespace: {left}"
