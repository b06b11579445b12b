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
from tests.e2e.sandbox import (
    PodmanError,
    Sandbox,
    build_image_tar,
    is_static_elf,
    system_helper,
    which,
)

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


BUILTIN_DNS = os.path.join(ROOT, "bin", "aardvark-dns")


@pytest.fixture(params=["aardvark-dns", "built-in"])
def dns_sandbox(request, tmp_path, image_tar):
    """A sandbox per DNS server: the distribution's aardvark-dns, and netavark-py's
    built-in server (``bin/aardvark-dns``) in its place."""
    require_firewall()
    require_dns()
    aardvark = None
    if request.param == "built-in":
        if not os.access(BUILTIN_DNS, os.X_OK):
            pytest.skip("the built-in DNS server launcher bin/aardvark-dns is not in this "
                        "checkout")
        aardvark = BUILTIN_DNS
    yield from _sandbox(tmp_path, image_tar, aardvark=aardvark)


@pytest.fixture
def logged_sandbox(tmp_path, image_tar):
    """Like ``sandbox``, and every netavark argv Podman uses is appended to
    ``sandbox.calls_log``."""
    require_firewall()
    yield from _sandbox(tmp_path, image_tar, log_calls=True)


@pytest.fixture
def rootless_sandbox(image_tar):
    """A sandbox whose Podman runs as an unprivileged user (see RootlessSandbox);
    skips naming what is missing or what blocks rootless Podman on this machine."""
    from tests.e2e.sandbox import RootlessSandbox, free_uid

    require_firewall()
    missing = [t for t in ("newuidmap", "newgidmap", "slirp4netns", "setpriv") if not which(t)]
    if missing:
        pytest.skip(f"rootless Podman needs {', '.join(missing)} (Debian: uidmap slirp4netns)")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun (slirp4netns needs the tun driver)")
    uid = str(free_uid())
    probe = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                            "unshare", "--user", "--map-root-user", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("unprivileged user namespaces do not work here: "
                    f"unshare --user: {probe.stderr.strip()}")
    sb = RootlessSandbox(image_tar, firewall_driver=firewall_driver())
    try:
        try:
            sb.start()
        except PodmanError as e:
            if sb.tun_fix and "mount namespace holder failed" in str(e):
                # slirp4netns: open("/dev/net/tun"): Permission denied, and no way around
                pytest.skip("/dev/net/tun is not usable by unprivileged users here and a "
                            f"private crw-rw-rw- node could not be made: {e}")
            raise
        yield sb
    finally:
        sb.close()


@pytest.fixture(params=[("zipapp", "aardvark-dns"), ("zipapp", "built-in"),
                        ("make-install", "aardvark-dns"), ("make-install", "built-in")],
                ids=lambda p: "-".join(p))
def installed_sandbox(request, tmp_path, image_tar):
    """A sandbox whose Podman runs an installed netavark-py: ``netavark.pyz`` or the
    launcher ``make install`` puts in ``$(PREFIX)/libexec/podman`` (PREFIX in the test's
    directory); with the distribution's aardvark-dns, or with no aardvark-dns in the
    helper directory so that the installed netavark-py starts its built-in server."""
    import shutil

    from tests.packaging.test_install import SYSTEM_PYTHON, copy_sources

    require_firewall()
    require_dns()
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"no {SYSTEM_PYTHON}")
    build = tmp_path / "build"
    build.mkdir()
    src = copy_sources(str(build))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    form, dns = request.param
    if form == "zipapp":
        launcher = str(build / "netavark.pyz")
        cmd = [SYSTEM_PYTHON, f"{src}/scripts/build-zipapp.py", "-o", launcher]
    else:
        make = shutil.which("make")
        if make is None:
            pytest.skip("make is not installed")
        prefix = str(build / "prefix")
        launcher = f"{prefix}/libexec/podman/netavark"
        cmd = [make, "-C", src, "install", f"PREFIX={prefix}"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res
    box = tmp_path / "sandbox"
    box.mkdir()
    sb = Sandbox(str(box), image_tar, firewall_driver=firewall_driver(), launcher=launcher,
                 aardvark=None if dns == "aardvark-dns" else "")
    try:
        sb.start()
        yield sb
    finally:
        sb.close()
