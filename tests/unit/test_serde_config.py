"""JSON input: serde-compatible messages and the typed model on real inputs."""

from __future__ import annotations

import glob
import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netavark import serde
from netavark.config import NetworkOptions, decode, load_network_options
from netavark.errors import NetavarkError

SHARED = os.path.join(os.path.dirname(__file__), "..", "data", "upstream")


def err_of(text: str) -> str:
    with pytest.raises(NetavarkError) as e:
        decode(text.encode(), NetworkOptions.from_json)
    return str(e.value)


@pytest.mark.parametrize("text,msg", [
    ("", "IO error: EOF while parsing a value at line 1 column 0"),
    ("{", "IO error: EOF while parsing an object at line 1 column 1"),
    ("x", "IO error: expected value at line 1 column 1"),
    ("{} x", "IO error: trailing characters at line 1 column 4"),
    ('{"a" 1}', "IO error: expected `:` at line 1 column 6"),
    ('[1 2]', "IO error: expected `,` or `]` at line 1 column 4"),
])
def test_syntax_errors(text, msg):
    assert err_of(text) == msg


def test_missing_field_position_is_closing_brace():
    doc = '{\n  "container_id": "a",\n  "container_name": "b",\n  "networks": {}\n}'
    assert err_of(doc) == "IO error: missing field `network_info` at line 5 column 1"


def test_invalid_type_position_is_end_of_value():
    doc = ('{"container_id": 5, "container_name": "b", "networks": {}, '
           '"network_info": {}}')
    assert err_of(doc) == \
        "IO error: invalid type: integer `5`, expected a string at line 1 column 18"


def test_invalid_ip_message():
    doc = {"container_id": "a", "container_name": "b", "networks": {},
           "network_info": {}, "dns_servers": ["1.2.3.4", "nope"]}
    assert "IO error: invalid IP address syntax at line 1 column" in err_of(json.dumps(doc))


def test_u16_range_message():
    pm = {"container_port": 70000, "host_port": 1, "range": 1, "protocol": "tcp", "host_ip": ""}
    doc = {"container_id": "a", "container_name": "b", "networks": {}, "network_info": {},
           "port_mappings": [pm]}
    assert "invalid value: integer `70000`, expected u16" in err_of(json.dumps(doc))


def test_unknown_keys_are_ignored_and_null_means_unset():
    doc = {"container_id": "a", "container_name": "b", "networks": {}, "network_info": {},
           "dns_servers": None, "totally_new_key": {"x": 1}}
    opts = decode(json.dumps(doc).encode(), NetworkOptions.from_json)
    assert opts.dns_servers is None


def test_missing_file_message(tmp_path):
    with pytest.raises(NetavarkError) as e:
        load_network_options(str(tmp_path / "nope"))
    assert str(e.value) == \
        "failed to load network options: IO error: No such file or directory (os error 2)"


def test_networks_map_and_array_forms_agree():
    base = os.path.join(SHARED, "src", "test", "config")
    a = load_network_options(os.path.join(base, "twoNetworks-array.json"))
    m = load_network_options(os.path.join(base, "twoNetworks-map.json"))
    assert [(n, o.interface_name) for n, o in a.networks] == \
        [(n, o.interface_name) for n, o in m.networks] == [("podman1", "eth0"),
                                                           ("podman2", "eth1")]


def all_inputs() -> list[str]:
    files = glob.glob(os.path.join(SHARED, "test", "testfiles", "*.json"))
    files += glob.glob(os.path.join(SHARED, "src", "test", "config", "setupopts*.json"))
    files += glob.glob(os.path.join(SHARED, "src", "test", "config", "twoNetworks*.json"))
    return sorted(files)


@pytest.mark.parametrize("path", all_inputs(), ids=os.path.basename)
def test_every_upstream_setup_input_loads(path):
    opts = load_network_options(path)
    with open(path) as f:
        raw = json.load(f)
    assert opts.container_id == raw["container_id"]
    assert set(opts.network_info) == set(raw["network_info"])
    for name, net in opts.network_info.items():
        again = json.loads(serde.dumps(net.to_json()))
        for key in ("name", "id", "driver", "internal", "dns_enabled", "network_interface"):
            assert again.get(key) == raw["network_info"][name].get(key)


PODMAN = os.path.join(os.path.dirname(__file__), "..", "data", "podman-4.3.1")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(PODMAN, "[01]*.json"))),
                         ids=os.path.basename)
def test_every_podman_input_loads(path):
    with open(path) as f:
        case = json.load(f)
    opts = decode(json.dumps(case["stdin"]).encode(), NetworkOptions.from_json)
    assert opts.container_name == case["stdin"]["container_name"]


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(), c,
                                                                        max_size=4),
                    max_leaves=20))
def test_any_json_document_decodes_or_gives_serde_error(doc):
    try:
        decode(json.dumps(doc).encode(), NetworkOptions.from_json)
    except NetavarkError as e:
        assert str(e).startswith("IO error: ")
        assert " at line " in str(e)


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_give_serde_error(raw):
    try:
        decode(raw, NetworkOptions.from_json)
    except NetavarkError as e:
        assert str(e).startswith("IO error: ")
