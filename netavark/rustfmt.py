"""Rust ``{:?}`` quoting, which upstream messages use for names and paths."""

from __future__ import annotations

_SIMPLE = {"\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"', "\0": "\\0"}


def debug_str(s: str) -> str:
    """``format!("{:?}", s)`` for a Rust ``&str``."""
    out = ['"']
    for c in s:
        esc = _SIMPLE.get(c)
        if esc is not None:
            out.append(esc)
        elif c.isprintable() or c == " ":
            out.append(c)
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    out.append('"')
    return "".join(out)


def debug_path(p: str | bytes) -> str:
    """``{:?}`` of a Path/OsStr: like a str, undecodable bytes as ``\\xNN``."""
    if isinstance(p, str):
        p = p.encode("utf-8", "surrogateescape")
    out = ['"']
    text = p.decode("utf-8", "surrogateescape")
    for c in text:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02X}")
        else:
            out.append(debug_str(c)[1:-1])
    out.append('"')
    return "".join(out)
