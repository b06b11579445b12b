#!/usr/bin/python3
"""Record what real D-Bus clients and the bus daemon put on the wire.

Run as root from the repository root: ``/usr/bin/python3 tests/data/dbus/capture.py``.
It starts a private ``dbus-daemon`` and ``firewalld`` inside a fresh network
namespace, puts a recording proxy between each client (``dbus-send`` from
libdbus, ``gdbus`` from GLib, ``busctl`` from sd-bus) and the bus, and writes
both byte streams of every conversation to ``captures.json`` (hex).  The
golden tests decode these bytes; the file is regenerated only when more
captures are wanted.  Needs dbus-daemon, dbus-send, gdbus, busctl, firewalld,
python3-gi.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

from tests.kernel.conftest import make_netns, remove_netns  # noqa: E402
from tests.kernel.firewalld_env import Firewalld, PrivateBus  # noqa: E402

FW = "org.fedoraproject.FirewallD1"
FW_PATH = "/org/fedoraproject/FirewallD1"


class Recorder:
    """A unix-socket proxy in front of the bus recording one client connection."""

    def __init__(self, directory: str, upstream: str) -> None:
        self.path = os.path.join(directory, f"proxy-{time.monotonic_ns()}")
        self.upstream = upstream
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.client = bytearray()
        self.server = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"unix:path={self.path}"

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(self.upstream)
        t = threading.Thread(target=self._pump, args=(up, conn, self.server), daemon=True)
        t.start()
        self._pump(conn, up, self.client)
        t.join(5)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, record: bytearray) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            record += data
            try:
                dst.sendall(data)
            except OSError:
                return

    def finish(self) -> dict[str, str]:
        self.thread.join(10)
        self.listener.close()
        return {"client": self.client.hex(), "server": self.server.hex()}


def run_client(ns, bus: PrivateBus, tmp: str, argv: list[str],
               until_killed: float = 0.0, during=None) -> dict:
    rec = Recorder(tmp, bus.path)
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=rec.address)
    full = ["ip", "netns", "exec", ns.name, *argv]
    if until_killed:
        proc = subprocess.Popen(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(until_killed)
        if during is not None:
            during()
            time.sleep(until_killed)
        proc.terminate()
        out, err = proc.communicate()
        rc = proc.returncode
    else:
        res = subprocess.run(full, env=env, capture_output=True, timeout=60)
        out, err, rc = res.stdout, res.stderr, res.returncode
    streams = rec.finish()
    return {"argv": argv, "rc": rc, "stdout": out.decode(errors="replace"),
            "stderr": err.decode(errors="replace"), **streams}


def gio_big_endian_signal(ns, bus: PrivateBus, tmp: str) -> dict:
    """A big-endian signal sent through the daemon, as a listener receives it."""
    script = r"""
import sys, time
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(
    sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
    | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
time.sleep(0.5)
msg = Gio.DBusMessage.new_signal("/org/netavark/Test", "org.netavark.Test", "Ping")
msg.set_byte_order(Gio.DBusMessageByteOrder.BIG_ENDIAN)
msg.set_body(GLib.Variant("(sa{sv}ai(nqx)dbg)", ("big", {"k": GLib.Variant("u", 7)},
    [-1, 2], (-2, 65535, -(1 << 40)), 2.5, True, "a(ss)")))
conn.send_message(msg, Gio.DBusSendMessageFlags.NONE)
conn.flush_sync(None)
"""
    def emit() -> None:
        ns.run("/usr/bin/python3", "-c", script, bus.address)

    return run_client(ns, bus, tmp, [
        "dbus-monitor", "--system", "type='signal',interface='org.netavark.Test'"],
        until_killed=1.0, during=emit)


def main() -> None:
    ns = make_netns("nvdbuscap")
    tmp = tempfile.mkdtemp(prefix="nv-dbus-capture-")
    bus = fw = None
    try:
        bus = PrivateBus(ns, tmp)
        fw = Firewalld(ns, bus, tmp)
        fw.cmd("--permanent", "--new-policy", "capture_policy")
        fw.cmd("--reload")
        out: dict[str, dict] = {}
        out["dbus-send-GetNameOwner"] = run_client(ns, bus, tmp, [
            "dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus", "org.freedesktop.DBus.GetNameOwner", f"string:{FW}"])
        out["dbus-send-getZoneOfSource"] = run_client(ns, bus, tmp, [
            "dbus-send", "--system", "--print-reply", f"--dest={FW}", FW_PATH,
            f"{FW}.zone.getZoneOfSource", "string:10.88.0.0/16"])
        out["dbus-send-removeSource-error"] = run_client(ns, bus, tmp, [
            "dbus-send", "--system", "--print-reply", f"--dest={FW}", FW_PATH,
            f"{FW}.zone.removeSource", "string:trusted", "string:10.99.0.0/16"])
        out["busctl-getZones"] = run_client(ns, bus, tmp, [
            "busctl", "--system", "call", FW, FW_PATH, f"{FW}.zone", "getZones"])
        out["busctl-addPolicy"] = run_client(ns, bus, tmp, [
            "busctl", "--system", "call", FW, f"{FW_PATH}/config", f"{FW}.config",
            "addPolicy", "sa{sv}", "capture_portfwd", "4",
            "egress_zones", "as", "1", "ANY", "ingress_zones", "as", "1", "HOST",
            "masquerade", "b", "false", "target", "s", "CONTINUE"])
        fw.cmd("--reload")
        out["gdbus-setPolicySettings"] = run_client(ns, bus, tmp, [
            "gdbus", "call", "--system", "--dest", FW, "--object-path", FW_PATH,
            "--method", f"{FW}.policy.setPolicySettings", "capture_portfwd",
            "{'forward_ports': <[('8080', 'tcp', '80', '10.88.0.2'), "
            "('5300-5302', 'udp', '53-55', 'fd00::2')]>, 'rich_rules': "
            "<['rule family=\"ipv4\" destination address=\"10.88.0.1\" forward-port "
            "port=\"53\" protocol=\"udp\" to-port=\"1153\" to-addr=\"10.88.0.1\"']>}"])
        out["gdbus-getPolicySettings"] = run_client(ns, bus, tmp, [
            "gdbus", "call", "--system", "--dest", FW, "--object-path", FW_PATH,
            "--method", f"{FW}.policy.getPolicySettings", "capture_portfwd"])
        out["busctl-Properties-Get"] = run_client(ns, bus, tmp, [
            "busctl", "--system", "call", FW, f"{FW_PATH}/config",
            "org.freedesktop.DBus.Properties", "Get", "ss", f"{FW}.config",
            "DefaultZone"])
        out["gdbus-monitor-Reloaded"] = run_client(
            ns, bus, tmp, ["gdbus", "monitor", "--system", "--dest", FW,
                           "--object-path", FW_PATH],
            until_killed=1.0, during=lambda: fw.cmd("--reload"))
        out["gio-big-endian-signal"] = gio_big_endian_signal(ns, bus, tmp)
        with open(os.path.join(HERE, "captures.json"), "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write("\n")
        for name, c in out.items():
            print(name, c["rc"], len(c["client"]) // 2, len(c["server"]) // 2)
    finally:
        if fw is not None:
            fw.stop()
        if bus is not None:
            bus.stop()
        remove_netns(ns)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
