"""The aardvark-dns network file: exact lines written, and parsing like aardvark-dns."""

from __future__ import annotations

import pytest

from netavark.dns.fileformat import (
    ConfigError,
    container_line,
    header_line,
    parse_network_file,
    remove_container,
    replace_network_dns_servers,
    split_terminator,
)
from tests.unit.dns_helpers import CID, entry, ips


def test_lines_with_network_and_container_dns_servers():
    # the example asserted by upstream's 250-bridge-nftables.bats
    e = entry(network_dns_servers=ips("127.0.0.1", "3.3.3.3"),
              container_dns_servers=ips("8.8.8.8", "1.1.1.1"))
    assert header_line(e) == "10.89.3.1,fd10:88:a::1 127.0.0.1,3.3.3.3\n"
    assert container_line(e) == f"{CID} 10.89.3.2 fd10:88:a::2 somename 8.8.8.8,1.1.1.1\n"


def test_empty_lists_give_empty_fields():
    e = entry(network_gateways=ips("10.89.3.1"), container_ips_v6=[],
              container_names=["somename", "valid"], network_dns_servers=[],
              container_dns_servers=[])
    assert header_line(e) == "10.89.3.1\n"
    assert container_line(e) == f"{CID} 10.89.3.2  somename,valid\n"


def test_ipv6_written_compressed():
    e = entry(container_ips_v4=[], container_ips_v6=ips("2001:db8:0:0:0:0:0:5"),
              network_gateways=ips("2001:db8:abcd:a:50a6:6bff:fe84:255a"))
    assert header_line(e) == "2001:db8:abcd:a:50a6:6bff:fe84:255a\n"
    assert container_line(e) == f"{CID}  2001:db8::5 somename\n"


def test_update_sequence_from_upstream_test():
    content = f"10.89.3.1,fd10:88:a::1 127.0.0.1,3.3.3.3\n{CID} 10.89.3.2 x somename\n"
    step1 = replace_network_dns_servers(content, ["8.8.8.8"])
    assert step1.split("\n")[0] == "10.89.3.1,fd10:88:a::1 8.8.8.8"
    step2 = replace_network_dns_servers(step1, [])
    assert step2 == f"10.89.3.1,fd10:88:a::1\n{CID} 10.89.3.2 x somename\n"
    # values are written verbatim, not validated
    assert replace_network_dns_servers("1.1.1.1", ["not-an-ip", "x"]) == "1.1.1.1 not-an-ip,x\n"


def test_remove_container_is_substring_match_and_counts_lines():
    content = "10.0.0.1\nabc 10.0.0.2  a\nxabcx 10.0.0.3  b\ndef 10.0.0.4  c\n"
    new, count = remove_container(content, "abc")
    assert new == "10.0.0.1\ndef 10.0.0.4  c\n"
    assert count == 2
    assert remove_container("10.0.0.1\nabc 1  a\n", "abc") == ("10.0.0.1\n", 1)


def test_split_terminator_keeps_inner_empty_lines():
    assert split_terminator("a\n\nb\n") == ["a", "", "b"]
    assert split_terminator("a\nb") == ["a", "b"]
    assert split_terminator("") == []
    assert split_terminator("\n") == [""]


def test_parse_round_trip_of_written_lines():
    e = entry(network_dns_servers=ips("127.0.0.1"), container_dns_servers=ips("8.8.8.8"),
              container_names=["SomeName", "alias"])
    parsed = parse_network_file(header_line(e) + container_line(e))
    assert parsed.bind_ips == ips("10.89.3.1", "fd10:88:a::1")
    assert parsed.dns_servers == ips("127.0.0.1")
    (ctr,) = parsed.containers
    assert ctr.id == CID
    assert ctr.v4 == ips("10.89.3.2")
    assert ctr.v6 == ips("fd10:88:a::2")
    assert ctr.names == ["somename", "alias"]  # lower-cased like aardvark-dns
    assert ctr.dns_servers == ips("8.8.8.8")


def test_parse_skips_empty_lines_and_ignores_extra_header_fields():
    parsed = parse_network_file("\n10.0.0.1 8.8.8.8 junk\n\nid 10.0.0.2  n\n\n")
    assert parsed.bind_ips == ips("10.0.0.1")
    assert parsed.dns_servers == ips("8.8.8.8")
    assert [c.names for c in parsed.containers] == [["n"]]


def test_dns_servers_field_only_with_exactly_five_fields():
    assert parse_network_file("10.0.0.1\nid 10.0.0.2  n 8.8.8.8\n").containers[0].dns_servers \
        == ips("8.8.8.8")
    assert parse_network_file("10.0.0.1\nid 10.0.0.2  n 8.8.8.8 x\n").containers[0] \
        .dns_servers is None


@pytest.mark.parametrize(("content", "message"), [
    ("10.0.0.1 \n", "error parsing network dns address : invalid IP address syntax"),
    ("10.0.0.x\n", "error parsing ip address 10.0.0.x: invalid IP address syntax"),
    ("10.0.0.1\nid 10.0.0.2 n\n", "configuration file f line id 10.0.0.2 n is improperly "
                                  "formatted - too few entries"),
    ("10.0.0.1\nid fd00::1  n\n", "error parsing IP address fd00::1: invalid IPv4 address "
                                  "syntax"),
    ("", "configuration file f does not provide any bind addresses"),
])
def test_parse_errors(content, message):
    with pytest.raises(ConfigError) as exc:
        parse_network_file(content, "f")
    assert str(exc.value) == message
