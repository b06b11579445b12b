"""``netavark update <network> --network-dns-servers <s>...``: change network DNS servers.

Rewrites line 1 of ``<config>/aardvark-dns/<network>`` and tells the DNS
server.  Nothing happens when no DNS server is available (upstream: the
aardvark-dns binary does not exist); see :func:`netavark.dns.select_dns_server`.
"""

from __future__ import annotations

from .. import log
from ..dns import aardvark_config_dir, dns_port_from_env, select_dns_server
from ..errors import NetavarkError, wrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..cli import Context

LOG = log.Logger("netavark::commands::update")


def run(ctx: Context) -> None:
    dns_port = dns_port_from_env()
    config = ctx.require_config()
    server = select_dns_server(ctx.aardvark_binary)
    if server.usable:
        from ..dns.aardvark import Aardvark

        servers = list(ctx.args.get("network_dns_servers") or [])
        # `--network-dns-servers ""` clears the list
        if len(servers) == 1 and servers[0] == "":
            servers = []
        aardvark = Aardvark(aardvark_config_dir(config), ctx.rootless, server, dns_port)
        try:
            aardvark.modify_network_dns_servers(ctx.args["network_name"], servers)
        except NetavarkError as e:
            raise wrap("unable to modify network dns servers", e) from None
    LOG.debug("Network update complete")
