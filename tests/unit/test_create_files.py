"""Every upstream ``test/testfiles/create/*.json`` with its complete expected result.

The host is assumed to have the links ``lo`` and ``dummy0`` (what upstream's
bats setup creates), so the first free bridge name is ``podman1``.  ``<now>``
and ``<ula>`` stand for the creation time and the random IPv6 /64; both are
checked structurally by ``normalise``.
"""

from __future__ import annotations

import os

import pytest

from tests.unit.create_helpers import UPSTREAM, create_file, normalise

ID = "abc123def4567890123456789012345678901234567890123456789012345678"
LOCAL = {"driver": "host-local"}


EXPECTED: dict[str, dict] = {
    "basic.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "testnet1",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "bridge.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "bridge-net",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "check-used-subnets-with-subnet.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "testnet-avoid-used",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.1.1", "subnet": "10.89.1.0/24"}]},
    "dns-enabled.json": {
        "created": "<now>", "dns_enabled": True, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "dns-net",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "duplicate-name-same.json": {"error": "network already exists testnet1"},
    "empty-id.json": {"error": "Network id must be supplied"},
    "empty-name.json": {"error": "Network name must be supplied"},
    "explicit-subnet.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "explicit-subnet",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.100.0.1", "subnet": "10.100.0.0/24"}]},
    "gateway-not-in-subnet.json": {"error": "gateway 10.200.0.1 not in subnet 10.100.0.0/24"},
    # internal without DNS: no gateway is added
    "internal.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": True, "ipv6_enabled": False, "name": "internal-net",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"subnet": "10.89.0.0/24"}]},
    "invalid-name.json": {"error": 'Invalid characters in network name "badname!": '
                                   "must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"},
    "ipam-none-with-subnets.json": {"error": "None ipam driver is set but subnets are given"},
    # ipam none: no subnet allocated, DNS switched off
    "ipam-none.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "4334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "noneipam",
        "network_interface": "podman1", "ipam_options": {"driver": "none"}},
    # the IPv6 pool in subnet_pools is ignored: the /64 is random
    "ipv6-auto-dualstack.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "9234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": True, "name": "dualstack",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"},
                    {"gateway": "<ula>::1", "subnet": "<ula>::/64"}]},
    "ipv6-enabled.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": True, "name": "ipv6-net",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"},
                    {"gateway": "<ula>::1", "subnet": "<ula>::/64"}]},
    # an IPv6 subnet switches ipv6_enabled on; no IPv4 subnet is added then
    "ipv6-subnet.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "1234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": True, "name": "ipv6net",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "fdcc::1", "subnet": "fdcc::/64"}]},
    "ipv6-with-ipv4-subnet.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "a234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": True, "name": "ipv6addv4",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.100.0.1", "subnet": "10.100.0.0/24"},
                    {"gateway": "<ula>::1", "subnet": "<ula>::/64"}]},
    "ipvlan-invalid-parent.json": {"error": "parent interface eth999 does not exist"},
    "ipvlan-no-subnet.json": {"error": "ipam driver dhcp is not supported with ipvlan"},
    "ipvlan-subnet.json": {
        "created": "<now>", "dns_enabled": False, "driver": "ipvlan",
        "id": "a334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "ipvlansubnet",
        "network_interface": "dummy0", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.200.0.1", "subnet": "10.200.0.0/24"}]},
    "isolate-strict.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "3334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "isolatestrict",
        "network_interface": "podman1", "options": {"isolate": "strict"},
        "ipam_options": LOCAL, "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "isolate-true.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "2334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "isolatenet",
        "network_interface": "podman1", "options": {"isolate": "true"},
        "ipam_options": LOCAL, "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "labels.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "labeled-net",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}],
        "labels": {"key1": "value1", "key2": "value2"}},
    "lease-range-both.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "5234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "leasenet2",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.100.0.1",
                     "lease_range": {"end_ip": "10.100.0.50", "start_ip": "10.100.0.20"},
                     "subnet": "10.100.0.0/24"}]},
    "lease-range-invalid.json": {
        "error": "lease range start_ip 10.200.0.20 not in subnet 10.100.0.0/24"},
    # an unset end of the lease range is printed as null
    "lease-range-start.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "4234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "leasenet",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.100.0.1",
                     "lease_range": {"end_ip": None, "start_ip": "10.100.0.20"},
                     "subnet": "10.100.0.0/24"}]},
    "macvlan-dhcp.json": {
        "created": "<now>", "dns_enabled": False, "driver": "macvlan",
        "id": "6334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "macvlandhcp",
        "network_interface": "dummy0", "ipam_options": {"driver": "dhcp"}},
    "macvlan-invalid-parent.json": {"error": "parent interface eth999 does not exist"},
    # no gateway given and none added: macvlan is not internal, so one is added
    "macvlan-mode.json": {
        "created": "<now>", "dns_enabled": False, "driver": "macvlan",
        "id": "8334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "macvlanmode",
        "network_interface": "dummy0", "options": {"mode": "bridge"}, "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.200.0.1", "subnet": "10.200.0.0/24"}]},
    "macvlan-subnet.json": {
        "created": "<now>", "dns_enabled": False, "driver": "macvlan",
        "id": "7334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "macvlansubnet",
        "network_interface": "dummy0", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.200.0.1", "subnet": "10.200.0.0/24"}]},
    "mtu-invalid.json": {"error": 'unable to parse "mtu": invalid digit found in string'},
    "mtu-option.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "e234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "mtunet",
        "network_interface": "podman1", "options": {"mtu": "1500"},
        "ipam_options": LOCAL, "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "network-dns-servers-dns-disabled.json": {
        "error": "cannot set NetworkDNSServers if DNS is not enabled for the network"},
    # a JSON decoding error: serde's message with the position after the bad string
    "network-dns-servers-invalid-ip.json": {
        "error": "failed to load network create: IO error: invalid IP address syntax "
                 "at line 9 column 47"},
    "network-dns-servers-valid.json": {
        "created": "<now>", "dns_enabled": True, "driver": "bridge",
        "id": "b234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "dnsservers",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}],
        "network_dns_servers": ["8.8.8.8", "1.1.1.1"]},
    "options.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "options-net",
        "network_interface": "podman1", "options": {"mtu": "1500"},
        "ipam_options": LOCAL, "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
    "route-invalid-dest.json": {
        "error": "failed to load network create: IO error: invalid IP address syntax "
                 "at line 16 column 36"},
    "route-invalid-gw.json": {
        "error": "failed to load network create: IO error: invalid IP address syntax "
                 "at line 17 column 28"},
    "routes-blackhole-with-gateway.json": {
        "error": "route 10.89.0.0/24 must not have a gateway for type blackhole"},
    # routes: gateway omitted when unset, metric kept as null, route_type only when set
    "routes-blackhole.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "blackholetest",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.88.0.1", "subnet": "10.88.0.0/16"}],
        "routes": [{"destination": "10.89.0.0/24", "metric": None, "route_type": "blackhole"}]},
    "routes-unicast-no-gateway.json": {
        "error": "route 10.89.0.0/24 requires a gateway for type unicast"},
    "routes-unicast.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge", "id": ID,
        "internal": False, "ipv6_enabled": False, "name": "routetest",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.88.0.1", "subnet": "10.88.0.0/16"}],
        "routes": [{"gateway": "10.88.0.2", "destination": "10.89.0.0/24", "metric": None}]},
    "static-route.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "b334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "routenet",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.100.0.1", "subnet": "10.100.0.0/24"}],
        "routes": [{"gateway": "10.100.0.254", "destination": "192.168.0.0/24",
                    "metric": None}]},
    "subnet-duplicate-used.json": {
        "error": "subnet 10.89.0.0/24 is already used on the host or by another config"},
    "subnet-duplicate-within.json": {"error": "duplicate subnet defined: 10.100.0.0/24"},
    "subnet-overlap-within.json": {
        "error": "overlapping subnets: 10.1.2.0/23 and 10.1.3.248/30"},
    "subnet-overlaps-used.json": {
        "error": "subnet 10.1.3.248/30 is already used on the host or by another config"},
    "subnet-with-gateway.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "2234567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "gwnet",
        "network_interface": "podman1", "ipam_options": LOCAL,
        "subnets": [{"gateway": "10.100.0.50", "subnet": "10.100.0.0/24"}]},
    "subnet-with-no-possible-gateway.json": {
        "error": "could not create gateway for subnet 192.168.0.0/32 because it has a 31 or "
                 "greater subnet prefix"},
    "used-interface-1.json": {"error": "bridge name usedinterface already in use"},
    "vlan-invalid.json": {"error": "vlan must be between 0 and 4094"},
    "vlan-option.json": {
        "created": "<now>", "dns_enabled": False, "driver": "bridge",
        "id": "0334567890123456789012345678901234567890123456789012345678901234",
        "internal": False, "ipv6_enabled": False, "name": "vlannet",
        "network_interface": "podman1", "options": {"vlan": "100"},
        "ipam_options": LOCAL, "subnets": [{"gateway": "10.89.0.1", "subnet": "10.89.0.0/24"}]},
}


def test_every_upstream_file_has_an_expectation() -> None:
    assert sorted(os.listdir(UPSTREAM)) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_upstream_file(name: str) -> None:
    expected = EXPECTED[name]
    out = create_file(os.path.join(UPSTREAM, name))
    assert normalise(out, expected) == expected
    if "error" not in expected:
        # key order of the output is upstream's (maps aside)
        assert list(out) == list(expected)
        for got, want in zip(out.get("subnets") or [], expected.get("subnets") or []):
            assert list(got) == list(want)
