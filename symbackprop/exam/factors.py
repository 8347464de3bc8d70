"""Displayed factors that give the displayed result: the exam's one display rule for
products and sums of products (worked solutions in the PDF and in Moodle's feedback).

A line ``a · b · c = r`` is only honest when the numbers shown give the result shown. The
factors are shown with the digits the package's one display policy
(:mod:`symbackprop.display`) chooses so that the sum of products of the *shown* numbers
gives the shown result within one unit of its last digit; this module only splits an
exam's sum over paths into that policy's operands and back.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from ..display import Display
from ..numbers import to_decimal


def displayed_terms(terms, result_places: int) -> tuple[list[list[str]], bool]:
    """The factors of ``terms`` as shown, and whether they give the shown result.

    ``terms``: (sign, [factor values]) pairs whose signed products sum to the result;
    ``result_places``: the decimals the result is shown with. Returns the factor texts
    term by term, and True when the shown numbers give the shown result within one unit
    of its last digit (else the caller writes ≈ and the rounding note explains). The
    digits are chosen by the package's display policy (:meth:`Display.fit`).
    """
    flat = [f for _, factors in terms for f in factors]
    sizes = [len(factors) for _, factors in terms]
    signs = [sign for sign, _ in terms]
    exact = sum((sign * _product(to_decimal(f, 60) for f in factors) for sign, factors in terms),
                Decimal(0))

    def combine(values: list[Decimal]) -> Decimal:
        total, i = Decimal(0), 0
        for sign, n in zip(signs, sizes, strict=True):
            total += sign * _product(values[i:i + n])
            i += n
        return total

    line = Display().fit(flat, exact, combine, result_places=result_places)
    texts, i = [], 0
    for n in sizes:
        texts.append(list(line.operands[i:i + n]))
        i += n
    return texts, not line.approx


def _product(values) -> Decimal:
    out = Decimal(1)
    with localcontext() as ctx:
        ctx.prec = 80
        for v in values:
            out *= v
    return out
