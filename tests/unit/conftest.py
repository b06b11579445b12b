"""Fixtures shared by unit tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from tests.conftest import TESTDATA

BUS_CONF = os.path.join(TESTDATA, "dbus", "bus.conf")


@pytest.fixture
def daemon(tmp_path):
    """A private dbus-daemon on a socket in ``tmp_path``: (address, pid)."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon (package dbus-daemon)")
    address = f"unix:path={tmp_path}/bus"
    res = subprocess.run(["dbus-daemon", f"--address={address}", "--print-pid",
                          f"--config-file={BUS_CONF}"], capture_output=True, text=True,
                         check=True)
    pid = int(res.stdout.split()[0])
    yield address, pid
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
