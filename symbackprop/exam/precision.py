"""How precisely an exam asks, and what it accepts: one policy for the printed exam, the
key, Moodle, Canvas and ``verify``.

* **Asked precision.** A question asks for ``decimals`` places (default 4) or for
  ``significant`` digits. Asked by decimals, an answer that would have fewer than
  :data:`MIN_SIGNIFICANT` significant digits there is asked with more decimals
  (neuron's df/ds6 = -0.000860 to 6 places, not -0.0009 to 4, which is ±12 %); an
  answer that is exact at the asked places (the gate pattern's -6.0) is not widened.
* **Tolerance.** The stated tolerance is :data:`BAND` units of the last asked place
  (the band in which ``verify`` explains a number by rounding,
  :data:`symbackprop.defaults.DEFAULT_BAND`), and the question says so ("within
  ±0.0002 accepted").
* **The acceptance rule** (:func:`accepts`), the one rule of every exam answer: an
  answer earns full points when ``|x − r| ≤ t``, where ``x`` is the number the student
  wrote (read exactly from its decimal digits, however many), ``r`` the answer as the
  question states it (the exact answer rounded half-up to the asked places,
  :func:`stated`) and ``t`` the stated tolerance (:func:`stated_tolerance`). Everything is
  exact decimal arithmetic, never floats. The question text, Moodle's ``<answer>`` and
  ``<tolerance>``, Canvas's QTI bounds and ``grade`` are all written or judged from
  these functions (docs/exams.md, "The acceptance rule").
"""

from __future__ import annotations

from decimal import Decimal

from ..answerkey import decimal_text, stated
from ..defaults import DEFAULT_BAND
from ..numbers import to_decimal

__all__ = ["accepts", "asked_decimals", "bounds", "decimal_text", "precision_text", "stated",
           "stated_tolerance", "tolerance", "tolerance_text", "too_few_digits"]

MIN_SIGNIFICANT = 3
MAX_DECIMALS = 8
BAND = DEFAULT_BAND


def asked_decimals(answer, decimals: int, significant: int | None = None) -> int:
    """The decimals a question asks for its ``answer`` under the policy above."""
    d = to_decimal(answer)
    if d == 0 or not d.is_finite():
        return decimals
    exponent = d.adjusted()  # 10^exponent <= |d| < 10^(exponent + 1)
    if significant is not None:
        return max(0, min(MAX_DECIMALS, significant - 1 - exponent))
    if d == d.quantize(Decimal(1).scaleb(-decimals)) if decimals <= 30 else False:
        return decimals  # exact at the asked places
    return max(decimals, min(MAX_DECIMALS, MIN_SIGNIFICANT - 1 - exponent))


def too_few_digits(answer, decimals: int, significant: int | None = None) -> str | None:
    """Why ``answer`` asked to ``decimals`` places shows fewer significant digits than
    the question needs (``significant``, or :data:`MIN_SIGNIFICANT`), in words; None when
    it shows enough (0.5 asked to 4 places shows 0.5000: four), or is exact there in two
    digits or more (0.10). A 1e-8 asked as 0.00000001 (one digit) or a v of
    1.3e-7 asked to 3 significant digits within 8 places is such an answer: no draw
    that gives one reaches a student."""
    d = to_decimal(answer)
    if d == 0 or not d.is_finite():
        return None
    need = significant if significant is not None else MIN_SIGNIFICANT
    shown = decimals + d.adjusted() + 1
    exact = decimals <= 30 and d == d.quantize(Decimal(1).scaleb(-decimals))
    if shown >= need or exact and shown >= 2:  # hinge's exact 0.1 asked as 0.10
        return None
    return (f"{max(shown, 0)} significant digit{'s' if shown != 1 else ''} at {decimals}"
            f" places, fewer than {need}")


def stated_tolerance(decimals: int) -> Decimal:
    """The stated tolerance, exactly: :data:`BAND` units of the last asked place."""
    return (BAND * Decimal(1).scaleb(-decimals)).quantize(Decimal(1).scaleb(-decimals))


def bounds(answer, decimals: int) -> tuple[Decimal, Decimal, Decimal]:
    """``(r − t, r, r + t)``: the accepted interval around the stated answer ``r``."""
    r, t = stated(answer, decimals), stated_tolerance(decimals)
    return r - t, r, r + t


def accepts(written: Decimal, answer, decimals: int) -> bool:
    """The acceptance rule: ``written`` (the student's number, read exactly from their
    digits) is within the stated tolerance of the stated answer."""
    if not written.is_finite():
        return False
    return abs(written - stated(answer, decimals)) <= stated_tolerance(decimals)


def tolerance(decimals: int) -> float:
    """The stated tolerance as a JSON number (key.json's ``tolerance``)."""
    return float(stated_tolerance(decimals))


def tolerance_text(decimals: int) -> str:
    """The tolerance as the question states it: ``±0.0002``."""
    return "±" + decimal_text(stated_tolerance(decimals), decimals)


def precision_text(decimals: int, lms: bool = False) -> str:
    """"Give 4 decimal places; within ±0.0002 accepted." for a question's prompt. In
    Moodle and Canvas (``lms``), whose English number readers take a comma for a
    thousands separator (``0,9608`` is 9608), it asks for a decimal point too."""
    if decimals == 0:
        places = "a whole number"
    else:
        places = f"{decimals} decimal place{'s' if decimals > 1 else ''}"
        if lms:
            places += " with a decimal point (0.5, not 0,5)"
    return f"Give {places}; within {tolerance_text(decimals)} accepted."
