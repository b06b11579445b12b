"""Error types. ``str(err)`` is exactly the message upstream netavark prints.

Upstream composes messages from a small algebra (plain message, context chain,
I/O error, netlink error, list ...); the classes below mirror it so that the
same composition gives the same text, while keeping errno and extra facts
(operation, kernel extended-ack text) available to callers and debug logs.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


class NetavarkError(Exception):
    """A plain message (upstream ``NetavarkError::Message``)."""

    exit_code = 1

    def __init__(self, msg: str = "") -> None:
        super().__init__(msg)
        self.msg = msg

    def __str__(self) -> str:
        return self.msg

    def root(self) -> NetavarkError:
        """The innermost error of a context chain."""
        return self

    @property
    def errno(self) -> int | None:
        return None


class ChainError(NetavarkError):
    """``<context>: <inner>``; keeps the inner error for errno checks."""

    def __init__(self, context: str, inner: NetavarkError) -> None:
        super().__init__(context)
        self.inner = inner

    def __str__(self) -> str:
        return f"{self.msg}: {self.inner}"

    def root(self) -> NetavarkError:
        return self.inner.root()

    @property
    def errno(self) -> int | None:
        return self.inner.errno


def wrap(context: str, err: BaseException) -> NetavarkError:
    """Add context to an error, converting foreign errors first."""
    return ChainError(context, as_netavark_error(err))


def io_display(errno: int) -> str:
    """Rust's ``io::Error`` display of an OS error."""
    return f"{os.strerror(errno)} (os error {errno})"


class IoError(NetavarkError):
    """``IO error: <detail>``; detail is ``strerror (os error N)`` for OS errors."""

    def __init__(self, errno: int | None = None, detail: str | None = None) -> None:
        self._errno = errno
        if detail is None:
            detail = io_display(errno) if errno is not None else "unknown error"
        super().__init__(detail)

    @classmethod
    def from_os(cls, exc: OSError) -> IoError:
        if exc.errno is not None:
            return cls(exc.errno)
        return cls(None, str(exc))

    @property
    def errno(self) -> int | None:
        return self._errno

    def __str__(self) -> str:
        return f"IO error: {self.msg}"


class NetlinkError(NetavarkError):
    """A negative errno from an ``NLMSG_ERROR`` reply.

    ``op`` names the request and ``extack`` holds the kernel's extended-ack text;
    neither is part of the message (upstream does not print them), both are
    kept for debug logs and callers.
    """

    def __init__(self, errno: int, op: str = "", extack: str = "") -> None:
        super().__init__(io_display(errno))
        self._errno = errno
        self.op = op
        self.extack = extack

    @property
    def errno(self) -> int:
        return self._errno

    def __str__(self) -> str:
        return f"Netlink error: {self.msg}"

    def describe(self) -> str:
        """Everything we know, for debug output."""
        parts = [str(self)]
        if self.op:
            parts.append(f"op={self.op}")
        if self.extack:
            parts.append(f"extack={self.extack!r}")
        return " ".join(parts)


class JsonError(NetavarkError):
    """``JSON Decoding error: <serde message>``."""

    def __str__(self) -> str:
        return f"JSON Decoding error: {self.msg}"


class DbusError(NetavarkError):
    """``DBus error: <name>: <message>`` (or a transport problem)."""

    def __init__(self, detail: str, name: str = "", message: str = "") -> None:
        super().__init__(detail)
        self.name = name
        self.message = message

    @classmethod
    def reply(cls, name: str, message: str) -> DbusError:
        return cls(f"{name}: {message}", name, message)

    def __str__(self) -> str:
        return f"DBus error: {self.msg}"


class DbusVariantError(NetavarkError):
    def __str__(self) -> str:
        return f"DBus Variant Error: {self.msg}"


class SubnetParseError(NetavarkError):
    def __init__(self) -> None:
        super().__init__("invalid IP address syntax")

    def __str__(self) -> str:
        return f"parsing IP subnet error: {self.msg}"


class AddrParseError(NetavarkError):
    def __init__(self, detail: str = "invalid IP address syntax") -> None:
        super().__init__(detail)

    def __str__(self) -> str:
        return f"parsing IP address error: {self.msg}"


class ErrorList(NetavarkError):
    """Several errors collected by teardown; nested lists are flattened."""

    def __init__(self, errors: Iterable[NetavarkError] = ()) -> None:
        super().__init__("")
        self.errors: list[NetavarkError] = []
        for e in errors:
            self.push(e)

    def push(self, err: NetavarkError) -> None:
        if isinstance(err, ErrorList):
            self.errors.extend(err.errors)
        else:
            self.errors.append(err)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def into_result(self) -> NetavarkError | None:
        """None when empty, the single error, or the list itself."""
        if not self.errors:
            return None
        if len(self.errors) == 1:
            return self.errors[0]
        return self

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return str(self.errors[0])
        return "netavark encountered multiple errors:" + "".join(
            f"\n\t- {e}" for e in self.errors
        )


def as_netavark_error(exc: BaseException) -> NetavarkError:
    """Convert any exception into our error algebra (OSError → IoError)."""
    if isinstance(exc, NetavarkError):
        return exc
    if isinstance(exc, OSError):
        return IoError.from_os(exc)
    return NetavarkError(str(exc))


def errno_of(exc: BaseException) -> int | None:
    """The OS errno behind an error, looking through context chains."""
    if isinstance(exc, NetavarkError):
        return exc.errno
    if isinstance(exc, OSError):
        return exc.errno
    return None
