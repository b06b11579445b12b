"""FakeFirewalldBus: an in-memory stand-in for a bus connection to firewalld.

Used only where a real firewalld cannot produce the case under test (replies
of the wrong type, injected errors) or to check the exact sequence of calls.
Real behaviour is tested against firewalld itself in ``tests/kernel``.  Every
reply is encoded to bytes and decoded again, so the driver sees exactly what
our client would return for it.
"""

from __future__ import annotations

from netavark.dbus.marshal import Variant
from netavark.dbus.message import ERROR, Message
from netavark.errors import DbusError

FW = "org.fedoraproject.FirewallD1"
DEFAULT_ZONES = ["block", "dmz", "drop", "external", "home", "internal", "public", "trusted",
                 "work"]


class FakeFirewalldBus:
    """Zones, policies and sources, with runtime and permanent configuration."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.zones = list(DEFAULT_ZONES)            # runtime
        self.perm_zones = list(DEFAULT_ZONES)       # permanent
        self.policies: dict[str, dict[str, Variant]] = {}
        self.perm_policies: dict[str, dict[str, Variant]] = {}
        self.sources: dict[str, str] = {}           # runtime source -> zone
        self.errors: dict[str, tuple[str, str]] = {}      # member -> (name, text)
        self.replies: dict[str, tuple[str, tuple]] = {}   # member -> (signature, body)
        self.running = True
        self.strict_forward_ports: str | None = None  # None: property unknown (< 2.3)
        self.closed = False

    # -- the Connection API the code under test uses -------------------------------
    def call(self, destination: str | None, path: str, interface: str | None, member: str,
             signature: str = "", body: tuple = (), timeout: float | None = None) -> Message:
        self.calls.append((member, tuple(body)))
        request = Message.method_call(destination, path, interface, member, signature, body)
        request = Message.decode(request.encode(1))  # what firewalld would receive
        if member in self.errors:
            name, text = self.errors[member]
            reply = Message(ERROR, reply_serial=1, error_name=name, signature="s",
                            body=(text,))
        elif member in self.replies:
            sig, out = self.replies[member]
            reply = Message.method_return(request, sig, out)
        else:
            sig, out = getattr(self, "_" + member)(*request.body)
            reply = Message.method_return(request, sig, out)
        reply = Message.decode(reply.encode(2))
        if reply.msg_type == ERROR:
            raise DbusError.reply(reply.error_name, reply.error_text())
        return reply

    def name_owner(self, name: str) -> str:
        self.calls.append(("GetNameOwner", (name,)))
        if name == FW and self.running:
            return ":1.1"
        raise DbusError.reply("org.freedesktop.DBus.Error.NameHasNoOwner",
                              f"Could not get owner of name '{name}': no such name")

    def close(self) -> None:
        self.closed = True

    def members(self) -> list[str]:
        return [m for m, _ in self.calls]

    # -- firewalld methods --------------------------------------------------------
    def _getZones(self) -> tuple:
        return "as", (list(self.zones),)

    def _getZoneNames(self) -> tuple:
        return "as", (list(self.perm_zones),)

    def _addZone2(self, name: str, settings: dict) -> tuple:
        self.perm_zones.append(name)
        return "o", (f"/org/fedoraproject/FirewallD1/config/zone/{len(self.perm_zones)}",)

    def _getPolicies(self) -> tuple:
        return "as", (list(self.policies),)

    def _getPolicyNames(self) -> tuple:
        return "as", (list(self.perm_policies),)

    def _addPolicy(self, name: str, settings: dict) -> tuple:
        self.perm_policies[name] = dict(settings)
        return "o", (f"/org/fedoraproject/FirewallD1/config/policy/{len(self.perm_policies)}",)

    def _reload(self) -> tuple:
        self.zones = list(self.perm_zones)
        self.policies = {k: dict(v) for k, v in self.perm_policies.items()}
        self.sources.clear()
        return "", ()

    def _getZoneOfSource(self, source: str) -> tuple:
        return "s", (self.sources.get(source, ""),)

    def _changeZoneOfSource(self, zone: str, source: str) -> tuple:
        self.sources[source] = zone
        return "s", (zone,)

    def _removeSource(self, zone: str, source: str) -> tuple:
        if self.sources.get(source) != zone:
            raise DbusError.reply("org.fedoraproject.FirewallD1.Exception",
                                  f"UNKNOWN_SOURCE: '{source}' is not in any zone")
        del self.sources[source]
        return "s", (zone,)

    def _Get(self, interface: str, name: str) -> tuple:
        if interface == f"{FW}.config" and name == "StrictForwardPorts" \
                and self.strict_forward_ports is not None:
            return "v", (Variant("s", self.strict_forward_ports),)
        raise DbusError.reply("org.freedesktop.DBus.Error.InvalidArgs",
                              f"Property '{name}' does not exist")

    def _getPolicySettings(self, name: str) -> tuple:
        if name not in self.policies:
            raise DbusError.reply("org.fedoraproject.FirewallD1.Exception",
                                  f"INVALID_POLICY: {name}")
        return "a{sv}", (dict(self.policies[name]),)

    def _setPolicySettings(self, name: str, settings: dict) -> tuple:
        if name not in self.policies:
            raise DbusError.reply("org.fedoraproject.FirewallD1.Exception",
                                  f"INVALID_POLICY: {name}")
        self.policies[name].update(settings)
        return "", ()
