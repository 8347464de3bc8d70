"""The gradebook's files: ``gradebook.csv`` (docs/grading.md), the CSV that Moodle's
grade import takes, and the JSON of ``grade --json``.

``gradebook.csv`` has one row per student: ``student,variant,points,max_points`` then
``q1``, ``q2``, ... one column per question of the paper, in the key's order, holding
its points. Points are written exactly (``0.5``, ``2.25``, ``3``), never as float noise.

``moodle-grades.csv`` is for Moodle's *Import grades > CSV file*: the student's identity
(every identity column of a Moodle or Canvas export, as it was headed: names, e-mail,
username, ID number; for a CSV of answers ``Student``, which maps to the username or ID
number), ``Grade`` (the points) and
``Feedback`` (the tally of marks), comma-separated UTF-8 with a point for decimals.

In both CSV files a cell that begins as a spreadsheet formula does (``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is written with a single quote in front.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from .. import jsonout
from ..status import Status
from .marking import Gradebook, StudentGrade


def points_text(d: Decimal) -> str:
    """Points as written in the files: exact, no trailing zeros, 0 as 0."""
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


# A cell a spreadsheet would read as a formula (OWASP, "CSV Injection"): a student name
# such as =HYPERLINK(...) typed into a responses file must not run when a teacher opens
# the gradebook. Such a cell is written with a single quote in front, as OWASP advises.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(cell: str) -> str:
    """``cell`` as text a spreadsheet shows, never runs: a leading ' before a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return out.getvalue()


def question_count(book: Gradebook) -> int:
    return max((len(s.slots) for s in book.students), default=0)


def gradebook_csv(book: Gradebook) -> str:
    n = question_count(book)
    rows = [["student", "variant", "points", "max_points", *[f"q{i}" for i in range(1, n + 1)]]]
    for s in book.students:
        cells = [points_text(m.points) for m in s.slots]
        rows.append([s.student, s.variant, points_text(s.points), points_text(s.max_points),
                     *cells, *[""] * (n - len(cells))])
    return _csv(rows)


def tally(student: StudentGrade) -> str:
    """``3.5/5: 2 correct, 1 carried, 1 wrong, 1 missing`` (statuses that occur)."""
    counts = dict.fromkeys(Status, 0)
    for m in student.marks:
        counts[m.status] += 1
    parts = [f"{n} {st}" for st, n in counts.items() if n]
    return f"{points_text(student.points)}/{points_text(student.max_points)}: " + ", ".join(parts)


def moodle_grades_csv(book: Gradebook) -> str:
    """The identity columns the responses showed (all of them, in their order), or
    ``Student`` for a CSV of answers; then ``Grade`` and ``Feedback``."""
    identity = list(dict.fromkeys(c for s in book.students for c in s.person))
    if not identity:
        identity = ["Student"]
    rows = [[*identity, "Grade", "Feedback"]]
    for s in book.students:
        who = [s.student] if identity == ["Student"] else [s.person.get(c, "") for c in identity]
        rows.append([*who, points_text(s.points), tally(s)])
    return _csv(rows)


def gradebook_json(book: Gradebook) -> str:
    return jsonout.dumps_records(book.to_json(), ensure_ascii=False) + "\n"
