"""Each layer's backward rule in the notation a course uses: dense (δ aᵀ), an
activation (⊙ f'), softmax (the Jacobian of a row), flatten, pooling (max-pool's routing),
dropout (m/(1 − p)), convolution (x ⋆ δ and the flipped kernel), and the plain arrays of
the layers without a rule of their own."""

from __future__ import annotations

from math import prod

import numpy as np

from ... import ops
from ...display import tex_number
from ...network import LINEAR, whole_layer
from ...notation import array_name, latex_name
from .. import document as d
from ..equations import Equation, approx
from ..printer import op_latex
from .tensors import (
    L,
    Net,
    correlate,
    fitted,
    fitting,
    grad_claims,
    grad_tex,
    groups_of,
    hadamard,
    matmul,
    matrix,
    outer,
    pack,
    pool_marks,
    result_side,
    shape_tex,
    slices,
    sub,
    tensor_block,
    tensor_equations,
    written_out,
)


def dense_rule(c: Net, layer) -> list:
    pos = layer.position
    x, a, W, b = c.input_of(layer), layer.output, f"W{pos}", f"b{pos}"
    units, inn = layer.parameters[W]
    rows = prod(c.shape(a)[:-1])
    x_tex, W_tex = array_name(x), array_name(W)
    out = []
    if rows == 1:  # one vector: δ aᵀ
        dnames, xnames = list(c.names(a).flat), list(c.names(x).flat)
        texts, ap = fitted(c, [(dnames, c.grads), (xnames, c.vals)], list(c.names(W).flat),
                           outer(units, inn), c.grads)
        numeric = f"{matrix(texts[0])} {matrix(np.array(texts[1], dtype=object).reshape(1, -1))}"
        sides = [rf"\delta \left({x_tex}\right)^{{\mathsf{{T}}}}", numeric,
                 result_side(c, c.names(W), c.grads, ap)]
        shape_line = rf"{shape_tex((units, inn))} = {shape_tex((units, 1))}\,{shape_tex((1, inn))}"
    else:  # rows of a batch or of a sequence: Σ_r δ_r a_rᵀ = Δᵀ A
        dnames, xnames = list(c.names(a).flat), list(c.names(x).flat)
        texts, ap = fitted(c, [(dnames, c.grads), (xnames, c.vals)], list(c.names(W).flat),
                           matmul(units, rows, inn, transpose_a=True), c.grads)
        dm = np.array(texts[0], dtype=object).reshape(rows, units).T
        xm = np.array(texts[1], dtype=object).reshape(rows, inn)
        sides = [rf"\sum_{{r}} \delta_{{r}} \left({x_tex}_{{r}}\right)^{{\mathsf{{T}}}} = "
                 rf"\Delta^{{\mathsf{{T}}}} {x_tex}", f"{matrix(dm)} {matrix(xm)}",
                 result_side(c, c.names(W), c.grads, ap)]
        shape_line = rf"{shape_tex((units, inn))} = {shape_tex((units, rows))}\,{shape_tex((rows, inn))}"
    dW = Equation(grad_tex(W_tex), fitting(sides), elements=grad_claims(c, c.names(W)))
    out.append(d.math_block([dW], kind="bp", text=(
        f"The weights: δ = ∂L/∂a of layer {pos} is the upstream gradient (the layer is linear)"),
        math=shape_line))
    db_sides = [r"\delta" if rows == 1 else r"\sum_{r} \delta_{r}",
                result_side(c, c.names(b), c.grads, False)]
    out.append(d.math_block([Equation(grad_tex(array_name(b)), db_sides,
                                      elements=grad_claims(c, c.names(b)))],
                            kind="bp", text="The biases", math=shape_tex((units,))))
    if not c.given(c.names(x).flat[0]) or layer.position > 1:
        wnames, dnames = list(c.names(W).flat), list(c.names(a).flat)
        xg = list(c.names(x).flat)
        if rows == 1:
            texts, ap = fitted(c, [(wnames, c.vals), (dnames, c.grads)], xg,
                               matmul(inn, units, 1, transpose_a=True), c.grads)
            wm = np.array(texts[0], dtype=object).reshape(units, inn).T
            sides = [rf"\left({W_tex}\right)^{{\mathsf{{T}}}} \delta", f"{matrix(wm)} {matrix(texts[1])}",
                     result_side(c, c.names(x), c.grads, ap)]
            shape_line = rf"{shape_tex((inn,))} = {shape_tex((inn, units))}\,{shape_tex((units,))}"
        else:
            texts, ap = fitted(c, [(dnames, c.grads), (wnames, c.vals)], xg,
                               matmul(rows, units, inn), c.grads)
            sides = [rf"\Delta\, {W_tex}",
                     f"{matrix(np.array(texts[0], dtype=object).reshape(rows, units))} "
                     f"{matrix(np.array(texts[1], dtype=object).reshape(units, inn))}",
                     result_side(c, c.names(x), c.grads, ap)]
            shape_line = rf"{shape_tex((rows, inn))} = {shape_tex((rows, units))}\,{shape_tex((units, inn))}"
        out.append(d.math_block([Equation(grad_tex(x_tex), fitting(sides),
                                          elements=grad_claims(c, c.names(x)))],
                                kind="bp", text="The gradient passed down", math=shape_line))
    return out


def elementwise(c: Net, layer, factor_names, factor_source, rule_tex: str,
                 factor_tex: str, text: str) -> list:
    """∂L/∂x = ∂L/∂a ⊙ f, element by element, with the numbers of each 2-D slice."""
    x, a = c.input_of(layer), layer.output
    xn, an = c.names(x), c.names(a)
    fn = np.array(factor_names, dtype=object).reshape(xn.shape)
    eqs = []
    for lead in slices(xn.shape):
        xs, gs, fs = (xn[lead], an[lead], fn[lead]) if lead else (xn, an, fn)
        sides = [rule_tex if not lead else rule_tex.replace(
            array_name(a), sub(a, lead))]
        if written_out(xs.shape):
            texts, ap = fitted(c, [(list(gs.flat), c.grads), (list(fs.flat), factor_source)],
                               list(xs.flat), hadamard, c.grads)
            sides.append(rf"{matrix(np.array(texts[0], dtype=object).reshape(xs.shape))} \odot "
                         rf"{matrix(np.array(texts[1], dtype=object).reshape(xs.shape))}")
        else:
            ap = False
        sides.append(result_side(c, xs, c.grads, ap))
        eqs.append(Equation(grad_tex(sub(x, lead)), fitting(sides),
                            elements=grad_claims(c, xs) if written_out(xs.shape) else []))
    return [d.math_block(eqs, kind="bp", text=text,
                         math=rf"{factor_tex},\ {shape_tex(xn.shape)}")]


def activation_rule(c: Net, layer) -> list:
    x, a = c.input_of(layer), layer.output
    if whole_layer(layer.type):  # softmax: every output reads every input
        return softmax_rule(c, layer)
    if layer.type == LINEAR:  # the identity: the gradient passes unchanged
        return [tensor_block(tensor_equations(c, x, c.grads, grad=True), kind="bp",
                             text="The linear (identity) layer passes the gradient unchanged")]
    xnames, anames = c.names(x), c.names(a)
    factors = [c.solution.derivative(o, i) for o, i in zip(anames.flat, xnames.flat, strict=True)]
    source = {f"f'{n}": v for n, v in zip(xnames.flat, factors, strict=True)}
    fnames = [f"f'{n}" for n in xnames.flat]
    f_tex = op_latex(ops.OPS[layer.type], [array_name(x)]).replace(r"\left(", r"'\left(", 1)
    return elementwise(
        c, layer, fnames, source,
        rf"\frac{{\partial L}}{{\partial {array_name(a)}}} \odot {f_tex}", f_tex,
        f"The activation {layer.type}: the upstream gradient times its derivative, "
        "element by element")


def softmax_rule(c: Net, layer) -> list:
    x, a = c.input_of(layer), layer.output
    xnames, anames = c.names(x), c.names(a)
    row_x, row_a = (xnames, anames) if xnames.ndim == 1 else (xnames[(0,) * (xnames.ndim - 1)],
                                                               anames[(0,) * (anames.ndim - 1)])
    n = len(row_x)
    jac = [[c.solution.derivative(row_a[i], row_x[j]) for j in range(n)] for i in range(n)]
    jac_names = [f"J{i}_{j}" for i in range(n) for j in range(n)]
    source = dict(zip(jac_names, [v for r in jac for v in r], strict=True))
    texts, ap = fitted(c, [(jac_names, source), (list(row_a), c.grads)], list(row_x),
                       matmul(n, n, 1, transpose_a=True), c.grads)
    jm = np.array(texts[0], dtype=object).reshape(n, n)
    a_tex, x_tex = array_name(a), array_name(x)
    jac_rule = (rf"J_{{ij}} = \frac{{\partial {a_tex}_{{i}}}}{{\partial {x_tex}_{{j}}}} "
                rf"= {a_tex}_{{i}}\left([i = j] - {a_tex}_{{j}}\right)")
    sides = [rf"J^{{\mathsf{{T}}}} \frac{{\partial L}}{{\partial {a_tex}}}",
             f"{matrix(jm)}^{{\\mathsf{{T}}}} {matrix(texts[1])}",
             result_side(c, row_x, c.grads, ap)]
    eq = Equation(grad_tex(x_tex if xnames.ndim == 1 else f"{x_tex}_{{1}}"), fitting(sides),
                  elements=grad_claims(c, row_x))
    blocks = [d.Block(kind="bp", text="Softmax: the Jacobian of a row", rows=["&" + jac_rule]),
              d.math_block([eq])]
    if xnames.ndim > 1:
        blocks.append(tensor_block(tensor_equations(c, x, c.grads, grad=True),
                                   text="Every row the same way:"))
    return blocks


def flatten_rule(c: Net, layer) -> list:
    x = c.input_of(layer)
    return [tensor_block(tensor_equations(c, x, c.grads, grad=True), kind="bp", text=(
        f"Flatten moves no number: the gradient of layer {layer.position}'s output put back in the "
        f"shape {' × '.join(map(str, layer.in_shape))}"))]


def pool_rule(c: Net, layer) -> list:
    x = c.input_of(layer)
    if layer.type == "maxpool":
        marks = pool_marks(c, layer)
        text = ("Max-pool routes: each window's gradient goes to the element that was its "
                "maximum (boxed; the first in row-major order at a tie), every other element "
                "of the window gets 0")
    else:
        marks = None
        s = layer["size"]
        text = (f"Average pool shares: each element of a window gets the window's gradient "
                f"divided by {s * s}")
    return [tensor_block(tensor_equations(c, x, c.grads, grad=True, marks=marks), kind="bp",
                         text=text)]


def dropout_rule(c: Net, layer) -> list:
    x, a = c.input_of(layer), layer.output
    xnames = c.names(x)
    keep = 1 / (1 - layer["p"])
    mask = np.asarray(layer["mask"], dtype=object).reshape(xnames.shape)
    source = {f"m{n}": m * keep for n, m in zip(xnames.flat, mask.flat, strict=True)}
    return elementwise(
        c, layer, [f"m{n}" for n in xnames.flat], source,
        rf"\frac{{\partial L}}{{\partial {array_name(a)}}} \odot \frac{{m}}{{1 - p}}",
        r"\frac{m}{1 - p}",
        "Dropout: the gradient passes where the mask kept the element, scaled by 1/(1 − p), "
        "and is 0 where it dropped it")


def conv_rule(c: Net, layer) -> list:
    pos = layer.position
    x, a, K, b = c.input_of(layer), layer.output, f"K{pos}", f"b{pos}"
    (kh, kw), stride, pad = layer["kernel"], layer["stride"], layer["padding"]
    filters, channels = layer.parameters[K][:2]
    _, H, W = layer.in_shape
    _, oh, ow = layer.out_shape
    xn, an, Kn = c.names(x), c.names(a), c.names(K)
    if c.batched:
        xn, an = xn[0], an[0]
    x_tex, K_tex = array_name(x), array_name(K)
    plain = stride == 1 and pad == 0
    blocks = []
    rule = (rf"&\frac{{\partial L}}{{\partial {K_tex}_{{f,c}}}} = {x_tex}_{{c}} \star "
            rf"\delta_{{f}}, \qquad \frac{{\partial L}}{{\partial {x_tex}_{{c}}}} = \sum_{{f}} "
            rf"\delta_{{f}} \ast_{{\text{{full}}}} \operatorname{{rot180}}\left({K_tex}_{{f,c}}\right),"
            rf" \qquad \frac{{\partial L}}{{\partial b_{{f}}}} = \sum_{{i,j}} \delta_{{f,ij}}")
    element = (rf"&\frac{{\partial L}}{{\partial K_{{f,c,u,v}}}} = \sum_{{i,j}} \delta_{{f,i,j}}\, "
               rf"{x_tex}_{{c,\,{stride}i+u-{pad},\,{stride}j+v-{pad}}}")
    blocks.append(d.Block(kind="bp", text=(
        f"The convolution: δ = ∂L/∂a of layer {pos} (upstream); ⋆ is the cross-correlation "
        "the forward pass computes, ∗ a convolution (the kernel flipped), 'full' pads δ "
        f"with {kh - 1} rows and {kw - 1} columns of zeros"), rows=[rule, element] if not plain else [rule]))
    if c.batched:
        blocks.append(d.Block(text="Written for sample 1; the gradients of the parameters add "
                                   "the samples' terms."))
    eqs = []
    for f in range(filters):
        for ch in range(channels):
            kn = list(Kn[f, ch].flat)
            sides = [rf"{x_tex}_{{{ch + 1}}} \star \delta_{{{f + 1}}}"]
            if plain and not c.batched:
                texts, ap = fitted(c, [(list(xn[ch].flat), c.vals), (list(an[f].flat), c.grads)],
                                   kn, correlate(H, W, oh, ow), c.grads)
                sides.append(rf"{matrix(np.array(texts[0], dtype=object).reshape(H, W))} \star "
                             rf"{matrix(np.array(texts[1], dtype=object).reshape(oh, ow))}")
            else:
                ap = False
            sides.append(result_side(c, Kn[f, ch], c.grads, ap))
            eqs.append(Equation(grad_tex(f"{K_tex}_{{{f + 1},{ch + 1}}}"), fitting(sides),
                                elements=grad_claims(c, Kn[f, ch])))
    blocks.append(d.math_block(eqs, kind="bp", text="The kernels",
                               math=rf"{shape_tex((H, W))} \star {shape_tex((oh, ow))} "
                                    rf"\to {shape_tex((kh, kw))}"))
    beqs = []
    for f in range(filters):
        terms = list(an[f].flat)
        side = [rf"\sum_{{i,j}} \delta_{{{f + 1},ij}}"]
        if len(terms) <= 16 and not c.batched:
            line = c.display.total([c.grads[t] for t in terms], c.grads[f"{b}[{f}]"])
            c.lines.append(line)
            side.append(" + ".join(tex_number(t) for t in line.operands).replace("+ -", "- "))
            side.append(approx(tex_number(line.result), line.approx))
        else:
            side.append(c.display.tex(c.grads[f"{b}[{f}]"]))
        beqs.append(Equation(grad_tex(latex_name(f"{b}[{f}]")), side, key=f"d{L}/d{b}[{f}]"))
    blocks.append(d.math_block(beqs, kind="bp", text="The biases: each filter's δ summed"))
    flipped = []
    for f in range(filters):
        for ch in range(channels):
            texts = np.vectorize(lambda n: c.text(n, c.vals), otypes=[object])(Kn[f, ch])
            flipped.append(rf"\operatorname{{rot180}}\left({K_tex}_{{{f + 1},{ch + 1}}}\right) = "
                           rf"{matrix(texts[::-1, ::-1])}")
    dx = tensor_equations(c, x, c.grads, grad=True) if not c.batched else []
    text = ("The gradient passed down: δ padded with zeros and convolved with each flipped "
            "kernel, summed over the filters" + ("" if plain else
                                                 " (with the stride's and padding's offsets)"))
    blocks.append(d.Block(kind="bp", text=text, rows=pack(
        [Equation(r, []) for r in flipped])))
    blocks.append(tensor_block(dx, math=rf"{shape_tex((oh, ow))} \ast_{{\text{{full}}}} "
                                        rf"{shape_tex((kh, kw))} \to {shape_tex((H, W))}"))
    return blocks


def generic_rule(c: Net, layer, below: bool = False) -> list:
    """A recurrent layer or attention: the gradient of every array it writes, from its
    output down, and of its parameters (``below``: of its input and parameters only, after
    a rule that wrote the arrays)."""
    groups = [] if below else groups_of(c, layer)[::-1][1:]
    eqs = []
    for g in groups:
        eqs += tensor_equations(c, g, c.grads, grad=True)
    eqs += tensor_equations(c, c.input_of(layer), c.grads, grad=True) if layer.position > 1 else []
    for p in layer.parameters:
        eqs += tensor_equations(c, p, c.grads, grad=True)
    return [tensor_block(eqs, kind="bp", text=(
        "The gradient of its input and its parameters (each the sum over the uses of the "
        "element)" if below else "The gradient of each array the layer writes, from its "
        "output down, then of its input and its parameters (each the sum over the uses of "
        "the element)"))]
