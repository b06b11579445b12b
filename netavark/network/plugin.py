"""Networks whose driver is an external plugin executable (plugin-API of upstream)."""

from __future__ import annotations

from .. import serde
from ..config import NetAddress, NetInterface, StatusBlock
from ..errors import JsonError, wrap
from ..plugin import exec_plugin, plugin_name
from .driver import NetworkDriver

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..dns import AardvarkEntry
    from ..netlink.route import RtnlHandle
    from .driver import DriverInfo


def _net_address(v: Any, path: tuple) -> NetAddress:
    o = serde.struct(v, path, "NetAddress")
    return NetAddress(serde.req(o, "ipnet", path, serde.as_ipnet),
                      serde.opt(o, "gateway", path, serde.as_ip))


def _net_interface(v: Any, path: tuple) -> NetInterface:
    o = serde.struct(v, path, "NetInterface")
    return NetInterface(serde.req(o, "mac_address", path, serde.as_str),
                        serde.opt(o, "subnets", path,
                                  lambda x, p: serde.as_list(x, p, _net_address)))


def status_block_from_json(v: Any, path: tuple = ()) -> StatusBlock:
    o = serde.struct(v, path, "StatusBlock")
    return StatusBlock(
        dns_search_domains=serde.opt(o, "dns_search_domains", path,
                                     lambda x, p: serde.as_list(x, p, serde.as_str)),
        dns_server_ips=serde.opt(o, "dns_server_ips", path,
                                 lambda x, p: serde.as_list(x, p, serde.as_ip)),
        interfaces=serde.opt(o, "interfaces", path,
                             lambda x, p: serde.as_map(x, p, _net_interface)),
    )


class PluginDriver(NetworkDriver):
    """Runs ``<plugin> setup|teardown <netns>`` with the network on stdin."""

    def __init__(self, info: DriverInfo, path: str) -> None:
        super().__init__(info)
        self.path = path

    def validate(self) -> None:
        return None  # the plugin API has no validate step

    def _input(self) -> bytes:
        info = self.info
        doc = {
            "container_id": info.container_id,
            "container_name": info.container_name,
            "port_mappings": None if info.port_mappings is None else
            [p.to_json() for p in info.port_mappings],
            "network": info.network.to_json(),
            "network_options": info.per_network_opts.to_json(),
        }
        return serde.dumps(doc).encode("utf-8")

    def _context(self) -> str:
        return f"plugin {plugin_name(self.path)} failed"

    def setup(self, host: RtnlHandle, netns: RtnlHandle
              ) -> tuple[StatusBlock, AardvarkEntry | None]:
        try:
            raw = exec_plugin(self.path, ["setup", self.info.netns_path], self._input())
            try:
                doc = serde.loads(raw)
                try:
                    status = status_block_from_json(doc)
                except serde.SchemaError as e:
                    raise serde.located(raw, e) from None
            except serde.DecodeError as e:
                raise JsonError(str(e)) from None
        except Exception as e:
            raise wrap(self._context(), e) from None
        return status, None

    def teardown(self, host: RtnlHandle, netns: RtnlHandle | None) -> None:
        try:
            exec_plugin(self.path, ["teardown", self.info.netns_path], self._input())
        except Exception as e:
            raise wrap(self._context(), e) from None
