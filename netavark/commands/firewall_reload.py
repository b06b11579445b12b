"""``netavark firewall-reload``: re-apply the firewall rules recorded in the state files.

Run after the ruleset was flushed (e.g. by ``nftables.service``).  The state
lock is held while the rules are re-applied, so a concurrent setup/teardown
cannot record or remove a network half-way through the replay.  The replay
itself is shared with ``firewalld-reload``; here errors are reported (JSON
error, exit 1) instead of logged.
"""

from __future__ import annotations

from .. import log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..cli import Context

DEFAULT_CONFIG_DIR = "/run/containers/networks"

_log = log.Logger("netavark::commands::firewall_reload")


def run(ctx: Context) -> None:
    from ..firewall import try_system_bus
    from ..rustfmt import debug_path
    from .firewalld_reload import replay

    config_dir = ctx.config if ctx.config is not None else DEFAULT_CONFIG_DIR
    _log.debug(f"looking for firewall configs in {debug_path(config_dir)}")
    conn = try_system_bus()
    try:
        replay(config_dir, conn, _log)
    finally:
        if conn is not None:
            conn.close()
