"""Rootless: an unprivileged user runs netavark inside its own user+network namespace,
the way rootless Podman runs it inside the rootless network namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import LAUNCHER, ROOT

NOBODY = 65534
SIMPLE = os.path.join(ROOT, "tests", "data", "upstream", "test", "testfiles",
                      "simplebridge.json")

SCRIPT = r"""
set -e
unshare --net sleep 60 &
holder=$!
sleep 0.3
ctr=$(pgrep -P $holder sleep || echo $holder)
ip link set lo up
cfg=$(mktemp -d)
export NETAVARK_FW=none DBUS_SYSTEM_BUS_ADDRESS=
run() { "$PYTHON" "$LAUNCHER" --rootless=true --config "$cfg" -f "$INPUT" "$@"; }
echo "SETUP $(run setup /proc/$ctr/ns/net)"
echo "HOSTLINKS $(ip -j link show)"
echo "CTRADDRS $(nsenter --net=/proc/$ctr/ns/net ip -j addr show eth0)"
echo "FILES $(find "$cfg" -mindepth 1 | wc -l)"
run teardown /proc/$ctr/ns/net
echo "AFTER $(ip -j link show)"
kill $holder
"""


def unprivileged(*cmd: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]


@pytest.fixture(scope="module")
def userns_available() -> None:
    res = subprocess.run(unprivileged("unshare", "--user", "--map-root-user", "--net", "true"),
                         capture_output=True)
    if res.returncode != 0:
        pytest.skip("unprivileged user namespaces are disabled on this kernel")


def test_rootless_setup_and_teardown_in_user_namespace(userns_available, tmp_path):
    env = {"PATH": os.environ["PATH"], "PYTHON": sys.executable, "LAUNCHER": LAUNCHER,
           "INPUT": SIMPLE, "TMPDIR": "/tmp"}
    res = subprocess.run(unprivileged("unshare", "--user", "--map-root-user", "--net", "--mount",
                                      "bash", "-c", SCRIPT),
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, (res.stdout, res.stderr)
    lines = dict(line.split(" ", 1) for line in res.stdout.splitlines() if " " in line)
    out = json.loads(lines["SETUP"])
    assert out["podman"]["interfaces"]["eth0"]["subnets"][0]["ipnet"] == "10.88.0.2/16"
    host_links = {link["ifname"]: link for link in json.loads(lines["HOSTLINKS"])}
    assert host_links["veth0"]["master"] == "podman0"
    ctr = json.loads(lines["CTRADDRS"])
    assert any(a["local"] == "10.88.0.2" for a in ctr[0]["addr_info"])
    # rootless writes no firewall state files
    assert lines["FILES"].strip() == "0"
    assert {link["ifname"] for link in json.loads(lines["AFTER"])} == {"lo"}
