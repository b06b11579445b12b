"""Strict checks of driver options at ``create`` time.

``create`` rejects unknown option keys and parses every known one so that a
network that was created can later be set up.  Values are parsed but not kept:
the options map is stored as given.
"""

from __future__ import annotations

from ..errors import NetavarkError
from ..network.options import parse_bool, parse_i32, parse_option, parse_str, parse_u16, parse_u32

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MODE = "mode"
MTU = "mtu"
ISOLATE = "isolate"
METRIC = "metric"
NO_DEFAULT_ROUTE = "no_default_route"
VRF = "vrf"
VLAN = "vlan"
BCLIM = "bclim"

# (key, parser) in the order the values are parsed: with several bad values
# the first one in this order is reported
BRIDGE_OPTIONS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    (MODE, parse_str),
    (MTU, parse_u32),
    (ISOLATE, parse_str),
    (METRIC, parse_u32),
    (NO_DEFAULT_ROUTE, parse_bool),
    (VRF, parse_str),
    (VLAN, parse_u16),
)

VLAN_OPTIONS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    (MODE, parse_str),
    (MTU, parse_u32),
    (METRIC, parse_u32),
    (NO_DEFAULT_ROUTE, parse_bool),
    (BCLIM, parse_i32),
)

ISOLATE_VALUES = ("strict", "true", "false")
MACVLAN_MODES = ("", "bridge", "private", "vepa", "passthru", "source")
IPVLAN_MODES = ("", "l2", "l3", "l3s")


def _check_keys(opts: dict[str, str] | None, table: tuple[tuple[str, Any], ...],
                kind: str) -> None:
    if opts:
        known = {k for k, _ in table}
        for key in opts:
            if key not in known:
                raise NetavarkError(f"unsupported {kind} network option: {key}")


def parse_bridge_options(opts: dict[str, str] | None) -> dict[str, Any]:
    """Validate bridge options; returns the parsed values (None when unset)."""
    _check_keys(opts, BRIDGE_OPTIONS, "bridge")
    values: dict[str, Any] = {}
    for key, parser in BRIDGE_OPTIONS:
        values[key] = parse_option(opts, key, parser)
        # checked as soon as it is read: a bad isolate wins over a bad metric
        if key == ISOLATE and values[key] is not None and values[key] not in ISOLATE_VALUES:
            raise NetavarkError(f'invalid isolate option "{values[key]}"')
    vlan = values[VLAN]
    if vlan is not None and vlan > 4094:
        raise NetavarkError("vlan must be between 0 and 4094")
    return values


def parse_vlan_options(opts: dict[str, str] | None, driver: str) -> dict[str, Any]:
    """Validate macvlan/ipvlan options including the mode and ``bclim`` rules."""
    _check_keys(opts, VLAN_OPTIONS, "vlan")
    values = {key: parse_option(opts, key, parser) for key, parser in VLAN_OPTIONS}
    mode = values[MODE]
    if mode is not None:
        if driver == "ipvlan":
            if mode not in IPVLAN_MODES:
                raise NetavarkError(f'invalid ipvlan mode "{mode}"')
        elif mode not in MACVLAN_MODES:
            raise NetavarkError(f'invalid macvlan mode "{mode}"')
    if values[BCLIM] is not None and driver == "ipvlan":
        raise NetavarkError("unsupported ipvlan network option bclim")
    return values
