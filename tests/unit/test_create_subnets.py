"""Subnet allocation from the pools, including upstream's quirks."""

from __future__ import annotations

import pytest

from netavark.create.input import SubnetPool
from netavark.create.subnets import free_ipv4_subnet, random_ula_subnet
from netavark.errors import NetavarkError
from netavark.ip import IpNet
from tests.unit.create_helpers import base_input, create_doc, is_random_ula64


def pools(*specs: tuple[str, int]) -> list[SubnetPool]:
    return [SubnetPool(IpNet.parse(b), s) for b, s in specs]


def nets(*texts: str) -> list[IpNet]:
    return [IpNet.parse(t) for t in texts]


def alloc(specs: list[tuple[str, int]], used: list[str] = (), check: bool = True) -> str:
    return str(free_ipv4_subnet(nets(*used), pools(*specs), check).subnet)


def alloc_err(specs: list[tuple[str, int]], used: list[str] = (), check: bool = True) -> str:
    with pytest.raises(NetavarkError) as e:
        free_ipv4_subnet(nets(*used), pools(*specs), check)
    return str(e.value)


def test_first_free_piece() -> None:
    assert alloc([("10.89.0.0/16", 24)]) == "10.89.0.0/24"
    assert alloc([("10.89.0.0/16", 24)], ["10.89.0.0/24", "10.89.1.0/25"]) == "10.89.2.0/24"
    # a used supernet blocks every piece inside it
    assert alloc([("10.89.0.0/16", 24), ("10.90.0.0/16", 24)], ["10.89.0.0/16"]) == \
        "10.90.0.0/24"


def test_pool_base_host_bits_are_dropped() -> None:
    assert alloc([("10.89.7.9/16", 24)]) == "10.89.0.0/24"


def test_ipv6_pools_and_used_subnets_are_ignored() -> None:
    assert alloc([("fd00::/8", 64), ("10.1.0.0/16", 20)], ["fd00::/8", "::/0"]) == "10.1.0.0/20"


def test_without_check_the_first_piece_is_returned_even_if_used() -> None:
    assert alloc([("10.89.0.0/16", 24)], ["10.89.0.0/24"], check=False) == "10.89.0.0/24"


def test_size_is_taken_modulo_256() -> None:
    assert alloc([("10.89.0.0/16", 280)]) == "10.89.0.0/24"


def test_size_over_32_is_an_error_remembered_across_pools() -> None:
    assert alloc([("10.89.0.0/16", 33), ("10.90.0.0/16", 24)]) == "10.90.0.0/24"
    msg = "Failed to create network from pool: invalid IP prefix length"
    assert alloc_err([("10.89.0.0/16", 33)]) == msg
    assert alloc_err([("10.89.0.0/16", 33), ("10.90.0.0/16", 24)], ["10.90.0.0/16"]) == msg


def test_size_smaller_than_the_pool() -> None:
    # aligned: one subnet larger than the pool
    assert alloc([("10.0.0.0/16", 8)]) == "10.0.0.0/8"
    # not aligned: the pool yields nothing
    assert alloc_err([("10.89.0.0/16", 8)]) == "could not find free subnet from subnet pools"


def test_whole_pool_and_host_sized_pieces() -> None:
    assert alloc([("192.168.5.0/24", 24)]) == "192.168.5.0/24"
    assert alloc([("192.168.5.0/30", 32)], ["192.168.5.0/31"]) == "192.168.5.2/32"


def test_exhausted_pool() -> None:
    assert alloc_err([("10.89.0.0/23", 24)], ["10.89.0.0/24", "10.89.1.0/24"]) == \
        "could not find free subnet from subnet pools"
    assert alloc_err([]) == "could not find free subnet from subnet pools"


def test_overflow_at_the_end_of_the_address_space() -> None:
    assert alloc_err([("255.255.255.0/24", 25)], ["255.255.255.0/24"]) == \
        "Subnet address overflow"
    # remembered: a later pool without room does not replace it
    assert alloc_err([("255.255.255.0/24", 25), ("10.0.0.0/24", 24)],
                     ["255.255.255.0/24", "10.0.0.0/24"]) == "Subnet address overflow"
    # but a later failing pool's error does
    assert alloc_err([("255.255.255.0/24", 25), ("10.0.0.0/8", 40)],
                     ["255.255.255.0/24"]) == \
        "Failed to create network from pool: invalid IP prefix length"


def test_size_zero() -> None:
    assert alloc([("0.0.0.0/4", 0)]) == "0.0.0.0/0"
    assert alloc_err([("0.0.0.0/4", 0)], ["10.0.0.0/8"]) == \
        "could not find free subnet from subnet pools"


def test_random_ula() -> None:
    seen = {str(random_ula_subnet()) for _ in range(50)}
    assert len(seen) > 45
    assert all(is_random_ula64(s) for s in seen)


def test_allocation_through_create_checks_used_only_when_asked() -> None:
    doc = base_input()
    doc["used"]["subnets"] = ["10.89.0.0/24"]
    assert create_doc(doc)["subnets"][0]["subnet"] == "10.89.0.0/24"
    doc["options"]["check_used_subnets"] = True
    assert create_doc(doc)["subnets"][0]["subnet"] == "10.89.1.0/24"
    doc["options"]["subnet_pools"] = []
    assert create_doc(doc) == {"error": "could not find free subnet from subnet pools"}


def test_dual_stack_allocation_errors_surface() -> None:
    doc = base_input(ipv6_enabled=True, subnets=[{"subnet": "fd00::/64"}])
    doc["options"]["subnet_pools"] = [{"base": "fd00::/8", "size": 64}]
    assert create_doc(doc) == {"error": "could not find free subnet from subnet pools"}
