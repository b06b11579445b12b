"""Fuzz the netlink decoders with bytes as a (hostile) kernel or peer might send."""

from __future__ import annotations

import json
import os

from _harness import run

from netavark.netlink import rtnl
from netavark.netlink.attrs import NetlinkDecodeError
from netavark.netlink.message import NLMSG_ERROR, iter_messages, parse_error


def target(data: bytes) -> None:
    try:
        for msg in iter_messages(data):
            if msg.type == NLMSG_ERROR:
                parse_error(msg)
            for layout in (rtnl.LINK_MSG, rtnl.ADDR_MSG, rtnl.ROUTE_MSG):
                try:
                    layout.decode(msg.payload)
                except NetlinkDecodeError:
                    pass
    except NetlinkDecodeError:
        pass


def seeds() -> list[bytes]:
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "rtnl",
                        "kernel_replies.json")
    with open(path) as f:
        replies = json.load(f)["replies"]
    return [bytes.fromhex(h) for v in replies.values() for h in v]


if __name__ == "__main__":
    run(target, seeds())
