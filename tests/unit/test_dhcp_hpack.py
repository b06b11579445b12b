"""HPACK: RFC 7541 Appendix C examples, round trips, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netavark.dhcp import hpack
from netavark.dhcp.hpack import Decoder, Encoder, HpackError


@pytest.mark.parametrize("value, prefix, first, hexed", [
    (10, 5, 0, "0a"), (1337, 5, 0, "1f9a0a"), (42, 8, 0, "2a"), (31, 5, 0, "1f00"),
    (127, 7, 0x80, "ff00"),
])
def test_integers_c1(value, prefix, first, hexed):
    assert hpack.encode_int(value, prefix, first).hex() == hexed
    assert hpack.decode_int(bytes.fromhex(hexed), 0, prefix) == (value, len(hexed) // 2)


def test_literals_c2():
    d = Decoder()
    assert d.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")) == \
        [("custom-key", "custom-header")]
    assert d.table.size == 55
    assert d.decode(bytes.fromhex("040c2f73616d706c652f70617468")) == [(":path", "/sample/path")]
    assert d.decode(bytes.fromhex("100870617373776f726406736563726574")) == \
        [("password", "secret")]
    assert d.decode(b"\x82") == [(":method", "GET")]
    assert d.table.size == 55  # only the first one was indexed


REQ = [(":method", "GET"), (":scheme", "http"), (":path", "/"),
       (":authority", "www.example.com")]


@pytest.mark.parametrize("blocks", [
    # C.3: without Huffman
    ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
     "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"],
    # C.4: with Huffman
    ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
     "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"],
])
def test_requests_c3_c4(blocks):
    d = Decoder()
    assert d.decode(bytes.fromhex(blocks[0])) == REQ
    assert d.table.size == 57
    assert d.decode(bytes.fromhex(blocks[1])) == [*REQ, ("cache-control", "no-cache")]
    assert d.table.size == 110
    assert d.decode(bytes.fromhex(blocks[2])) == [
        (":method", "GET"), (":scheme", "https"), (":path", "/index.html"),
        (":authority", "www.example.com"), ("custom-key", "custom-value")]
    assert d.table.size == 164


def test_responses_with_eviction_c5():
    d = Decoder(max_table_size=256)
    first = d.decode(bytes.fromhex(
        "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a3231"
        "20474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d"))
    assert first == [(":status", "302"), ("cache-control", "private"),
                     ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                     ("location", "https://www.example.com")]
    assert d.table.size == 222
    assert d.decode(bytes.fromhex("4803333037c1c0bf"))[0] == (":status", "307")
    assert d.table.size == 222
    third = d.decode(bytes.fromhex(
        "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a697077"
        "38666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d616765"
        "3d333630303b2076657273696f6e3d31"))
    assert third[-1] == ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
    assert d.table.size == 215
    assert len(d.table.entries) == 3


def test_huffman_c4_string():
    assert hpack.huffman_encode(b"www.example.com").hex() == "f1e3c2e5f23a6ba0ab90f4ff"
    assert hpack.huffman_decode(bytes.fromhex("a8eb10649cbf")) == b"no-cache"


@given(st.binary(max_size=100))
def test_huffman_round_trip(data):
    assert hpack.huffman_decode(hpack.huffman_encode(data)) == data


header_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=30)


@given(st.lists(st.tuples(st.sampled_from([":path", "content-type", "grpc-status",
                                           "x-custom", "user-agent"]) | header_text,
                          header_text), max_size=10), st.booleans())
def test_encoder_decoder_round_trip(headers, huffman):
    assert Decoder().decode(Encoder(huffman).encode(headers)) == headers


def test_size_update_rules():
    d = Decoder(max_table_size=4096)
    d.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"))
    assert d.decode(b"\x20") == []  # size 0 evicts everything
    assert d.table.entries == []
    with pytest.raises(HpackError):
        d.decode(b"\x3f\xe2\x1f")  # 4097 > the limit we announced
    with pytest.raises(HpackError):
        d.decode(b"\x82\x20")  # update after a field


@pytest.mark.parametrize("block", [
    b"\x80",                        # index 0
    b"\xbe",                        # index 62, empty dynamic table
    b"\x40\x05ab",                  # truncated name
    b"\x00\x81\xff",                # Huffman string with bad padding
    b"\x00\x84\xff\xff\xff\xff",    # EOS inside a Huffman string
    b"\x1f",                        # truncated integer
    b"\x1f" + b"\xff" * 6,          # integer overflow
])
def test_malformed_blocks(block):
    with pytest.raises(HpackError):
        Decoder().decode(block)


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_hpack_errors(data):
    try:
        Decoder().decode(data)
    except HpackError:
        pass
