"""How a wrong number arises: the catalogue's mistakes tried against a wrong claim.

For a claim that is wrong, each mistake of :mod:`symbackprop.mistakes` proposes the
number it would produce from the exact derivation; the first one the given number
matches (to the digits written, or within the rounding band, one unit at most) becomes
the note, which always names the expected value: ``expected -0.0534; as if one
flipped the sign``. The verdict keeps the mistake's id (:attr:`Verdict.mistake`), which a
class report counts.

Proposals never come from the given number, so a note states a fact the reader can
check. Mistakes marked ``coincidental`` (another quantity's value, a number copied from
another line) are tried only for a number written with 2 significant digits or more.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import sympy as sp

from ..judging import LIST_JOINT, MAX_SOURCES, MIN_DIGITS_FOR_COINCIDENCE, note, note_places
from ..mistakes import MISTAKES, iter_wrong_values
from ..numbers import format_number, to_decimal
from .recompute import DIGITS, shared
from .tolerance import matches, within

#: The significant digits of a recomputation that are certain: it is done in binary
#: floats of ``DIGITS`` digits, whose last digits are noise (0.2 - 0.7·0 was shown to
#: 32 decimals as 0.19999999999999999999999999999999).
CERTAIN_DIGITS = DIGITS - 3


def certain(recomputed, scale: Decimal) -> Decimal:
    """The digits of a recomputation that are certain. Its noise is relative to the
    numbers it is computed from (``scale``, the largest of them), not to the result: a
    batch's Σ(x − μ) computed from numbers near 1 is 0 give or take 10^-27, and printing
    it as 9.860761e-32 would name digits that are noise. So the result keeps
    :data:`CERTAIN_DIGITS` significant digits, and no decimal below ``scale``'s
    :data:`CERTAIN_DIGITS`-th: what is left of a cancellation prints as 0."""
    value = to_decimal(recomputed, CERTAIN_DIGITS)
    if not value.is_finite() or value == 0 or scale == 0:
        return value
    floor = Decimal(1).scaleb(scale.adjusted() - CERTAIN_DIGITS + 1)
    if value.adjusted() >= scale.adjusted():  # no digit below the floor left to cut
        return value
    with localcontext() as ctx:
        ctx.prec = 2 * CERTAIN_DIGITS
        return value.quantize(floor) + 0  # + 0: -0 is 0


def diagnose(solution, verdict, verdicts: dict, band) -> tuple[str, str | None]:
    """The note for a wrong claim (the expected value, and the mistake when one fits),
    and the id of that mistake."""
    claim = verdict.claim
    places = note_places(claim.given.decimals)
    expected = note("expected", expected=format_number(verdict.expected, places))
    given = {k: v.claim.given.value for k, v in verdicts.items()}
    # Numbers computed from this one repeat it; that is no explanation of it.
    later = {k for k, v in verdicts.items() if claim.key in v.sources}
    sheet = {k: n for k, n in given.items() if k not in later and k != claim.key}
    ids = [i for i, m in MISTAKES.items()
           if not m.coincidental or significant_digits(claim.given.text) >= MIN_DIGITS_FOR_COINCIDENCE]
    exact = to_decimal(verdict.expected, 30)
    # Neither test below takes a number more than one unit (and a hair) away: the many
    # wrong values farther off are passed over with one subtraction each.
    reach = claim.given.unit * Decimal("1.000001")
    for wrong, value in _wrong_values(solution, claim.key, ids, sheet, places):
        if not value.is_finite() or value == exact or abs(claim.given.value - value) > reach:
            continue
        if matches(claim.given, value) or within(claim.given, value, min(band, 1)):
            return note("mistake", expected=expected, sentence=wrong.sentence), wrong.mistake
    if verdict.recomputed is not None and verdict.sources:
        scale = max(abs(given[k]) for k in verdict.sources)
        own = format_number(certain(verdict.recomputed, max(scale, abs(exact))), places)
        sources = LIST_JOINT.join(note("source", key=k, given=format(given[k], "f"))
                                  for k in verdict.sources[:MAX_SOURCES])
        return note("own_numbers", expected=expected, sources=sources, own=own,
                    given=claim.given.text), None
    return expected, None


def _wrong_values(solution, key, ids, sheet, places):
    """The catalogue's wrong values for ``key`` with their Decimal values, produced
    once per solution, key and sheet and replayed to every sheet alike (the catalogue
    reads only the solution, the key, the places and the sheet)."""
    memo = ("wrong values", key, tuple(ids), places,
            tuple(sorted(((str(k), v) for k, v in sheet.items()))))
    cache = shared(solution)
    if memo not in cache:
        cache[memo] = _Replay(iter_wrong_values(solution, key, ids, sheet=sheet, places=places))
    return iter(cache[memo])


class _Replay:
    """An iterator's items, produced on first demand and kept for the next reader."""

    def __init__(self, produce):
        self._produce = produce
        self._items: list = []
        self._done = False

    def __iter__(self):
        if self._done:  # all produced: the list's own iterator (the common case)
            return iter(self._items)
        return self._more()

    def _more(self):
        i = 0
        while True:
            if i == len(self._items):
                try:
                    wrong = next(self._produce)
                except StopIteration:
                    self._done = True
                    return
                value = wrong.value
                if not isinstance(value, Decimal):
                    value = to_decimal(sp.sympify(value), 30)
                self._items.append((wrong, value))
            yield self._items[i]
            i += 1


def significant_digits(text: str) -> int:
    digits = text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").replace(",", "")
    return len(digits.lstrip("0"))
