"""Grading a class (``symbackprop grade``): every student's answers judged against their
own variant of an exam, with error-carried-forward credit, a gradebook and a report.

:mod:`.key` reads the exam's ``key.json``; :mod:`.responses` (and :mod:`.moodle` for
Moodle's export) reads the answers; :mod:`.marking` judges them with ``verify``'s judge
and gives points; :mod:`.gradebook` writes ``gradebook.csv``, the Moodle grade-import CSV
and the JSON. :func:`grade` is the API. :mod:`.onkey` checks one claims file against a
variant of the key as ``grade`` marks it (``symbackprop verify EXAM CLAIMS --variant ID``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ..defaults import DEFAULT_BAND
from ..errors import SymbackpropError
from .key import ExamKey, read_key
from .marking import DEFAULT_CARRIED, Gradebook, Mark, StudentGrade, grade_class
from .responses import Roster
from .sources import read_responses

__all__ = ["ExamKey", "Gradebook", "Mark", "Roster", "StudentGrade", "grade", "read_key",
           "read_responses"]


def grade(exam_dir: str | Path, responses: str | Path, *, carried=DEFAULT_CARRIED,
          band=DEFAULT_BAND, jobs: int | None = None) -> Gradebook:
    """Grade the answers in ``responses`` (a CSV of answers, a Moodle responses export or
    a folder of claims files) against the exam in ``exam_dir`` (its ``key.json``).

    ``carried``: the share of a question's points that an error carried forward earns
    (0 to 1, default 0.5). ``band``: the rounding band of ``verify``, in units of the
    last digit written. ``jobs``: worker processes for a large class (default: the
    machine's cores).
    """
    carried = Decimal(str(carried))
    if not carried.is_finite() or not 0 <= carried <= 1:
        raise SymbackpropError("--carried: the share must be a number from 0 to 1")
    key = read_key(exam_dir)
    roster = read_responses(responses, key)
    return grade_class(key, roster, carried, Decimal(str(band)), jobs)
