"""A large class for ``symbackprop grade``: answers CSVs of any number of students.

The measurements in docs/limits.md ("grade" rows) are made with these files:

    symbackprop exam net221 logreg --variants 20 --seed 5 -o EXAM
    python benchmarks/grade_class.py EXAM rand.csv --students 20000 --mode rand
    /usr/bin/time -v symbackprop grade EXAM rand.csv --jobs 2 -o out

Modes (each student sits the paper of variant ``i mod variants``):

* ``one``: one answer each, a few different numbers per question (the key to its
  decimals, one wrong number, one coarse number): grade judges each sheet once;
* ``rand``: one answer each, every number different (the key with six decimals and a
  random error), the worst case for grade's sharing of identical sheets;
* ``full``: every question of the paper answered, every number different;
* ``limit``: ``full`` with as many students as the 200,000-answer limit takes.
* ``moodle``: Moodle's Responses report with ``--slots`` slots per attempt (the
  question text naming the variant), every number different.

Nothing here is a test: the files are written to be measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path


def papers(key: dict) -> list[list[dict]]:
    """The key's papers: the variants of each student number, in the exercises' order."""
    by_student: dict[int, list[dict]] = {}
    for v in key["variants"]:
        by_student.setdefault(v["student"], []).append(v)
    return [by_student[s] for s in sorted(by_student)]


def written(answer: float, decimals: int, rng: random.Random, mode: str, i: int) -> str:
    if mode == "one":  # a few numbers: right, coarse, wrong
        return [f"{answer:.{decimals}f}", f"{answer:.2f}", f"{-answer:.{decimals}f}"][i % 3]
    error = rng.choice([0.0, 0.0, 10.0 ** -(decimals + 1), 10.0 ** -decimals, 0.05, 1.0])
    return f"{answer + rng.uniform(-error, error):.{decimals + 2}f}"


def rows(key: dict, students: int, mode: str, seed: int):
    rng = random.Random(seed)
    class_papers = papers(key)
    for i in range(students):
        paper = class_papers[i % len(class_papers)]
        student = f"s{i:07d}"
        questions = [(v, q) for v in paper for q in v["questions"]]
        if mode in ("one", "rand"):
            questions = [questions[i % len(questions)]]
        for v, q in questions:
            yield [student, v["id"], q["ask"], written(q["answer"], q["decimals"], rng, mode, i)]


def moodle_rows(key: dict, students: int, slots: int, seed: int):
    """A Responses report: names, then Question N, Response N, Right answer N."""
    rng = random.Random(seed)
    class_papers = papers(key)
    header = ["Last name", "First name", "Email address", "State"]
    for n in range(1, slots + 1):
        header += [f"Question {n}", f"Response {n}", f"Right answer {n}"]
    yield header
    for i in range(students):
        paper = class_papers[i % len(class_papers)]
        questions = [(v, j, q) for v in paper for j, q in enumerate(v["questions"])]
        row = [f"S{i:07d}", "Student", f"s{i}@example.org", "Finished"]
        for n in range(slots):
            v, j, q = questions[n % len(questions)]
            row += [f"Variant {v['id']}, question {j + 1}: {q['ask']}?",
                    written(q["answer"], q["decimals"], rng, "rand", i),
                    f"{q['answer']:.{q['decimals']}f}"]
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exam", type=Path, help="an exam folder (its key.json)")
    parser.add_argument("out", type=Path, help="the CSV to write")
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--mode", choices=("one", "rand", "full", "limit", "moodle"),
                        default="rand")
    parser.add_argument("--slots", type=int, default=10, help="moodle: slots per attempt")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    key = json.loads((args.exam / "key.json").read_text(encoding="utf-8"))
    with args.out.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        if args.mode == "moodle":
            out.writerows(moodle_rows(key, args.students, args.slots, args.seed))
            return
        students = args.students
        if args.mode == "limit":
            per = sum(len(v["questions"]) for v in papers(key)[0])
            students = 200_000 // per
        out.writerow(["student", "variant", "ask", "answer"])
        out.writerows(rows(key, students, "full" if args.mode == "limit" else args.mode,
                           args.seed))


if __name__ == "__main__":
    main()
