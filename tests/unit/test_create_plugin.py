"""``create`` with plugin drivers, and the plugin exec helper itself.

The plugins are small Python scripts written to a temporary directory.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from netavark.errors import NetavarkError
from netavark.plugin import exec_plugin, find_plugin
from tests.conftest import LAUNCHER
from tests.unit.create_helpers import base_input, create_doc, normalise

HEADER = f"#!{sys.executable}\nimport json, os, sys\n"

# echoes the network, filling in a subnet like a real driver would
ECHO = HEADER + """
assert sys.argv[1:] == ["create"], sys.argv
net = json.load(sys.stdin)
sys.stderr.write("stderr create\\n")
net.setdefault("subnets", [{"subnet": "10.50.0.0/24"}])
net["options"] = {"plugin": "yes"}
net["dns_enabled"] = True
print(json.dumps(net))
"""


def plugin(tmp_path, name: str, body: str, mode: int = 0o755) -> str:
    path = tmp_path / name
    path.write_text(body)
    path.chmod(mode)
    return str(tmp_path)


def test_plugin_completes_the_network(tmp_path) -> None:
    d = plugin(tmp_path, "myplug", ECHO)
    out = create_doc(base_input(driver="myplug", network_dns_servers=["9.9.9.9"]),
                     plugin_directories=[d])
    # the common steps run on the plugin's result: gateway filled, created set
    assert normalise(out) == {
        "created": "<now>", "dns_enabled": True, "driver": "myplug", "id": "ab" * 32,
        "internal": False, "ipv6_enabled": False, "name": "testnet",
        "options": {"plugin": "yes"},
        "subnets": [{"gateway": "10.50.0.1", "subnet": "10.50.0.0/24"}],
        "network_dns_servers": ["9.9.9.9"]}


def test_plugin_input_is_the_network_after_generic_checks(tmp_path) -> None:
    record = tmp_path / "seen.json"
    body = HEADER + f"""
data = sys.stdin.read()
open({str(record)!r}, "w").write(data)
print(data)
"""
    d = plugin(tmp_path, "rec", body)
    doc = base_input(driver="rec", options={"anything": "goes"}, created="2020-01-01T00:00:00Z")
    assert "error" not in create_doc(doc, plugin_directories=[d])
    # compact, upstream's key order, unset fields omitted, no trailing newline
    assert record.read_text() == (
        '{"created":"2020-01-01T00:00:00Z","dns_enabled":false,"driver":"rec",'
        '"id":"' + "ab" * 32 + '","internal":false,"ipv6_enabled":false,"name":"testnet",'
        '"options":{"anything":"goes"}}')


def test_plugin_checks_after_the_plugin(tmp_path) -> None:
    body = HEADER + """
net = json.load(sys.stdin)
net["subnets"] = [{"subnet": "10.0.0.0/24", "gateway": "10.1.0.1"}]
print(json.dumps(net))
"""
    d = plugin(tmp_path, "p", body)
    assert create_doc(base_input(driver="p"), plugin_directories=[d]) == \
        {"error": "gateway 10.1.0.1 not in subnet 10.0.0.0/24"}


@pytest.mark.parametrize(("field", "value", "what"), [
    ("name", "other", "changed network name"),
    ("id", "cd" * 32, "changed network ID"),
    ("driver", "bridge", "changed network driver"),
])
def test_plugin_must_not_change_identity(tmp_path, field: str, value: str,
                                         what: str) -> None:
    body = HEADER + f"""
net = json.load(sys.stdin)
net[{field!r}] = {value!r}
print(json.dumps(net))
"""
    d = plugin(tmp_path, "p", body)
    assert create_doc(base_input(driver="p"), plugin_directories=[d]) == \
        {"error": f"p plugin invalid result: {what}"}


def test_plugin_lookup(tmp_path) -> None:
    assert create_doc(base_input(driver="p")) == {"error": "plugin directory not provided"}
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert create_doc(base_input(driver="p"), plugin_directories=[str(a)]) == \
        {"error": 'plugin for driver "p" not found in plugin directories'}
    # not executable, a directory: skipped; the next directory wins
    plugin(a, "p", ECHO, mode=0o644)
    (a / "q").mkdir()
    plugin(b, "p", ECHO, mode=0o100)
    assert find_plugin([str(a), str(b)], "p") == str(b / "p")
    assert find_plugin([str(a), str(b)], "q") is None
    os.symlink(b / "p", a / "link")
    assert find_plugin([str(a)], "link") == str(a / "link")


def test_plugin_failure_messages(tmp_path) -> None:
    plugin(tmp_path, "err", HEADER + 'print(json.dumps({"error": "create error"})); sys.exit(3)')
    plugin(tmp_path, "garbage", HEADER + 'print("garbage"); sys.exit(1)')
    plugin(tmp_path, "wrongkey", HEADER + 'print(json.dumps({"msg": 1})); sys.exit(2)')
    plugin(tmp_path, "signal", HEADER + "os.kill(os.getpid(), 9)")
    plugin(tmp_path, "badout", HEADER + 'sys.stdin.read(); print("{}")')
    plugin(tmp_path, "trailing", HEADER + 'print(sys.stdin.read() + " x")')
    plugin(tmp_path, "nointerp", "#!/nonexistent/interpreter\n")
    plugin(tmp_path, "noshebang", "\x7fELF garbage")
    d = [str(tmp_path)]

    def run(driver: str) -> str:
        return create_doc(base_input(driver=driver), plugin_directories=d)["error"]

    assert run("err") == "exit code 3, message: create error"
    assert run("garbage") == ('plugin "garbage": exit code 1, parse error: '
                              "expected value at line 1 column 1")
    assert run("wrongkey") == ('plugin "wrongkey": exit code 2, parse error: '
                               "missing field `error` at line 1 column 10")
    assert run("signal") == 'plugin "signal" killed by signal'
    assert run("badout") == "JSON Decoding error: missing field `dns_enabled` at line 1 column 2"
    assert run("trailing") == "JSON Decoding error: trailing characters at line 1 column "\
        f"{len(json.dumps(base_input(driver='trailing')['network'], separators=(',', ':'))) + 2}"
    assert run("nointerp") == "IO error: No such file or directory (os error 2)"
    assert run("noshebang") == "IO error: Exec format error (os error 8)"


def test_exec_plugin_stdin_write_failure(tmp_path) -> None:
    # exits at once without reading: a large input cannot be written completely
    plugin(tmp_path, "quit", "#!/bin/sh\nexec 0<&-\nexit 0\n")
    with pytest.raises(NetavarkError) as e:
        exec_plugin(str(tmp_path / "quit"), ["create"], b"x" * (4 << 20))
    assert str(e.value) == "JSON Decoding error: Broken pipe (os error 32)"


def test_exec_plugin_passes_args_and_stderr(tmp_path) -> None:
    body = HEADER + """
sys.stderr.write("plugin says hi\\n")
print(json.dumps({"argv": sys.argv[1:], "stdin": sys.stdin.read()}))
"""
    plugin(tmp_path, "args", body)
    res = subprocess.run(
        [sys.executable, "-c",
         "import sys; from netavark.plugin import exec_plugin; "
         "sys.stdout.buffer.write(exec_plugin(sys.argv[1], ['setup', '/x y'], b'{}'))",
         str(tmp_path / "args")],
        capture_output=True, cwd=os.path.dirname(os.path.dirname(LAUNCHER)))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"argv": ["setup", "/x y"], "stdin": "{}"}
    assert res.stderr == b"plugin says hi\n"


def test_cli_create_with_plugin_directory(tmp_path) -> None:
    d = plugin(tmp_path, "myplug", ECHO)
    res = subprocess.run([sys.executable, LAUNCHER, "--plugin-directory", "/nonexistent",
                          "--plugin-directory", d, "create"],
                         input=json.dumps(base_input(driver="myplug")), capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout
    assert res.stderr == "stderr create\n"
    assert json.loads(res.stdout)["options"] == {"plugin": "yes"}
    assert stat.S_IMODE(os.stat(os.path.join(d, "myplug")).st_mode) == 0o755
