"""The proxy's lease cache: in memory, mirrored to ``<run dir>/nv-proxy.lease``.

The file holds a JSON object ``{"<mac>": [<lease>]}`` written compactly with
lease keys in the proto's declaration order.  It is rewritten after every
change (rewound and truncated first, so it never carries stale bytes) and is
informational only: nothing reads it back.
"""

from __future__ import annotations

from .. import log
from .proto import Lease

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

_log = log.Logger("netavark::dhcp_proxy::cache")


def lease_json(lease: Lease) -> dict:
    return lease.to_dict()


class LeaseCache:
    __slots__ = ("file", "mem")

    def __init__(self, file: IO[str] | None) -> None:
        self.file = file
        self.mem: dict[str, list[Lease]] = {}

    def add_lease(self, mac: str, lease: Lease) -> None:
        self.mem[mac] = [lease]
        self._save()

    def remove_lease(self, mac: str) -> Lease:
        """The removed lease, or an all-default one if the MAC was unknown."""
        leases = self.mem.pop(mac, None)
        if leases is None:
            return Lease()
        self._save()
        return leases[0]

    def teardown(self) -> None:
        self.mem.clear()
        self._save()

    def __len__(self) -> int:
        return len(self.mem)

    def is_empty(self) -> bool:
        return not self.mem

    def to_json(self) -> str:
        import json

        return json.dumps({mac: [lease_json(le) for le in leases]
                           for mac, leases in self.mem.items()}, separators=(",", ":"))

    def _save(self) -> None:
        """Raises OSError (the caller turns it into a gRPC status)."""
        f = self.file
        if f is None:
            return
        try:
            f.seek(0)
            f.truncate(0)
        except OSError as e:
            _log.error(f"Could not clear the writer. Not updating lease information: {e}")
            return
        f.write(self.to_json())
        f.flush()
