"""``netavark teardown <netns>``: undo ``setup``, reporting every error but never stopping early."""

from __future__ import annotations

import errno

from .. import log
from ..config import load_network_options
from ..errors import ErrorList, NetavarkError, errno_of, wrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..cli import Context

_log = log.Logger("netavark::commands::teardown")


def _ignore_stop_signals() -> None:
    """Podman or systemd stopping the container must not interrupt cleanup."""
    import _signal

    for sig in (_signal.SIGTERM, _signal.SIGINT):
        try:
            _signal.signal(sig, _signal.SIG_IGN)
        except (OSError, ValueError):
            pass


def run(ctx: Context) -> None:
    _ignore_stop_signals()
    from ..dns import AardvarkEntry, dns_port_from_env, safe_string
    from ..firewall import get_firewall_driver
    from ..network.core import Namespaces
    from ..network.driver import driver_for

    ns_path = ctx.args["network_namespace_path"]
    opts = load_network_options(ctx.file)
    errors = ErrorList()
    dns_port = dns_port_from_env()
    config_dir = ctx.require_config()

    entries = []
    for key, network in opts.network_info.items():
        if network.dns_enabled and network.driver == "bridge":
            reason = safe_string(opts.container_id)
            if reason is not None:
                _log.warn(f"invalid container id {opts.container_id}: {reason}")
                continue
            entries.append(AardvarkEntry(key, [], None, opts.container_id, [], [], [], None,
                                         network.internal))
    if entries:
        # stop answering for the container before its interfaces go away
        import os

        from ..dns import select_dns_server
        from ..dns.aardvark import Aardvark

        path = os.path.join(config_dir, "aardvark-dns")
        try:
            # the server restarted if the running one is gone (as setup chose it)
            server = select_dns_server(ctx.aardvark_binary)
            Aardvark(path, ctx.rootless, server, dns_port).delete_from_netavark_entries(entries)
        except NetavarkError as e:
            errors.push(wrap("remove aardvark entries", e))

    firewall = get_firewall_driver(ctx.firewall_driver, one_shot=True)
    ns = Namespaces.open_host()
    try:
        try:
            ns.attach_container(ns_path)
        except NetavarkError as e:
            if errno_of(e) == errno.ENOENT:
                _log.warn(f"container netns not found: {e}")
            else:
                errors.push(e)

        for name, per_net in opts.networks:
            try:
                driver = driver_for(name, per_net, opts, firewall=firewall, netns_host=ns.host,
                                    netns_container=ns.container, netns_path=ns_path,
                                    dns_port=dns_port, config_dir=config_dir,
                                    rootless=ctx.rootless, plugin_dirs=ctx.plugin_directories)
                driver.teardown(ns.host_rtnl, ns.container_rtnl)
            except NetavarkError as e:
                errors.push(e)
    finally:
        ns.close()
    err = errors.into_result()
    if err is not None:
        raise err
