"""Displayed factors that give the displayed result: the exam's one display rule for
products and sums of products (worked solutions in the PDF and in Moodle's feedback).

A line ``a · b · c = r`` is only honest when the numbers shown give the result shown. The
factors are therefore shown with as many significant digits as make the sum of products
of the *shown* numbers round to the shown result within one unit of its last digit
(exact numbers, 0.5 or 3, stay as they are). This is the exam side's single entry point
(:func:`displayed_terms`), so the package's display policy can replace it in one place.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from ..numbers import to_decimal

START_DIGITS = 4
MAX_DIGITS = 12


def significant(value, digits: int) -> Decimal:
    """``value`` rounded half-up to ``digits`` significant digits; exact values as they are."""
    d = to_decimal(value)
    if d == 0 or not d.is_finite():
        return d
    with localcontext() as ctx:
        ctx.prec = 60
        q = Decimal(1).scaleb(d.adjusted() - digits + 1)
        r = d.quantize(q, rounding=ROUND_HALF_UP)
        return d.normalize() if r == d else r


def text(d: Decimal) -> str:
    """A shown decimal as plain text (no exponent, ASCII minus, 0 as 0)."""
    s = format(d, "f")
    return "0" if d == 0 else s


def displayed_terms(terms, result_places: int) -> tuple[list[list[str]], bool]:
    """The factors of ``terms`` as shown, and whether they give the shown result.

    ``terms``: (sign, [factor values]) pairs whose signed products sum to the result;
    ``result_places``: the decimals the result is shown with. Returns the factor texts
    term by term, and True when the shown numbers give the shown result within one unit
    of its last digit (else the caller writes ≈ and the rounding note explains).
    """
    exact = sum((sign * _product(to_decimal(f, 60) for f in factors) for sign, factors in terms),
                Decimal(0))
    unit = Decimal(1).scaleb(-result_places)
    target = exact.quantize(unit, rounding=ROUND_HALF_UP)
    for digits in range(START_DIGITS, MAX_DIGITS + 1):
        shown = [[significant(f, digits) for f in factors] for _, factors in terms]
        total = sum((sign * _product(fs) for (sign, _), fs in zip(terms, shown, strict=True)),
                    Decimal(0))
        if abs(total - target) <= unit:
            return [[text(f) for f in fs] for fs in shown], True
    return [[text(f) for f in fs] for fs in shown], False


def _product(values) -> Decimal:
    out = Decimal(1)
    with localcontext() as ctx:
        ctx.prec = 80
        for v in values:
            out *= v
    return out
