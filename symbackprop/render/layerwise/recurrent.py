"""The plain recurrent layer (tanh) and the GRU cell backward through time, step by step
from the last, in the notation a course uses: each step's state gradient from the output
and from the next step, the gradients of the pre-activations (δ), and the weights'
gradients as sums over the steps (Δᵀ X, one column of Δᵀ per step).

The formulas are the graph's (:mod:`symbackprop.layers.expand`): h_t = tanh(W x_t +
U h_(t−1) + b); the GRU's r_t = σ(W_r x_t + U_r h_(t−1) + b_r), z_t likewise, n_t =
tanh(W_n x_t + b_n + r_t ⊙ (U_n h_(t−1))) (the bias outside r: PyTorch's b_in, with
b_hn = 0) and h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t−1), from h_0 = 0.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ...notation import array_name
from .. import document as d
from ..equations import Equation
from .rules import generic_rule
from .tensors import (
    Net,
    grad_claims,
    grad_tex,
    hadamard,
    locals_of,
    matmul,
    matrix,
    shape_tex,
    tensor_equations,
    vector_line,
)


def _times(names, factors: dict, source: dict, tag: str) -> tuple[list[str], dict]:
    """A quantity with no node of its own, element by element: ``source[n]`` times the
    factor of the same position (a state's gradient times its activation's derivative)."""
    names = list(names)
    keys = [f"{tag}:{n}" for n in names]
    return keys, {k: source[n] * f for k, n, f in zip(keys, names, factors, strict=True)}


def _upstream(c: Net, layer, t: int, steps: int):
    """The names of ∂L/∂a for step t's state (every step's, or the last's with
    ``last``), or None where the output does not read the state."""
    a = c.names(layer.output)
    if layer["last"]:
        return a if t == steps - 1 else None
    return a[t]


def _upstream_tex(layer, t: int) -> str:
    a = array_name(layer.output)
    return grad_tex(a if layer["last"] else f"{a}_{{{t + 1}}}")


def _add(parts):
    """The sum of several combined parts, each (combine, how many operands it reads)."""
    def combine(ops):
        out, i = None, 0
        for part, count in parts:
            got = part(ops[i:i + count])
            out = got if out is None else [x + y for x, y in zip(out, got, strict=True)]
            i += count
        return out
    return combine


def _identity(ops):
    return list(ops[0])


def _transposed_times(n: int):
    """Mᵀ v for an n×n matrix M and an n-vector v."""
    return matmul(n, n, 1, transpose_a=True)


def _sum_of(count: int):
    def combine(ops):
        return [sum(column, Decimal(0)) for column in zip(*ops[:count], strict=True)]
    return combine


def _state_line(c: Net, layer, t: int, steps: int, through: list) -> Equation:
    """∂L/∂h_t: the output's gradient (if the output reads h_t) plus the terms
    ``through`` the next step [(rule, [(names, source)...], combine, numeric)]."""
    h = c.names(f"h{layer.position}")[t]
    up = _upstream(c, layer, t, steps)
    rules, operands, parts, numerics = [], [], [], []
    if up is not None:
        rules.append(_upstream_tex(layer, t))
        operands.append((up, c.grads))
        parts.append((_identity, 1))
        numerics.append(lambda m: m[0])
    for rule, ops, combine, numeric in through:
        rules.append(rule)
        operands += ops
        parts.append((combine, len(ops)))
        numerics.append(numeric)
    lhs = grad_tex(f"h_{{{t + 1}}}")
    if not through:
        return Equation(lhs, [rules[0], matrix([c.display.text(c.grads[n]) for n in h])],
                        elements=grad_claims(c, h))

    def numeric(m):
        out, i = [], 0
        for (_, count), write in zip(parts, numerics, strict=True):
            out.append(write(m[i:i + count]))
            i += count
        return " + ".join(out)
    return vector_line(c, lhs, " + ".join(rules), operands, h, _add(parts), numeric,
                       split=True)


def _odot(m):
    return rf"{m[0]} \odot {m[1]}"


def _weights(c: Net, layer, deltas: list, recurrent: list, text: str) -> list:
    """∂L/∂W = Σ_t δ_t x_tᵀ, ∂L/∂U = Σ_(t≥2) δ'_t h_(t−1)ᵀ, ∂L/∂b = Σ_t δ_t and, below
    the first layer, ∂L/∂X = Δ W: ``deltas`` is each step's stacked δ (names, source),
    ``recurrent`` each step's (from the second) stacked gradient of U h_(t−1)."""
    pos = layer.position
    x, W, U, b = c.input_of(layer), f"W{pos}", f"U{pos}", f"b{pos}"
    Wn, Un, bn, xn = c.names(W), c.names(U), c.names(b), c.names(x)
    h = c.names(f"h{pos}")
    rows, inn = Wn.shape
    steps, hidden = h.shape
    source = {k: v for _, src in deltas for k, v in src.items()}
    source.update({k: v for _, src in recurrent for k, v in src.items()})
    delta_t = np.array([names for names, _ in deltas], dtype=object).T  # (rows, steps)
    W_tex, U_tex, b_tex, x_tex = (array_name(n) for n in (W, U, b, x))
    blocks = [d.Block(kind="bp", text=text)]
    dW = vector_line(c, grad_tex(W_tex), rf"\sum_{{t}} \delta_{{t}} x_{{t}}^{{\mathsf{{T}}}}"
                     rf" = \Delta^{{\mathsf{{T}}}} {x_tex}",
                     [(delta_t, source), (xn, c.vals)], Wn, matmul(rows, steps, inn),
                     lambda m: f"{m[0]} {m[1]}")
    blocks.append(d.math_block([dW], kind="bp", text="The input weights", math=(
        rf"{shape_tex((rows, inn))} = {shape_tex((rows, steps))}\,{shape_tex((steps, inn))}")))
    if steps > 1:
        rec_t = np.array([names for names, _ in recurrent], dtype=object).T
        dU = vector_line(c, grad_tex(U_tex),
                         r"\sum_{t \ge 2} \delta'_{t} h_{t-1}^{\mathsf{T}}",
                         [(rec_t, source), (h[:-1], c.vals)], Un,
                         matmul(rows, steps - 1, hidden), lambda m: f"{m[0]} {m[1]}")
        math = (rf"{shape_tex((rows, hidden))} = {shape_tex((rows, steps - 1))}\,"
                rf"{shape_tex((steps - 1, hidden))}")
        blocks.append(d.math_block([dU], kind="bp", text=(
            "The recurrent weights: δ' is each step's gradient of U times the previous state, "
            "from the second step (the first reads the zero state)"), math=math))
    else:
        blocks.append(d.math_block(tensor_equations(c, U, c.grads, grad=True), kind="bp", text=(
            "The recurrent weights: one step from the zero state, so U is not used")))
    column = (rows, 1)  # each step's δ as a column, tall rather than wide
    db = vector_line(c, grad_tex(b_tex), r"\sum_{t} \delta_{t}",
                     [(np.array(names, dtype=object).reshape(column), source)
                      for names, _ in deltas], bn.reshape(column), _sum_of(steps),
                     lambda m: " + ".join(m), split=True)
    blocks.append(d.math_block([db], kind="bp", text="The biases", math=shape_tex((rows,))))
    if pos > 1:
        dX = vector_line(c, grad_tex(x_tex), rf"\Delta\, {W_tex}",
                         [(delta_t.T, source), (Wn, c.vals)], xn, matmul(steps, rows, inn),
                         lambda m: f"{m[0]} {m[1]}")
        blocks.append(d.math_block([dX], kind="bp", text="The gradient passed down", math=(
            rf"{shape_tex((steps, inn))} = {shape_tex((steps, rows))}\,{shape_tex((rows, inn))}")))
    return blocks


def rnn_rule(c: Net, layer) -> list:
    """The tanh recurrent layer through time, step by step from the last."""
    if c.batched:
        return generic_rule(c, layer)
    pos = layer.position
    h, Un, bn = c.names(f"h{pos}"), c.names(f"U{pos}"), c.names(f"b{pos}")
    steps, hidden = h.shape
    blocks = [d.Block(kind="bp", text=(
        "The recurrent layer, step by step from the last: the state's gradient comes from the "
        "output and through the next step, whose pre-activation reads the state by U; δ is "
        "the gradient of the pre-activation (W and U are PyTorch's input and hidden weights, "
        "b the sum of its two biases)"), rows=[
        r"&\frac{\partial L}{\partial h_{t}} = \frac{\partial L}{\partial a_{t}} + "
        r"U^{\mathsf{T}} \delta_{t+1}, \qquad \delta_{t} = \frac{\partial L}{\partial h_{t}}"
        r" \odot \left(1 - h_{t}^{2}\right)",
        r"&\frac{\partial L}{\partial W} = \sum_{t} \delta_{t} x_{t}^{\mathsf{T}}, \qquad "
        r"\frac{\partial L}{\partial U} = \sum_{t \ge 2} \delta_{t} h_{t-1}^{\mathsf{T}}, "
        r"\qquad \frac{\partial L}{\partial b} = \sum_{t} \delta_{t}",
        r"&\delta_{t} = \frac{\partial L}{\partial z_{t}}, \quad z_{t} = W x_{t} + "
        r"U h_{t-1} + b, \quad h_{t} = \tanh z_{t}, \quad h_{0} = 0"])]
    deltas = [None] * steps
    for t in reversed(range(steps)):
        T = t + 1
        through = []
        if t + 1 < steps:
            through.append((rf"U^{{\mathsf{{T}}}} \delta_{{{T + 1}}}",
                            [(Un, c.vals), deltas[t + 1]], _transposed_times(hidden),
                            lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}"))
        eqs = [_state_line(c, layer, t, steps, through)]
        factors, fsrc = locals_of(c, h[t], bn, "dh/db")
        deltas[t] = _times(h[t], [fsrc[f] for f in factors], c.grads, f"delta{t}")
        eqs.append(vector_line(
            c, rf"\delta_{{{T}}}", rf"\frac{{\partial L}}{{\partial h_{{{T}}}}} \odot "
            rf"\left(1 - h_{{{T}}}^{{2}}\right)", [(h[t], c.grads), (factors, fsrc)],
            deltas[t][0], hadamard, _odot, source=deltas[t][1], claim=False))
        blocks.append(d.math_block(eqs, kind="bp", text=f"Step {T}" + (
            " (the last: the output's gradient only)" if t + 1 == steps else "")))
    return blocks + _weights(c, layer, deltas, deltas[1:], (
        "The weights: each step's δ is a column of Δᵀ, in step order; the recurrent weights "
        "read the previous state, so their sum starts at the second step (δ' = δ)"))


def gru_rule(c: Net, layer) -> list:
    """The GRU cell through time, step by step from the last: the state, then the
    gates n, z and r and their pre-activations, then the weights as sums over the steps."""
    if c.batched:
        return generic_rule(c, layer)
    pos = layer.position
    g = {k: c.names(f"{k}{pos}") for k in ("r", "z", "n", "h")}
    Un, bn = c.names(f"U{pos}"), c.names(f"b{pos}")
    steps, hidden = g["h"].shape
    U_gate = {k: Un[i * hidden:(i + 1) * hidden] for i, k in enumerate("rzn")}
    b_gate = {k: bn[i * hidden:(i + 1) * hidden] for i, k in enumerate("rzn")}
    blocks = [d.Block(kind="bp", text=(
        "The GRU cell, step by step from the last: the state's gradient comes from the output "
        "and through the next step (its z ⊙ h term, and the pre-activations of r, z and n, "
        "which read the state by the rows of U, n's inside r); then each gate's gradient and "
        "that of its pre-activation (δ). The bias of n sits outside r, as the forward pass "
        "has it"), rows=[
        r"&r_{t} = \sigma\left(W_{r} x_{t} + U_{r} h_{t-1} + b_{r}\right), \quad z_{t} = "
        r"\sigma\left(W_{z} x_{t} + U_{z} h_{t-1} + b_{z}\right), \quad h_{0} = 0",
        r"&n_{t} = \tanh\left(W_{n} x_{t} + b_{n} + r_{t} \odot \left(U_{n} h_{t-1}\right)"
        r"\right), \quad h_{t} = \left(1 - z_{t}\right) \odot n_{t} + z_{t} \odot h_{t-1}",
        r"&\delta^{r}_{t},\ \delta^{z}_{t},\ \delta^{n}_{t}: \text{the gradients of the "
        r"gates' pre-activations}, \quad "
        r"\delta^{hn}_{t}: \text{the gradient of}\ U_{n} h_{t-1}",
        r"&\frac{\partial L}{\partial h_{t}} = \frac{\partial L}{\partial a_{t}} + "
        r"\frac{\partial L}{\partial h_{t+1}} \odot z_{t+1} + U_{r}^{\mathsf{T}} "
        r"\delta^{r}_{t+1} + U_{z}^{\mathsf{T}} \delta^{z}_{t+1} + U_{n}^{\mathsf{T}} "
        r"\delta^{hn}_{t+1}",
        r"&\frac{\partial L}{\partial n_{t}} = \frac{\partial L}{\partial h_{t}} \odot "
        r"\left(1 - z_{t}\right), \quad \frac{\partial L}{\partial z_{t}} = \frac{\partial L}"
        r"{\partial h_{t}} \odot \left(h_{t-1} - n_{t}\right), \quad \delta^{n}_{t} = "
        r"\frac{\partial L}{\partial n_{t}} \odot \left(1 - n_{t}^{2}\right)",
        r"&\frac{\partial L}{\partial r_{t}} = \delta^{n}_{t} \odot \left(U_{n} h_{t-1}\right),"
        r" \quad \delta^{hn}_{t} = r_{t} \odot \delta^{n}_{t}, \quad \delta^{z}_{t} = "
        r"\frac{\partial L}{\partial z_{t}} \odot z_{t} \left(1 - z_{t}\right), \quad "
        r"\delta^{r}_{t} = \frac{\partial L}{\partial r_{t}} \odot r_{t} \left(1 - r_{t}\right)"])]
    delta = {k: [None] * steps for k in ("r", "z", "n", "hn")}
    for t in reversed(range(steps)):
        T = t + 1
        h, r, z, n = (g[k][t] for k in ("h", "r", "z", "n"))
        through = []
        if t + 1 < steps:
            through.append((rf"\frac{{\partial L}}{{\partial h_{{{T + 1}}}}} \odot z_{{{T + 1}}}",
                            [(g["h"][t + 1], c.grads), (g["z"][t + 1], c.vals)], hadamard, _odot))
            for k, tag in (("r", "r"), ("z", "z"), ("n", "hn")):
                through.append((rf"U_{{{k}}}^{{\mathsf{{T}}}} \delta^{{{tag}}}_{{{T + 1}}}",
                                [(U_gate[k], c.vals), delta[tag][t + 1]],
                                _transposed_times(hidden),
                                lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}"))
        eqs = [_state_line(c, layer, t, steps, through)]
        dhdn, src_n = locals_of(c, h, n, "dh/dn")
        eqs.append(vector_line(c, grad_tex(f"n_{{{T}}}"), rf"\frac{{\partial L}}{{\partial "
                               rf"h_{{{T}}}}} \odot \left(1 - z_{{{T}}}\right)",
                               [(h, c.grads), (dhdn, src_n)], n, hadamard, _odot))
        dhdz, src_z = locals_of(c, h, z, "dh/dz")
        previous = rf"h_{{{T - 1}}} - n_{{{T}}}" if t else rf"-n_{{{T}}}"
        eqs.append(vector_line(c, grad_tex(f"z_{{{T}}}"), rf"\frac{{\partial L}}{{\partial "
                               rf"h_{{{T}}}}} \odot \left({previous}\right)",
                               [(h, c.grads), (dhdz, src_z)], z, hadamard, _odot))
        for k, gate_tex, act in (("n", f"n_{{{T}}}", rf"\left(1 - n_{{{T}}}^{{2}}\right)"),
                                 ("z", f"z_{{{T}}}", rf"z_{{{T}}} \left(1 - z_{{{T}}}\right)")):
            if k == "z" and t:
                eqs += _reset_lines(c, g, U_gate, delta, t)
            factors, fsrc = locals_of(c, g[k][t], b_gate[k], f"d{k}/db")
            delta[k][t] = _times(g[k][t], [fsrc[f] for f in factors], c.grads, f"d{k}{t}")
            eqs.append(vector_line(c, rf"\delta^{{{k}}}_{{{T}}}", rf"\frac{{\partial L}}"
                                   rf"{{\partial {gate_tex}}} \odot {act}",
                                   [(g[k][t], c.grads), (factors, fsrc)], delta[k][t][0],
                                   hadamard, _odot, source=delta[k][t][1], claim=False))
        if t:
            factors, fsrc = locals_of(c, r, b_gate["r"], "dr/db")
            delta["r"][t] = _times(r, [fsrc[f] for f in factors], c.grads, f"dr{t}")
            eqs.append(vector_line(c, rf"\delta^{{r}}_{{{T}}}", rf"\frac{{\partial L}}"
                                   rf"{{\partial r_{{{T}}}}} \odot r_{{{T}}} \left(1 - "
                                   rf"r_{{{T}}}\right)", [(r, c.grads), (factors, fsrc)],
                                   delta["r"][t][0], hadamard, _odot,
                                   source=delta["r"][t][1], claim=False))
        else:  # r_1 multiplies U_n h_0 = 0: its gradient and δ^r_1 are 0
            delta["r"][t] = _times(r, [0] * hidden, c.grads, f"dr{t}")
        blocks.append(d.math_block(eqs, kind="bp", text=f"Step {T}" + (
            " (the first: the previous state is 0, so no U terms, r is not used, and the "
            "state's derivative by z is −n)" if t == 0 else
            " (the last: the output's gradient only)" if t + 1 == steps else "")))
    stacked = [_stack([delta[k][t] for k in ("r", "z", "n")], f"D{t}") for t in range(steps)]
    recurrent = [_stack([delta[k][t] for k in ("r", "z", "hn")], f"R{t}")
                 for t in range(1, steps)]
    return blocks + _weights(c, layer, stacked, recurrent, (
        "The weights: each step's column of Δᵀ stacks the δ of r, z and n (PyTorch's order); "
        "the recurrent weights read the previous state, so their sum starts at the second "
        "step, its columns δ' stacking the δ of r and z and that of U h for n; the bias of n "
        "sits outside r, so its gradient sums the δ of n"))


def _reset_lines(c: Net, g: dict, U_gate: dict, delta: dict, t: int) -> list:
    """Step t's U_n h_(t−1) (the forward pass's, which r multiplies), ∂L/∂r_t and
    δ^hn_t = r_t ⊙ δ^n_t (t from the second step)."""
    T, hidden = t + 1, g["h"].shape[1]
    h_prev, r = g["h"][t - 1], g["r"][t]
    Un = U_gate["n"]
    names = [f"Unh{t}:{j}" for j in range(hidden)]
    vals = {nm: sum((c.vals[Un[j, m]] * c.vals[h_prev[m]] for m in range(hidden)), 0)
            for j, nm in enumerate(names)}
    out = [vector_line(c, rf"U_{{n}} h_{{{T - 1}}}", "", [(Un, c.vals), (h_prev, c.vals)],
                       names, matmul(hidden, hidden, 1), lambda m: f"{m[0]} {m[1]}",
                       source=vals, claim=False)]
    dn_names, dn_src = delta["n"][t]
    out.append(vector_line(c, grad_tex(f"r_{{{T}}}"), rf"\delta^{{n}}_{{{T}}} \odot \left("
                           rf"U_{{n}} h_{{{T - 1}}}\right)", [(dn_names, dn_src), (names, vals)],
                           r, hadamard, _odot))
    delta["hn"][t] = _times(dn_names, [c.vals[n] for n in r], dn_src, f"dhn{t}")
    out.append(vector_line(c, rf"\delta^{{hn}}_{{{T}}}", rf"r_{{{T}}} \odot \delta^{{n}}_{{{T}}}",
                           [(r, c.vals), (dn_names, dn_src)], delta["hn"][t][0], hadamard,
                           _odot, source=delta["hn"][t][1], claim=False))
    return out


def _stack(parts: list, tag: str) -> tuple[list[str], dict]:
    """Several (names, source) vectors as one: the gates' δ of one step, stacked."""
    names, source = [], {}
    for part_names, part_source in parts:
        names += part_names
        source.update({n: part_source[n] for n in part_names})
    return names, source
