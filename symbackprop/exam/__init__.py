"""Randomized exams from exercise files: seeded variants, answer keys, LMS files.

    from symbackprop.exam import make_exam
    exam = make_exam(["chain", "net221", "my.toml"], variants=30, seed=7)
    exam.key()                      # the answer key (docs/json.md and docs/exams.md)

An exercise is a problem file with ``[random]`` and ``[[questions]]`` tables
(:mod:`.exercise`); the built-in families are such files too (:mod:`.families`). Every
variant is a real problem, built by the public loader from its drawn table and solved by
the core; every question is a claim key resolved against it (:meth:`Solution.lookup`).
"""

from ..answerkey import KeyQuestion
from .exercise import Exercise, read_exercise
from .families import NAMES as FAMILIES
from .generate import make_exam
from .model import Ask, Exam, Variant

__all__ = ["FAMILIES", "Exercise", "read_exercise", "make_exam", "Ask", "Exam", "KeyQuestion",
           "Variant"]
