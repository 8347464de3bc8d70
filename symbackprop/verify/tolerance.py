"""When a written number counts as a value: cut to its digits, or within a rounding band.

Both the verifier and the diagnoses of :mod:`.diagnose` ask these two questions, so they
live apart from either (see docs/verify.md for the policy in words).
"""

from __future__ import annotations

from decimal import Decimal

from ..defaults import DEFAULT_BAND
from ..judging import ROUNDED, TRUNCATED
from ..numbers import to_decimal
from .claims import Number

__all__ = ["DEFAULT_BAND", "matches", "within"]



def matches(given: Number, value) -> str | None:
    """"rounded" or "truncated" when ``given`` is ``value`` cut to the digits written."""
    v = value if isinstance(value, Decimal) else to_decimal(value, 40)
    if not v.is_finite():  # recomputed from a sheet's numbers: a log of a negative one
        return None
    g, unit = given.value, given.unit
    slack = unit * Decimal("1e-9")
    if abs(g - v) <= unit / 2 + slack:
        return ROUNDED
    # Truncation keeps digits; a 0 keeps none, so it is never a truncation (0 for 0.7).
    same_side = g != 0 and (g > 0) == (v > 0)
    if same_side and -slack <= abs(v) - abs(g) < unit - slack:
        return TRUNCATED
    return None


def within(given: Number, value, band: Decimal) -> bool:
    """Whether ``given`` is close enough to ``value`` for rounding to explain it.

    Three conditions, all needed:

    * at most ``band`` units of the last digit written from ``value``;
    * not of the other sign, unless ``value`` is 0 at the precision written (|value| below
      half a unit): rounding intermediates shifts a number, it does not reflect it through
      0, so -0.0534 written as 0.1 is a sign slip, not a rounding;
    * off by at most half of |value|, or by one unit of the last digit when that is more.
      A band counted in units of the last digit grows with the digit, not with the value:
      at one decimal, 2 units is ±0.2, which would accept 0.4 for 0.2374 (67 % off). A
      number that rounding really explains is close to its value in relative terms too;
      one where it is not must be explained by the recomputation from rounded
      intermediates (which the verifier tries separately), or it is not explained. The
      floor of one unit keeps a value smaller than a unit or two (a single significant
      digit) from being judged by a tolerance finer than the digits the author wrote.

    With the floor, the third condition already excludes most sign flips (a flipped
    nonzero number is at least 1.5 units away); the second says it outright.

    A number written with a power of ten gets no floor: its unit is set by its own
    significant digits, so one unit of ``1e9`` is a billion, and a floor of one unit
    would let it pass for any small value (or ``1e60`` for -0.0534).
    """
    v = value if isinstance(value, Decimal) else to_decimal(value, 40)
    g, unit = given.value, given.unit
    if not v.is_finite():
        return False
    if g * v < 0 and (abs(v) >= unit / 2 or given.scientific):
        return False
    floor = 0 if given.scientific else unit
    tolerance = min(band * unit, max(abs(v) / 2, floor))
    return abs(g - v) <= tolerance * (1 + Decimal("1e-9"))
