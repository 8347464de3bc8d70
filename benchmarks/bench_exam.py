"""Exam speed, with baselines measured in the same run.

1. 30 variants of each family with every output (key.json, moodle.xml, exam and
   solutions as .tex and compiled PDF; the two PDFs compile in parallel), against the
   target of one minute, and against the baseline of one TeX run of a one-page document.
2. The answer key alone for 1000 variants of each family, against the target of 30 s,
   and against the baseline of one core solve of the family's problem (load + solve of
   one variant, on one core): the ratio says how many solves one variant costs,
   redraws and distractor problems included.

Run: python benchmarks/bench_exam.py   (--quick: 200 instead of 1000 variants for 2.)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import symbackprop as sb  # noqa: E402
from symbackprop.exam import FAMILIES, family, make_exam  # noqa: E402
from symbackprop.exam.document import compile_many  # noqa: E402
from symbackprop.exam.draw import Draw  # noqa: E402
from symbackprop.exam.outputs import FORMATS, key_json, outputs, write_outputs  # noqa: E402

ONE_PAGE = r"""\documentclass[11pt,a4paper]{article}
\usepackage{amsmath}
\begin{document}
One page: \(\frac{\partial E}{\partial w_1} = -0.0024\).
\end{document}
"""


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def one_solve(name: str) -> float:
    """Best of 5: load and solve one variant's problem through the public API."""
    table = family(name).draw(Draw(name, "baseline"))
    times = []
    for _ in range(5):
        t, _ = timed(lambda: sb.load_dict(table).solve())
        times.append(t)
    return min(times)


def main() -> None:
    count = 200 if "--quick" in sys.argv else 1000
    cores = os.cpu_count()
    tex_page, _ = timed(lambda: compile_many([("page", ONE_PAGE)]))
    print(f"machine: {cores} cores; baseline: one TeX run of a one-page document {tex_page:.2f} s")
    print("\n1. 30 variants with key, Moodle XML, exam and solutions (.tex and PDF); target < 60 s")
    print(f"{'family':<8} {'total s':>8} {'draw s':>7} {'PDF s':>6} {'vs 1 TeX page':>14}")
    for name in FAMILIES:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            exam = make_exam(name, 30, seed=2026)
            drawn = time.perf_counter() - start
            files = outputs(exam, FORMATS)
            write_outputs(files, Path(tmp))
            total = time.perf_counter() - start
        print(f"{name:<8} {total:8.2f} {drawn:7.2f} {total - drawn:6.2f} {total / tex_page:13.1f}x")
    print(f"\n2. The key alone for {count} variants; target < 30 s")
    print(f"{'family':<8} {'total s':>8} {'per variant ms':>15} {'one solve ms':>13} {'solves/variant':>15}")
    for name in FAMILIES:
        solve = one_solve(name)
        total, _ = timed(lambda name=name: key_json(make_exam(name, count, seed=2026)))
        per = total / count
        print(f"{name:<8} {total:8.2f} {per * 1000:15.1f} {solve * 1000:13.1f} {per / solve:15.2f}")


if __name__ == "__main__":
    main()
