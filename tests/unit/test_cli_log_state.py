"""CLI contract, logging format/filtering, firewall state files, sysctl.d writer, hashing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from netavark import cli, log
from netavark.firewall import PortForwardConfig, SetupNetwork
from netavark.firewall.state import read_fw_config, remove_fw_config, write_fw_config
from netavark.ip import IpAddr, IpNet
from netavark.network.core import network_hash_name
from netavark.network.sysctl import SysctlDWriter
from tests.conftest import LAUNCHER


def run(*args: str, env: dict | None = None, input: str = "") -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.pop("NETAVARK_FW", None)
    full.update(env or {})
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True,
                          env=full, input=input)


def test_version_json_and_flag():
    res = run("version")
    info = json.loads(res.stdout)
    assert list(info) == ["version", "commit", "build_time", "target", "default_fw_driver"]
    assert info["version"] == "2.1.0" and info["build_time"].startswith("20")
    assert res.stdout.startswith('{\n  "version": "2.1.0",\n')
    assert run("--version").stdout == "netavark 2.1.0\n"


def test_non_utf8_config_path_is_accepted():
    res = subprocess.run([sys.executable, LAUNCHER.encode(), b"--config", b"/tmp/\xff.test",
                          b"version"], capture_output=True)
    assert res.returncode == 0 and json.loads(res.stdout)["version"] == "2.1.0"


@pytest.mark.parametrize("argv,needle", [
    ([], "requires a subcommand"),
    (["setup"], "<NETWORK_NAMESPACE_PATH>"),
    (["setup", ""], "a value is required for '<NETWORK_NAMESPACE_PATH>'"),
    (["--rootless", "yes", "version"], "invalid value 'yes' for '--rootless <ROOTLESS>'"),
    (["--rootless"], "a value is required for '--rootless <ROOTLESS>'"),
    (["bogus"], "unrecognized subcommand 'bogus'"),
    (["setup", "/x", "--config", "/y"], "unexpected argument '--config' found"),
    (["update", "net"], "--network-dns-servers <NETWORK_DNS_SERVERS>"),
])
def test_usage_errors_exit_2_on_stderr(argv, needle):
    res = run(*argv)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith("error: ") and needle in res.stderr


def test_help_lists_every_command():
    res = run("--help")
    assert res.returncode == 0
    for c in cli.COMMANDS:
        assert c.name in res.stdout
    assert "NETAVARK_FW" in res.stdout
    assert run("help", "setup").stdout.startswith("Configures the given network namespace")


def test_parse_forms():
    ctx = cli.parse(["-c", "/cfg", "--rootless=true", "-a/bin/av", "--plugin-directory", "/a",
                     "--plugin-directory=/b", "-f", "-", "setup", "/ns"])
    assert (ctx.config, ctx.rootless, ctx.aardvark_binary) == ("/cfg", True, "/bin/av")
    assert ctx.plugin_directories == ["/a", "/b"] and ctx.file == "-"
    assert ctx.args["network_namespace_path"] == "/ns"


def test_env_firewall_driver_and_flag_precedence(monkeypatch):
    monkeypatch.setenv("NETAVARK_FW", "none")
    assert cli.parse(["version"]).firewall_driver == "none"
    assert cli.parse(["--firewall-driver", "nftables", "version"]).firewall_driver == "nftables"


def test_errors_are_json_on_stdout_exit_1():
    res = run("--config", "/tmp", "-f", "/does/not/exist", "setup", "/proc/self/ns/net")
    assert res.returncode == 1
    assert json.loads(res.stdout) == {
        "error": "failed to load network options: IO error: No such file or directory (os "
                 "error 2)"}
    res = run("--config", "/tmp", "setup", "/test/1")
    assert json.loads(res.stdout)["error"] == \
        "invalid namespace path: IO error: No such file or directory (os error 2)"


def test_bad_firewall_driver_and_dns_port(tmp_path):
    doc = tmp_path / "in.json"
    doc.write_text(json.dumps({"container_id": "a", "container_name": "b", "networks": {},
                               "network_info": {}}))
    res = run("--config", str(tmp_path), "--firewall-driver", "IPTables", "-f", str(doc),
              "setup", "/proc/self/ns/net")
    assert json.loads(res.stdout)["error"] == "Must provide a valid firewall backend, got iptables"
    res = run("--config", str(tmp_path), "-f", str(doc), "setup", "/proc/self/ns/net",
              env={"NETAVARK_FW": "none", "NETAVARK_DNS_PORT": "70000"})
    assert json.loads(res.stdout)["error"] == \
        "Invalid NETAVARK_DNS_PORT 70000: number too large to fit in target type"
    res = run("--config", str(tmp_path), "-f", str(doc), "setup", "/proc/self/ns/net",
              env={"NETAVARK_FW": ""})
    assert json.loads(res.stdout)["error"] == "Must provide a valid firewall backend, got "


def test_log_format_and_filter(monkeypatch, capsys):
    monkeypatch.setenv("RUST_LOG", "netavark=info")
    log.reset_filter()
    try:
        log.Logger("netavark::firewall").info("Not using firewall")
        log.Logger("netavark::firewall").debug("hidden")
        log.Logger("other").error("hidden too")
        assert capsys.readouterr().err == "[INFO  netavark::firewall] Not using firewall\n"
        assert log.max_level_name() == "INFO"
    finally:
        log.reset_filter()


@pytest.mark.parametrize("spec,target,level,enabled", [
    (None, "netavark", log.ERROR, True),
    (None, "netavark", log.WARN, False),
    ("warn", "x::y", log.WARN, True),
    ("netavark=debug,netavark::firewall=error", "netavark::firewall::nft", log.INFO, False),
    ("netavark=debug,netavark::firewall=error", "netavark::network", log.DEBUG, True),
    ("netavark", "netavark::a", log.TRACE, True),
    ("netavark=INFO", "netavark::a", log.INFO, True),
    ("off", "netavark", log.ERROR, False),
])
def test_rust_log_directives(spec, target, level, enabled):
    assert (level <= log.Filter(spec).level_for(target)) is enabled


def test_state_files_exact_json(tmp_path):
    net = SetupNetwork([IpNet.parse("10.88.0.0/16")], "podman0", "53ce43", "1D8721804F16F",
                       "Strict", 53)
    pf = PortForwardConfig("123", "53ce43", None, "podman", "1D8721804F16F",
                           container_ip_v4=IpAddr.parse("10.88.0.2"),
                           subnet_v4=IpNet.parse("10.88.0.0/16"), dns_port=53,
                           dns_server_ips=[IpAddr.parse("10.88.0.1")])
    write_fw_config(str(tmp_path), "53ce43", "123", "none", net, pf)
    base = tmp_path / "firewall"
    assert (base / "firewall-driver").read_text() == "none"
    assert (base / "networks" / "53ce43").read_text() == (
        '{"subnets":["10.88.0.0/16"],"bridge_name":"podman0","network_id":"53ce43",'
        '"network_hash_name":"1D8721804F16F","isolation":"Strict","dns_port":53,'
        '"internal":false}')
    assert (base / "ports" / "53ce43_123").read_text() == (
        '{"container_id":"123","network_id":"53ce43","port_mappings":null,'
        '"network_name":"podman","network_hash_name":"1D8721804F16F",'
        '"container_ip_v4":"10.88.0.2","subnet_v4":"10.88.0.0/16","container_ip_v6":null,'
        '"subnet_v6":null,"dns_port":53,"dns_server_ips":["10.88.0.1"],"internal":false}')
    conf = read_fw_config(str(tmp_path))
    assert conf is not None
    try:
        assert conf.driver == "none"
        assert conf.networks[0].to_json() == net.to_json()
        assert conf.ports[0].to_json() == pf.to_json()
    finally:
        conf.close()
    remove_fw_config(str(tmp_path), "53ce43", "123", True)
    assert os.listdir(base / "networks") == [] and os.listdir(base / "ports") == []
    assert (base / "firewall-driver").exists()


def test_state_reader_accepts_upstream_2_1_0_files(tmp_path):
    base = tmp_path / "firewall"
    (base / "networks").mkdir(parents=True)
    (base / "ports").mkdir()
    (base / "firewall-driver").write_text("nftables")
    (base / "networks" / "n").write_text(
        '{"subnets":null,"bridge_name":"podman0","network_hash_name":"X","isolation":"Never",'
        '"dns_port":53,"outbound_addr4":"100.1.100.1"}')
    conf = read_fw_config(str(tmp_path))
    try:
        n = conf.networks[0]
        assert n.network_id == "" and n.subnets is None and str(n.outbound_addr4) == "100.1.100.1"
        assert n.internal is False
    finally:
        conf.close()
    assert read_fw_config(str(tmp_path / "empty")) is None


def test_sysctl_d_writer(tmp_path):
    path = str(tmp_path / "10-netavark-x.conf")
    w = SysctlDWriter(path, [("abc", "1"), ("def", "2")])
    with open(path) as f:
        assert f.read() == "# autogenerated by netavark\nabc = 1\ndef = 2\n"
    w.discard()
    assert not os.path.exists(path)
    w = SysctlDWriter(path, [("abc", "1")])
    w.commit()
    w.discard()
    assert os.path.exists(path)


def test_network_hash_name():
    assert network_hash_name("testnet") == "C5964C6794A11"
    assert network_hash_name("net1", 20) == "8E48F37D5DE60467E164"
    assert network_hash_name("podman") == "1D8721804F16F"


def test_man_page_is_generated_from_the_cli_tables():
    res = subprocess.run([sys.executable, os.path.join(os.path.dirname(LAUNCHER), "..",
                                                       "scripts", "gen-manpage.py"), "--check"])
    assert res.returncode == 0, "docs/netavark.1 is stale: run scripts/gen-manpage.py"
