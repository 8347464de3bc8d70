"""Which form a responses file is, told from the file itself: a folder of claims
files, a CSV with the header ``student,variant,ask,answer``, Moodle's Responses report
(a header with ``Response 1``, ...) or Canvas's Student Analysis report (``name``, ``id``,
..., ``submitted``, ``<id>: <question text>``, ..., ``score``). See :mod:`.responses`.
Moodle's Grades report (``Q. 1 /1.00``, ...) holds marks, not answers: it is refused
with what to download instead."""

from __future__ import annotations

import re
from pathlib import Path

from ..limits import MAX_ANSWERS
from .canvas import is_student_analysis, read_canvas_export
from .moodle import read_moodle_export
from .responses import (
    HEADER,
    Roster,
    answers_csv,
    decode,
    error,
    read_claims_folder,
    read_file,
    read_rows,
    too_many,
)

_RESPONSE = re.compile(r"^Response (\S+)$")
_MARK = re.compile(r"^Q\. ?\S+ ?/\s*[\d.,]+$")  # Moodle's Grades report: "Q. 1 /1.00"


def read_responses(path: str | Path, key) -> Roster:
    """The answers in ``path``: a CSV of answers, a Moodle responses export, or a
    folder of claims files. ``key`` is the exam's :class:`~.key.ExamKey` (Moodle's
    question texts are searched for its variant ids)."""
    path = Path(path)
    source = str(path)
    if path.is_dir():
        return read_claims_folder(path)
    data = read_file(path)
    notes: list[str] = []
    rows = [r for r in read_rows(decode(data, source, notes), source) if any(c.strip() for c in r)]
    if not rows:
        raise error(source, "is empty: expected the header student,variant,ask,answer")
    header = [c.strip() for c in rows[0]]
    lower = [c.lower() for c in header]
    if all(h in lower for h in HEADER):
        roster = answers_csv(rows, lower, source)
    elif any(_RESPONSE.match(h) for h in header):
        roster = read_moodle_export(rows, header, source, key)
    elif is_student_analysis(header):
        roster = read_canvas_export(rows, header, source, key)
    elif any(_MARK.match(h) for h in header):
        raise error(source, "is Moodle's Grades report, which holds each question's mark, "
                             "not the answers: download the quiz's Responses report (Results > "
                             "Responses, with 'Question text' and 'Response' ticked) instead",
                     "header")
    else:
        missing = [h for h in HEADER if h not in lower]
        raise error(source, f"no column {', '.join(missing)} (expected the header "
                             "student,variant,ask,answer, a Moodle Responses report or a Canvas "
                             "Student Analysis report)",
                     "header")
    roster.notes[:0] = notes
    if len(roster.responses) > MAX_ANSWERS:  # an export's rows times its slots
        raise too_many(source)
    return roster
