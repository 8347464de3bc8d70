"""The LSTM cell step by step and scaled dot-product attention in matrix form."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ...notation import array_name
from .. import document as d
from .rules import generic_rule
from .tensors import (
    Net,
    grad_claims,
    grad_tex,
    hadamard,
    locals_of,
    matmul,
    matrix,
    tensor_block,
    tensor_equations,
    vector_line,
)


def lstm_rule(c: Net, layer) -> list:
    """The LSTM cell backward, step by step from the last: the cell's gradient through
    the state and through the next step's forget gate, then each gate's."""
    pos = layer.position
    if c.batched:
        return generic_rule(c, layer)
    g = {name: c.names(f"{name}{pos}") for name in ("i", "f", "g", "o", "c", "h")}
    steps = g["h"].shape[0]
    blocks = [d.Block(kind="bp", text=(
        "The LSTM cell, step by step from the last: the cell's gradient comes through its "
        "state h and through the next step's forget gate; each gate's from the cell"), rows=[
        r"&\frac{\partial L}{\partial c_{t}} = \frac{\partial L}{\partial h_{t}} \odot o_{t}"
        r" \odot \left(1 - \tanh^{2} c_{t}\right) + \frac{\partial L}{\partial c_{t+1}}"
        r" \odot f_{t+1}",
        r"&\frac{\partial L}{\partial o_{t}} = \frac{\partial L}{\partial h_{t}} \odot"
        r" \tanh c_{t}, \quad \frac{\partial L}{\partial i_{t}} = \frac{\partial L}"
        r"{\partial c_{t}} \odot g_{t}, \quad \frac{\partial L}{\partial g_{t}} = "
        r"\frac{\partial L}{\partial c_{t}} \odot i_{t}, \quad \frac{\partial L}{\partial"
        r" f_{t}} = \frac{\partial L}{\partial c_{t}} \odot c_{t-1}"])]
    for t in reversed(range(steps)):
        h, cc, o, i, gg, f = (g[k][t] for k in ("h", "c", "o", "i", "g", "f"))
        T = t + 1
        dhdc, src = locals_of(c, h, cc, "dh/dc")
        ops = [(h, c.grads), (dhdc, src)]
        rule = (rf"\frac{{\partial L}}{{\partial h_{{{T}}}}} \odot "
                rf"\frac{{\partial h_{{{T}}}}}{{\partial c_{{{T}}}}}")
        if t + 1 < steps:
            ops += [(c.names(f"c{pos}")[t + 1], c.grads), (g["f"][t + 1], c.vals)]
            rule += rf" + \frac{{\partial L}}{{\partial c_{{{T + 1}}}}} \odot f_{{{T + 1}}}"

            def combine(v):
                return [a * b + e * q for a, b, e, q in zip(*v, strict=True)]

            def numeric(m):
                return rf"{m[0]} \odot {m[1]} + {m[2]} \odot {m[3]}"
        else:
            combine = hadamard

            def numeric(m):
                return rf"{m[0]} \odot {m[1]}"
        eqs = [vector_line(c, grad_tex(f"c_{{{T}}}"), rule, ops, cc, combine, numeric)]
        dhdo, src_o = locals_of(c, h, o, "dh/do")
        eqs.append(vector_line(c, grad_tex(f"o_{{{T}}}"),
                                rf"\frac{{\partial L}}{{\partial h_{{{T}}}}} \odot \tanh c_{{{T}}}",
                                [(h, c.grads), (dhdo, src_o)], o, hadamard,
                                lambda m: rf"{m[0]} \odot {m[1]}"))
        eqs.append(vector_line(c, grad_tex(f"i_{{{T}}}"),
                                rf"\frac{{\partial L}}{{\partial c_{{{T}}}}} \odot g_{{{T}}}",
                                [(cc, c.grads), (gg, c.vals)], i, hadamard,
                                lambda m: rf"{m[0]} \odot {m[1]}"))
        eqs.append(vector_line(c, grad_tex(f"g_{{{T}}}"),
                                rf"\frac{{\partial L}}{{\partial c_{{{T}}}}} \odot i_{{{T}}}",
                                [(cc, c.grads), (i, c.vals)], gg, hadamard,
                                lambda m: rf"{m[0]} \odot {m[1]}"))
        if t > 0:
            eqs.append(vector_line(c, grad_tex(f"f_{{{T}}}"),
                                    rf"\frac{{\partial L}}{{\partial c_{{{T}}}}} \odot c_{{{T - 1}}}",
                                    [(cc, c.grads), (c.names(f"c{pos}")[t - 1], c.vals)], f,
                                    hadamard, lambda m: rf"{m[0]} \odot {m[1]}"))
        blocks.append(d.math_block(eqs, kind="bp", text=(
            f"Step {T}" + (" (the first: no earlier cell, so no forget term)" if t == 0 else "")),
            math=rf"\frac{{\partial L}}{{\partial h_{{{T}}}}} = "
                 rf"{matrix([c.display.text(c.grads[n]) for n in h])}"))
        blocks[-1].claims += grad_claims(c, h)
    return blocks + generic_rule(c, layer, below=True)


def attention_rule(c: Net, layer) -> list:
    """Scaled dot-product attention backward in matrix form: through A = P V to P and V,
    through each row's softmax (its Jacobian), then to Q and K."""
    pos = layer.position
    if c.batched or layer["causal"]:
        return generic_rule(c, layer)
    q, k, v, sc, p = (c.names(f"{n}{pos}") for n in ("q", "k", "v", "s", "p"))
    a = c.names(layer.output)
    T, dd = q.shape
    root = Decimal(dd).sqrt()
    blocks = []
    eqs = [
        vector_line(c, grad_tex("V"), r"P^{\mathsf{T}} \delta",
                     [(p, c.vals), (a, c.grads)], v, matmul(T, T, dd, transpose_a=True),
                     lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}"),
        vector_line(c, grad_tex("P"), r"\delta V^{\mathsf{T}}",
                     [(a, c.grads), (v, c.vals)], p, matmul(T, dd, T, transpose_b=True),
                     lambda m: rf"{m[0]} {m[1]}^{{\mathsf{{T}}}}")]
    blocks.append(d.math_block(eqs, kind="bp", text=(
        f"Attention: δ = ∂L/∂A of layer {pos}, A = P V"),
        math=rf"({T} \times {dd}) = ({T} \times {T})\,({T} \times {dd})"))
    row_p, row_s = list(p[0]), list(sc[0])
    jac = [[c.solution.derivative(row_p[u], row_s[w]) for w in range(T)] for u in range(T)]
    jn = [f"J{u}_{w}" for u in range(T) for w in range(T)]
    src = dict(zip(jn, [x for r in jac for x in r], strict=True))
    jeq = vector_line(c, grad_tex(array_name(f"s{pos}") + "_{1}"),
                       r"J^{\mathsf{T}} \frac{\partial L}{\partial p_{1}}",
                       [(np.array(jn, dtype=object).reshape(T, T), src), (row_p, c.grads)],
                       row_s, matmul(T, T, 1, transpose_a=True),
                       lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}")
    blocks.append(d.math_block([jeq], kind="bp", text=(
        "Each row of scores through its softmax: the Jacobian of row 1, "
        "J_uw = p_u([u = w] − p_w)"),
        math=r"J = \operatorname{diag}(p_{1}) - p_{1} p_{1}^{\mathsf{T}}"))
    rest = tensor_equations(c, f"s{pos}", c.grads, grad=True)

    def scaled(m_, n_, k_, ta):
        inner = matmul(m_, n_, k_, transpose_a=ta)
        return lambda ops: [x / root for x in inner(ops)]
    eqs = [
        vector_line(c, grad_tex("Q"), rf"\frac{{1}}{{\sqrt{{{dd}}}}} \frac{{\partial L}}"
                     rf"{{\partial S}} K", [(sc, c.grads), (k, c.vals)], q,
                     scaled(T, T, dd, False),
                     lambda m: rf"\frac{{1}}{{\sqrt{{{dd}}}}} {m[0]} {m[1]}"),
        vector_line(c, grad_tex("K"), rf"\frac{{1}}{{\sqrt{{{dd}}}}} \left(\frac{{\partial"
                     rf" L}}{{\partial S}}\right)^{{\mathsf{{T}}}} Q",
                     [(sc, c.grads), (q, c.vals)], k, scaled(T, T, dd, True),
                     lambda m: rf"\frac{{1}}{{\sqrt{{{dd}}}}} {m[0]}^{{\mathsf{{T}}}} {m[1]}")]
    blocks.append(tensor_block(rest, text="Every row the same way:"))
    blocks.append(d.math_block(eqs, kind="bp", text=(
        f"The scores S = Q Kᵀ/√{dd}: to the queries and the keys")))
    return blocks + generic_rule(c, layer, below=True)
