"""Stopping DNS servers started by tests: only those, never anything else.

A pid read back from a pid file may be garbage (tests write "-1" on purpose,
and ``kill(-1, ...)`` would hit every process of the machine), so it is
checked to be a real, other process running a DNS server before it is killed.
"""

from __future__ import annotations

import os
import signal

_MARKERS = (b"aardvark-dns", b"fake_aardvark")


def kill_dns_server(pid: object) -> None:
    if not isinstance(pid, int) or pid <= 1 or pid == os.getpid():
        return
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return
    if not any(m in cmdline for m in _MARKERS):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
