"""The command line starts without the heavy libraries: ``symbackprop --help`` and
``--version``, and every subcommand's ``--help``, build their parsers without importing
SymPy, numpy or Jinja (each subcommand imports what it needs when it runs), so they
answer in a tenth of the time SymPy's import takes."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sympy", "numpy", "jinja2", "matplotlib")
PROBE = """
import sys
from symbackprop.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert exc.code == 0, exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
sys.stderr.write("heavy: " + ",".join(heavy) + "\\n")
"""


def loaded(argv: list[str]) -> str:
    """The heavy modules a fresh interpreter has imported after ``symbackprop ARGV``."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr.rsplit("heavy: ", 1)[1].strip()


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["solve", "--help"],
                                  ["verify", "--help"], ["exam", "--help"],
                                  ["grade", "--help"], ["train", "--help"],
                                  ["examples", "--help"]])
def test_help_and_version_import_no_heavy_library(argv):
    assert loaded(argv) == ""


@pytest.mark.slow  # the probe's own check, a process importing SymPy
def test_the_probe_sees_a_heavy_import():
    """The check can fail: running a subcommand does import SymPy."""
    assert "sympy" in loaded(["solve", "chain-xyz"])


def test_the_package_names_load_lazily():
    """``sb.verify`` is the function even when the subpackage ``symbackprop.verify`` was
    imported first (in a fresh interpreter, where nothing else has imported it)."""
    code = ("import symbackprop.verify.claims, symbackprop as sb, sys\n"
            "assert 'sympy' in sys.modules and callable(sb.verify), sb.verify\n"
            "assert {'load', 'verify', 'Solution'} <= set(dir(sb))\n"
            "assert sb.Solution._repr_markdown_ and sb.load('chain-xyz').name == 'chain-xyz'\n"
            "try:\n    sb.no_such_name\nexcept AttributeError:\n    pass\n"
            "else:\n    raise SystemExit('no AttributeError')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
