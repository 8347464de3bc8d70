"""The one table of losses of the network form: what each is, as the engine, the
kernels and the renderer need it.

A loss is registered once with

* ``formula``: how it reads in plain text (help, errors, the text account);
* ``tex``: its LaTeX over a whole output vector, with ``a^{[N]}`` for the last layer's
  output (the renderer fills in N), for outputs too long to write element by element;
* ``term`` and ``scale``: for the losses that are a sum of one term per output, the term
  for output j, built from the op table's gates (``ops.build``), and the factor in
  front of the sum (a function of the number of outputs, None for none). The scalar
  graph of the worked solution (:func:`loss_expression`) and the matrix-level kernels
  (:mod:`symbackprop.kernels.losses`, which lift the same term to whole matrices) both
  read them, so a loss is written once;
* the multiclass hinge loss is not such a sum (every term refers to the true class's
  score), so it has its own builder here and in the kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from . import ops


def _neg(e):
    return ops.build("neg", e)


def _one_minus(e):
    return ops.build("add", sp.S.One, _neg(e))


@dataclass(frozen=True)
class Loss:
    """One loss of the network form (see the module docstring)."""

    name: str
    formula: str
    tex: str
    term: Callable | None = None  # (a_j, y_j) -> the term of output j
    scale: Callable | None = None  # n -> the factor in front of the sum (None: none)
    #: the output activation whose derivative cancels the loss's division, δ = a − y
    #: (sigmoid for bce, softmax for cce); the kernels fuse the pair (kernels/losses.py)
    canonical: str | None = None


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    Loss("half_sse", "½ Σ (y − a)²",
         r"\tfrac{1}{2} \sum_{j} \left(y_{j} - a^{[N]}_{j}\right)^{2}",
         term=lambda a, y: ops.build("pow", ops.build("add", y, _neg(a)), sp.Integer(2)),
         scale=lambda n: sp.Rational(1, 2)),
    Loss("sse", "Σ (y − a)²",
         r"\sum_{j} \left(y_{j} - a^{[N]}_{j}\right)^{2}",
         term=lambda a, y: ops.build("pow", ops.build("add", y, _neg(a)), sp.Integer(2))),
    Loss("mse", "(1/n) Σ (y − a)²",
         r"\tfrac{1}{n} \sum_{j} \left(y_{j} - a^{[N]}_{j}\right)^{2}",
         term=lambda a, y: ops.build("pow", ops.build("add", y, _neg(a)), sp.Integer(2)),
         scale=lambda n: sp.Rational(1, n) if n > 1 else None),
    Loss("bce", "−Σ [y log a + (1 − y) log(1 − a)]",
         r"-\sum_{j} \left[y_{j} \log a^{[N]}_{j} + (1 - y_{j}) \log\left(1 - a^{[N]}_{j}\right)\right]",
         term=lambda a, y: ops.build("add", ops.build("mul", y, ops.build("log", a)),
                                     ops.build("mul", _one_minus(y), ops.build("log", _one_minus(a)))),
         scale=lambda n: sp.S.NegativeOne, canonical="sigmoid"),
    Loss("cce", "−Σ y log a",
         r"-\sum_{j} y_{j} \log a^{[N]}_{j}",
         term=lambda a, y: ops.build("mul", y, ops.build("log", a)),
         scale=lambda n: sp.S.NegativeOne, canonical="softmax"),
    Loss("hinge", "Σ_{j≠y} max(0, s_j − s_y + 1)",
         r"\sum_{j \ne y} \max\left(0, a^{[N]}_{j} - a^{[N]}_{y} + 1\right)"),
)}


def _sum(terms):
    total = terms[0]
    for t in terms[1:]:
        total = ops.build("add", total, t)
    return total


def scaled(factor, total):
    """``factor · total`` as the lectures write it: −Σ as a negation, 1 left out."""
    if factor is None or factor == 1:
        return total
    if factor == -1:
        return _neg(total)
    return ops.build("mul", factor, total)


def loss_expression(name: str, a: list, y: list, y_class: int | None = None) -> sp.Expr:
    """The loss node's expression over the outputs ``a`` and targets ``y`` (scalar
    symbols), built from the op table's gates, in the form the lectures write it."""
    loss = LOSSES[name]
    if loss.term is not None:
        n = len(a)
        total = _sum([loss.term(a[j], y[j]) for j in range(n)])
        return scaled(loss.scale(n) if loss.scale else None, total)
    # hinge: the multiclass SVM loss on the last layer's scores
    margins = [ops.build("max", sp.S.Zero,
                         ops.build("add", ops.build("add", a[j], _neg(a[y_class])), sp.S.One))
               for j in range(len(a)) if j != y_class]
    return _sum(margins)
