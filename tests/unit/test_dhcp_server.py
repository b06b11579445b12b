"""The gRPC server and client over a Unix socket, against real gRPC clients.

python3-grpcio (gRPC C core) and curl (nghttp2) are independent HTTP/2 and
HPACK implementations; our own blocking client is checked against the server
too.  No root needed.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading

import pytest

from netavark.dhcp import grpc, h2, proto, rpc_client
from netavark.dhcp.server import connection_handler


class FakeService:
    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.started = threading.Event()

    async def setup(self, nc: proto.NetworkConfig) -> proto.Lease:
        if nc.host_iface == "slow":
            self.started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        if nc.host_iface == "bad":
            raise grpc.GrpcError(grpc.INVALID_ARGUMENT, "unable to parse mac address ü: 100%\n")
        return proto.Lease(yiaddr="10.1.2.3", mac_address=nc.container_mac_addr,
                           gateways=["10.1.2.1"], dns_servers=["10.1.2.1", "10.1.2.2"],
                           subnet_mask="255.255.255.0", lease_time=120, host_name=nc.host_name)

    async def teardown(self, nc: proto.NetworkConfig) -> proto.Lease:
        return proto.Lease()

    async def clean(self, _req: proto.Empty) -> proto.OperationResponse:
        return proto.OperationResponse(success=True)

    def methods(self) -> dict:
        return {proto.SETUP_PATH: (proto.NetworkConfig, self.setup),
                proto.TEARDOWN_PATH: (proto.NetworkConfig, self.teardown),
                proto.CLEAN_PATH: (proto.Empty, self.clean)}


@pytest.fixture
def server(tmp_path):
    """Our server on a Unix socket, running in a thread; yields (path, service)."""
    path = str(tmp_path / "nv-proxy.sock")
    service = FakeService()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict = {}

    async def main() -> None:
        srv = await asyncio.start_unix_server(connection_handler(service.methods()), path=path)
        state["stop"] = asyncio.Event()
        ready.set()
        await state["stop"].wait()
        srv.close()
        await srv.wait_closed()

    t = threading.Thread(target=lambda: loop.run_until_complete(main()))
    t.start()
    assert ready.wait(10)
    yield path, service
    loop.call_soon_threadsafe(state["stop"].set)
    t.join(10)
    loop.close()


def config(iface: str = "eth0") -> proto.NetworkConfig:
    return proto.NetworkConfig(host_iface=iface, container_iface="eth0",
                               container_mac_addr="aa:bb:cc:dd:ee:ff", host_name="foo",
                               ns_path="/run/netns/x", container_id="c1")


def test_our_client(server):
    path, _ = server
    lease = proto.Lease.decode(rpc_client.call(path, proto.SETUP_PATH, config().encode()))
    assert (lease.yiaddr, lease.host_name, lease.dns_servers) == \
        ("10.1.2.3", "foo", ["10.1.2.1", "10.1.2.2"])
    with pytest.raises(grpc.GrpcError) as e:
        rpc_client.call(path, proto.SETUP_PATH, config("bad").encode())
    assert (e.value.code, e.value.message) == \
        (grpc.INVALID_ARGUMENT, "unable to parse mac address ü: 100%\n")
    with pytest.raises(grpc.GrpcError) as e:
        rpc_client.call(path, "/netavark_proxy.NetavarkProxy/Nope", b"")
    assert e.value.code == grpc.UNIMPLEMENTED
    resp = proto.OperationResponse.decode(rpc_client.call(path, proto.CLEAN_PATH, b""))
    assert resp.success is True


def test_grpcio_client(server):
    grpc_mod = pytest.importorskip("grpc", reason="python3-grpcio is not installed")
    path, _ = server
    with grpc_mod.insecure_channel("unix:" + path,
                                   options=[("grpc.enable_http_proxy", 0)]) as ch:
        def rpc(method: str):
            return ch.unary_unary(method, request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)

        for _ in range(3):  # several calls on one connection: HPACK state carries over
            raw = rpc(proto.SETUP_PATH)(config().encode(), timeout=10)
            assert proto.Lease.decode(raw).gateways == ["10.1.2.1"]
        with pytest.raises(grpc_mod.RpcError) as e:
            rpc(proto.SETUP_PATH)(config("bad").encode(), timeout=10)
        assert e.value.code() == grpc_mod.StatusCode.INVALID_ARGUMENT
        assert e.value.details() == "unable to parse mac address ü: 100%\n"
        with pytest.raises(grpc_mod.RpcError) as e:
            rpc("/netavark_proxy.NetavarkProxy/Nope")(b"", timeout=10)
        assert e.value.code() == grpc_mod.StatusCode.UNIMPLEMENTED
        big = config()
        big.host_name = "x" * 100_000  # several DATA frames, flow-controlled
        assert proto.Lease.decode(rpc(proto.SETUP_PATH)(big.encode(), timeout=10)).host_name \
            == big.host_name


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_nghttp2_client(server, tmp_path):
    path, _ = server
    body = tmp_path / "req"
    body.write_bytes(grpc.frame_message(b""))
    res = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--unix-socket", path,
         "-H", "content-type: application/grpc", "-H", "te: trailers",
         "--data-binary", f"@{body}", "-D", "-", "-o", str(tmp_path / "out"),
         "http://localhost" + proto.CLEAN_PATH],
        capture_output=True, text=True, timeout=30)
    if "--http2-prior-knowledge" in res.stderr and "unknown" in res.stderr:
        pytest.skip("curl built without HTTP/2")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("HTTP/2 200")
    assert "content-type: application/grpc" in res.stdout
    data = (tmp_path / "out").read_bytes()
    assert grpc.MessageReader().feed(data) == [proto.OperationResponse(success=True).encode()]


def test_disconnect_cancels_the_call(server):
    path, service = server
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    conn = h2.Connection(client=True)
    sid = conn.new_stream_id()
    conn.send_headers(sid, grpc.request_headers(proto.SETUP_PATH, "[::1]", "t"))
    conn.send_data(sid, grpc.frame_message(config("slow").encode()), end_stream=True)
    sock.sendall(conn.outbound())
    assert service.started.wait(10)
    sock.close()
    assert service.cancelled.wait(10)


def test_rst_stream_cancels_the_call(server):
    path, service = server
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        conn = h2.Connection(client=True)
        sid = conn.new_stream_id()
        conn.send_headers(sid, grpc.request_headers(proto.SETUP_PATH, "[::1]", "t"))
        conn.send_data(sid, grpc.frame_message(config("slow").encode()), end_stream=True)
        sock.sendall(conn.outbound())
        assert service.started.wait(10)
        conn.reset_stream(sid, h2.CANCEL)
        sock.sendall(conn.outbound())
        assert service.cancelled.wait(10)


def test_connect_errors(tmp_path):
    missing = str(tmp_path / "none.sock")
    with pytest.raises(rpc_client.ConnectError) as e:
        rpc_client.call(missing, proto.SETUP_PATH, b"")
    assert str(e.value) == (f'socket "{missing}": No such file or directory (os error 2), '
                            "is the netavark-dhcp-proxy.socket unit enabled?")
    stale = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(stale)
    s.close()  # the file stays, nobody listens
    with pytest.raises(rpc_client.ConnectError) as e:
        rpc_client.call(stale, proto.SETUP_PATH, b"")
    assert str(e.value) == (f'socket "{stale}": Connection refused (os error 111), '
                            "is the netavark-dhcp-proxy.socket unit enabled?")


def test_server_answers_garbage_with_goaway(server):
    path, _ = server
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        sock.settimeout(5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    frames = []
    while data:
        f, used = h2.parse_frame(data, 1 << 24)
        frames.append(f.type)
        data = data[used:]
    assert frames[0] == h2.SETTINGS and frames[-1] == h2.GOAWAY
