"""Run netavark's DNS step (Aardvark API) inside a test's "host" namespace.

``dns_driver.py commit|delete|update CONFIG_DIR SERVER PORT JSON`` where SERVER
is an executable path or ``builtin``, and JSON is a list of entries (commit,
delete) or ``[network, [servers...]]`` (update).  Prints the error and exits 1
on failure, like netavark would.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from netavark.dns import AardvarkEntry, builtin_server_command
from netavark.dns.aardvark import Aardvark
from netavark.errors import NetavarkError
from netavark.ip import IpAddr


def ips(values: list[str] | None) -> list[IpAddr] | None:
    return None if values is None else [IpAddr.parse(v) for v in values]


def main() -> int:
    op, config, server, port, data = sys.argv[1:6]
    cmd = builtin_server_command() if server == "builtin" else server
    a = Aardvark(config, False, cmd, int(port))
    args = json.loads(data)
    try:
        if op == "update":
            a.modify_network_dns_servers(args[0], args[1])
            return 0
        entries = [AardvarkEntry(e["network"], ips(e["gateways"]), ips(e.get("network_dns")),
                                 e["id"], ips(e.get("v4", [])), ips(e.get("v6", [])),
                                 e["names"], ips(e.get("dns")), e.get("internal", False))
                   for e in args]
        if op == "commit":
            a.commit_netavark_entries(entries)
        else:
            a.delete_from_netavark_entries(entries)
    except NetavarkError as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
