"""Entering network namespaces with ``setns(2)``.

Python 3.12 has ``os.setns``; older versions reach libc through ``ctypes``
(imported only then).  netavark is single-threaded, so switching the thread's
namespace switches the process's view of ``/proc/sys/net`` and of new sockets.
"""

from __future__ import annotations

import os

from ..errors import IoError, wrap

CLONE_NEWNET = 0x40000000
HOST_NETNS_PATH = "/proc/self/ns/net"

_setns_impl = getattr(os, "setns", None)


def _libc_setns(fd: int, nstype: int) -> None:
    import ctypes

    global _setns_impl
    libc = ctypes.CDLL(None, use_errno=True)
    func = libc.setns
    func.argtypes = (ctypes.c_int, ctypes.c_int)

    def impl(fd: int, nstype: int) -> None:
        if func(fd, nstype) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    _setns_impl = impl
    impl(fd, nstype)


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """Move the calling thread into the namespace ``fd``; errors as upstream."""
    try:
        (_setns_impl or _libc_setns)(fd, nstype)
    except OSError as e:
        raise wrap("setns", IoError.from_os(e)) from None


def open_ns(path: str | bytes) -> int:
    """``open(path, O_RDONLY|O_CLOEXEC)``; OSError propagates for the caller to wrap."""
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


class Netns:
    """An open namespace file with a context manager to run code inside it.

    ``with container.entered(host):`` switches into ``container`` and always
    back to ``host``.
    """

    __slots__ = ("fd", "path")

    def __init__(self, fd: int, path: str | bytes) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, path: str | bytes) -> Netns:
        return cls(open_ns(path), path)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def entered(self, back: Netns) -> _Entered:
        return _Entered(self, back)


class _Entered:
    __slots__ = ("back", "target")

    def __init__(self, target: Netns, back: Netns) -> None:
        self.target = target
        self.back = back

    def __enter__(self) -> Netns:
        setns(self.target.fd)
        return self.target

    def __exit__(self, *exc: object) -> None:
        setns(self.back.fd)
