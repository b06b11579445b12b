"""The built-in server's event loop, in-process on loopback addresses (no root).

The server runs in the test's main thread; clients and stub upstream
resolvers run in threads.  Upstream servers are asked on a test port instead
of 53 (``Server(upstream_port=...)``).
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time

import pytest

from netavark.dns import server as server_mod
from netavark.dns import wire
from netavark.dns.dnslog import DEBUG, Log
from netavark.dns.server import Server
from netavark.dns.wire import Message, Question, Record


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t.bind(("127.0.0.1", port))
        return port


class Stub:
    """An upstream resolver on ``ip``: answers A queries with ``answer`` (UDP and TCP).

    ``truncate_udp`` makes UDP answers empty with TC set; ``silent`` never answers.
    """

    def __init__(self, ip: str, port: int, answer: str, truncate_udp: bool = False,
                 silent: bool = False) -> None:
        self.answer = socket.inet_aton(answer)
        self.truncate_udp = truncate_udp
        self.silent = silent
        self.queries: list[tuple[str, bytes]] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((ip, port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ip, port))
        self.tcp.listen(8)
        self.stop = False
        self.threads = [threading.Thread(target=self._udp, daemon=True),
                        threading.Thread(target=self._tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def reply(self, data: bytes, tcp: bool) -> bytes:
        msg = Message.parse(data)
        resp = Message(msg.id, wire.QR | (msg.flags & wire.RD), msg.questions)
        if self.truncate_udp and not tcp:
            resp.flags |= wire.TC
        else:
            resp.answers = [Record(msg.questions[0].labels, 1, 1, 300, self.answer)]
        return resp.encode()

    def _udp(self) -> None:
        self.udp.settimeout(0.1)
        while not self.stop:
            try:
                data, addr = self.udp.recvfrom(4096)
            except OSError:
                continue
            self.queries.append(("udp", data))
            if not self.silent:
                self.udp.sendto(self.reply(data, False), addr)

    def _tcp(self) -> None:
        self.tcp.settimeout(0.1)
        while not self.stop:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                size = struct.unpack("!H", _recv_exact(conn, 2))[0]
                data = _recv_exact(conn, size)
                self.queries.append(("tcp", data))
                if not self.silent:
                    out = self.reply(data, True)
                    conn.sendall(struct.pack("!H", len(out)) + out)

    def close(self) -> None:
        self.stop = True
        for t in self.threads:
            t.join()
        self.udp.close()
        self.tcp.close()


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def query(name: str, qtype: int = wire.TYPE_A, qid: int = 0x4242, edns: int = 0) -> bytes:
    labels = tuple(x.encode() for x in name.split(".") if x)
    extra = [Record((), wire.TYPE_OPT, edns, 0, b"")] if edns else []
    return Message(qid, wire.RD, [Question(labels, qtype)], additionals=extra).encode()


def udp_ask(port: int, data: bytes, src: str = "127.0.0.5", timeout: float = 3) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.sendto(data, ("127.0.0.1", port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def tcp_ask(port: int, *datas: bytes, src: str = "127.0.0.5") -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5,
                                  source_address=(src, 0)) as s:
        for d in datas:
            s.sendall(struct.pack("!H", len(d)) + d)
        return [_recv_exact(s, struct.unpack("!H", _recv_exact(s, 2))[0]) for _ in datas]


class Harness:
    def __init__(self, tmp_path, config: dict[str, str], resolv: str = "") -> None:
        self.dir = tmp_path / "aardvark-dns"
        self.dir.mkdir()
        for name, content in config.items():
            (self.dir / name).write_text(content)
        (self.dir / "aardvark.pid").write_text(str(os.getpid()))
        self.resolv = tmp_path / "resolv.conf"
        self.resolv.write_text(resolv)
        self.port = free_port()
        self.upstream_port = free_port()
        self.logs: list[str] = []
        self.server = Server(str(self.dir), self.port, ".dns.podman",
                             Log(DEBUG, lambda lvl, msg: self.logs.append(msg)),
                             resolv_conf=str(self.resolv), upstream_port=self.upstream_port)
        assert self.server.reload(True) == []

    def run(self, client) -> object:
        """Serve until ``client()`` (run in a thread) returns; returns its result."""
        result: dict[str, object] = {}

        def target() -> None:
            try:
                result["value"] = client()
            except BaseException as e:
                result["error"] = e

        t = threading.Thread(target=target, daemon=True)
        t.start()

        def check() -> None:
            if t.is_alive():
                self.server.schedule(0.01, check)
            else:
                self.server.stop(0)

        self.server.schedule(0.01, check)
        self.server.stop_code = None
        self.server.serve_forever()
        t.join()
        if "error" in result:
            raise result["error"]  # type: ignore[misc]
        return result.get("value")

    def close(self) -> None:
        for lst in list(self.server.listeners.values()):
            self.server._stop_listener(lst)
        for conn in list(self.server.tcp_conns.values()):
            conn.close()
        self.server.ep.close()


@pytest.fixture
def make(tmp_path):
    made: list[Harness] = []
    stubs: list[Stub] = []

    def factory(config: dict[str, str], resolv: str = "") -> Harness:
        h = Harness(tmp_path, config, resolv)
        made.append(h)
        return h

    factory.stubs = stubs  # type: ignore[attr-defined]
    yield factory
    for s in stubs:
        s.close()
    for h in made:
        h.close()


def stub(make, h: Harness, ip: str, answer: str, **kw) -> Stub:
    s = Stub(ip, h.upstream_port, answer, **kw)
    make.stubs.append(s)
    return s


CONFIG = {"net": "127.0.0.1\nc1 127.0.0.5  web,www\nc2 127.0.0.6  db 127.0.0.3\n"}


def test_udp_answers_and_cache(make):
    h = make(CONFIG)

    def client():
        first = udp_ask(h.port, query("web", qid=1))
        second = udp_ask(h.port, query("web", qid=2))
        return first, second

    first, second = h.run(client)
    m1, m2 = Message.parse(first), Message.parse(second)
    assert (m1.id, m2.id) == (1, 2)
    assert [rr.rdata for rr in m1.answers] == [bytes([127, 0, 0, 5])]
    assert first[2:] == second[2:]
    assert len(h.server.cache) == 1


def test_tcp_several_queries_on_one_connection(make):
    h = make(CONFIG)
    replies = h.run(lambda: tcp_ask(h.port, query("web", qid=7), query("db.dns.podman", qid=8),
                                    query("nope.dns.podman", qid=9)))
    msgs = [Message.parse(r) for r in replies]
    assert [m.id for m in msgs] == [7, 8, 9]
    assert [rr.rdata for rr in msgs[1].answers] == [bytes([127, 0, 0, 6])]
    assert msgs[2].rcode == wire.NXDOMAIN
    h.run(lambda: time.sleep(0.1))  # let the server see the client close
    assert h.server.tcp_conns == {} and h.server.armed == set()


def test_idle_tcp_connection_is_closed(make, monkeypatch):
    monkeypatch.setattr(server_mod, "TCP_IDLE", 0.3)
    h = make(CONFIG)

    def client():
        with socket.create_connection(("127.0.0.1", h.port), timeout=5) as s:
            start = time.monotonic()
            assert s.recv(10) == b""  # closed by the server
            return time.monotonic() - start

    assert 0.2 < h.run(client) < 3
    assert h.server.tcp_conns == {}


def test_garbage_never_stops_the_server(make):
    h = make(CONFIG)

    def client():
        for data in (b"", b"\x00", os.urandom(11), os.urandom(40), b"\xff" * 300,
                     query("web")[:20]):
            assert udp_ask(h.port, data, timeout=0.2) is None
        with socket.create_connection(("127.0.0.1", h.port), timeout=5) as s:
            s.sendall(b"\x00\x05hello")
            assert s.recv(10) == b""  # parse error: connection dropped
        return udp_ask(h.port, query("www"))

    assert Message.parse(h.run(client)).answers[0].rdata == bytes([127, 0, 0, 5])


def test_forward_udp_and_tcp_to_container_server(make):
    h = make(CONFIG)
    up = stub(make, h, "127.0.0.3", "192.0.2.1")

    def client():
        return (udp_ask(h.port, query("example.com", qid=11), src="127.0.0.6"),
                tcp_ask(h.port, query("example.com", qid=12), src="127.0.0.6")[0])

    udp, tcp = h.run(client)
    for raw, qid in ((udp, 11), (tcp, 12)):
        msg = Message.parse(raw)
        assert msg.id == qid
        assert msg.flags & wire.RA
        assert msg.answers[0].rdata == bytes([192, 0, 2, 1])
    assert [proto for proto, _ in up.queries] == ["udp", "tcp"]
    # the upstream saw a fresh id, not the client's
    assert all(Message.parse(d).questions == [Question((b"example", b"com"), 1)]
               for _, d in up.queries)


def test_forward_falls_back_to_second_server_after_share_of_timeout(make, monkeypatch):
    monkeypatch.setattr(server_mod, "FORWARD_BUDGET", 1.0)
    h = make({"net": "127.0.0.1 127.0.0.2,127.0.0.3\nc1 127.0.0.5  web\n"})
    dead = stub(make, h, "127.0.0.2", "192.0.2.9", silent=True)
    stub(make, h, "127.0.0.3", "192.0.2.1")

    def client():
        start = time.monotonic()
        reply = udp_ask(h.port, query("example.com"))
        return reply, time.monotonic() - start

    reply, took = h.run(client)
    assert Message.parse(reply).answers[0].rdata == bytes([192, 0, 2, 1])
    assert 0.45 < took < 1.0  # 1 s budget shared by two servers
    assert len(dead.queries) == 1
    # nothing left behind: no forward, no socket, no timer
    assert h.server.forwards == set() and h.server.armed == set()
    assert set(h.server.handlers) == {fd for lst in h.server.listeners.values()
                                      for fd in (lst.udp.fileno(), lst.tcp.fileno())}


def test_no_answer_from_anyone_means_no_reply(make, monkeypatch):
    monkeypatch.setattr(server_mod, "FORWARD_BUDGET", 0.4)
    h = make({"net": "127.0.0.1 127.0.0.2\nc1 127.0.0.5  web\n"})
    stub(make, h, "127.0.0.2", "192.0.2.9", silent=True)
    assert h.run(lambda: udp_ask(h.port, query("example.com"), timeout=1)) is None
    assert h.server.forwards == set()


def test_truncated_upstream_answer_then_tcp(make):
    h = make(CONFIG)
    stub(make, h, "127.0.0.3", "192.0.2.1", truncate_udp=True)

    def client():
        first = Message.parse(udp_ask(h.port, query("big.example", qid=3), src="127.0.0.6"))
        assert first.flags & wire.TC and first.answers == []
        return Message.parse(tcp_ask(h.port, query("big.example", qid=4), src="127.0.0.6")[0])

    assert h.run(client).answers[0].rdata == bytes([192, 0, 2, 1])


def test_large_local_answer_truncated_over_udp_only(make):
    lines = "".join(f"c{i} 127.0.1.{i}  many\n" for i in range(1, 61))
    h = make({"net": "127.0.0.1\n" + lines})

    def client():
        return (udp_ask(h.port, query("many")), udp_ask(h.port, query("many", edns=4096)),
                tcp_ask(h.port, query("many"))[0])

    small, edns, tcp = (Message.parse(r) for r in h.run(client))
    assert small.flags & wire.TC and small.answers == []
    assert len(edns.answers) == 60 and not edns.flags & wire.TC
    assert len(tcp.answers) == 60


def test_host_resolvers_reread_when_resolv_conf_changes(make):
    h = make({"net": "127.0.0.1\nc1 127.0.0.5  web\n"}, resolv="nameserver 127.0.0.2\n")
    stub(make, h, "127.0.0.2", "192.0.2.2")
    stub(make, h, "127.0.0.3", "192.0.2.3")

    def client():
        first = Message.parse(udp_ask(h.port, query("example.com")))
        time.sleep(0.01)
        h.resolv.write_text("# changed\nnameserver 127.0.0.3\n")
        second = Message.parse(udp_ask(h.port, query("example.org")))
        return first, second

    first, second = h.run(client)
    assert first.answers[0].rdata == bytes([192, 0, 2, 2])
    assert second.answers[0].rdata == bytes([192, 0, 2, 3])


def test_reload_swaps_data_and_exits_without_networks(make):
    h = make(CONFIG)
    assert Message.parse(h.run(lambda: udp_ask(h.port, query("web")))).answers
    (h.dir / "net").write_text("127.0.0.1\nc9 127.0.0.9  newname\n")
    assert h.server.reload(False) == []
    assert h.server.cache == {}
    replies = h.run(lambda: (udp_ask(h.port, query("newname.dns.podman")),
                             udp_ask(h.port, query("web.dns.podman"))))
    new, old = (Message.parse(r) for r in replies)
    assert new.answers[0].rdata == bytes([127, 0, 0, 9])
    assert old.rcode == wire.NXDOMAIN
    (h.dir / "net").unlink()
    h.server.reload(False)
    assert h.server.stop_code == 0
    assert not (h.dir / "aardvark.pid").exists()


def test_bind_error_text(make, tmp_path):
    h = make(CONFIG)
    errors = Server(str(h.dir), h.port, ".dns.podman", Log(0, lambda *a: None),
                    resolv_conf=str(h.resolv)).reload(True)
    assert errors == [f"failed to bind udp listener on 127.0.0.1:{h.port}: IO error: "
                      "Address already in use (os error 98)"]


def test_network_added_while_exiting_keeps_server(make, monkeypatch):
    h = make(CONFIG)
    (h.dir / "net").unlink()
    real = server_mod.load_config_dir
    calls = []

    def racing_load(*args, **kw):
        backend = real(*args, **kw)
        if not calls:
            # a setup writes its network right after the directory was read
            (h.dir / "net2").write_text("127.0.0.1\nc7 127.0.0.7  late\n")
        calls.append(1)
        return backend

    monkeypatch.setattr(server_mod, "load_config_dir", racing_load)
    h.server.reload(False)
    assert h.server.stop_code is None
    assert (h.dir / "aardvark.pid").read_text() == str(os.getpid())
    assert h.server.hup  # the loop reloads and serves the new network
    monkeypatch.setattr(server_mod, "load_config_dir", real)
    h.server.hup = False
    assert h.server.reload(False) == []
    reply = h.run(lambda: udp_ask(h.port, query("late")))
    assert Message.parse(reply).answers[0].rdata == bytes([127, 0, 0, 7])
