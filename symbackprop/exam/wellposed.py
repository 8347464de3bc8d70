"""Well-posedness: the rules a variant must pass before a student sees it.

A variant is redrawn when one of these fires (R/exams calls the loop "stress testing"):

* ``kink``: a gate within :data:`KINK_MARGIN` of its kink (the op table's
  :attr:`~symbackprop.ops.Kinks.distance`: a relu or |x| input within 0.05 of 0, the two inputs
  of a max or min gate closer than 0.1), before or after the update: there a student's
  rounded intermediate could land on the other side of the kink;
* ``saturated``: a gate deeper than :data:`SATURATION` into a flat tail (the op table's
  :attr:`~symbackprop.ops.Kinks.saturation`: a sigmoid input with |z| > 4, where the gradient
  vanishes and every answer rounds alike);
* ``zero``: an answer that rounds to 0 at the precision asked, unless the question is
  about a gradient that is exactly 0 by the gate pattern (the losing input of a max);
* ``unchanged``: an asked value after the update (``b1_new[1]``, ``E_new``) that equals,
  at the precision asked, the value before it (the parameter as the problem gives it,
  the node's value from the first pass), or an asked updated parameter whose gradient
  rounds to 0 there: the answer can be copied from the sheet, so the question tests
  nothing (a bias behind a dead relu unit keeps its given value);
* ``size``: an answer larger than :data:`LARGEST` (not a number to compute by hand), or
  too small to show the significant digits its question asks (3 unless it says
  ``significant``) within :data:`~.precision.MAX_DECIMALS` places: a 1e-8 is never asked
  as 0.00000001 (:func:`.precision.too_few_digits`);
* ``collision``: a multiple-choice question with fewer than four choices distinct at the
  precision asked;
* ``duplicate``: the same numbers as an earlier variant of the exam;
* ``undefined``: a drawn value the problem cannot be evaluated at (a log of a negative
  number, a value beyond 10^300);
* ``constraint 'NAME'``: a condition of the exercise file's ``[constraints]`` is false.

:func:`check_gates` reads the gates from the op table (:mod:`symbackprop.ops`), so it
covers every graph, whatever its family.
"""

from __future__ import annotations

import sympy as sp

from .. import ops
from ..answerkey import rounded
from ..keys import Kind, parse_key

KINK_MARGIN = 0.05
SATURATION = 4.0
LARGEST = 1000.0

RULES = ("kink", "saturated", "zero", "unchanged", "size", "collision", "duplicate", "undefined")


class Rejected(Exception):
    """A draw that breaks a rule; ``rule`` is one of :data:`RULES`."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


def gate_inputs(graph, values: dict):
    """(node name, op, argument values as floats) for every gate in the graph that has a
    kink or saturates, at the given forward values."""
    env = {sp.Symbol(n, real=True): v for n, v in values.items()}
    for node in graph.nodes:
        for sub in sp.preorder_traversal(node.expr):
            found = ops.classify(sub) if isinstance(sub, sp.Basic) else None
            if found is None or (found[0].kinks.distance is None and found[0].kinks.saturation is None):
                continue
            op, args = found
            yield node.name, op, tuple(float(a.xreplace(env)) for a in args)


def gate_problems(graph, values: dict):
    """(rule, what is wrong in words) for every gate near its kink or saturated."""
    for name, op, args in gate_inputs(graph, values):
        shown = ", ".join(f"{a:.4f}" for a in args)
        inputs = "input" if len(args) == 1 else "inputs"
        if op.kinks.distance is not None and op.kinks.distance(args) < KINK_MARGIN:
            yield "kink", f"{name}: {op.name} {inputs} {shown}"
        if op.kinks.saturation is not None and op.kinks.saturation(args) > SATURATION:
            yield "saturated", f"{name}: {op.name} {inputs} {shown}"


def check_gates(graph, *passes: dict) -> None:
    """Raise :class:`Rejected` for a gate near its kink or saturated, at each forward
    pass given (values by name)."""
    for values in passes:
        for rule, detail in gate_problems(graph, values):
            raise Rejected(rule, detail)


def check_saturation(value: float, where: str) -> None:
    """The same rule for a sigmoid written out as 1/(1 + e^-z) (the neuron as gates)."""
    if abs(value) > SATURATION:
        raise Rejected("saturated", f"{where}: sigmoid input {value:.4f}")


def check_unchanged(key: str, answer, solution, decimals: int) -> None:
    """The ``unchanged`` rule for one asked quantity (a claim key) and its exact answer.

    Only values after the update are judged: a gradient or forward value that happens to
    equal a given number still has to be worked out (df/dx = z for f = (x + y)z is the
    point of the exercise), but an updated value equal to the value before it does not.
    """
    parsed = parse_key(key, solution.key_names)
    if parsed.kind != Kind.AFTER:
        return
    before = solution.values[parsed.name]
    if rounded(answer, decimals) == rounded(before, decimals):
        raise Rejected("unchanged", f"{key} = {float(answer):.6g}, as before the update")
    if solution.graph.is_leaf(parsed.name):
        gradient = solution.gradients[parsed.name]
        if rounded(gradient, decimals) == 0:
            raise Rejected("unchanged", f"d{solution.output}/d{parsed.name} = "
                           f"{float(gradient):.3g} rounds to 0: {key} is its given value")
