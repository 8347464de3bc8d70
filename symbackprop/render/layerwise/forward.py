"""The problem and the forward pass of a network of typed layers, layer by layer."""

from __future__ import annotations

import numpy as np

from ... import ops
from ...display import tex_number
from ...losses import LOSSES
from ...notation import array_name, latex_name
from .. import document as d
from ..equations import LINE, Equation, width
from ..printer import op_latex
from .attention import causal_forward
from .tensors import (
    TITLES,
    L,
    Net,
    groups_of,
    matrix,
    pool_marks,
    shape_tex,
    tensor_block,
    tensor_equations,
)
from .windows import conv_block, pool_block


def problem_blocks(c: Net) -> list:
    model = []
    prev = "x"
    lead = c.shape("x")[:1] if c.batched else ()
    for layer in c.stack.layers:
        out = array_name(layer.output)
        what = _model_row(c, layer, array_name(prev))
        model.append(rf"{out} &= {what} && {shape_tex(lead + layer.out_shape)}")
        prev = layer.output
    per_sample = LOSSES[c.stack.loss].tex.replace("[N]", f"[{len(c.stack.layers)}]")
    if lead:
        model.append(rf"{latex_name(L)} &= \frac{{1}}{{{lead[0]}}} \sum_{{s}} L_{{s}}, \quad "
                     rf"L_{{s}} = {per_sample}")
    else:
        model.append(rf"{latex_name(L)} &= {per_sample}")
    given = []
    for array in ["x", "y", *c.stack.parameters]:
        given += tensor_equations(c, array, c.vals)
    return [d.Block(kind="model", rows=model), tensor_block(given)]


def _model_row(c: Net, layer, x: str) -> str:
    pos, kind = layer.position, layer.type
    p = {name: array_name(name) for name in layer.parameters}
    if kind == "dense":
        return rf"{p[f'W{pos}']} {x} + {p[f'b{pos}']}"
    if kind == "conv2d":
        (kh, kw), s, pad = layer["kernel"], layer["stride"], layer["padding"]
        return (rf"\operatorname{{conv}}_{{{kh} \times {kw}}}\left({x};\ {p[f'K{pos}']},\ "
                rf"{p[f'b{pos}']}\right)\ \text{{(stride {s}, padding {pad})}}")
    if kind in ("maxpool", "avgpool"):
        return (rf"\operatorname{{{kind}}}_{{{layer['size']} \times {layer['size']}}}"
                rf"\left({x}\right)\ \text{{(stride {layer['stride']})}}")
    if kind == "flatten":
        return rf"\operatorname{{vec}}\left({x}\right)"
    if kind in ("batchnorm", "layernorm"):
        mu, var = c.symbol(f"mu{pos}"), c.symbol(f"var{pos}")
        return (rf"{p[f'gamma{pos}']} \odot \frac{{{x} - {mu}}}"
                rf"{{\sqrt{{{var} + \epsilon}}}} + {p[f'beta{pos}']}")
    if kind == "dropout":
        return rf"\frac{{1}}{{1 - p}}\, m^{{[{pos}]}} \odot {x}"
    if kind in ("rnn", "lstm", "gru"):
        return rf"\operatorname{{{kind}}}\left({x};\ {', '.join(p.values())}\right)"
    if kind == "attention":
        return (rf"\operatorname{{softmax}}\left(\frac{{Q K^{{\mathsf{{T}}}}}}"
                rf"{{\sqrt{{{layer['d']}}}}}\right) V")
    return op_latex(ops.OPS[kind], [x]) if kind in ops.OPS else x


def forward_blocks(c: Net) -> list:
    blocks = []
    for layer in c.stack.layers:
        title = TITLES.get(layer.type, layer.type)
        head = d.Block(kind="heading", text=f"Layer {layer.position}: {title}")
        blocks.append(head)
        first = c.graph.node(c.names(layer.output).flat[0])
        worked = []
        if layer.type in ("batchnorm", "layernorm"):
            pos = layer.position
            worked = [d.forward_equation(c.graph.node(n), c.numbers)
                      for n in [*c.names(f"mu{pos}").flat, *c.names(f"var{pos}").flat][:4]]
            worked.append(d.forward_equation(c.graph.node(c.names(f"xhat{pos}").flat[0]),
                                             c.numbers))
        if layer.type not in ("flatten",) and first.expr.free_symbols:
            worked.append(d.forward_equation(first, c.numbers))
        if worked:
            blocks.append(d.math_block(worked, text="One element, with its numbers:"))
        if layer.type == "conv2d":
            blocks.append(conv_block(c, layer, first.name))
        elif layer.type in ("maxpool", "avgpool"):
            blocks.append(pool_block(c, layer))
        marks = pool_marks(c, layer) if layer.type == "maxpool" else None
        if marks is not None:
            blocks.append(tensor_block(
                tensor_equations(c, c.input_of(layer), c.vals,
                                 marks=marks),
                text="Each window's maximum (boxed), the first in row-major order at a tie:"))
        if layer.type == "dropout":
            blocks.append(d.Block(text="The mask and the scale:", rows=[
                rf"&m^{{[{layer.position}]}} = {matrix(np.asarray(layer['mask'], dtype=object).astype(str))}"
                if np.asarray(layer["mask"]).ndim <= 2 else r"&m",
                rf"&\frac{{1}}{{1 - p}} = \frac{{1}}{{1 - {tex_number(c.display.given(layer['p']))}}}"
                rf" = {tex_number(c.display.text(1 / (1 - layer['p'])))}"]))
        arrays = []
        for group in groups_of(c, layer):
            arrays += tensor_equations(c, group, c.vals)
        if layer.type == "attention" and layer["causal"] and not c.batched:
            blocks += causal_forward(c, layer, arrays)
            continue
        blocks.append(tensor_block(arrays, text=(
            f"The output, {_shape_words(c.shape(layer.output))}:")))
    loss = c.graph.node(L)
    numeric = d.substituted(loss.expr, c.numbers.text)
    sides = [numeric] if width(numeric) < LINE - 8 else []
    blocks.append(d.math_block([Equation(latex_name(L), [*sides, c.numbers.result(
        loss.expr, c.vals[L]) if sides else c.numbers[L]], key=L)], text="The loss:"))
    return blocks


def _shape_words(shape) -> str:
    return "of shape " + " × ".join(str(n) for n in shape)
