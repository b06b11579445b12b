"""Test environment for the DHCP proxy: a LAN with dnsmasq, a host, containers.

Topology (every piece in its own namespace, created and removed by the tests)::

    lan ns:   br0 (<subnet>.1/24, dnsmasq) ── lanp ═══ uplink ── host ns
    host ns:  uplink (no address) — the proxy runs here; macvlan parents and
              unmanaged bridges hang off it
    ctr ns:   the container side

dnsmasq is the independent DHCP server; its log and lease file are the oracle.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from tests.conftest import LAUNCHER

PYTHON = sys.executable

# the netavark client talks to the fixed path /run/podman/nv-proxy.sock: give
# it a private /run in which /run/podman is the proxy's directory (and the
# test namespaces under /run/netns stay reachable)
_PRIVATE_RUN = r"""
set -e
T=$1; shift
mkdir -p "$T/oldrun"
mount --rbind /run "$T/oldrun"
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /run/podman /run/sysctl.d
mount --rbind "$T/oldrun/netns" /run/netns
mount --bind "$T/proxy" /run/podman
exec "$@"
"""


def random_subnet() -> str:
    """``10.a.b`` (a /24 without the last octet), unlikely to clash between runs."""
    return f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"


class Dnsmasq:
    def __init__(self, lan, workdir: str, subnet: str, extra: list[str] | None = None) -> None:
        self.lan = lan
        self.subnet = subnet
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.log = os.path.join(workdir, "dnsmasq.log")
        self.leases = os.path.join(workdir, "dnsmasq.leases")
        conf = [
            "interface=br0",
            "bind-interfaces",
            "port=0",
            "no-ping",  # no 3 s address probe before each offer
            f"dhcp-range={subnet}.50,{subnet}.59,255.255.255.0,2m",
            f"dhcp-option=3,{subnet}.1",
            f"dhcp-option=6,{subnet}.1",
            f"dhcp-leasefile={self.leases}",
            "log-dhcp",
            *(extra or []),
        ]
        self.conf = os.path.join(workdir, "dnsmasq.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lan.name, "dnsmasq", "--no-daemon", "--log-debug",
             f"--conf-file={self.conf}", f"--pid-file={workdir}/dnsmasq.pid"],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))  # noqa: SIM115
        deadline = time.time() + 10
        while time.time() < deadline:
            if "started, version" in self.text():
                return
            time.sleep(0.05)
        raise AssertionError(f"dnsmasq did not start: {self.text()}")

    def text(self) -> str:
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def lease_lines(self) -> list[str]:
        try:
            with open(self.leases) as f:
                return [line for line in f.read().splitlines() if line]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Proxy:
    """``netavark dhcp-proxy`` running in the host namespace."""

    def __init__(self, host, workdir: str, *args: str) -> None:
        self.dir = os.path.join(workdir, "proxy")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "nv-proxy.sock")
        self.lease_file = os.path.join(self.dir, "nv-proxy.lease")
        self.log = os.path.join(workdir, "proxy.log")
        env = dict(os.environ, RUST_LOG=os.environ.get("NV_TEST_PROXY_LOG", "info"))
        env.pop("NETAVARK_PROXY_RUN_DIR_ENV", None)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", host.name, PYTHON, LAUNCHER, "dhcp-proxy", "--dir",
             self.dir, *args],
            stdout=subprocess.PIPE, stderr=open(self.log, "ab"), env=env)  # noqa: SIM115
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"proxy did not start: {self.log_text()}")
            time.sleep(0.02)

    def log_text(self) -> str:
        with open(self.log, errors="replace") as f:
            return f.read()

    def leases(self) -> dict:
        with open(self.lease_file) as f:
            return json.loads(f.read())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_for(pred, timeout: float, what: str, step: float = 0.2):
    deadline = time.time() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


def make_lan(lan, host, subnet: str) -> None:
    """br0 with the gateway address in ``lan``; ``uplink`` (its other end) in ``host``."""
    lan.run("ip", "link", "add", "br0", "type", "bridge")
    lan.run("ip", "addr", "add", f"{subnet}.1/24", "dev", "br0")
    lan.run("ip", "link", "set", "br0", "up")
    lan.run("ip", "link", "add", "lanp", "type", "veth", "peer", "name", "uplink", "netns",
            host.name)
    lan.run("ip", "link", "set", "lanp", "master", "br0")
    lan.run("ip", "link", "set", "lanp", "up")
    host.run("ip", "link", "set", "uplink", "up")


def addresses(ns, ifname: str) -> list[str]:
    out = ns.ip("-4", "addr", "show", "dev", ifname)
    return [f"{a['local']}/{a['prefixlen']}" for link in out for a in link.get("addr_info", [])]


def default_routes(ns) -> list[dict]:
    return ns.ip("-4", "route", "show", "default")


def run_netavark(host, workdir: str, proxy_dir: str, config_dir: str, *args: str,
                 input: str | None = None) -> subprocess.CompletedProcess:
    """netavark in ``host`` with /run/podman = the proxy's directory."""
    link = os.path.join(workdir, "proxy")
    if os.path.realpath(link) != os.path.realpath(proxy_dir):
        raise AssertionError("proxy directory must be <workdir>/proxy")
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="")
    for var in ("NETAVARK_FW", "NETAVARK_DNS_PORT", "RUST_LOG"):
        env.pop(var, None)
    cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _PRIVATE_RUN, "sh",
           workdir, "nsenter", f"--net={host.path}", PYTHON, LAUNCHER, "--config", config_dir,
           "--firewall-driver", "none", *args]
    return subprocess.run(cmd, input=input, capture_output=True, text=True, env=env,
                          timeout=60)
