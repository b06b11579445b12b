"""Rust ``FromStr`` for the scalar types driver options are parsed into.

Upstream reads every driver option as ``"<value>".parse::<T>()``; the error
texts below are what those parsers print, so a bad option reads the same.
"""

from __future__ import annotations

EMPTY = "cannot parse integer from empty string"
INVALID_DIGIT = "invalid digit found in string"
POS_OVERFLOW = "number too large to fit in target type"
NEG_OVERFLOW = "number too small to fit in target type"
INVALID_BOOL = "provided string was not `true` or `false`"

_DIGITS = "0123456789"


class RustParseError(ValueError):
    """A parse failure whose ``str()`` is Rust's error display."""


def parse_int(text: str, bits: int, signed: bool) -> int:
    """``iN``/``uN::from_str``: optional sign, ASCII decimal digits only.

    Digits are consumed left to right and the first problem wins, so an
    overflow before a bad character reports the overflow, as Rust does.
    """
    if not text:
        raise RustParseError(EMPTY)
    if text in ("+", "-"):
        raise RustParseError(INVALID_DIGIT)
    negative = False
    digits = text
    if text[0] == "+":
        digits = text[1:]
    elif text[0] == "-" and signed:
        negative, digits = True, text[1:]
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    lo = -(1 << (bits - 1)) if signed else 0
    value = 0
    for c in digits:
        d = _DIGITS.find(c)
        if d < 0:
            raise RustParseError(INVALID_DIGIT)
        if negative:
            value = value * 10 - d
            if value < lo:
                raise RustParseError(NEG_OVERFLOW)
        else:
            value = value * 10 + d
            if value > hi:
                raise RustParseError(POS_OVERFLOW)
    return value


def parse_u16(text: str) -> int:
    return parse_int(text, 16, False)


def parse_u32(text: str) -> int:
    return parse_int(text, 32, False)


def parse_i32(text: str) -> int:
    return parse_int(text, 32, True)


def parse_bool(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise RustParseError(INVALID_BOOL)


def parse_string(text: str) -> str:
    return text
