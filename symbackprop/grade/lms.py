"""What Moodle and Canvas would give for an answer, each under its own rule, so that the
class report can list every answer where ``grade``'s points differ (docs/grading.md,
"Where Moodle, Canvas and grade differ").

Both LMSs check the acceptance rule of :mod:`symbackprop.exam.precision` on the
questions ``symbackprop exam`` exports: Moodle's ``numerical`` question compares
``|x − answer| ≤ tolerance`` (a nominal tolerance plus 10^-14 of slack for floats) and
Canvas's numerical question ``exact − margin ≤ x ≤ exact + margin`` in BigDecimal, with
``margin = varlte − varequal``. Where they differ from ``grade`` is in *reading* the
number and in partial credit:

* Moodle in English (``qtype_numerical_answer_processor::apply_units``) strips the
  thousands separator ``,`` first, so ``0,9608`` is 9608, and reads a number only from
  ASCII ``+``/``-``, digits, ``.`` and an exponent: ``−0.7567`` (U+2212) is no number,
  which scores 0. Canvas in English (``AnswerSerializers::Numerical``, ``Util.i18n_to_decimal``)
  drops ``,`` as a thousands delimiter too and turns anything else it cannot read into 0.
* Neither gives carried credit (error carried forward): a known mistake's value is a 0 %
  answer in the Moodle export and absent from Canvas's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..exam.precision import bounds, decimal_text

#: PHP's ``precision`` ini setting (14 by default): Moodle's tolerance slack is
#: 10^-precision (question/type/numerical/question.php, get_tolerance_interval).
PHP_PRECISION = 14
_EXPONENT = re.compile(r"(?:e|E|(?:x|\*|×)10(?:\^|\*\*))([+-]?\d+)")
_MOODLE_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?")
_CANVAS_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
MINUS_SIGNS = "\u2212\u2012\u2013\u2014\ufe63\uff0d"


def moodle_number(text: str) -> float | None:
    """The number Moodle (English: decimal point ``.``, thousands separator ``,``) reads
    from a response, or None when it reads none (an invalid response, 0 points)."""
    response = text.strip().replace(" ", "")  # PARAM_RAW_TRIMMED, then apply_units
    response = _EXPONENT.sub(r"e\1", response)
    # apply_units drops ',' either way in English: as thousands separators when there is
    # a '.' or several ','; otherwise str_replace([thousandssep, decsep, ','], ['', '.',
    # '.']) replaces the thousands separator ',' first, so nothing is left to be a point.
    response = response.replace(",", "")
    m = _MOODLE_NUMBER.match(response)
    if not m or response[m.end():]:  # a unit where none is expected: invalid
        return None
    return float(m.group(0))


def moodle_accepts(value: float | None, answer: str, tolerance: str) -> bool:
    """Moodle's nominal tolerance check on the texts of ``<answer>`` and ``<tolerance>``."""
    if value is None:
        return False
    a, t = float(answer), abs(float(tolerance))
    epsilon = 10.0 ** -PHP_PRECISION
    slack = t + epsilon * max(t, abs(a), epsilon)
    return a - slack <= value <= a + slack


def canvas_number(text: str) -> Decimal:
    """The number Canvas (English) reads from a response: ``,`` dropped as a thousands
    delimiter, anything it cannot read is 0."""
    clean = text.strip().replace(",", "")
    if not _CANVAS_NUMBER.fullmatch(clean):
        return Decimal(0)
    try:
        return Decimal(clean)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return Decimal(0)


def canvas_accepts(value: Decimal, varequal: str, varlte: str) -> bool:
    """Canvas's check on an imported numerical item: its exact answer and margin pass
    through Ruby floats (``to_f``) and back to BigDecimal (``to_s``), as Python's
    ``repr`` of a float gives the same shortest digits."""
    exact = Decimal(repr(float(varequal)))
    margin = Decimal(repr(float(Decimal(varlte) - Decimal(varequal))))
    return exact - margin <= value <= exact + margin


@dataclass(frozen=True)
class Exported:
    """A numerical question as the exports write it: Moodle's ``<answer>`` and
    ``<tolerance>``, Canvas's ``varequal`` and ``varlte``."""

    answer: str
    tolerance: str
    high: str

    @classmethod
    def of(cls, answer, decimals: int) -> Exported:
        return _exported(cls, answer, decimals)


@lru_cache(maxsize=4096)  # every answer of a class to one question: worked out once
def _exported(cls, answer, decimals: int) -> Exported:
    low, r, high = bounds(answer, decimals)
    return cls(decimal_text(r, decimals), decimal_text(r - low, decimals),
               decimal_text(high, decimals))


def lms_points(written: str | None, answer, decimals: int, points: Decimal,
               choices: tuple | None = None, correct: int | None = None
               ) -> tuple[Decimal, Decimal]:
    """(Moodle's points, Canvas's points) for an answer ``written`` to a question.

    A multiple-choice answer is a choice the student clicked: full points when it is
    the right one (``written`` its letter or its value as shown), in both."""
    if written is None or not written.strip():
        return Decimal(0), Decimal(0)
    if choices is not None:
        from ..answerkey import shown

        text = written.strip().strip("().").lower()
        right = shown(choices[correct], decimals)
        ok = text == chr(ord("a") + correct) or written.strip() == right
        return (points, points) if ok else (Decimal(0), Decimal(0))
    exported = Exported.of(answer, decimals)
    moodle = moodle_accepts(moodle_number(written), exported.answer, exported.tolerance)
    canvas = canvas_accepts(canvas_number(written), exported.answer, exported.high)
    return (points if moodle else Decimal(0)), (points if canvas else Decimal(0))


#: Why each cause makes the points differ, for the report.
WHY = {
    "carried credit": "only grade gives credit for an error carried forward (its share of "
                      "the points); Moodle and Canvas give 0",
    "Unicode minus": "Moodle reads no number from a minus sign other than '-' (0 points); "
                     "Canvas reads it as 0",
    "decimal comma": "Moodle and Canvas in English take the comma for a thousands separator: "
                     "0,9608 is 9608",
    "not one of the choices": "in Moodle and Canvas a student clicks one of the choices; grade "
                              "accepts a number written within the tolerance of the right one",
    "a number the LMS reads otherwise": "Moodle or Canvas cannot read the number as written",
    "other": "see the answer's note in gradebook.json",
}


def cause(written: str, status: str, grade_points: Decimal, lms: Decimal,
          choice: bool = False) -> str:
    """Why ``grade`` gives other points than an LMS for this answer."""
    text = written or ""
    if grade_points > lms and status == "carried":
        return "carried credit"
    if choice:
        return "not one of the choices"
    if any(c in text for c in MINUS_SIGNS):
        return "Unicode minus"
    if "," in text and "." not in text:
        return "decimal comma"
    if grade_points > lms and status in ("correct", "rounding"):
        return "a number the LMS reads otherwise"
    return "other"


@dataclass
class Difference:
    """One answer that ``grade`` scores otherwise than Moodle or Canvas would."""

    student: str
    slot: int
    ask: str
    variant: str
    written: str
    points: Decimal  # grade's
    moodle: Decimal
    canvas: Decimal
    cause: str

    def to_json(self) -> dict:
        def number(d: Decimal):
            return int(d) if d == d.to_integral_value() else float(d)

        return {"student": self.student, "question": self.slot, "ask": self.ask,
                "variant": self.variant, "written": self.written,
                "points": number(self.points), "moodle": number(self.moodle),
                "canvas": number(self.canvas), "cause": self.cause}


def differences(book) -> list[Difference]:
    """Every answer of a graded class (a :class:`~.marking.Gradebook`) whose points in
    ``grade`` differ from Moodle's or Canvas's, with the cause. Found once per class
    (gradebook.json and the report both list them)."""
    found = getattr(book, "_lms_differences", None)
    if found is None:
        found = book._lms_differences = _differences(book)
    return found


def _differences(book) -> list[Difference]:
    out = []
    for s in book.students:
        for m in s.slots:
            q = m.question
            if q is None or m.given is None or m.note.startswith("answered more than once"):
                continue  # no answer, or several different ones: no LMS has that
            exact = m.verdict.expected if m.verdict is not None else q.answer
            moodle, canvas = lms_points(m.given, exact, q.decimals, m.max_points,
                                        q.choices, q.correct)
            if moodle == m.points and canvas == m.points:
                continue
            lms = moodle if moodle != m.points else canvas
            out.append(Difference(s.student, m.slot, m.ask, m.variant, m.given, m.points,
                                  moodle, canvas, cause(m.given, m.status, m.points, lms,
                                                            q.choices is not None)))
    return out


def difference_counts(found: list[Difference]) -> dict[str, dict[str, int]]:
    """cause -> {"moodle": answers, "canvas": answers}, most common first."""
    counts: dict[str, dict[str, int]] = {}
    for d in found:
        c = counts.setdefault(d.cause, {"moodle": 0, "canvas": 0})
        c["moodle"] += d.moodle != d.points
        c["canvas"] += d.canvas != d.points
    return dict(sorted(counts.items(), key=lambda kv: -max(kv[1].values())))


def differences_json(book) -> dict:
    found = differences(book)
    return {"counts": difference_counts(found), "answers": [d.to_json() for d in found]}
