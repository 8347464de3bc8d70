"""Grading speed: 300 students, each with their own variant, 10 questions each.

The exam is net221 drawn for 300 students, each paper asking 10 claim keys (forward
values, gradients, an update). Every student's answers are the right ones rounded,
except that a third of the class flip the sign of every gradient, a third write a wrong
y (so every later number goes through the carried-error recomputations), and every
seventh leaves a question out.

1. ``grade`` in-process (``symbackprop grade``: read, judge, gradebook.csv/json, Moodle
   CSV, the class report as Markdown and PDF); target < 15 s on the 2-core machine.
   Baseline, in the same run: ``verify`` of the same 300 sheets one by one (load, solve,
   judge), which is what grading without this command would cost.
2. ``--sheets``: one marked sheet PDF per student, compiled in parallel, and the merged
   PDF; target < 2 minutes. Baseline: one TeX run of one sheet, times 300, divided by
   the cores (perfect parallel TeX).

Run: python benchmarks/bench_grade.py  (--quick: 60 students)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cold import cold_start  # noqa: E402

import symbackprop as sb  # noqa: E402
from symbackprop.cli import main as cli  # noqa: E402
from symbackprop.exam import make_exam  # noqa: E402
from symbackprop.exam.model import shown  # noqa: E402
from symbackprop.numbers import to_float  # noqa: E402

ASKS = ("h_a", "h_b", "y", "E", "dE/dw1", "dE/dw2", "dE/dw5", "dE/dw6", "w5_new", "w6_new")


def make_key(students: int, directory: Path) -> dict:
    """net221 drawn ``students`` times, each variant asking the 10 ASKS."""
    exam = make_exam("net221", students, seed=2026)
    key = exam.key()
    for record, variant in zip(key["variants"], exam.variants, strict=True):
        questions = []
        for ask in ASKS:
            decimals = 5 if ask.startswith("d") else 4
            questions.append({"ask": ask, "answer": to_float(variant.solution.lookup(ask)),
                              "decimals": decimals})
        record["questions"] = questions
    (directory / "key.json").write_text(json.dumps(key))
    return key


def answers(key: dict) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(student, variant, [(ask, answer)]) with the mistakes of the module docstring."""
    out = []
    for i, variant in enumerate(key["variants"]):
        sheet = []
        for q in variant["questions"]:
            value = q["answer"]
            if i % 3 == 1 and q["ask"].startswith("dE/"):
                value = -value  # a flipped sign
            if i % 3 == 2 and q["ask"] == "y":
                value += 0.05  # wrong, and the gradients below stay right: not carried
            sheet.append((q["ask"], shown(value, q["decimals"])))
        if i % 7 == 0:
            del sheet[3]  # a question left out
        out.append((f"student{i:03d}", variant["id"], sheet))
    return out


def timed(fn) -> float:
    cold_start()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        fn()
    return time.perf_counter() - start


def main() -> None:
    students = 60 if "--quick" in sys.argv else 300
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        exam = tmp / "exam"
        exam.mkdir()
        key = make_key(students, exam)
        class_ = answers(key)
        with (tmp / "answers.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["student", "variant", "ask", "answer"])
            for student, variant, sheet in class_:
                writer.writerows([student, variant, ask, a] for ask, a in sheet)
        tables = {v["id"]: v["problem"] for v in key["variants"]}

        def verify_each():
            for _, variant, sheet in class_:
                sb.verify(sb.load_dict(tables[variant], name=variant), dict(sheet))

        from symbackprop.grade import grade

        baseline = timed(verify_each)
        judged = timed(lambda: grade(exam, tmp / "answers.csv"))
        graded = timed(lambda: cli(["grade", str(exam), str(tmp / "answers.csv"),
                                    "-o", str(tmp / "out")]))
        print(f"\n1. {students} students x {len(ASKS)} questions: gradebook and class report "
              "(Markdown and PDF); target < 15 s")
        print(f"   grade            {graded:7.2f} s   of which judging {judged:.2f} s "
              f"({cores} worker processes)")
        print(f"   verify each sheet {baseline:6.2f} s (baseline)   ratio {graded / baseline:.2f}x")

        from symbackprop.grade.sheets import sheet_files, sheet_tex
        from symbackprop.render.pdf import compile_pdf

        book = grade(exam, tmp / "answers.csv")
        one = timed(lambda: compile_pdf(sheet_tex(book.students[1], book)[0], "one", once=True))
        sheets = timed(lambda: sheet_files(book))
        ideal = one * students / cores
        print(f"\n2. {students} marked sheets in parallel and the merged PDF; target < 120 s")
        print(f"   sheets           {sheets:7.2f} s")
        print(f"   one sheet x {students} / {cores} cores {ideal:6.2f} s (baseline)   ratio "
              f"{sheets / ideal:.2f}x")
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
