"""Scaled dot-product attention in matrix form, forward and backward, with or without
the causal mask.

With ``causal = true`` the graph has the scores s[t][u] and the weights p[t][u] for u ≤ t
only (:mod:`symbackprop.layers.expand`); the handout writes them as whole matrices the way
a course does: S with −∞ above the diagonal, P with exact zeros there (the softmax of −∞),
so that A = P V, ∂L/∂V = Pᵀ δ and the scores' gradients are the usual matrix products.
A row's softmax Jacobian is taken over the row's unmasked entries only: a masked weight is
0 whatever the scores."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ...notation import array_name
from ...parse import indexed_name
from .. import document as d
from ..equations import Equation
from .rules import generic_rule
from .tensors import (
    L,
    Net,
    grad_tex,
    matmul,
    matrix,
    tensor_block,
    tensor_equations,
    vector_line,
)

#: How a masked score is written (the softmax of −∞ is the exact 0 of its weight).
MASKED = r"-\infty"


def _square(array: str, steps: int) -> np.ndarray:
    """The element names of a (steps × steps) array, masked ones included."""
    out = np.empty((steps, steps), dtype=object)
    for t, u in np.ndindex(steps, steps):
        out[t, u] = indexed_name(array, t, u)
    return out


def _kept(layer, t: int, u: int) -> bool:
    return not layer["causal"] or u <= t


def masked_equations(c: Net, layer) -> list[Equation]:
    """The scores with −∞ above the diagonal and the weights with 0 there, each kept
    element claimed under its key (``s1[2][1]``, ``p1[2][1]``)."""
    pos = layer.position
    steps = c.shape(f"q{pos}")[0]
    out = []
    for array, fill in ((f"s{pos}", MASKED), (f"p{pos}", "0")):
        names = _square(array, steps)
        texts = np.empty(names.shape, dtype=object)
        claims = []
        for t, u in np.ndindex(*names.shape):
            if _kept(layer, t, u):
                texts[t, u] = c.text(names[t, u], c.vals)
                claims.append((names[t, u], texts[t, u]))
            else:
                texts[t, u] = fill
        out.append(Equation(array_name(array), [matrix(texts)], elements=claims))
    return out


def causal_forward(c: Net, layer, arrays: list[Equation]) -> list:
    """A causal layer's arrays: the queries, keys and values, the masked scores and
    weights, then the output (``arrays``: q, k, v, a as the other layers write them)."""
    steps = c.shape(f"q{layer.position}")[0]
    masked = tensor_block(masked_equations(c, layer), text=(
        "The scores with the causal mask, −∞ above the diagonal (step t attends to the steps "
        "u ≤ t), and their row softmax: the masked weights are exactly 0"))
    masked.rows.insert(0, rf"&S = \frac{{Q K^{{\mathsf{{T}}}}}}{{\sqrt{{{layer['d']}}}}} + M, "
                          rf"\quad M_{{tu}} = {MASKED}\ \text{{for}}\ u > t, \quad "
                          r"P = \operatorname{softmax}(S)\ \text{by rows}")
    return [tensor_block(arrays[:-1], text="The queries, keys and values:"), masked,
            tensor_block(arrays[-1:], text=f"The output, of shape {steps} × {layer['d']}:")]


def attention_rule(c: Net, layer) -> list:
    """Scaled dot-product attention backward in matrix form: through A = P V to P and V,
    through each row's softmax (its Jacobian, over the unmasked entries), then to Q and K."""
    pos = layer.position
    if c.batched:
        return generic_rule(c, layer)
    causal = layer["causal"]
    q, k, v = (c.names(f"{n}{pos}") for n in ("q", "k", "v"))
    a = c.names(layer.output)
    T, dd = q.shape
    sc, p = _square(f"s{pos}", T), _square(f"p{pos}", T)
    kept = [n for (t, u), n in np.ndenumerate(p) if _kept(layer, t, u)]
    if causal:  # the masked entries: P's exact 0s, the scores' gradients 0, δVᵀ as it is
        p_src = {n: c.vals[n] if _kept(layer, t, u) else 0 for (t, u), n in np.ndenumerate(p)}
        s_src = {n: c.grads[n] if _kept(layer, t, u) else 0 for (t, u), n in np.ndenumerate(sc)}
        dp_src = {n: c.grads[n] if _kept(layer, t, u) else sum(
            (c.grads[a[t, i]] * c.vals[v[u, i]] for i in range(dd)), 0)
            for (t, u), n in np.ndenumerate(p)}
    else:
        p_src, s_src, dp_src = c.vals, c.grads, c.grads
    root = Decimal(dd).sqrt()
    blocks = []
    eqs = [
        vector_line(c, grad_tex("V"), r"P^{\mathsf{T}} \delta",
                     [(p, p_src), (a, c.grads)], v, matmul(T, T, dd, transpose_a=True),
                     lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}"),
        vector_line(c, grad_tex("P"), r"\delta V^{\mathsf{T}}",
                     [(a, c.grads), (v, c.vals)], p, matmul(T, dd, T, transpose_b=True),
                     lambda m: rf"{m[0]} {m[1]}^{{\mathsf{{T}}}}", source=dp_src, claim=kept)]
    blocks.append(d.math_block(eqs, kind="bp", text=(
        f"Attention: δ = ∂L/∂A of layer {pos}, A = P V" + (
            "; P is 0 above the diagonal, so a value gets no gradient from the earlier steps' "
            "outputs, and the entries of ∂L/∂P there meet weights fixed at 0 and go no further"
            if causal else "")),
        math=rf"({T} \times {dd}) = ({T} \times {T})\,({T} \times {dd})"))
    blocks.append(_jacobian_block(c, layer, sc, p))
    if causal:
        rest = [_gradients_masked(c, layer, sc, s_src)]
        text = "Every row the same way (0 above the diagonal: a masked score does not reach the loss):"
    else:
        rest = tensor_equations(c, f"s{pos}", c.grads, grad=True)
        text = "Every row the same way:"

    def scaled(m_, n_, k_, ta):
        inner = matmul(m_, n_, k_, transpose_a=ta)
        return lambda ops: [x / root for x in inner(ops)]
    eqs = [
        vector_line(c, grad_tex("Q"), rf"\frac{{1}}{{\sqrt{{{dd}}}}} \frac{{\partial L}}"
                     rf"{{\partial S}} K", [(sc, s_src), (k, c.vals)], q,
                     scaled(T, T, dd, False),
                     lambda m: rf"\frac{{1}}{{\sqrt{{{dd}}}}} {m[0]} {m[1]}"),
        vector_line(c, grad_tex("K"), rf"\frac{{1}}{{\sqrt{{{dd}}}}} \left(\frac{{\partial"
                     rf" L}}{{\partial S}}\right)^{{\mathsf{{T}}}} Q",
                     [(sc, s_src), (q, c.vals)], k, scaled(T, T, dd, True),
                     lambda m: rf"\frac{{1}}{{\sqrt{{{dd}}}}} {m[0]}^{{\mathsf{{T}}}} {m[1]}")]
    blocks.append(tensor_block(rest, text=text))
    blocks.append(d.math_block(eqs, kind="bp", text=(
        f"The scores S = Q Kᵀ/√{dd}: to the queries and the keys")))
    return blocks + generic_rule(c, layer, below=True)


def _jacobian_block(c: Net, layer, sc, p) -> d.Block:
    """One row of scores through its softmax: the Jacobian over the row's unmasked
    entries (the first row of a plain layer; the second of a causal one, the first whose
    softmax has more than one entry)."""
    pos, T = layer.position, sc.shape[0]
    row = 1 if layer["causal"] and T > 1 else 0
    cols = [u for u in range(T) if _kept(layer, row, u)]
    n = len(cols)
    row_p, row_s = [p[row, u] for u in cols], [sc[row, u] for u in cols]
    jac = [[c.solution.derivative(row_p[i], row_s[j]) for j in range(n)] for i in range(n)]
    jn = [f"J{i}_{j}" for i in range(n) for j in range(n)]
    src = dict(zip(jn, [x for r in jac for x in r], strict=True))
    label = f"_{{{row + 1}}}"
    jeq = vector_line(c, grad_tex(array_name(f"s{pos}") + label),
                       rf"J^{{\mathsf{{T}}}} \frac{{\partial L}}{{\partial p{label}}}",
                       [(np.array(jn, dtype=object).reshape(n, n), src), (row_p, c.grads)],
                       row_s, matmul(n, n, 1, transpose_a=True),
                       lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}")
    if not layer["causal"]:
        return d.math_block([jeq], kind="bp", text=(
            "Each row of scores through its softmax: the Jacobian of row 1, "
            "J_uw = p_u([u = w] − p_w)"),
            math=r"J = \operatorname{diag}(p_{1}) - p_{1} p_{1}^{\mathsf{T}}")
    return d.math_block([jeq], kind="bp", text=(
        f"Each row of scores through its softmax over its unmasked entries only (a masked "
        f"weight is 0 whatever the scores: it has no row or column in the Jacobian); row "
        f"{row + 1} keeps u ≤ {row + 1}, J_uw = p_u([u = w] − p_w)"),
        math=rf"J = \operatorname{{diag}}(p{label}) - p{label} p{label}^{{\mathsf{{T}}}},\ "
             rf"p{label} = \left({', '.join(f'p_{{{row + 1}{u + 1}}}' for u in cols)}\right)")


def _gradients_masked(c: Net, layer, sc, s_src) -> Equation:
    """∂L/∂S with the masked entries 0; the kept ones claimed under their keys."""
    texts = np.empty(sc.shape, dtype=object)
    claims = []
    for (t, u), name in np.ndenumerate(sc):
        texts[t, u] = c.display.text(s_src[name])
        if _kept(layer, t, u):
            claims.append((f"d{L}/d{name}", texts[t, u]))
    return Equation(grad_tex(array_name(f"s{layer.position}")), [matrix(texts)],
                    elements=claims)
