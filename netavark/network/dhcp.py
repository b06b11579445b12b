"""IPAM driver ``dhcp``: leases come from the DHCP proxy (``netavark dhcp-proxy``).

The proxy and its client are not part of this version yet; setup and
teardown of such networks fail with a clear message instead of pretending.
"""

from __future__ import annotations

from ..errors import NetavarkError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NOT_AVAILABLE = ("unable to obtain lease: the dhcp ipam driver is not supported by this "
                 "version of netavark-py (no DHCP proxy client)")


def get_dhcp_lease(host_iface: str, container_iface: str, ns_path: str, mac: str,
                   hostname: str, container_id: str) -> tuple[Any, Any, Any]:
    raise NetavarkError(NOT_AVAILABLE)


def dhcp_teardown(info: Any, netns: Any) -> None:
    raise NetavarkError("drop DHCP lease: the dhcp ipam driver is not supported by this "
                        "version of netavark-py (no DHCP proxy client)")
