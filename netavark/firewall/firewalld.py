"""The firewalld driver: firewall rules through firewalld's D-Bus API.

Networks get a zone (``netavark_zone``) with the container subnets as
sources and four policies; published ports become ``forward_ports`` and rich
rules of two of those policies.  Zone and policies are permanent firewalld
configuration, sources and port rules are runtime configuration (a firewalld
reload drops them; ``netavark firewalld-reload`` puts them back).
Isolation is not supported by this driver.
"""

from __future__ import annotations

from .. import log
from ..dbus.firewalld import (
    CONFIG_INTERFACE,
    CONFIG_PATH,
    FIREWALLD,
    INTERFACE,
    PATH,
    POLICY_INTERFACE,
    ZONE_INTERFACE,
    add_source_subnets_to_zone,
)
from ..dbus.marshal import Variant, split_signature
from ..errors import DbusVariantError, NetavarkError, wrap
from ..ip import IpAddr
from . import FIREWALLD as DRIVER_NAME
from . import FirewallDriver, PortForwardConfig, SetupNetwork

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..config import PortMapping
    from ..dbus.connection import Connection

ZONE = "netavark_zone"
POLICY = "netavark_policy"
PORT_POLICY = "netavark_portfwd"
HOST_FWD_POLICY = "netavark_host_fwd"
ZONE_ACCESS_POLICY = "netavark_zone_acc"

# name, ingress zone, egress zone, target, masquerade; created in this order
POLICIES = (
    (POLICY, ZONE, "ANY", "ACCEPT", True),
    (PORT_POLICY, "ANY", "HOST", "CONTINUE", False),
    (HOST_FWD_POLICY, "HOST", "ANY", "CONTINUE", False),
    (ZONE_ACCESS_POLICY, "ANY", ZONE, "CONTINUE", True),
)
PORT_TUPLE = "(ssss)"

_log = log.Logger("netavark::firewall::firewalld")


class FirewalldDriver(FirewallDriver):
    name = DRIVER_NAME

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    # -- networks ------------------------------------------------------------
    def setup_network(self, net: SetupNetwork, dbus: Any = None) -> None:
        if net.internal:
            return
        need_reload = False
        try:
            need_reload |= _create_zone_if_missing(self.conn, ZONE)
        except NetavarkError as e:
            raise wrap(f"Error creating zone {ZONE}", e) from None
        for name, ingress, egress, target, masquerade in POLICIES:
            try:
                need_reload |= _add_policy_if_missing(self.conn, name, ingress, egress, target,
                                                      masquerade)
            except NetavarkError as e:
                raise wrap(f"Error creating policy {name}", e) from None
        if need_reload:
            _log.debug("Reloading firewalld config to bring up zone and policy")
            self.conn.call(FIREWALLD, PATH, INTERFACE, "reload")
        # only after the reload: the zone may not have been in the runtime config
        if net.subnets is not None:
            try:
                add_source_subnets_to_zone(self.conn, ZONE, net.subnets)
            except NetavarkError as e:
                raise wrap(f"Error adding source subnets to zone {ZONE}", e) from None

    def teardown_network(self, net: SetupNetwork) -> None:
        if net.internal:
            return
        for subnet in net.subnets or ():
            _log.debug(f"Removing subnet {subnet} from zone {ZONE}")
            self.conn.call(FIREWALLD, PATH, ZONE_INTERFACE, "removeSource", "ss",
                           (ZONE, str(subnet)))

    # -- ports ---------------------------------------------------------------
    def setup_port_forward(self, pf: PortForwardConfig, dbus: Any = None) -> None:
        if pf.internal:
            return
        forward_ports: list[tuple[str, str, str, str]] = []
        rich_rules: list[str] = []
        localhost_rules: list[str] = []
        v4, v6 = pf.container_ip_v4, pf.container_ip_v6
        for port in pf.port_mappings or ():
            host_ip = port.host_ip
            if host_ip not in ("", "0.0.0.0", "::"):
                if host_ip == "127.0.0.1":
                    if v4 is not None:
                        rule = _localhost_rule(port, v4)
                        _log.debug(f"Adding localhost pf rule: {rule}")
                        localhost_rules.append(rule)
                    continue
                if host_ip == "::1":
                    continue  # the kernel cannot DNAT IPv6 localhost traffic
                try:
                    parsed = IpAddr.parse(host_ip)
                except NetavarkError:
                    raise NetavarkError(f'invalid host ip "{host_ip}" provided for port '
                                        f"{port.host_port}") from None
                ctr = v4 if parsed.is_ipv4 else v6
                if ctr is not None:
                    rich_rules.append(_host_ip_rule(port, ctr))
            else:
                if v4 is not None and host_ip != "::":
                    forward_ports.append(_port_tuple(port, str(v4)))
                    rule = _localhost_rule(port, v4)
                    _log.debug(f"Adding localhost pf rule: {rule}")
                    localhost_rules.append(rule)
                if v6 is not None and host_ip != "0.0.0.0":
                    forward_ports.append(_port_tuple(port, str(v6)))
        if pf.dns_port != 53 and pf.dns_server_ips:
            for ip in pf.dns_server_ips:
                rich_rules.append(_dns_rule(ip, pf.dns_port))

        if forward_ports or rich_rules:
            current = _policy_settings(self.conn, PORT_POLICY)
            update: dict[str, Variant] = {}
            if forward_ports:
                update["forward_ports"] = _appended(current, "forward_ports", PORT_TUPLE,
                                                    forward_ports)
            if rich_rules:
                update["rich_rules"] = _appended(current, "rich_rules", "s", rich_rules)
            _set_policy_settings(self.conn, PORT_POLICY, update)
        if localhost_rules:
            current = _policy_settings(self.conn, HOST_FWD_POLICY)
            update = {"rich_rules": _appended(current, "rich_rules", "s", localhost_rules)}
            _set_policy_settings(self.conn, HOST_FWD_POLICY, update)
        _log.info(f"Successfully added port-forwarding rules for container {pf.container_id}")

    def teardown_port_forward(self, pf: PortForwardConfig, complete: bool) -> None:
        if pf.internal:
            return
        current = _policy_settings(self.conn, PORT_POLICY)
        localhost = _policy_settings(self.conn, HOST_FWD_POLICY)
        v4 = None if pf.container_ip_v4 is None else str(pf.container_ip_v4)
        v6 = None if pf.container_ip_v6 is None else str(pf.container_ip_v6)

        update: dict[str, Variant] = {}
        old_ports = _existing_array(current, "forward_ports",
                                    "forward-port in firewalld policy object has a bad type")
        if old_ports is not None:
            elem_sig, items = old_ports
            kept = []
            for item in items:
                port_ip = _tuple_address(elem_sig, item)
                matched = False
                for ours in (v4, v6):
                    if ours is not None:
                        _log.debug(f"Checking firewalld IP {port_ip} against our IP {ours}")
                        matched |= ours == port_ip
                if not matched:
                    kept.append(item)
            update["forward_ports"] = Variant("a" + elem_sig, kept)

        old_rules = _existing_array(current, "rich_rules",
                                    "rich_rules in firewalld policy object has a bad type")
        if old_rules is not None:
            dns_rules = []
            if complete and pf.dns_port != 53:
                dns_rules = [_dns_rule(ip, pf.dns_port) for ip in pf.dns_server_ips]
            kept_rules = []
            for rule in _strings(*old_rules):
                matched = rule in dns_rules
                for ours in (v4, v6):
                    if ours is not None:
                        daddr = f'to-addr="{ours}"'
                        if ours == v4:
                            _log.debug(f"Checking if {rule} contains string {daddr}")
                        matched |= daddr in rule
                if not matched:
                    kept_rules.append(rule)
            update["rich_rules"] = Variant("a" + old_rules[0], kept_rules)

        local_update: dict[str, Variant] = {}
        old_local = _existing_array(
            localhost, "rich_rules",
            "rich_rules in firewalld localhost policy object has a bad type")
        if old_local is not None:
            kept_local = []
            for rule in _strings(*old_local):
                matched = False
                if v4 is not None:
                    daddr = f'to-addr="{v4}"'
                    _log.debug(f"Checking if {rule} contains string {daddr}")
                    matched = daddr in rule
                if not matched:
                    kept_local.append(rule)
            local_update["rich_rules"] = Variant("a" + old_local[0], kept_local)

        _set_policy_settings(self.conn, PORT_POLICY, update)
        _set_policy_settings(self.conn, HOST_FWD_POLICY, local_update)


# ---------------------------------------------------------------------------
# zone and policies


def _string_list(reply: Any, what: str) -> list[str]:
    try:
        (names,) = reply.expect("as")
    except NetavarkError as e:
        raise wrap(what, e) from None
    return names


def _create_zone_if_missing(conn: Connection, zone: str) -> bool:
    """True when firewalld must reload to get the zone into its runtime config."""
    _log.debug(f"Creating firewall zone {zone}")
    active = _string_list(conn.call(FIREWALLD, PATH, ZONE_INTERFACE, "getZones"),
                          "Error decoding DBus message for active zones")
    if zone in active:
        _log.debug("Zone exists and is running")
        return False
    permanent = _string_list(conn.call(FIREWALLD, CONFIG_PATH, CONFIG_INTERFACE,
                                       "getZoneNames"),
                             "Error decoding DBus message for permanent zones")
    if zone in permanent:
        _log.debug("Zone exists and is not running")
        return True
    conn.call(FIREWALLD, CONFIG_PATH, CONFIG_INTERFACE, "addZone2", "sa{sv}", (zone, {}))
    return True


def _add_policy_if_missing(conn: Connection, name: str, ingress: str, egress: str,
                           target: str, masquerade: bool) -> bool:
    _log.debug(f"Adding firewalld policy {name} (ingress zone {ingress}, egress zone {egress})")
    active = _string_list(conn.call(FIREWALLD, PATH, POLICY_INTERFACE, "getPolicies"),
                          "Error decoding policy list response")
    if name in active:
        _log.debug("Policy exists and is running")
        return False
    permanent = _string_list(conn.call(FIREWALLD, CONFIG_PATH, CONFIG_INTERFACE,
                                       "getPolicyNames"),
                             "Error decoding permanent policy list response")
    if name in permanent:
        _log.debug("Policy exists and is not running")
        return True
    settings = {"egress_zones": Variant("as", [egress]),
                "ingress_zones": Variant("as", [ingress])}
    if masquerade:
        settings["masquerade"] = Variant("b", True)
    settings["target"] = Variant("s", target)
    conn.call(FIREWALLD, CONFIG_PATH, CONFIG_INTERFACE, "addPolicy", "sa{sv}",
              (name, settings))
    return True


def _policy_settings(conn: Connection, policy: str) -> dict[str, Variant]:
    reply = conn.call(FIREWALLD, PATH, POLICY_INTERFACE, "getPolicySettings", "s", (policy,))
    try:
        (settings,) = reply.expect("a{sv}")
    except NetavarkError as e:
        raise wrap(f"Error decoding DBus message for policy {policy} configuration",
                   e) from None
    return settings


def _set_policy_settings(conn: Connection, policy: str, settings: dict[str, Variant]) -> None:
    try:
        conn.call(FIREWALLD, PATH, POLICY_INTERFACE, "setPolicySettings", "sa{sv}",
                  (policy, settings))
    except NetavarkError as e:
        raise wrap(f"Failed to update firewalld policy {policy} port forwarding rules",
                   e) from None


def _is_array(v: Variant) -> bool:
    # dicts (a{..}) are not arrays for this purpose
    return v.signature[0] == "a" and v.signature[1] != "{"


def _existing_array(settings: dict[str, Variant], key: str,
                    bad_type: str) -> tuple[str, list] | None:
    """(element signature, items) of an array setting; None when the key is absent."""
    v = settings.get(key)
    if v is None:
        return None
    if not _is_array(v):
        raise NetavarkError(bad_type)
    items = v.value
    if isinstance(items, bytes):  # `ay` decodes to bytes
        items = list(items)
    return v.signature[1:], list(items)


def _appended(settings: dict[str, Variant], key: str, elem_sig: str, new: list) -> Variant:
    existing = _existing_array(settings, key,
                               f"{key} in firewalld policy object has a bad type")
    if existing is None:
        return Variant("a" + elem_sig, list(new))
    old_sig, items = existing
    if new and old_sig != elem_sig:
        raise DbusVariantError(f"Signature mismatch: got `{elem_sig}`, expected `{old_sig}`")
    return Variant("a" + old_sig, items + list(new))


def _tuple_address(elem_sig: str, item: Any) -> str:
    """The to-addr (4th field) of a forward_ports entry, checking its shape."""
    if elem_sig[0] != "(":
        raise NetavarkError("Port forwarding rule that was not a structure encountered")
    fields = split_signature(elem_sig[1:-1])
    if len(fields) != 4:
        raise NetavarkError("Port forwarding rule that was not a 4-tuple encountered")
    if fields[3] != "s":
        raise NetavarkError("Port forwarding tuples must contain only strings, encountered "
                            "a non-string object")
    return item[3]


def _strings(elem_sig: str, items: list) -> list[str]:
    if items and elem_sig != "s":
        raise NetavarkError("Rich rule that was not a string encountered")
    return items


# ---------------------------------------------------------------------------
# rule text


def _port_text(port: int, count: int) -> str:
    if count > 1:
        return f"{port}-{(port + count - 1) & 0xFFFF}"
    return str(port)


def _port_tuple(port: PortMapping, addr: str) -> tuple[str, str, str, str]:
    t = (_port_text(port.host_port, port.range), port.protocol,
         _port_text(port.container_port, port.range), addr)
    if port.range <= 1:
        _log.debug("Port is ({})".format(", ".join(f'"{x}"' for x in t)))
    return t


def _rich_rule(family: str, dest: str, port: str, proto: str, to_port: str,
               to_addr: str) -> str:
    return (f'rule family="{family}" destination address="{dest}" forward-port '
            f'port="{port}" protocol="{proto}" to-port="{to_port}" to-addr="{to_addr}"')


def _family(ip: IpAddr) -> str:
    return "ipv6" if ip.is_ipv6 else "ipv4"


def _localhost_rule(port: PortMapping, ctr: IpAddr) -> str:
    return _rich_rule("ipv4", "127.0.0.1", _port_text(port.host_port, port.range),
                      port.protocol, _port_text(port.container_port, port.range), str(ctr))


def _host_ip_rule(port: PortMapping, ctr: IpAddr) -> str:
    return _rich_rule(_family(ctr), port.host_ip, _port_text(port.host_port, port.range),
                      port.protocol, _port_text(port.container_port, port.range), str(ctr))


def _dns_rule(ip: IpAddr, dns_port: int) -> str:
    return _rich_rule(_family(ip), str(ip), "53", "udp", str(dns_port), str(ip))
