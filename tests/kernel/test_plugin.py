"""External network-driver plugins: exec protocol, results and errors."""

from __future__ import annotations

import json
import os
import stat
import sys

PLUGIN = r'''#!PYTHON
import json, sys
cmd = sys.argv[1]
doc = json.load(sys.stdin)
sys.stderr.write(f"plugin {cmd}\n")
with open(sys.argv[0] + ".log", "a") as f:
    f.write(json.dumps([cmd, sys.argv[2:], doc]) + "\n")
if doc["network"]["options"].get("fail") == cmd:
    print(json.dumps({"error": f"{cmd} error"}))
    sys.exit(3)
if cmd == "setup":
    print(json.dumps({"interfaces": {"eth0": {"mac_address": "aa:bb:cc:dd:ee:ff",
                                              "subnets": [{"ipnet": "10.1.0.2/24"}]}}}))
'''


def make_plugin(tmp_path) -> str:
    path = tmp_path / "myplug"
    path.write_text(PLUGIN.replace("PYTHON", sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(tmp_path)


def doc(fail: str = "") -> dict:
    return {"container_id": "c1", "container_name": "n1",
            "networks": {"pnet": {"interface_name": "eth0"}},
            "network_info": {"pnet": {"name": "pnet", "id": "ab" * 32, "driver": "myplug",
                                      "ipv6_enabled": False, "internal": False,
                                      "dns_enabled": False, "options": {"fail": fail}}}}


def test_plugin_setup_and_teardown(netavark, container, tmp_path):
    plugdir = make_plugin(tmp_path)
    res = netavark("--plugin-directory", plugdir, "setup", container.path, input=doc())
    assert res.returncode == 0, res
    assert res.stderr.startswith("plugin setup\n")
    assert json.loads(res.stdout) == {"pnet": {
        "dns_search_domains": None, "dns_server_ips": None,
        "interfaces": {"eth0": {"mac_address": "aa:bb:cc:dd:ee:ff",
                                "subnets": [{"gateway": None, "ipnet": "10.1.0.2/24"}]}}}}
    res = netavark("--plugin-directory", plugdir, "teardown", "/proc/does-not-exist/ns/net",
                   input=doc())
    assert res.returncode == 0 and res.stdout == "", res
    with open(os.path.join(plugdir, "myplug.log")) as f:
        calls = [json.loads(line) for line in f]
    assert [c[0] for c in calls] == ["setup", "teardown"]
    assert calls[1][1] == ["/proc/does-not-exist/ns/net"]
    sent = calls[0][2]
    assert list(sent) == ["container_id", "container_name", "port_mappings", "network",
                          "network_options"]
    assert sent["network_options"] == {"aliases": None, "interface_name": "eth0",
                                       "static_ips": None, "static_mac": None, "options": None}


def test_plugin_errors(netavark, container, tmp_path):
    plugdir = make_plugin(tmp_path)
    res = netavark("--plugin-directory", plugdir, "setup", container.path, input=doc("setup"))
    assert res.returncode == 1
    assert res.stdout == ('{"error":"plugin \\"myplug\\" failed: exit code 3, message: setup '
                          'error"}\n')
    res = netavark("setup", container.path, input=doc())
    assert json.loads(res.stdout) == {"error": 'unknown network driver "myplug"'}
