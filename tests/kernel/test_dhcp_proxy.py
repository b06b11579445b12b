"""The DHCP proxy against dnsmasq on a LAN of namespaces (see dhcp_env.py).

dnsmasq's log and lease file are the independent oracle for what went over
the wire; ``ip -j`` for what ended up in the container.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from netavark.dhcp import proto, rpc_client
from netavark.dhcp.grpc import GrpcError
from tests.kernel.dhcp_env import (
    Dnsmasq,
    Proxy,
    addresses,
    default_routes,
    make_lan,
    random_subnet,
    run_netavark,
    wait_for,
)

CTR_ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture
def env(netns_factory, tmp_path):
    """lan + host namespaces, dnsmasq running, a proxy in the host namespace."""
    lan = netns_factory("nvdl")
    host = netns_factory("nvdh")
    subnet = random_subnet()
    make_lan(lan, host, subnet)
    started: list = []

    class Env:
        pass

    e = Env()
    e.lan, e.host, e.subnet, e.tmp = lan, host, subnet, str(tmp_path)

    def dnsmasq(extra=None, subnet=subnet, name="dnsmasq"):
        d = Dnsmasq(lan, os.path.join(str(tmp_path), name), subnet, extra)
        started.append(d)
        return d

    def proxy(*args: str) -> Proxy:
        p = Proxy(host, str(tmp_path), *args)
        started.append(p)
        return p

    e.start_dnsmasq = dnsmasq
    e.start_proxy = proxy
    yield e
    for p in reversed(started):
        p.stop()


def macvlan_container(env, container, name: str = "eth0") -> str:
    """A macvlan on the host's uplink, moved into ``container``; returns its MAC."""
    env.host.run("ip", "link", "add", "mvtmp0", "link", "uplink", "type", "macvlan", "mode",
                 "bridge")
    env.host.run("ip", "link", "set", "mvtmp0", "netns", container.name)
    container.run("ip", "link", "set", "mvtmp0", "name", name)
    container.run("ip", "link", "set", name, "up")
    return container.links()[name]["address"]


def setup_request(container, mac: str, **kw: str) -> proto.NetworkConfig:
    fields = {"host_iface": "uplink", "container_iface": "eth0", "container_mac_addr": mac,
              "domain_name": "", "host_name": "foobar", "version": 0,
              "ns_path": container.path, "container_id": CTR_ID}
    fields.update(kw)
    return proto.NetworkConfig(**fields)


def proxy_call(proxy: Proxy, method: str, req: proto.NetworkConfig) -> proto.Lease:
    return proto.Lease.decode(rpc_client.call(proxy.sock, method, req.encode()))


def test_macvlan_lease_configures_container_and_release(env, container):
    dns = env.start_dnsmasq()
    proxy = env.start_proxy()
    mac = macvlan_container(env, container)

    lease = proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac))
    assert lease.siaddr == f"{env.subnet}.1"
    assert lease.srv_id == f"{env.subnet}.1"
    assert lease.gateways == [f"{env.subnet}.1"]
    assert lease.dns_servers == [f"{env.subnet}.1"]
    assert lease.subnet_mask == "255.255.255.0"
    assert lease.mac_address == mac
    assert lease.lease_time == 120
    assert re.fullmatch(rf"{re.escape(env.subnet)}\.5\d", lease.yiaddr)

    # the container got the address and one default route (metric 100, static)
    assert addresses(container, "eth0") == [f"{lease.yiaddr}/24"]
    routes = default_routes(container)
    assert [(r["gateway"], r["metric"], r["protocol"]) for r in routes] == \
        [(f"{env.subnet}.1", 100, "static")]

    # what dnsmasq saw: our MAC, the host name, a full DORA
    log = dns.text()
    assert f"DHCPACK(br0) {lease.yiaddr} {mac} foobar" in log
    assert "client provides name: foobar" in log
    assert any(mac in line and lease.yiaddr in line for line in dns.lease_lines())
    assert proxy.leases()[mac][0]["yiaddr"] == lease.yiaddr
    assert list(proxy.leases()[mac][0]) == [
        "t1", "t2", "lease_time", "mtu", "domain_name", "mac_address", "is_v6", "siaddr",
        "yiaddr", "srv_id", "subnet_mask", "broadcast_addr", "dns_servers", "gateways",
        "ntp_servers", "host_name"]

    # teardown: the lease is released at the server and forgotten by the proxy
    removed = proxy_call(proxy, proto.TEARDOWN_PATH,
                         setup_request(container, mac, host_name="", container_id=""))
    assert removed.yiaddr == lease.yiaddr
    wait_for(lambda: f"DHCPRELEASE(br0) {lease.yiaddr} {mac}" in dns.text(), 5,
             "DHCPRELEASE in the dnsmasq log")
    wait_for(lambda: not any(mac in line for line in dns.lease_lines()), 5,
             "dnsmasq to drop the lease")
    assert proxy.leases() == {}
    # unknown MAC: an empty lease, no error
    empty = proxy_call(proxy, proto.TEARDOWN_PATH, setup_request(container, mac))
    assert empty == proto.Lease()


def test_client_id_keeps_address_for_new_mac(env, container, netns_factory):
    env.start_dnsmasq()
    proxy = env.start_proxy()
    mac = macvlan_container(env, container)
    first = proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac))
    proxy.stop()  # the container "restarts" without a teardown

    container2 = netns_factory("nvdc")
    mac2 = macvlan_container(env, container2)
    assert mac2 != mac
    proxy2 = env.start_proxy()
    second = proxy_call(proxy2, proto.SETUP_PATH, setup_request(container2, mac2))
    assert second.yiaddr == first.yiaddr


def test_renewal_keeps_address(env, container):
    dns = env.start_dnsmasq(["dhcp-option=option:T1,3", "dhcp-option=option:T2,100"])
    proxy = env.start_proxy()
    mac = macvlan_container(env, container)
    lease = proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac))
    assert lease.t1 == 3

    wait_for(lambda: dns.text().count(f"DHCPACK(br0) {lease.yiaddr} {mac}") >= 3, 20,
             "two renewals")
    # a renewal is a unicast DHCPREQUEST naming the current address
    assert re.search(rf"DHCPREQUEST\(br0\) {re.escape(lease.yiaddr)} {mac}", dns.text())
    wait_for(lambda: proxy.log_text().count(f"got new lease for mac {mac}") >= 2, 5,
             "the proxy to take both renewals")
    assert "changed, update address" not in proxy.log_text()
    assert "Failed to acquire" not in proxy.log_text()
    assert addresses(container, "eth0") == [f"{lease.yiaddr}/24"]


def test_changed_lease_is_applied_live(env, container):
    dns = env.start_dnsmasq(["dhcp-option=option:T1,3", "dhcp-option=option:T2,100"])
    proxy = env.start_proxy("--timeout", "2")
    mac = macvlan_container(env, container)
    lease = proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac))

    # the LAN moves to another subnet
    dns.stop()
    env.lan.run("ip", "addr", "del", f"{env.subnet}.1/24", "dev", "br0")
    new = random_subnet()
    while new == env.subnet:
        new = random_subnet()
    env.lan.run("ip", "addr", "add", f"{new}.1/24", "dev", "br0")
    env.start_dnsmasq(["dhcp-option=option:T1,3", "dhcp-option=option:T2,100"], subnet=new,
                      name="dnsmasq2")

    wait_for(lambda: any(a.startswith(f"{new}.") for a in addresses(container, "eth0")), 30,
             "the new address in the container")
    wait_for(lambda: [r["gateway"] for r in default_routes(container)] == [f"{new}.1"], 10,
             "the new default route")
    assert not any(a.startswith(f"{lease.yiaddr}/") for a in addresses(container, "eth0"))
    assert f"ip or gateway for mac {mac} changed, update address" in proxy.log_text()


def test_proxy_errors(env, container):
    env.start_dnsmasq()
    proxy = env.start_proxy("--timeout", "2")
    mac = macvlan_container(env, container)
    cases = [
        (dict(host_iface="nope0"), 3, "Netlink error: No such device (os error 19)"),
        (dict(container_mac_addr=""), 3,
         "unable to parse mac address : cannot parse integer from empty string"),
        (dict(container_mac_addr="aa-bb-cc-dd-ee-ff"), 3,
         "InvalidArgument: Invalid MAC address aa-bb-cc-dd-ee-ff, expecting format "
         "01:02:2a:2c:f7:04"),
        (dict(version=1), 3, "ipv6 not yet supported"),
        (dict(version=7), 3, "invalid protocol version"),
    ]
    for kw, code, msg in cases:
        with pytest.raises(GrpcError) as exc:
            proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac, **kw))
        assert (exc.value.code, exc.value.message) == (code, msg), kw
    # the DHCP exchange works but the container interface does not exist
    with pytest.raises(GrpcError) as exc:
        proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac, container_iface="x9"))
    assert (exc.value.code, exc.value.message) == \
        (2, "Netlink error: No such device (os error 19)")


def test_dora_timeout(env, container):
    # no DHCP server on the LAN
    proxy = env.start_proxy("--timeout", "1")
    mac = macvlan_container(env, container)
    with pytest.raises(GrpcError) as exc:
        proxy_call(proxy, proto.SETUP_PATH, setup_request(container, mac))
    assert (exc.value.code, exc.value.message) == \
        (10, "Timeout: Timeout on acquiring DHCPv4 lease on uplink")
    # created empty at start-up, written on the first change only
    with open(proxy.lease_file) as f:
        assert f.read() == ""


def _unmanaged_input(container, host_iface: str, mac: str | None = None) -> str:
    pno = {"interface_name": "eth0", "static_ips": []}
    if mac:
        pno["static_mac"] = mac
    return json.dumps({
        "container_id": CTR_ID, "container_name": "dhcpctr",
        "networks": {"lan": pno},
        "network_info": {"lan": {
            "name": "lan", "id": "b" * 64, "driver": "bridge",
            "network_interface": host_iface, "subnets": [], "ipv6_enabled": False,
            "internal": False, "dns_enabled": False, "options": {"mode": "unmanaged"},
            "ipam_options": {"driver": "dhcp"}}},
    })


def test_netavark_setup_teardown_unmanaged_bridge(env, container, tmp_path):
    dns = env.start_dnsmasq()
    proxy = env.start_proxy()
    env.host.run("ip", "link", "add", "lanbr", "type", "bridge")
    env.host.run("ip", "link", "set", "uplink", "master", "lanbr")
    env.host.run("ip", "link", "set", "lanbr", "up")
    cfg = tmp_path / "config"
    cfg.mkdir()
    data = _unmanaged_input(container, "lanbr")

    res = run_netavark(env.host, str(tmp_path), proxy.dir, str(cfg), "setup", container.path,
                       input=data)
    assert res.returncode == 0, (res.stdout, res.stderr, proxy.log_text())
    status = json.loads(res.stdout)["lan"]
    iface = status["interfaces"]["eth0"]
    (subnet,) = iface["subnets"]
    ip = subnet["ipnet"].split("/")[0]
    assert subnet == {"ipnet": f"{ip}/24", "gateway": f"{env.subnet}.1"}
    assert status["dns_server_ips"] == [f"{env.subnet}.1"]
    assert addresses(container, "eth0") == [f"{ip}/24"]
    assert [r["gateway"] for r in default_routes(container)] == [f"{env.subnet}.1"]
    assert f"DHCPACK(br0) {ip} {iface['mac_address']}" in dns.text()

    res = run_netavark(env.host, str(tmp_path), proxy.dir, str(cfg), "teardown",
                       container.path, input=data)
    assert res.returncode == 0, (res.stdout, res.stderr)
    wait_for(lambda: f"DHCPRELEASE(br0) {ip} {iface['mac_address']}" in dns.text(), 5,
             "DHCPRELEASE")
    assert "eth0" not in container.links()
    assert proxy.leases() == {}


def test_netavark_setup_without_proxy(env, container, tmp_path):
    env.host.run("ip", "link", "add", "lanbr", "type", "bridge")
    env.host.run("ip", "link", "set", "lanbr", "up")
    cfg = tmp_path / "config"
    cfg.mkdir()
    (tmp_path / "proxy").mkdir()
    data = _unmanaged_input(container, "lanbr")
    res = run_netavark(env.host, str(tmp_path), str(tmp_path / "proxy"), str(cfg), "setup",
                       container.path, input=data)
    assert res.returncode == 1
    assert json.loads(res.stdout) == {"error": (
        'unable to obtain lease: socket "/run/podman/nv-proxy.sock": No such file or '
        "directory (os error 2), is the netavark-dhcp-proxy.socket unit enabled?")}
    # nothing left behind
    assert "eth0" not in container.links()
    assert not [n for n, link in env.host.links().items() if link.get("master") == "lanbr"]


def _macvlan_input(parent: str, hostname: str = "") -> str:
    data = {
        "container_id": CTR_ID, "container_name": "dhcpctr",
        "networks": {"mv": {"interface_name": "eth0", "static_ips": []}},
        "network_info": {"mv": {
            "name": "mv", "id": "c" * 64, "driver": "macvlan", "network_interface": parent,
            "subnets": [], "ipv6_enabled": False, "internal": False, "dns_enabled": False,
            "ipam_options": {"driver": "dhcp"}}},
    }
    if hostname:
        data["container_hostname"] = hostname
    return json.dumps(data)


def test_netavark_setup_teardown_macvlan(env, container, tmp_path):
    dns = env.start_dnsmasq()
    proxy = env.start_proxy()
    cfg = tmp_path / "config"
    cfg.mkdir()
    data = _macvlan_input("uplink", hostname="mvhost")

    res = run_netavark(env.host, str(tmp_path), proxy.dir, str(cfg), "setup", container.path,
                       input=data)
    assert res.returncode == 0, (res.stdout, res.stderr, proxy.log_text())
    status = json.loads(res.stdout)["mv"]
    iface = status["interfaces"]["eth0"]
    mac = iface["mac_address"]
    assert container.links()["eth0"]["address"] == mac
    (subnet,) = iface["subnets"]
    ip = subnet["ipnet"].split("/")[0]
    assert subnet["gateway"] == f"{env.subnet}.1"
    assert status["dns_server_ips"] == [f"{env.subnet}.1"]
    assert addresses(container, "eth0") == [f"{ip}/24"]
    assert f"DHCPACK(br0) {ip} {mac} mvhost" in dns.text()
    # the lease is usable: the container reaches the DHCP server's host
    container.run("ping", "-c", "1", "-W", "5", f"{env.subnet}.1")

    res = run_netavark(env.host, str(tmp_path), proxy.dir, str(cfg), "teardown",
                       container.path, input=data)
    assert res.returncode == 0, (res.stdout, res.stderr)
    wait_for(lambda: f"DHCPRELEASE(br0) {ip} {mac}" in dns.text(), 5, "DHCPRELEASE")
    assert "eth0" not in container.links()
    assert proxy.leases() == {}
