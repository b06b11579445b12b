"""SASL EXTERNAL state machine and bus address parsing (no I/O)."""

from __future__ import annotations

import json
import os

import pytest

from netavark.dbus import system_bus, system_bus_address
from netavark.dbus.address import DEFAULT_SYSTEM_BUS, AddressError, parse_address, unix_targets
from netavark.dbus.auth import HandshakeError, SaslExternal
from netavark.errors import DbusError
from tests.conftest import TESTDATA

# -- SASL ----------------------------------------------------------------------------


def test_initial_bytes_for_root_match_libdbus() -> None:
    # dbus-send (libdbus) as root: NUL, AUTH EXTERNAL with hex("0"), more lines, BEGIN
    with open(os.path.join(TESTDATA, "dbus", "captures.json")) as f:
        captured = bytes.fromhex(json.load(f)["dbus-send-GetNameOwner"]["client"])
    assert captured.startswith(b"\0AUTH EXTERNAL 30\r\n")
    assert SaslExternal(0).initial() == b"\0AUTH EXTERNAL 30\r\nBEGIN\r\n"


def test_uid_is_hex_of_its_decimal_text() -> None:
    assert SaslExternal(1000).initial() == b"\0AUTH EXTERNAL 31303030\r\nBEGIN\r\n"


def test_ok_in_pieces_then_message_bytes() -> None:
    sasl = SaslExternal(0)
    sasl.initial()
    assert sasl.feed(b"OK 3bd1e75fd7a6ecb92d95") is None
    assert sasl.feed(b"96066b0bb1c8\r") is None
    assert sasl.feed(b"\nl\x02\x01") == b"l\x02\x01"
    assert sasl.state == "done"
    assert sasl.guid == "3bd1e75fd7a6ecb92d9596066b0bb1c8"


def test_rejected() -> None:
    sasl = SaslExternal(0)
    sasl.initial()
    with pytest.raises(HandshakeError) as e:
        sasl.feed(b"REJECTED EXTERNAL DBUS_COOKIE_SHA1\r\n")
    assert str(e.value) == ("DBus error: D-Bus handshake failed: EXTERNAL authentication "
                            "rejected (server offers: EXTERNAL DBUS_COOKIE_SHA1)")
    assert isinstance(e.value, DbusError)


@pytest.mark.parametrize("line", [b"ERROR\r\n", b"ERROR bad\r\n", b"DATA\r\n", b"\xff\r\n"])
def test_other_replies_fail(line: bytes) -> None:
    sasl = SaslExternal(0)
    sasl.initial()
    with pytest.raises(HandshakeError):
        sasl.feed(line)
    with pytest.raises(HandshakeError):
        sasl.feed(b"OK 00\r\n")  # no second chance


def test_overlong_line() -> None:
    sasl = SaslExternal(0)
    sasl.initial()
    with pytest.raises(HandshakeError):
        sasl.feed(b"O" * 20000)


# -- addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "targets"), [
    ("unix:path=/run/dbus/system_bus_socket", ["/run/dbus/system_bus_socket"]),
    ("unix:abstract=/tmp/dbus-x,guid=00ff", ["\0/tmp/dbus-x"]),
    ("unix:path=/tmp/a%20b%2c", ["/tmp/a b,"]),
    ("tcp:host=localhost,port=1;unix:path=/x;", ["/x"]),
    ("unix:path=/a;unix:abstract=b", ["/a", "\0b"]),
])
def test_unix_targets(text: str, targets: list) -> None:
    assert unix_targets(text) == targets


@pytest.mark.parametrize(("text", "msg"), [
    ("", "address error: address has no colon"),
    ("unix", "address error: address has no colon"),
    ("unix:path", "address error: missing = when parsing key/value"),
    ("unix:path=/a,path=/b", "address error: Key `path` specified multiple times"),
    ("unix:path=%zz", "address error: invalid percent escape in '%zz'"),
    ("tcp:host=x,port=1", "address error: no usable unix address (transports: tcp)"),
    ("unix:tmpdir=/tmp", "address error: no usable unix address (transports: unix)"),
])
def test_bad_addresses(text: str, msg: str) -> None:
    with pytest.raises(AddressError) as e:
        unix_targets(text)
    assert str(e.value) == f"DBus error: {msg}"


def test_parse_address_keeps_options() -> None:
    assert parse_address("unix:path=/x,guid=ab") == [("unix", {"path": "/x", "guid": "ab"})]


def test_system_bus_address_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SYSTEM_BUS_ADDRESS", raising=False)
    assert system_bus_address() == DEFAULT_SYSTEM_BUS == \
        "unix:path=/var/run/dbus/system_bus_socket"
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/elsewhere")
    assert system_bus_address() == "unix:path=/elsewhere"


def test_empty_address_means_no_dbus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "")
    with pytest.raises(DbusError) as e:
        system_bus()
    assert str(e.value) == "DBus error: address error: address has no colon"
