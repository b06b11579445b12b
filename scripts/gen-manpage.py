#!/usr/bin/env python3
"""Generate docs/netavark.1 (roff) from the same option tables that drive --help."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from netavark import __version__, cli  # noqa: E402

DESCRIPTION = """\
netavark is the network stack Podman and Buildah use for containers. It is called with a
JSON description of a container's networks on standard input (or in the file given with
--file) and configures the container's network namespace: bridges, veth pairs,
macvlan/ipvlan interfaces, addresses, routes, sysctls, firewall rules and DNS. This is
netavark-py, an implementation in Python that uses only the standard library and talks to
the kernel over netlink; it behaves like upstream netavark 2.1."""

ENVIRONMENT = [
    ("NETAVARK_FW", "Firewall driver when --firewall-driver is not given: nftables (the "
     "default), firewalld or none."),
    ("NETAVARK_DNS_PORT", "Port the container DNS server listens on (default 53); when not "
     "53, DNS traffic to port 53 of the gateways is redirected to it."),
    ("RUST_LOG", "Log filter in env_logger syntax, for example netavark=info. Logs are "
     "written to standard error as [LEVEL target] message."),
    ("DBUS_SYSTEM_BUS_ADDRESS", "Address of the system D-Bus. Set but empty, no D-Bus "
     "connection is made (no firewalld interaction)."),
]


def esc(text: str) -> str:
    return text.replace("\\", "\\e").replace("-", "\\-")


def option_lines(opts: tuple) -> list[str]:
    out = []
    for o in opts:
        spelled = o.spelled().strip()
        out += [".TP", f"\\fB{esc(spelled)}\\fR", esc(o.help)]
    return out


def render() -> str:
    lines = [
        f'.TH NETAVARK 1 "" "netavark-py {__version__}" "User Commands"',
        ".SH NAME", "netavark \\- container network stack",
        ".SH SYNOPSIS", f"\\fB{esc(cli.usage_line(None))}\\fR",
        ".SH DESCRIPTION", esc(DESCRIPTION),
        ".SH GLOBAL OPTIONS",
        "Global options must be given before the command.",
        *option_lines(cli.GLOBAL_OPTIONS),
        ".TP", "\\fB\\-h, \\-\\-help\\fR", "Print help.",
        ".TP", "\\fB\\-V, \\-\\-version\\fR", "Print the version.",
        ".SH COMMANDS",
    ]
    for c in cli.COMMANDS:
        lines += [".SS " + esc(cli.usage_line(c)), esc(c.about) + "."]
        for p in c.positionals:
            lines += [".TP", f"\\fI{p.name}\\fR", esc(p.help) + "."]
        lines += option_lines(c.options)
    lines += [".SH ENVIRONMENT"]
    for name, text in ENVIRONMENT:
        lines += [".TP", f"\\fB{name}\\fR", esc(text)]
    lines += [
        ".SH EXIT STATUS",
        "0 on success; 1 on errors, with {\"error\": \"message\"} printed on standard "
        "output; 2 on usage errors, described on standard error.",
        ".SH SEE ALSO", "\\fBpodman\\fR(1), \\fBpodman-network\\fR(1), "
        "\\fBaardvark-dns\\fR(1)",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    path = os.path.join(ROOT, "docs", "netavark.1")
    if sys.argv[1:] == ["--check"]:
        with open(path) as f:
            sys.exit(0 if f.read() == render() else 1)
    with open(path, "w") as f:
        f.write(render())
