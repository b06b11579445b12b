"""Kernel tests: root only, every test in network namespaces it creates and removes.

Nothing here touches the namespace pytest runs in: netavark runs with its
"host" namespace set to a private one, D-Bus disabled (empty
``DBUS_SYSTEM_BUS_ADDRESS``), and a private mount namespace so files it writes
below ``/run`` stay private.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import LAUNCHER

_counter = itertools.count()
PYTHON = sys.executable


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="kernel tests need root to create network namespaces")
        for item in items:
            if "tests/kernel" in str(item.fspath):
                item.add_marker(skip)


class Netns:
    """A named network namespace (``ip netns``) used as a test host or container."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = f"/run/netns/{name}"

    def run(self, *cmd: str, check: bool = True, input: str | bytes | None = None,
            env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        full = ["ip", "netns", "exec", self.name, *cmd]
        text = not isinstance(input, bytes)
        res = subprocess.run(full, input=input, capture_output=True, text=text, env=env,
                             timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"{cmd} failed ({res.returncode}): {res.stdout}{res.stderr}")
        return res

    def ip(self, *args: str) -> list | dict:
        """``ip -j ...`` parsed (the independent oracle)."""
        out = self.run("ip", "-j", *args).stdout
        return json.loads(out) if out.strip() else []

    def links(self) -> dict[str, dict]:
        return {link["ifname"]: link for link in self.ip("-d", "link", "show")}

    def sysctl(self, key: str) -> str:
        return self.run("cat", f"/proc/sys/{key}").stdout.strip()


def make_netns(prefix: str = "nvt") -> Netns:
    name = f"{prefix}-{os.getpid()}-{next(_counter)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    ns = Netns(name)
    ns.run("ip", "link", "set", "lo", "up")
    return ns


def remove_netns(ns: Netns) -> None:
    # kill anything a test left running inside (e.g. a DNS server), then delete
    pids = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True,
                          text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), 9)
        except OSError:
            pass
    subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)


@pytest.fixture
def netns_factory():
    created: list[Netns] = []

    def factory(prefix: str = "nvt") -> Netns:
        ns = make_netns(prefix)
        created.append(ns)
        return ns

    yield factory
    for ns in reversed(created):
        remove_netns(ns)


@pytest.fixture
def host(netns_factory) -> Netns:
    return netns_factory("nvh")


@pytest.fixture
def container(netns_factory) -> Netns:
    return netns_factory("nvc")


class Netavark:
    """Runs the launcher inside ``host`` with a private /run and config dir."""

    def __init__(self, host: Netns, config_dir: str, sysctl_d: str) -> None:
        self.host = host
        self.config_dir = config_dir
        self.sysctl_d = sysctl_d
        self.env = dict(os.environ)
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = ""
        for var in ("NETAVARK_FW", "NETAVARK_DNS_PORT", "RUST_LOG"):
            self.env.pop(var, None)

    def command(self, args: tuple, env: dict | None, config: bool) -> tuple[list[str], dict]:
        """argv and environment of one netavark run in the test's host namespace.

        unshare, sh and nsenter all exec, so the process that runs is netavark itself.
        """
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        argv = [PYTHON, LAUNCHER]
        if config:
            argv += ["--config", self.config_dir]
        argv += list(args)
        # private mount namespace: /run/sysctl.d is the test's own directory
        shell = ('mkdir -p /run/sysctl.d && mount --bind "$NV_SYSCTL_D" /run/sysctl.d && '
                 'exec "$@"')
        full_env["NV_SYSCTL_D"] = self.sysctl_d
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh",
               "nsenter", f"--net={self.host.path}", *argv]
        return cmd, full_env

    def popen(self, *args: str, input: str | dict | None = None, env: dict | None = None,
              config: bool = True) -> subprocess.Popen:
        if isinstance(input, dict):
            input = json.dumps(input)
        cmd, full_env = self.command(args, env, config)
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=full_env)
        assert proc.stdin is not None
        proc.stdin.write(input or "")
        proc.stdin.close()
        return proc

    def __call__(self, *args: str, input: str | dict | None = None, env: dict | None = None,
                 config: bool = True, check_rc: int | None = None,
                 timeout: float = 30) -> subprocess.CompletedProcess:
        if isinstance(input, dict):
            input = json.dumps(input)
        cmd, full_env = self.command(args, env, config)
        res = subprocess.run(cmd, input=input, capture_output=True, text=True, env=full_env,
                             timeout=timeout)
        if check_rc is not None:
            assert res.returncode == check_rc, (res.returncode, res.stdout, res.stderr)
        return res

    def json(self, *args: str, **kw) -> dict:
        res = self(*args, **kw)
        assert res.returncode == 0, (res.stdout, res.stderr)
        return json.loads(res.stdout)


@pytest.fixture
def netavark(host, tmp_path) -> Netavark:
    cfg = tmp_path / "config"
    cfg.mkdir()
    sysctl_d = tmp_path / "sysctl.d"
    sysctl_d.mkdir()
    return Netavark(host, str(cfg), str(sysctl_d))
