"""RFC 3339 timestamps as chrono reads and writes them (``DateTime<Utc>``).

Done by hand: ``datetime`` is not needed for this and costs import time on
every setup.
"""

from __future__ import annotations


class Timestamp:
    """UTC instant with nanosecond precision."""

    __slots__ = ("nanos", "seconds")

    def __init__(self, seconds: int, nanos: int = 0) -> None:
        self.seconds = seconds
        self.nanos = nanos

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """Parse an RFC 3339 date-time (``T``/``t``/space separator, ``Z`` or offset)."""
        try:
            return cls._parse(text)
        except (ValueError, IndexError):
            raise ValueError("input contains invalid characters") from None

    @classmethod
    def _parse(cls, s: str) -> Timestamp:
        if len(s) < 20 or s[4] != "-" or s[7] != "-" or s[10] not in "Tt " \
                or s[13] != ":" or s[16] != ":":
            raise ValueError
        year, month, day = _digits(s[0:4]), _digits(s[5:7]), _digits(s[8:10])
        hour, minute, sec = _digits(s[11:13]), _digits(s[14:16]), _digits(s[17:19])
        i = 19
        nanos = 0
        if s[i] == ".":
            j = i + 1
            while j < len(s) and s[j].isdigit():
                j += 1
            frac = s[i + 1:j]
            if not frac:
                raise ValueError
            nanos = int((frac + "000000000")[:9])
            i = j
        rest = s[i:]
        if rest in ("Z", "z"):
            offset = 0
        elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
            offset = (_digits(rest[1:3]) * 60 + _digits(rest[4:6])) * 60
            if rest[0] == "-":
                offset = -offset
        else:
            raise ValueError
        if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)
                and hour < 24 and minute < 60 and sec <= 60):
            raise ValueError
        secs = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + sec
        return cls(secs - offset, nanos)

    @classmethod
    def now(cls) -> Timestamp:
        import time

        ns = time.time_ns()
        return cls(ns // 1_000_000_000, ns % 1_000_000_000)

    def __str__(self) -> str:
        """chrono's ``SecondsFormat::AutoSi`` with ``Z``."""
        days, rem = divmod(self.seconds, 86400)
        y, m, d = _civil_from_days(days)
        hh, rem = divmod(rem, 3600)
        mm, ss = divmod(rem, 60)
        base = f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}"
        n = self.nanos
        if n == 0:
            frac = ""
        elif n % 1_000_000 == 0:
            frac = f".{n // 1_000_000:03d}"
        elif n % 1000 == 0:
            frac = f".{n // 1000:06d}"
        else:
            frac = f".{n:09d}"
        return base + frac + "Z"


def _digits(s: str) -> int:
    if not s.isdigit() or not s.isascii():
        raise ValueError
    return int(s)


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d
