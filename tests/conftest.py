"""Shared test helpers: run the CLI as a user would, from this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=None, input=None, timeout=300) -> subprocess.CompletedProcess:
    """``symbackprop ARGS`` in a subprocess, importing the package from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SYMBACKPROP_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "symbackprop", *map(str, args)],
        cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.fixture
def cli():
    return run_cli
