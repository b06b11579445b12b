"""The macvlan/ipvlan create requests, compared with requests real tools sent.

Captures (``tests/data/vlan/*.hex``, made by ``tests/data/vlan/capture.py``):

* ``netavark-macvlan-*``: upstream netavark 1.4.0 creating a macvlan.  Its
  request layout (attribute order, NUL-terminated ``IFLA_INFO_KIND``, nested
  attributes without ``NLA_F_NESTED``) is the one 2.1 still uses, so ours
  must be byte-identical to the whole message (same sequence number, parent
  index and namespace fd substituted from the capture).
* ``iproute2-*``: ``ip link add ... type macvlan|ipvlan mode M`` (iproute2 6.1).
  iproute2 orders the top-level attributes differently and sends
  ``IFLA_INFO_KIND`` without its NUL, so we compare

  - the ``ifinfomsg`` header and the netlink header type/flags: equal;
  - every top-level attribute except ``IFLA_LINKINFO``: the same set of raw
    TLVs, byte for byte;
  - ``IFLA_LINKINFO``: same kind once decoded; ``IFLA_INFO_DATA`` byte-identical
    for macvlan; for ipvlan ours is iproute2's minus its trailing
    ``IFLA_IPVLAN_FLAGS`` = 0 (iproute2 always sends flags; upstream netavark
    never does, and 0 is what the kernel assumes when the attribute is absent).

* upstream netavark has no ipvlan capture (1.4.0 lacks the driver); the
  expected upstream ipvlan request is derived from the netavark macvlan
  capture with its ``IFLA_LINKINFO`` rebuilt from kind ``ipvlan`` and the
  ``IFLA_IPVLAN_MODE`` TLV iproute2 sent: upstream builds both kinds with the
  same code (``CreateLinkOptions``), only the info data differs.
"""

from __future__ import annotations

import os
import struct

import pytest

from netavark.config import NetworkOptions
from netavark.netlink import rtnl
from netavark.netlink.attrs import iter_attrs, pack_attr
from netavark.netlink.message import NLM_F_REQUEST, NLMSGHDR, iter_messages, pack_message
from netavark.netlink.route import RtnlHandle
from netavark.network.driver import DriverInfo
from netavark.network.vlan import Vlan
from tests.conftest import TESTDATA

DATA = os.path.join(TESTDATA, "vlan")
IFLA_LINKINFO = 18
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_LINK, IFLA_NET_NS_FD = 5, 28


def load(name: str) -> bytes:
    with open(os.path.join(DATA, name + ".hex")) as f:
        text = "".join(line for line in f if not line.startswith("#"))
    return bytes.fromhex(text)


def tlvs(data: bytes) -> list[tuple[int, bytes]]:
    return [(t, bytes(p)) for t, p in iter_attrs(data)]


def raw_tlvs(data: bytes) -> list[bytes]:
    """Each top-level attribute as its padded wire bytes."""
    return [pack_attr(t, p) for t, p in tlvs(data)]


class Captured:
    """One captured request, split into its parts."""

    def __init__(self, name: str) -> None:
        self.raw = load(name)
        (msg,) = list(iter_messages(self.raw))
        self.msg = msg
        self.header = self.raw[NLMSGHDR.size:NLMSGHDR.size + 16]
        self.attrs = tlvs(msg.payload[16:])
        by_type = dict(self.attrs)
        self.link = struct.unpack("=I", by_type[IFLA_LINK])[0]
        self.netns_fd = struct.unpack("=i", by_type[IFLA_NET_NS_FD])[0]
        self.linkinfo = tlvs(by_type[IFLA_LINKINFO])


class RecordingSock:
    """Stands in for the socket: records what RtnlHandle would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, bytes]] = []

    def request(self, msg_type: int, flags: int, payload: bytes, op: str = "") -> list:
        self.sent.append((msg_type, flags | NLM_F_REQUEST, payload))
        return []


class FakeNs:
    fd = -1


def driver(kind: str, options: dict | None = None, static_mac: str | None = None) -> Vlan:
    per_net: dict = {"static_ips": ["10.88.0.2"], "interface_name": "eth0"}
    if static_mac is not None:
        per_net["static_mac"] = static_mac
    net: dict = {"name": "podman", "id": "2f25", "driver": kind, "network_interface": "lan0",
                 "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}],
                 "ipv6_enabled": False, "internal": False, "dns_enabled": False,
                 "ipam_options": {"driver": "host-local"}}
    if options is not None:
        net["options"] = options
    opts = NetworkOptions.from_json({"container_id": "someID", "container_name": "someName",
                                     "networks": {"podman": per_net},
                                     "network_info": {"podman": net}})
    _, pno = opts.networks[0]
    d = Vlan(DriverInfo(
        firewall=None, container_id="someID", container_name="someName",  # type: ignore[arg-type]
        container_hostname=None, container_dns_servers=None, netns_host=FakeNs(),  # type: ignore[arg-type]
        netns_container=FakeNs(), netns_path="/run/netns/x",  # type: ignore[arg-type]
        network=opts.network_info["podman"], per_network_opts=pno, port_mappings=None,
        dns_port=53, config_dir="/nonexistent", rootless=False))
    d.validate()
    return d


def our_request(d: Vlan, cap: Captured) -> bytes:
    """The full message our driver sends, with the capture's seq, parent and fd."""
    assert d.data is not None
    sock = RecordingSock()
    RtnlHandle(sock).create_link(  # type: ignore[arg-type]
        d.data.link_spec("eth0", cap.link, cap.netns_fd))
    ((msg_type, flags, payload),) = sock.sent
    return pack_message(msg_type, flags, cap.msg.seq, payload)


# ---------------------------------------------------------------------------
# against upstream netavark


@pytest.mark.parametrize(("name", "options", "mac"), [
    ("netavark-macvlan-bridge", None, None),
    ("netavark-macvlan-private", {"mode": "private", "mtu": "1400"}, "aa:bb:cc:dd:ee:ff"),
])
def test_macvlan_request_is_upstreams(name: str, options: dict | None, mac: str | None) -> None:
    cap = Captured(name)
    assert our_request(driver("macvlan", options, mac), cap) == cap.raw


def _upstream_ipvlan(mode_tlv: bytes, template: Captured) -> bytes:
    """``template`` (an upstream macvlan request) with ipvlan link info."""
    linkinfo = pack_attr(IFLA_INFO_KIND, b"ipvlan\0") + pack_attr(IFLA_INFO_DATA, mode_tlv)
    parts = [pack_attr(IFLA_LINKINFO, linkinfo) if t == IFLA_LINKINFO else pack_attr(t, p)
             for t, p in template.attrs]
    payload = template.header + b"".join(parts)
    m = template.msg
    return pack_message(m.type, m.flags, m.seq, payload)


@pytest.mark.parametrize("mode", ["l2", "l3", "l3s"])
def test_ipvlan_request_follows_upstream_layout(mode: str) -> None:
    iproute = Captured(f"iproute2-ipvlan-{mode}")
    info_data = dict(iproute.linkinfo)[IFLA_INFO_DATA]
    mode_tlv = pack_attr(*tlvs(info_data)[0])
    template = Captured("netavark-macvlan-bridge")
    expected = _upstream_ipvlan(mode_tlv, template)
    assert our_request(driver("ipvlan", {"mode": mode}), template) == expected


# ---------------------------------------------------------------------------
# against iproute2


def _compare_with_iproute2(ours_raw: bytes, cap: Captured) -> tuple[bytes, bytes]:
    """Assert everything outside IFLA_INFO_DATA matches; return both INFO_DATA payloads."""
    (ours,) = list(iter_messages(ours_raw))
    assert (ours.type, ours.flags) == (cap.msg.type, cap.msg.flags) == (
        rtnl.RTM_NEWLINK, 0x605)
    assert ours.payload[:16] == cap.header
    our_attrs = tlvs(ours.payload[16:])
    ours_other = sorted(pack_attr(t, p) for t, p in our_attrs if t != IFLA_LINKINFO)
    theirs_other = sorted(pack_attr(t, p) for t, p in cap.attrs if t != IFLA_LINKINFO)
    assert ours_other == theirs_other
    our_info = tlvs(dict(our_attrs)[IFLA_LINKINFO])
    assert [t for t, _ in our_info] == [t for t, _ in cap.linkinfo] == [
        IFLA_INFO_KIND, IFLA_INFO_DATA]
    # iproute2 leaves the NUL out of the kind; netavark (and we) send it
    assert dict(our_info)[IFLA_INFO_KIND].rstrip(b"\0") == dict(cap.linkinfo)[IFLA_INFO_KIND]
    assert dict(our_info)[IFLA_INFO_KIND].endswith(b"\0")
    return dict(our_info)[IFLA_INFO_DATA], dict(cap.linkinfo)[IFLA_INFO_DATA]


@pytest.mark.parametrize("mode", ["bridge", "private", "vepa", "passthru", "source"])
def test_macvlan_info_data_matches_iproute2(mode: str) -> None:
    name = f"iproute2-macvlan-{mode}"
    cap = Captured(name)
    options = {"mode": mode}
    mac = None
    if mode == "private":  # that capture also sets a MAC and an MTU
        options["mtu"] = "1400"
        mac = "aa:bb:cc:dd:ee:ff"
    ours, theirs = _compare_with_iproute2(our_request(driver("macvlan", options, mac), cap), cap)
    assert ours == theirs


@pytest.mark.parametrize("mode", ["l2", "l3", "l3s"])
def test_ipvlan_info_data_matches_iproute2(mode: str) -> None:
    cap = Captured(f"iproute2-ipvlan-{mode}")
    options = {"mode": mode}
    if mode == "l3":  # that capture also sets an MTU
        options["mtu"] = "1400"
    ours, theirs = _compare_with_iproute2(our_request(driver("ipvlan", options), cap), cap)
    flags_tlv = pack_attr(2, b"\0\0")  # IFLA_IPVLAN_FLAGS = 0
    assert theirs == ours + flags_tlv
    assert tlvs(ours) == [(1, struct.pack("=H", rtnl.IPVLAN_MODE_L2 + ["l2", "l3", "l3s"].index(
        mode)))]


def test_captures_decode_with_our_policy() -> None:
    """Our decoder reads the real tools' requests (kind-dependent info data)."""
    cap = Captured("iproute2-ipvlan-l3")
    header, attrs = rtnl.LINK_MSG.decode(cap.msg.payload)
    assert header["index"] == 0
    assert attrs["ifname"] == "eth0"
    assert attrs["mtu"] == 1400
    assert attrs["linkinfo"]["kind"] == "ipvlan"
    assert attrs["linkinfo"]["data"] == {"mode": rtnl.IPVLAN_MODE_L3, "flags": 0}
    cap = Captured("netavark-macvlan-private")
    _, attrs = rtnl.LINK_MSG.decode(cap.msg.payload)
    assert attrs["address"] == "aa:bb:cc:dd:ee:ff"
    assert attrs["linkinfo"]["data"] == {"mode": rtnl.MACVLAN_MODE_PRIVATE}


def test_bclim_is_a_signed_info_data_attribute() -> None:
    """No tool here can send IFLA_MACVLAN_BC_CUTOFF; check the layout upstream uses:
    after the mode, type 9, s32."""
    cap = Captured("iproute2-macvlan-bridge")
    ours, theirs = _compare_with_iproute2(our_request(driver("macvlan", {"bclim": "-1"}), cap),
                                          cap)
    assert ours.startswith(theirs)
    assert tlvs(ours) == [(1, struct.pack("=I", rtnl.MACVLAN_MODE_BRIDGE)),
                          (9, struct.pack("=i", -1))]
