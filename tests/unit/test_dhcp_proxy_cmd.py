"""``netavark dhcp-proxy`` as a process (no root: sockets in a temp dir), the
client side used by ``setup``/``teardown``, and import hygiene."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from netavark.dhcp import proto, rpc_client
from netavark.dhcp.cache import LeaseCache
from netavark.errors import NetavarkError
from tests.conftest import LAUNCHER, ROOT

PYTHON = sys.executable


def start(args: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    full = dict(os.environ, RUST_LOG="info")
    full.pop("NETAVARK_PROXY_RUN_DIR_ENV", None)
    full.pop("LISTEN_FDS", None)
    full.update(env or {})
    return subprocess.Popen([PYTHON, LAUNCHER, "dhcp-proxy", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full, **kw)


def wait_path(path: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + 10
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.02)


def test_activity_timeout_exits_and_removes_socket(tmp_path):
    proc = start(["--dir", str(tmp_path), "-a", "1"])
    sock = tmp_path / "nv-proxy.sock"
    wait_path(str(sock), proc)
    # Clean does not reset the timer (only Setup/Teardown do) but rewrites the file
    assert proto.OperationResponse.decode(
        rpc_client.call(str(sock), proto.CLEAN_PATH, b"")).success
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == "timeout met: exiting after 1 secs of inactivity\n"
    assert not sock.exists()
    assert (tmp_path / "nv-proxy.lease").read_text() == "{}"  # Clean rewrote it


@pytest.mark.parametrize("sig, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_signals_remove_socket(tmp_path, sig, name):
    run_dir = tmp_path / "sub" / "dir"  # created as needed
    proc = start(["-d", str(tmp_path / "ignored"), "--uds", "/nonexistent", "-a", "0"],
                 env={"NETAVARK_PROXY_RUN_DIR_ENV": str(run_dir)})
    sock = run_dir / "nv-proxy.sock"
    wait_path(str(sock), proc)
    assert (run_dir / "nv-proxy.lease").read_text() == ""
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err == f"[WARN  netavark::commands::dhcp_proxy] Received {name}, cleaning up and " \
                  "exiting\n"
    assert not sock.exists()
    assert not (tmp_path / "ignored").exists()


def test_start_up_errors(tmp_path):
    (tmp_path / "nv-proxy.sock").write_text("")
    proc = start(["--dir", str(tmp_path)])
    out, _ = proc.communicate(timeout=10)
    assert (proc.returncode, json.loads(out)) == \
        (1, {"error": "IO error: Address already in use (os error 98)"})

    proc = start(["--dir", str(tmp_path)], env={"LISTEN_FDS": "2"})
    out, _ = proc.communicate(timeout=10)
    assert (proc.returncode, json.loads(out)) == \
        (1, {"error": "Received more than one FD from systemd"})

    d2 = tmp_path / "d2"
    (d2 / "nv-proxy.lease").mkdir(parents=True)
    proc = start(["--dir", str(d2)])
    out, _ = proc.communicate(timeout=10)
    assert (proc.returncode, json.loads(out)) == (1, {
        "error": "Exiting. Could not create lease cache file: Is a directory (os error 21)"})

    proc = start(["--timeout", "x"])
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 2 and "invalid value 'x' for '--timeout <TIMEOUT>'" in err


def test_socket_activation_keeps_the_socket(tmp_path):
    path = str(tmp_path / "activated.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)

    def as_fd3() -> None:
        os.dup2(listener.fileno(), 3)

    # dup2 clears close-on-exec on fd 3; close_fds would close it after preexec_fn
    proc = start(["--dir", str(tmp_path), "-a", "1"], env={"LISTEN_FDS": "1"},
                 preexec_fn=as_fd3, close_fds=False)
    listener.close()
    resp = proto.OperationResponse.decode(rpc_client.call(path, proto.CLEAN_PATH, b""))
    assert resp.success
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == "timeout met: exiting after 1 secs of inactivity\n"
    assert os.path.exists(path)  # it belongs to systemd
    assert not (tmp_path / "nv-proxy.sock").exists()


def test_teardown_of_unknown_mac(tmp_path):
    proc = start(["--dir", str(tmp_path), "-a", "0"])
    sock = str(tmp_path / "nv-proxy.sock")
    try:
        wait_path(sock, proc)
        req = proto.NetworkConfig(container_mac_addr="aa:bb:cc:dd:ee:ff")
        assert proto.Lease.decode(rpc_client.call(sock, proto.TEARDOWN_PATH, req.encode())) == \
            proto.Lease()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


# -- lease cache --------------------------------------------------------


def test_cache_file_format(tmp_path):
    path = tmp_path / "cache"
    with open(path, "w") as f:
        cache = LeaseCache(f)
        long = proto.Lease(yiaddr="10.0.0.50", gateways=["10.0.0.1"], t1=60, t2=105,
                           lease_time=120, host_name="averyveryverylonghostname")
        cache.add_lease("aa:bb:cc:dd:ee:ff", long)
        text = path.read_text()
        assert text.startswith('{"aa:bb:cc:dd:ee:ff":[{"t1":60,"t2":105,"lease_time":120,'
                               '"mtu":0,"domain_name":"","mac_address":"","is_v6":false,')
        assert text.endswith('"ntp_servers":[],"host_name":"averyveryverylonghostname"}]}')
        assert cache.remove_lease("aa:bb:cc:dd:ee:ff") == long
        # rewound before rewriting: no stale bytes or NULs from the longer content
        assert path.read_text() == "{}"
        assert cache.remove_lease("00:00:00:00:00:01") == proto.Lease()
        assert cache.is_empty()


# -- client side (netavark setup/teardown) ------------------------------


def lease_reply(monkeypatch, lease: proto.Lease) -> list:
    calls: list = []

    def fake_call(path: str, method: str, request: bytes) -> bytes:
        calls.append((path, method, proto.NetworkConfig.decode(request)))
        return lease.encode()

    monkeypatch.setattr(rpc_client, "call", fake_call)
    return calls


def test_get_dhcp_lease(monkeypatch):
    from netavark.network.dhcp import get_dhcp_lease

    calls = lease_reply(monkeypatch, proto.Lease(
        yiaddr="192.168.1.50", subnet_mask="255.255.255.0", gateways=["192.168.1.1", "x"],
        dns_servers=["192.168.1.1", "fd00::1"], domain_name="example.com"))
    subnets, dns, domain = get_dhcp_lease("br0", "eth0", "/run/netns/c", "aa:bb:cc:dd:ee:ff",
                                          "host", "cid")
    assert [s.to_json() for s in subnets] == [{"gateway": "192.168.1.1",
                                               "ipnet": "192.168.1.50/24"}]
    assert [str(d) for d in dns] == ["192.168.1.1", "fd00::1"]
    assert domain == ["example.com"]
    ((path, method, req),) = calls
    assert (path, method) == ("/run/podman/nv-proxy.sock", proto.SETUP_PATH)
    assert req == proto.NetworkConfig(
        host_iface="br0", container_iface="eth0", container_mac_addr="aa:bb:cc:dd:ee:ff",
        domain_name="", host_name="host", version=0, ns_path="/run/netns/c",
        container_id="cid")

    lease_reply(monkeypatch, proto.Lease(yiaddr="192.168.1.50", subnet_mask="255.255.0.0"))
    subnets, dns, domain = get_dhcp_lease("br0", "eth0", "/n", "m", "", "c")
    assert ([s.to_json() for s in subnets], dns, domain) == \
        ([{"gateway": None, "ipnet": "192.168.1.50/16"}], None, None)


@pytest.mark.parametrize("lease, msg", [
    (proto.Lease(yiaddr="1.2.3.4", subnet_mask="255.0.0.0", gateways=["nope"]),
     "bad gateway address: invalid IP address syntax"),
    (proto.Lease(yiaddr="1.2.3.4", subnet_mask="255.0.0.0", dns_servers=["1.2.3"]),
     "bad dns address: invalid IP address syntax"),
    (proto.Lease(yiaddr="", subnet_mask="255.0.0.0"), "invalid IP address syntax"),
    (proto.Lease(yiaddr="1.2.3.4", subnet_mask="::"), "invalid IPv4 address syntax"),
])
def test_get_dhcp_lease_errors(monkeypatch, lease, msg):
    from netavark.network.dhcp import get_dhcp_lease

    lease_reply(monkeypatch, lease)
    with pytest.raises(NetavarkError) as e:
        get_dhcp_lease("br0", "eth0", "/n", "m", "", "c")
    assert str(e.value) == msg


def test_proxy_errors_are_wrapped(monkeypatch):
    from netavark.dhcp.grpc import GrpcError
    from netavark.network import dhcp

    def fail(path: str, method: str, request: bytes) -> bytes:
        raise GrpcError(10, "Timeout: Timeout on acquiring DHCPv4 lease on eth0")

    monkeypatch.setattr(rpc_client, "call", fail)
    with pytest.raises(NetavarkError) as e:
        dhcp.get_dhcp_lease("eth0", "eth0", "/n", "m", "", "c")
    assert str(e.value) == ("unable to obtain lease: get DHCP lease: Timeout: Timeout on "
                            "acquiring DHCPv4 lease on eth0")
    with pytest.raises(NetavarkError) as e:
        dhcp.release_dhcp_lease("eth0", "eth0", "/n", "m")
    assert str(e.value) == "drop DHCP lease: Timeout: Timeout on acquiring DHCPv4 lease on eth0"

    def refused(path: str, method: str, request: bytes) -> bytes:
        raise rpc_client.ConnectError(f'socket "{path}": Connection refused (os error 111), '
                                      "is the netavark-dhcp-proxy.socket unit enabled?")

    monkeypatch.setattr(rpc_client, "call", refused)
    with pytest.raises(NetavarkError) as e:
        dhcp.get_dhcp_lease("eth0", "eth0", "/n", "m", "", "c")
    assert str(e.value) == ('unable to obtain lease: socket "/run/podman/nv-proxy.sock": '
                            "Connection refused (os error 111), is the "
                            "netavark-dhcp-proxy.socket unit enabled?")
    with pytest.raises(NetavarkError) as e:
        dhcp.release_dhcp_lease("eth0", "eth0", "/n", "m")
    assert str(e.value).startswith('socket "/run/podman/nv-proxy.sock": Connection refused')


def test_client_side_imports_stay_small(tmp_path):
    """What ``setup`` loads for a DHCP lease: no asyncio, socket, typing, logging."""
    code = f"""
import sys
sys.path.insert(0, {ROOT!r})
import netavark.config, netavark.serde, netavark.cli  # loaded by every setup anyway
before = set(sys.modules)
from netavark.network import dhcp
assert "netavark.dhcp.h2" not in sys.modules  # nothing until a lease is asked for
dhcp.DEFAULT_UDS_PATH = {str(tmp_path / "none.sock")!r}
try:
    dhcp.get_dhcp_lease("e", "e", "/n", "m", "", "c")
except Exception as e:
    assert "No such file" in str(e), e
bad = [m for m in ("asyncio", "socket", "typing", "logging", "dataclasses", "enum",
                   "subprocess", "json", "ctypes", "random")
       if m in set(sys.modules) - before]
print(",".join(bad))
"""
    res = subprocess.run([PYTHON, "-I", "-c", code], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""
