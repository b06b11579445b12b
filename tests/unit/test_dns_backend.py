"""The built-in server's decisions: who sees which names, what gets forwarded where."""

from __future__ import annotations

import os

import pytest

from netavark.dns import wire
from netavark.dns.backend import DROP, FORWARD, LOCAL, Backend, decide, load_config_dir
from netavark.dns.resolvconf import parse_resolv_conf
from netavark.dns.wire import Message, Question, Record
from netavark.errors import NetavarkError
from netavark.ip import IpAddr

NET_A = ("10.1.0.1,fd01::1 9.9.9.9\n"
         "aaaa 10.1.0.2 fd01::2 alpha,shared\n"
         "bbbb 10.1.0.3  beta 8.8.8.8,8.8.4.4\n"
         "mmmm 10.1.0.9  multi\n")
NET_B = ("10.2.0.1\n"
         "cccc 10.2.0.2  gamma,shared\n"
         "mmmm 10.2.0.9  multi\n")
NET_I = ("10.3.0.1\n"
         "iiii 10.3.0.2  inner\n")


def ip(text: str) -> bytes:
    return IpAddr.parse(text).packed


@pytest.fixture
def backend() -> Backend:
    b = Backend()
    b.add_network("a", False, NET_A)
    b.add_network("b", False, NET_B)
    b.add_network("i", True, NET_I)
    b.finish()
    return b


def query(name: str, qtype: int = wire.TYPE_A, flags: int = wire.RD) -> bytes:
    labels = tuple(x.encode() for x in name.rstrip(".").split(".") if x)
    return Message(0x1234, flags, [Question(labels, qtype)]).encode()


def ask(backend: Backend, name: str, qtype: int = wire.TYPE_A, src: str | None = "10.1.0.2",
        network: str = "a", no_proxy: bool = False, flags: int = wire.RD):
    data = query(name, qtype, flags)
    kind, value = decide(backend, network, ip(src) if src else None, wire.parse_query(data),
                         data, no_proxy)
    if kind == LOCAL:
        return kind, Message.parse(value)  # type: ignore[arg-type]
    return kind, value


def addrs(msg: Message) -> list[str]:
    return [str(IpAddr.from_bytes(rr.rdata)) for rr in msg.answers]


def test_a_and_aaaa_with_ttl_0(backend):
    kind, msg = ask(backend, "alpha", wire.TYPE_A)
    assert kind == LOCAL and addrs(msg) == ["10.1.0.2"]
    assert msg.answers[0].ttl == 0
    assert msg.flags == wire.QR | wire.RD | wire.RA
    _, msg = ask(backend, "alpha.dns.podman.", wire.TYPE_AAAA)
    assert addrs(msg) == ["fd01::2"]
    # only the other family exists: NOERROR without answers
    _, msg = ask(backend, "beta", wire.TYPE_AAAA)
    assert msg.rcode == wire.NOERROR and msg.answers == []


def test_names_are_case_insensitive(backend):
    _, msg = ask(backend, "ALPHA.Dns.Podman", wire.TYPE_A)
    assert addrs(msg) == ["10.1.0.2"]
    assert msg.answers[0].labels == (b"ALPHA", b"Dns", b"Podman")


def test_network_isolation(backend):
    # a container on network a does not see names of network b
    assert ask(backend, "gamma.dns.podman")[1].rcode == wire.NXDOMAIN
    assert ask(backend, "gamma")[0] == FORWARD
    # names on several networks: all addresses the client may see
    _, msg = ask(backend, "shared", src="10.1.0.9")
    assert addrs(msg) == ["10.1.0.2", "10.2.0.2"]
    _, msg = ask(backend, "shared", src="10.1.0.2")
    assert addrs(msg) == ["10.1.0.2"]
    # a container on both networks sees both (every ip of it, whatever network)
    _, msg = ask(backend, "gamma", src="10.1.0.9")
    assert addrs(msg) == ["10.2.0.2"]
    # unknown clients only see the network they asked on
    _, msg = ask(backend, "gamma", src="192.168.1.1", network="b")
    assert addrs(msg) == ["10.2.0.2"]
    assert ask(backend, "gamma", src="192.168.1.1", network="a")[0] == FORWARD


def test_reverse_lookups(backend):
    _, msg = ask(backend, "2.0.1.10.in-addr.arpa", wire.TYPE_PTR)
    assert [rr.rdata for rr in msg.answers] == [b"\x05alpha\x00", b"\x06shared\x00"]
    assert all(rr.labels == (b"2", b"0", b"1", b"10", b"in-addr", b"arpa")
               for rr in msg.answers)
    v6 = ".".join(reversed("fd010000000000000000000000000002")) + ".ip6.arpa"
    _, msg = ask(backend, v6, wire.TYPE_PTR)
    assert [rr.rdata for rr in msg.answers] == [b"\x05alpha\x00", b"\x06shared\x00"]
    # not visible from the client's networks, or client unknown: forwarded
    assert ask(backend, "2.0.2.10.in-addr.arpa", wire.TYPE_PTR)[0] == FORWARD
    assert ask(backend, "2.0.1.10.in-addr.arpa", wire.TYPE_PTR, src="192.168.1.1")[0] \
        == FORWARD
    # the suffix is matched as received: upper case is not a reverse name
    assert ask(backend, "2.0.1.10.IN-ADDR.ARPA", wire.TYPE_PTR)[0] == FORWARD


def test_nxdomain_vs_forward(backend):
    assert ask(backend, "nothere.dns.podman")[1].rcode == wire.NXDOMAIN
    # aardvark-dns compares the name as received with the search domain
    assert ask(backend, "NOTHERE.DNS.PODMAN")[0] == FORWARD
    assert ask(backend, "example.com")[0] == FORWARD
    assert ask(backend, "example.com", no_proxy=True)[1].rcode == wire.NXDOMAIN
    # other types for container names are forwarded too (as aardvark-dns does)
    assert ask(backend, "alpha", 15)[0] == FORWARD


def test_internal_only_clients_get_no_forwarding(backend):
    _, msg = ask(backend, "inner", src="10.3.0.2", network="i")
    assert addrs(msg) == ["10.3.0.2"]
    _, msg = ask(backend, "example.com", src="10.3.0.2", network="i")
    assert msg.rcode == wire.NXDOMAIN and msg.answers == []


def test_upstream_choice(backend):
    # container servers first
    assert ask(backend, "example.com", src="10.1.0.3")[1] == [IpAddr.parse("8.8.8.8"),
                                                             IpAddr.parse("8.8.4.4")]
    # then the network servers of all its networks
    assert ask(backend, "example.com", src="10.1.0.2")[1] == [IpAddr.parse("9.9.9.9")]
    assert ask(backend, "example.com", src="10.2.0.9")[1] == [IpAddr.parse("9.9.9.9")]
    # none configured / unknown client: the host's resolvers (None)
    assert ask(backend, "example.com", src="10.2.0.2")[1] is None
    assert ask(backend, "example.com", src="172.16.0.1")[1] is None


def test_odd_requests(backend):
    resp = Message(1, wire.QR, [Question((b"alpha",), 1)]).encode()
    assert decide(backend, "a", None, wire.parse_query(resp), resp, False) == (DROP, None)
    empty = Message(2, wire.RD).encode()
    kind, value = decide(backend, "a", None, wire.parse_query(empty), empty, False)
    assert kind == LOCAL and Message.parse(value).rcode == wire.FORMERR  # type: ignore[arg-type]
    notify = query("alpha", flags=4 << 11)
    kind, value = decide(backend, "a", None, wire.parse_query(notify), notify, False)
    assert Message.parse(value).rcode == wire.NOTIMP  # type: ignore[arg-type]


def test_edns_echoed(backend):
    data = Message(9, wire.RD, [Question((b"alpha",), 1)],
                   additionals=[Record((), wire.TYPE_OPT, 4096, 0, b"\x00\x0a\x00\x02ab")]
                   ).encode()
    _, reply = decide(backend, "a", ip("10.1.0.2"), wire.parse_query(data), data, False)
    assert Message.parse(reply).additionals == [  # type: ignore[arg-type]
        Record((), wire.TYPE_OPT, 4096, 0, b"\x00\x0a\x00\x02ab")]


def test_load_config_dir(tmp_path):
    d = tmp_path / "aardvark-dns"
    d.mkdir()
    (d / "a").write_text(NET_A)
    (d / "i%int").write_text(NET_I)
    (d / "aardvark.pid").write_text("123")
    (d / "broken").write_text("not-an-ip\n")
    (d / "headeronly").write_text("10.9.0.1\n")
    errors = []
    b = load_config_dir(str(d), on_file_error=lambda p, e: errors.append((p, str(e))))
    assert errors == [(str(d / "broken"), "error parsing ip address not-an-ip: invalid IP "
                                          "address syntax")]
    assert sorted(b.listen) == ["a", "headeronly", "i"]
    assert b.internal == {"a": False, "i": True}
    assert b.net_dns == {"a": [IpAddr.parse("9.9.9.9")], "i": []}
    assert b.lookup(ip("10.3.0.2"), "i", "inner") == [ip("10.3.0.2")]
    with pytest.raises(NetavarkError, match="No such file"):
        load_config_dir(str(tmp_path / "missing"))
    bad = d / os.fsdecode(b"\xff")
    bad.write_text(NET_B)
    with pytest.raises(NetavarkError, match="non-UTF8"):
        load_config_dir(str(d))


def test_resolv_conf_parsing():
    def addrs_of(text):
        return [a[0] for a in parse_resolv_conf(text)]

    assert addrs_of("nameserver 1.1.1.1") == ["1.1.1.1"]
    assert addrs_of("# c\n  nameserver 1.1.1.1 # x\nnameserver 1.1.1.2#y\n  #z\n"
                    "nameserver 1.1.1.3;w\n") == ["1.1.1.1", "1.1.1.2", "1.1.1.3"]
    assert addrs_of("hey\nnameserver 1.1.1.1\nnameserver 1.1.1.2 more\nsearch x\n"
                    "nameserver 1.1.1.3\nnameserver 1.1.1.4\n") == ["1.1.1.1", "1.1.1.2",
                                                                    "1.1.1.3"]
    assert parse_resolv_conf("nameserver fdfd:733b:dc3:220b::2\n") == [
        ("fdfd:733b:dc3:220b::2", 53, 0, 0)]
    assert parse_resolv_conf("nameserver fe80::1%lo\n") == [("fe80::1", 53, 0, 1)]
    assert parse_resolv_conf("nameserver fe80::1%1\n") == [("fe80::1", 53, 0, 1)]
    with pytest.raises(NetavarkError, match="abc: parse address"):
        parse_resolv_conf("nameserver abc")
    with pytest.raises(NetavarkError, match="scope id not supported for ipv4 address"):
        parse_resolv_conf("nameserver 1.1.1.1%1")
