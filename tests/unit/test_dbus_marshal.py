"""D-Bus marshalling: signatures, every type, alignment, both byte orders, limits."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netavark.dbus.marshal import (
    MAX_ARRAY,
    DbusDecodeError,
    DbusEncodeError,
    Reader,
    Variant,
    marshal,
    split_signature,
    unmarshal,
    valid_object_path,
)
from netavark.errors import DbusError, NetavarkError

# -- signatures ---------------------------------------------------------------


@pytest.mark.parametrize(("sig", "types"), [
    ("", ()),
    ("s", ("s",)),
    ("sa{sv}", ("s", "a{sv}")),
    ("a(ssss)as", ("a(ssss)", "as")),
    ("ybnqiuxtdsoghv", tuple("ybnqiuxtdsoghv")),
    ("a{s(ia{yv})}aai", ("a{s(ia{yv})}", "aai")),
    ("((s)(i))", ("((s)(i))",)),
])
def test_split_signature(sig: str, types: tuple) -> None:
    assert split_signature(sig) == types


@pytest.mark.parametrize("sig", [
    "a", "(", "(s", "()", "{sv}", "a{vs}", "a{(s)s}", "a{s}", "a{sss}", "z", "s)", "a{sv",
    "a" * 33 + "s", "(" * 33 + "s" + ")" * 33, "s" * 256, "a{s" + "a{s" * 32 + "s}" * 33,
])
def test_invalid_signatures(sig: str) -> None:
    with pytest.raises(DbusDecodeError):
        split_signature(sig)


def test_nesting_limits_are_inclusive() -> None:
    assert split_signature("a" * 32 + "s") == ("a" * 32 + "s",)
    deep = "(" * 32 + "s" + ")" * 32
    assert split_signature(deep) == (deep,)


@pytest.mark.parametrize(("path", "ok"), [
    ("/", True), ("/org/fedoraproject/FirewallD1", True), ("/a_b/C9", True), ("", False),
    ("//", False), ("/a/", False), ("a", False), ("/a//b", False), ("/a-b", False),
    ("/ä", False),
])
def test_object_paths(path: str, ok: bool) -> None:
    assert valid_object_path(path) is ok


def test_errors_are_netavark_errors() -> None:
    assert issubclass(DbusDecodeError, DbusError)
    assert issubclass(DbusEncodeError, NetavarkError)
    assert str(DbusDecodeError("message is truncated")) == "DBus error: message is truncated"


# -- hand-checked encodings -----------------------------------------------------


def test_alignment_and_layout_little_endian() -> None:
    data = marshal("yqsv", (7, 0x0102, "ab", Variant("t", 1)))
    assert data == (b"\x07\x00" b"\x02\x01"          # y, pad to 2, q
                    b"\x02\x00\x00\x00ab\x00"          # s at offset 4
                    b"\x01t\x00"                       # variant signature at 11
                    b"\x00\x00"                        # pad to 16
                    b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_array_length_excludes_padding_before_first_element() -> None:
    # array length at 4, elements 8-aligned at 8, length counts only the elements
    data = marshal("yat", (1, [5, 6]))
    assert data[:4] == b"\x01\x00\x00\x00"
    assert data[4:8] == struct.pack("<I", 16)
    assert data[8:] == struct.pack("<QQ", 5, 6)


def test_empty_array_still_pads_to_element_alignment() -> None:
    data = marshal("ya{sv}", (1, {}))
    assert data == b"\x01\x00\x00\x00" + b"\x00\x00\x00\x00"
    data = marshal("a(ss)y", ([], 9))
    assert data == b"\x00\x00\x00\x00" + b"\x00" * 4 + b"\x09"
    assert unmarshal("a(ss)y", data) == ([], 9)


def test_big_endian_encoding() -> None:
    assert marshal("ui", (1, -2), little=False) == b"\x00\x00\x00\x01\xff\xff\xff\xfe"
    assert unmarshal("ui", b"\x00\x00\x00\x01\xff\xff\xff\xfe", little=False) == (1, -2)


def test_dict_order_and_variants_decode() -> None:
    settings_ = {"target": Variant("s", "CONTINUE"), "masquerade": Variant("b", True),
                 "forward_ports": Variant("a(ssss)", [("80", "tcp", "8080", "10.0.0.2")])}
    data = marshal("sa{sv}", ("netavark_portfwd", settings_))
    name, back = unmarshal("sa{sv}", data)
    assert name == "netavark_portfwd"
    assert back == settings_
    assert list(back) == list(settings_)


@pytest.mark.parametrize(("sig", "value"), [
    ("y", 256), ("y", -1), ("n", 1 << 15), ("q", -1), ("i", 1 << 31), ("u", 1 << 32),
    ("x", 1 << 63), ("t", -1), ("b", 2), ("s", 5), ("s", "a\0b"), ("s", "\udc80"),
    ("o", "not/a/path"), ("g", "a{"), ("v", "plain"), ("v", Variant("ss", ("a", "b"))),
    ("as", "abc"), ("(ss)", ("a",)), ("a{sv}", [("k",)]), ("d", "1.0"), ("i", 1.5),
])
def test_encode_rejects_bad_values(sig: str, value: object) -> None:
    with pytest.raises(DbusEncodeError):
        marshal(sig, (value,))


def test_encode_rejects_wrong_value_count() -> None:
    with pytest.raises(DbusEncodeError):
        marshal("ss", ("a",))


# -- decoding errors ------------------------------------------------------------


@pytest.mark.parametrize(("sig", "data"), [
    ("u", b"\x01\x00\x00"),                           # truncated
    ("b", b"\x02\x00\x00\x00"),                       # boolean not 0/1
    ("s", b"\x01\x00\x00\x00a"),                      # no NUL
    ("s", b"\x01\x00\x00\x00ab"),                     # terminator not NUL
    ("s", b"\x02\x00\x00\x00a\x00\x00"),              # interior NUL
    ("s", b"\x01\x00\x00\x00\xff\x00"),               # not UTF-8
    ("s", b"\x03\x00\x00\x00\xed\xa0\x80\x00"),       # UTF-16 surrogate
    ("o", b"\x01\x00\x00\x00x\x00"),                  # bad object path
    ("g", b"\x01{\x00"),                              # bad signature
    ("v", b"\x02ss\x00"),                             # variant of two types
    ("yu", b"\x01\x01\x00\x00\x05\x00\x00\x00"),      # non-zero padding
    ("ai", b"\x02\x00\x00\x00\x01\x00\x00\x00"),      # array end inside an element
    ("ai", b"\x08\x00\x00\x00\x01\x00\x00\x00"),      # array longer than data
    ("ay", struct.pack("<I", MAX_ARRAY + 1)),          # array over the limit
    ("y", b"\x01\x02"),                               # excess data
])
def test_decode_errors(sig: str, data: bytes) -> None:
    with pytest.raises(DbusDecodeError):
        unmarshal(sig, data)


def _nested_variants(count: int) -> bytes:
    # count variants each holding the next, the innermost a byte
    return b"\x01v\x00" * (count - 1) + b"\x01y\x00\x07"


def test_variant_nesting_limit() -> None:
    v = unmarshal("v", _nested_variants(64))[0]
    for _ in range(64):
        v = v.value
    assert v == 7
    with pytest.raises(DbusDecodeError):
        unmarshal("v", _nested_variants(65))


def test_reader_keeps_position_relative_to_message_start() -> None:
    # a u32 at offset 12 of a buffer: alignment is measured from the buffer start
    buf = bytes(12) + struct.pack("<I", 99)
    r = Reader(buf, 9, len(buf))
    r.pos = 9
    with pytest.raises(DbusDecodeError):  # padding 9..12 is zero but nothing left after 16
        Reader(buf, 9, 15).read("u", 0)
    assert r.read("u", 0) == 99


# -- property tests ---------------------------------------------------------------

_BASIC = {
    "y": st.integers(0, 255),
    "b": st.booleans(),
    "n": st.integers(-(1 << 15), (1 << 15) - 1),
    "q": st.integers(0, (1 << 16) - 1),
    "i": st.integers(-(1 << 31), (1 << 31) - 1),
    "u": st.integers(0, (1 << 32) - 1),
    "x": st.integers(-(1 << 63), (1 << 63) - 1),
    "t": st.integers(0, (1 << 64) - 1),
    "h": st.integers(0, (1 << 32) - 1),
    "d": st.floats(allow_nan=False),
    "s": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")),
    "o": st.lists(st.text("abcXYZ019_", min_size=1, max_size=5), max_size=4)
        .map(lambda segs: "/" + "/".join(segs)),
    "g": st.sampled_from(["", "s", "a{sv}", "(ii)", "aav", "a(ssss)"]),
}


def _type_strategy(depth: int = 0) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(sorted(_BASIC))
    if depth >= 3:
        return leaf
    inner = st.deferred(lambda: _type_strategy(depth + 1))
    return st.one_of(
        leaf,
        st.just("v"),
        inner.map(lambda t: "a" + t),
        st.tuples(leaf, inner).map(lambda kv: "a{" + kv[0] + kv[1] + "}"),
        st.lists(inner, min_size=1, max_size=3).map(lambda ts: "(" + "".join(ts) + ")"),
    )


def _value_strategy(sig: str) -> st.SearchStrategy:
    c = sig[0]
    if c in _BASIC:
        return _BASIC[c]
    if c == "v":
        return _type_strategy(2).flatmap(
            lambda t: _value_strategy(t).map(lambda v: Variant(t, v)))
    if c == "a":
        elem = sig[1:]
        if elem[0] == "{":
            return st.dictionaries(_value_strategy(elem[1]), _value_strategy(elem[2:-1]),
                                   max_size=3)
        if elem == "y":
            return st.binary(max_size=8)
        return st.lists(_value_strategy(elem), max_size=3)
    fields = split_signature(sig[1:-1])
    return st.tuples(*(_value_strategy(f) for f in fields))


_typed_values = st.lists(_type_strategy(), min_size=1, max_size=4).flatmap(
    lambda ts: st.tuples(st.just("".join(ts)),
                         st.tuples(*(_value_strategy(t) for t in ts))))


@settings(max_examples=400, deadline=None)
@given(_typed_values, st.booleans())
def test_roundtrip_every_type(typed: tuple, little: bool) -> None:
    sig, values = typed
    data = marshal(sig, values, little)
    assert unmarshal(sig, data, little) == values
    # and the bytes are canonical: re-encoding gives the same bytes
    assert marshal(sig, unmarshal(sig, data, little), little) == data


@settings(max_examples=200, deadline=None)
@given(_typed_values)
def test_byte_orders_agree(typed: tuple) -> None:
    sig, values = typed
    le = marshal(sig, values, True)
    be = marshal(sig, values, False)
    assert len(le) == len(be)
    assert unmarshal(sig, be, False) == unmarshal(sig, le, True)


@settings(max_examples=300, deadline=None)
@given(_type_strategy(), st.binary(max_size=64), st.booleans())
def test_random_bytes_raise_only_our_error(sig: str, data: bytes, little: bool) -> None:
    try:
        unmarshal(sig, data, little)
    except DbusDecodeError:
        pass


@settings(max_examples=200, deadline=None)
@given(_typed_values, st.data())
def test_corrupted_values_raise_only_our_error(typed: tuple, data: st.DataObject) -> None:
    sig, values = typed
    raw = bytearray(marshal(sig, values))
    if raw:
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    try:
        unmarshal(sig, bytes(raw))
    except DbusDecodeError:
        pass


def test_doubles_keep_their_bits() -> None:
    for value in (0.0, -0.0, 1.5, math.inf, -math.inf, 5e-324):
        (back,) = unmarshal("d", marshal("d", (value,)))
        assert struct.pack("<d", back) == struct.pack("<d", value)
    (nan,) = unmarshal("d", marshal("d", (math.nan,)))
    assert math.isnan(nan)
