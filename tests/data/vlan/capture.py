#!/usr/bin/env python3
"""Re-create the captured RTM_NEWLINK requests in this folder (run as root).

Each capture runs a real tool under ``strace -e write=all`` inside a scratch
network namespace that has a veth ``lan0`` as the parent, with a second
scratch namespace as the target (``IFLA_NET_NS_FD``), and keeps the bytes of
the ``RTM_NEWLINK`` create request.  The kernel may refuse the request (no
ipvlan module): only the request bytes matter.

    capture.py [--netavark PATH-TO-NETAVARK-1.x]

The netavark captures need an upstream netavark binary that knows macvlan
(Debian's 1.4.0 package ships ``/usr/lib/podman/netavark``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HOST, TARGET = f"vlcap-h-{os.getpid()}", f"vlcap-c-{os.getpid()}"

IPROUTE2 = {
    # name: arguments after "ip link add"
    "iproute2-ipvlan-l2": "link lan0 name eth0 netns {target} type ipvlan mode l2",
    "iproute2-ipvlan-l3": "link lan0 name eth0 netns {target} mtu 1400 type ipvlan mode l3",
    "iproute2-ipvlan-l3s": "link lan0 name eth0 netns {target} type ipvlan mode l3s",
    "iproute2-macvlan-bridge": "link lan0 name eth0 netns {target} type macvlan mode bridge",
    "iproute2-macvlan-private": ("link lan0 name eth0 address aa:bb:cc:dd:ee:ff netns {target} "
                                 "mtu 1400 type macvlan mode private"),
    "iproute2-macvlan-vepa": "link lan0 name eth0 netns {target} type macvlan mode vepa",
    "iproute2-macvlan-passthru": "link lan0 name eth0 netns {target} type macvlan mode passthru",
    "iproute2-macvlan-source": "link lan0 name eth0 netns {target} type macvlan mode source",
}

NETAVARK = {
    # name: (network options, static_mac)
    "netavark-macvlan-private": ({"mode": "private", "mtu": "1400"}, "aa:bb:cc:dd:ee:ff"),
    "netavark-macvlan-bridge": ({}, None),
}

IOV_LINE = re.compile(r"^\s*\* \d+ bytes in buffer \d+")
HEX_LINE = re.compile(r"^\s*\| [0-9a-f]{5}  ((?:[0-9a-f]{2}  ?)+)")


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def newlink_requests(strace_out: str) -> list[bytes]:
    """The hex dumps of every RTM_NEWLINK create request in ``strace -e write=all`` output."""
    found: list[bytes] = []
    cur: bytearray | None = None
    for line in strace_out.splitlines():
        m = HEX_LINE.match(line)
        if m:
            if cur is not None:
                cur += bytes.fromhex(m.group(1).replace(" ", ""))
            continue
        if cur is not None and IOV_LINE.match(line):
            continue  # sendmsg: "* N bytes in buffer K" before each iovec's dump
        if cur is not None:
            found.append(bytes(cur))
            cur = None
        if "nlmsg_type=0x10," in line and "nlmsg_flags=0x605" in line:
            cur = bytearray()
    if cur is not None:
        found.append(bytes(cur))
    return found


def save(name: str, tool: str, command: str, data: bytes) -> None:
    with open(os.path.join(HERE, f"{name}.hex"), "w") as f:
        f.write(f"# RTM_NEWLINK request sent by {tool}\n")
        f.write(f"# command: {command}\n")
        f.write("# captured with strace -e write=all; one netlink message, hex\n")
        for i in range(0, len(data), 16):
            f.write(data[i:i + 16].hex(" ") + "\n")


def strace(cmd: list[str]) -> str:
    res = subprocess.run(["ip", "netns", "exec", HOST, "strace", "-X", "raw", "-f", "-e",
                          "trace=sendto,sendmsg", "-e", "write=all", "-xx", "-s", "4096",
                          *cmd], capture_output=True, text=True)
    return res.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--netavark", default="/usr/lib/podman/netavark")
    args = ap.parse_args()
    tool_version = sh("ip", "-V").stdout.strip()
    sh("ip", "netns", "add", HOST)
    sh("ip", "netns", "add", TARGET)
    try:
        sh("ip", "-n", HOST, "link", "add", "lan0", "type", "veth", "peer", "name", "lanp")
        sh("ip", "-n", HOST, "link", "set", "lan0", "up")
        for name, argv in IPROUTE2.items():
            command = "ip link add " + argv.format(target="<target netns>")
            out = strace(["ip", "link", "add", *argv.format(target=TARGET).split()])
            sh("ip", "-n", TARGET, "link", "del", "eth0", check=False)
            (req,) = newlink_requests(out)
            save(name, tool_version, command, req)
        if os.path.exists(args.netavark):
            version = sh(args.netavark, "--version").stdout.strip()
            with tempfile.TemporaryDirectory() as tmp:
                for name, (opts, mac) in NETAVARK.items():
                    per_net: dict = {"static_ips": ["10.88.0.2"], "interface_name": "eth0"}
                    if mac:
                        per_net["static_mac"] = mac
                    conf = {
                        "container_id": "someID", "container_name": "someName",
                        "networks": {"podman": per_net},
                        "network_info": {"podman": {
                            "name": "podman", "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1"
                            "b9924b557b7be53c0b7a1bb9", "driver": "macvlan",
                            "network_interface": "lan0",
                            "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}],
                            "ipv6_enabled": False, "internal": False, "dns_enabled": False,
                            "options": opts, "ipam_options": {"driver": "host-local"}}}}
                    path = os.path.join(tmp, "conf.json")
                    with open(path, "w") as f:
                        json.dump(conf, f)
                    base = [args.netavark, "--config", tmp, "--file", path]
                    out = strace([*base, "setup", f"/run/netns/{TARGET}"])
                    sh("ip", "netns", "exec", HOST, *base, "teardown", f"/run/netns/{TARGET}",
                       check=False)
                    (req,) = newlink_requests(out)
                    command = f"netavark setup, macvlan, options {json.dumps(opts)}"
                    if mac:
                        command += f", static_mac {mac}"
                    save(name, version, command, req)
    finally:
        sh("ip", "netns", "del", TARGET, check=False)
        sh("ip", "netns", "del", HOST, check=False)


if __name__ == "__main__":
    main()
