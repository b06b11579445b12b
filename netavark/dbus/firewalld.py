"""firewalld's D-Bus names, and the firewalld calls other firewall drivers make.

The nftables driver keeps its own rules but, when firewalld runs, it also puts
container subnets into firewalld's ``trusted`` zone and honours firewalld's
``StrictForwardPorts``.  All of these are best effort: without a bus
connection or without firewalld they do nothing, and errors are only logged.
"""

from __future__ import annotations

from .. import log
from ..errors import DbusError, NetavarkError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..firewall import PortForwardConfig
    from ..ip import IpNet
    from .connection import Connection
    from .message import Message

FIREWALLD = "org.fedoraproject.FirewallD1"
PATH = "/org/fedoraproject/FirewallD1"
CONFIG_PATH = "/org/fedoraproject/FirewallD1/config"
INTERFACE = FIREWALLD
ZONE_INTERFACE = "org.fedoraproject.FirewallD1.zone"
POLICY_INTERFACE = "org.fedoraproject.FirewallD1.policy"
CONFIG_INTERFACE = "org.fedoraproject.FirewallD1.config"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
TRUSTED_ZONE = "trusted"
RELOADED = "Reloaded"
RELOADED_MATCH = (f"type='signal',sender='{FIREWALLD}',path='{PATH}',"
                  f"interface='{INTERFACE}',member='{RELOADED}'")
# firewalld (re)started: the bus announces a new owner of its name
OWNER_CHANGED_MATCH = ("type='signal',sender='org.freedesktop.DBus',"
                       "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                       f"member='NameOwnerChanged',arg0='{FIREWALLD}'")

_log = log.Logger("netavark::firewall::firewalld")


def zone_call(conn: Connection, member: str, signature: str = "",
              body: Iterable[object] = ()) -> object:
    """A method of firewalld's runtime zone interface."""
    return conn.call(FIREWALLD, PATH, ZONE_INTERFACE, member, signature, tuple(body))


def firewalld_running(conn: Connection | None) -> bool:
    """Whether somebody owns firewalld's bus name."""
    if conn is None:
        return False
    try:
        conn.name_owner(FIREWALLD)
    except NetavarkError:
        return False
    return True


def add_source_subnets_to_zone(conn: Connection, zone: str, subnets: Iterable[IpNet]) -> None:
    """Bind each subnet to ``zone`` (runtime configuration).

    Stops at the first subnet that is already in the zone, as upstream does.
    """
    from ..errors import wrap

    for net in subnets:
        reply = zone_call(conn, "getZoneOfSource", "s", (str(net),))
        try:
            (current,) = reply.expect("s")  # type: ignore[attr-defined]
        except NetavarkError as e:
            raise wrap("Error decoding DBus message for zone of subnet", e) from None
        if current == zone:
            _log.debug(f"Subnet {net} already exists in zone {zone}")
            return
        _log.debug(f"Adding subnet {net} to zone {zone} as source")
        zone_call(conn, "changeZoneOfSource", "ss", (zone, str(net)))


def add_trusted_subnet(conn: Connection | None, subnet: IpNet) -> None:
    """Put ``subnet`` into the ``trusted`` zone if firewalld runs; errors are logged."""
    if conn is None or not firewalld_running(conn):
        return
    _log.debug(f"Adding firewalld rules for network {subnet}")
    try:
        add_source_subnets_to_zone(conn, TRUSTED_ZONE, [subnet])
    except NetavarkError as e:
        _log.warn(f"Error adding subnet {subnet} from firewalld trusted zone: {e}")


def remove_trusted_subnet(subnet: IpNet) -> None:
    """Take ``subnet`` out of the ``trusted`` zone, over a connection of its own."""
    from . import system_bus

    try:
        conn = system_bus()
    except NetavarkError:
        return
    try:
        if not firewalld_running(conn):
            return
        _log.debug(f"Removing firewalld rules for IPs {subnet}")
        try:
            zone_call(conn, "removeSource", "ss", (TRUSTED_ZONE, str(subnet)))
        except NetavarkError as e:
            _log.warn(f"Error removing subnet {subnet} from firewalld trusted zone: {e}")
    finally:
        conn.close()


def strict_forward_ports_enabled(conn: Connection | None) -> bool:
    """firewalld's ``StrictForwardPorts`` setting; False if unknown or unavailable."""
    if conn is None or not firewalld_running(conn):
        return False
    try:
        reply = conn.call(FIREWALLD, CONFIG_PATH, PROPERTIES_INTERFACE, "Get", "ss",
                          (CONFIG_INTERFACE, "StrictForwardPorts"))
    except DbusError:
        return False  # firewalld before 2.3 has no such property
    try:
        (variant,) = reply.expect("v")
    except NetavarkError as e:
        _log.warn(f"couldn't retrieve StrictForwardPorts property: {e}")
        return False
    if variant.signature != "s":
        _log.warn("couldn't downcast StrictForwardPorts value to string: incorrect type")
        return False
    value = variant.value.lower()
    if value == "yes":
        return True
    if value == "no":
        return False
    _log.warn(f"unexpected value from StrictForwardPorts property: {value}")
    return False


def check_can_forward_ports(conn: Connection | None, pf: PortForwardConfig) -> None:
    """Refuse port forwarding (incl. a DNS port) while StrictForwardPorts is on."""
    if not strict_forward_ports_enabled(conn):
        return
    if pf.dns_port != 53 or pf.port_mappings:
        raise NetavarkError(
            "Port forwarding not possible as firewalld StrictForwardPorts enabled")


class SignalWatch:
    """Tells which delivered signals mean "firewalld lost its runtime configuration".

    The bus delivers ``Reloaded`` with the *unique* name of firewalld as
    sender, so the owner of firewalld's name is tracked (it changes when
    firewalld restarts) rather than compared with the well-known name.
    """

    __slots__ = ("owner",)

    def __init__(self, owner: str | None = None) -> None:
        self.owner = owner

    def classify(self, msg: Message) -> str:
        """``Reloaded`` or ``NameOwnerChanged`` when a reload is due, else ""."""
        from .connection import BUS_INTERFACE, BUS_NAME

        if (msg.sender == BUS_NAME and msg.is_signal(BUS_INTERFACE, "NameOwnerChanged")
                and msg.signature == "sss" and msg.body[0] == FIREWALLD):
            self.owner = msg.body[2] or None
            return "NameOwnerChanged" if self.owner else ""
        if (msg.is_signal(INTERFACE, RELOADED) and msg.path == PATH
                and (self.owner is None or msg.sender == self.owner)):
            return RELOADED
        return ""
