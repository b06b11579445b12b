"""``netavark firewalld-reload`` on a private bus, with firewalld played by a bus client.

The signal side is real (a private dbus-daemon, a peer owning firewalld's
name and emitting ``Reloaded``); the recorded driver is ``none`` so that no
firewall is needed.  The same loop against a real firewalld and the firewalld
driver is tested in tests/kernel/test_firewalld.py.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from netavark.dbus.connection import Connection
from netavark.dbus.firewalld import FIREWALLD, INTERFACE, PATH
from netavark.dbus.message import Message
from netavark.firewall import PortForwardConfig, SetupNetwork
from netavark.firewall.state import write_fw_config
from netavark.ip import IpNet
from tests.conftest import LAUNCHER

SUCCESS = "[INFO  netavark::commands::firewalld_reload] Successfully reloaded firewall rules"




class Reloader:
    """The command running in the background, its stderr lines in a queue."""

    def __init__(self, address: str, config: str) -> None:
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address,
                   RUST_LOG="netavark=debug")
        self.proc = subprocess.Popen([sys.executable, LAUNCHER, "--config", config,
                                      "firewalld-reload"], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 5) -> list[str]:
        """Lines up to and including the first one containing ``text``."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} in {got}") from None
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got

    def quiet_for(self, seconds: float) -> list[str]:
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                got.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return got

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


def record_state(config: str, driver: str = "none") -> None:
    net = SetupNetwork([IpNet.parse("10.88.0.0/16")], "podman0", "a" * 64, "1D8721804F16F",
                       "Strict", 53)
    pf = PortForwardConfig("c" * 64, "a" * 64, [], "podman", "1D8721804F16F")
    write_fw_config(config, "a" * 64, "c" * 64, driver, net, pf)


def become_firewalld(address: str) -> Connection:
    conn = Connection.connect(address)
    reply = conn.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                      "RequestName", "su", (FIREWALLD, 0))
    assert reply.expect("u") == (1,)
    return conn


def test_reloads_at_start_and_on_every_signal(daemon, tmp_path) -> None:
    address, daemon_pid = daemon
    config = str(tmp_path / "config")
    record_state(config)
    firewalld = become_firewalld(address)
    r = Reloader(address, config)
    try:
        first = r.wait_for(SUCCESS)
        assert f'[DEBUG netavark::commands::firewalld_reload] looking for firewall configs in ' \
            f'"{config}"' in first
        assert "[INFO  netavark::firewall] Not using firewall" in first
        time.sleep(0.3)  # the subscription follows the first reload
        for _ in range(2):
            firewalld.send(Message.signal(PATH, INTERFACE, "Reloaded"))
            got = r.wait_for(SUCCESS, timeout=1)
            assert "[DEBUG netavark::commands::firewalld_reload] got firewalld Reloaded " \
                "signal" in got

        # somebody else emitting the same signal is not firewalld
        with Connection.connect(address) as impostor:
            impostor.send(Message.signal(PATH, INTERFACE, "Reloaded"))
            assert not [x for x in r.quiet_for(0.5) if "Successfully" in x]

        # firewalld restarts: a new owner of the name means a fresh, empty firewalld
        firewalld.close()
        firewalld = become_firewalld(address)
        got = r.wait_for(SUCCESS, timeout=2)
        assert "[DEBUG netavark::commands::firewalld_reload] got firewalld NameOwnerChanged " \
            "signal" in got
        firewalld.send(Message.signal(PATH, INTERFACE, "Reloaded"))
        r.wait_for(SUCCESS, timeout=1)

        # the bus goes away: the command ends successfully
        os.kill(daemon_pid, signal.SIGKILL)
        assert r.proc.wait(5) == 0
        assert r.proc.stdout is not None and r.proc.stdout.read() == ""
    finally:
        firewalld.close()
        r.stop()


def test_errors_are_logged_and_the_loop_goes_on(daemon, tmp_path) -> None:
    address, _ = daemon
    config = str(tmp_path / "config")
    record_state(config)
    with open(os.path.join(config, "firewall", "networks", "a" * 64), "w") as f:
        f.write("{not json")
    firewalld = become_firewalld(address)
    r = Reloader(address, config)
    try:
        got = r.wait_for("failed to reload")
        assert got[-1].startswith("[ERROR netavark::commands::firewalld_reload] failed to "
                                  "reload firewall rules: read firewall config: JSON Decoding "
                                  "error: ")
        time.sleep(0.3)
        os.unlink(os.path.join(config, "firewall", "networks", "a" * 64))
        firewalld.send(Message.signal(PATH, INTERFACE, "Reloaded"))
        r.wait_for(SUCCESS, timeout=2)
        assert r.proc.poll() is None
    finally:
        firewalld.close()
        r.stop()


def test_nothing_recorded_nothing_logged(daemon, tmp_path) -> None:
    address, _ = daemon
    config = str(tmp_path / "config")
    r = Reloader(address, config)
    try:
        lines = r.quiet_for(1.0)
        assert not [x for x in lines if "INFO" in x or "ERROR" in x]
        assert r.proc.poll() is None
        # the state directory and its lock exist as a side effect, like upstream
        assert os.path.exists(os.path.join(config, "firewall", "firewall-reload.lock"))
    finally:
        r.stop()


def test_no_bus_is_an_error(tmp_path) -> None:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/missing")
    res = subprocess.run([sys.executable, LAUNCHER, "--config", str(tmp_path),
                          "firewalld-reload"], env=env, capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 1
    assert json.loads(res.stdout) == {
        "error": "DBus error: I/O error: No such file or directory (os error 2)"}
