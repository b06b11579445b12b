"""The bridge driver: a Linux bridge on the host, a veth pair per container.

Order of kernel operations and every message follow upstream (bridge.md).
Unlike upstream, a failing setup removes what this call created (bridge,
veth, state files, firewall rules of a network it created, sysctl.d file).
"""

from __future__ import annotations

import errno
import os

from .. import log
from ..config import StatusBlock
from ..dns import DNS_DOMAIN, AardvarkEntry, safe_string
from ..errors import ErrorList, NetavarkError, errno_of, wrap
from ..ip import IpNet
from ..netlink.links import Bridge as BridgeLink
from ..netlink.links import Veth, VethPeer, kind_debug_name
from ..rustfmt import debug_str
from . import sysctl
from .core import (
    Undo,
    add_addresses,
    configure_container_side,
    container_status,
    delete_route,
    network_hash_name,
)
from .driver import NetworkDriver
from .ipam import create_route_list, default_routes, get_ipam_addresses
from .options import (
    decode_mac,
    format_mac,
    parse_bool,
    parse_ipv4,
    parse_ipv6,
    parse_option,
    parse_str,
    parse_u16,
    parse_u32,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..firewall import PortForwardConfig, SetupNetwork
    from ..ip import IpAddr
    from ..netlink.links import Link
    from ..netlink.route import RtnlHandle
    from .ipam import IpamAddresses

_log = log.Logger("netavark::network::bridge")

MANAGED, UNMANAGED = "managed", "unmanaged"
ISOLATION = {"strict": "Strict", "true": "Normal", "false": "Never"}
IPV4_FORWARD = "net/ipv4/ip_forward"
IPV6_FORWARD = "net/ipv6/conf/all/forwarding"
NO_BRIDGE_NAME = "no bridge interface name given"


def bridge_mode(mode: str | None) -> str:
    if mode in (None, "", MANAGED):
        return MANAGED
    if mode == UNMANAGED:
        return UNMANAGED
    raise NetavarkError(f'invalid bridge mode "{mode}"')


def isolate_option(opts: Mapping[str, str] | None) -> str:
    value = parse_option(opts, "isolate", parse_str)
    if value is None:
        return "Strict"
    try:
        return ISOLATION[value]
    except KeyError:
        raise NetavarkError(f'invalid isolate option "{value}"') from None


class BridgeOptions:
    """``Network.options`` of a bridge, parsed in upstream's order."""

    __slots__ = ("isolate", "metric", "mode", "mtu", "no_default_route", "vlan", "vrf")

    def __init__(self, opts: Mapping[str, str] | None) -> None:
        self.mode: str | None = parse_option(opts, "mode", parse_str)
        self.mtu: int = parse_option(opts, "mtu", parse_u32) or 0
        self.isolate = isolate_option(opts)
        metric = parse_option(opts, "metric", parse_u32)
        self.metric: int = 100 if metric is None else metric
        self.no_default_route: bool = bool(parse_option(opts, "no_default_route", parse_bool))
        self.vrf: str | None = parse_option(opts, "vrf", parse_str)
        self.vlan: int | None = parse_option(opts, "vlan", parse_u16)
        if self.vlan is not None and self.vlan > 4094:
            raise NetavarkError("vlan must be between 0 and 4094")


class _Data:
    """What ``validate`` worked out for ``setup``."""

    __slots__ = ("bridge", "container_if", "host_if", "ipam", "mac", "mode", "opts",
                 "outbound4", "outbound6")

    def __init__(self, bridge: str, container_if: str, host_if: str, mac: bytes | None,
                 ipam: IpamAddresses, opts: BridgeOptions, mode: str,
                 outbound4: IpAddr | None, outbound6: IpAddr | None) -> None:
        self.bridge = bridge
        self.container_if = container_if
        self.host_if = host_if
        self.mac = mac
        self.ipam = ipam
        self.opts = opts
        self.mode = mode
        self.outbound4 = outbound4
        self.outbound6 = outbound6


def _bridge_name(name: str | None) -> str:
    if not name:
        raise NetavarkError(NO_BRIDGE_NAME)
    return name


class Bridge(NetworkDriver):
    data: _Data | None = None

    # ------------------------------------------------------------------ validate
    def validate(self) -> None:
        info = self.info
        net = info.network
        bridge = _bridge_name(net.network_interface)
        pno = info.per_network_opts
        if not pno.interface_name:
            raise NetavarkError("no container interface name given")
        ipam = get_ipam_addresses(pno, net)
        opts = BridgeOptions(net.options)
        host_if = parse_option(pno.options, "host_interface_name", parse_str) or ""
        mac = decode_mac(pno.static_mac) if pno.static_mac is not None else None
        mode = bridge_mode(opts.mode)
        if ipam.dhcp_enabled and mode == MANAGED:
            raise NetavarkError(
                "cannot use dhcp ipam driver without using the option mode=unmanaged")
        out4 = parse_option(net.options, "outbound_addr4", parse_ipv4)
        out6 = parse_option(net.options, "outbound_addr6", parse_ipv6)
        self.data = _Data(bridge, pno.interface_name, host_if, mac, ipam, opts, mode, out4, out6)

    # ------------------------------------------------------------------ setup
    def setup_steps(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo
               ) -> tuple[StatusBlock, AardvarkEntry | None]:
        d = self.data
        if d is None:
            raise NetavarkError("must call validate() before setup()")
        info = self.info
        net = info.network
        bridge_index, mac, writer, created = self._create_interfaces(host, netns, undo)

        status = container_status(info, d.ipam, d.bridge, d.container_if, mac)

        entry = None
        if net.dns_enabled:
            entry = self._dns_entry(host, bridge_index, status)
        elif info.container_dns_servers is not None:
            status.dns_server_ips = list(info.container_dns_servers)

        if d.mode == MANAGED and (not net.internal or net.dns_enabled):
            self._setup_firewall(undo, created)
        if writer is not None:
            writer.commit()
        return status, entry

    def _dns_entry(self, host: RtnlHandle, bridge_index: int, status: StatusBlock
                   ) -> AardvarkEntry | None:
        d = self.data
        assert d is not None
        info = self.info
        status.dns_server_ips = list(d.ipam.nameservers)
        status.dns_search_domains = [DNS_DOMAIN]
        v4 = [a.addr for a in d.ipam.container_addresses if a.version == 4]
        v6 = [a.addr for a in d.ipam.container_addresses if a.version == 6]
        names = []
        for name in [info.container_name, *(info.per_network_opts.aliases or [])]:
            reason = safe_string(name)
            if reason is None:
                names.append(name)
            else:
                _log.warn(f"invalid network alias {debug_str(name)}: {reason}, "
                          "ignoring this name")
        if d.mode == UNMANAGED:
            bind: list[IpAddr] = []
            for a in host.dump_addrs(bridge_index):
                ip = a.address
                if ip is None:
                    continue
                if ip.version == 4 or a.scope != 253:  # RT_SCOPE_LINK
                    bind.append(ip)
            if not bind:
                raise NetavarkError(
                    f"bridge '{d.bridge}' in unmanaged mode has no usable IP addresses. "
                    "Aardvark-dns requires at least one address (should not be an IPv6 "
                    "link-local address) to bind to. Please add an IP address or disable DNS "
                    "for this network (--disable-dns).")
            status.dns_server_ips = list(bind)
        else:
            bind = [g.addr for g in d.ipam.gateway_addresses]
        reason = safe_string(info.container_id)
        if reason is not None:
            _log.warn(f"invalid container id {info.container_id}: {reason}")
            return None
        return AardvarkEntry(
            network_name=info.network.name, network_gateways=bind,
            network_dns_servers=info.network.network_dns_servers,
            container_id=info.container_id, container_ips_v4=v4, container_ips_v6=v6,
            container_names=names, container_dns_servers=info.container_dns_servers,
            is_internal=info.network.internal)

    # -- interfaces ---------------------------------------------------
    def _create_interfaces(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo
                           ) -> tuple[int, str, sysctl.SysctlDWriter | None, bool]:
        d = self.data
        assert d is not None
        writer = None
        bridge_mac = None
        created = False
        try:
            link = host.get_link(d.bridge)
        except NetavarkError as e:
            if errno_of(e) != errno.ENODEV:
                raise wrap("get bridge interface", e) from None
            if d.mode == UNMANAGED:
                raise wrap("in unmanaged mode, the bridge must already exist on the host",
                           e) from None
            link = None
        if link is not None:
            bridge_index, mtu = self._validate_bridge_link(host, link)
            if d.opts.mtu:
                mtu = d.opts.mtu
        else:
            writer, bridge_index, bridge_mac, mtu, created = self._create_bridge(host, undo)
        mac = self._create_veth(host, netns, undo, bridge_index, bridge_mac, mtu)
        return bridge_index, mac, writer, created

    def _validate_bridge_link(self, host: RtnlHandle, link: Link) -> tuple[int, int]:
        d = self.data
        assert d is not None
        if link.attrs.get("linkinfo") is None:
            raise NetavarkError(
                f"could not determine namespace link kind for bridge {d.bridge}")
        if d.opts.vlan is not None and link.info_data is not None:
            if link.kind != "bridge":
                raise NetavarkError(
                    f"bridge interface {d.bridge} doesn't contain any bridge data")
            if link.info_data.get("vlan_filtering") != 1:
                host.enable_vlan_filtering(link.index)
        if link.kind is None:
            raise NetavarkError(
                f"could not determine namespace link kind for bridge {d.bridge}")
        if link.kind != "bridge":
            raise NetavarkError(f"bridge interface {d.bridge} already exists but is a "
                                f"{kind_debug_name(link.kind)} interface")
        return link.index, link.mtu or 0

    def _bridge_sysctls(self) -> list[tuple[str, str]]:
        d = self.data
        assert d is not None
        br = d.bridge
        v6 = d.ipam.ipv6_enabled
        out = []
        if self.info.network.internal:
            out.append((f"net/ipv4/conf/{br}/forwarding", "0"))
            if v6:
                out.append((f"net/ipv6/conf/{br}/forwarding", "0"))
        else:
            out.append((IPV4_FORWARD, "1"))
            if v6:
                out.append((IPV6_FORWARD, "1"))
            out.append((f"net/ipv4/conf/{br}/route_localnet", "1"))
        if v6:
            out.append((f"net/ipv6/conf/{br}/accept_dad", "0"))
            out.append((f"net/ipv6/conf/{br}/accept_ra", "0"))
        out.append((f"net/ipv4/conf/{br}/rp_filter", "2"))
        return out

    def _create_bridge(self, host: RtnlHandle, undo: Undo
                       ) -> tuple[sysctl.SysctlDWriter, int, str, int, bool]:
        d = self.data
        assert d is not None
        path = None
        # Upstream writes the file only under systemd (systemd-sysctl applies it when the
        # device appears).  We write it for every rootful setup: other sysctl tools read
        # /run/sysctl.d too, it is harmless otherwise, and callers can rely on it.
        if not self.info.rootless:
            try:
                os.mkdir(sysctl.SYSCTL_D_DIR)
            except OSError:
                pass
            path = sysctl.bridge_sysctl_d_path(d.bridge)
        # the file must exist before the bridge so systemd-sysctl applies the same values
        writer = sysctl.SysctlDWriter(path, self._bridge_sysctls())
        undo.add("sysctl.d file", writer.discard)

        vrf_index, table = 0, None
        if d.opts.vrf is not None:
            try:
                vrf = host.get_link(d.opts.vrf)
            except NetavarkError as e:
                raise wrap("get vrf to set up bridge interface", e) from None
            vrf_index, table = self._validate_vrf(vrf)

        mtu = d.opts.mtu
        if mtu == 0:
            mtu = self._default_route_mtu(host, table)

        spec = BridgeLink(d.bridge, mtu=d.opts.mtu, master=vrf_index,
                          vlan_filtering=d.opts.vlan is not None)
        try:
            host.create_link(spec)
        except NetavarkError as e:
            if errno_of(e) == errno.EEXIST:
                # another netavark created it meanwhile: use it as an existing bridge
                link = self._lookup_bridge(host)
                bridge_index, br_mtu = self._validate_bridge_link(host, link)
                return writer, bridge_index, "", d.opts.mtu or br_mtu, False
            raise wrap("create bridge", e) from None
        undo.add(f"bridge {d.bridge}", lambda: self._delete_bridge_if_unused(host, d.bridge))
        writer.write_sysctls()
        link = self._lookup_bridge(host)
        if link.address is None:
            raise NetavarkError("failed to get the mac address from the bridge interface")
        add_addresses(host, link.index, d.ipam.gateway_addresses, "add ip addr to bridge")
        try:
            host.set_up(link.index)
        except NetavarkError as e:
            raise wrap("set bridge up", e) from None
        return writer, link.index, link.address, mtu, True

    def _lookup_bridge(self, host: RtnlHandle) -> Link:
        d = self.data
        assert d is not None
        try:
            return host.get_link(d.bridge)
        except NetavarkError as e:
            raise wrap("get bridge interface", e) from None

    @staticmethod
    def _delete_bridge_if_unused(host: RtnlHandle, name: str) -> None:
        link = host.get_link(name)
        if not host.dump_links(master=link.index):
            host.del_link(link.index)

    def _validate_vrf(self, vrf: Link) -> tuple[int, int | None]:
        d = self.data
        assert d is not None
        name = d.opts.vrf
        if vrf.kind is None:
            raise NetavarkError(f"could not determine namespace link kind for vrf {name}")
        if vrf.kind != "vrf":
            raise NetavarkError(
                f"vrf {name} already exists but is a {kind_debug_name(vrf.kind)} interface")
        table = vrf.info_data.get("table") if vrf.info_data else None
        return vrf.index, table

    @staticmethod
    def _default_route_mtu(host: RtnlHandle, table: int | None) -> int:
        from ..netlink.rtnl import RT_TABLE_MAIN

        try:
            link = host.default_route_interface(table or RT_TABLE_MAIN)
        except NetavarkError:
            return 0
        if link.mtu is None:
            _log.warn(f"failed to get mtu for default interface {link.index}: no MTU "
                      "attribute in netlink message, possible kernel issue, using kernel "
                      "default")
            return 0
        return link.mtu

    def _create_veth(self, host: RtnlHandle, netns: RtnlHandle, undo: Undo, bridge_index: int,
                     bridge_mac: str | None, mtu: int) -> str:
        d = self.data
        assert d is not None
        info = self.info
        container_ns = info.netns_container
        assert container_ns is not None
        peer = VethPeer(d.container_if, mtu=mtu,
                        address=format_mac(d.mac) if d.mac is not None else None,
                        netns_fd=container_ns.fd)
        try:
            host.create_link(Veth(d.host_if, peer, mtu=mtu, master=bridge_index))
        except NetavarkError as e:
            if errno_of(e) == errno.EEXIST:
                if d.host_if:
                    ctx = (f"create veth pair: interface {d.container_if} already exists on "
                           f"container namespace or {d.host_if} exists on host namespace")
                else:
                    ctx = (f"create veth pair: interface {d.container_if} already exists on "
                           "container namespace")
                raise wrap(ctx, e) from None
            raise wrap("create veth pair", e) from None
        undo.add(f"veth {d.container_if}", lambda: netns.del_link_by_name(d.container_if))

        try:
            veth = netns.get_link(d.container_if)
        except NetavarkError as e:
            raise wrap("get container veth", e) from None
        if not veth.address:
            raise NetavarkError(
                "failed to get the mac address from the container veth interface")
        host_index = veth.link or 0

        if d.opts.vlan is not None:
            host.bridge_vlan_add(host_index, d.opts.vlan)

        ipv6 = d.ipam.ipv6_enabled
        if d.mode == MANAGED:
            with container_ns.entered(info.netns_host):
                sysctl.disable_ipv6_autoconf(d.container_if)
                if ipv6:
                    sysctl.apply_sysctl(f"net/ipv6/conf/{d.container_if}/accept_dad", "0")
                sysctl.apply_sysctl(f"net/ipv4/conf/{d.container_if}/arp_notify", "1")
                sysctl.apply_sysctl(f"net/ipv4/conf/{d.container_if}/rp_filter", "2")
            if ipv6:
                host_veth = host.get_link_by_index(host_index)
                sysctl.apply_sysctl(f"net/ipv6/conf/{host_veth.name}/accept_dad", "0")

        try:
            host.set_up(host_index)
        except NetavarkError as e:
            raise wrap("failed to set host veth up", e) from None
        if bridge_mac:
            # pin the MAC: otherwise the bridge follows the lowest port MAC, which
            # changes as containers come and go and breaks neighbours' ARP caches
            try:
                host.set_mac(bridge_index, bridge_mac)
            except NetavarkError as e:
                raise wrap("set static mac on bridge", e) from None

        routes = []
        if not info.network.internal and not d.opts.no_default_route:
            routes = default_routes(d.ipam.gateway_addresses, d.opts.metric)
        configure_container_side(netns, veth.index, d.ipam.container_addresses,
                                 addr_context="add ip addr to container veth",
                                 up_context="set container veth up",
                                 default_routes=routes, static_routes=d.ipam.routes)
        return veth.address

    # -- firewall -----------------------------------------------------
    def _firewall_conf(self, addresses: list[IpNet], nameservers: list[IpAddr], isolate: str,
                       bridge: str, out4: IpAddr | None, out6: IpAddr | None
                       ) -> tuple[SetupNetwork, PortForwardConfig]:
        from ..firewall import PortForwardConfig, SetupNetwork

        info = self.info
        net = info.network
        hash_name = network_hash_name(net.name)
        sn = SetupNetwork(
            [s.subnet for s in net.subnets] if net.subnets is not None else None,
            bridge, net.id, hash_name, isolate, info.dns_port, internal=net.internal,
            outbound_addr4=out4, outbound_addr6=out6)
        first: dict[int, IpNet] = {}
        for a in addresses:
            first.setdefault(a.version, a)
        a4, a6 = first.get(4), first.get(6)
        pf = PortForwardConfig(
            info.container_id, net.id, info.port_mappings, net.name, hash_name,
            container_ip_v4=a4.addr if a4 else None, subnet_v4=a4.trunc() if a4 else None,
            container_ip_v6=a6.addr if a6 else None, subnet_v6=a6.trunc() if a6 else None,
            dns_port=info.dns_port, dns_server_ips=list(nameservers), internal=net.internal)
        return sn, pf

    def _setup_firewall(self, undo: Undo, created: bool) -> None:
        from ..firewall import try_system_bus
        from ..firewall.state import remove_fw_config, write_fw_config

        d = self.data
        assert d is not None
        info = self.info
        fw = info.firewall
        sn, pf = self._firewall_conf(d.ipam.container_addresses, d.ipam.nameservers,
                                     d.opts.isolate, d.bridge, d.outbound4, d.outbound6)
        if not info.rootless:
            write_fw_config(info.config_dir, info.network.id, info.container_id, fw.name, sn, pf)
            undo.add("firewall state files", lambda: remove_fw_config(
                info.config_dir, info.network.id, info.container_id, created))
        dbus = try_system_bus()
        fw.setup_network(sn, dbus)
        if created:
            undo.add("network firewall rules", lambda: fw.teardown_network(sn))
        fw.setup_port_forward(pf, dbus)

    # ------------------------------------------------------------------ teardown
    def teardown(self, host: RtnlHandle, netns: RtnlHandle | None) -> None:
        errors = ErrorList()
        if netns is not None:
            self._netns_teardown(netns, errors)
        self._host_teardown(host, errors)
        if errors:
            raise errors

    def _netns_teardown(self, netns: RtnlHandle, errors: ErrorList) -> None:
        info = self.info
        try:
            ipam = get_ipam_addresses(info.per_network_opts, info.network)
            if ipam.dhcp_enabled:
                from .dhcp import dhcp_teardown

                dhcp_teardown(info, netns)
        except NetavarkError as e:
            errors.push(e)
            return
        try:
            for route in create_route_list(info.network.routes):
                try:
                    delete_route(netns, route)
                except NetavarkError as e:
                    errors.push(e)
        except NetavarkError as e:
            errors.push(e)
        name = info.per_network_opts.interface_name
        try:
            netns.del_link_by_name(name)
        except NetavarkError as e:
            errors.push(wrap(f"failed to delete container veth {name}", e))

    def _host_teardown(self, host: RtnlHandle, errors: ErrorList) -> None:
        info = self.info
        net = info.network
        try:
            mode = bridge_mode(parse_option(net.options, "mode", parse_str))
            bridge = _bridge_name(net.network_interface)
        except NetavarkError as e:
            errors.push(e)
            return
        bridge_index = None
        complete = False
        try:
            link = host.get_link(bridge)
        except NetavarkError as e:
            errors.push(wrap("failed to get bridge interface", e))
        else:
            bridge_index = link.index
            try:
                ports = host.dump_links(master=link.index)
            except NetavarkError as e:
                errors.push(wrap("failed to get connected bridge interfaces", e))
            else:
                complete = not ports and mode == MANAGED

        if (not net.internal or net.dns_enabled) and mode == MANAGED:
            try:
                self._teardown_firewall(complete, bridge)
            except NetavarkError as e:
                errors.push(e)
            if complete:
                path = sysctl.bridge_sysctl_d_path(bridge)
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    errors.push(wrap(f"failed to remove {path}", e))

        if complete and bridge_index is not None:
            _log.info(f"removing bridge {bridge}")
            try:
                host.del_link(bridge_index)
            except NetavarkError as e:
                errors.push(wrap(f"failed to delete bridge {bridge}", e))

    def _teardown_firewall(self, complete: bool, bridge: str) -> None:
        from ..firewall.state import remove_fw_config

        info = self.info
        opts = info.network.options
        try:
            isolate = isolate_option(opts)
        except NetavarkError as e:
            _log.error(f"failed to parse isolate option: {e}")
            isolate = "Never"
        out = []
        for key, parser in (("outbound_addr4", parse_ipv4), ("outbound_addr6", parse_ipv6)):
            try:
                out.append(parse_option(opts, key, parser))
            except NetavarkError as e:
                _log.error(f"failed to parse {key} option: {e}")
                out.append(None)
        try:
            ipam = get_ipam_addresses(info.per_network_opts, info.network)
            addrs, nameservers = ipam.container_addresses, ipam.nameservers
        except NetavarkError as e:
            _log.error(f"failed to parse ipam options: {e}")
            addrs, nameservers = [], []
        sn, pf = self._firewall_conf(addrs, nameservers, isolate, bridge, out[0], out[1])
        if not info.rootless:
            remove_fw_config(info.config_dir, info.network.id, info.container_id, complete)
        if complete:
            info.firewall.teardown_network(sn)
        info.firewall.teardown_port_forward(pf, complete)
