"""``netavark version``: build information as pretty JSON."""

from __future__ import annotations

import os
import sys

from .. import __version__
from ..firewall import DEFAULT_DRIVER
from ..serde import dumps_pretty
from ..timefmt import Timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..cli import Context

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _git_commit(repo: str) -> str:
    """The checked-out commit, read from ``.git`` directly (no ``git`` process)."""
    git = os.path.join(repo, ".git")
    try:
        if os.path.isfile(git):  # a worktree or submodule: ".git" names the real dir
            with open(git) as f:
                line = f.read().strip()
            if line.startswith("gitdir: "):
                git = os.path.join(repo, line[8:])
        common = git
        try:  # worktrees keep refs in the main repository
            with open(os.path.join(git, "commondir")) as f:
                common = os.path.join(git, f.read().strip())
        except OSError:
            pass
        with open(os.path.join(git, "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        try:
            with open(os.path.join(common, ref)) as f:
                return f.read().strip()
        except FileNotFoundError:
            with open(os.path.join(common, "packed-refs")) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
    except OSError:
        pass
    return ""


def build_info() -> dict[str, str]:
    try:
        from .. import _build  # written by packaging (make install, zipapp)

        commit, build_time = _build.COMMIT, _build.BUILD_TIME
    except ImportError:
        commit = _git_commit(os.path.dirname(_PKG_DIR))
        try:
            mtime = int(os.stat(os.path.join(_PKG_DIR, "__init__.py")).st_mtime)
        except OSError:
            mtime = 0
        build_time = str(Timestamp(mtime)).replace("Z", "+00:00")
    machine = os.uname().machine
    return {
        "version": __version__,
        "commit": commit,
        "build_time": build_time,
        "target": f"{machine}-unknown-linux-gnu",
        "default_fw_driver": DEFAULT_DRIVER,
    }


def run(ctx: Context) -> None:
    sys.stdout.write(dumps_pretty(build_info()) + "\n")
