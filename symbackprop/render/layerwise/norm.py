"""Batch and layer normalisation backward, as the computational-graph derivation goes:
∂L/∂β and ∂L/∂γ, ∂L/∂x̂, ∂L/∂σ², ∂L/∂μ, ∂L/∂x, then the compact formula, each in numbers."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np

from ...display import tex_number
from ...notation import STATISTICS, latex_name, statistic
from .. import document as d
from ..equations import Equation, approx
from .tensors import (
    MAX_NORM_STEPS,
    MAX_TERMS,
    L,
    Net,
    fitted,
    grad_claims,
    grad_tex,
    hadamard,
    matrix,
    result_side,
    tensor_block,
    tensor_equations,
)


def norm_rule(c: Net, layer) -> list:
    """Batch or layer normalisation backward, as the computational-graph derivation goes:
    ∂L/∂x̂, then ∂L/∂σ², then ∂L/∂μ, then ∂L/∂x; then the compact formula."""
    pos, batch = layer.position, layer.type == "batchnorm"
    x, a = c.input_of(layer), layer.output
    xn, an, hn = c.names(x), c.names(a), c.names(f"xhat{pos}")
    mun, varn = c.names(f"mu{pos}"), c.names(f"var{pos}")
    gamma, beta = c.names(f"gamma{pos}"), c.names(f"beta{pos}")
    eps = layer["eps"]
    eps_t = c.display.given(eps)
    blocks = [d.Block(kind="bp", text=_words(
        "Normalisation backward, through the mean and the variance: the normalised value "
        "(x − <mu>)/√(<var> + ε) reads x directly and through <mu> and <var>, which read every x of "
        "the group, so the gradient of x has three terms"), rows=[_rule(row) for row in (
        r"&\frac{\partial L}{\partial <xhat_i>} = \frac{\partial L}{\partial y_{i}}\,\gamma,"
        r" \qquad \frac{\partial L}{\partial <var>} = \sum_{i} \frac{\partial L}{\partial"
        r" <xhat_i>} (x_{i} - <mu>) \cdot \left(-\tfrac{1}{2}\right)(<var> + \epsilon)^{-3/2}",
        r"&\frac{\partial L}{\partial <mu>} = \sum_{i} \frac{\partial L}{\partial <xhat_i>}"
        r" \frac{-1}{\sqrt{<var> + \epsilon}} + \frac{\partial L}{\partial <var>}"
        r" \frac{-2}{N} \sum_{i} (x_{i} - <mu>) = -\frac{1}{\sqrt{<var> + \epsilon}}"
        r" \sum_{i} \frac{\partial L}{\partial <xhat_i>} \quad\text{(the second sum is 0)}",
        r"&\frac{\partial L}{\partial x_{i}} = \frac{\partial L}{\partial <xhat_i>}"
        r" \frac{1}{\sqrt{<var> + \epsilon}} + \frac{\partial L}{\partial <var>}"
        r" \frac{2 (x_{i} - <mu>)}{N} + \frac{\partial L}{\partial <mu>} \frac{1}{N}")])]
    groups = list(mun.flat)
    for g, mu in enumerate(groups[:MAX_NORM_STEPS]):
        members = _members(c, layer, xn, g)
        var = varn.flat[g]
        n = len(members)
        word = (f"feature {g + 1}" if batch and len(layer.in_shape) == 1 else
                f"channel {g + 1}" if batch else f"row {g + 1}")
        where = "over the batch" if batch else "over the features"
        eqs = []
        sym_hat = [hn[m] for m in members]
        sym_x = [xn[m] for m in members]
        sym_y = [an[m] for m in members]
        gam = [gamma.flat[m[-1] if not batch else g] for m in members]
        if batch:
            db = Equation(grad_tex(latex_name(beta.flat[g])), [
                r"\sum_{i} \frac{\partial L}{\partial y_{i}}",
                *_sum_side(c, sym_y, c.grads, c.grads[beta.flat[g]], n)],
                key=f"d{L}/d{beta.flat[g]}")
            dg = Equation(grad_tex(latex_name(gamma.flat[g])), [
                _rule(r"\sum_{i} \frac{\partial L}{\partial y_{i}}\, <xhat_i>"),
                *_dot_side(c, sym_y, sym_hat, c.grads[gamma.flat[g]], n)],
                key=f"d{L}/d{gamma.flat[g]}")
            eqs += [db, dg]
        if n <= MAX_TERMS:
            texts, ap = fitted(c, [(sym_y, c.grads), (gam, c.vals)], sym_hat, hadamard, c.grads)
            eqs.append(Equation(
                _rule(r"\frac{\partial L}{\partial <xhat>}"),
                [r"\frac{\partial L}{\partial y} \odot \gamma",
                 rf"{matrix(texts[0])} \odot {matrix(texts[1])}",
                 result_side(c, np.array(sym_hat, dtype=object), c.grads, ap)],
                elements=grad_claims(c, sym_hat)))
        eqs.append(_dvar(c, sym_hat, sym_x, mu, var, eps, eps_t))
        eqs.append(_dmu(c, sym_hat, mu, var, eps, eps_t))
        eqs.append(_dx(c, sym_hat[0], sym_x[0], mu, var, eps, eps_t, n))
        if batch:
            eqs.append(_compact_batch(c, sym_y[0], sym_hat[0], var, gam[0], beta.flat[g],
                                      gamma.flat[g], sym_x[0], eps, eps_t, n))
        else:
            eqs.append(_compact_layer(c, sym_hat, sym_x[0], var, eps, eps_t, n))
        blocks.append(d.math_block(eqs, kind="bp", text=(
            f"Step by step for {word} ({n} values {where}; {T_MU} = {c.display.text(c.vals[mu])}, "
            f"{T_VAR} = {c.display.text(c.vals[var])})")))
    if len(groups) > MAX_NORM_STEPS:
        blocks.append(d.Block(text=f"The other {len(groups) - MAX_NORM_STEPS} "
                                   "groups the same way; every result:"))
    arrays = tensor_equations(c, x, c.grads, grad=True)
    for p in (f"gamma{pos}", f"beta{pos}"):
        arrays += tensor_equations(c, p, c.grads, grad=True)
    blocks.append(tensor_block(arrays, text="The gradients of the layer, every element:"))
    return blocks


#: A rule's generic symbols, spelled by the notation record: ``<mu>``, ``<var>``, ``<xhat>``
#: and ``<xhat_i>`` (the i-th normalised value).
_GENERIC = re.compile(r"<(mu|var|xhat)(?:_(\w))?>")
T_MU, T_VAR = STATISTICS["mu"].text, STATISTICS["var"].text


def _rule(tex: str) -> str:
    """A rule's LaTeX with its generic symbols (μ, σ², x̂_i) from the notation record."""
    return _GENERIC.sub(lambda m: statistic(m.group(1), sub=m.group(2) or ""), tex)


def _words(text: str) -> str:
    """A sentence with the generic symbols as plain text (μ, σ²)."""
    return _GENERIC.sub(lambda m: STATISTICS[m.group(1)].text + (m.group(2) or ""), text)


def _members(c: Net, layer, xn, g: int) -> list[tuple]:
    """The indices of the input elements group ``g`` normalises together."""
    if layer.type == "batchnorm":
        channel_axis = 1 if c.batched else 0
        return [i for i in np.ndindex(*xn.shape) if i[channel_axis] == g]
    rows = list(np.ndindex(*xn.shape[:-1]))
    return [rows[g] + (j,) for j in range(xn.shape[-1])]


def _sum_side(c: Net, names, source, result, n) -> list[str]:
    if n > MAX_TERMS:
        return [c.display.tex(result)]
    line = c.display.total([source[s] for s in names], result)
    c.lines.append(line)
    return [" + ".join(tex_number(t) for t in line.operands).replace("+ -", "- "),
            approx(tex_number(line.result), line.approx)]


def _dot_side(c: Net, left, right, result, n) -> list[str]:
    if n > MAX_TERMS:
        return [c.display.tex(result)]
    values = [c.grads[s] for s in left] + [c.vals[s] for s in right]

    def combine(v):
        return sum((v[i] * v[n + i] for i in range(n)), Decimal(0))
    line = c.display.fit(values, result, combine)
    c.lines.append(line)
    ops = line.operands
    return [" + ".join(f"{d.factor_tex(ops[i])} \\cdot {d.factor_tex(ops[n + i])}"
                       for i in range(n)), approx(tex_number(line.result), line.approx)]


def _dvar(c: Net, hats, xs, mu, var, eps, eps_t) -> Equation:
    n = len(hats)
    head = grad_tex(latex_name(var))
    sym = _rule(r"-\tfrac{1}{2}\left(<var> + \epsilon\right)^{-3/2} \sum_{i} "
                r"\frac{\partial L}{\partial <xhat_i>} (x_{i} - <mu>)")
    result = c.grads[var]
    if n > MAX_TERMS:
        return Equation(head, [sym, c.display.tex(result)], key=f"d{L}/d{var}")
    values = [c.vals[var], c.vals[mu]] + [c.grads[h] for h in hats] + [c.vals[x] for x in xs]
    e = _eps(eps)

    def combine(v):
        s = sum((v[2 + i] * (v[2 + n + i] - v[1]) for i in range(n)), Decimal(0))
        return Decimal(-0.5) * s / ((v[0] + e) * (v[0] + e).sqrt())
    line = c.display.fit(values, result, combine,
                         operand_places=[None, None] + [None] * n + _given_places(c, xs))
    c.lines.append(line)
    o = line.operands
    terms = " + ".join(rf"{d.factor_tex(o[2 + i])} \left({tex_number(o[2 + n + i])} - "
                       rf"{d.factor_tex(o[1])}\right)" for i in range(n))
    numeric = (rf"-\tfrac{{1}}{{2}}\left({tex_number(o[0])} + {tex_number(eps_t)}\right)^{{-3/2}}"
               rf" \cdot \big({terms}\big)")
    return Equation(head, [sym, numeric, approx(tex_number(line.result), line.approx)],
                    key=f"d{L}/d{var}")


def _given_places(c: Net, names) -> list:
    return [c.display.leaf_places if c.given(n) else None for n in names]


def _eps(eps) -> Decimal:
    return Decimal(int(eps.p)) / Decimal(int(eps.q))


def _dmu(c: Net, hats, mu, var, eps, eps_t) -> Equation:
    n = len(hats)
    head = grad_tex(latex_name(mu))
    sym = _rule(r"-\frac{1}{\sqrt{<var> + \epsilon}} \sum_{i} "
                r"\frac{\partial L}{\partial <xhat_i>}")
    result = c.grads[mu]
    if n > MAX_TERMS:
        return Equation(head, [sym, c.display.tex(result)], key=f"d{L}/d{mu}")
    e = _eps(eps)
    values = [c.vals[var]] + [c.grads[h] for h in hats]

    def combine(v):
        return -sum(v[1:], Decimal(0)) / (v[0] + e).sqrt()
    line = c.display.fit(values, result, combine)
    c.lines.append(line)
    o = line.operands
    terms = " + ".join(tex_number(t) for t in o[1:]).replace("+ -", "- ")
    numeric = (rf"-\frac{{{terms}}}{{\sqrt{{{tex_number(o[0])} + {tex_number(eps_t)}}}}}")
    return Equation(head, [sym, numeric, approx(tex_number(line.result), line.approx)],
                    key=f"d{L}/d{mu}")


def _dx(c: Net, hat, x, mu, var, eps, eps_t, n) -> Equation:
    head = grad_tex(latex_name(x))
    e = _eps(eps)
    values = [c.grads[hat], c.vals[var], c.grads[var], c.vals[x], c.vals[mu], c.grads[mu]]

    def combine(v):
        return v[0] / (v[1] + e).sqrt() + v[2] * 2 * (v[3] - v[4]) / n + v[5] / n
    line = c.display.fit(values, c.grads[x], combine,
                         operand_places=[None, None, None, *_given_places(c, [x]), None, None])
    c.lines.append(line)
    o = [tex_number(t) for t in line.operands]
    f = d.factor_tex
    numeric = (rf"\frac{{{o[0]}}}{{\sqrt{{{o[1]} + {tex_number(eps_t)}}}}} + "
               rf"{f(line.operands[2])} \cdot \frac{{2\left({o[3]} - {f(line.operands[4])}\right)}}"
               rf"{{{n}}} + \frac{{{o[5]}}}{{{n}}}")
    return Equation(head, [numeric, approx(tex_number(line.result), line.approx)],
                    key=f"d{L}/d{x}")


def _compact_batch(c: Net, y, hat, var, gam, beta, gamma, x, eps, eps_t, n) -> Equation:
    head = grad_tex(latex_name(x))
    e = _eps(eps)
    sym = _rule(r"\frac{\gamma}{N\sqrt{<var> + \epsilon}}\left(N \frac{\partial L}{\partial y_{i}}"
                r" - \frac{\partial L}{\partial \beta} - <xhat_i> \frac{\partial L}"
                r"{\partial \gamma}\right)")
    values = [c.vals[gam], c.vals[var], c.grads[y], c.grads[beta], c.vals[hat], c.grads[gamma]]

    def combine(v):
        return v[0] / (n * (v[1] + e).sqrt()) * (n * v[2] - v[3] - v[4] * v[5])
    line = c.display.fit(values, c.grads[x], combine,
                         operand_places=[c.display.leaf_places, None, None, None, None, None])
    c.lines.append(line)
    o, f = line.operands, d.factor_tex
    numeric = (rf"\frac{{{tex_number(o[0])}}}{{{n}\sqrt{{{tex_number(o[1])} + {tex_number(eps_t)}}}}}"
               rf"\left({n} \cdot {f(o[2])} - {f(o[3])} - {f(o[4])} \cdot {f(o[5])}\right)")
    return Equation(head, [sym, numeric, approx(tex_number(line.result), line.approx)],
                    key=f"d{L}/d{x}")


def _compact_layer(c: Net, hats, x, var, eps, eps_t, n) -> Equation:
    head = grad_tex(latex_name(x))
    e = _eps(eps)
    sym = _rule(r"\frac{1}{N\sqrt{<var> + \epsilon}}\left(N \frac{\partial L}{\partial <xhat_i>}"
                r" - \sum_{j} \frac{\partial L}{\partial <xhat_j>} - <xhat_i> \sum_{j}"
                r" \frac{\partial L}{\partial <xhat_j>} <xhat_j>\right)")
    if n > MAX_TERMS:
        return Equation(head, [sym, c.display.tex(c.grads[x])], key=f"d{L}/d{x}")
    values = [c.vals[var]] + [c.grads[h] for h in hats] + [c.vals[h] for h in hats]

    def combine(v):
        g, h = v[1:1 + n], v[1 + n:]
        s1 = sum(g, Decimal(0))
        s2 = sum((a * b for a, b in zip(g, h, strict=True)), Decimal(0))
        return (n * g[0] - s1 - h[0] * s2) / (n * (v[0] + e).sqrt())
    line = c.display.fit(values, c.grads[x], combine)
    c.lines.append(line)
    o, f = line.operands, d.factor_tex
    g, h = o[1:1 + n], o[1 + n:]
    s1 = " + ".join(tex_number(t) for t in g).replace("+ -", "- ")
    s2 = " + ".join(f"{f(a)} \\cdot {f(b)}" for a, b in zip(g, h, strict=True))
    numeric = (rf"\frac{{{n} \cdot {f(g[0])} - \left({s1}\right) - {f(h[0])} \left({s2}\right)}}"
               rf"{{{n}\sqrt{{{tex_number(o[0])} + {tex_number(eps_t)}}}}}")
    return Equation(head, [sym, numeric, approx(tex_number(line.result), line.approx)],
                    key=f"d{L}/d{x}")
