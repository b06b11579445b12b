"""A tiny env_logger look-alike: ``[LEVEL target] message`` lines on stderr.

Filtering follows ``RUST_LOG`` as env_logger reads it: comma separated
directives ``level``, ``target`` or ``target=level``; the longest target prefix
that matches wins; unset means only errors.  The stdlib ``logging`` module is
not used: it costs ~10 ms to import, too much for a command run per container.
"""

from __future__ import annotations

import os
import sys

OFF, ERROR, WARN, INFO, DEBUG, TRACE = 0, 1, 2, 3, 4, 5
LEVEL_NAMES = {"off": OFF, "error": ERROR, "warn": WARN, "info": INFO, "debug": DEBUG,
               "trace": TRACE}
_LABELS = {ERROR: "ERROR", WARN: "WARN ", INFO: "INFO ", DEBUG: "DEBUG", TRACE: "TRACE"}
_UPPER = {OFF: "OFF", ERROR: "ERROR", WARN: "WARN", INFO: "INFO", DEBUG: "DEBUG",
          TRACE: "TRACE"}


class Filter:
    """Parsed ``RUST_LOG`` directives."""

    __slots__ = ("default", "directives")

    def __init__(self, spec: str | None) -> None:
        self.default = ERROR
        # (target, level), longest target first so the first match wins
        directives: list[tuple[str, int]] = []
        default: int | None = None
        for part in (spec or "").split("/", 1)[0].split(","):
            part = part.strip()
            if not part:
                continue
            if "=" in part:
                target, _, level_s = part.partition("=")
                level = LEVEL_NAMES.get(level_s.strip().lower())
                if level is None:
                    continue
                target = target.strip()
                if target:
                    directives.append((target, level))
                else:
                    default = level
            else:
                level = LEVEL_NAMES.get(part.lower())
                if level is not None:
                    default = level
                else:
                    directives.append((part, TRACE))
        if default is not None:
            self.default = default
        elif directives:
            # env_logger: with target directives only, everything else is off
            self.default = OFF
        directives.sort(key=lambda d: len(d[0]), reverse=True)
        self.directives = directives

    def level_for(self, target: str) -> int:
        for name, level in self.directives:
            if target.startswith(name):
                return level
        return self.default

    def max_level(self) -> int:
        return max([self.default, *(lvl for _, lvl in self.directives)])


_filter: Filter | None = None


def get_filter() -> Filter:
    global _filter
    if _filter is None:
        _filter = Filter(os.environ.get("RUST_LOG"))
    return _filter


def reset_filter() -> None:
    """Forget the parsed filter (tests change RUST_LOG)."""
    global _filter
    _filter = None


def max_level_name() -> str:
    """Upper-case name of the most verbose enabled level (given to aardvark-dns)."""
    return _UPPER[get_filter().max_level()]


def enabled(level: int, target: str) -> bool:
    return level <= get_filter().level_for(target)


def emit(level: int, target: str, msg: str) -> None:
    if enabled(level, target):
        try:
            sys.stderr.write(f"[{_LABELS[level]} {target}] {msg}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


class Logger:
    """Logger bound to one upstream module path used as target."""

    __slots__ = ("target",)

    def __init__(self, target: str) -> None:
        self.target = target

    def enabled(self, level: int) -> bool:
        return enabled(level, self.target)

    def error(self, msg: str) -> None:
        emit(ERROR, self.target, msg)

    def warn(self, msg: str) -> None:
        emit(WARN, self.target, msg)

    def info(self, msg: str) -> None:
        emit(INFO, self.target, msg)

    def debug(self, msg: str) -> None:
        emit(DEBUG, self.target, msg)

    def trace(self, msg: str) -> None:
        emit(TRACE, self.target, msg)
