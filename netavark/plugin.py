"""Running external network-driver plugins.

A plugin is an executable ``<plugin dir>/<driver>``.  It is started with a
sub-command (``create``, ``setup <netns>``, ``teardown <netns>``), gets one
JSON document on stdin (closed afterwards so it sees EOF), answers on stdout
and reports failure with a non-zero exit status and ``{"error": "..."}``.
Its stderr is ours.  This module only runs it and classifies the outcome;
callers encode the input and decode a successful answer.
"""

from __future__ import annotations

import os

from .errors import IoError, JsonError, NetavarkError, io_display, wrap
from .rustfmt import debug_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def find_plugin(directories: Sequence[str], driver: str) -> str | None:
    """The first ``<dir>/<driver>`` that is a regular file with an execute bit."""
    for d in directories:
        path = os.path.join(d, driver)
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            continue
        if (st.st_mode & 0o170000) == 0o100000 and st.st_mode & 0o111:
            return path
    return None


def plugin_name(path: str) -> str:
    """The file name as upstream prints it (Rust debug quoting)."""
    return debug_path(os.path.basename(path))


def failure_error(code: int, stdout: bytes, path: str) -> NetavarkError:
    """The error for a non-zero exit: the plugin's own message if it sent one."""
    from . import serde

    try:
        doc = serde.loads(stdout)
        try:
            obj = serde.struct(doc, (), "JsonError")
            message = serde.req(obj, "error", (), serde.as_str)
        except serde.SchemaError as e:
            raise serde.located(stdout, e) from None
    except serde.DecodeError as e:
        return NetavarkError(f"plugin {plugin_name(path)}: exit code {code}, parse error: {e}")
    return NetavarkError(f"exit code {code}, message: {message}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def exec_plugin(path: str, args: Sequence[str], stdin: bytes) -> bytes:
    """Run ``path args...`` with ``stdin``; its stdout when it exits with 0.

    Errors: spawn failure ``IO error: ...``; writing stdin failed
    ``JSON Decoding error: <io>`` (the input is streamed by the JSON encoder
    upstream); ``read into buffer: ...``; ``wait for plugin to exit: ...``;
    killed by a signal; non-zero exit (``failure_error``).  Callers add their
    own context (setup/teardown prefix ``plugin "<name>" failed: ``).
    """
    import subprocess

    try:
        proc = subprocess.Popen([path, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                bufsize=0)
    except OSError as e:
        raise IoError.from_os(e) from None
    assert proc.stdin is not None and proc.stdout is not None
    try:
        _write_all(proc.stdin.fileno(), stdin)
    except OSError as e:
        # like upstream: give up without waiting; the plugin sees its pipes close
        proc.stdin.close()
        proc.stdout.close()
        raise JsonError(io_display(e.errno) if e.errno is not None else str(e)) from None
    proc.stdin.close()

    read_error: OSError | None = None
    chunks: list[bytes] = []
    try:
        while True:
            chunk = proc.stdout.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as e:
        read_error = e
    finally:
        proc.stdout.close()
    try:
        code = proc.wait()
    except OSError as e:
        raise wrap("wait for plugin to exit", IoError.from_os(e)) from None
    if code < 0:
        raise NetavarkError(f"plugin {plugin_name(path)} killed by signal")
    if read_error is not None:
        raise wrap("read into buffer", IoError.from_os(read_error))
    out = b"".join(chunks)
    if code != 0:
        raise failure_error(code, out, path)
    return out
