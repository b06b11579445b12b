"""Command line: argv → one command module, imported only when it runs.

The grammar follows upstream's clap definition: global options come before
the sub-command, usage errors go to stderr with exit code 2, command errors
print ``{"error": ...}`` on stdout with exit code 1.  The option tables below
are the single source of ``--help`` and of the man page (``docs/netavark.1``).
"""

from __future__ import annotations

import os
import sys

from . import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


class Opt:
    """One option: long/short name, value name, help, and how it is stored."""

    __slots__ = ("dest", "env", "help", "long", "multiple", "possible", "required", "short",
                 "value")

    def __init__(self, long: str, help: str, *, short: str = "", value: str = "",
                 dest: str = "", env: str = "", multiple: bool = False,
                 possible: tuple[str, ...] = (), required: bool = False) -> None:
        self.long = long
        self.short = short
        self.value = value
        self.help = help
        self.dest = dest or long.replace("-", "_")
        self.env = env
        self.multiple = multiple
        self.possible = possible
        self.required = required

    def spelled(self) -> str:
        s = f"-{self.short}, --{self.long}" if self.short else f"    --{self.long}"
        return f"{s} <{self.value}>" if self.value else s


class Positional:
    __slots__ = ("dest", "help", "name")

    def __init__(self, name: str, help: str) -> None:
        self.name = name
        self.help = help
        self.dest = name.lower()


class Command:
    __slots__ = ("about", "module", "name", "options", "positionals", "show_version")

    def __init__(self, name: str, module: str, about: str, *,
                 positionals: Sequence[Positional] = (), options: Sequence[Opt] = (),
                 show_version: bool = False) -> None:
        self.name = name
        self.module = module
        self.about = about
        self.positionals = tuple(positionals)
        self.options = tuple(options)
        self.show_version = show_version


GLOBAL_OPTIONS = (
    Opt("file", "Instead of reading from STDIN, read the configuration to be applied from "
        "the given file", short="f", value="FILE"),
    Opt("firewall-driver", "Select netavark's firewall driver: nftables (default), firewalld "
        "or none", value="FIREWALL_DRIVER", env="NETAVARK_FW"),
    Opt("config", "config directory for aardvark, usually path to a tmpfs", short="c",
        value="CONFIG"),
    Opt("rootless", "Tells if current netavark invocation is for rootless container",
        short="r", value="ROOTLESS", possible=("true", "false")),
    Opt("aardvark-binary", "Path to the aardvark-dns binary", short="a",
        value="AARDVARK_BINARY"),
    Opt("plugin-directory", "Path to netavark plugin directories, can be set multiple times "
        "to specify more than one directory", value="PLUGIN_DIRECTORIES",
        dest="plugin_directories", multiple=True),
)

NS_PATH = Positional("NETWORK_NAMESPACE_PATH", "Network namespace path")

COMMANDS = (
    Command("create", "create", "Create a network config"),
    Command("setup", "setup", "Configures the given network namespace with the given "
            "configuration", positionals=(NS_PATH,)),
    Command("update", "update", "Updates network dns servers for an already configured "
            "network", positionals=(Positional("NETWORK_NAME", "Network name to update"),),
            options=(Opt("network-dns-servers", "DNS Servers to update for the network",
                         value="NETWORK_DNS_SERVERS", multiple=True, required=True),)),
    Command("teardown", "teardown", "Undo any configuration applied via setup command",
            positionals=(NS_PATH,)),
    Command("version", "version", "Display info about netavark"),
    Command("dhcp-proxy", "dhcp_proxy", "Start dhcp-proxy", show_version=True, options=(
        Opt("dir", "location to store backup files", short="d", value="DIR"),
        Opt("uds", "alternative uds location", short="u", value="UDS"),
        Opt("timeout", "optional time in seconds to time out after looking for a lease",
            short="t", value="TIMEOUT"),
        Opt("activity-timeout", "activity timeout", short="a", value="ACTIVITY_TIMEOUT"),
    )),
    Command("firewalld-reload", "firewalld_reload",
            "Listen for the firewalld reload event and reload fw rules"),
    Command("firewall-reload", "firewall_reload", "Re-applies firewall rules for all networks"),
)

INTEGER_OPTIONS = {"timeout": 32, "activity_timeout": 64}


class UsageError(Exception):
    """A clap-style usage error (exit code 2)."""

    def __init__(self, message: str, usage: str = "", extra: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.extra = extra

    def render(self) -> str:
        out = f"error: {self.message}\n"
        if self.extra:
            out += f"\n{self.extra}\n"
        if self.usage:
            out += f"\nUsage: {self.usage}\n"
        out += "\nFor more information, try '--help'.\n"
        return out


class Context:
    """Parsed global options plus the sub-command's own arguments."""

    __slots__ = ("aardvark_binary", "args", "command", "config", "file", "firewall_driver",
                 "plugin_directories", "rootless")

    def __init__(self) -> None:
        self.file: str | None = None
        self.firewall_driver: str | None = None
        self.config: str | None = None
        self.rootless = False
        self.aardvark_binary = "/usr/libexec/podman/aardvark-dns"
        self.plugin_directories: list[str] | None = None
        self.command = ""
        self.args: dict[str, Any] = {}

    def require_config(self) -> str:
        from .errors import NetavarkError

        if self.config is None:
            raise NetavarkError(
                f"--config not specified but required for netavark {self.command}")
        return self.config


# ---------------------------------------------------------------------------
# help text


def usage_line(cmd: Command | None) -> str:
    if cmd is None:
        return "netavark [OPTIONS] <COMMAND>"
    parts = [f"netavark {cmd.name}"]
    if cmd.options or cmd.show_version:
        parts.append("[OPTIONS]")
    for o in cmd.options:
        if o.required:
            parts.append(f"--{o.long} <{o.value}>")
    parts.extend(f"<{p.name}>" for p in cmd.positionals)
    return " ".join(parts)


def _options_help(opts: Sequence[Opt], *, version: bool) -> list[str]:
    lines = ["Options:"]
    rows = [(o.spelled(), o.help + (f" [env: {o.env}=]" if o.env else "") +
             (f" [possible values: {', '.join(o.possible)}]" if o.possible else ""))
            for o in opts]
    rows.append(("-h, --help", "Print help"))
    if version:
        rows.append(("-V, --version", "Print version"))
    for spelled, text in rows:
        lines.append(f"  {spelled}")
        lines.append(f"          {text}")
    return lines


def help_text(cmd: Command | None) -> str:
    lines: list[str] = []
    if cmd is None:
        lines += ["netavark (netavark-py): a container network stack for Podman, in Python", "",
                  f"Usage: {usage_line(None)}", "", "Commands:"]
        width = max(len(c.name) for c in COMMANDS) + 2
        for c in COMMANDS:
            lines.append(f"  {c.name.ljust(width)}{c.about}")
        lines.append(f"  {'help'.ljust(width)}Print this message or the help of the given "
                     "subcommand(s)")
        lines.append("")
        lines += _options_help(GLOBAL_OPTIONS, version=True)
    else:
        lines += [cmd.about, "", f"Usage: {usage_line(cmd)}", ""]
        if cmd.positionals:
            lines.append("Arguments:")
            for p in cmd.positionals:
                lines.append(f"  <{p.name}>  {p.help}")
            lines.append("")
        lines += _options_help(cmd.options, version=cmd.show_version)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# parsing


def _match_option(arg: str, opts: Sequence[Opt]) -> tuple[Opt, str | None] | None:
    """Find the option ``arg`` names; returns it and an inline value if any."""
    if arg.startswith("--"):
        name, eq, value = arg[2:].partition("=")
        for o in opts:
            if o.long == name:
                return o, (value if eq else None)
        return None
    if arg.startswith("-") and len(arg) >= 2:
        for o in opts:
            if o.short and arg[1] == o.short:
                rest = arg[2:]
                if rest.startswith("="):
                    rest = rest[1:]
                return o, (rest if rest else None)
    return None


def _store(values: dict[str, Any], o: Opt, value: str, usage: str) -> None:
    if o.possible and value not in o.possible:
        kind = "value was not a boolean" if o.possible == ("true", "false") else ""
        msg = f"invalid value '{value}' for '--{o.long} <{o.value}>'"
        if kind:
            msg += f": {kind}"
        raise UsageError(msg, "", f"  [possible values: {', '.join(o.possible)}]")
    if o.dest in INTEGER_OPTIONS:
        bits = INTEGER_OPTIONS[o.dest]
        if not value.isdigit() or int(value) >= 1 << bits:
            raise UsageError(f"invalid value '{value}' for '--{o.long} <{o.value}>': "
                             "invalid digit found in string" if not value.isdigit() else
                             "number too large to fit in target type")
        values[o.dest] = int(value)
        return
    if o.multiple:
        values.setdefault(o.dest, []).append(value)
    elif o.dest in values:
        raise UsageError(f"the argument '{o.spelled().strip()}' cannot be used multiple times",
                         usage)
    else:
        values[o.dest] = value


def _parse_options(argv: list[str], i: int, opts: Sequence[Opt], cmd: Command | None,
                   values: dict[str, Any], positionals: list[str] | None) -> int:
    """Consume options (and positionals if a list is given) until the sub-command."""
    usage = usage_line(cmd)
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            sys.stdout.write(help_text(cmd))
            raise SystemExit(0)
        if arg in ("-V", "--version") and (cmd is None or cmd.show_version):
            sys.stdout.write(f"netavark {__version__}\n")
            raise SystemExit(0)
        if arg == "--" and positionals is not None:
            positionals.extend(argv[i + 1:])
            return len(argv)
        if arg.startswith("-") and arg != "-":
            found = _match_option(arg, opts)
            if found is None:
                raise UsageError(f"unexpected argument '{arg}' found", usage)
            o, value = found
            if value is None:
                if i + 1 >= len(argv):
                    raise UsageError(
                        f"a value is required for '--{o.long} <{o.value}>' but none was "
                        "supplied", "")
                i += 1
                value = argv[i]
            _store(values, o, value, usage)
            i += 1
            continue
        if positionals is None:
            return i
        positionals.append(arg)
        i += 1
    return i


def parse(argv: list[str]) -> Context:
    ctx = Context()
    values: dict[str, Any] = {}
    i = _parse_options(argv, 0, GLOBAL_OPTIONS, None, values, None)
    if i >= len(argv):
        names = ", ".join([c.name for c in COMMANDS] + ["help"])
        raise UsageError("'netavark' requires a subcommand but one was not provided",
                         usage_line(None), f"  [subcommands: {names}]")
    name = argv[i]
    if name == "help":
        rest = argv[i + 1:]
        target = next((c for c in COMMANDS if rest and c.name == rest[0]), None)
        if rest and target is None:
            raise UsageError(f"unrecognized subcommand '{rest[0]}'", usage_line(None))
        sys.stdout.write(help_text(target))
        raise SystemExit(0)
    cmd = next((c for c in COMMANDS if c.name == name), None)
    if cmd is None:
        raise UsageError(f"unrecognized subcommand '{name}'", usage_line(None))
    positionals: list[str] = []
    sub_values: dict[str, Any] = {}
    _parse_options(argv, i + 1, cmd.options, cmd, sub_values, positionals)
    for o in cmd.options:
        if o.required and o.dest not in sub_values:
            raise UsageError("the following required arguments were not provided:\n"
                             f"  --{o.long} <{o.value}>", usage_line(cmd))
    if len(positionals) > len(cmd.positionals):
        raise UsageError(f"unexpected argument '{positionals[len(cmd.positionals)]}' found",
                         usage_line(cmd))
    missing = cmd.positionals[len(positionals):]
    if missing:
        raise UsageError("the following required arguments were not provided:\n" +
                         "\n".join(f"  <{p.name}>" for p in missing), usage_line(cmd))
    for p, v in zip(cmd.positionals, positionals):
        if v == "":
            raise UsageError(f"a value is required for '<{p.name}>' but none was supplied")
        sub_values[p.dest] = v

    env_fw = os.environ.get("NETAVARK_FW")
    ctx.file = values.get("file")
    ctx.firewall_driver = values.get("firewall_driver", env_fw)
    ctx.config = values.get("config")
    ctx.rootless = values.get("rootless") == "true"
    if "aardvark_binary" in values:
        ctx.aardvark_binary = values["aardvark_binary"]
    ctx.plugin_directories = values.get("plugin_directories")
    ctx.command = cmd.name
    ctx.args = sub_values
    ctx.args["_module"] = cmd.module
    return ctx


# ---------------------------------------------------------------------------
# entry point


def print_error(err: BaseException) -> None:
    from .serde import dumps

    sys.stdout.write(dumps({"error": str(err)}) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    try:
        ctx = parse(argv)
    except UsageError as e:
        sys.stderr.write(e.render())
        return 2
    import importlib

    from .errors import NetavarkError

    module = importlib.import_module(f"netavark.commands.{ctx.args.pop('_module')}")
    try:
        module.run(ctx)
    except NetavarkError as e:
        from . import log

        if isinstance(e.root(), Exception) and log.enabled(log.DEBUG, "netavark"):
            describe = getattr(e.root(), "describe", None)
            if describe is not None:
                log.emit(log.DEBUG, "netavark", describe())
        print_error(e)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
