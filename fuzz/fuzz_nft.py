"""Fuzz the nf_tables decoders: rule, chain and set-element messages as a dump returns them."""

from __future__ import annotations

import json
import os

from _harness import run

from netavark.netlink.attrs import NetlinkDecodeError
from netavark.nft.expr import decode_list
from netavark.nft.objects import Chain, Rule, SetElems
from netavark.nft.stmt import canon_rule, delinearize


def target(data: bytes) -> None:
    try:
        r = Rule.decode(data)
        stmts = delinearize(r.exprs, lambda _name: (b"\x06", b"\x11"))
        assert isinstance(stmts, tuple)
        canon_rule(r.exprs)
    except NetlinkDecodeError:
        pass
    try:
        delinearize(decode_list(data))
    except NetlinkDecodeError:
        pass
    for obj in (SetElems, Chain):
        try:
            obj.decode(data)
        except NetlinkDecodeError:
            pass


def seeds() -> list[bytes]:
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "nft", "dump.json")
    with open(path) as f:
        msgs = json.load(f)["messages"]
    return [bytes.fromhex(h) for _t, _f, h in msgs]


if __name__ == "__main__":
    run(target, seeds())
