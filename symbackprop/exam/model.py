"""What an exam is made of: questions, variants, the exam, and its answer key.

A family (:mod:`symbackprop.exam.families`) says what to ask with :class:`Ask`; the
generator turns each ask into a :class:`~symbackprop.answerkey.KeyQuestion` (the one
question class of key.json, which ``grade`` reads back) holding the exact answer and,
for multiple choice, the choices with the mistake behind each distractor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..answerkey import KeyQuestion


@dataclass(frozen=True)
class Ask:
    """One question a family asks about its variant.

    ``key`` is a claim key (docs/claim-keys.md: ``dE/dw5``, ``w1_new``, ``y``);
    ``prompt`` the question in LaTeX text (math in ``\\( \\)``); ``mistakes`` the
    ids of :mod:`~symbackprop.mistakes` (or the family's misreadings) that give its distractors, in order of
    preference; ``zero_ok`` marks an answer that is 0 by the gate pattern.
    """

    key: str
    prompt: str
    decimals: int = 4
    choice: bool = False
    mistakes: tuple[str, ...] = ()
    zero_ok: bool = False
    significant: int | None = None  # asked by significant digits instead of decimals
    points: Decimal = Decimal(1)


@dataclass
class Variant:
    """One student's version of one exercise: its problem (as loaded and solved), the
    placeholder values drawn, and its questions."""

    id: str
    family: str  # the exercise's name
    table: dict  # the problem in graph form, as key.json holds it
    problem: object
    solution: object
    questions: list[KeyQuestion]
    drawn: dict = field(default_factory=dict)  # the problem table as drawn (either form)
    free: dict = field(default_factory=dict)  # the placeholder variables' values
    student: int = 0  # 1 to N: whose paper holds it
    network_form: dict | None = None  # typed layers: the layer stack (Problem.network_form)

    @property
    def loadable(self) -> dict:
        """The table the problem is loaded from again: its layer stack where it has one
        (the layer slips are named on it), else the graph form."""
        return self.network_form or self.table

    @property
    def exercise(self) -> str:
        return self.family

    def signature(self) -> str:
        """The numbers that make this variant what it is, for duplicate detection."""
        import json

        return json.dumps([self.table, {k: str(v) for k, v in self.free.items()}], sort_keys=True)


@dataclass
class Exam:
    """Variants of one or more exercises: student ``k``'s paper holds variant ``k`` of
    each exercise, in the order the exercises were named."""

    family: str  # the exam's name: the exercises' names joined by '+'
    seed: int
    variants: list[Variant]  # paper by paper, exercise by exercise within a paper
    rules: dict[str, int]  # how often each well-posedness rule fired while drawing
    title: str = ""
    exercises: list = field(default_factory=list)  # the Exercise objects, in paper order

    @property
    def papers(self) -> list[list[Variant]]:
        """The variants of each student's paper, students in order."""
        papers: dict[int, list[Variant]] = {}
        for v in self.variants:
            papers.setdefault(v.student, []).append(v)
        return [papers[k] for k in sorted(papers)]

    def exercise(self, name: str):
        return next(e for e in self.exercises if e.name == name)

    def key(self) -> dict:
        """The answer key (docs/json.md and docs/exams.md)."""
        out = {"family": self.family, "seed": self.seed}
        if len(self.exercises) > 1:
            out["exercises"] = [e.name for e in self.exercises]
        out["variants"] = [
            {"id": v.id, "exercise": v.exercise, "student": v.student, "problem": v.table,
             **({"network_form": v.network_form} if v.network_form else {}),
             "questions": [q.to_json() for q in v.questions]}
            for v in self.variants
        ]
        return out
