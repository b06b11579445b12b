"""Every fuzz target runs a short mutation campaign (atheris is optional)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

TARGETS = sorted(glob.glob(os.path.join(ROOT, "fuzz", "fuzz_*.py")))


@pytest.mark.parametrize("path", TARGETS, ids=os.path.basename)
def test_fuzz_target_short_run(path, tmp_path):
    env = dict(os.environ, FUZZ_SEED="1", PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, path, "-runs=2000"], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "no unexpected exception" in res.stdout or "Done" in res.stderr
