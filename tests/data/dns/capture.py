#!/usr/bin/python3
"""Re-capture ``aardvark-golden.json``: real dig queries and real aardvark-dns answers.

Needs root, ``dig`` and aardvark-dns (argument 1, default /usr/lib/podman/aardvark-dns).
Runs everything in a private network namespace and removes it.  The queries
are what dig sends (captured on a plain UDP socket); each is then sent to
aardvark-dns from the address given as ``src`` and the answer is stored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AARDVARK = sys.argv[1] if len(sys.argv) > 1 else "/usr/lib/podman/aardvark-dns"
PORT = 5399

CONFIG = {
    "net1": "10.89.1.1,fd10:89:1::1\n"
            "c1c1 10.89.1.2 fd10:89:1::2 web,www\n"
            "c2c2 10.89.1.3  db\n",
    "net2": "10.89.2.1\n"
            "c3c3 10.89.2.2  other\n",
}

# (name, dig arguments, source address)
CASES = [
    ("a_container", ["web", "A"], "10.89.1.3"),
    ("aaaa_container", ["web", "AAAA"], "10.89.1.3"),
    ("a_upper_search_domain", ["WWW.DNS.PODMAN", "A"], "10.89.1.3"),
    ("aaaa_v4_only_name", ["db", "AAAA"], "10.89.1.2"),
    ("a_noedns", ["web", "A", "+noedns"], "10.89.1.3"),
    ("ptr_v4", ["-x", "10.89.1.2"], "10.89.1.3"),
    ("ptr_v6", ["-x", "fd10:89:1::2"], "10.89.1.3"),
    ("nxdomain_search_domain", ["nothere.dns.podman", "A"], "10.89.1.3"),
    ("a_two_names_tcp_style_id", ["db.dns.podman.", "A", "+noadflag"], "10.89.1.2"),
]


def ns_exec(ns: str, *cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True, **kw)


def capture_query(ns: str, args: list[str]) -> bytes:
    """What dig sends for ``args`` (caught on a socket that never answers)."""
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "s.bind(('127.0.0.1',5398)); s.settimeout(5)\n"
            "sys.stdout.write(s.recv(4096).hex())\n")
    catcher = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", code],
                               stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    subprocess.run(["ip", "netns", "exec", ns, "dig", "@127.0.0.1", "-p", "5398", "+tries=1",
                    "+time=1", *args], capture_output=True)
    out, _ = catcher.communicate(timeout=10)
    return bytes.fromhex(out)


def ask(ns: str, src: str, query: bytes) -> bytes:
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            f"s.bind(({src!r},0)); s.settimeout(3)\n"
            f"s.sendto(bytes.fromhex({query.hex()!r}),('10.89.1.1',{PORT}))\n"
            "sys.stdout.write(s.recv(65535).hex())\n")
    out = ns_exec(ns, sys.executable, "-c", code, capture_output=True, text=True).stdout
    return bytes.fromhex(out)


def main() -> None:
    ns = f"dnscap-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    tmp = tempfile.mkdtemp()
    try:
        ns_exec(ns, "ip", "link", "set", "lo", "up")
        for addr in ("10.89.1.1/24", "10.89.1.2/32", "10.89.1.3/32", "10.89.2.1/24"):
            ns_exec(ns, "ip", "addr", "add", addr, "dev", "lo")
        ns_exec(ns, "ip", "addr", "add", "fd10:89:1::1/64", "dev", "lo", "nodad")
        cfg = os.path.join(tmp, "aardvark-dns")
        os.mkdir(cfg)
        for name, content in CONFIG.items():
            with open(os.path.join(cfg, name), "w") as f:
                f.write(content)
        ns_exec(ns, AARDVARK, "--config", cfg, "-p", str(PORT), "run",
                env={**os.environ, "AARDVARK_NO_PROXY": "1"})
        version = subprocess.run([AARDVARK, "version"], capture_output=True,
                                 text=True).stdout
        cases = []
        for name, args, src in CASES:
            query = capture_query(ns, args)
            cases.append({"name": name, "src": src, "network": "net1", "query": query.hex(),
                          "response": ask(ns, src, query).hex()})
        with open(os.path.join(HERE, "aardvark-golden.json"), "w") as f:
            json.dump({"aardvark": json.loads(version)["version"], "no_proxy": True,
                       "config": CONFIG, "cases": cases}, f, indent=1)
            f.write("\n")
    finally:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                              text=True).stdout.split()
        for pid in pids:
            os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", ns])
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
