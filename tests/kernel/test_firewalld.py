"""The firewalld driver, the nftables driver's firewalld helpers and firewalld-reload
against a real firewalld on a private bus, both confined to a test namespace.

``firewall-cmd`` (pointed at the private bus) is the independent oracle.
Needs packages: dbus-daemon, firewalld.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest

from netavark.config import PortMapping
from netavark.dbus.connection import Connection
from netavark.dbus.firewalld import (
    add_trusted_subnet,
    firewalld_running,
    remove_trusted_subnet,
    strict_forward_ports_enabled,
)
from netavark.errors import NetavarkError
from netavark.firewall import PortForwardConfig, SetupNetwork
from netavark.firewall.firewalld import FirewalldDriver
from netavark.firewall.state import write_fw_config
from netavark.ip import IpAddr, IpNet
from tests.conftest import LAUNCHER, ROOT
from tests.kernel.firewalld_env import Firewalld, PrivateBus, have_tools

NET_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
CTR_ID = "c0ffee00" * 8
TESTFILES = os.path.join(ROOT, "tests", "data", "upstream", "test", "testfiles")
POLICIES = ["netavark_host_fwd", "netavark_policy", "netavark_portfwd", "netavark_zone_acc"]


class Env:
    def __init__(self, ns, tmp: str) -> None:
        self.ns = ns
        self.tmp = tmp
        self.bus = PrivateBus(ns, tmp)
        self.fw: Firewalld | None = None
        self.fw = Firewalld(ns, self.bus, tmp)
        self.version = tuple(int(x) for x in self.cmd("--version").split(".")[:2])

    def cmd(self, *args: str, rc: int = 0) -> str:
        assert self.fw is not None
        res = self.fw.cmd(*args, check=False)
        assert res.returncode == rc, (args, res.returncode, res.stdout, res.stderr)
        return res.stdout.strip()

    def connect(self) -> Connection:
        return Connection.connect(self.bus.address)

    def zone_of(self, source: str) -> str:
        res = self.fw.cmd(f"--get-zone-of-source={source}", check=False)  # type: ignore
        if res.returncode == 2:  # firewall-cmd says "no zone" on stderr
            return res.stderr.strip()
        assert res.returncode == 0, res
        return res.stdout.strip()

    def rich_rules(self, policy: str) -> list[str]:
        return sorted(filter(None, self.cmd("--policy", policy, "--list-rich-rules")
                             .splitlines()))

    def forward_ports(self, policy: str) -> list[str]:
        return sorted(self.cmd("--policy", policy, "--list-forward-ports").split())

    def close(self) -> None:
        if self.fw is not None:
            self.fw.stop()
        self.bus.stop()


@pytest.fixture
def env(host, tmp_path, monkeypatch):
    """firewalld in the test's host namespace (where the netavark fixture runs)."""
    missing = have_tools("dbus-daemon", "firewalld", "firewall-cmd")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (packages dbus-daemon, firewalld)")
    e = Env(host, str(tmp_path))
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", e.bus.address)
    try:
        yield e
    finally:
        e.close()


def network(*subnets: str, internal: bool = False) -> SetupNetwork:
    return SetupNetwork([IpNet.parse(s) for s in subnets], "podman1", NET_ID, "1D8721804F16F",
                        "Strict", 53, internal=internal)


def ports(mappings: list[PortMapping], v4: str | None = "10.88.0.2", v6: str | None = None,
          dns_port: int = 53, dns: tuple = ()) -> PortForwardConfig:
    return PortForwardConfig(
        CTR_ID, NET_ID, mappings, "podman1", "1D8721804F16F",
        container_ip_v4=IpAddr.parse(v4) if v4 else None,
        subnet_v4=IpNet.parse("10.88.0.0/16") if v4 else None,
        container_ip_v6=IpAddr.parse(v6) if v6 else None,
        subnet_v6=IpNet.parse("fd00::/64") if v6 else None,
        dns_port=dns_port, dns_server_ips=[IpAddr.parse(x) for x in dns])


def rich(family: str, dest: str, p: str, proto: str, to_port: str, to_addr: str) -> str:
    return (f'rule family="{family}" destination address="{dest}" forward-port port="{p}" '
            f'protocol="{proto}" to-port="{to_port}" to-addr="{to_addr}"')


# -- zone, policies, sources ------------------------------------------------------------


def test_setup_and_teardown_network(env: Env) -> None:
    with env.connect() as conn:
        driver = FirewalldDriver(conn)
        driver.setup_network(network("10.88.0.0/16", "fd00::/64"))
        assert env.zone_of("10.88.0.0/16") == "netavark_zone"
        assert env.zone_of("fd00::/64") == "netavark_zone"
        assert "netavark_zone" in env.cmd("--get-zones").split()
        assert "netavark_zone" in env.cmd("--permanent", "--get-zones").split()
        for listing in (env.cmd("--get-policies"), env.cmd("--permanent", "--get-policies")):
            assert [p for p in listing.split() if p.startswith("netavark")] == POLICIES
        info = env.cmd("--info-policy", "netavark_policy")
        assert "target: ACCEPT" in info
        assert "ingress-zones: netavark_zone" in info
        assert "egress-zones: ANY" in info
        assert "masquerade: yes" in info
        info = env.cmd("--info-policy", "netavark_portfwd")
        assert "target: CONTINUE" in info and "masquerade: no" in info
        assert "ingress-zones: ANY" in info and "egress-zones: HOST" in info
        info = env.cmd("--info-policy", "netavark_zone_acc")
        assert "ingress-zones: ANY" in info and "egress-zones: netavark_zone" in info
        assert "masquerade: yes" in info

        # a second setup finds everything running: no firewalld reload, which would
        # drop this runtime-only source
        env.cmd("--zone=work", "--add-source=192.0.2.0/24")
        driver.setup_network(network("10.88.0.0/16", "fd00::/64"))
        assert env.zone_of("192.0.2.0/24") == "work"

        driver.teardown_network(network("10.88.0.0/16", "fd00::/64"))
        assert env.zone_of("10.88.0.0/16") == "no zone"
        assert env.zone_of("fd00::/64") == "no zone"
        assert env.cmd("--zone=netavark_zone", "--list-sources") == ""

        # tearing down again: firewalld's own error, unwrapped
        with pytest.raises(NetavarkError) as e:
            driver.teardown_network(network("10.88.0.0/16"))
        assert str(e.value).startswith(
            "DBus error: org.fedoraproject.FirewallD1.Exception: UNKNOWN_SOURCE: ")


def test_zone_only_in_permanent_config_gets_reloaded(env: Env) -> None:
    env.cmd("--permanent", "--new-zone=netavark_zone")
    assert "netavark_zone" not in env.cmd("--get-zones").split()
    with env.connect() as conn:
        FirewalldDriver(conn).setup_network(network("10.88.0.0/16"))
    assert "netavark_zone" in env.cmd("--get-zones").split()
    assert env.zone_of("10.88.0.0/16") == "netavark_zone"


def test_internal_network_creates_nothing(env: Env) -> None:
    with env.connect() as conn:
        driver = FirewalldDriver(conn)
        driver.setup_network(network("10.89.3.0/24", "fd10:88:a::/64", internal=True))
        cfg = ports([PortMapping(8080, "", 8080, "tcp", 1)], "10.89.3.2")
        cfg.internal = True
        driver.setup_port_forward(cfg)
    assert env.zone_of("10.89.3.0/24") == "no zone"
    assert env.zone_of("fd10:88:a::/64") == "no zone"
    assert "netavark" not in env.cmd("--get-policies")
    assert "netavark" not in env.cmd("--get-zones")


# -- port forwarding ----------------------------------------------------------------------


def test_localhost_port_forward_rules_and_teardown(env: Env) -> None:
    with env.connect() as conn:
        driver = FirewalldDriver(conn)
        driver.setup_network(network("10.88.0.0/16"))
        cfg = ports([PortMapping(80, "127.0.0.1", 8080, "tcp", 1),
                     PortMapping(53, "127.0.0.1", 5300, "udp", 3),
                     PortMapping(81, "::1", 8081, "tcp", 1)])
        driver.setup_port_forward(cfg)
        assert env.rich_rules("netavark_host_fwd") == sorted([
            rich("ipv4", "127.0.0.1", "8080", "tcp", "80", "10.88.0.2"),
            rich("ipv4", "127.0.0.1", "5300-5302", "udp", "53-55", "10.88.0.2")])
        assert env.rich_rules("netavark_portfwd") == []
        driver.teardown_port_forward(cfg, True)
        driver.teardown_network(network("10.88.0.0/16"))
    assert env.rich_rules("netavark_host_fwd") == []
    assert env.cmd("--zone=netavark_zone", "--list-sources") == ""


def _egress_host_to_addr_supported(env: Env) -> bool:
    # firewalld < 2.2 refuses forward-port with to-addr in a policy whose egress
    # zone is HOST (firewalld PR 1323); upstream netavark needs the newer behaviour
    return env.version >= (2, 2)


def test_dns_rules_for_an_alternative_dns_port(env: Env) -> None:
    cfg = ports([], v4="10.89.3.2", v6="fd10:88:a::2", dns_port=1153,
                dns=("10.89.3.1", "fd10:88:a::1"))
    with env.connect() as conn:
        driver = FirewalldDriver(conn)
        driver.setup_network(network("10.89.3.0/24", "fd10:88:a::/64"))
        if not _egress_host_to_addr_supported(env):
            with pytest.raises(NetavarkError) as e:
                driver.setup_port_forward(cfg)
            assert str(e.value) == (
                "Failed to update firewalld policy netavark_portfwd port forwarding rules: "
                "DBus error: org.fedoraproject.FirewallD1.Exception: INVALID_FORWARD: Policy "
                "'netavark_portfwd': A 'forward-port' with 'to-addr' is invalid for egress "
                "zone 'HOST'")
            assert env.rich_rules("netavark_portfwd") == []
            return
        driver.setup_port_forward(cfg)
        assert env.rich_rules("netavark_portfwd") == [
            rich("ipv4", "10.89.3.1", "53", "udp", "1153", "10.89.3.1"),
            rich("ipv6", "fd10:88:a::1", "53", "udp", "1153", "fd10:88:a::1")]
        driver.teardown_port_forward(cfg, True)
    assert env.rich_rules("netavark_portfwd") == []


def test_wildcard_and_host_ip_port_forwards(env: Env) -> None:
    cfg = ports([PortMapping(80, "", 8080, "tcp", 1),
                 PortMapping(443, "192.168.1.10", 8443, "tcp", 1)], v6="fd00::2")
    with env.connect() as conn:
        driver = FirewalldDriver(conn)
        driver.setup_network(network("10.88.0.0/16", "fd00::/64"))
        if not _egress_host_to_addr_supported(env):
            with pytest.raises(NetavarkError, match="INVALID_FORWARD"):
                driver.setup_port_forward(cfg)
            return
        driver.setup_port_forward(cfg)
        assert env.forward_ports("netavark_portfwd") == sorted([
            "port=8080:proto=tcp:toport=80:toaddr=10.88.0.2",
            "port=8080:proto=tcp:toport=80:toaddr=fd00::2"])
        assert env.rich_rules("netavark_portfwd") == [
            rich("ipv4", "192.168.1.10", "8443", "tcp", "443", "10.88.0.2")]
        driver.teardown_port_forward(cfg, True)
    assert env.forward_ports("netavark_portfwd") == []
    assert env.rich_rules("netavark_portfwd") == []
    assert env.rich_rules("netavark_host_fwd") == []


def _serve_once(ctr, port: int) -> subprocess.Popen:
    code = ("import socket,sys\n"
            "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"s.bind(('10.88.0.2', {port})); s.listen(1); print('ready', flush=True)\n"
            "c,_=s.accept(); c.sendall(b'hello from the container'); c.close()\n")
    proc = subprocess.Popen(["ip", "netns", "exec", ctr.name, sys.executable, "-c", code],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_localhost_forward_carries_traffic(env: Env, container) -> None:
    """What upstream's "port forwarding with localhost - tcp" checks, on hand-made links."""
    host, ctr = env.ns, container
    host.run("ip", "link", "add", "nvbr0", "type", "bridge")
    host.run("ip", "addr", "add", "10.88.0.1/16", "dev", "nvbr0")
    host.run("ip", "link", "set", "nvbr0", "up")
    host.run("ip", "link", "add", "nvveth0", "type", "veth", "peer", "name", "eth0", "netns",
             ctr.name)
    host.run("ip", "link", "set", "nvveth0", "master", "nvbr0", "up")
    ctr.run("ip", "addr", "add", "10.88.0.2/16", "dev", "eth0")
    ctr.run("ip", "link", "set", "eth0", "up")
    # the bridge driver enables this for localhost forwarding
    host.run("sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/nvbr0/route_localnet")
    with env.connect() as conn:
        driver = FirewalldDriver(conn)
        driver.setup_network(network("10.88.0.0/16"))
        cfg = ports([PortMapping(8000, "127.0.0.1", 18080, "tcp", 1)])
        driver.setup_port_forward(cfg)
        server = _serve_once(ctr, 8000)
        try:
            got = host.run(sys.executable, "-c",
                           "import socket; s=socket.create_connection(('127.0.0.1', 18080), 5);"
                           "print(s.recv(100).decode())", timeout=20)
            assert got.stdout.strip() == "hello from the container"
        finally:
            server.kill()
            server.wait()
        driver.teardown_port_forward(cfg, True)
        driver.teardown_network(network("10.88.0.0/16"))
    res = host.run(sys.executable, "-c",
                   "import socket; socket.create_connection(('127.0.0.1', 18080), 2)",
                   check=False)
    assert res.returncode != 0  # nothing forwards any more


# -- helpers for the nftables driver --------------------------------------------------------


def test_trusted_zone_helpers(env: Env) -> None:
    subnet = IpNet.parse("10.88.0.0/16")
    with env.connect() as conn:
        assert firewalld_running(conn)
        add_trusted_subnet(conn, subnet)
        assert env.cmd("--zone=trusted", "--list-sources") == "10.88.0.0/16"
        add_trusted_subnet(conn, subnet)  # idempotent
        assert env.cmd("--zone=trusted", "--list-sources") == "10.88.0.0/16"
        remove_trusted_subnet(subnet)  # over a connection of its own
        assert env.cmd("--zone=trusted", "--list-sources") == ""
        remove_trusted_subnet(subnet)  # error only logged


def test_strict_forward_ports(env: Env, capsys) -> None:
    with env.connect() as conn:
        if env.version < (2, 3):
            # the property does not exist before firewalld 2.3: silently off
            assert strict_forward_ports_enabled(conn) is False
            assert capsys.readouterr().err == ""
            return
        for value, expected in (("yes", True), ("no", False), ("invalid-value", False)):
            env.fw.set_strict_forward_ports(value)  # type: ignore[union-attr]
            env.cmd("--reload")
            assert strict_forward_ports_enabled(conn) is expected


def test_helpers_without_firewalld(env: Env) -> None:
    env.fw.stop()  # type: ignore[union-attr]
    with env.connect() as conn:
        assert not firewalld_running(conn)
        add_trusted_subnet(conn, IpNet.parse("10.88.0.0/16"))
        assert strict_forward_ports_enabled(conn) is False
    remove_trusted_subnet(IpNet.parse("10.88.0.0/16"))


# -- firewalld-reload ---------------------------------------------------------------------------


class ReloadCommand:
    """``netavark firewalld-reload`` in the background; stderr lines with arrival times."""

    def __init__(self, env: Env, config: str) -> None:
        run_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=env.bus.address,
                       RUST_LOG="netavark=info")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", env.ns.name, sys.executable, LAUNCHER, "--config", config,
             "firewalld-reload"], env=run_env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def drain(self) -> None:
        while not self.lines.empty():
            self.seen.append(self.lines.get()[1])

    def wait_for(self, text: str, timeout: float) -> float:
        """Arrival time of the next line containing ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                when, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} after {self.seen[-5:]}") from None
            self.seen.append(line)
            if text in line:
                return when

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


def _until(check, timeout: float) -> float:
    """Seconds until ``check()`` holds; fails after ``timeout``."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - t0


def test_firewalld_reload_restores_runtime_rules(env: Env, tmp_path) -> None:
    config = str(tmp_path / "netavark")
    net = network("10.88.0.0/16")
    cfg = ports([PortMapping(80, "127.0.0.1", 8080, "tcp", 1)])
    write_fw_config(config, NET_ID, CTR_ID, "firewalld", net, cfg)
    expected_rule = [rich("ipv4", "127.0.0.1", "8080", "tcp", "80", "10.88.0.2")]

    def restored() -> bool:
        return (env.zone_of("10.88.0.0/16") == "netavark_zone"
                and env.rich_rules("netavark_host_fwd") == expected_rule)

    success = "[INFO  netavark::commands::firewalld_reload] Successfully reloaded firewall rules"
    cmd = ReloadCommand(env, config)
    try:
        cmd.wait_for(success, 30)  # the first reload also creates zone and policies
        _until(restored, 10)
        assert env.rich_rules("netavark_host_fwd") == expected_rule  # not duplicated

        for _ in range(2):
            cmd.drain()
            env.cmd("--reload")
            reloaded_at = time.monotonic()
            # firewalld signals before it answers firewall-cmd, so this may even be < 0
            assert cmd.wait_for(success, 5) - reloaded_at <= 1.0
            assert restored()

        # firewalld restarted without a reload signal: rules come back too
        env.fw.stop()  # type: ignore[union-attr]
        env.fw.start()  # type: ignore[union-attr]
        _until(restored, 10)

        os.kill(env.bus.pid, 9)
        assert cmd.proc.wait(10) == 0
        cmd.drain()
        lines = cmd.seen
        assert lines.count("[INFO  netavark::firewall] Using firewalld firewall driver") >= 4
        assert lines.count(success) >= 4
        assert not [x for x in lines if "ERROR" in x], lines
    finally:
        cmd.stop()


# -- the whole command ----------------------------------------------------------------------


def simplebridge() -> dict:
    with open(os.path.join(TESTFILES, "simplebridge.json")) as f:
        return json.load(f)


def _connect_localhost(ns, port: int, check: bool = True):
    return ns.run(sys.executable, "-c", "import socket; s=socket.create_connection("
                  f"('127.0.0.1', {port}), 5); print(s.recv(100).decode())", check=check,
                  timeout=20)


def test_setup_and_teardown_commands(env: Env, netavark, container) -> None:
    doc = simplebridge()
    doc["port_mappings"] = [{"host_ip": "127.0.0.1", "container_port": 8000,
                             "host_port": 18080, "range": 1, "protocol": "tcp"}]
    fw_env = {"NETAVARK_FW": "firewalld", "DBUS_SYSTEM_BUS_ADDRESS": env.bus.address,
              "RUST_LOG": "netavark=info"}
    res = netavark("setup", container.path, input=doc, env=fw_env)
    assert res.returncode == 0, res
    assert res.stderr.splitlines()[0] == \
        "[INFO  netavark::firewall] Using firewalld firewall driver"
    assert ("[INFO  netavark::firewall::firewalld] Successfully added port-forwarding rules "
            "for container 6ce776ea58b5") in res.stderr
    assert env.zone_of("10.88.0.0/16") == "netavark_zone"
    assert env.rich_rules("netavark_host_fwd") == [
        rich("ipv4", "127.0.0.1", "18080", "tcp", "8000", "10.88.0.2")]
    with open(os.path.join(netavark.config_dir, "firewall", "firewall-driver")) as f:
        assert f.read() == "firewalld"
    server = _serve_once(container, 8000)
    try:
        assert _connect_localhost(env.ns, 18080).stdout.strip() == "hello from the container"
    finally:
        server.kill()
        server.wait()

    res = netavark("teardown", container.path, input=doc, env=fw_env)
    assert res.returncode == 0 and res.stdout == "", res
    assert env.zone_of("10.88.0.0/16") == "no zone"
    assert env.rich_rules("netavark_host_fwd") == []
    assert env.forward_ports("netavark_portfwd") == []
    assert _connect_localhost(env.ns, 18080, check=False).returncode != 0


def test_firewalld_driver_without_a_bus(netavark, container) -> None:
    doc = simplebridge()
    res = netavark("setup", container.path, input=doc, env={"NETAVARK_FW": "firewalld"})
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": "Error retrieving dbus connection for requested "
                                      "firewall backend: DBus error: address error: address "
                                      "has no colon"}
