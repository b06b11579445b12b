"""Driver option parsing with Rust ``FromStr`` semantics and messages.

Options arrive as strings (``"mtu": "1500"``); upstream parses them with
``str::parse::<T>()`` and reports ``unable to parse "<name>": <error>``.
"""

from __future__ import annotations

from ..errors import AddrParseError, NetavarkError
from ..ip import IpAddr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    T = TypeVar("T")

EMPTY = "cannot parse integer from empty string"
INVALID_DIGIT = "invalid digit found in string"
POS_OVERFLOW = "number too large to fit in target type"
NEG_OVERFLOW = "number too small to fit in target type"


class ParseError(Exception):
    """The display text of a Rust ``ParseIntError``/``ParseBoolError``/``AddrParseError``."""


def parse_int(text: str, bits: int, signed: bool) -> int:
    """Rust's ``from_str_radix(text, 10)``: digits are taken left to right and
    the first problem wins, so ``99999999999x`` overflows before the ``x``."""
    if not text:
        raise ParseError(EMPTY)
    if text in ("+", "-"):
        raise ParseError(INVALID_DIGIT)
    negative = False
    digits = text
    if text[0] == "+":
        digits = text[1:]
    elif text[0] == "-" and signed:
        negative, digits = True, text[1:]
    if signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    value = 0
    for c in digits:
        d = "0123456789".find(c)
        if d < 0:
            raise ParseError(INVALID_DIGIT)
        value = value * 10 - d if negative else value * 10 + d
        if value > hi:
            raise ParseError(POS_OVERFLOW)
        if value < lo:
            raise ParseError(NEG_OVERFLOW)
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
    raise ParseError("provided string was not `true` or `false`")


def parse_ipv4(text: str) -> IpAddr:
    try:
        return IpAddr.parse(text, 4)
    except AddrParseError as e:
        raise ParseError(e.msg) from None


def parse_ipv6(text: str) -> IpAddr:
    try:
        return IpAddr.parse(text, 6)
    except AddrParseError as e:
        raise ParseError(e.msg) from None


def parse_str(text: str) -> str:
    return text


def parse_option(opts: Mapping[str, str] | None, name: str,
                 parser: Callable[[str], Any]) -> Any:
    """The parsed option, None when absent, or ``unable to parse "<name>": <err>``."""
    if opts is None or name not in opts:
        return None
    try:
        return parser(opts[name])
    except ParseError as e:
        raise NetavarkError(f'unable to parse "{name}": {e}') from None


def decode_mac(text: str) -> bytes:
    """A MAC written with ``:`` or ``-`` separators (Rust ``u8::from_str_radix`` per part)."""
    out = []
    for part in text.replace("-", ":").split(":"):
        try:
            out.append(_hex_u8(part))
        except ParseError as e:
            raise NetavarkError(f"unable to parse mac address {text}: {e}") from None
    if len(out) != 6:
        raise NetavarkError(f"invalid mac length for address: {text}")
    return bytes(out)


def _hex_u8(part: str) -> int:
    if not part:
        raise ParseError(EMPTY)
    digits = part[1:] if part[0] == "+" else part
    if not digits or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ParseError(INVALID_DIGIT)
    value = int(digits, 16)
    if value > 255:
        raise ParseError(POS_OVERFLOW)
    return value


def format_mac(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)
