"""DHCPv4 message and frame codec, against frames captured from dnsmasq."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netavark.dhcp import dhcpv4
from netavark.dhcp.dhcpv4 import DhcpError, Lease, Message, build_frame, ip_bytes, parse_frame
from tests.conftest import TESTDATA

MAC = bytes.fromhex("8e72f73d74ec")
SERVER_MAC = bytes.fromhex("ba2a0c14c183")
XID = 0x2C828152


def golden(name: str) -> bytes:
    with open(os.path.join(TESTDATA, "dhcp", name), "rb") as f:
        return f.read()


def config() -> dhcpv4.Config:
    return dhcpv4.Config("uplink", MAC, iface_index=2, client_id=b"\0ctr1", host_name="foobar")


def test_dnsmasq_offer_and_ack():
    for name, mtype in (("dnsmasq-offer.frame", dhcpv4.OFFER), ("dnsmasq-ack.frame", dhcpv4.ACK)):
        frame = parse_frame(golden(name))
        assert (frame.src_mac, frame.dst_mac) == (SERVER_MAC, MAC)
        assert (frame.sport, frame.dport) == (67, 68)
        assert dhcpv4.ip_str(frame.src_ip) == "10.89.3.1"
        msg = Message.parse(frame.payload)
        assert (msg.op, msg.xid, msg.message_type, msg.client_mac) == (2, XID, mtype, MAC)
        lease = Lease.from_message(msg, frame.src_mac)
        assert dhcpv4.ip_str(lease.yiaddr) == "10.89.3.54"
        assert (lease.t1, lease.t2, lease.lease_time, lease.mtu) == (60, 105, 120, 1400)
        assert dhcpv4.ip_str(lease.srv_id) == "10.89.3.1"
        assert dhcpv4.ip_str(lease.subnet_mask) == "255.255.255.0"
        assert lease.prefix_len == 24
        assert [dhcpv4.ip_str(a) for a in lease.gateways] == ["10.89.3.1"]
        assert [dhcpv4.ip_str(a) for a in lease.dns_srvs] == ["10.89.3.1"]
        assert [dhcpv4.ip_str(a) for a in lease.ntp_srvs] == ["10.89.3.2"]
        assert lease.domain_name == "example.org"
        assert dhcpv4.ip_str(lease.broadcast_addr) == "10.89.3.255"
        assert lease.srv_mac == SERVER_MAC
        # dnsmasq echoes the host name in the ACK only
        assert lease.host_name == ("foobar" if mtype == dhcpv4.ACK else None)


def test_our_frames_match_what_dnsmasq_accepted():
    """The DISCOVER and REQUEST we sent in the capture, rebuilt bit for bit."""
    cfg = config()
    disc = golden("proxy-discover.frame")
    built = build_frame(MAC, dhcpv4.BROADCAST_MAC, dhcpv4.ZERO_IP, dhcpv4.BROADCAST_IP, 68, 67,
                        dhcpv4.discover(XID, cfg).encode())
    assert built == disc
    offer = Lease.from_message(Message.parse(parse_frame(golden("dnsmasq-offer.frame")).payload))
    req = build_frame(MAC, dhcpv4.BROADCAST_MAC, dhcpv4.ZERO_IP, dhcpv4.BROADCAST_IP, 68, 67,
                      dhcpv4.request(XID, cfg, offer).encode())
    assert req == golden("proxy-request.frame")


def test_discover_contents():
    msg = Message.parse(dhcpv4.discover(7, config()).encode())
    assert msg.chaddr[:6] == MAC and msg.flags == 0 and msg.ciaddr == dhcpv4.ZERO_IP
    assert msg.options[dhcpv4.OPT_CLIENT_ID] == b"\0ctr1"
    assert msg.options[dhcpv4.OPT_HOST_NAME] == b"foobar\0"
    assert list(msg.options[dhcpv4.OPT_PARAM_LIST]) == [12, 1, 3, 6, 15, 26, 42, 121, 249]
    assert msg.message_type == dhcpv4.DISCOVER


def test_renew_and_release_contents():
    lease = Lease()
    lease.yiaddr = ip_bytes("10.0.0.5")
    lease.srv_id = ip_bytes("10.0.0.1")
    renew = Message.parse(dhcpv4.renew(9, config(), lease).encode())
    assert renew.ciaddr == lease.yiaddr
    assert dhcpv4.OPT_SERVER_ID not in renew.options
    assert dhcpv4.OPT_REQUESTED_IP not in renew.options
    rel = Message.parse(dhcpv4.release(9, config(), lease).encode())
    assert rel.message_type == dhcpv4.RELEASE
    assert rel.ciaddr == lease.yiaddr
    assert rel.options[dhcpv4.OPT_SERVER_ID] == lease.srv_id


def test_checksums_are_valid():
    frame = golden("proxy-discover.frame")
    ip_hdr = frame[14:34]
    assert dhcpv4._checksum(ip_hdr) == 0
    udp = frame[34:]
    pseudo = ip_hdr[12:20] + struct.pack(">BBH", 0, 17, len(udp))
    assert dhcpv4._checksum(pseudo + udp) == 0


def test_lease_rules():
    msg = Message(2, 1, options={dhcpv4.OPT_LEASE_TIME: struct.pack(">I", 100)})
    lease = Lease.from_message(msg, jitter=1)
    assert (lease.t1, lease.t2) == (51, 88)  # half and 7/8 of the lease, with jitter
    short = Lease.from_message(Message(2, 1, options={
        dhcpv4.OPT_LEASE_TIME: struct.pack(">I", 30)}), jitter=-2)
    assert (short.t1, short.t2) == (15, 24)  # values under 20 s get no jitter
    with pytest.raises(DhcpError, match="No lease time"):
        Lease.from_message(Message(2, 1))
    with pytest.raises(DhcpError, match="T1 is bigger than T2"):
        Lease.from_message(Message(2, 1, options={
            dhcpv4.OPT_LEASE_TIME: struct.pack(">I", 100),
            dhcpv4.OPT_RENEWAL_TIME: struct.pack(">I", 90),
            dhcpv4.OPT_REBINDING_TIME: struct.pack(">I", 80)}))
    # options of the wrong size are ignored rather than misread
    odd = Lease.from_message(Message(2, 1, options={
        dhcpv4.OPT_LEASE_TIME: struct.pack(">I", 100), dhcpv4.OPT_SUBNET_MASK: b"\xff\xff",
        dhcpv4.OPT_ROUTER: b"\1\2\3\4\5"}))
    assert odd.subnet_mask == dhcpv4.ZERO_IP
    assert odd.gateways == [b"\1\2\3\4"]


def test_lease_repr_like_upstream_debug():
    lease = Lease.from_message(Message.parse(parse_frame(golden("dnsmasq-ack.frame")).payload))
    text = repr(lease)
    assert text.startswith("DhcpV4Lease { srv_mac: [255, 255, 255, 255, 255, 255], "
                           "siaddr: 10.89.3.1, yiaddr: 10.89.3.54, t1_sec: 60")
    assert 'gateways: Some([10.89.3.1])' in text and 'host_name: Some("foobar")' in text


def test_long_options_are_split():
    msg = Message(1, 1, options={dhcpv4.OPT_CLIENT_ID: b"x" * 300})
    assert Message.parse(msg.encode()).options[dhcpv4.OPT_CLIENT_ID] == b"x" * 300


messages = st.builds(
    Message, st.sampled_from([1, 2]), st.integers(0, 2**32 - 1),
    chaddr=st.binary(min_size=16, max_size=16), ciaddr=st.binary(min_size=4, max_size=4),
    yiaddr=st.binary(min_size=4, max_size=4), flags=st.integers(0, 0xFFFF),
    sname=st.text(alphabet="abc.-", max_size=63), file=st.text(alphabet="xyz/", max_size=127),
    options=st.dictionaries(st.integers(1, 254), st.binary(max_size=300), max_size=8))


@given(messages)
def test_message_round_trip(msg):
    assert Message.parse(msg.encode()) == msg


@given(st.binary(max_size=40), st.binary(min_size=4, max_size=4), st.integers(0, 65535))
def test_frame_round_trip(payload, src_ip, sport):
    raw = build_frame(MAC, SERVER_MAC, src_ip, b"\xff" * 4, sport, 68, payload)
    f = parse_frame(raw)
    assert (f.src_mac, f.dst_mac, f.src_ip, f.sport, f.dport, f.payload) == \
        (MAC, SERVER_MAC, src_ip, sport, 68, payload)


@given(st.binary(max_size=600))
def test_random_bytes_raise_only_dhcp_errors(data):
    for parse in (Message.parse, parse_frame):
        try:
            parse(data)
        except DhcpError:
            pass


@given(st.binary(min_size=240, max_size=600))
def test_random_messages_and_leases(data):
    raw = bytearray(data)
    raw[236:240] = dhcpv4.MAGIC_COOKIE
    try:
        msg = Message.parse(bytes(raw))
    except DhcpError:
        return
    try:
        Lease.from_message(msg)
    except DhcpError:
        pass
