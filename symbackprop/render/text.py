"""The plain-text account of a solution: what ``symbackprop solve`` prints by default.

It is a printer of the one worked solution (:func:`.worked.worked_solution`, the
document the LaTeX, Markdown and HTML pages print): the same sections, equations and
numbers, by the same display policy, with the math spelled for a terminal by
:mod:`.texmath` (``dE/dw5 = dE/dy dy/dz_c dz_c/dw5 = ... = -0.0534``). The layout is the
template's (``templates/solution.txt.j2``); :func:`expression` is the op table's plain
spelling of an expression (σ(z), |x|, [z > 0]).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from .. import ops
from ..display import Display
from ..numbers import DEFAULT_PLACES
from ..parse import SourcePrinter, WrittenNumber
from ..printable import printable
from ..solution import Solution
from .environment import markdown_environment
from .printer import coefficient_first, split_fraction
from .texmath import Plain, names_of
from .worked import worked_solution


class _TextPrinter(SourcePrinter):
    """The source printer (the user's term order, max/min), with each function written
    as the op table's plain text gives it for reading (σ(z), |x|, [z > 0])."""

    # For reading, sums and products are flat: ((a + b) + c) is a + b + c. (Only here:
    # the source printer keeps the nesting, which staging and answer keys rely on.)

    def _print_Add(self, expr, order=None):
        flat = ops.flat_args(expr)
        return super()._print_Add(sp.Add(*flat, evaluate=False) if len(flat) != len(expr.args) else expr, order)

    # A product reads as a teacher writes it: the coefficient first (2*w, 0.2*x, -b/2),
    # never "w*2", "x/5" or "- 1*b/2".

    def _print_Mul(self, expr):
        if not isinstance(expr, sp.Mul):
            return super()._print_Mul(expr)
        flat = coefficient_first(ops.flat_args(expr))
        head = flat[0]
        if len(flat) > 1 and head.is_Number:
            top, bottom = split_fraction(flat[1:])
            if head == -1 and top:
                return f"-{self._factors(top, bottom)}"  # -b/2, never "- 1*b/2"
            if isinstance(head, WrittenNumber) or head.is_Integer and head != -1:
                return self._factors([head, *top], bottom)  # 2*w, 0.2*x, 0.2/x
        top, bottom = split_fraction(flat)
        if any(isinstance(b, WrittenNumber) for b in bottom):
            return self._factors(top, bottom)  # x/0.5, not x/(1/2)
        if flat == list(expr.args):
            return super()._print_Mul(expr)
        return super()._print_Mul(sp.Mul(*flat, evaluate=False))

    def _factors(self, top: list, bottom: list) -> str:
        """top[0]*top[1]*.../(bottom[0]*...), each factor parenthesized as needed."""
        def product(items):
            return "*".join(self._print(f) if f.is_Number and i == 0 else
                            self.parenthesize(f, PRECEDENCE["Mul"]) for i, f in enumerate(items))
        text = product(top) if top else "1"
        if not bottom:
            return text
        under = "*".join(self._print(f) if f.is_Number else self.parenthesize(f, PRECEDENCE["Mul"])
                         for f in bottom)
        return f"{text}/({under})" if len(bottom) > 1 else f"{text}/{under}"


def _text_printer(template: str):
    def _print(self, expr):
        return ops.fill(template, [self._print(a) for a in ops.classify(expr)[1]])
    return _print


for _cls, _name in ops.FUNCTION_CLASSES.items():
    if ops.OPS[_name].notation.text is not None:
        setattr(_TextPrinter, f"_print_{_cls.__name__}", _text_printer(ops.OPS[_name].notation.text))

_PRINTER = _TextPrinter()


def expression(expr) -> str:
    return _PRINTER.doprint(expr)


def render_text(solution: Solution, places: Display | int = DEFAULT_PLACES,
                all_nodes: bool = False, show: list[str] | None = None) -> str:
    """The whole plain-text account: the worked solution's document (the same
    gradients, chosen by ``all_nodes`` and ``show``, the same numbers by the one display
    policy) printed for a terminal."""
    doc = worked_solution(solution, all_nodes=all_nodes, display=Display.of(places), show=show)
    shown = solution.sample_solution(0) if solution.samples else solution
    plain = Plain(names_of(shown))
    title = printable(doc.title)  # one line, control characters quoted
    return markdown_environment().get_template("solution.txt.j2").render(
        doc=doc, title=title, m=plain, lines=lambda block: block_lines(block, plain),
        table=lambda header, rows: table_lines(header, rows, plain),
        text=printable).rstrip("\n") + "\n"


def block_lines(block, plain: Plain) -> list[str]:
    """The math of a block, line by line: each equation laid out for a terminal, or
    (where the block has rows only) each row, a continuation row indented."""
    if block.equations:
        return [line for eq in block.equations for line in eq.text_lines(plain)]
    return [("    " if row.lstrip().startswith("&") else "") + plain(row) for row in block.rows]


def table_lines(header: list[str], rows: list[list[str]], plain: Plain) -> list[str]:
    """A table's cells in plain text, each column right-aligned to its widest cell."""
    cells = [[plain(c) for c in header]] + [[plain(c) for c in row] for row in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]
    return ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
