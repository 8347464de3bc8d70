"""Exam speed, with baselines measured in the same run.

1. 30 variants of each family with every output (key.json, moodle.xml, exam and
   solutions as .tex and compiled PDF; the two PDFs compile in parallel), against the
   target of one minute, and against the baseline of one TeX run of a one-page document.
2. The answer key alone for 1000 variants of each family, against the target of 30 s,
   and against the baseline of solving the same 1000 problems once (each variant's
   problem from the key, loaded and solved with ``problem.solve()``, over the same
   number of processes): the ratio says what a variant costs beyond one solve (the
   screen, redraws, the distractors' problems, the questions).

3. A 3-exercise exam (chain, net221 and a teacher's tanh exercise file) of 30 papers with
   every output (key, Moodle XML, Canvas QTI, exam and solutions as .tex and PDF), target
   < 10 s, beside solving the same 90 problems once.
4. The key of that exam for 1000 papers (3000 variants), target < 30 s, beside solving the
   same 3000 problems once.

Times are wall times; the machine's load (other processes) inflates them, so the run
prints the load average next to them. Run: python benchmarks/bench_exam.py
(--quick: 200 instead of 1000 variants for 2 and 4; --several: 3 and 4 alone.)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import symbackprop as sb  # noqa: E402
from symbackprop.exam import FAMILIES, make_exam  # noqa: E402
from symbackprop.exam.document import compile_many  # noqa: E402
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


def _solve(table: dict) -> None:
    sb.load_dict(table).solve()


def solve_once(tables: list[dict]) -> float:
    """Wall time to load and solve each problem once, over the machine's cores (as the
    exam draws), in fresh processes."""
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(_solve, tables, chunksize=25))
    return time.perf_counter() - start


def main() -> None:
    count = 200 if "--quick" in sys.argv else 1000
    cores = os.cpu_count()
    tex_page, _ = timed(lambda: compile_many([("page", ONE_PAGE)]))
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"baseline: one TeX run of a one-page document {tex_page:.2f} s")
    print("\n1. 30 variants with key, Moodle XML, exam and solutions (.tex and PDF); target < 60 s")
    print(f"{'family':<8} {'total s':>8} {'draw s':>7} {'PDF s':>6} {'vs 1 TeX page':>14} {'load':>5}")
    for name in FAMILIES:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            exam = make_exam(name, 30, seed=2026)
            drawn = time.perf_counter() - start
            files = outputs(exam, FORMATS)
            write_outputs(files, Path(tmp))
            total = time.perf_counter() - start
        print(f"{name:<8} {total:8.2f} {drawn:7.2f} {total - drawn:6.2f} {total / tex_page:13.1f}x"
              f" {os.getloadavg()[0]:5.1f}")
    print(f"\n2. The key alone for {count} variants; target < 30 s")
    print(f"{'family':<8} {'key s':>7} {'solve once s':>13} {'key/solve':>10} {'load':>5}")
    for name in FAMILIES:
        total, text = timed(lambda name=name: key_json(make_exam(name, count, seed=2026)))
        tables = [v["problem"] for v in json.loads(text)["variants"]]
        solve = solve_once(tables)
        print(f"{name:<8} {total:7.2f} {solve:13.2f} {total / solve:9.2f}x {os.getloadavg()[0]:5.1f}")
    several(count)


EXERCISES = ["chain", "net221",
             str(Path(__file__).resolve().parent.parent / "tests" / "data" / "exercise_tanh.toml")]


def several(count: int) -> None:
    print("\n3. A 3-exercise exam (chain, net221, a tanh exercise file) of 30 papers with key,"
          " Moodle XML, Canvas QTI, exam and solutions (.tex and PDF); target < 10 s")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        exam = make_exam(EXERCISES, 30, seed=2026)
        drawn = time.perf_counter() - start
        write_outputs(outputs(exam, ("key", "moodle", "qti", "tex", "pdf")), Path(tmp))
        total = time.perf_counter() - start
    solve = solve_once([v.table for v in exam.variants])
    print(f"total {total:.2f} s (draw {drawn:.2f} s, outputs {total - drawn:.2f} s); solving the"
          f" same {len(exam.variants)} problems once {solve:.2f} s: {total / solve:.1f}x;"
          f" load {os.getloadavg()[0]:.1f}")
    print(f"\n4. The key of the 3-exercise exam for {count} papers; target < 30 s")
    total, text = timed(lambda: key_json(make_exam(EXERCISES, count, seed=2026)))
    tables = [v["problem"] for v in json.loads(text)["variants"]]
    solve = solve_once(tables)
    print(f"key {total:.2f} s for {len(tables)} variants; solving them once {solve:.2f} s:"
          f" {total / solve:.2f}x; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    if "--several" in sys.argv:  # sections 3 and 4 alone
        several(200 if "--quick" in sys.argv else 1000)
        sys.exit(0)
    main()
