"""``netavark firewalld-reload``: put netavark's firewall rules back whenever firewalld reloads.

A firewalld reload (or restart) drops its runtime configuration: the
container subnets bound to zones and, for the firewalld driver, the port
forwards.  This long-running command replays the firewall state recorded in
``<config>/firewall/`` once at start and again on every ``Reloaded`` signal,
with whichever driver recorded it.  It also replays when firewalld's bus name
gets a new owner (firewalld was restarted without a reload signal).
"""

from __future__ import annotations

from .. import log
from ..errors import NetavarkError, wrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..cli import Context
    from ..dbus.connection import Connection

DEFAULT_CONFIG_DIR = "/run/containers/networks"

_log = log.Logger("netavark::commands::firewalld_reload")


def run(ctx: Context) -> None:
    from ..dbus import system_bus

    config_dir = ctx.config if ctx.config is not None else DEFAULT_CONFIG_DIR
    _log.debug(f'looking for firewall configs in "{config_dir}"')
    conn = system_bus()
    try:
        listen(config_dir, conn)
    finally:
        conn.close()


def listen(config_dir: str, conn: Connection) -> None:
    """Reload now, then on every signal until the bus connection ends."""
    from ..dbus.firewalld import (
        FIREWALLD,
        OWNER_CHANGED_MATCH,
        RELOADED_MATCH,
        SignalWatch,
    )

    # firewalld flushed its runtime state when it started, which was before us
    reload_rules(config_dir, conn)
    conn.add_match(RELOADED_MATCH)
    conn.add_match(OWNER_CHANGED_MATCH)
    try:
        watch = SignalWatch(conn.name_owner(FIREWALLD))
    except NetavarkError:
        watch = SignalWatch(None)  # not running now; its start will be seen
    while True:
        msg = conn.receive()
        if msg is None:
            if conn.closed:
                return
            continue
        reason = watch.classify(msg)
        if reason:
            _log.debug(f"got firewalld {reason} signal")
            reload_rules(config_dir, conn)


def reload_rules(config_dir: str, conn: Any) -> None:
    try:
        replay(config_dir, conn, _log)
    except NetavarkError as e:
        _log.error(f"failed to reload firewall rules: {e}")


def replay(config_dir: str, conn: Any, logger: log.Logger) -> None:
    """Re-apply every recorded network and port forward with the recorded driver.

    Shared with ``firewall-reload``, which reports errors instead of logging
    them; ``logger`` is the command's own log target for the success line.
    """
    from ..firewall import get_firewall_driver
    from ..firewall.state import read_fw_config

    try:
        conf = read_fw_config(config_dir)
    except NetavarkError as e:
        raise wrap("read firewall config", e) from None
    if conf is None:
        return  # no container was ever set up
    try:
        driver = get_firewall_driver(conf.driver)
        try:
            for net in conf.networks:
                driver.setup_network(net, conn)
            for pf in conf.ports:
                driver.setup_port_forward(pf, conn)
        finally:
            close = getattr(driver, "close", None)
            if close is not None:
                close()
    finally:
        conf.close()
    logger.info("Successfully reloaded firewall rules")
