"""Re-capture ``kernel_replies.json``: raw rtnetlink replies from a real kernel.

Run as root: ``python3 tests/data/rtnl/capture.py``.  It builds a scratch
network namespace with iproute2 (not with our code), re-runs itself inside it
to ask the kernel with raw requests, and stores the reply datagrams as hex
together with what ``ip -j`` reports about the same objects; the unit tests
compare that with our decoder's view.
"""

import json
import os
import socket
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, ROOT)

from netavark.netlink import rtnl  # noqa: E402
from netavark.netlink.message import (  # noqa: E402
    NLM_F_DUMP,
    NLM_F_REQUEST,
    iter_messages,
    pack_message,
)
from netavark.netlink.route import get_link_by_name_request, route_dump_request  # noqa: E402

NS = f"nvcap-{os.getpid()}"


def sh(*cmd: str) -> str:
    return subprocess.run(["ip", "netns", "exec", NS, *cmd], check=True, capture_output=True,
                          text=True).stdout


def raw(sock: socket.socket, msg_type: int, flags: int, payload: bytes) -> list[str]:
    """Send one request; return every reply datagram (as hex) up to the last one."""
    sock.send(pack_message(msg_type, flags | NLM_F_REQUEST, 1, payload))
    out = []
    while True:
        data = sock.recv(1 << 16)
        out.append(data.hex())
        msgs = list(iter_messages(data))
        if any(m.type in (2, 3) for m in msgs) or not msgs[-1].flags & 0x2:
            return out


def inside() -> None:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK
    s.setsockopt(270, 12, 1)  # NETLINK_GET_STRICT_CHK
    s.bind((0, 0))
    out = {
        "getlink_br0": raw(s, rtnl.RTM_GETLINK, 0, get_link_by_name_request("br0")),
        "getlink_vc0": raw(s, rtnl.RTM_GETLINK, 0, get_link_by_name_request("vc0")),
        "getlink_missing": raw(s, rtnl.RTM_GETLINK, 0, get_link_by_name_request("nosuch0")),
        "dump_routes_main": raw(s, rtnl.RTM_GETROUTE, NLM_F_DUMP, route_dump_request(254)),
        "dump_addrs": raw(s, rtnl.RTM_GETADDR, NLM_F_DUMP, rtnl.ADDR_MSG.encode(({}, ()))),
    }
    print(json.dumps(out))


def main() -> None:
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        sh("ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "br0", "type", "bridge")
        sh("ip", "link", "set", "br0", "mtu", "1400")
        sh("ip", "link", "add", "vh0", "mtu", "1400", "master", "br0", "type", "veth", "peer",
           "name", "vc0")
        sh("ip", "addr", "add", "10.88.0.1/16", "dev", "br0")
        sh("ip", "addr", "add", "fd00::1/64", "dev", "br0", "nodad")
        sh("ip", "link", "set", "br0", "up")
        sh("ip", "link", "set", "vh0", "up")
        sh("ip", "route", "add", "blackhole", "10.89.0.0/24")
        sh("ip", "route", "add", "default", "via", "10.88.0.2", "dev", "br0", "metric", "100")
        replies = json.loads(sh(sys.executable, os.path.abspath(__file__), "--inside"))
        facts = {
            "links": json.loads(sh("ip", "-j", "-d", "link", "show")),
            "addrs": json.loads(sh("ip", "-j", "addr", "show")),
            "routes": json.loads(sh("ip", "-j", "route", "show", "table", "main")),
            "routes6": json.loads(sh("ip", "-j", "-6", "route", "show", "table", "main")),
        }
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_replies.json")
        with open(path, "w") as f:
            json.dump({"replies": replies, "ip": facts, "kernel": os.uname().release}, f,
                      indent=1)
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=False)


if __name__ == "__main__":
    if sys.argv[1:] == ["--inside"]:
        inside()
    else:
        main()
