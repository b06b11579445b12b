"""Picking free subnets: IPv4 from the configured pools, IPv6 at random.

IPv4 walks each pool in steps of the pool's size and takes the first piece
that does not clash with a used subnet.  IPv6 follows RFC 4193: a random
``fdXX:XXXX:XXXX:XXXX::/64`` (random so that two hosts are unlikely to pick
the same one), retried while it clashes.
"""

from __future__ import annotations

import os

from ..config import Subnet
from ..errors import NetavarkError
from ..ip import IpAddr, IpNet
from .validate import intersects_any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .input import SubnetPool

V4_MAX = (1 << 32) - 1
IPV6_ATTEMPTS = 10000


def free_ipv4_subnet(used: list[IpNet], pools: list[SubnetPool], check_used: bool) -> Subnet:
    """The first piece of the IPv4 pools not clashing with ``used``.

    Quirks kept from upstream: the size is taken modulo 256 (a u8 prefix); a
    size smaller than the pool's own prefix yields one subnet larger than the
    pool, only when the pool base is aligned to it; with ``check_used`` false
    the first piece of the first usable pool is returned unchecked.  A failed
    pool is remembered and reported only if no later pool has a free piece.
    """
    last_error: NetavarkError | None = None
    for pool in pools:
        base = pool.base
        if base.version != 4:
            continue
        size = pool.size & 0xFF
        if size > 32:
            last_error = NetavarkError(
                "Failed to create network from pool: invalid IP prefix length")
            continue
        step = 1 << (32 - size)
        mask = V4_MAX ^ (step - 1)
        addr = base.network().value & mask
        while base.contains(IpAddr(4, addr)):
            candidate = IpNet(IpAddr(4, addr), size)
            if not (check_used and intersects_any(candidate, used)):
                return Subnet(candidate)
            if size == 0:
                # the whole address space was the only candidate; upstream
                # would spin here forever (its step wraps to 1)
                break
            addr += step
            if addr > V4_MAX:
                last_error = NetavarkError("Subnet address overflow")
                break
    if last_error is not None:
        raise last_error
    raise NetavarkError("could not find free subnet from subnet pools")


def random_ula_subnet() -> IpNet:
    """``fd`` followed by 56 random bits, as a /64."""
    value = (0xFD << 56 | int.from_bytes(os.urandom(7), "big")) << 64
    return IpNet(IpAddr(6, value), 64)


def free_ipv6_subnet(used: list[IpNet]) -> Subnet:
    """A random ULA /64 not clashing with ``used`` (always checked)."""
    for _ in range(IPV6_ATTEMPTS):
        net = random_ula_subnet()
        if not intersects_any(net, used):
            return Subnet(net)
    raise NetavarkError("failed to get random ipv6 subnet")
