"""Which of the three forms a responses file is, told from the file itself: a folder
of claims files, a CSV with the header ``student,variant,ask,answer``, or Moodle's
Responses report (a header with ``Response 1``, ...). See :mod:`.responses`."""

from __future__ import annotations

import re
from pathlib import Path

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
)

_RESPONSE = re.compile(r"^Response (\S+)$")


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
    else:
        missing = [h for h in HEADER if h not in lower]
        raise error(source, f"no column {', '.join(missing)} (expected the header "
                             "student,variant,ask,answer, or a Moodle responses export)",
                     "header")
    roster.notes[:0] = notes
    return roster
