"""``netavark create``: complete a partial network config for Podman."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..cli import Context


def run(ctx: Context) -> None:
    from ..create.input import load_create_config
    from ..create.network import new_network
    from ..serde import dumps

    create = load_create_config(ctx.file)
    network = new_network(create, ctx.plugin_directories)
    sys.stdout.write(dumps(network.to_json()) + "\n")
    sys.stdout.flush()
