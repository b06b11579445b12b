"""Logging of the built-in DNS server: syslog (facility user) like aardvark-dns.

The level comes from ``RUST_LOG`` given as one level name (netavark passes its
own maximum level, e.g. ``WARN``); anything else is reported on stderr and
``info`` is used.
"""

from __future__ import annotations

import sys

OFF, ERROR, WARN, INFO, DEBUG, TRACE = 0, 1, 2, 3, 4, 5
_NAMES = {"error": ERROR, "warn": WARN, "info": INFO, "debug": DEBUG, "trace": TRACE}
IDENT = "aardvark-dns"


def level_from_env(value: str | None) -> int:
    if value is None:
        return INFO
    level = _NAMES.get(value.lower())
    if level is None:
        sys.stderr.write("failed to parse RUST_LOG level: attempted to convert a string "
                         "that doesn't match an existing log level\n")
        return INFO
    return level


class Log:
    """Messages at or above ``level`` go to syslog; ``sink`` replaces syslog in tests."""

    __slots__ = ("debug_enabled", "level", "sink")

    def __init__(self, level: int, sink: object = None) -> None:
        self.level = level
        self.debug_enabled = level >= DEBUG
        if sink is None:
            try:
                import syslog

                syslog.openlog(IDENT, 0, syslog.LOG_USER)
                prio = {ERROR: syslog.LOG_ERR, WARN: syslog.LOG_WARNING,
                        INFO: syslog.LOG_INFO, DEBUG: syslog.LOG_DEBUG, TRACE: syslog.LOG_DEBUG}

                def sink(lvl: int, msg: str) -> None:
                    syslog.syslog(prio[lvl], msg)
            except ImportError:
                def sink(lvl: int, msg: str) -> None:
                    pass
        self.sink = sink

    def _emit(self, lvl: int, msg: str) -> None:
        if lvl <= self.level:
            try:
                self.sink(lvl, msg)  # type: ignore[operator]
            except (OSError, ValueError):
                pass

    def error(self, msg: str) -> None:
        self._emit(ERROR, msg)

    def warn(self, msg: str) -> None:
        self._emit(WARN, msg)

    def info(self, msg: str) -> None:
        self._emit(INFO, msg)

    def debug(self, msg: str) -> None:
        if self.debug_enabled:
            self._emit(DEBUG, msg)

    def trace(self, msg: str) -> None:
        self._emit(TRACE, msg)

