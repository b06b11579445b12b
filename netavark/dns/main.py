"""Command line and process model of the built-in server (aardvark-dns compatible).

```
aardvark-dns [-c|--config DIR] [-p|--port PORT] [-f|--filter-search-domain DOMAIN] run
aardvark-dns version
```

``run`` forks: the parent waits on a pipe until the child is serving (exit 0)
or died (``Error from child process``, exit 1), which is what netavark waits
for.  The child writes ``<DIR>/aardvark.pid``, loads the configuration, binds
its sockets, detaches (new session, stdio on /dev/null) and then signals
readiness.
"""

from __future__ import annotations

import os
import sys

USAGE = "Usage: aardvark-dns [OPTIONS] <COMMAND>"
HELP = f"""A container-focused DNS server (netavark-py built-in)

{USAGE}

Commands:
  run      Runs the aardvark dns server with the specified configuration directory
  version  Display info about aardvark
  help     Print this message or the help of the given subcommand(s)

Options:
  -c, --config <CONFIG>
          Path to configuration directory
  -p, --port <PORT>
          Host port for aardvark servers, defaults to 5533
  -f, --filter-search-domain <FILTER_SEARCH_DOMAIN>
          Filters search domain for backward compatiblity with dnsname/dnsmasq
  -h, --help
          Print help
  -V, --version
          Print version
"""

_OPTS = {"-c": "config", "--config": "config", "-p": "port", "--port": "port",
         "-f": "filter", "--filter-search-domain": "filter"}
_VALUE_NAMES = {"config": "--config <CONFIG>", "port": "--port <PORT>",
                "filter": "--filter-search-domain <FILTER_SEARCH_DOMAIN>"}


class Usage(Exception):
    pass


def _version() -> str:
    from .. import __version__

    return __version__


def parse_args(argv: list[str]) -> tuple[str, dict[str, str]]:
    """clap-like: options before the sub-command, ``--opt=v``/``-ov`` accepted."""
    values: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            sys.stdout.write(HELP)
            raise SystemExit(0)
        if arg in ("-V", "--version"):
            sys.stdout.write(f"aardvark-dns {_version()}\n")
            raise SystemExit(0)
        if arg.startswith("-") and arg != "-":
            name, eq, inline = arg.partition("=")
            key = _OPTS.get(name) if (eq or name.startswith("--")) else _OPTS.get(arg[:2])
            if key is None:
                raise Usage(f"unexpected argument '{arg}' found")
            if eq:
                value = inline
            elif not arg.startswith("--") and len(arg) > 2:
                value = arg[2:]
            else:
                if i + 1 >= len(argv):
                    raise Usage(f"a value is required for '{_VALUE_NAMES[key]}' but none "
                                "was supplied")
                i += 1
                value = argv[i]
            if key in values:
                raise Usage(f"the argument '{_VALUE_NAMES[key]}' cannot be used multiple times")
            values[key] = value
            i += 1
            continue
        if arg not in ("run", "version", "help"):
            raise Usage(f"unrecognized subcommand '{arg}'")
        if arg == "help":
            sys.stdout.write(HELP)
            raise SystemExit(0)
        if len(argv) > i + 1:
            raise Usage(f"unexpected argument '{argv[i + 1]}' found")
        return arg, values
    raise Usage("'aardvark-dns' requires a subcommand but one was not provided")


def _port(text: str) -> int:
    from . import RustIntError, parse_rust_int

    try:
        return parse_rust_int(text, 16, False)
    except RustIntError as e:
        raise Usage(f"invalid value '{text}' for '--port <PORT>': {e}") from None


def close_inherited_fds() -> None:
    """Only stdio is ours; anything else a parent leaked is closed."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd >= 3:
            try:
                os.close(fd)
            except OSError:
                pass


def create_pid(config_dir: str) -> None:
    path = os.path.join(config_dir, "aardvark.pid")
    from ..errors import io_display

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    except OSError as e:
        raise RuntimeError(f"Unable to get process pid: {io_display(e.errno or 0)}") from None
    try:
        os.write(fd, str(os.getpid()).encode())
    except OSError as e:
        raise RuntimeError(f"Unable to write pid to file: {io_display(e.errno or 0)}") from None
    finally:
        os.close(fd)


def daemonize() -> None:
    try:
        os.setsid()
    except OSError:
        pass
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    if null > 2:
        os.close(null)


def run(config_dir: str, port: int, search_domain: str, level: int) -> int:
    from .dnslog import Log

    log = Log(level)
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid:
        os.close(write_end)
        ready = os.read(read_end, 1)
        os.close(read_end)
        if not ready:
            sys.stderr.write("Error from child process\n")
            return 1
        return 0
    os.close(read_end)
    return _child(config_dir, port, search_domain, log, write_end)


def _child(config_dir: str, port: int, search_domain: str, log: object, ready: int) -> int:
    from .server import Server, StartError

    server = Server(config_dir, port, search_domain, log,  # type: ignore[arg-type]
                    no_proxy="AARDVARK_NO_PROXY" in os.environ)
    # signals first: once the pid file exists netavark may SIGHUP us at any time
    server.install_signals()
    try:
        create_pid(config_dir)
    except RuntimeError as e:
        sys.stderr.write(f"Error creating aardvark pid {e}\n")
        return 1
    try:
        errors = server.reload(True)
    except StartError as e:
        errors = [str(e)]
    if server.stop_code is not None:
        return server.stop_code  # nothing to serve; the parent reports the failure
    if errors:
        sys.stderr.write(f"Error starting server {chr(10).join(errors)}\n")
        # unlike aardvark-dns, leave no stale pid for netavark to signal later
        try:
            os.unlink(os.path.join(config_dir, "aardvark.pid"))
        except OSError:
            pass
        return 1
    sys.stderr.flush()
    daemonize()
    os.write(ready, b"1")
    os.close(ready)
    return server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    close_inherited_fds()
    from . import dnslog

    level = dnslog.level_from_env(os.environ.get("RUST_LOG"))  # a bad value is reported now
    if argv is None:
        argv = sys.argv[1:]
    try:
        cmd, values = parse_args(argv)
        port = _port(values["port"]) if "port" in values else 5533
    except Usage as e:
        sys.stderr.write(f"error: {e}\n\n{USAGE}\n\nFor more information, try '--help'.\n")
        return 2
    if cmd == "version":
        from ..commands.version import build_info

        info = build_info()
        sys.stdout.write(f'{{\n  "version": "{info["version"]}",\n  "commit": '
                         f'"{info["commit"]}",\n  "build_time": "{info["build_time"]}",\n'
                         f'  "target": "{info["target"]}"\n}}\n')
        return 0
    return run(values.get("config", "/dev/stdin"), port,
               values.get("filter", ".dns.podman"), level)


def entry() -> None:
    raise SystemExit(main())
