"""Notation: names and expressions in LaTeX the way the lectures write them.

The names are the core's (:func:`symbackprop.notation.latex_name`: ``w10`` -> w_{10},
``W1[0][1]`` -> W^{[1]}_{12}, read by the loader too); :class:`NotationPrinter`, a SymPy
``LatexPrinter``, prints whole expressions with those names, in the user's term order
(x_1 w_1 + x_2 w_3, not SymPy's sorted w_1 x_1 + w_3 x_2).

How each operation prints is read from the op table (:attr:`symbackprop.ops.Notation.latex`):
this printer only dispatches to it, so there is no second table of notation. Element
indices are shown from 1, as on paper: the claim key ``W1[0][1]`` is W^{[1]}_{12}.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from .. import ops
from ..notation import latex_name
from ..parse import WrittenNumber


def number_tex(text: str) -> str:
    """A number as text (digits, sign, point, exponent) in math: 1.4013e+65 as
    1.4013 \\cdot 10^{65}. Both a computed number and one a student wrote go through here."""
    if "e" in text.lower():
        mantissa, exponent = text.lower().split("e")
        return f"{mantissa} \\cdot 10^{{{int(exponent)}}}"
    return text


def partial(top: str, bottom: str) -> str:
    r"""\frac{\partial E}{\partial w_{5}}: d top / d bottom as the lectures write it."""
    return rf"\frac{{\partial {latex_name(top)}}}{{\partial {latex_name(bottom)}}}"


def held_partial(top: str, bottom: str, held=()) -> str:
    r"""d top / d bottom with ``held`` fixed, as a physicist writes a partial at
    constant variables: \left.\frac{\partial h_3}{\partial w}\right|_{h_2}
    (docs/claim-keys.md); without ``held``, :func:`partial`."""
    if not held:
        return partial(top, bottom)
    fixed = ", ".join(latex_name(h) for h in held)
    return rf"\left.{partial(top, bottom)}\right|_{{{fixed}}}"


def sample_tex(tex: str, sample) -> str:
    """``E^{(2)}``: a quantity of sample 2 of a mini-batch (the training-example index)."""
    return ("{" + tex + "}" if "^" in tex else tex) + f"^{{({sample})}}"


def partial_inline(top: str, bottom: str) -> str:
    r"""\partial E / \partial w_{5}: the same, for running text and table cells."""
    return rf"\partial {latex_name(top)}/\partial {latex_name(bottom)}"


def key_tex(key, shared=()) -> str:
    r"""A parsed claim key the lectures' way, for every kind of key: a derivative as a
    fraction of partials, ``w1_new`` as w_1^{new}, ``w1@2`` as w_1^{(2)} (after step 2),
    an optimizer's state ``m_w1`` as m_{w_1}; one sample's ``dE/dy@s2`` as
    \partial E^{(2)}/\partial y^{(2)}, the names in ``shared`` (the parameters, the same
    in every sample) without the index."""
    kind = str(key.kind)
    if kind == "partial":
        return held_partial(key.name, key.wrt, key.held)
    if kind == "sample":  # a sample's quantities carry its index; its parameters do not
        top, wrt = (latex_name(n) if n in shared else sample_tex(latex_name(n), key.sample)
                    for n in (key.name, key.wrt or key.name))
        if key.wrt is None:
            return top
        d = rf"\frac{{\partial {top}}}{{\partial {wrt}}}"
        return rf"\left.{d}\right|_{{{', '.join(latex_name(h) for h in key.held)}}}" \
            if key.held else d
    if kind == "derivative":
        return partial(key.name, key.wrt)
    if kind == "after":
        mark = r"\mathrm{new}" if key.step is None else f"({key.step})"
        return f"{{{latex_name(key.name)}}}^{{{mark}}}"
    if kind == "state":
        return f"{key.slot}_{{{latex_name(key.name)}}}"
    return latex_name(key.name)


_DERIVATIVE_IN_TEXT = re.compile(
    r"\bd([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*)/d([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*)")


def derivatives_in_math(text: str, escape) -> str:
    """Running text with its derivatives set as math: ``dy_hat/dz`` becomes
    \\(\\partial \\hat{y}/\\partial z\\); ``escape`` makes the rest safe for the
    target (TeX escaping for a document, identity for text that is escaped later)."""
    out, last = [], 0
    for m in _DERIVATIVE_IN_TEXT.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(rf"\({partial_inline(m.group(1), m.group(2))}\)")
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def op_latex(op: ops.Op, args: list[str]) -> str:
    """An op's LaTeX template (:attr:`ops.Notation.latex`) filled with its arguments' LaTeX
    (:func:`ops.fill`)."""
    return _tight(ops.fill(op.notation.latex, args))


# A function name and its \left( would be set apart by a thin space (TeX's spacing
# between an ordinary or operator atom and an inner one): σ (z) instead of σ(z).
_FUNCTION_PAREN = re.compile(r"^(\\[A-Za-z]+|\\operatorname\{(?:\w|\\_)+\})\\left\(")


def _tight(text: str) -> str:
    return _FUNCTION_PAREN.sub(lambda m: m.group(1) + r"\!\left(", text, count=1)


def _written_divisor(expr) -> bool:
    return (isinstance(expr, sp.Pow) and expr.exp == -1
            and isinstance(expr.base, WrittenNumber))


def split_fraction(factors: list) -> tuple[list, list]:
    """(numerator factors, denominator factors) of a product: x/y**2 -> [x], [y**2]."""
    top, bottom = [], []
    for f in factors:
        if f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
            bottom.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp, evaluate=False))
        else:
            top.append(f)
    return top, bottom


def coefficient_first(factors: list) -> list:
    """The factors of a product with its numbers first, as a teacher writes a
    coefficient (2w, 0.2x), never after a name where the digit reads as a subscript
    (``w*2`` is 2w, not "w2"). The rest keep the order written. A product of numbers
    only is left as written."""
    numbers = [f for f in factors if f.is_Number]
    if not numbers or len(numbers) == len(factors):
        return list(factors)
    return numbers + [f for f in factors if not f.is_Number]


class NotationPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the lectures' names, the user's term order, and each
    function printed from the op table."""

    printmethod = "_symbackprop_latex"

    def __init__(self, settings=None):
        super().__init__({"order": "none", **(settings or {})})

    # Names ------------------------------------------------------------------------------

    def _print_Symbol(self, expr, style="plain"):
        return latex_name(expr.name)

    # Sums and products keep the user's order and read flat: ((a + b) + c) is a + b + c.

    def _print_Add(self, expr, order=None):
        flat = ops.flat_args(expr)
        absorbed = [self._absorbed_sign(t) for t in flat]
        if len(flat) == len(expr.args) and not any(a is not None for a in absorbed):
            tex = super()._print_Add(expr, order)
        else:
            terms = [t if a is None else a for t, a in zip(flat, absorbed, strict=True)]
            tex = super()._print_Add(sp.Add(*terms, evaluate=False), order)
        # a term whose coefficient came first with its sign (x*(-3) as -3x): a - 3x
        return re.sub(r" \+ - ?", " - ", tex)

    def _absorbed_sign(self, expr):
        """A negated product whose one sum factor reads with a leading minus, with the
        sign taken into that sum: -(-1 + y)/(1 - ŷ) as (1 - y)/(1 - ŷ), so that SymPy's
        derivative of binary cross-entropy reads -y/ŷ + (1 - y)/(1 - ŷ) as the lectures
        write it. None when there is no such sum or the flipped one reads no better."""
        if not isinstance(expr, sp.Mul):
            return None
        coeff, factors = expr.as_coeff_mul()
        sums = [f for f in factors if isinstance(f, sp.Add)]
        if (coeff != -1 or len(factors) < 2 or len(sums) != 1  # -(x + y) alone: a neg gate
                or not self._print(sums[0]).startswith("-")):
            return None
        flipped = sp.Add(*[-t for t in sums[0].args], evaluate=False)
        if self._print(flipped).startswith("-"):
            return None
        return sp.Mul(*[flipped if f is sums[0] else f for f in factors], evaluate=False)

    def _print_Mul(self, expr):
        if not isinstance(expr, sp.Mul):  # SymPy prints x^{-1} through here
            return super()._print_Mul(expr)
        absorbed = self._absorbed_sign(expr)
        if absorbed is not None:
            return self._print(absorbed)
        if len(expr.args) == 2 and expr.args[0] == -1 and isinstance(expr.args[1], sp.Add):
            return rf"-\left({self._print(expr.args[1])}\right)"  # the neg gate of a sum
        flat = coefficient_first(ops.flat_args(expr))
        over = [f for f in flat if _written_divisor(f)]
        if over:  # x/0.5: the divisor as written, not 1/(1/2)
            top = [f for f in flat if not _written_divisor(f)] or [sp.S.One]
            bottom = [f.base for f in over]
            return (rf"\frac{{{self._print(sp.Mul(*top, evaluate=False))}}}"
                    rf"{{{self._print(sp.Mul(*bottom, evaluate=False))}}}")
        if isinstance(flat[0], WrittenNumber | sp.Float) and len(flat) > 1:
            top, bottom = split_fraction(flat[1:])
            if bottom:  # 0.2/x as \frac{0.2}{x}
                return (rf"\frac{{{self._print(sp.Mul(flat[0], *top, evaluate=False))}}}"
                        rf"{{{self._print(sp.Mul(*bottom, evaluate=False))}}}")
            body = (self.parenthesize(top[0], PRECEDENCE["Mul"]) if len(top) == 1
                    else self._print(sp.Mul(*top, evaluate=False)))
            # 0.2 x, never \frac{x}{5}; between two numbers a dot (0.5 \cdot 0.0625)
            numeric = body[:1].isdigit() or body.startswith(("(", "-"))
            sep = self._settings["mul_symbol_latex" + ("_numbers" if numeric else "")]
            return f"{self._print(flat[0])}{sep}{body}"
        if flat == list(expr.args):
            return super()._print_Mul(expr)
        return super()._print_Mul(sp.Mul(*flat, evaluate=False))

    def _print_WrittenNumber(self, expr):
        return number_tex(expr.text)

    # Functions, from the op table -------------------------------------------------------

    def _print_op(self, op: ops.Op, args) -> str:
        return op_latex(op, [self._print_argument(a) for a in args])

    def _print_argument(self, arg) -> str:
        """A function's argument: it sits in the function's own brackets."""
        return self._print(arg)

    def _print_Pow(self, expr):
        if _written_divisor(expr):
            return rf"\frac{{1}}{{{self._print(expr.base)}}}"
        op, args = ops.classify(expr)
        if op.notation.function and not isinstance(expr.base, sp.Number):  # √x
            return self._print_op(op, args)
        return super()._print_Pow(expr)

    @staticmethod
    def _power(text: str, exp) -> str:
        return f"{{{text}}}^{{{exp}}}" if exp is not None else text


def _function_printer(name: str):
    op = ops.OPS[name]

    def _print(self, expr, exp=None):
        text = self._print_op(op, ops.classify(expr)[1])
        if op.notation.subscript is not None:  # softmax's element index
            text = f"{text}_{{{op.notation.subscript(expr)}}}"
        return self._power(text, exp)
    return _print


# One printing method per function class of the op table (exp, log, Abs, sigmoid, tanh,
# relu, maximum, minimum, softmax, step, ...), generated from it.
for _cls, _name in ops.FUNCTION_CLASSES.items():
    setattr(NotationPrinter, f"_print_{_cls.__name__}", _function_printer(_name))


_PRINTER = NotationPrinter()


def latex(expr) -> str:
    """An expression (or number) in the lectures' notation."""
    return _PRINTER.doprint(sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr)


# The classes whose printing the op table decides, checked by the tests.
PRINTED_FROM_TABLE = tuple(ops.FUNCTION_CLASSES)


class _SubstitutingPrinter(NotationPrinter):
    """The notation printer with numbers in place of names, products written with a dot
    (0.23 \\cdot 0.1 + 0.82 \\cdot 0.4), negative numbers in parentheses."""

    def __init__(self, numbers):
        super().__init__({"mul_symbol": "dot"})
        self.numbers = numbers

    def _print_Symbol(self, expr, style="plain"):
        text = self.numbers.get(expr.name)
        if text is None:
            return latex_name(expr.name)
        compound = text.startswith("-") or " - " in text or " + " in text
        return f"({text})" if compound else text

    def _print_argument(self, arg) -> str:
        if isinstance(arg, sp.Symbol) and arg.name in self.numbers:
            return self.numbers[arg.name]  # log(1 - 4.9e-55), not log((1 - 4.9e-55))
        return self._print(arg)


def substituted(expr, numbers) -> str:
    """``expr`` with each name that ``numbers`` maps (name -> number as text) replaced
    by that number: the middle side of ``z_a = x_1 w_1 + ... = 0.23 \\cdot 0.1 + ...``."""
    return _SubstitutingPrinter(numbers).doprint(expr)
