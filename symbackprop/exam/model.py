"""What an exam is made of: questions, variants, the exam, and its answer key.

A family (:mod:`symbackprop.exam.families`) says what to ask with :class:`Ask`; the
generator turns each ask into a :class:`Question` holding the exact answer and, for
multiple choice, the choices with the mistake behind each distractor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..numbers import to_decimal, to_float


def rounded(value, decimals: int) -> float:
    """``value`` rounded half-up to ``decimals`` places, as students round."""
    d = to_decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return float(d) + 0.0  # + 0.0 turns -0.0 into 0.0


def shown(value: float, decimals: int) -> str:
    """A choice or answer as printed: exactly ``decimals`` places, ASCII minus."""
    text = f"{rounded(value, decimals):.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


@dataclass(frozen=True)
class Ask:
    """One question a family asks about its variant.

    ``key`` is a claim key of the contract (``dE/dw5``, ``w1_new``, ``y``);
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


@dataclass
class Question:
    ask: Ask
    answer: object  # the exact value (a SymPy number)
    choices: list[float] | None = None
    correct: int | None = None
    notes: list[str | None] | None = None  # the mistake behind each choice (None: right)

    @property
    def tolerance(self) -> float:
        """One unit in the last asked place: a student who rounds intermediate values
        to the asked precision lands within it."""
        return 10.0 ** -self.ask.decimals

    @property
    def rounded(self) -> float:
        return rounded(self.answer, self.ask.decimals)

    def to_json(self) -> dict:
        out = {"ask": self.ask.key, "answer": to_float(self.answer),
               "decimals": self.ask.decimals, "tolerance": self.tolerance}
        if self.choices is not None:
            out["choices"] = list(self.choices)
            out["correct"] = self.correct
            out["mistakes"] = list(self.notes)
        return out


@dataclass
class Variant:
    """One student's version: its problem (as loaded and solved) and its questions."""

    id: str
    family: str
    table: dict  # the problem in graph form, as key.json holds it
    problem: object
    solution: object
    questions: list[Question]
    context: dict = field(default_factory=dict)  # what the family's template shows

    def signature(self) -> str:
        """The numbers that make this variant what it is, for duplicate detection."""
        import json

        return json.dumps(self.table, sort_keys=True)


@dataclass
class Exam:
    family: str
    seed: int
    variants: list[Variant]
    rules: dict[str, int]  # how often each well-posedness rule fired while drawing
    title: str = ""

    def key(self) -> dict:
        """The answer key (contract section 4)."""
        return {
            "family": self.family,
            "seed": self.seed,
            "variants": [
                {"id": v.id, "problem": v.table,
                 "questions": [q.to_json() for q in v.questions]}
                for v in self.variants
            ],
        }
