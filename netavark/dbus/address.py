"""D-Bus server addresses: ``transport:key=value,...`` entries separated by ``;``.

Only the unix transport with ``path=`` or ``abstract=`` can be connected to;
other entries of a list are skipped.  Values are percent-escaped.
"""

from __future__ import annotations

from ..errors import DbusError

SYSTEM_BUS_ENV = "DBUS_SYSTEM_BUS_ADDRESS"
DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket"


class AddressError(DbusError):
    def __init__(self, why: str) -> None:
        super().__init__(f"address error: {why}")


def _unescape(value: str) -> str:
    if "%" not in value:
        return value
    out = bytearray()
    i = 0
    raw = value.encode()
    while i < len(raw):
        b = raw[i]
        if b == 0x25:  # '%'
            pair = raw[i + 1:i + 3]
            try:
                if len(pair) != 2:
                    raise ValueError
                out.append(int(pair, 16))
            except ValueError:
                raise AddressError(f"invalid percent escape in {value!r}") from None
            i += 3
        else:
            out.append(b)
            i += 1
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise AddressError(f"invalid UTF-8 in {value!r}") from None


def parse_address(text: str) -> list[tuple[str, dict[str, str]]]:
    """All entries of an address list as (transport, options)."""
    entries = []
    for entry in text.split(";"):
        if not entry and entries:
            continue  # a trailing ';'
        transport, colon, rest = entry.partition(":")
        if not colon:
            raise AddressError("address has no colon")
        opts: dict[str, str] = {}
        if rest:
            for kv in rest.split(","):
                key, eq, value = kv.partition("=")
                if not eq:
                    raise AddressError("missing = when parsing key/value")
                if key in opts:
                    raise AddressError(f"Key `{key}` specified multiple times")
                opts[key] = _unescape(value)
        entries.append((transport, opts))
    return entries


def unix_targets(text: str) -> list[str]:
    """Socket addresses to try in order (abstract names start with NUL)."""
    targets = []
    for transport, opts in parse_address(text):
        if transport != "unix":
            continue
        if "path" in opts:
            targets.append(opts["path"])
        elif "abstract" in opts:
            targets.append("\0" + opts["abstract"])
    if not targets:
        transports = ", ".join(sorted({t for t, _ in parse_address(text)}))
        raise AddressError(f"no usable unix address (transports: {transports})")
    return targets
