"""Error texts, IP parse/display rules, option parsing: upstream's exact wording."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netavark.errors import AddrParseError as OurAddrError
from netavark.errors import (
    ErrorList,
    IoError,
    NetavarkError,
    NetlinkError,
    errno_of,
    wrap,
)
from netavark.ip import IpAddr, IpNet
from netavark.network.options import (
    ParseError,
    decode_mac,
    parse_bool,
    parse_i32,
    parse_option,
    parse_u16,
    parse_u32,
)


def test_error_composition():
    e = wrap("add ip addr to bridge", wrap("failed to add ipv6 address, is ipv6 enabled in the "
                                           "kernel?", NetlinkError(13)))
    assert str(e) == ("add ip addr to bridge: failed to add ipv6 address, is ipv6 enabled in the "
                      "kernel?: Netlink error: Permission denied (os error 13)")
    assert errno_of(e) == 13
    assert str(wrap("invalid namespace path", FileNotFoundError(2, "x"))) == \
        "invalid namespace path: IO error: No such file or directory (os error 2)"
    assert str(IoError(detail="EOF while parsing a value at line 1 column 0")) == \
        "IO error: EOF while parsing a value at line 1 column 0"


def test_error_list_flattens_and_formats():
    inner = ErrorList([NetavarkError("a"), NetavarkError("b")])
    errs = ErrorList([inner, NetavarkError("c")])
    assert len(errs) == 3
    assert str(errs) == "netavark encountered multiple errors:\n\t- a\n\t- b\n\t- c"
    assert str(ErrorList([NetavarkError("only")]).into_result()) == "only"
    assert ErrorList().into_result() is None


@pytest.mark.parametrize("text", ["10.88.0.1", "0.0.0.0", "255.255.255.255", "::",
                                  "fd00::1", "::ffff:1.2.3.4", "2001:db8:abcd:0::2",
                                  "1:2:3:4:5:6:7:8", "::1.2.3.4"])
def test_ip_parse_valid(text):
    assert IpAddr.parse(text).packed == ipaddress.ip_address(text).packed


@pytest.mark.parametrize("text", ["01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4",
                                  "fe80::1%eth0", "abcd", "", "1.2.3.4/24", ":::"])
def test_ip_parse_invalid(text):
    with pytest.raises(OurAddrError) as e:
        IpAddr.parse(text)
    assert str(e.value) == "parsing IP address error: invalid IP address syntax"


def test_ip_display_rust_rules():
    assert str(IpAddr.parse("2001:db8:abcd:0::2")) == "2001:db8:abcd::2"
    assert str(IpAddr.parse("::ffff:1.2.3.4")) == "::ffff:1.2.3.4"
    assert str(IpAddr.parse("fd10:88:a::1")) == "fd10:88:a::1"
    assert str(IpAddr.parse("1:0:0:1:0:0:0:1")) == "1:0:0:1::1"
    assert str(IpAddr.parse("1:0:2:3:4:5:6:7")) == "1:0:2:3:4:5:6:7"


@given(st.integers(0, 2**128 - 1))
def test_ipv6_display_round_trips_and_is_rfc5952(value):
    ip = IpAddr(6, value)
    text = str(ip)
    assert IpAddr.parse(text) == ip
    if value >> 32 != 0xFFFF:
        assert text == ipaddress.IPv6Address(value).compressed


def test_ipnet_keeps_host_bits():
    n = IpNet.parse("10.88.0.5/16")
    assert str(n) == "10.88.0.5/16"
    assert str(n.network()) == "10.88.0.0"
    assert str(n.broadcast()) == "10.88.255.255"
    assert str(n.trunc()) == "10.88.0.0/16"
    assert str(IpNet.parse("fd00::1/64").trunc()) == "fd00::/64"
    for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/a", "fd00::/129", "10.0.0.0/"]:
        with pytest.raises(OurAddrError):
            IpNet.parse(bad)


def test_overlap_is_upstream_rule():
    a, b = IpNet.parse("10.0.0.0/16"), IpNet.parse("10.0.1.0/24")
    assert a.overlaps(b) and b.overlaps(a)
    assert not IpNet.parse("10.0.0.0/24").overlaps(IpNet.parse("10.0.1.0/24"))
    assert not IpNet.parse("10.0.0.0/8").overlaps(IpNet.parse("fd00::/8"))


@pytest.mark.parametrize("parser,text,err", [
    (parse_u32, "abc", "invalid digit found in string"),
    (parse_u32, "", "cannot parse integer from empty string"),
    (parse_u32, "4294967296", "number too large to fit in target type"),
    (parse_u32, "-1", "invalid digit found in string"),
    (parse_u32, "+", "invalid digit found in string"),
    (parse_u16, "65536", "number too large to fit in target type"),
    (parse_i32, "-2147483649", "number too small to fit in target type"),
    (parse_u32, " 1", "invalid digit found in string"),
    (parse_bool, "True", "provided string was not `true` or `false`"),
])
def test_rust_parse_errors(parser, text, err):
    with pytest.raises(ParseError) as e:
        parser(text)
    assert str(e.value) == err


def test_rust_parse_accepts_plus_sign():
    assert parse_u32("+1500") == 1500
    assert parse_i32("-5") == -5


def test_parse_option_message():
    with pytest.raises(NetavarkError) as e:
        parse_option({"mtu": "abc"}, "mtu", parse_u32)
    assert str(e.value) == 'unable to parse "mtu": invalid digit found in string'
    assert parse_option({}, "mtu", parse_u32) is None
    assert parse_option(None, "mtu", parse_u32) is None


def test_mac_parsing():
    assert decode_mac("aa:bb:cc:dd:ee:ff") == bytes.fromhex("aabbccddeeff")
    assert decode_mac("aa-bb:cc-dd:ee:0f") == bytes.fromhex("aabbccddee0f")
    assert decode_mac("00a:b:c:d:e:f") == bytes.fromhex("0a0b0c0d0e0f")
    with pytest.raises(NetavarkError, match=r"^invalid mac length for address: aa:bb$"):
        decode_mac("aa:bb")
    with pytest.raises(NetavarkError) as e:
        decode_mac("123")  # one part, 0x123 > 255: the value error comes first
    assert str(e.value) == "unable to parse mac address 123: number too large to fit in " \
        "target type"
    with pytest.raises(NetavarkError) as e:
        decode_mac("12")
    assert str(e.value) == "invalid mac length for address: 12"
    with pytest.raises(NetavarkError) as e:
        decode_mac("zz:bb:cc:dd:ee:ff")
    assert str(e.value) == "unable to parse mac address zz:bb:cc:dd:ee:ff: invalid digit found " \
        "in string"
    with pytest.raises(NetavarkError) as e:
        decode_mac("100:bb:cc:dd:ee:ff")
    assert "number too large to fit in target type" in str(e.value)
