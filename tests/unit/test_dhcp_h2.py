"""HTTP/2 connection state machine and gRPC framing (sans-IO)."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netavark.dhcp import grpc, h2, proto
from tests.conftest import TESTDATA


def pair(**server_settings: int) -> tuple[h2.Connection, h2.Connection]:
    client = h2.Connection(client=True)
    server = h2.Connection(client=False, local_settings=server_settings)
    pump(client, server)
    return client, server


def pump(a: h2.Connection, b: h2.Connection) -> tuple[list, list]:
    """Exchange bytes until both are quiet; returns (events of a, events of b)."""
    ev_a: list = []
    ev_b: list = []
    for _ in range(20):
        out_a, out_b = a.outbound(), b.outbound()
        if not out_a and not out_b:
            break
        if out_a:
            ev_b += b.receive(out_a)
        if out_b:
            ev_a += a.receive(out_b)
    return ev_a, ev_b


def test_unary_call_round_trip():
    client, server = pair()
    sid = client.new_stream_id()
    client.send_headers(sid, grpc.request_headers(proto.SETUP_PATH, "[::1]", "t"))
    client.send_data(sid, grpc.frame_message(b"payload"), end_stream=True)
    _, ev = pump(client, server)
    req = next(e for e in ev if isinstance(e, h2.RequestReceived))
    assert dict(req.headers)[":path"] == proto.SETUP_PATH
    data = b"".join(e.data for e in ev if isinstance(e, h2.DataReceived))
    assert grpc.MessageReader().feed(data) == [b"payload"]
    assert [e for e in ev if isinstance(e, h2.DataReceived)][-1].end_stream

    server.send_headers(sid, grpc.response_headers())
    server.send_data(sid, grpc.frame_message(b"answer"))
    server.send_headers(sid, grpc.status_trailers(grpc.OK), end_stream=True)
    ev, _ = pump(client, server)
    kinds = [type(e).__name__ for e in ev]
    assert kinds == ["ResponseReceived", "DataReceived", "TrailersReceived"]
    assert grpc.status_from_headers(ev[-1].headers).code == grpc.OK
    assert not client.streams and not server.streams


def test_flow_control_waits_for_window_update():
    # the server shrinks the client's initial stream window to 10 bytes
    server2 = h2.Connection(client=False, local_settings={h2.INITIAL_WINDOW_SIZE: 10})
    client2 = h2.Connection(client=True)
    pump(client2, server2)
    sid = client2.new_stream_id()
    client2.send_headers(sid, [(":method", "POST"), (":path", "/x")])
    client2.send_data(sid, b"0123456789abcdef", end_stream=True)
    _, ev = pump(client2, server2)
    # all 16 bytes arrive: the server credits each DATA frame back at once
    data = b"".join(e.data for e in ev if isinstance(e, h2.DataReceived))
    assert data == b"0123456789abcdef"
    assert any(isinstance(e, h2.DataReceived) and e.end_stream for e in ev)


def test_large_data_split_by_frame_size_and_window():
    client, server = pair()
    sid = client.new_stream_id()
    client.send_headers(sid, [(":method", "POST"), (":path", "/x")])
    blob = os.urandom(200_000)  # more than the 65535 default window
    client.send_data(sid, blob, end_stream=True)
    _, ev = pump(client, server)
    frames = [e for e in ev if isinstance(e, h2.DataReceived)]
    assert b"".join(e.data for e in frames) == blob
    assert max(len(e.data) for e in frames) <= h2.DEFAULT_MAX_FRAME


def test_continuation_and_padding():
    server = h2.Connection(client=False)
    server.receive(h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0))
    block = server.encoder.encode([(":method", "POST"), (":path", "/a" * 50)])
    padded = bytes([3]) + block[:10] + b"\0\0\0"
    data = (h2.encode_frame(h2.HEADERS, h2.PADDED, 1, padded)
            + h2.encode_frame(h2.CONTINUATION, 0, 1, block[10:20])
            + h2.encode_frame(h2.CONTINUATION, h2.END_HEADERS, 1, block[20:]))
    (ev,) = server.receive(data)
    assert dict(ev.headers)[":path"] == "/a" * 50


def test_ping_and_settings_are_acknowledged():
    _, server = pair()
    server.receive(h2.encode_frame(h2.PING, 0, 0, b"12345678")
                   + h2.encode_frame(h2.SETTINGS, 0, 0, h2.encode_settings({h2.MAX_FRAME_SIZE:
                                                                            32768})))
    out = server.outbound()
    assert h2.encode_frame(h2.PING, h2.ACK, 0, b"12345678") in out
    assert h2.encode_frame(h2.SETTINGS, h2.ACK, 0) in out
    assert server.peer_max_frame == 32768


def test_reset_and_goaway_events():
    client, server = pair()
    sid = client.new_stream_id()
    client.send_headers(sid, [(":method", "POST"), (":path", "/x")])
    pump(client, server)
    client.reset_stream(sid, h2.CANCEL)
    client.close(h2.NO_ERROR)
    _, ev = pump(client, server)
    assert isinstance(ev[0], h2.StreamReset) and ev[0].error_code == h2.CANCEL
    assert isinstance(ev[1], h2.ConnectionTerminated) and ev[1].last_stream_id == 0


@pytest.mark.parametrize("data", [
    b"GET / HTTP/1.1\r\n\r\n",                                           # not HTTP/2
    h2.PREFACE + h2.encode_frame(h2.PING, 0, 0, b"12345678"),            # SETTINGS first
    h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0, b"\0\0\0"),          # bad length
    h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0) + h2.encode_frame(h2.DATA, 0, 1, b"x"),
    h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0) + h2.encode_frame(h2.HEADERS, 0, 1, b"\x82")
    + h2.encode_frame(h2.DATA, 0, 1, b"x"),                              # CONTINUATION missing
    h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0) + struct.pack(">I", 20000 << 8 | 0)[:3]
    + b"\0\0\0\0\0\1" + b"\0" * 20000,                                   # frame too large
    h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0)
    + h2.encode_frame(h2.HEADERS, h2.END_HEADERS, 1, b"\x80"),           # HPACK error
    h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0)
    + h2.encode_frame(h2.PUSH_PROMISE, h2.END_HEADERS, 1, b"\0\0\0\2"),
], ids=["http1", "no-settings", "settings-length", "data-idle-stream", "no-continuation",
        "frame-too-large", "hpack", "push-promise"])
def test_connection_errors_queue_goaway(data):
    server = h2.Connection(client=False)
    server.outbound()
    with pytest.raises(h2.H2ConnectionError):
        server.receive(data)
    out = server.outbound()
    types = []
    while out:
        frame, used = h2.parse_frame(out, 1 << 24)
        types.append(frame.type)
        out = out[used:]
    assert types[-1] == h2.GOAWAY
    assert server.closed


def test_grpcio_request_golden():
    """What the gRPC C core (python3-grpcio) sent: Huffman HPACK, dynamic table."""
    with open(os.path.join(TESTDATA, "dhcp", "grpcio-setup-request.h2"), "rb") as f:
        data = f.read()
    server = h2.Connection(client=False)
    events = []
    for i in range(0, len(data), 7):  # byte-dribbled: framing must not care
        events += server.receive(data[i:i + 7])
    req = next(e for e in events if isinstance(e, h2.RequestReceived))
    headers = dict(req.headers)
    assert headers[":path"] == proto.SETUP_PATH
    assert headers["content-type"] == "application/grpc"
    assert headers["te"] == "trailers"
    assert headers["user-agent"].startswith("grpc-python/")
    body = b"".join(e.data for e in events if isinstance(e, h2.DataReceived))
    (msg,) = grpc.MessageReader().feed(body)
    cfg = proto.NetworkConfig.decode(msg)
    assert (cfg.container_mac_addr, cfg.host_name, cfg.ns_path, cfg.container_id) == \
        ("aa:bb:cc:dd:ee:ff", "foobar", "/run/netns/x", "0123456789abcdef")
    assert isinstance(events[-1], h2.StreamReset)


@settings(max_examples=300)
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_raise_only_h2_errors(data, with_preface):
    conn = h2.Connection(client=False)
    feed = (h2.PREFACE + h2.encode_frame(h2.SETTINGS, 0, 0) + data) if with_preface else data
    try:
        conn.receive(feed)
    except h2.H2Error:
        pass


# -- gRPC helpers ------------------------------------------------------


@given(st.text(max_size=50))
def test_percent_encoding_round_trip(msg):
    enc = grpc.percent_encode(msg)
    assert all(0x20 <= ord(c) <= 0x7E for c in enc)
    assert grpc.percent_decode(enc) == msg


def test_percent_encoding_examples():
    assert grpc.percent_encode("a%b\n\u00e9") == "a%25b%0A%C3%A9"
    assert grpc.percent_decode("100%") == "100%"


def test_message_reader():
    r = grpc.MessageReader(limit=10)
    stream = grpc.frame_message(b"abc") + grpc.frame_message(b"")
    assert r.feed(stream[:4]) == []
    assert r.feed(stream[4:]) == [b"abc", b""]
    with pytest.raises(grpc.GrpcError) as e:
        r.feed(b"\0\0\0\0\x0b")
    assert e.value.code == grpc.RESOURCE_EXHAUSTED
    with pytest.raises(grpc.GrpcError):
        grpc.MessageReader().feed(b"\1\0\0\0\0")


def test_status_headers():
    st_ = grpc.status_from_headers(grpc.trailers_only(5, "no lease: 100%"))
    assert (st_.code, st_.message) == (5, "no lease: 100%")
    assert grpc.status_from_headers([(":status", "200")]) is None
