#!/usr/bin/env python3
"""Build ``netavark.pyz``: netavark-py as one file that runs with a bare ``python3``.

The archive holds the ``netavark`` package and ``__main__`` as sources and as
bytecode compiled by the interpreter running this script, with unchecked-hash
``.pyc`` files next to the sources (where zipimport looks for them), so nothing
is compiled when it starts.  Build it with the Python that will run it: another
Python version ignores the bytecode and compiles the sources in memory at every
start (it still works, only slower).  ``netavark/_build.py`` records the commit
and build time (see buildinfo.py).  With ``SOURCE_DATE_EPOCH`` set the archive
is reproducible.

usage: build-zipapp.py [-o OUTPUT] [--interpreter "/usr/bin/python3 -IS"]
"""

from __future__ import annotations

import argparse
import os
import py_compile
import shutil
import sys
import tempfile
import zipapp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import buildinfo  # noqa: E402

MAIN = '''\
"""netavark-py as a zip application: python3 netavark.pyz <netavark arguments>."""
from netavark.cli import entry

entry()
'''


def stage(dest: str, epoch: int) -> None:
    """Copy the package, _build.py and __main__.py to ``dest`` and compile them."""
    shutil.copytree(os.path.join(ROOT, "netavark"), os.path.join(dest, "netavark"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_build.py"))
    with open(os.path.join(dest, "netavark", "_build.py"), "w") as f:
        f.write(buildinfo.source(ROOT, epoch))
    with open(os.path.join(dest, "__main__.py"), "w") as f:
        f.write(MAIN)
    sources = []
    for dirpath, dirs, files in os.walk(dest):
        dirs.sort()
        sources += [os.path.join(dirpath, n) for n in sorted(files) if n.endswith(".py")]
    for src in sources:
        rel = os.path.relpath(src, dest)
        # legacy location (module.pyc beside module.py): the one zipimport reads
        py_compile.compile(src, cfile=src + "c", dfile=rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    for dirpath, dirs, files in os.walk(dest):
        for n in files + dirs:
            os.utime(os.path.join(dirpath, n), (epoch, epoch))


def main() -> int:
    ap = argparse.ArgumentParser(description="Build the netavark.pyz zip application.")
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, "netavark.pyz"))
    ap.add_argument("--interpreter", default="/usr/bin/python3 -IS",
                    help="shebang line of the archive (default: %(default)s)")
    args = ap.parse_args()
    # zip timestamps start in 1980
    epoch = max(buildinfo.build_epoch(), 315532800)
    with tempfile.TemporaryDirectory() as tmp:
        staged = os.path.join(tmp, "app")
        os.mkdir(staged)
        stage(staged, epoch)
        out = os.path.abspath(args.output)
        partial = out + ".tmp"
        zipapp.create_archive(staged, partial, interpreter=args.interpreter)
        os.chmod(partial, 0o755)
        os.replace(partial, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
