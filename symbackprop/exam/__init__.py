"""Randomized exam exercises: families, seeded variants, answer keys, Moodle XML.

    from symbackprop.exam import make_exam
    exam = make_exam("net221", variants=30, seed=7)
    exam.key()                      # the answer key (contract section 4)

Every variant is a real problem, built by the public loader from a table and solved by
the core; every question is a claim key resolved against it (:meth:`Solution.lookup`).
"""

from .families import NAMES as FAMILIES
from .families import all_families, family
from .generate import make_exam
from .model import Ask, Exam, Question, Variant

__all__ = ["FAMILIES", "all_families", "family", "make_exam", "Ask", "Exam", "Question", "Variant"]
