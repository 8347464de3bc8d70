"""Shared test helpers: run the CLI as a user would, from this checkout (in this process,
or in a subprocess where the process itself is tested)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_process(*args, cwd=None, input=None, timeout=300) -> subprocess.CompletedProcess:
    """``symbackprop ARGS`` in a subprocess, importing the package from this checkout: for
    the tests whose subject is the process itself (signals, devices and FIFOs that could
    block, the console script, interpreter start-up)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SYMBACKPROP_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "symbackprop", *map(str, args)],
        cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout, env=env,
    )


def run_cli(*args, cwd=None, input=None, timeout=None) -> subprocess.CompletedProcess:
    """``symbackprop ARGS`` run in this process by ``main(argv)``, as a user's shell
    would see it: the exit status, stdout and stderr as text, ``cwd`` as the working
    directory and ``input`` on standard input. Starting Python and importing SymPy for
    each call cost about 2 s of CPU; this costs what the command costs. ``timeout`` is
    accepted for the calls written for :func:`run_process` and not enforced."""
    from symbackprop.cli import main

    argv = [str(a) for a in args]
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    debug = os.environ.pop("SYMBACKPROP_DEBUG", None)
    sys.stdin, sys.stdout, sys.stderr = stdin, out, err
    try:
        with contextlib.chdir(cwd or os.getcwd()):
            try:
                status = main(argv)
            except SystemExit as exc:  # argparse: --help, --version or a bad option
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        if debug is not None:
            os.environ["SYMBACKPROP_DEBUG"] = debug
    return subprocess.CompletedProcess(["symbackprop", *argv], status, out.getvalue(),
                                       err.getvalue())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def net221_exact():
    """net-221 solved in exact arithmetic (about 5 s of SymPy), once for the tests that
    only read it."""
    import symbackprop as sb

    return sb.load("net-221").solve(exact=True)
