"""JSON input with serde_json's error messages.

Parsing itself uses the C ``json`` decoder (fast path).  Typed conversion
raises :class:`SchemaError` with a JSON path; only then is the document
re-scanned by a small position-tracking scanner to produce serde's
``... at line L column C`` suffix.  Output helpers produce serde's compact form.
"""

from __future__ import annotations

from .errors import AddrParseError
from .ip import IpAddr, IpNet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

Path = tuple  # of str | int


class SchemaError(Exception):
    """A serde-style message plus where it happened.

    ``at_end`` selects the position: the end of the value at ``path`` (invalid
    type/value) or the closing brace of the object at ``path`` (missing field).
    """

    def __init__(self, msg: str, path: Path) -> None:
        super().__init__(msg)
        self.msg = msg
        self.path = path


class DecodeError(Exception):
    """Complete serde message (with position), ready to be wrapped by callers."""


# ---------------------------------------------------------------------------
# parsing


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


class _ScanContext:
    """What the C scanner of ``_json`` reads from a decoder object."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_reject_constant)
    memo: dict = {}


_scanner = None
_WS = " \t\n\r"


def _fast_loads(text: str) -> Any:
    """Parse valid JSON with the C scanner alone (``json.decoder`` pulls in ``re``)."""
    global _scanner
    if _scanner is None:
        import _json

        _scanner = _json.make_scanner(_ScanContext())
    start = len(text) - len(text.lstrip(_WS))
    value, end = _scanner(text, start)
    if text[end:].strip(_WS):
        raise ValueError("trailing data")
    return value


def loads(text: str | bytes) -> Any:
    """Parse JSON; syntax errors become :class:`DecodeError` with serde's text."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid unicode code point at line 1 column {e.start + 1}") \
                from None
    try:
        value = _fast_loads(text)
    except Exception:
        pass  # the slow path below produces the precise error
    else:
        if "\\u" in text:
            _reject_lone_surrogates(text)
        return value
    import json

    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise DecodeError(_serde_syntax_message(text, e)) from None
    except (ValueError, RecursionError):
        line, col = _line_col(text, len(text) - 1)
        raise DecodeError(f"expected value at line {line} column {col}") from None


def _reject_lone_surrogates(text: str) -> None:
    """serde_json refuses ``\\uXXXX`` escapes that do not form a valid UTF-16
    pair; Python keeps them as lone surrogates, which cannot even be printed.

    (serde skips this check inside values of ignored keys; we are stricter.)
    """
    n = len(text)
    i = 0
    in_str = False
    while i < n:
        c = text[i]
        if c == '"':
            in_str = not in_str
        elif c == "\\" and in_str:
            if text[i + 1] != "u":
                i += 2
                continue
            last = i + 5  # the escape's last hex digit
            v = int(text[i + 2:i + 6], 16)
            if 0xDC00 <= v <= 0xDFFF:
                _surrogate_error("lone leading surrogate in hex escape", text, last)
            if 0xD800 <= v <= 0xDBFF:
                nxt = last + 1
                if text[nxt] != "\\":
                    _surrogate_error("unexpected end of hex escape", text, nxt)
                if text[nxt + 1] != "u":
                    _surrogate_error("unexpected end of hex escape", text, nxt + 1)
                if not 0xDC00 <= int(text[nxt + 2:nxt + 6], 16) <= 0xDFFF:
                    _surrogate_error("lone leading surrogate in hex escape", text, nxt + 5)
                last = nxt + 5
            i = last + 1
            continue
        i += 1


def _surrogate_error(what: str, text: str, idx: int) -> None:
    line, col = _line_col(text, idx)
    raise DecodeError(f"{what} at line {line} column {col}")


def _line_col(text: str, idx: int) -> tuple[int, int]:
    """serde's position of the character at ``idx`` (1-based line, column)."""
    if idx < 0:
        return 1, 0
    idx = min(idx, len(text) - 1)
    line = text.count("\n", 0, idx) + 1
    start = text.rfind("\n", 0, idx) + 1
    if text[idx] == "\n":
        # serde has already moved to the next line when it reports on a newline
        return line + 1, 0
    return line, len(text[start:idx + 1].encode("utf-8"))


def _serde_syntax_message(text: str, e: Any) -> str:
    msg = e.msg
    pos = e.pos
    eof = pos >= len(text.rstrip()) and not msg.startswith("Extra data")
    if msg.startswith("Extra data"):
        what = "trailing characters"
    elif msg.startswith("Unterminated string"):
        what, eof = "EOF while parsing a string", True
    elif msg.startswith("Invalid control character"):
        what = "control character (\\u0000-\\u001F) found while parsing a string"
    elif msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        what = "invalid escape"
    elif eof:
        opener = _innermost_open(text)
        what = {"{": "EOF while parsing an object", "[": "EOF while parsing a list"}.get(
            opener, "EOF while parsing a value")
    elif msg.startswith("Expecting ',' delimiter"):
        what = "expected `,` or `}`" if _innermost_open(text[:pos]) == "{" else \
            "expected `,` or `]`"
    elif msg.startswith("Expecting ':' delimiter"):
        what = "expected `:`"
    elif msg.startswith("Expecting property name"):
        what = "key must be a string"
    else:
        what = "expected value"
    if eof:
        line, col = _line_col(text, len(text) - 1)
    else:
        line, col = _line_col(text, pos)
    return f"{what} at line {line} column {col}"


def _innermost_open(text: str) -> str:
    stack: list[str] = []
    in_str = esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "{[":
            stack.append(c)
        elif c in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


# ---------------------------------------------------------------------------
# locating a path inside the document (error path only)


class _Scanner:
    """Walks JSON text recording the end index of the value at a target path."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def ws(self) -> None:
        t, n = self.text, len(self.text)
        while self.i < n and t[self.i] in " \t\r\n":
            self.i += 1

    def value(self, path: Path, target: Path, results: dict[str, int]) -> None:
        self.ws()
        t = self.text
        c = t[self.i]
        if c == "{":
            self.i += 1
            self.ws()
            if t[self.i] == "}":
                self.i += 1
            else:
                while True:
                    self.ws()
                    key = self.string()
                    self.ws()
                    self.i += 1  # ':'
                    self.value((*path, key), target, results)
                    self.ws()
                    c = t[self.i]
                    self.i += 1
                    if c == "}":
                        break
        elif c == "[":
            self.i += 1
            self.ws()
            if t[self.i] == "]":
                self.i += 1
            else:
                idx = 0
                while True:
                    self.value((*path, idx), target, results)
                    idx += 1
                    self.ws()
                    c = t[self.i]
                    self.i += 1
                    if c == "]":
                        break
        elif c == '"':
            self.string()
        else:
            n = len(t)
            while self.i < n and t[self.i] not in " \t\r\n,]}":
                self.i += 1
        if path == target:
            results["end"] = self.i - 1

    def string(self) -> str:
        t = self.text
        start = self.i
        self.i += 1
        while True:
            c = t[self.i]
            if c == "\\":
                self.i += 2
                continue
            self.i += 1
            if c == '"':
                break
        import json

        return json.loads(t[start:self.i])


def position_of(text: str, path: Path) -> tuple[int, int]:
    """serde line/column for the end of the value at ``path``."""
    results: dict[str, int] = {}
    try:
        _Scanner(text).value((), tuple(path), results)
    except (IndexError, ValueError):
        pass
    end = results.get("end", len(text) - 1)
    return _line_col(text, end)


def located(text: str | bytes, err: SchemaError) -> DecodeError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    line, col = position_of(text, err.path)
    return DecodeError(f"{err.msg} at line {line} column {col}")


# ---------------------------------------------------------------------------
# typed conversion helpers (serde's vocabulary in messages)


def unexpected(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean `{'true' if v else 'false'}`"
    if isinstance(v, int):
        return f"integer `{v}`"
    if isinstance(v, float):
        return f"floating point `{_rust_float(v)}`"
    if isinstance(v, str):
        return f"string {dumps(v)}"
    if isinstance(v, list):
        return "sequence"
    return "map"


def _rust_float(v: float) -> str:
    s = repr(v)
    if "e" in s or "E" in s:
        s = f"{v:f}".rstrip("0")
        if s.endswith("."):
            s += "0"
    return s


def invalid_type(v: Any, expected: str, path: Path) -> SchemaError:
    return SchemaError(f"invalid type: {unexpected(v)}, expected {expected}", path)


def as_str(v: Any, path: Path) -> str:
    if isinstance(v, str):
        return v
    raise invalid_type(v, "a string", path)


def as_bool(v: Any, path: Path) -> bool:
    if isinstance(v, bool):
        return v
    raise invalid_type(v, "a boolean", path)


def _uint(bits: int, name: str) -> Callable[[Any, Path], int]:
    limit = 1 << bits

    def conv(v: Any, path: Path) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise invalid_type(v, name, path)
        if not 0 <= v < limit:
            raise SchemaError(f"invalid value: integer `{v}`, expected {name}", path)
        return v

    return conv


as_u8 = _uint(8, "u8")
as_u16 = _uint(16, "u16")
as_u32 = _uint(32, "u32")


def as_ip(v: Any, path: Path) -> IpAddr:
    if not isinstance(v, str):
        raise invalid_type(v, "IP address", path)
    try:
        return IpAddr.parse(v)
    except AddrParseError:
        raise SchemaError("invalid IP address syntax", path) from None


def as_ipnet(v: Any, path: Path) -> IpNet:
    if not isinstance(v, str):
        raise invalid_type(v, "IPv4 or IPv6 network address", path)
    try:
        return IpNet.parse(v)
    except AddrParseError:
        raise SchemaError("invalid IP address syntax", path) from None


def as_list(v: Any, path: Path, item: Callable[[Any, Path], Any]) -> list[Any]:
    if not isinstance(v, list):
        raise invalid_type(v, "a sequence", path)
    return [item(x, (*path, i)) for i, x in enumerate(v)]


def as_map(v: Any, path: Path, item: Callable[[Any, Path], Any]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise invalid_type(v, "a map", path)
    return {k: item(x, (*path, k)) for k, x in v.items()}


def as_str_map(v: Any, path: Path) -> dict[str, str]:
    return as_map(v, path, as_str)


def struct(v: Any, path: Path, name: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise invalid_type(v, f"struct {name}", path)
    return v


def req(obj: dict[str, Any], key: str, path: Path, conv: Callable[[Any, Path], Any]) -> Any:
    if key not in obj:
        raise SchemaError(f"missing field `{key}`", path)
    return conv(obj[key], (*path, key))


def opt(obj: dict[str, Any], key: str, path: Path, conv: Callable[[Any, Path], Any]) -> Any:
    v = obj.get(key)
    if v is None:
        return None
    return conv(v, (*path, key))


# ---------------------------------------------------------------------------
# output


_encode_str = None


def _str(s: str) -> str:
    global _encode_str
    if _encode_str is None:
        from _json import encode_basestring

        _encode_str = encode_basestring
    return _encode_str(s)


def _compact(v: Any, out: list[str]) -> None:
    if isinstance(v, str):
        out.append(_str(v))
    elif v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        out.append(int.__repr__(v))
    elif isinstance(v, dict):
        out.append("{")
        first = True
        for k, x in v.items():
            if not first:
                out.append(",")
            first = False
            out.append(_str(k))
            out.append(":")
            _compact(x, out)
        out.append("}")
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _compact(x, out)
        out.append("]")
    elif isinstance(v, float):
        out.append(repr(v))
    else:
        raise TypeError(f"cannot serialise {type(v).__name__}")


def _pretty(v: Any, out: list[str], indent: str) -> None:
    inner = indent + "  "
    if isinstance(v, dict) and v:
        out.append("{\n")
        for i, (k, x) in enumerate(v.items()):
            if i:
                out.append(",\n")
            out.append(f"{inner}{_str(k)}: ")
            _pretty(x, out, inner)
        out.append(f"\n{indent}}}")
    elif isinstance(v, (list, tuple)) and v:
        out.append("[\n")
        for i, x in enumerate(v):
            if i:
                out.append(",\n")
            out.append(inner)
            _pretty(x, out, inner)
        out.append(f"\n{indent}]")
    else:
        _compact(v, out)


def dumps(value: Any) -> str:
    """serde_json compact output (raw UTF-8, lower-case ``\\u00xx`` escapes)."""
    out: list[str] = []
    _compact(value, out)
    return "".join(out)


def dumps_pretty(value: Any) -> str:
    """serde_json ``to_string_pretty`` (two-space indent)."""
    out: list[str] = []
    _pretty(value, out, "")
    return "".join(out)
