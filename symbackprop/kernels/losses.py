"""The last layer of a network at matrix level: the loss per sample and δ_L = dL/dz_L.

The formulas are elementwise over the output matrix, whatever its layout; ``class_sum``
adds up the outputs of each sample, giving one number per sample.

Where the gradient comes from:

* For the losses that are a sum over outputs of one term each (half_sse, sse, mse,
  bce, cce), the loss is the registered term (:mod:`symbackprop.losses`) lifted to the
  output matrix, and dL/da is *derived*, not written: the scalar loss node that the
  worked solution uses (:func:`symbackprop.losses.loss_expression`) is differentiated by the
  op table's local rules (:func:`symbackprop.derive.local_partials`), and the partial
  for output j, a function of a_j and y_j only, is read as an elementwise formula over
  the whole matrix. Then δ_L = dL/da ⊙ act'(z_L), act' from the op table too (BP1).
* Two pairs are fused where floats break (Lesson 5's cross-entropy discussion):
  sigmoid with bce has loss softplus(z) − y z and δ_L = a − y (log σ(z) is −∞ in
  floats once σ(z) rounds to 0 or 1); softmax with cce has loss Σ y (lse(z) − z), with
  log-sum-exp computed stably, and δ_L = (Σ y) a − y, which is a − y for one-hot targets.
* hinge has one class index per sample, so its margins pick a different output in
  each column; it is written here with a one-hot mask T: margins m = a − Σ(T a) + 1,
  loss Σ (1 − T) max(0, m), and the max gate's rule (gradient to the margin where
  m > 0; a tie goes to the first argument, 0, as the op table's convention says).
* softmax with any other loss uses the op table's softmax rule
  ∂a_j/∂z_k = a_j(δ_jk − a_k), which as a vector-Jacobian product is
  δ = a ⊙ (g − Σ_j g_j a_j).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .. import ops
from ..derive import local_partials
from ..functions import softplus, step
from ..graph import Node
from ..losses import LOSSES, loss_expression
from ..network import LINEAR, whole_layer
from ..parse import indexed_name, symbol

class_sum = sp.Function("class_sum")
logsumexp = sp.Function("logsumexp")
onehot = sp.Function("onehot")


@dataclass(frozen=True)
class OutputLayer:
    """What the last layer contributes: forward equations it needs (e.g. the one-hot
    mask), the loss per sample, and δ_L before division by the batch size."""

    extra: list  # [(symbol, expr)]: forward equations before the loss
    per_sample: sp.Expr
    delta: sp.Expr
    note: str
    activation: sp.Expr | None = None  # the last layer's output, when the loss computes it


def _values(loss: str, A, Y, n: int) -> sp.Expr:
    """The loss per sample (forward only) of a separable loss: its registered term for
    one output (:data:`symbackprop.losses.LOSSES`), lifted to the output matrix and
    summed over each sample's outputs."""
    entry = LOSSES[loss]
    factor = entry.scale(n) if entry.scale else None
    total = class_sum(entry.term(A, Y))
    return total if factor is None else factor * total


def lifted_gradient(loss: str, n: int, A, Y) -> sp.Expr:
    """dL/da as an elementwise formula over the output matrix, derived from the op table.

    The scalar loss node over a[0..n-1], y[0..n-1] is differentiated by the engine's
    local rules; the partial for a[0] mentions only a[0] and y[0] (checked for every
    output), and becomes a formula in the matrices ``A`` and ``Y``.
    """
    a = [symbol(indexed_name("a", j)) for j in range(n)]
    y = [symbol(indexed_name("y", j)) for j in range(n)]
    partials = local_partials(Node("L", loss_expression(loss, a, y)))
    lifted = None
    for j in range(n):
        d = partials[a[j].name].xreplace({a[j]: A, y[j]: Y})
        if d.free_symbols - {A, Y}:
            raise ValueError(f"the {loss} loss is not a sum of one term per output")
        if lifted is None:
            lifted = d
        elif sp.simplify(d - lifted) != 0:
            raise ValueError(f"the {loss} loss treats outputs differently")
    return lifted


def _activation_local(act: str, Z, A) -> sp.Expr:
    """act'(z) from the op table, in terms of the layer's output where it can be."""
    if act == LINEAR:
        return sp.S.One
    return ops.OPS[act].partials((Z,), A)[0]


def _fused_cce(n, A, Z, Y) -> OutputLayer:
    total, lse = class_sum(Y), sp.Symbol("lse", real=True)
    return OutputLayer([(lse, logsumexp(Z))], total * lse - class_sum(Y * Z), total * A - Y,
                       "softmax + cce fused: delta = a - y, loss by log-sum-exp",
                       activation=sp.exp(Z - lse))  # softmax from the same lse


def _fused_bce(n, A, Z, Y) -> OutputLayer:
    return OutputLayer([], class_sum(softplus(Z) - Y * Z), A - Y,
                       "sigmoid + bce fused: delta = a - y, loss by softplus")


#: Each loss's fused form with its canonical activation (:attr:`symbackprop.losses.Loss.canonical`).
_FUSED = {"cce": _fused_cce, "bce": _fused_bce}


def output_layer(loss: str, act: str, n: int, A, Z, Y) -> OutputLayer:
    """The last layer's loss and δ_L for this loss and activation (see the module doc)."""
    if act == LOSSES[loss].canonical:
        return _FUSED[loss](n, A, Z, Y)
    extra = []
    if loss == "hinge":
        T = sp.Symbol("T", real=True)  # one-hot mask of each sample's class
        M = sp.Symbol("M", real=True)  # margins
        P = sp.Symbol("P", real=True)  # 1 where a margin is violated, other classes
        extra = [(T, onehot(Y, n)), (M, A - class_sum(T * A) + 1), (P, (1 - T) * step(M))]
        value = class_sum((1 - T) * sp.Max(0, M))
        grad = P - T * class_sum(P)
        note = "hinge: margins against each sample's class"
    else:
        value = _values(loss, A, Y, n)
        grad = lifted_gradient(loss, n, A, Y)
        note = f"{loss}: dL/da from the op table"
    if whole_layer(act):  # a Jacobian: the op table's vector-Jacobian product
        delta = ops.OPS[act].layer.vjp(A, grad, class_sum)
    else:
        delta = grad * _activation_local(act, Z, A)
    return OutputLayer(extra, value, delta, note)


def hidden_local(act: str, Z, A) -> sp.Expr:
    """act'(z_l) of a hidden layer, from the op table (BP2's σ'(z_l))."""
    return _activation_local(act, Z, A)
