"""Podman end-to-end tests: a real Podman drives this checkout's netavark.

Each test gets its own :class:`~tests.e2e.sandbox.Sandbox` (network namespaces,
private mounts, private Podman storage and configuration).  What the suite needs
is detected when it runs; a test that cannot run skips naming what is missing.

``NETAVARK_FW`` in the environment of pytest selects the firewall driver under
test (default: netavark's default, nftables).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.e2e.sandbox import Sandbox, build_image_tar, is_static_elf, system_helper, which

E2E_DIR = os.path.join(ROOT, "tests", "e2e")
BUSYBOX = "/bin/busybox"


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="Podman end-to-end tests need root (namespaces, mounts)")
        for item in items:
            if str(item.fspath).startswith(E2E_DIR):
                item.add_marker(skip)


def _podman_version() -> str | None:
    try:
        res = subprocess.run(["podman", "--version"], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.split()[-1] if res.returncode == 0 and res.stdout else None


@pytest.fixture(scope="session")
def e2e_requirements() -> str:
    """Skips (with the missing piece named) unless everything the suite drives exists."""
    missing = [tool for tool in ("podman", "runc", "conmon", "nsenter", "unshare", "ip", "nft")
               if which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (Debian: podman runc conmon "
                    f"util-linux iproute2 nftables)")
    if not os.path.exists(BUSYBOX) or not is_static_elf(BUSYBOX):
        pytest.skip(f"{BUSYBOX} is missing or not statically linked (Debian: busybox-static)")
    if system_helper("aardvark-dns") is None:
        pytest.skip("aardvark-dns not found in Podman's helper directories "
                    "(Debian: aardvark-dns)")
    version = _podman_version()
    if version is None:
        pytest.skip("podman --version does not run")
    return version


def firewall_driver() -> str | None:
    return os.environ.get("NETAVARK_FW") or None


def require_feature(module: str, what: str) -> None:
    """Skip when a netavark-py module a test needs is not in this checkout yet."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{what} ({module.replace('.', '/')}.py) is not in this checkout")


def require_firewall() -> None:
    driver = firewall_driver()
    if driver in (None, "nftables"):
        require_feature("netavark.firewall.nft", "the nftables firewall driver")
    elif driver == "firewalld":
        require_feature("netavark.firewall.firewalld", "the firewalld firewall driver")


def require_dns() -> None:
    require_feature("netavark.dns.aardvark", "DNS support")


@pytest.fixture(scope="session")
def image_tar(tmp_path_factory, e2e_requirements) -> str:
    path = str(tmp_path_factory.mktemp("pe2e-image") / "busybox.tar")
    build_image_tar(BUSYBOX, path)
    return path


def _sandbox(tmp_path, image_tar, **kw):
    sb = Sandbox(str(tmp_path), image_tar, firewall_driver=firewall_driver(), **kw)
    try:
        sb.start()
        yield sb
    finally:
        sb.close()


@pytest.fixture
def sandbox(tmp_path, image_tar):
    """A started sandbox whose netavark uses the firewall driver under test."""
    require_firewall()
    yield from _sandbox(tmp_path, image_tar)


@pytest.fixture
def logged_sandbox(tmp_path, image_tar):
    """Like ``sandbox``, and every netavark argv Podman uses is appended to
    ``sandbox.calls_log``."""
    require_firewall()
    yield from _sandbox(tmp_path, image_tar, log_calls=True)
