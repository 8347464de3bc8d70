"""Well-posedness: the rules a variant must pass before a student sees it.

A variant is redrawn when one of these fires (R/exams calls the loop "stress testing"):

* ``kink``: a relu input within :data:`KINK_MARGIN` of 0, or the two inputs of a max or
  min gate closer than :data:`TIE_MARGIN`, before or after the update: there a student's
  rounded intermediate could land on the other side of the kink;
* ``saturated``: a sigmoid input with |z| > :data:`SATURATION` (the gradient vanishes and
  every answer rounds alike);
* ``zero``: an answer that rounds to 0 at the precision asked, unless the question is
  about a gradient that is exactly 0 by the gate pattern (the losing input of a max);
* ``unchanged``: an asked value after the update (``b1_new[1]``, ``E_new``) that equals,
  at the precision asked, the value before it (the parameter as the problem gives it,
  the node's value from the first pass), or an asked updated parameter whose gradient
  rounds to 0 there: the answer can be copied from the sheet, so the question tests
  nothing (a bias behind a dead relu unit keeps its given value);
* ``size``: an answer larger than :data:`LARGEST` (not a number to compute by hand);
* ``collision``: a multiple-choice question with fewer than four choices distinct at the
  precision asked;
* ``duplicate``: the same numbers as an earlier variant of the exam.

:func:`check_gates` reads the gates from the op table (:mod:`symbackprop.ops`), so it
covers every graph, whatever its family.
"""

from __future__ import annotations

import sympy as sp

from .. import ops
from ..keys import parse_key
from .model import rounded

KINK_MARGIN = 0.05
TIE_MARGIN = 0.1
SATURATION = 4.0
LARGEST = 1000.0

RULES = ("kink", "saturated", "zero", "unchanged", "size", "collision", "duplicate")


class Rejected(Exception):
    """A draw that breaks a rule; ``rule`` is one of :data:`RULES`."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


def gate_inputs(graph, values: dict):
    """(node name, op name, argument values as floats) for every kinked or saturating
    gate in the graph, at the given forward values."""
    env = {sp.Symbol(n, real=True): v for n, v in values.items()}
    for node in graph.nodes:
        for sub in sp.preorder_traversal(node.expr):
            found = ops.classify(sub) if isinstance(sub, sp.Basic) else None
            if found is None or found[0].name not in ("relu", "max", "min", "abs", "sigmoid"):
                continue
            op, args = found
            yield node.name, op.name, tuple(float(a.xreplace(env)) for a in args)


def check_gates(graph, *passes: dict) -> None:
    """Raise :class:`Rejected` for a gate near its kink or a saturated sigmoid, at each
    forward pass given (values by name)."""
    for values in passes:
        for name, op, args in gate_inputs(graph, values):
            if op in ("relu", "abs") and abs(args[0]) < KINK_MARGIN:
                raise Rejected("kink", f"{name}: {op} input {args[0]:.4f}")
            if op in ("max", "min") and abs(args[0] - args[1]) < TIE_MARGIN:
                raise Rejected("kink", f"{name}: {op} inputs {args[0]:.4f}, {args[1]:.4f}")
            if op == "sigmoid" and abs(args[0]) > SATURATION:
                raise Rejected("saturated", f"{name}: sigmoid input {args[0]:.4f}")


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
    if parsed.kind != "after":
        return
    before = solution.values[parsed.name]
    if rounded(answer, decimals) == rounded(before, decimals):
        raise Rejected("unchanged", f"{key} = {float(answer):.6g}, as before the update")
    if solution.graph.is_leaf(parsed.name):
        gradient = solution.gradients[parsed.name]
        if rounded(gradient, decimals) == 0:
            raise Rejected("unchanged", f"d{solution.output}/d{parsed.name} = "
                           f"{float(gradient):.3g} rounds to 0: {key} is its given value")
