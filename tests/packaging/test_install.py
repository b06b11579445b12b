"""Install paths: ``make install`` / ``make uninstall``, the ``netavark.pyz`` zip
application and ``pip install`` into a virtual environment.

Each test works on a copy of the sources in a temporary directory, so nothing is
written into the checkout.  The build information is pinned through
``NETAVARK_COMMIT`` and ``SOURCE_DATE_EPOCH`` and checked in ``netavark version``.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

SYSTEM_PYTHON = "/usr/bin/python3"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
EPOCH = "1700000000"
BUILD_TIME = "2023-11-14T22:13:20+00:00"
BUILD_ENV = {"NETAVARK_COMMIT": COMMIT, "SOURCE_DATE_EPOCH": EPOCH}


needs_system_python = pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK),
                                         reason=f"no {SYSTEM_PYTHON}")


def system_version() -> tuple[int, int] | None:
    return python_version(SYSTEM_PYTHON)


def python_version(python: str) -> tuple[int, int] | None:
    try:
        res = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    if res.returncode != 0:
        return None
    major, minor = res.stdout.split()
    return int(major), int(minor)


def copy_sources(dest: str) -> str:
    """The files a build needs, without caches or build output."""
    src = os.path.join(dest, "src")
    os.makedirs(src)
    for name in ("Makefile", "pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(os.path.join(ROOT, name), src)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_build.py")
    for d in ("netavark", "scripts", "contrib", "docs", "bin"):
        shutil.copytree(os.path.join(ROOT, d), os.path.join(src, d), ignore=ignore)
    return src


def run(cmd: list[str], cwd: str | None = None, env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **BUILD_ENV, **(env or {})}
    res = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, (cmd, res.stdout, res.stderr)
    return res


def check_version(stdout: str) -> None:
    info = json.loads(stdout)
    from netavark import __version__

    assert info["version"] == __version__
    assert info["commit"] == COMMIT
    assert info["build_time"] == BUILD_TIME
    assert info["default_fw_driver"] == "nftables"


def package_modules(src: str) -> list[str]:
    pkg = os.path.join(src, "netavark")
    return sorted(os.path.relpath(p, src) for p in glob.glob(f"{pkg}/**/*.py", recursive=True))


_PYC_INFO = """
import json, marshal, sys
out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    out[path] = [int.from_bytes(data[4:8], "little"), marshal.loads(data[16:]).co_filename]
print(json.dumps(out))
"""


def pyc_info(paths: list[str]) -> dict[str, list]:
    """path → [flags word, co_filename] of .pyc files (flags 1 = unchecked hash-based),
    read by the interpreter that wrote them (marshal data is version-specific)."""
    res = run([SYSTEM_PYTHON, "-c", _PYC_INFO, *paths])
    return json.loads(res.stdout)


def installed_files(root: str) -> set[str]:
    out = set()
    for dirpath, _dirs, files in os.walk(root):
        out |= {os.path.relpath(os.path.join(dirpath, n), root) for n in files}
    return out


@pytest.fixture(scope="module")
def make() -> str:
    path = shutil.which("make")
    if path is None:
        pytest.skip("make is not installed")
    return path


@needs_system_python
def test_make_install_destdir_tree_and_uninstall(make, tmp_path):
    src = copy_sources(str(tmp_path))
    dest = str(tmp_path / "dest")
    run([make, "-C", src, "install", f"DESTDIR={dest}"])
    major, minor = system_version() or (0, 0)
    tag = f"cpython-{major}{minor}"  # the bytecode is for the launcher's interpreter

    modules = package_modules(src)
    pkg = "usr/lib/netavark-py"
    expected = {f"{pkg}/{m}" for m in [*modules, "netavark/_build.py"]}
    expected |= {f"{pkg}/{os.path.dirname(m)}/__pycache__/"
                 f"{os.path.basename(m)[:-3]}.{tag}.pyc".replace("/./", "/")
                 for m in [*modules, "netavark/_build.py"]}
    expected |= {"usr/libexec/podman/netavark", "usr/share/man/man1/netavark.1"}
    units = [os.path.basename(p)[:-3] for p in glob.glob(f"{src}/contrib/systemd/system/*.in")]
    assert {"netavark-firewalld-reload.service", "netavark-nftables-reload.service"} <= set(units)
    expected |= {f"usr/lib/systemd/system/{u}" for u in units}
    expected |= {f"usr/lib/systemd/system/{os.path.basename(p)}"
                 for p in glob.glob(f"{src}/contrib/systemd/system/*") if not p.endswith(".in")}
    if os.path.exists(f"{src}/netavark/dns/main.py"):
        expected.add(f"{pkg}/bin/aardvark-dns")
    assert installed_files(dest) == expected

    launcher = f"{dest}/usr/libexec/podman/netavark"
    assert os.stat(launcher).st_mode & 0o777 == 0o755
    with open(launcher) as f:
        text = f.read()
    assert text.startswith("#!/usr/bin/python3 -IS\n")
    assert 'sys.path.insert(0, "/usr/lib/netavark-py")' in text and dest not in text

    pycs = {m: "{}/{}/{}/__pycache__/{}.{}.pyc".format(dest, pkg, *os.path.split(m[:-3]), tag)
            for m in modules}
    info = pyc_info(list(pycs.values()))
    for m, path in pycs.items():
        flags, filename = info[path]
        assert flags == 0b01, m  # hash-based, not checked: nothing compiled at run time
        assert filename == f"/usr/lib/netavark-py/{m}"

    with open(f"{dest}/{pkg}/netavark/_build.py") as f:
        build = f.read()
    assert f"COMMIT = {COMMIT!r}" in build and f"BUILD_TIME = {BUILD_TIME!r}" in build

    for u in units:
        with open(f"{dest}/usr/lib/systemd/system/{u}") as f:
            unit = f.read()
        assert "@@" not in unit
        command = {"netavark-firewalld-reload.service": "firewalld-reload",
                   "netavark-nftables-reload.service": "firewall-reload",
                   "netavark-dhcp-proxy.service": "dhcp-proxy"}.get(u, "")
        assert f"ExecStart=/usr/libexec/podman/netavark {command}" in unit, unit
    with open(f"{dest}/usr/share/man/man1/netavark.1") as f1, \
            open(os.path.join(ROOT, "docs", "netavark.1")) as f2:
        assert f1.read() == f2.read()

    if os.geteuid() == 0 and shutil.which("unshare"):
        # the installed launcher at its real path: the staged /usr laid over the
        # real one in a private mount namespace (read-only overlay, nothing written)
        res = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   f"mount -t overlay overlay -o lowerdir={dest}/usr:/usr /usr && "
                   "exec /usr/libexec/podman/netavark version"], env={"PATH": "/usr/bin:/bin"})
        check_version(res.stdout)

    run([make, "-C", src, "uninstall", f"DESTDIR={dest}"])
    assert installed_files(dest) == set()


@needs_system_python
def test_make_install_prefix_launcher_runs_without_compiling(make, tmp_path):
    src = copy_sources(str(tmp_path))
    prefix = str(tmp_path / "prefix")
    run([make, "-C", src, "install", f"PREFIX={prefix}"])
    launcher = f"{prefix}/libexec/podman/netavark"
    before = {p: os.stat(os.path.join(prefix, p)).st_mtime_ns for p in installed_files(prefix)}

    # no environment at all, from another directory
    res = subprocess.run([launcher, "version"], env={}, cwd="/", capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    check_version(res.stdout)
    res = subprocess.run([launcher, "--help"], env={}, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and "Usage: netavark" in res.stdout, res
    res = subprocess.run([launcher, "setup"], env={}, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and res.stderr  # usage error, as upstream

    after = {p: os.stat(os.path.join(prefix, p)).st_mtime_ns for p in installed_files(prefix)}
    assert after == before  # no bytecode written or rewritten

    run([make, "-C", src, "uninstall", f"PREFIX={prefix}"])
    assert installed_files(prefix) == set()


@needs_system_python
def test_zipapp_runs_with_bare_python(tmp_path):
    src = copy_sources(str(tmp_path))
    pyz = str(tmp_path / "netavark.pyz")
    run([SYSTEM_PYTHON, f"{src}/scripts/build-zipapp.py", "-o", pyz])
    assert os.stat(pyz).st_mode & 0o777 == 0o755
    with open(pyz, "rb") as f:
        assert f.readline() == b"#!/usr/bin/python3 -IS\n"

    # isolated mode, no environment, run from elsewhere; and as an executable
    res = subprocess.run([SYSTEM_PYTHON, "-I", pyz, "version"], env={}, cwd="/",
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    check_version(res.stdout)
    res = subprocess.run([pyz, "version"], env={}, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    check_version(res.stdout)

    # every module comes from the archive's bytecode: nothing compiled at start-up
    with zipfile.ZipFile(pyz) as z:
        names = set(z.namelist())
        for m in package_modules(src):
            assert m in names and m + "c" in names, m
            flags = int.from_bytes(z.read(m + "c")[4:8], "little")
            assert flags == 0b01, m
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import netavark.cli, "
             "netavark.commands.version, netavark.commands.setup; "
             "print(sorted(m.__file__ for n, m in sys.modules.items() "
             "if n.startswith('netavark')))")
    res = subprocess.run([SYSTEM_PYTHON, "-I", "-c", probe, pyz], env={}, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    files = eval(res.stdout)  # a printed list of str
    assert files and all(f.startswith(pyz + "/") and f.endswith(".pyc") for f in files), files

    # reproducible with SOURCE_DATE_EPOCH
    again = str(tmp_path / "again.pyz")
    run([SYSTEM_PYTHON, f"{src}/scripts/build-zipapp.py", "-o", again])
    with open(pyz, "rb") as a, open(again, "rb") as b:
        assert a.read() == b.read()


def test_zipapp_with_another_python_falls_back_to_sources(tmp_path):
    """Bytecode of another Python version is skipped and the sources are used
    (the archive is built by /usr/bin/python3; run the suite with another Python,
    e.g. 3.9, or have python3.N on PATH)."""
    system = system_version()
    if system is None:
        pytest.skip(f"no working {SYSTEM_PYTHON}")
    candidates = [sys.executable, *(shutil.which(f"python3.{n}") or "" for n in range(9, 15))]
    others = [p for p in candidates
              if p and python_version(p) not in (None, system) and python_version(p) >= (3, 9)]
    if not others:
        pytest.skip(f"no Python 3.9+ other than {SYSTEM_PYTHON} "
                    f"({'.'.join(map(str, system))}) to run the archive with")
    src = copy_sources(str(tmp_path))
    pyz = str(tmp_path / "netavark.pyz")
    run([SYSTEM_PYTHON, f"{src}/scripts/build-zipapp.py", "-o", pyz])
    res = subprocess.run([others[0], "-I", pyz, "version"], env={}, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    check_version(res.stdout)


@needs_system_python
def test_pip_install_into_venv(tmp_path):
    res = subprocess.run([SYSTEM_PYTHON, "-c", "import setuptools, wheel, pip"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"{SYSTEM_PYTHON} lacks pip/setuptools/wheel "
                    "(Debian: python3-pip python3-setuptools python3-wheel)")
    src = copy_sources(str(tmp_path))
    venv = str(tmp_path / "venv")
    # the venv sees Debian's pip and setuptools; nothing is downloaded
    run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", venv])
    run([f"{venv}/bin/python", "-m", "pip", "install", "--no-build-isolation", "--no-index",
         "--no-deps", "--disable-pip-version-check", src],
        env={"PIP_CONFIG_FILE": os.devnull, "HOME": str(tmp_path)})
    res = subprocess.run([f"{venv}/bin/netavark", "version"], env={}, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    check_version(res.stdout)
    res = subprocess.run([f"{venv}/bin/python", "-c",
                          "import netavark, sys; print(netavark.__file__)"],
                         env={}, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert res.stdout.startswith(venv + "/lib/"), res
