"""D-Bus messages against bytes real clients and the bus daemon put on the wire.

``tests/data/dbus/captures.json`` holds complete conversations recorded by
``tests/data/dbus/capture.py`` between dbus-daemon/firewalld and dbus-send
(libdbus), gdbus (GLib) and busctl (sd-bus), plus a big-endian signal sent by
GLib and delivered by the daemon.
"""

from __future__ import annotations

import json
import os
import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netavark.dbus.marshal import DbusDecodeError, Variant
from netavark.dbus.message import (
    ERROR,
    METHOD_CALL,
    METHOD_RETURN,
    NO_REPLY_EXPECTED,
    SIGNAL,
    Framer,
    Message,
    message_length,
)
from tests.conftest import TESTDATA

with open(os.path.join(TESTDATA, "dbus", "captures.json")) as _f:
    CAPTURES = json.load(_f)

_SASL_LINE = re.compile(rb"(?:\0?)(?:AUTH|OK|DATA|REJECTED|AGREE_UNIX_FD|NEGOTIATE_UNIX_FD|"
                        rb"BEGIN|ERROR)[^\r\n]*\r\n")


def strip_sasl(stream: bytes) -> bytes:
    """The binary message stream after the text handshake lines."""
    while True:
        m = _SASL_LINE.match(stream)
        if not m:
            return stream
        stream = stream[m.end():]


def messages(name: str, side: str) -> list[Message]:
    data = strip_sasl(bytes.fromhex(CAPTURES[name][side]))
    framer = Framer()
    out = framer.feed(data)
    assert framer.buffered() == 0
    return out


def raw_messages(name: str, side: str) -> list[bytes]:
    data = strip_sasl(bytes.fromhex(CAPTURES[name][side]))
    out = []
    while data:
        n = message_length(data)
        out.append(data[:n])
        data = data[n:]
    return out


ALL_STREAMS = [(name, side) for name in sorted(CAPTURES) for side in ("client", "server")]


# -- golden decoding ---------------------------------------------------------------


def test_libdbus_method_call() -> None:
    hello, call = messages("dbus-send-getZoneOfSource", "client")
    assert (hello.msg_type, hello.member, hello.destination) == (METHOD_CALL, "Hello",
                                                                 "org.freedesktop.DBus")
    assert call.msg_type == METHOD_CALL
    assert call.serial == 2
    assert call.path == "/org/fedoraproject/FirewallD1"
    assert call.interface == "org.fedoraproject.FirewallD1.zone"
    assert call.member == "getZoneOfSource"
    assert call.signature == "s"
    assert call.body == ("10.88.0.0/16",)


def test_daemon_replies_and_signals() -> None:
    hello_reply, acquired, reply = messages("dbus-send-getZoneOfSource", "server")
    assert hello_reply.msg_type == METHOD_RETURN and hello_reply.reply_serial == 1
    unique = hello_reply.body[0]
    assert unique.startswith(":1.")
    assert acquired.is_signal("org.freedesktop.DBus", "NameAcquired")
    assert acquired.body == (unique,)
    assert reply.reply_serial == 2
    assert reply.sender.startswith(":1.")  # firewalld's unique name
    assert reply.expect("s") == ("",)      # bound to no zone


def test_error_reply() -> None:
    reply = messages("dbus-send-removeSource-error", "server")[-1]
    assert reply.msg_type == ERROR
    assert reply.error_name == "org.fedoraproject.FirewallD1.Exception"
    assert reply.error_text() == "UNKNOWN_SOURCE: '10.99.0.0/16' is not in any zone"


def test_sd_bus_dict_of_variants() -> None:
    call = messages("busctl-addPolicy", "client")[-1]
    assert call.signature == "sa{sv}"
    assert call.body == ("capture_portfwd", {
        "egress_zones": Variant("as", ["ANY"]), "ingress_zones": Variant("as", ["HOST"]),
        "masquerade": Variant("b", False), "target": Variant("s", "CONTINUE")})
    reply = messages("busctl-addPolicy", "server")[-1]
    assert reply.expect("o") == ("/org/fedoraproject/FirewallD1/config/policy/2",)


def test_gdbus_forward_ports_and_policy_settings() -> None:
    call = messages("gdbus-setPolicySettings", "client")[-1]
    assert call.member == "setPolicySettings"
    name, settings_ = call.body
    assert name == "capture_portfwd"
    assert settings_["forward_ports"] == Variant("a(ssss)", [
        ("8080", "tcp", "80", "10.88.0.2"), ("5300-5302", "udp", "53-55", "fd00::2")])
    reply = messages("gdbus-getPolicySettings", "server")[-1]
    (got,) = reply.expect("a{sv}")
    assert got["target"] == Variant("s", "CONTINUE")
    assert got["priority"] == Variant("i", -1)
    assert got["masquerade"] == Variant("b", False)
    assert got["ingress_zones"] == Variant("as", ["HOST"])
    assert sorted(got["forward_ports"].value) == sorted(settings_["forward_ports"].value)
    assert got["rich_rules"] == settings_["rich_rules"]


def test_properties_get_variant_reply() -> None:
    reply = messages("busctl-Properties-Get", "server")[-1]
    assert reply.expect("v") == (Variant("s", "public"),)


def test_reloaded_signal_has_unique_sender() -> None:
    sig = messages("gdbus-monitor-Reloaded", "server")[-1]
    assert sig.is_signal("org.fedoraproject.FirewallD1", "Reloaded")
    assert sig.path == "/org/fedoraproject/FirewallD1"
    assert sig.sender.startswith(":1.")
    assert sig.body == ()


def test_big_endian_signal_through_the_daemon() -> None:
    sig = messages("gio-big-endian-signal", "server")[-1]
    assert sig.little is False
    assert sig.is_signal("org.netavark.Test", "Ping")
    assert sig.body == ("big", {"k": Variant("u", 7)}, [-1, 2], (-2, 65535, -(1 << 40)), 2.5,
                        True, "a(ss)")


@pytest.mark.parametrize(("name", "side"), ALL_STREAMS)
def test_reencoding_gives_identical_bytes(name: str, side: str) -> None:
    for raw in raw_messages(name, side):
        msg = Message.decode(raw)
        assert msg.encode() == raw


@pytest.mark.parametrize(("name", "side"), ALL_STREAMS)
def test_feeding_one_byte_at_a_time(name: str, side: str) -> None:
    data = strip_sasl(bytes.fromhex(CAPTURES[name][side]))
    whole = [m.encode() for m in Framer().feed(data)]
    framer = Framer()
    got = []
    for i in range(len(data)):
        got += framer.feed(data[i:i + 1])
    assert [m.encode() for m in got] == whole
    assert framer.buffered() == 0


@pytest.mark.parametrize(("capture", "member", "sig", "body"), [
    ("dbus-send-GetNameOwner", "GetNameOwner", "s", ("org.fedoraproject.FirewallD1",)),
    ("dbus-send-getZoneOfSource", "getZoneOfSource", "s", ("10.88.0.0/16",)),
    ("dbus-send-removeSource-error", "removeSource", "ss", ("trusted", "10.99.0.0/16")),
])
def test_our_calls_match_libdbus_bytes(capture: str, member: str, sig: str,
                                       body: tuple) -> None:
    raw = raw_messages(capture, "client")[1]
    theirs = Message.decode(raw)
    ours = Message.method_call(theirs.destination, theirs.path, theirs.interface, member,
                               sig, body)
    assert ours.encode(2) == raw


# -- construction and validation ---------------------------------------------------


def test_method_call_layout() -> None:
    msg = Message.method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "Hello")
    raw = msg.encode(1)
    assert raw[:4] == b"l\x01\x00\x01"
    body_len, serial, fields_len = struct.unpack_from("<III", raw, 4)
    assert (body_len, serial) == (0, 1)
    assert (16 + fields_len + 7) // 8 * 8 == len(raw)  # no body: header padded to 8
    back = Message.decode(raw)
    assert (back.path, back.interface, back.member, back.destination, back.signature) == (
        "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "org.freedesktop.DBus", "")


def test_big_endian_encoding_roundtrip() -> None:
    msg = Message.method_call("a.b", "/x", "a.b", "M", "sa{sv}", ("n", {"k": Variant("b", True)}))
    msg.little = False
    raw = msg.encode(7)
    assert raw[0:1] == b"B"
    back = Message.decode(raw)
    assert back.little is False and back.serial == 7
    assert back.body == ("n", {"k": Variant("b", True)})


def test_reply_constructors() -> None:
    call = Message.decode(Message.method_call("d", "/p", "i.f", "M").encode(5))
    call.sender = ":1.9"
    ret = Message.decode(Message.method_return(call, "s", ("x",)).encode(1))
    assert (ret.msg_type, ret.reply_serial, ret.destination, ret.body) == (
        METHOD_RETURN, 5, ":1.9", ("x",))
    err = Message.decode(Message.error(call, "a.b.Error", "boom").encode(2))
    assert (err.msg_type, err.error_name, err.error_text()) == (ERROR, "a.b.Error", "boom")
    sig = Message.decode(Message.signal("/p", "i.f", "S").encode(3))
    assert sig.msg_type == SIGNAL and sig.flags & NO_REPLY_EXPECTED


def test_expect_reports_signature_mismatch() -> None:
    reply = messages("busctl-getZones", "server")[-1]
    with pytest.raises(DbusDecodeError) as e:
        reply.expect("s")
    assert str(e.value) == "DBus error: Signature mismatch: got `as`, expected `s`"


def _call_bytes() -> bytearray:
    return bytearray(Message.method_call("org.x", "/o", "org.x", "M", "s", ("v",)).encode(3))


@pytest.mark.parametrize(("mutate", "why"), [
    (lambda b: b.__setitem__(0, ord("x")), "byte order"),
    (lambda b: b.__setitem__(3, 2), "protocol version"),
    (lambda b: b.__setitem__(1, 0), "message type"),
    (lambda b: struct.pack_into("<I", b, 8, 0), "serial"),
    (lambda b: struct.pack_into("<I", b, 4, 100), "length"),
    (lambda b: b.__setitem__(len(b) - 1, 1), "string terminator"),
])
def test_invalid_messages(mutate, why: str) -> None:
    raw = _call_bytes()
    mutate(raw)
    with pytest.raises(DbusDecodeError):
        Message.decode(bytes(raw))


def test_required_fields_are_checked() -> None:
    no_member = Message(METHOD_CALL, path="/o")
    with pytest.raises(DbusDecodeError, match="without member"):
        Message.decode(no_member.encode(1))
    no_reply_serial = Message(METHOD_RETURN)
    with pytest.raises(DbusDecodeError, match="without reply_serial"):
        Message.decode(no_reply_serial.encode(1))


def test_field_with_wrong_type_is_rejected() -> None:
    msg = Message.method_call("d", "/o", "i.f", "M")
    raw = bytearray(msg.encode(1))
    # the PATH field is (1, <o>); turn its variant signature into `s`
    i = raw.index(b"\x01\x01o\x00")
    raw[i + 2] = ord("s")
    with pytest.raises(DbusDecodeError, match="header field 1"):
        Message.decode(bytes(raw))


def test_unknown_header_fields_are_ignored() -> None:
    msg = Message.method_call("d", "/o", "i.f", "M")
    raw = Message.decode(msg.encode(1))
    # hand-build a message with an extra field code 42
    from netavark.dbus.marshal import Writer

    w = Writer()
    w.buf += b"l\x01\x00\x01" + struct.pack("<II", 0, 1)
    w.write("a(yv)", [(1, Variant("o", "/o")), (42, Variant("s", "future")),
                      (3, Variant("s", "M"))], 0)
    w.pad(8)
    got = Message.decode(bytes(w.buf))
    assert (got.path, got.member) == ("/o", "M")
    assert got.field_order == (1, 3)
    assert raw.member == "M"


def test_message_size_limit() -> None:
    head = b"l\x02\x00\x01" + struct.pack("<III", 1 << 27, 1, 0)
    with pytest.raises(DbusDecodeError):
        message_length(head)
    with pytest.raises(DbusDecodeError):
        Framer().feed(head)


# -- robustness ------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_random_bytes_raise_only_our_error(data: bytes) -> None:
    try:
        Framer().feed(data)
    except DbusDecodeError:
        pass


_GOLDEN = [raw for name, side in ALL_STREAMS for raw in raw_messages(name, side)]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(_GOLDEN), st.data())
def test_mutated_real_messages_raise_only_our_error(raw: bytes, data: st.DataObject) -> None:
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    try:
        Framer().feed(bytes(buf))
    except DbusDecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(_GOLDEN), min_size=1, max_size=5), st.data())
def test_any_chunking_gives_the_same_messages(raws: list, data: st.DataObject) -> None:
    stream = b"".join(raws)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    framer = Framer()
    got = []
    prev = 0
    for cut in [*cuts, len(stream)]:
        got += framer.feed(stream[prev:cut])
        prev = cut
    assert [m.encode() for m in got] == raws


def test_fields_set_after_decoding_are_encoded() -> None:
    msg = Message.decode(Message.signal("/p", "i.f", "S").encode(3))
    assert msg.field_order == (1, 2, 3)
    msg.destination = ":1.5"
    back = Message.decode(msg.encode())
    assert back.destination == ":1.5"
    assert back.field_order == (1, 2, 3, 6)
