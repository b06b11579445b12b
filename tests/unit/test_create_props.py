"""Property tests for ``create``: allocation, validation, lossless output."""

from __future__ import annotations

import ipaddress
import json
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from netavark.config import Network, decode
from netavark.create import validate
from netavark.create.input import NetworkCreateConfig, SubnetPool
from netavark.create.subnets import free_ipv4_subnet, free_ipv6_subnet
from netavark.errors import NetavarkError
from netavark.ip import IpAddr, IpNet
from tests.unit.create_helpers import base_input, create_doc

# ---------------------------------------------------------------------------
# allocation


def v4net(prefix_min: int = 8, prefix_max: int = 32) -> st.SearchStrategy[str]:
    return st.builds(lambda a, p: f"{ipaddress.IPv4Address(a)}/{p}",
                     st.integers(0, 2**32 - 1), st.integers(prefix_min, prefix_max))


def v6net() -> st.SearchStrategy[str]:
    return st.builds(lambda a, p: f"{ipaddress.IPv6Address(a)}/{p}",
                     st.integers(0, 2**128 - 1), st.integers(0, 128))


# pools in a small corner of the space so that used subnets hit them often
small_pool = st.builds(lambda third, plen, extra: (f"10.{third}.0.0/{plen}", plen + extra),
                       st.integers(0, 3), st.integers(20, 28), st.integers(0, 4))
# pieces with room for a gateway (/30 or larger)
gateway_pool = small_pool.filter(lambda p: p[1] <= 30)
near_used = st.builds(lambda third, fourth, plen: f"10.{third}.{fourth}.0/{plen}",
                      st.integers(0, 3), st.integers(0, 255), st.integers(16, 32))


def _oracle(pools: list[tuple[str, int]], used: list[str]) -> str | None:
    """First free piece computed with the stdlib ``ipaddress`` module."""
    used_nets = [ipaddress.ip_network(u, strict=False) for u in used]
    for base, size in pools:
        pool = ipaddress.ip_network(base, strict=False)
        if pool.version != 4 or size > 32 or size < pool.prefixlen:
            return "unsupported"
        for cand in pool.subnets(new_prefix=size):
            if not any(u.version == 4 and cand.overlaps(u) for u in used_nets):
                return str(cand)
    return None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(small_pool, min_size=1, max_size=3),
       st.lists(st.one_of(near_used, v4net(), v6net()), max_size=12))
def test_allocated_ipv4_never_overlaps_used(pools: list[tuple[str, int]],
                                            used: list[str]) -> None:
    used_nets = [IpNet.parse(u) for u in used]
    try:
        got = free_ipv4_subnet(used_nets, [SubnetPool(IpNet.parse(b), s) for b, s in pools],
                               True)
    except NetavarkError as e:
        assert str(e) == "could not find free subnet from subnet pools"
        assert _oracle(pools, used) is None
        return
    net = got.subnet
    assert got.gateway is None and got.lease_range is None
    assert not any(net.overlaps(u) for u in used_nets)
    assert str(net) == _oracle(pools, used)


@settings(max_examples=100)
@given(st.lists(st.one_of(v6net(), v4net()), max_size=8))
def test_random_ipv6_never_overlaps_used(used: list[str]) -> None:
    # a used net covering all of fd00::/8 makes allocation impossible
    assume(not any(IpNet.parse(u).version == 6 and IpNet.parse(u).prefix <= 8 for u in used))
    used_nets = [IpNet.parse(u) for u in used]
    got = free_ipv6_subnet(used_nets).subnet
    assert not any(got.overlaps(u) for u in used_nets)


@settings(max_examples=200)
@given(st.lists(st.one_of(near_used, v4net()), max_size=10),
       st.lists(gateway_pool, min_size=1, max_size=2), st.booleans())
def test_create_with_check_used_gives_disjoint_subnets(used: list[str],
                                                       pools: list[tuple[str, int]],
                                                       v6: bool) -> None:
    doc = base_input(ipv6_enabled=v6)
    doc["used"]["subnets"] = used
    doc["options"]["subnet_pools"] = [{"base": b, "size": s} for b, s in pools]
    doc["options"]["check_used_subnets"] = True
    out = create_doc(doc)
    if "error" in out:
        assert out["error"] == "could not find free subnet from subnet pools"
        return
    used_nets = [IpNet.parse(u) for u in used]
    for s in out["subnets"]:
        net = IpNet.parse(s["subnet"])
        assert not any(net.overlaps(u) for u in used_nets)
        assert net.contains(IpAddr.parse(s["gateway"]))
    assert len(out["subnets"]) == (2 if v6 else 1)


# ---------------------------------------------------------------------------
# name / id validation

NAME_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*", re.ASCII)


@given(st.text(max_size=20))
def test_name_validation_matches_the_pattern(name: str) -> None:
    doc = base_input(name=name)
    out = create_doc(doc)
    if not name:
        assert out == {"error": "Network name must be supplied"}
    elif NAME_REF.fullmatch(name) and all(c.isascii() for c in name):
        assert out.get("name") == name
    else:
        assert out["error"].startswith("Invalid characters in network name ")
        assert out["error"].endswith(": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")


@given(st.text(alphabet="0123456789abcdefABCDEFgx \n", max_size=70))
def test_id_validation(net_id: str) -> None:
    out = create_doc(base_input(id=net_id))
    good = len(net_id) == 64 and all(c in "0123456789abcdefABCDEF" for c in net_id)
    if good:
        assert out["id"] == net_id
    elif not net_id:
        assert out == {"error": "Network id must be supplied"}
    else:
        assert out["error"].startswith("Network id must be a hexadecimal string \"")


@given(st.text(max_size=20))
def test_interface_name_rule(name: str) -> None:
    try:
        validate.validate_interface_name(name)
        passed = True
    except NetavarkError:
        passed = False
    expected = (len(name) <= 15 and name not in ("", "..")
                and not any(c in "/:" or c in validate.WHITE_SPACE for c in name))
    assert passed == expected


# ---------------------------------------------------------------------------
# output round trip

opt_keys = st.sampled_from(["mtu", "isolate", "metric", "mode", "vlan", "vrf",
                            "no_default_route", "bogus"])
opt_vals = st.sampled_from(["1500", "true", "false", "strict", "managed", "unmanaged", "5",
                            "", "x"])


@st.composite
def create_requests(draw: st.DrawFn) -> dict:
    driver = draw(st.sampled_from(["bridge", "bridge", "macvlan", "ipvlan"]))
    net: dict = {"driver": driver, "dns_enabled": draw(st.booleans()),
                 "internal": draw(st.booleans()), "ipv6_enabled": draw(st.booleans())}
    if draw(st.booleans()):
        net["subnets"] = draw(st.lists(st.fixed_dictionaries(
            {"subnet": st.one_of(v4net(8, 30), st.sampled_from(["fd00::/64", "fd01::/48"]))},
            optional={"gateway": st.sampled_from(["10.0.0.1", "fd00::1", "1.2.3.4"]),
                      "lease_range": st.fixed_dictionaries(
                          {"start_ip": st.none() | st.sampled_from(["10.0.0.2", "fd00::9"]),
                           "end_ip": st.none() | st.sampled_from(["10.0.0.200"])})}),
            max_size=3))
    if draw(st.booleans()):
        net["options"] = draw(st.dictionaries(opt_keys, opt_vals, max_size=3))
    if draw(st.booleans()):
        net["ipam_options"] = {"driver": draw(st.sampled_from(
            ["host-local", "dhcp", "none"]))}
    if draw(st.booleans()):
        net["routes"] = draw(st.lists(st.fixed_dictionaries(
            {"destination": st.sampled_from(["10.9.0.0/16", "0.0.0.0/0", "fd00::/8"])},
            optional={"gateway": st.sampled_from(["10.0.0.1", "fd00::1"]),
                      "metric": st.integers(0, 2**32 - 1),
                      "route_type": st.sampled_from(["unicast", "blackhole", ""])}),
            max_size=2))
    if draw(st.booleans()):
        net["network_dns_servers"] = draw(st.lists(st.sampled_from(["1.1.1.1", "::1"]),
                                                   max_size=2))
    if draw(st.booleans()):
        net["labels"] = draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5),
                                             max_size=2))
    if draw(st.booleans()):
        net["network_interface"] = draw(st.sampled_from(["dummy0", "br9", "podman1"]))
    doc = base_input(**net)
    doc["options"]["check_used_subnets"] = draw(st.booleans())
    doc["used"]["subnets"] = draw(st.lists(v4net(), max_size=3))
    return doc


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(create_requests())
def test_output_round_trips_through_network_from_json(doc: dict) -> None:
    out = create_doc(doc)
    if "error" in out:
        assert isinstance(out["error"], str) and out["error"]
        return
    text = json.dumps(out)
    again = decode(text.encode(), Network.from_json)
    assert again.to_json() == out
    # and it is a valid create input again (name/id unchanged, nothing lost)
    doc2 = dict(doc, network=out)
    out2 = create_doc(doc2)
    assert "error" not in out2 or out2["error"].startswith("bridge name "), out2


# ---------------------------------------------------------------------------
# hostile input


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_our_error(data: bytes) -> None:
    try:
        decode(data, NetworkCreateConfig.from_json)
    except NetavarkError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids,
                                                              max_size=3),
    max_leaves=10)


@settings(max_examples=300)
@given(st.fixed_dictionaries({}, optional={
    "network": st.one_of(json_values, st.builds(lambda: base_input()["network"])),
    "used": json_values, "options": json_values}))
def test_random_documents_only_raise_our_error(doc: dict) -> None:
    out = create_doc(doc)
    assert set(out) == {"error"} or "created" in out


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(create_requests())
def test_create_input_round_trip(doc: dict) -> None:
    cfg = decode(json.dumps(doc).encode(), NetworkCreateConfig.from_json)
    back = cfg.to_json()
    assert back["used"] == doc["used"]
    assert back["options"] == doc["options"]
    want = {k: v for k, v in doc["network"].items() if v is not None}
    # serialisation spells out null metrics; nothing else is added or lost
    for r in want.get("routes", []):
        r.setdefault("metric", None)
    assert back["network"] == want
    again = decode(json.dumps(back).encode(), NetworkCreateConfig.from_json)
    assert again.to_json() == back
