"""The committed gallery (output/) is what `python -m symbackprop.gallery` writes, and a
non-editable install renders worked solutions from any working directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from symbackprop.examples import EXAMPLES
from symbackprop.render.pdf import tex_available
from tests.conftest import ROOT

needs_tex = pytest.mark.skipif(not tex_available() or not shutil.which("pdftotext"),
                               reason="TeX and pdftotext are installed by the README's test command")


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@needs_tex
@pytest.mark.slow
def test_committed_gallery_is_up_to_date(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "symbackprop.gallery", str(tmp_path / "g")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    committed, fresh = ROOT / "output", tmp_path / "g"
    written = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert len(written) == 3 * len(EXAMPLES) + 1
    assert sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()) == written
    for rel in written:
        if rel.suffix == ".pdf":
            assert pdftotext(committed / rel) == pdftotext(fresh / rel), rel
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), \
                f"{rel} is out of date: run 'python -m symbackprop.gallery output'"
    assert list(tmp_path.iterdir()) == [fresh]  # nothing written outside the directory given


@pytest.mark.slow
def test_non_editable_install_renders_from_any_directory(tmp_path):
    """Build a wheel, install it into a fresh virtual environment, render from elsewhere
    (slow, about 30 s, and always run: it is what a user installing the package gets)."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("symbackprop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "symbackprop/templates/solution.tex.j2" in names
    assert "symbackprop/templates/preamble.tex.j2" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = subprocess.run([str(venv / "bin" / "symbackprop"), "solve", "net-221", "--format",
                          "tex,md", "-o", "X"], cwd=elsewhere, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    tex = (elsewhere / "X" / "net-221.tex").read_text()
    assert tex.startswith("\\documentclass") and "-0.0534" in tex
    assert "-0.0534" in (elsewhere / "X" / "net-221.md").read_text()
