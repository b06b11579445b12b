"""``netavark setup <netns>``: attach a container's network namespace to its networks."""

from __future__ import annotations

import os
import sys

from .. import log
from ..config import load_network_options
from ..errors import NetavarkError, wrap
from ..rustfmt import debug_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..cli import Context
    from ..network.core import Namespaces
    from ..network.driver import NetworkDriver

_log = log.Logger("netavark::commands::setup")


def check_netns_path(path: str) -> None:
    """Open and stat the namespace path as upstream does before anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fstat(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise wrap("invalid namespace path", e) from None


def teardown_drivers(drivers: list[NetworkDriver], ns: Namespaces) -> None:
    for driver in drivers:
        try:
            driver.teardown(ns.host_rtnl, ns.container_rtnl)
        except NetavarkError as e:
            _log.error(f"failed to cleanup network {driver.network_name} after setup "
                       f"failed: {e}")


def run(ctx: Context) -> None:
    from ..dns import dns_port_from_env
    from ..firewall import get_firewall_driver
    from ..network.core import Namespaces
    from ..network.driver import driver_for
    from ..serde import dumps

    ns_path = ctx.args["network_namespace_path"]
    check_netns_path(ns_path)
    opts = load_network_options(ctx.file)
    firewall = get_firewall_driver(ctx.firewall_driver, one_shot=True)
    dns_port = dns_port_from_env()

    ns = Namespaces.open(ns_path)
    try:
        container_rtnl = ns.container_rtnl
        assert container_rtnl is not None
        container_rtnl.set_up(1)  # loopback
        config_dir = ctx.require_config()

        drivers: list[NetworkDriver] = []
        for name, per_net in opts.networks:
            driver = driver_for(name, per_net, opts, firewall=firewall, netns_host=ns.host,
                                netns_container=ns.container, netns_path=ns_path,
                                dns_port=dns_port, config_dir=config_dir,
                                rootless=ctx.rootless, plugin_dirs=ctx.plugin_directories)
            driver.validate()
            drivers.append(driver)

        response = {}
        entries = []
        for i, driver in enumerate(drivers):
            try:
                status, entry = driver.setup(ns.host_rtnl, container_rtnl)
            except BaseException:
                teardown_drivers(drivers[:i], ns)
                raise
            response[driver.network_name] = status.to_json()
            if entry is not None:
                entries.append(entry)

        if entries:
            _apply_dns(ctx, config_dir, dns_port, entries, drivers, ns)
    finally:
        ns.close()
    sys.stdout.write(dumps(response) + "\n")


def _apply_dns(ctx: Context, config_dir: str, dns_port: int, entries: list,
               drivers: list[NetworkDriver], ns: Namespaces) -> None:
    from ..dns import select_dns_server

    aardvark_bin = ctx.aardvark_binary
    try:
        # aardvark-dns if it exists, else the built-in server (NETAVARK_DNS_SERVER)
        server = select_dns_server(aardvark_bin)
    except NetavarkError:
        teardown_drivers(drivers, ns)
        raise
    if not server.usable:
        _log.info(f"dns disabled because aardvark-dns path {debug_path(aardvark_bin)} "
                  "does not exists")
        return
    path = os.path.join(config_dir, "aardvark-dns")
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError as e:
        teardown_drivers(drivers, ns)
        raise wrap(f"failed to create aardvark-dns directory {path}", e) from None
    from ..dns.aardvark import Aardvark

    try:
        Aardvark(path, ctx.rootless, server, dns_port).commit_netavark_entries(entries)
    except NetavarkError as e:
        teardown_drivers(drivers, ns)
        raise wrap("error while applying dns entries", e) from None
