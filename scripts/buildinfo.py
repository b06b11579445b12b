#!/usr/bin/env python3
"""Write ``netavark/_build.py`` for an installed copy (make install, zipapp, pip).

``netavark version`` reports ``COMMIT`` and ``BUILD_TIME`` from it.  The commit
is ``$NETAVARK_COMMIT`` if set (builds from a tarball), else ``git rev-parse HEAD``
of the source tree, else empty.  The build time is ``$SOURCE_DATE_EPOCH`` if set
(reproducible builds), else now; written as RFC 3339 in UTC like upstream
(``2024-05-01T10:00:00+00:00``).

usage: buildinfo.py OUTPUT_FILE [SOURCE_TREE]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commit(tree: str = ROOT) -> str:
    if "NETAVARK_COMMIT" in os.environ:
        return os.environ["NETAVARK_COMMIT"]
    try:
        res = subprocess.run(["git", "-C", tree, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return res.stdout.strip() if res.returncode == 0 else ""


def build_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else int(time.time())


def build_time(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def source(tree: str = ROOT, epoch: int | None = None) -> str:
    when = build_time(build_epoch() if epoch is None else epoch)
    return ('"""Build information, written when this copy was built (not in the '
            'source tree)."""\n\n'
            f"COMMIT = {commit(tree)!r}\nBUILD_TIME = {when!r}\n")


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    tree = argv[1] if len(argv) > 1 else ROOT
    tmp = argv[0] + ".tmp"
    with open(tmp, "w") as f:
        f.write(source(tree))
    os.replace(tmp, argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
