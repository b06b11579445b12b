"""README.md's "Using it with Podman", followed command by command on a stand-in
for a fresh machine (FreshMachineSandbox): clone, ``make install``, Podman's
configuration drop-ins, a local image, a network, a published port and DNS.

The commands come from the README and the clone from the checkout's HEAD, so this
checks what a user gets from a commit.  ``apt-get`` lines are not run (no package
changes on this machine): the test checks instead that what they install is there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import firewall_driver, require_dns, require_firewall
from tests.e2e.sandbox import FreshMachineSandbox, is_static_elf, which

SECTION = "## Using it with Podman"


def readme_steps(readme: str) -> tuple[list[str], list[str]]:
    """(apt-get lines, every other command line) of the section's ``sh`` blocks."""
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    apt, commands = [], []
    for block in re.findall(r"```sh\n(.*?)```", readme[start:end], re.S):
        text = re.sub(r"\\\n\s*", " ", block)  # join continued lines
        for line in text.splitlines():
            line = line.strip()
            if line:
                (apt if line.startswith("apt-get") else commands).append(line)
    return apt, commands


def test_readme_podman_walkthrough():
    require_firewall()
    require_dns()
    if firewall_driver() not in (None, "nftables"):
        pytest.skip("the README walkthrough shows the default nftables driver's rules")
    if which("git") is None or which("make") is None:
        pytest.skip("needs git and make")
    head = subprocess.run(["git", "-C", ROOT, "show", "HEAD:README.md"], capture_output=True,
                          text=True)
    if head.returncode != 0:
        pytest.skip(f"not a git checkout: {head.stderr.strip()}")
    apt, commands = readme_steps(head.stdout)
    packages = {p for line in apt for p in line.split()[2:] if not p.startswith("-")}
    assert {"podman", "aardvark-dns", "busybox-static", "make", "git"} <= packages
    missing = [t for t in ("podman", "nft", "git", "make", "busybox", "runc") if not which(t)]
    if missing or not is_static_elf("/bin/busybox"):
        pytest.skip(f"the README's packages are not all installed ({missing or 'busybox-static'})")

    work = tempfile.mkdtemp(prefix="pe2e-readme-", dir="/var/tmp")
    try:
        origin = os.path.join(work, "origin.git")
        subprocess.run(["git", "clone", "-q", "--bare", ROOT, origin], check=True,
                       capture_output=True)
        home = os.path.join(work, "home")
        os.mkdir(home)
        script = "\n".join(["set -ex", f"cd {home}",
                            *(c.replace("<this repository>", origin) for c in commands)])
        box = os.path.join(work, "sandbox")
        os.mkdir(box)
        sb = FreshMachineSandbox(box)
        try:
            sb.start()
            res = sb.in_host("sh", "-c", script, check=False, timeout=600)
            out = res.stdout
            assert res.returncode == 0, (res.stdout[-4000:], res.stderr[-4000:])
            assert out.count("hello from web\n") == 2, out
            assert re.search(r"Name:\s+web\.dns\.podman\nAddress: 10\.", out), out
            assert '"default_fw_driver": "nftables"' in out
            assert "dnat ip to 10." in out and "aardvark-dns --config" in out
            # the last command lists the table after everything was removed
            final = out[out.rindex("table inet netavark"):]
            assert "nv_" not in final and "dnat" not in final, final
            assert set(sb.links()) == {"lo", "ext0"}
            assert sb.aardvark_running() == []
        finally:
            sb.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
