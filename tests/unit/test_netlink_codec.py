"""Netlink codec: golden kernel replies, exact request bytes, round-trips, robustness."""

from __future__ import annotations

import json
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netavark.errors import NetavarkError
from netavark.ip import IpAddr, IpNet
from netavark.netlink import attrs as A
from netavark.netlink import rtnl
from netavark.netlink.links import Bridge, Ipvlan, Macvlan, Veth, VethPeer
from netavark.netlink.message import (
    NLMSG_DONE,
    NLMSG_ERROR,
    iter_messages,
    pack_message,
    parse_error,
)
from netavark.netlink.route import (
    RouteSpec,
    addr_request,
    create_link_request,
    decode_link,
    get_link_by_name_request,
    route_dump_request,
    route_request,
    set_up_request,
)

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "rtnl", "kernel_replies.json")


@pytest.fixture(scope="module")
def captured() -> dict:
    with open(DATA) as f:
        return json.load(f)


def messages(hexes: list[str]):
    out = []
    for h in hexes:
        out.extend(iter_messages(bytes.fromhex(h)))
    return out


# ---------------------------------------------------------------------------
# golden: replies the kernel produced, decoded, compared with what `ip -j` saw


def test_kernel_link_reply_decodes_like_ip_sees_it(captured):
    (msg,) = messages(captured["replies"]["getlink_br0"])
    link = decode_link(msg)
    ip_view = next(x for x in captured["ip"]["links"] if x["ifname"] == "br0")
    assert link.name == "br0"
    assert link.index == ip_view["ifindex"]
    assert link.kind == "bridge" == ip_view["linkinfo"]["info_kind"]
    assert link.mtu == ip_view["mtu"] == 1400
    assert link.address == ip_view["address"]
    assert link.info_data["vlan_filtering"] == ip_view["linkinfo"]["info_data"]["vlan_filtering"]
    assert link.is_up


def test_kernel_veth_reply_has_peer_link_index(captured):
    (msg,) = messages(captured["replies"]["getlink_vc0"])
    link = decode_link(msg)
    ip_view = next(x for x in captured["ip"]["links"] if x["ifname"] == "vc0")
    peer = next(x for x in captured["ip"]["links"] if x["ifname"] == "vh0")
    assert link.kind == "veth"
    assert link.link == peer["ifindex"]
    assert link.address == ip_view["address"]


def test_kernel_error_reply_carries_errno_and_extack(captured):
    (msg,) = messages(captured["replies"]["getlink_missing"])
    assert msg.type == NLMSG_ERROR
    err = parse_error(msg)
    assert err.error == -19  # ENODEV
    assert err.orig_type == rtnl.RTM_GETLINK


def test_kernel_route_dump_decodes(captured):
    msgs = messages(captured["replies"]["dump_routes_main"])
    assert msgs[-1].type == NLMSG_DONE
    routes = []
    for m in msgs:
        if m.type == rtnl.RTM_NEWROUTE:
            header, attrs = rtnl.ROUTE_MSG.decode(m.payload)
            routes.append((header, attrs))
    ip_routes = captured["ip"]["routes"] + captured["ip"]["routes6"]
    # the dump asked for unicast routes of table main
    decoded_dsts = {("default" if a.get("dst") is None else f"{a['dst']}/{h['dst_len']}")
                    for h, a in routes if not str(a.get("dst", "")).startswith("fe80")}
    expected = {r["dst"] for r in ip_routes if r.get("type", "unicast") == "unicast"
                and not r["dst"].startswith("fe80")}
    assert decoded_dsts == expected
    default = next(a for h, a in routes if "dst" not in a)
    assert default["gateway"] == IpAddr.parse("10.88.0.2")
    assert default["priority"] == 100


def test_kernel_address_dump_decodes(captured):
    msgs = messages(captured["replies"]["dump_addrs"])
    seen = set()
    for m in msgs:
        if m.type == rtnl.RTM_NEWADDR:
            header, attrs = rtnl.ADDR_MSG.decode(m.payload)
            seen.add(f"{attrs['address']}/{header['prefixlen']}")
    for link in captured["ip"]["addrs"]:
        for a in link["addr_info"]:
            assert f"{IpAddr.parse(a['local'])}/{a['prefixlen']}" in seen


# ---------------------------------------------------------------------------
# exact request bytes (rtnetlink.md): ifinfomsg/ifaddrmsg/rtmsg and attribute order


def nla(atype: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, atype) + payload + b"\0" * ((-length) % 4)


IFINFO0 = struct.pack("=BxHiII", 0, 0, 0, 0, 0)


def test_get_link_by_name_bytes():
    assert get_link_by_name_request("podman0") == IFINFO0 + nla(3, b"podman0\0")


def test_set_up_bytes():
    assert set_up_request(7) == struct.pack("=BxHiII", 0, 0, 7, 1, 1)


def test_create_bridge_bytes():
    expected = IFINFO0 + nla(18, nla(1, b"bridge\0")) + nla(3, b"podman0\0")
    assert create_link_request(Bridge("podman0")) == expected
    vlan = IFINFO0 + nla(18, nla(1, b"bridge\0") + nla(2, nla(7, b"\x01"))) + \
        nla(3, b"podman0\0") + nla(4, struct.pack("=I", 9000)) + nla(10, struct.pack("=I", 5))
    assert create_link_request(Bridge("podman0", vlan_filtering=True, mtu=9000, master=5)) == vlan


def test_create_veth_bytes():
    peer_attrs = nla(18, nla(1, b"veth\0")) + nla(3, b"eth0\0") + \
        nla(4, struct.pack("=I", 1500)) + nla(1, bytes.fromhex("aabbccddee01")) + \
        nla(28, struct.pack("=i", 9))
    expected = IFINFO0 + nla(18, nla(1, b"veth\0") + nla(2, nla(1, IFINFO0 + peer_attrs))) + \
        nla(4, struct.pack("=I", 1500)) + nla(10, struct.pack("=I", 3))
    peer = VethPeer("eth0", mtu=1500, address="aa:bb:cc:dd:ee:01", netns_fd=9)
    assert create_link_request(Veth("", peer, mtu=1500, master=3)) == expected


def test_create_macvlan_and_ipvlan_info_data():
    mv = create_link_request(Macvlan("eth0", mode=rtnl.MACVLAN_MODE_BRIDGE, bc_cutoff=-1,
                                     link=2, netns_fd=5))
    _header, attrs = rtnl.LINK_MSG.decode(mv)
    assert attrs["linkinfo"]["kind"] == "macvlan"
    assert attrs["linkinfo"]["data"] == {"mode": 4, "bc_cutoff": -1}
    assert attrs["link"] == 2 and attrs["net_ns_fd"] == 5
    iv = create_link_request(Ipvlan("eth0", mode=rtnl.IPVLAN_MODE_L3S, link=2))
    assert nla(2, nla(1, struct.pack("=H", 2))) in iv


def test_address_bytes():
    v4 = addr_request(4, IpNet.parse("10.88.0.1/16"))
    assert v4 == struct.pack("=BBBBI", 2, 16, 0, 0, 4) + nla(4, bytes([10, 88, 255, 255])) + \
        nla(2, bytes([10, 88, 0, 1]))
    v6 = addr_request(4, IpNet.parse("fd00::1/64"))
    assert v6 == struct.pack("=BBBBI", 10, 64, 0, 0, 4) + \
        nla(2, IpAddr.parse("fd00::1").packed)


def test_route_bytes():
    r = RouteSpec(IpNet.parse("0.0.0.0/0"), IpAddr.parse("10.88.0.1"), 100)
    assert route_request(r) == struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 254, 4, 0, 1, 0) + \
        nla(1, bytes(4)) + nla(5, bytes([10, 88, 0, 1])) + nla(6, struct.pack("=I", 100))
    bh = RouteSpec(IpNet.parse("10.89.0.0/24"), None, 100, RouteSpec.BLACKHOLE)
    assert route_request(bh) == struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 4, 0, 6, 0) + \
        nla(1, bytes([10, 89, 0, 0])) + nla(6, struct.pack("=I", 100))


def test_route_dump_bytes():
    assert route_dump_request(254) == struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 1, 0) + \
        nla(15, struct.pack("=I", 254))


def test_route_display_matches_upstream():
    r = RouteSpec(IpNet.parse("0.0.0.0/0"), IpAddr.parse("10.88.0.1"), 100)
    assert str(r) == "(dest: 0.0.0.0/0, gw: 10.88.0.1, metric 100)"
    bh = RouteSpec(IpNet.parse("10.89.0.0/24"), None, 100, RouteSpec.BLACKHOLE)
    assert str(bh) == "(BlackHole dest: 10.89.0.0/24, metric 100)"


# ---------------------------------------------------------------------------
# round-trips


names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                max_size=15)
macs = st.binary(min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))
u32 = st.integers(min_value=0, max_value=2**32 - 1)


@given(name=names, mtu=st.integers(min_value=1, max_value=65535), mac=macs,
       master=st.integers(min_value=1, max_value=2**31 - 1), vlan=st.booleans())
def test_link_request_round_trip(name, mtu, mac, master, vlan):
    data = create_link_request(Bridge(name, mtu=mtu, address=mac, master=master,
                                      vlan_filtering=vlan))
    _header, attrs = rtnl.LINK_MSG.decode(data)
    assert attrs["ifname"] == name
    assert attrs["mtu"] == mtu
    assert attrs["address"] == mac
    assert attrs["master"] == master
    assert attrs["linkinfo"]["kind"] == "bridge"
    assert (attrs["linkinfo"].get("data") or {}).get("vlan_filtering") == (1 if vlan else None)


@given(peer_name=names, mtu=st.integers(min_value=0, max_value=9000), fd=st.integers(0, 1000))
def test_veth_peer_round_trip(peer_name, mtu, fd):
    data = create_link_request(Veth("", VethPeer(peer_name, mtu=mtu, netns_fd=fd), mtu=mtu))
    _, attrs = rtnl.LINK_MSG.decode(data)
    peer_header, peer_attrs = attrs["linkinfo"]["data"]["peer"]
    assert peer_header["index"] == 0
    assert peer_attrs["ifname"] == peer_name
    assert peer_attrs["net_ns_fd"] == fd
    assert peer_attrs.get("mtu") == (mtu or None)


v4 = st.integers(0, 2**32 - 1).map(lambda v: IpAddr(4, v))
v6 = st.integers(0, 2**128 - 1).map(lambda v: IpAddr(6, v))


@given(ip=st.one_of(v4, v6), data=st.data(), index=u32)
def test_address_round_trip(ip, data, index):
    prefix = data.draw(st.integers(0, ip.bits))
    raw = addr_request(index, IpNet(ip, prefix))
    header, attrs = rtnl.ADDR_MSG.decode(raw)
    assert header["index"] == index and header["prefixlen"] == prefix
    assert attrs["local"] == ip


@given(ip=st.one_of(v4, v6), data=st.data(), metric=u32,
       rtype=st.sampled_from([RouteSpec.UNICAST, RouteSpec.BLACKHOLE, RouteSpec.PROHIBIT]))
def test_route_round_trip(ip, data, metric, rtype):
    prefix = data.draw(st.integers(0, ip.bits))
    gw = data.draw(v4 if ip.version == 4 else v6) if rtype == RouteSpec.UNICAST else None
    raw = route_request(RouteSpec(IpNet(ip, prefix), gw, metric, rtype))
    header, attrs = rtnl.ROUTE_MSG.decode(raw)
    assert header["dst_len"] == prefix and header["type"] == rtype
    assert attrs["dst"] == ip and attrs.get("gateway") == gw and attrs["priority"] == metric


scalar_codecs = [(A.U8, st.integers(0, 255)), (A.U16, st.integers(0, 65535)),
                 (A.U32, u32), (A.S32, st.integers(-(2**31), 2**31 - 1)),
                 (A.U64, st.integers(0, 2**64 - 1)), (A.BE16, st.integers(0, 65535)),
                 (A.BE32, u32), (A.BE64, st.integers(0, 2**64 - 1)),
                 (A.STRZ, st.text(alphabet=st.characters(blacklist_characters="\0",
                                                         blacklist_categories=("Cs",)))),
                 (A.HWADDR, macs), (A.IPADDR, st.one_of(v4, v6)),
                 (A.BINARY, st.binary())]


@pytest.mark.parametrize("codec,strategy", scalar_codecs,
                         ids=[type(c).__name__ + str(i) for i, (c, _) in
                              enumerate(scalar_codecs)])
@given(data=st.data())
def test_scalar_codec_round_trip(codec, strategy, data):
    value = data.draw(strategy)
    assert codec.decode(codec.encode(value)) == value


@given(items=st.lists(st.tuples(st.integers(1, 0x3FFF), st.binary(max_size=64)), max_size=8))
def test_tlv_framing_round_trip(items):
    blob = b"".join(A.pack_attr(t, p) for t, p in items)
    assert [(t, bytes(p)) for t, p in A.iter_attrs(blob)] == items


@given(msgs=st.lists(st.tuples(st.integers(16, 0xFFFF), st.integers(0, 0xFFFF),
                               st.integers(0, 2**32 - 1), st.binary(max_size=80)), max_size=5))
def test_message_framing_round_trip(msgs):
    blob = b"".join(pack_message(t, f, s, p) for t, f, s, p in msgs)
    out = [(m.type, m.flags, m.seq, m.payload) for m in iter_messages(blob)]
    assert out == [(t, f, s, p) for t, f, s, p in msgs]


# ---------------------------------------------------------------------------
# robustness: anything the kernel (or a hostile peer) sends either decodes or raises ours


def decode_everything(blob: bytes) -> None:
    for m in iter_messages(blob):
        for st_ in (rtnl.LINK_MSG, rtnl.ADDR_MSG, rtnl.ROUTE_MSG):
            try:
                st_.decode(m.payload)
            except A.NetlinkDecodeError:
                pass
        if m.type == NLMSG_ERROR:
            try:
                parse_error(m)
            except A.NetlinkDecodeError:
                pass


@settings(max_examples=500)
@given(blob=st.binary(max_size=512))
def test_random_bytes_raise_only_our_error(blob):
    try:
        decode_everything(blob)
    except NetavarkError as e:
        assert isinstance(e, A.NetlinkDecodeError)


@given(data=st.data())
def test_truncated_kernel_replies_raise_only_our_error(captured, data):
    blob = bytes.fromhex(data.draw(st.sampled_from(
        [h for v in captured["replies"].values() for h in v])))
    cut = data.draw(st.integers(0, len(blob)))
    mutated = bytearray(blob[:cut])
    if mutated and data.draw(st.booleans()):
        pos = data.draw(st.integers(0, len(mutated) - 1))
        mutated[pos] = data.draw(st.integers(0, 255))
    try:
        decode_everything(bytes(mutated))
    except NetavarkError as e:
        assert isinstance(e, A.NetlinkDecodeError)
