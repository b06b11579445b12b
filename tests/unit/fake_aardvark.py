"""A stand-in for aardvark-dns with its process model but no sockets.

``fake_aardvark.py --config DIR -p PORT run`` records its argv and RUST_LOG in
``DIR/../fake-starts`` (one JSON line per start), forks, and the child writes
``DIR/aardvark.pid``, detaches and signals readiness.  The child appends a line
to ``DIR/../fake-hups`` for every SIGHUP and exits (removing the pid file)
when no network file is left, like aardvark-dns.  FAKE_AARDVARK_FAIL=msg makes
the start fail with that message on stderr; a start while another instance runs
fails like the real server's bind would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def networks(config: str) -> list[str]:
    return [f for f in os.listdir(config) if f != "aardvark.pid"]


def other_instance_runs(config: str) -> bool:
    try:
        with open(os.path.join(config, "aardvark.pid")) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return pid > 1 and b"fake_aardvark" in f.read()
    except (OSError, ValueError):
        return False


def main() -> int:
    argv = sys.argv[1:]
    config = argv[argv.index("--config") + 1]
    parent = os.path.dirname(os.path.abspath(config))
    with open(os.path.join(parent, "fake-starts"), "a") as f:
        f.write(json.dumps({"argv": sys.argv, "rust_log": os.environ.get("RUST_LOG")}) + "\n")
    if os.environ.get("FAKE_AARDVARK_FAIL"):
        sys.stderr.write(os.environ["FAKE_AARDVARK_FAIL"] + "\n")
        return 1
    if other_instance_runs(config):
        # the real server could not bind its addresses
        sys.stderr.write("Error starting server failed to bind udp listener on "
                         "10.0.0.1:53: IO error: Address already in use (os error 98)\n")
        return 1
    r, w = os.pipe()
    if os.fork():
        os.close(w)
        return 0 if os.read(r, 1) else 1
    os.close(r)
    if not networks(config):
        return 0
    hup = []
    signal.signal(signal.SIGHUP, lambda *_: hup.append(1))
    with open(os.path.join(config, "aardvark.pid"), "w") as f:
        f.write(str(os.getpid()))
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.write(w, b"1")
    os.close(w)
    deadline = time.monotonic() + 60  # never outlive a test run
    while time.monotonic() < deadline:
        time.sleep(0.01)
        if hup:
            count = len(hup)
            del hup[:count]
            with open(os.path.join(parent, "fake-hups"), "a") as f:
                f.write("hup\n" * count)
            if not networks(config):
                os.unlink(os.path.join(config, "aardvark.pid"))
                return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
