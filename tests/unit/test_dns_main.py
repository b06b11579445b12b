"""The built-in server's command line and start-up failures; server selection; the
``update`` command and ``NETAVARK_DNS_PORT`` through the real launchers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from netavark.dns import (
    DnsServerCommand,
    RustIntError,
    builtin_server_command,
    dns_port_from_env,
    parse_rust_int,
    select_dns_server,
)
from netavark.errors import NetavarkError
from tests.conftest import LAUNCHER, ROOT

SERVER = os.path.join(ROOT, "bin", "aardvark-dns")
FAKE = os.path.join(ROOT, "tests", "unit", "fake_aardvark.py")


def server(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.pop("RUST_LOG", None)
    full.update(env or {})
    return subprocess.run([sys.executable, SERVER, *args], capture_output=True, text=True,
                          env=full, timeout=30)


def test_missing_config_dir(tmp_path):
    res = server("--config", str(tmp_path / "nope"), "-p", "5353", "run")
    assert res.returncode == 1
    assert res.stderr == ("Error creating aardvark pid Unable to get process pid: No such file "
                          "or directory (os error 2)\nError from child process\n")


def test_no_networks_means_no_server(tmp_path):
    res = server("--config", str(tmp_path), "-p", "5353", "run")
    assert res.returncode == 1
    assert res.stderr == "Error from child process\n"
    assert os.listdir(tmp_path) == []  # the pid file is removed again


def test_bind_failure_reported_and_pid_removed(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is not an address of this host
    (tmp_path / "net").write_text("192.0.2.1\nid 192.0.2.2  name\n")
    res = server("--config", str(tmp_path), "-p", "5353", "run")
    assert res.returncode == 1
    assert res.stderr == ("Error starting server failed to bind udp listener on 192.0.2.1:5353: "
                          "IO error: Cannot assign requested address (os error 99)\n"
                          "Error from child process\n")
    assert os.listdir(tmp_path) == ["net"]


def test_bad_rust_log_is_reported_once(tmp_path):
    res = server("--config", str(tmp_path), "-p", "5353", "run", env={"RUST_LOG": "OFF"})
    assert res.stderr == ("failed to parse RUST_LOG level: attempted to convert a string that "
                          "doesn't match an existing log level\nError from child process\n")


def test_version_and_usage():
    res = server("version")
    info = json.loads(res.stdout)
    assert list(info) == ["version", "commit", "build_time", "target"]
    assert res.stdout.startswith('{\n  "version": "')
    assert server("--version").stdout.startswith("aardvark-dns ")
    res = server("run", "--config", "/x")
    assert res.returncode == 2 and "unexpected argument '--config'" in res.stderr
    res = server("-p", "70000", "run")
    assert res.returncode == 2
    assert "number too large to fit in target type" in res.stderr
    assert server().returncode == 2
    assert "Usage: aardvark-dns" in server("--help").stdout


def test_module_entry_point(tmp_path):
    res = subprocess.run([sys.executable, "-m", "netavark.dns", "--config", str(tmp_path),
                          "-p", "5353", "run"], capture_output=True, text=True, cwd=ROOT,
                         timeout=30)
    assert res.returncode == 1 and res.stderr == "Error from child process\n"


@pytest.mark.parametrize(("text", "bits", "signed", "result"), [
    ("53", 16, False, 53), ("+53", 16, False, 53), ("65535", 16, False, 65535),
    ("-1", 32, True, -1), ("2147483647", 32, True, 2147483647),
    ("", 16, False, "cannot parse integer from empty string"),
    ("-1", 16, False, "invalid digit found in string"),
    ("5 ", 16, False, "invalid digit found in string"),
    ("1_0", 16, False, "invalid digit found in string"),
    ("\u0665", 16, False, "invalid digit found in string"),
    ("+", 16, False, "invalid digit found in string"),
    ("65536", 16, False, "number too large to fit in target type"),
    ("-2147483649", 32, True, "number too small to fit in target type"),
])
def test_parse_rust_int(text, bits, signed, result):
    if isinstance(result, int):
        assert parse_rust_int(text, bits, signed) == result
    else:
        with pytest.raises(RustIntError, match=result):
            parse_rust_int(text, bits, signed)


def test_dns_port_from_env(monkeypatch):
    monkeypatch.delenv("NETAVARK_DNS_PORT", raising=False)
    assert dns_port_from_env() == 53
    monkeypatch.setenv("NETAVARK_DNS_PORT", "1053")
    assert dns_port_from_env() == 1053
    monkeypatch.setenv("NETAVARK_DNS_PORT", "abc")
    with pytest.raises(NetavarkError) as exc:
        dns_port_from_env()
    assert str(exc.value) == "Invalid NETAVARK_DNS_PORT abc: invalid digit found in string"


def test_select_dns_server(monkeypatch, tmp_path):
    real = tmp_path / "aardvark-dns"
    real.write_text("")
    missing = str(tmp_path / "missing")
    monkeypatch.delenv("NETAVARK_DNS_SERVER", raising=False)
    got = select_dns_server(str(real))
    assert (got.argv, got.builtin, got.usable) == ([str(real)], False, True)
    got = select_dns_server(missing)  # auto: fall back to the built-in server
    assert got.builtin and got.usable and got.argv == [SERVER]
    assert select_dns_server("").builtin
    monkeypatch.setenv("NETAVARK_DNS_SERVER", "aardvark")
    got = select_dns_server(missing)
    assert (got.argv, got.builtin, got.usable) == ([missing], False, False)
    monkeypatch.setenv("NETAVARK_DNS_SERVER", "BuiltIn")
    assert select_dns_server(str(real)).builtin
    monkeypatch.setenv("NETAVARK_DNS_SERVER", "bogus")
    with pytest.raises(NetavarkError) as exc:
        select_dns_server(str(real))
    assert str(exc.value) == ("invalid NETAVARK_DNS_SERVER value 'bogus': expected one of "
                              "auto, aardvark, builtin")
    assert isinstance(builtin_server_command(), DnsServerCommand)


def nv(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    for var in ("NETAVARK_DNS_PORT", "NETAVARK_DNS_SERVER", "RUST_LOG"):
        full.pop(var, None)
    full.update(env or {})
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True,
                          env=full, timeout=30)


def test_update_command(tmp_path):
    config = tmp_path / "config"
    adir = config / "aardvark-dns"
    adir.mkdir(parents=True)
    fake = tmp_path / "aardvark"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE} \"$@\"\n")
    fake.chmod(0o755)
    base = ["--config", str(config), "--aardvark-binary", str(fake)]
    # no file for the network: nothing to do
    res = nv(*base, "update", "podman1", "--network-dns-servers", "8.8.8.8")
    assert (res.returncode, res.stdout) == (0, "")
    (adir / "podman1").write_text("10.89.3.1,fd10:88:a::1 127.0.0.1,3.3.3.3\nid 10.89.3.2  n\n")
    # clearing the list rewrites the file and signals nobody
    res = nv(*base, "update", "podman1", "--network-dns-servers", "")
    assert (res.returncode, res.stdout) == (0, "")
    assert (adir / "podman1").read_text() == "10.89.3.1,fd10:88:a::1\nid 10.89.3.2  n\n"
    # a non-empty list needs the server: no pid file is an error
    res = nv(*base, "update", "podman1", "--network-dns-servers", "8.8.8.8",
             "--network-dns-servers", "1.1.1.1")
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": "unable to modify network dns servers: failed to "
                                               "get aardvark pid: IO error: No such file or "
                                               "directory (os error 2)"}
    assert (adir / "podman1").read_text().startswith("10.89.3.1,fd10:88:a::1 8.8.8.8,1.1.1.1\n")
    # aardvark-dns requested but missing: update does nothing at all
    res = nv("--config", str(config), "--aardvark-binary", str(tmp_path / "none"), "update",
             "podman1", "--network-dns-servers", "9.9.9.9",
             env={"NETAVARK_DNS_SERVER": "aardvark"})
    assert (res.returncode, res.stdout) == (0, "")
    assert "9.9.9.9" not in (adir / "podman1").read_text()
    res = nv(*base, "update", "podman1", "--network-dns-servers", "9.9.9.9",
             env={"NETAVARK_DNS_PORT": "99999"})
    assert json.loads(res.stdout) == {"error": "Invalid NETAVARK_DNS_PORT 99999: number too "
                                               "large to fit in target type"}
    res = nv("update", "podman1", "--network-dns-servers", "9.9.9.9")
    assert json.loads(res.stdout) == {"error": "--config not specified but required for "
                                               "netavark update"}
