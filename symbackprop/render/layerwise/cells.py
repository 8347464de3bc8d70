"""The LSTM cell backward, step by step."""

from __future__ import annotations

from .. import document as d
from .rules import generic_rule
from .tensors import (
    Net,
    grad_claims,
    grad_tex,
    hadamard,
    locals_of,
    matrix,
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
