"""A private system bus and a firewalld, both confined to a test network namespace.

firewalld flushes the firewall of the namespace it runs in, so it only ever
runs inside a namespace the test created.  The bus socket is a filesystem path
below the test's temporary directory, reachable from any namespace.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

from tests.conftest import TESTDATA

BUS_CONF = os.path.join(TESTDATA, "dbus", "bus.conf")


def have_tools(*names: str) -> list[str]:
    return [n for n in names if shutil.which(n) is None]


class PrivateBus:
    """``dbus-daemon`` listening on ``<dir>/bus``, started inside ``ns``."""

    def __init__(self, ns, directory: str) -> None:
        self.path = os.path.join(directory, "bus")
        self.address = f"unix:path={self.path}"
        res = ns.run("dbus-daemon", f"--address={self.address}", "--print-pid",
                     f"--config-file={BUS_CONF}")
        self.pid = int(res.stdout.split()[0])

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        return env

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Firewalld:
    """``firewalld --nofork`` with its configuration in a private directory."""

    def __init__(self, ns, bus: PrivateBus, directory: str) -> None:
        self.ns = ns
        self.bus = bus
        self.config = os.path.join(directory, "firewalld")
        os.makedirs(self.config, exist_ok=True)
        self.log_path = os.path.join(directory, "firewalld.log")
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self, timeout: float = 90) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns.name, "firewalld", "--nofork", "--nopid",
             "--system-config", self.config, "--log-target", "console", "--debug=2"],
            stdout=log, stderr=subprocess.STDOUT, env=self.bus.env())
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"firewalld exited: {self.log()}")
            if self.cmd("--state", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"firewalld did not start: {self.log()}")

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.ns.run("firewall-cmd", *args, check=check, env=self.bus.env(), timeout=120)

    def set_strict_forward_ports(self, value: str) -> None:
        with open(os.path.join(self.config, "firewalld.conf"), "w") as f:
            f.write(f"StrictForwardPorts={value}\n")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
