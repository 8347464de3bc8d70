"""Worked-solution speed: the 2-2-1 handout, rendering alone and end to end with TeX.

Timings, each the best of several runs from a cold SymPy cache, with baselines measured
in the same run:

* ``solve``: load + solve (what every output needs anyway);
* ``text``: solve + the plain-text account (the default output of ``solve``);
* ``tex`` / ``md``: solve + the worked solution as LaTeX / Markdown (rendering alone:
  target < 0.5 s);
* ``pdf``: solve + LaTeX + latexmk/pdflatex (end to end: target about 3 s);
* ``pdf (CLI)``: ``symbackprop solve net-221 --format pdf`` as a new process, as a
  teacher runs it (Python start-up and imports included).

Run: python benchmarks/bench_render.py [PROBLEM ...]   (default: net-221 mlp-relu-bce
autoencoder-838)
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cold import best_of  # noqa: E402

import symbackprop as sb  # noqa: E402
from symbackprop.render import render_format  # noqa: E402
from symbackprop.render.pdf import tex_available  # noqa: E402
from symbackprop.render.text import render_text  # noqa: E402


def cli_pdf(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-m", "symbackprop", "solve", name, "--format", "pdf",
                        "-o", tmp], check=True, capture_output=True, env=env)


def measure(name: str) -> list[float]:
    def solve():
        return sb.load(name).solve()

    row = [best_of(solve), best_of(lambda: render_text(solve())),
           best_of(lambda: render_format(solve(), "tex")),
           best_of(lambda: render_format(solve(), "md"))]
    if tex_available():
        row += [best_of(lambda: render_format(solve(), "pdf"), repeat=2),
                best_of(lambda: cli_pdf(name), repeat=2)]
    return row


def main(names: list[str]) -> None:
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'problem':18} {'solve':>8} {'text':>8} {'tex':>8} {'md':>8} {'pdf':>8} {'pdf (CLI)':>10}")
    for name in names:
        row = measure(name)
        print(f"{name:18} " + " ".join(f"{t:7.2f}s" for t in row[:5])
              + (f" {row[5]:9.2f}s" if len(row) > 5 else ""))


if __name__ == "__main__":
    main(sys.argv[1:] or ["net-221", "mlp-relu-bce", "autoencoder-838"])
