"""``netavark create`` as Podman runs it: argv, stdin/--file, stdout, exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.conftest import LAUNCHER
from tests.unit.create_helpers import UPSTREAM, base_input


def run(*args: str, input: str | None = None, env: dict | None = None
        ) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, LAUNCHER, *args], input=input, capture_output=True,
                          text=True, env=full_env, timeout=30)


def test_create_from_stdin_prints_one_compact_line() -> None:
    with open(os.path.join(UPSTREAM, "basic.json")) as f:
        res = run("create", input=f.read())
    assert res.returncode == 0, res
    assert res.stderr == ""
    assert res.stdout.endswith("}\n") and res.stdout.count("\n") == 1
    out = json.loads(res.stdout)
    assert re.fullmatch(r"podman[0-9]+", out["network_interface"])
    assert res.stdout == json.dumps(out, separators=(",", ":")) + "\n"
    assert list(out) == ["created", "dns_enabled", "driver", "id", "internal", "ipv6_enabled",
                         "name", "network_interface", "ipam_options", "subnets"]


def test_create_from_file_and_global_options_are_accepted() -> None:
    res = run("--config", "/nonexistent", "--rootless", "true", "-f",
              os.path.join(UPSTREAM, "subnet-with-gateway.json"), "create")
    assert res.returncode == 0, res
    assert json.loads(res.stdout)["subnets"] == [
        {"gateway": "10.100.0.50", "subnet": "10.100.0.0/24"}]


def test_validation_error() -> None:
    res = run("-f", os.path.join(UPSTREAM, "vlan-invalid.json"), "create")
    assert (res.returncode, res.stdout) == (1, '{"error":"vlan must be between 0 and 4094"}\n')


def test_input_errors() -> None:
    res = run("-f", "/nonexistent/create.json", "create")
    assert (res.returncode, res.stdout) == (
        1, '{"error":"failed to load network create: IO error: No such file or directory '
           '(os error 2)"}\n')
    res = run("create", input="")
    assert json.loads(res.stdout) == {
        "error": "failed to load network create: IO error: EOF while parsing a value at line 1 "
                 "column 0"}
    doc = base_input()
    del doc["used"]["names"]
    res = run("create", input=json.dumps(doc, indent=1))
    assert res.returncode == 1
    assert json.loads(res.stdout)["error"].startswith(
        "failed to load network create: IO error: missing field `names` at line ")
    doc = base_input()
    doc["options"]["subnet_pools"] = [{"base": "10.0.0.0/8", "size": -1}]
    res = run("create", input=json.dumps(doc))
    assert json.loads(res.stdout)["error"].startswith(
        "failed to load network create: IO error: invalid value: integer `-1`, expected u32 at")


def test_debug_log_for_ipam_none() -> None:
    res = run("create", input=json.dumps(base_input(ipam_options={"driver": "none"})),
              env={"RUST_LOG": "debug"})
    assert res.returncode == 0, res
    assert ('[DEBUG netavark::network::create_config::config] dns disabled for network '
            '"testnet" because ipam driver is set to none') in res.stderr.splitlines()


def test_lone_surrogate_escapes_are_a_json_error_not_a_crash() -> None:
    doc = json.dumps(base_input(labels={"k": "\ud800"}))
    assert '"\\ud800"' in doc
    res = run("create", input=doc)
    assert res.returncode == 1, res
    assert res.stderr == ""
    col = doc.index('\\ud800"') + len('\\ud800"')
    assert json.loads(res.stdout) == {
        "error": "failed to load network create: IO error: unexpected end of hex escape at "
                 f"line 1 column {col}"}
    # a proper pair is fine
    res = run("create", input=json.dumps(base_input(labels={"k": "\U0001f600"})))
    assert json.loads(res.stdout)["labels"] == {"k": "\U0001f600"}
