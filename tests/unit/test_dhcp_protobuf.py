"""Protobuf codec and the proxy's messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netavark.dhcp import proto
from netavark.dhcp.protobuf import ProtobufError, decode_varint, encode_varint

text = st.text(max_size=40)
u32 = st.integers(min_value=0, max_value=2**32 - 1)

leases = st.builds(
    proto.Lease, t1=u32, t2=u32, lease_time=u32, mtu=u32, domain_name=text,
    mac_address=text, is_v6=st.booleans(), siaddr=text, yiaddr=text, srv_id=text,
    subnet_mask=text, broadcast_addr=text, dns_servers=st.lists(text, max_size=4),
    gateways=st.lists(text, max_size=4), ntp_servers=st.lists(text, max_size=4),
    host_name=text)
configs = st.builds(
    proto.NetworkConfig, host_iface=text, container_iface=text, container_mac_addr=text,
    domain_name=text, host_name=text, version=st.integers(-(2**31), 2**31 - 1),
    ns_path=text, container_id=text)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_varint_round_trip(n):
    data = encode_varint(n)
    assert decode_varint(data, 0) == (n, len(data))


@given(leases)
def test_lease_round_trip(lease):
    assert proto.Lease.decode(lease.encode()) == lease


@given(configs)
def test_config_round_trip(cfg):
    assert proto.NetworkConfig.decode(cfg.encode()) == cfg


def test_golden_bytes():
    # hand-checked against the proto3 encoding rules: defaults omitted, fields in order
    lease = proto.Lease(t1=60, yiaddr="10.0.0.5", gateways=["10.0.0.1", "10.0.0.2"],
                        is_v6=True)
    assert lease.encode() == (b"\x08\x3c" b"\x50\x01" b"\x62\x0810.0.0.5"
                              b"\xa2\x01\x0810.0.0.1" b"\xa2\x01\x0810.0.0.2")
    assert proto.Lease().encode() == b""
    assert proto.OperationResponse(success=True).encode() == b"\x08\x01"
    # negative enum values are 10-byte varints
    assert proto.NetworkConfig(version=-1).encode() == b"\x30" + b"\xff" * 9 + b"\x01"


def test_same_bytes_as_the_upstream_test_client():
    """The stand-in client of upstream's test suite encodes NetworkConfig by hand."""
    cfg = proto.NetworkConfig(host_iface="veth1", container_iface="veth0",
                              container_mac_addr="aa:bb:cc:dd:ee:ff", domain_name="example.com",
                              host_name="foobar", version=0, ns_path="/var/run/netns/x",
                              container_id="abc")
    expected = (b"\x0a\x05veth1\x12\x05veth0\x1a\x11aa:bb:cc:dd:ee:ff\x22\x0bexample.com"
                b"\x2a\x06foobar\x3a\x10/var/run/netns/x\x42\x03abc")
    assert cfg.encode() == expected


def test_unknown_fields_are_skipped():
    data = (b"\x08\x05"                      # t1 = 5
            b"\x98\x06\x01"                  # field 99 varint
            b"\x9d\x06\x01\x02\x03\x04"      # field 99 fixed32
            b"\x99\x06" + b"\0" * 8 +        # field 99 fixed64
            b"\x9a\x06\x02hi"                # field 99 bytes
            b"\x9b\x06\x08\x01\x9c\x06"      # field 99 group containing a varint
            b"\x62\x01x")                    # yiaddr = "x"
    lease = proto.Lease.decode(data)
    assert (lease.t1, lease.yiaddr) == (5, "x")


@pytest.mark.parametrize("data, msg", [
    (b"\x08", "buffer underflow"),
    (b"\x62\x05ab", "buffer underflow"),
    (b"\x62\x02\xff\xfe", "Lease.yiaddr: invalid string value: data is not UTF-8 encoded"),
    (b"\x0a\x01x", "Lease.t1: invalid wire type: LengthDelimited (expected Varint)"),
    (b"\x00", "invalid field number: 0"),
    (b"\x9c\x06", "unexpected end group tag"),
    (b"\x9f\x06", "invalid wire type value: 7"),
    (b"\x08" + b"\xff" * 10 + b"\x01", "invalid varint"),
])
def test_decode_errors(data, msg):
    with pytest.raises(ProtobufError) as e:
        proto.Lease.decode(data)
    assert str(e.value) == msg


def test_uint32_truncates_like_prost():
    assert proto.Lease.decode(b"\x08" + encode_varint(2**32 + 7)).t1 == 7


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_protobuf_errors(data):
    for cls in (proto.Lease, proto.NetworkConfig, proto.Empty, proto.OperationResponse):
        try:
            cls.decode(data)
        except ProtobufError:
            pass
