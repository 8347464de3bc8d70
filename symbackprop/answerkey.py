"""A question of an exam's answer key (``key.json``), as the exam writes it and the
grader reads it: one class, one set of bounds (docs/json.md, docs/exams.md).

``symbackprop exam`` makes a :class:`KeyQuestion` for every question of every variant
and writes :meth:`KeyQuestion.to_json`; ``symbackprop grade`` reads it back with
:meth:`KeyQuestion.from_json`, which refuses what the exam would never write (more than
:data:`MAX_DECIMALS` places, points beyond :data:`MAX_POINTS`), naming the field. The
exercise-file reader takes its bounds from here too, so a question an exercise may ask
is exactly one the key may hold. This module is core: ``exam`` and ``grade`` both read
it, and it imports neither.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

from .errors import SymbackpropError, Where
from .numbers import to_decimal, to_float

#: Decimal places a question may ask (and ``significant`` digits, from 1).
MAX_DECIMALS = 8
#: A question's points: more than 0, at most this.
MAX_POINTS = 1000
#: An answer or choice is finite and at most this in size (docs/limits.md).
MAX_NUMBER = 1e15
#: Choices of a multiple-choice question: a letter a-z each.
MAX_CHOICES = 26
DEFAULT_DECIMALS = 4


def stated(answer, decimals: int) -> Decimal:
    """The answer as the question states it: rounded half-up (as students round) to
    ``decimals`` places, exactly, with no negative zero."""
    with localcontext() as exact:  # 10^15 to 15 places has 31 digits: more than 28
        exact.prec = 100
        d = to_decimal(answer).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return d.copy_abs() if d == 0 else d


def decimal_text(d: Decimal, decimals: int) -> str:
    """An exact decimal at ``decimals`` places as the exports write it: ``-0.9577``,
    ``0.0002``, ``-6`` (plain digits, ASCII minus, never ``-0`` nor an exponent)."""
    with localcontext() as exact:
        exact.prec = 100
        d = d.quantize(Decimal(1).scaleb(-decimals))
    return format(d.copy_abs() if d == 0 else d, "f")


def rounded(value, decimals: int) -> float:
    """``value`` rounded half-up to ``decimals`` places, as students round
    (:func:`stated`, as the nearest float)."""
    return float(stated(value, decimals)) + 0.0  # + 0.0 turns -0.0 into 0.0


def shown(value, decimals: int) -> str:
    """A choice or answer as printed: exactly ``decimals`` places, ASCII minus."""
    return decimal_text(stated(value, decimals), decimals)


def points_ok(points) -> bool:
    """Whether ``points`` (a number) is a question's worth: more than 0, at most 1000."""
    return 0 < points <= MAX_POINTS


@dataclass
class KeyQuestion:
    """One question of a variant: its claim key, exact answer, precision and points;
    for multiple choice the choices, the right one and the mistake behind each.

    ``answer`` is the exact value (a SymPy number when the exam made it, a float when
    read from key.json); ``decimals`` the places asked (for a question asked by
    ``significant`` digits, what that means for this answer); ``tolerance`` the accepted
    distance from the answer, as the exam stated it. ``asked`` (the family's
    :class:`~symbackprop.exam.model.Ask`: prompt, zero_ok) and ``mistaken`` (a numeric
    question's known mistakes, for the LMS's 0 % answers) are the exam's working data,
    not part of key.json.
    """

    ask: str
    answer: object
    decimals: int = DEFAULT_DECIMALS
    points: Decimal = Decimal(1)
    significant: int | None = None
    tolerance: float | None = None
    choices: list[float] | None = None
    correct: int | None = None
    mistakes: list[str | None] | None = None
    asked: object = field(default=None, repr=False, compare=False)
    mistaken: list[tuple[float, str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def rounded(self) -> float:
        return rounded(self.answer, self.decimals)

    @property
    def stated(self) -> Decimal:
        """The answer as the question states it, exactly (:func:`stated`)."""
        return stated(self.answer, self.decimals)

    @property
    def shown(self) -> str:
        """The answer as printed at the asked precision."""
        return shown(self.answer, self.decimals)

    def to_json(self) -> dict:
        points = Decimal(self.points)
        out = {"ask": self.ask, "answer": to_float(self.answer), "decimals": self.decimals}
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
        out["points"] = int(points) if points == points.to_integral_value() else float(points)
        if self.significant is not None:
            out["significant"] = self.significant
        if self.choices is not None:
            out["choices"] = list(self.choices)
            out["correct"] = self.correct
            out["mistakes"] = list(self.mistakes) if self.mistakes is not None else None
        return out

    @classmethod
    def from_json(cls, raw, where: str = "") -> KeyQuestion:
        """The question a key.json entry holds; a :class:`SymbackpropError` naming the
        field (``where`` + ``.ask``, …) for anything the exam would not have written."""
        def fail(name: str, message: str):
            raise SymbackpropError(message, Where(field=f"{where}.{name}" if name else where))

        def number(value, name: str, largest: float = MAX_NUMBER) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                fail(name, f"expected a number, not {_json(value)}")
            try:
                number = float(value)
            except OverflowError:  # a whole number of 400 digits
                number = math.inf
            if not math.isfinite(number):
                fail(name, f"expected a finite number, not {str(value)[:40]}")
            if abs(number) > largest:
                fail(name, f"{number:.3g} is larger than {largest:.0e} (the limit; docs/limits.md)")
            return number

        def whole(name: str, low: int, high: int, what: str) -> int | None:
            value = raw.get(name)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                fail(name, f"expected a whole number of {what} from {low} to {high}")
            return value

        if not isinstance(raw, dict):
            fail("", "expected an object")
        ask = raw.get("ask")
        if not isinstance(ask, str) or not ask.strip():
            fail("ask", "expected a claim key (a string)")
        answer = number(raw.get("answer"), "answer")
        decimals = whole("decimals", 0, MAX_DECIMALS, "decimals")
        significant = whole("significant", 1, MAX_DECIMALS, "significant digits")
        tolerance = raw.get("tolerance")
        if tolerance is not None and number(tolerance, "tolerance") < 0:
            fail("tolerance", "expected a distance (0 or more)")
        points = Decimal(repr(number(raw.get("points", 1), "points", MAX_POINTS))).normalize()
        if not points_ok(points):
            fail("points", f"expected points more than 0, at most {MAX_POINTS}")
        choices = raw.get("choices")
        correct = mistakes = None
        if choices is not None:
            if not isinstance(choices, list) or not choices:
                fail("choices", "expected a list of numbers")
            if len(choices) > MAX_CHOICES:
                fail("choices", f"{len(choices)} choices: at most {MAX_CHOICES} (a letter a-z each)")
            choices = [number(c, f"choices[{k}]") for k, c in enumerate(choices)]
            correct = raw.get("correct")
            if isinstance(correct, bool) or not isinstance(correct, int) \
                    or not 0 <= correct < len(choices):
                fail("correct", "expected the index of the right choice")
            mistakes = raw.get("mistakes")
            if mistakes is not None:
                if not isinstance(mistakes, list) or len(mistakes) != len(choices):
                    fail("mistakes", "expected one entry per choice")
                mistakes = [m if isinstance(m, str) else None for m in mistakes]
        return cls(ask.strip(), answer, DEFAULT_DECIMALS if decimals is None else decimals,
                   points, significant, None if tolerance is None else float(tolerance),
                   choices, correct, mistakes)


def _json(value) -> str:
    return json.dumps(value)[:40]
