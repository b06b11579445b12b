"""The ``none`` firewall driver: no rules at all."""

from __future__ import annotations

from . import NONE, FirewallDriver, PortForwardConfig, SetupNetwork

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class NoneDriver(FirewallDriver):
    name = NONE

    def setup_network(self, net: SetupNetwork, dbus: Any = None) -> None:
        return None

    def teardown_network(self, net: SetupNetwork) -> None:
        return None

    def setup_port_forward(self, pf: PortForwardConfig, dbus: Any = None) -> None:
        return None

    def teardown_port_forward(self, pf: PortForwardConfig, complete: bool) -> None:
        return None
