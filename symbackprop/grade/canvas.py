"""Canvas's quiz Student Analysis report (Quiz Statistics > Student Analysis), a CSV, read
back into answers.

Canvas (``Quizzes::QuizStatistics::StudentAnalysis#to_csv``) writes one row per
submission: ``name``, ``id`` (the Canvas user id), ``sis_id`` (when the course has SIS
ids), ``root_account``, ``section``, ``section_id``, ``section_sis_id``, ``submitted``,
``attempt`` (when every attempt is included), then for each question that any
submission drew two columns: ``<question id>: <question text>`` holding the answer, and
one headed by the question's points holding the points it earned, and at the end
``n correct``, ``n incorrect``, ``score``. A question the submission did not draw (a
question group picks one per student) has both cells empty; one it drew and left
unanswered has an empty answer and its points (0).

The question text is the QTI item's text with its tags stripped, so it ends with
``Variant <id>, question <n>`` as in Moodle (:class:`.moodle.VariantFinder`). A student
is every identity column together (:mod:`.identity`); several attempts of one student
are graded on the highest ``attempt``, else on the first row (Canvas lists the latest
submission first).
"""

from __future__ import annotations

import re

from ..limits import MAX_ANSWERS
from .identity import Identity, students
from .moodle import VariantFinder, _slot_answers
from .responses import Roster, error, too_many

#: The columns that end the identity part of a row.
ATTEMPT = ("submitted", "attempt")
QUESTION = re.compile(r"^(\d+):\s")
ADVICE = ("download the report from a quiz that is not anonymous, so that it has the "
          "name and id columns")


def is_student_analysis(header: list[str]) -> bool:
    low = [h.strip().lower() for h in header]
    return "submitted" in low and any(QUESTION.match(h) for h in header) \
        and low[-3:] == ["n correct", "n incorrect", "score"]


def read_canvas_export(rows: list[list[str]], header: list[str], source: str, key) -> Roster:
    """The answers of a Student Analysis download (see the module docstring)."""
    roster = Roster(source, "canvas")
    low = [h.strip().lower() for h in header]
    end = next(i for i, h in enumerate(low) if h in ATTEMPT)
    identity = Identity([(i, header[i].strip()) for i in range(end) if header[i].strip()],
                        ADVICE)
    attempt = low.index("attempt") if "attempt" in low else None
    questions = [(i, QUESTION.match(h).group(1)) for i, h in enumerate(header)
                 if QUESTION.match(h) and i + 1 < len(header)]
    finder = VariantFinder(key)
    body = list(enumerate(rows[1:], start=2))
    if len(body) * len(questions) > MAX_ANSWERS:  # before any answer is read
        raise too_many(source, f"answers ({len(body)} submissions times {len(questions)} "
                               "questions)")
    for student in students(body, identity, source):
        roster.add_student(student.label)
        roster.people[student.label] = student.person
        tried = student.rows
        chosen = tried[0]
        if len(tried) > 1:
            if attempt is not None:
                chosen = max(tried, key=lambda t: _number(t[1], attempt))
            roster.notes.append(f"{student.label}: {len(tried)} submissions in {source} (rows "
                                f"{', '.join(str(t[0]) for t in tried)}); the one on row "
                                f"{chosen[0]} is graded")
        number, row = chosen
        ordinal = 0
        for column, question_id in questions:
            answer = row[column].strip() if column < len(row) else ""
            points = row[column + 1].strip() if column + 1 < len(row) else ""
            if not answer and not points:
                continue  # a question this submission did not draw
            ordinal += 1
            where = f"{source} row {number}, question {question_id}"
            text = header[column]
            for r in _slot_answers(student.label, text, answer or "-", where, finder, key):
                r.slot = ordinal
                roster.responses.append(r)
    if not roster.students:
        raise error(source, "no submissions in the Student Analysis report")
    return roster


def _number(row: list[str], column: int) -> int:
    try:
        return int(row[column].strip())
    except (ValueError, IndexError):
        return 0
