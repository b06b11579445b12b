"""setuptools hook (metadata is in pyproject.toml): built packages get
``netavark/_build.py`` with the commit and build time (see scripts/buildinfo.py)."""

import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPyWithBuildInfo(build_py):
    def run(self) -> None:
        super().run()
        sys.path.insert(0, os.path.join(HERE, "scripts"))
        import buildinfo

        target = os.path.join(self.build_lib, "netavark", "_build.py")
        with open(target, "w") as f:
            f.write(buildinfo.source(HERE))


setup(cmdclass={"build_py": BuildPyWithBuildInfo})
