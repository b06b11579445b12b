"""``netavark firewall-reload``: re-apply the firewall rules recorded in the state files.

Run after the ruleset was flushed (e.g. by ``nftables.service``).  The state
lock is held while the rules are re-applied, so a concurrent setup/teardown
cannot record or remove a network half-way through the replay.
"""

from __future__ import annotations

from .. import log
from ..errors import NetavarkError, wrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..cli import Context

DEFAULT_CONFIG_DIR = "/run/containers/networks"

_log = log.Logger("netavark::commands::firewall_reload")


def run(ctx: Context) -> None:
    config_dir = ctx.config or DEFAULT_CONFIG_DIR
    from ..firewall import try_system_bus
    from ..rustfmt import debug_path

    _log.debug(f"looking for firewall configs in {debug_path(config_dir)}")

    reload_rules(config_dir, try_system_bus())


def reload_rules(config_dir: str, conn: Any) -> None:
    """Replay ``setup_network`` / ``setup_port_forward`` for everything recorded."""
    from ..firewall import get_firewall_driver
    from ..firewall.state import read_fw_config

    try:
        conf = read_fw_config(config_dir)
    except NetavarkError as e:
        raise wrap("read firewall config", e) from None
    if conf is None:
        return
    try:
        driver = get_firewall_driver(conf.driver)
        for net in conf.networks:
            driver.setup_network(net, conn)
        for pf in conf.ports:
            driver.setup_port_forward(pf, conn)
        _log.info("Successfully reloaded firewall rules")
    finally:
        conf.close()
