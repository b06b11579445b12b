"""firewalld helpers used by the nftables driver, and the reload signal filter."""

from __future__ import annotations

import pytest

from netavark import log
from netavark.dbus import firewalld as fwd
from netavark.dbus.marshal import Variant
from netavark.dbus.message import Message
from netavark.errors import NetavarkError
from netavark.firewall import PortForwardConfig
from netavark.ip import IpNet
from tests.unit.fake_firewalld import FakeFirewalldBus

SUBNET = IpNet.parse("10.88.0.0/16")


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setenv("RUST_LOG", "netavark=debug")
    log.reset_filter()
    yield lambda: capsys.readouterr().err
    log.reset_filter()


def test_firewalld_running() -> None:
    bus = FakeFirewalldBus()
    assert fwd.firewalld_running(bus)
    bus.running = False
    assert not fwd.firewalld_running(bus)
    assert not fwd.firewalld_running(None)


def test_add_trusted_subnet(logs) -> None:
    bus = FakeFirewalldBus()
    fwd.add_trusted_subnet(bus, SUBNET)
    assert bus.calls == [("GetNameOwner", ("org.fedoraproject.FirewallD1",)),
                         ("getZoneOfSource", ("10.88.0.0/16",)),
                         ("changeZoneOfSource", ("trusted", "10.88.0.0/16"))]
    bus.calls.clear()
    fwd.add_trusted_subnet(bus, SUBNET)  # already trusted: nothing to change
    assert [m for m, _ in bus.calls] == ["GetNameOwner", "getZoneOfSource"]
    out = logs()
    assert "[DEBUG netavark::firewall::firewalld] Adding firewalld rules for network " \
        "10.88.0.0/16\n" in out
    assert "Subnet 10.88.0.0/16 already exists in zone trusted" in out


def test_add_trusted_subnet_without_firewalld() -> None:
    bus = FakeFirewalldBus()
    bus.running = False
    fwd.add_trusted_subnet(bus, SUBNET)
    fwd.add_trusted_subnet(None, SUBNET)
    assert [m for m, _ in bus.calls] == ["GetNameOwner"]


def test_add_trusted_subnet_errors_are_only_logged(logs) -> None:
    bus = FakeFirewalldBus()
    bus.errors["changeZoneOfSource"] = ("org.fedoraproject.FirewallD1.Exception",
                                        "ZONE_CONFLICT: 10.88.0.0/16")
    fwd.add_trusted_subnet(bus, SUBNET)
    assert ("[WARN  netavark::firewall::firewalld] Error adding subnet 10.88.0.0/16 from "
            "firewalld trusted zone: DBus error: org.fedoraproject.FirewallD1.Exception: "
            "ZONE_CONFLICT: 10.88.0.0/16\n") in logs()


def test_remove_trusted_subnet_without_a_bus(monkeypatch: pytest.MonkeyPatch,
                                             logs) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "")
    fwd.remove_trusted_subnet(SUBNET)  # silently nothing
    assert logs() == ""


@pytest.mark.parametrize(("value", "enabled", "warning"), [
    (None, False, ""),
    ("yes", True, ""),
    ("YES", True, ""),
    ("no", False, ""),
    ("No", False, ""),
    ("Invalid-Value", False, "unexpected value from StrictForwardPorts property: "
     "invalid-value"),
])
def test_strict_forward_ports(logs, value: str | None, enabled: bool,
                              warning: str) -> None:
    bus = FakeFirewalldBus()
    bus.strict_forward_ports = value
    assert fwd.strict_forward_ports_enabled(bus) is enabled
    assert bus.calls[-1] == ("Get", ("org.fedoraproject.FirewallD1.config",
                                     "StrictForwardPorts"))
    out = logs()
    if warning:
        assert f"[WARN  netavark::firewall::firewalld] {warning}\n" in out
    else:
        assert "WARN" not in out


def test_strict_forward_ports_odd_replies(logs) -> None:
    bus = FakeFirewalldBus()
    bus.replies["Get"] = ("v", (Variant("b", True),))
    assert fwd.strict_forward_ports_enabled(bus) is False
    assert "couldn't downcast StrictForwardPorts value to string: incorrect type" in logs()
    bus.replies["Get"] = ("s", ("yes",))
    assert fwd.strict_forward_ports_enabled(bus) is False
    assert ("couldn't retrieve StrictForwardPorts property: DBus error: Signature mismatch: "
            "got `s`, expected `v`") in logs()


def test_strict_forward_ports_not_asked_without_firewalld() -> None:
    bus = FakeFirewalldBus()
    bus.running = False
    bus.strict_forward_ports = "yes"
    assert fwd.strict_forward_ports_enabled(bus) is False
    assert fwd.strict_forward_ports_enabled(None) is False
    assert [m for m, _ in bus.calls] == ["GetNameOwner"]


def _pf(ports: list | None, dns_port: int = 53) -> PortForwardConfig:
    return PortForwardConfig("c", "n", ports, "name", "hash", dns_port=dns_port)


def test_check_can_forward_ports() -> None:
    bus = FakeFirewalldBus()
    bus.strict_forward_ports = "yes"
    for cfg in (_pf([object()]), _pf(None, dns_port=1153), _pf([], dns_port=1153)):
        with pytest.raises(NetavarkError) as e:
            fwd.check_can_forward_ports(bus, cfg)
        assert str(e.value) == "Port forwarding not possible as firewalld StrictForwardPorts " \
            "enabled"
    fwd.check_can_forward_ports(bus, _pf([]))
    fwd.check_can_forward_ports(bus, _pf(None))
    bus.strict_forward_ports = "no"
    fwd.check_can_forward_ports(bus, _pf([object()], dns_port=1153))


# -- which signals mean "reload" ------------------------------------------------------


def _reloaded(sender: str) -> Message:
    msg = Message.signal(fwd.PATH, fwd.INTERFACE, "Reloaded")
    msg.sender = sender
    return msg


def _owner_changed(new: str, sender: str = "org.freedesktop.DBus") -> Message:
    msg = Message.signal("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                         "sss", (fwd.FIREWALLD, ":1.1", new))
    msg.sender = sender
    return msg


def test_signal_watch_follows_the_owner() -> None:
    watch = fwd.SignalWatch(":1.1")
    assert watch.classify(_reloaded(":1.1")) == "Reloaded"
    assert watch.classify(_reloaded(":1.9")) == ""          # not firewalld
    assert watch.classify(_owner_changed("")) == ""         # firewalld stopped
    assert watch.owner is None
    assert watch.classify(_owner_changed(":1.5")) == "NameOwnerChanged"  # started again
    assert watch.classify(_reloaded(":1.5")) == "Reloaded"
    assert watch.classify(_reloaded(":1.1")) == ""
    assert watch.classify(_owner_changed(":1.6", sender=":1.9")) == ""   # forged
    assert watch.owner == ":1.5"


def test_signal_watch_other_signals() -> None:
    watch = fwd.SignalWatch(None)
    assert watch.classify(_reloaded(":1.3")) == "Reloaded"  # owner unknown: trust the match
    other = Message.signal(fwd.PATH, fwd.INTERFACE, "PanicModeEnabled")
    assert watch.classify(other) == ""
    wrong_path = Message.signal("/elsewhere", fwd.INTERFACE, "Reloaded")
    assert watch.classify(wrong_path) == ""


def test_match_rules() -> None:
    assert fwd.RELOADED_MATCH == (
        "type='signal',sender='org.fedoraproject.FirewallD1',path='/org/fedoraproject/"
        "FirewallD1',interface='org.fedoraproject.FirewallD1',member='Reloaded'")
