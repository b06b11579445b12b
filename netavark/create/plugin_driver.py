"""``create`` for networks whose driver is an external plugin.

The plugin gets the network (after the generic name/interface/IPAM checks)
and returns it completed; it may change anything but name, id and driver.
"""

from __future__ import annotations

from ..config import Network
from ..errors import JsonError, NetavarkError
from ..plugin import exec_plugin, find_plugin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def decode_network(raw: bytes) -> Network:
    """The plugin's answer; malformed JSON is ``JSON Decoding error: <serde>``."""
    from .. import serde

    try:
        doc = serde.loads(raw)
        try:
            return Network.from_json(doc, ())
        except serde.SchemaError as e:
            raise serde.located(raw, e) from None
    except serde.DecodeError as e:
        raise JsonError(str(e)) from None


def exec_plugin_driver(network: Network, plugin_directories: Sequence[str] | None) -> Network:
    driver = network.driver
    if plugin_directories is None:
        raise NetavarkError("plugin directory not provided")
    path = find_plugin(plugin_directories, driver)
    if path is None:
        raise NetavarkError(f'plugin for driver "{driver}" not found in plugin directories')

    from ..serde import dumps

    raw = exec_plugin(path, ["create"], dumps(network.to_json()).encode("utf-8"))
    result = decode_network(raw)
    if result.name != network.name:
        raise NetavarkError(f"{driver} plugin invalid result: changed network name")
    if result.id != network.id:
        raise NetavarkError(f"{driver} plugin invalid result: changed network ID")
    if result.driver != network.driver:
        raise NetavarkError(f"{driver} plugin invalid result: changed network driver")
    return result
