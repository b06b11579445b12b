"""netavark's side of DNS: config files, locking, starting and signalling the server.

A fake aardvark-dns (``fake_aardvark.py``) with the real process model stands
in for the server, so these tests need no root and no sockets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from netavark import log
from netavark.dns import DnsServerCommand
from netavark.dns import aardvark as aardvark_mod
from netavark.dns.aardvark import Aardvark, entry_debug, utf8_error_display
from netavark.errors import NetavarkError
from tests.dns_procs import kill_dns_server
from tests.unit.dns_helpers import CID, entry, ips

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_aardvark.py")


class Env:
    """A config dir, a fake aardvark launcher, and cleanup of its daemon."""

    def __init__(self, tmp_path) -> None:
        self.config = str(tmp_path / "config")
        os.mkdir(self.config)
        self.dir = os.path.join(self.config, "aardvark-dns")
        os.mkdir(self.dir)
        self.bin = str(tmp_path / "aardvark-dns")
        with open(self.bin, "w") as f:
            f.write(f"#!/bin/sh\nexec {sys.executable} {FAKE} \"$@\"\n")
        os.chmod(self.bin, 0o755)

    def aardvark(self, binary: str | None = None, port: int = 53,
                 rootless: bool = False) -> Aardvark:
        return Aardvark(self.dir, rootless, binary or self.bin, port)

    def read(self, name: str) -> str:
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def starts(self) -> list[dict]:
        try:
            with open(os.path.join(self.config, "fake-starts")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def hups(self) -> int:
        try:
            with open(os.path.join(self.config, "fake-hups")) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0

    def wait_hups(self, n: int) -> int:
        deadline = time.monotonic() + 5
        while self.hups() < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.hups()

    def pid(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "aardvark.pid")) as f:
                return int(f.read())
        except (FileNotFoundError, ValueError):
            return None

    def kill(self) -> None:
        kill_dns_server(self.pid())


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("RUST_LOG", raising=False)
    monkeypatch.delenv("FAKE_AARDVARK_FAIL", raising=False)
    monkeypatch.setattr(aardvark_mod, "is_using_systemd", lambda: False)
    log.reset_filter()
    e = Env(tmp_path)
    yield e
    e.kill()
    log.reset_filter()


def test_setup_writes_file_and_starts_server(env):
    a = env.aardvark(port=5353)
    a.commit_netavark_entries([entry(network_dns_servers=ips("127.0.0.1", "3.3.3.3"),
                                     container_dns_servers=ips("8.8.8.8", "1.1.1.1"))])
    assert env.read("podman1") == (
        "10.89.3.1,fd10:88:a::1 127.0.0.1,3.3.3.3\n"
        f"{CID} 10.89.3.2 fd10:88:a::2 somename 8.8.8.8,1.1.1.1\n")
    (start,) = env.starts()
    assert start["argv"] == [FAKE, "--config", env.dir, "-p", "5353", "run"]
    assert start["rust_log"] == "ERROR"  # netavark's max level with RUST_LOG unset
    pid = env.pid()
    assert pid is not None and os.path.exists(f"/proc/{pid}")
    # nothing but network files and the pid file in the server's directory
    assert sorted(os.listdir(env.dir)) == ["aardvark.pid", "podman1"]
    assert os.path.exists(os.path.join(env.config, "aardvark.lock"))


def test_second_container_is_appended_and_signalled(env):
    a = env.aardvark()
    a.commit_netavark_entries([entry()])
    other = entry(container_id="b" * 64, container_ips_v4=ips("10.89.3.3"),
                  container_ips_v6=[], container_names=["two", "alias2"],
                  network_gateways=ips("10.89.9.1"), network_dns_servers=ips("9.9.9.9"))
    a.commit_netavark_entries([other])
    # the header of the first container stays
    assert env.read("podman1") == ("10.89.3.1,fd10:88:a::1\n"
                                   f"{CID} 10.89.3.2 fd10:88:a::2 somename\n"
                                   f"{'b' * 64} 10.89.3.3  two,alias2\n")
    assert env.wait_hups(1) == 1
    assert len(env.starts()) == 1


def test_rust_log_given_to_server_is_netavark_max_level(env, monkeypatch):
    monkeypatch.setenv("RUST_LOG", "netavark=info,other=debug")
    log.reset_filter()
    env.aardvark().commit_netavark_entries([entry()])
    assert env.starts()[0]["rust_log"] == "DEBUG"


def test_internal_network_file_gets_suffix(env):
    with open(os.path.join(env.dir, "podman1"), "w") as f:
        f.write("10.89.3.1\nold 10.89.3.9  old\n")
    env.aardvark().commit_netavark_entries([entry(is_internal=True)])
    assert not os.path.exists(os.path.join(env.dir, "podman1"))
    assert env.read("podman1%int").endswith(f"{CID} 10.89.3.2 fd10:88:a::2 somename\n")
    assert env.read("podman1%int").startswith("10.89.3.1\nold ")


def test_dns_loop_rejected_and_nothing_written(env):
    gw = ips("10.89.3.1")
    with pytest.raises(NetavarkError) as exc:
        env.aardvark().commit_netavark_entries([entry(network_gateways=gw,
                                                      container_dns_servers=gw)])
    assert str(exc.value) == ('DNS server 10.89.3.1 is the gateway of network "podman1"; '
                              "using it would cause aardvark-dns to forward queries to itself.")
    assert os.listdir(env.dir) == []
    assert env.starts() == []


def test_dns_loop_names_owner_network_first_wins(env):
    a = entry(network_name="net-a", network_gateways=ips("10.89.0.1"),
              container_dns_servers=ips("10.89.1.1"))
    b = entry(network_name="net-b", network_gateways=ips("10.89.1.1", "10.89.0.1"))
    with pytest.raises(NetavarkError) as exc:
        Aardvark.check_for_dns_loop([a, b])
    assert '"net-b"' in str(exc.value)
    net = entry(network_gateways=ips("fd10::1"), network_dns_servers=ips("fd10::1"))
    with pytest.raises(NetavarkError) as exc:
        Aardvark.check_for_dns_loop([net])
    assert str(exc.value) == ('network DNS server fd10::1 matches the gateway of network '
                              '"podman1"; using it would cause aardvark-dns to forward '
                              "queries to itself.")
    Aardvark.check_for_dns_loop([entry(container_dns_servers=ips("8.8.8.8"))])
    Aardvark.check_for_dns_loop([])


def test_teardown_removes_lines_then_file_and_server_exits(env):
    a = env.aardvark()
    two = entry(container_id="c" * 64, container_ips_v4=ips("10.89.3.3"),
                container_names=["two"])
    a.commit_netavark_entries([entry()])
    a.commit_netavark_entries([two])
    pid = env.pid()
    a.delete_from_netavark_entries([entry()])
    assert env.read("podman1") == f"10.89.3.1,fd10:88:a::1\n{'c' * 64} 10.89.3.3 fd10:88:a::2 two\n"
    # let the server see that reload first: had it still been pending when the file
    # goes, it would exit before the next SIGHUP and that teardown would find no pid
    assert env.wait_hups(2) == 2
    a.delete_from_netavark_entries([two])
    assert not os.path.exists(os.path.join(env.dir, "podman1"))
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
    assert not os.path.exists(os.path.join(env.dir, "aardvark.pid"))


def test_teardown_internal_file_found_by_suffix(env):
    env.aardvark().commit_netavark_entries([entry(is_internal=True)])
    env.aardvark().delete_from_netavark_entries([entry()])
    assert not os.path.exists(os.path.join(env.dir, "podman1%int"))


def test_teardown_errors(env):
    a = env.aardvark()
    with pytest.raises(NetavarkError) as exc:
        a.delete_from_netavark_entries([entry()])
    assert str(exc.value) == "IO error: No such file or directory (os error 2)"
    with open(os.path.join(env.dir, "podman1"), "w") as f:
        f.write(f"10.89.3.1\n{CID} 10.89.3.2  x\n")
    with pytest.raises(NetavarkError) as exc:
        a.delete_from_netavark_entries([entry()])
    assert str(exc.value) == "failed to get aardvark pid: IO error: No such file or " \
                             "directory (os error 2)"
    assert env.starts() == []  # no start permission in teardown


@pytest.mark.parametrize(("content", "message"), [
    ("", "parse aardvark pid: cannot parse integer from empty string"),
    ("123\n", "parse aardvark pid: invalid digit found in string"),
    ("99999999999", "parse aardvark pid: number too large to fit in target type"),
])
def test_bad_pid_file(env, content, message):
    with open(os.path.join(env.dir, "aardvark.pid"), "w") as f:
        f.write(content)
    with pytest.raises(NetavarkError) as exc:
        env.aardvark().notify(False, False)
    assert str(exc.value) == f"failed to get aardvark pid: {message}"
    # with start permission a bad pid file means: start the server
    with open(os.path.join(env.dir, "net"), "w") as f:
        f.write("10.0.0.1\n")
    env.aardvark().notify(True, False)
    assert len(env.starts()) == 1


def test_stale_pid_starts_server(env):
    proc = subprocess.run(["true"], check=True)
    assert proc.returncode == 0
    # a pid that surely does not exist (above pid_max)
    with open(os.path.join(env.dir, "aardvark.pid"), "w") as f:
        f.write("2147483647")
    with open(os.path.join(env.dir, "net"), "w") as f:
        f.write("10.0.0.1\n")
    env.aardvark().notify(False, False)
    assert len(env.starts()) == 1


def test_non_positive_pid_is_never_signalled(env):
    with open(os.path.join(env.dir, "aardvark.pid"), "w") as f:
        f.write("-1")
    with open(os.path.join(env.dir, "net"), "w") as f:
        f.write("10.0.0.1\n")
    env.aardvark().notify(False, False)  # would SIGHUP every process if passed to kill()
    assert len(env.starts()) == 1


@pytest.mark.parametrize(("binary", "message"), [
    ("/usr/bin/false", "aardvark-dns exited unexpectedly without error message"),
    ("DIR", "IO error: Permission denied (os error 13)"),
    ("MISSING", "IO error: No such file or directory (os error 2)"),
])
def test_failed_start_rolls_back_entries(env, binary, message):
    binary = {"DIR": env.config, "MISSING": os.path.join(env.config, "nope")}.get(binary, binary)
    with pytest.raises(NetavarkError) as exc:
        env.aardvark(binary).commit_netavark_entries([entry()])
    assert str(exc.value) == message
    assert os.listdir(env.dir) == []


def test_failed_start_message_from_stderr(env, monkeypatch):
    monkeypatch.setenv("FAKE_AARDVARK_FAIL", "  Error starting server boom\n")
    with pytest.raises(NetavarkError) as exc:
        env.aardvark().commit_netavark_entries([entry()])
    assert str(exc.value) == "aardvark-dns failed to start: Error starting server boom"
    assert os.listdir(env.dir) == []


def test_failed_start_non_utf8_stderr(env, tmp_path):
    script = tmp_path / "bad"
    script.write_bytes(b"#!/bin/sh\nprintf 'abc\\377def' >&2\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(NetavarkError) as exc:
        env.aardvark(str(script)).commit_netavark_entries([entry()])
    assert str(exc.value) == ("failed to parse aardvark-dns stderr message: invalid utf-8 "
                              "sequence of 1 bytes from index 3")


def test_utf8_error_display():
    assert utf8_error_display(b"ab\xe2\x82") == "incomplete utf-8 byte sequence from index 2"
    assert utf8_error_display(b"\xe2\x82x") == "invalid utf-8 sequence of 2 bytes from index 0"


def test_systemd_run_argv(env, tmp_path, monkeypatch):
    fake_bin = tmp_path / "pathdir"
    fake_bin.mkdir()
    record = tmp_path / "systemd-run-args"
    sdrun = fake_bin / "systemd-run"
    sdrun.write_text(f"#!/bin/sh\necho \"$@\" > {record}\n")
    sdrun.chmod(0o755)
    monkeypatch.setattr(aardvark_mod, "is_using_systemd", lambda: True)
    monkeypatch.setenv("PATH", f"{fake_bin}:/usr/bin:/bin")
    with open(os.path.join(env.dir, "net"), "w") as f:
        f.write("10.0.0.1\n")
    env.aardvark(rootless=True, port=1053).start_aardvark_server()
    assert record.read_text().split() == ["-q", "--scope", "--user", env.bin, "--config",
                                          env.dir, "-p", "1053", "run"]
    env.aardvark(rootless=False).start_aardvark_server()
    assert record.read_text().split()[:3] == ["-q", "--scope", env.bin]
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not aardvark_mod.is_executable_in_path("systemd-run")


def test_builtin_command_argv_is_used(env, tmp_path):
    cmd = DnsServerCommand(sys.executable, [sys.executable, FAKE], builtin=True)
    with open(os.path.join(env.dir, "net"), "w") as f:
        f.write("10.0.0.1\n")
    Aardvark(env.dir, False, cmd, 53).start_aardvark_server()
    assert env.starts()[0]["argv"] == [FAKE, "--config", env.dir, "-p", "53", "run"]


def test_netns_mismatch_logs_error(env, monkeypatch, capsys):
    a = env.aardvark()
    a.check_netns(os.getpid())
    assert capsys.readouterr().err == ""
    real = os.readlink
    monkeypatch.setattr(os, "readlink",
                        lambda p: "net:[1]" if p.startswith("/proc/self") else real(p))
    a.check_netns(os.getpid())
    assert capsys.readouterr().err == (
        "[ERROR netavark::dns::aardvark] aardvark-dns runs in a different netns, dns will not "
        "work for this container. To resolve please stop all containers, kill the "
        f"aardvark-dns process, remove the {env.dir} directory and then start the containers "
        "again\n")
    a.check_netns(2147483647)  # unreadable: silently skipped
    assert capsys.readouterr().err == ""


def test_update_rewrites_header_and_signals_only_for_non_empty_list(env):
    a = env.aardvark()
    a.commit_netavark_entries([entry(network_dns_servers=ips("127.0.0.1", "3.3.3.3"))])
    pid = env.pid()
    a.modify_network_dns_servers("podman1", ["8.8.8.8"])
    assert env.read("podman1").split("\n")[0] == "10.89.3.1,fd10:88:a::1 8.8.8.8"
    assert env.wait_hups(1) == 1
    a.modify_network_dns_servers("podman1", [])
    assert env.read("podman1") == ("10.89.3.1,fd10:88:a::1\n"
                                   f"{CID} 10.89.3.2 fd10:88:a::2 somename\n")
    time.sleep(0.1)
    assert env.hups() == 1  # upstream quirk: clearing sends no SIGHUP
    assert env.pid() == pid
    # no file for the network: success, nothing done
    a.modify_network_dns_servers("other", ["1.1.1.1"])
    assert not os.path.exists(os.path.join(env.dir, "other"))


def test_entry_debug_format():
    e = entry(network_dns_servers=ips("1.1.1.1"), container_names=["a", 'b"'])
    assert entry_debug(e) == (
        'AardvarkEntry { network_name: "podman1", network_gateways: [10.89.3.1, fd10:88:a::1], '
        "network_dns_servers: Some([1.1.1.1]), "
        f'container_id: SafeString("{CID}"), container_ips_v4: [10.89.3.2], '
        'container_ips_v6: [fd10:88:a::2], container_names: [SafeString("a"), '
        'SafeString("b\\"")], container_dns_servers: None, is_internal: false }')


def test_lock_error_message(tmp_path):
    a = Aardvark(str(tmp_path / "missing" / "aardvark-dns"), False, "/bin/true", 53)
    with pytest.raises(NetavarkError) as exc:
        a.commit_entries([entry()])
    path = tmp_path / "missing" / "aardvark-dns" / ".." / "aardvark.lock"
    assert str(exc.value) == (f'Failed to open/create lockfile "{path}": No such file or '
                              "directory (os error 2)")


WRITER = """
import sys
sys.path.insert(0, {root!r})
from netavark.dns import AardvarkEntry
from netavark.dns.aardvark import Aardvark
from netavark.ip import IpAddr
a = Aardvark({dir!r}, False, "/bin/true", 53)
worker, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    e = AardvarkEntry("net", [IpAddr.parse("10.0.0.1")], None, f"w{{worker}}c{{i}}x",
                      [IpAddr.parse(f"10.1.{{worker}}.{{i + 1}}")], [], [f"n{{worker}}-{{i}}"],
                      None, False)
    a.commit_entries([e])
    if i % 3 == 0:
        a.delete_entry(f"w{{worker}}c{{i}}x", "net")
"""


def test_concurrent_writers_never_lose_lines(tmp_path):
    config = tmp_path / "config"
    (config / "aardvark-dns").mkdir(parents=True)
    root = os.path.dirname(os.path.dirname(HERE))
    script = WRITER.format(root=root, dir=str(config / "aardvark-dns"))
    workers, count = 6, 30
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w), str(count)])
             for w in range(workers)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    lines = (config / "aardvark-dns" / "net").read_text().split("\n")
    assert lines[0] == "10.0.0.1"
    assert lines[-1] == ""
    expected = {f"w{w}c{i}x 10.1.{w}.{i + 1}  n{w}-{i}" for w in range(workers)
                for i in range(count) if i % 3}
    assert sorted(lines[1:-1]) == sorted(expected)
    # temporary files never stay behind, and never inside the server's directory
    assert sorted(os.listdir(config)) == ["aardvark-dns", "aardvark.lock"]


SETUP = """
import sys
sys.path.insert(0, {root!r})
from netavark.dns import AardvarkEntry
from netavark.dns.aardvark import Aardvark
from netavark.errors import NetavarkError
from netavark.ip import IpAddr
i = int(sys.argv[1])
e = AardvarkEntry("net", [IpAddr.parse("10.0.0.1")], None, f"ctr{{i}}x",
                  [IpAddr.parse(f"10.0.0.{{i + 2}}")], [], [f"name{{i}}"], None, False)
try:
    Aardvark({dir!r}, False, {bin!r}, 53).commit_netavark_entries([e])
except NetavarkError as err:
    print(err)
    sys.exit(1)
"""


def test_concurrent_first_setups_start_one_server(env):
    root = os.path.dirname(os.path.dirname(HERE))
    script = SETUP.format(root=root, dir=env.dir, bin=env.bin)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], stdout=subprocess.PIPE,
                              text=True) for i in range(6)]
    outs = [(p.wait(timeout=60), p.stdout.read()) for p in procs]
    for p in procs:
        p.stdout.close()
    assert outs == [(0, "")] * 6
    assert len(env.starts()) == 1
    lines = env.read("net").split("\n")
    assert sorted(lines[1:-1]) == sorted(f"ctr{i}x 10.0.0.{i + 2}  name{i}" for i in range(6))
