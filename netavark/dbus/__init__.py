"""A small D-Bus client of our own (the system bus is all netavark needs).

``marshal``/``message``/``auth``/``address`` are pure (bytes in, values out);
``connection`` is the only module doing I/O.  Import cost is kept low: the
connection is imported only when a bus is actually wanted.
"""

from __future__ import annotations

import os

from .address import DEFAULT_SYSTEM_BUS, SYSTEM_BUS_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .connection import Connection


def system_bus_address() -> str:
    """``DBUS_SYSTEM_BUS_ADDRESS`` or the well-known socket; set but empty stays empty."""
    address = os.environ.get(SYSTEM_BUS_ENV)
    return DEFAULT_SYSTEM_BUS if address is None else address


def system_bus() -> Connection:
    """A new connection to the system bus; raises DbusError when there is none.

    An empty ``DBUS_SYSTEM_BUS_ADDRESS`` means "no D-Bus": it is not a valid
    address, so connecting fails (upstream's tests rely on this).
    """
    from .connection import Connection

    return Connection.connect(system_bus_address())
