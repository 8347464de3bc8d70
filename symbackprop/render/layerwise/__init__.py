"""The worked solution of a network of typed layers, layer by layer.

A network of typed layers (:mod:`symbackprop.layers`) is derived element by element, one
node per element; its worked solution is written the way a course writes it, per layer:

* the forward pass as small tensors with their shapes (each 2-D slice a ``bmatrix``),
  with one element of each layer written out with its numbers;
* each layer's backward rule in the notation teachers use: a dense layer's
  ∂L/∂W = δ aᵀ with the shapes checked on the line, an activation's f'(z) ⊙, softmax's
  Jacobian, max-pool routing (the window's gradient to its maximum), a convolution's
  ∂L/∂K as the cross-correlation of its input with δ and its input gradient as the full
  convolution of δ with the flipped kernel, batch and layer normalisation through the
  mean and the variance step by step and then the compact formula, dropout's mask and
  1/(1 − p);
* one element of every parameter's gradient as its chain-rule sum with numbers
  (:func:`.document.backward_blocks`), so that a student can follow one number end to end.

Every number is the engine's: the arrays are the values and gradients of the graph's
element nodes, gathered into their shapes; a line that shows numbers on both sides is
checked by the display policy (:meth:`~symbackprop.display.Display.fit_arrays`), which
gives an operand more digits until every element of the result shown follows from the
operands shown within one unit, or writes the line with ≈. Every number shown carries its
element claim key (``a1[0][2][3]``, ``dL/dK1[0][0][1][1]``).
"""

from __future__ import annotations

import numpy as np

from ...display import Display, tex_number
from ...notation import array_name, latex_name
from ...solution import Solution
from .. import document as d
from ..equations import Equation
from .attention import attention_rule
from .cells import lstm_rule
from .forward import forward_blocks, problem_blocks
from .norm import norm_rule
from .recurrent import gru_rule, rnn_rule
from .rules import (
    activation_rule,
    conv_rule,
    dense_rule,
    dropout_rule,
    flatten_rule,
    pool_rule,
)
from .tensors import (
    MAX_TERMS,
    TITLES,
    L,
    Net,
    grad_tex,
    matrix,
    slices,
    sub,
    tensor_block,
    tensor_equations,
    written_out,
)


def layered_form(solution: Solution, all_nodes: bool, show) -> bool:
    """Whether the solution is written layer by layer: a network of typed layers, not
    staged, with the default gradients (``--show`` and ``--all-nodes`` ask for scalar
    gradients, which the element-by-element document gives)."""
    return (solution.problem.layers is not None and not all_nodes and show is None
            and not any(node.generated for node in solution.graph.nodes))


def layer_sections(doc, solution: Solution, display: Display, numbers) -> None:
    """Fill the problem, forward, backward, update and second-pass sections of ``doc``
    layer by layer."""
    c = Net(solution, display, numbers)
    doc.problem = problem_blocks(c)
    doc.forward = forward_blocks(c)
    doc.backward = _backward(c)
    parameters = list(c.stack.parameters)
    firsts = [c.names(p).flat[0] for p in parameters]
    doc.backward.append(d.Block(kind="heading", text="One number end to end"))
    doc.backward.append(d.Block(text=(
        "One element of each parameter's gradient, written out as its chain-rule sum over "
        "the uses of the parameter, each use the gradient already found times its local "
        "derivative: the same numbers as the arrays above.")))
    doc.backward += _short_locals(d.backward_blocks(solution, firsts, display, numbers,
                                                    whole=frozenset(firsts)))
    if solution.updated:
        doc.update = [_update(c, parameters)]
        doc.after = [_after(c)]
    for block in doc.backward + doc.forward:
        block.lines = list(block.lines)
    doc.forward[0].lines += c.lines


def _short_locals(blocks: list) -> list:
    """The chains' blocks, a long list of local derivatives that are each a number of the
    forward pass (∂a/∂K is the input element K multiplies) said in a sentence instead."""
    out = []
    for block in blocks:
        if block.kind == "locals" and len(block.rows) > MAX_TERMS:
            out.append(d.Block(text=(
                f"where each of the {len(block.rows)} local derivatives is the number the "
                "parameter multiplies in that element's forward equation (written in the sums "
                "above).")))
            continue
        out.append(block)
    return out


def _backward(c: Net) -> list:
    blocks = []
    top = c.stack.layers[-1].output
    blocks.append(tensor_block(tensor_equations(c, top, c.grads, grad=True), text=(
        "The gradient of the loss with respect to the network's output:")))
    for layer in reversed(c.stack.layers):
        title = TITLES.get(layer.type, layer.type)
        blocks.append(d.Block(kind="heading", text=f"Layer {layer.position}: {title}"))
        rule = RULES.get(layer.type, activation_rule)
        blocks += rule(c, layer)
    return blocks


RULES = {
    "dense": dense_rule, "conv2d": conv_rule, "maxpool": pool_rule, "avgpool": pool_rule,
    "flatten": flatten_rule, "batchnorm": norm_rule, "layernorm": norm_rule,
    "dropout": dropout_rule, "rnn": rnn_rule, "lstm": lstm_rule,
    "gru": gru_rule, "attention": attention_rule,
}


def _update(c: Net, parameters: list[str]) -> d.Block:
    rate = c.display.given(c.solution.learning_rate)
    eqs = []
    for p in parameters:
        names = c.names(p)
        for lead in slices(names.shape):
            block = names[lead] if lead else names
            shown = max(c.display.change(c.vals[n], c.solution.updated[n]) for n in block.flat)
            texts = np.vectorize(lambda n, s=shown: c.display.text(c.solution.updated[n], s),
                                 otypes=[object])(block)
            claims = [(f"{p}_new{n[len(p):]}", c.display.text(c.solution.updated[n], shown))
                      for n in block.flat]
            tex = sub(p, lead)
            eqs.append(Equation(rf"{{{tex}}}^{{\text{{new}}}}", [
                rf"{tex} - {tex_number(rate)}\, {grad_tex(tex)}", matrix(texts)],
                elements=claims if written_out(block.shape) else []))
    rows = [r for e in eqs for r in e.rows()]
    return d.Block(rows=rows, claims=[cl for e in eqs for cl in e.claims()])


def _after(c: Net) -> d.Block:
    after = c.solution.values_after
    top = c.stack.layers[-1].output
    names = list(c.names(top).flat)
    shown = max(c.display.change(c.vals[n], after[n]) for n in names)
    texts = [c.display.text(after[n], shown) for n in names]
    out = Equation(rf"{{{array_name(top)}}}^{{\text{{new}}}}", [matrix(
        np.array(texts, dtype=object).reshape(c.shape(top)) if len(c.shape(top)) <= 2
        else np.array(texts, dtype=object))],
        elements=[(f"{top}_new{n[len(top):]}", t) for n, t in zip(names, texts, strict=True)])
    places = c.display.change(c.vals[L], after[L])
    loss = Equation(rf"{latex_name(L)}^{{\text{{new}}}}", [c.display.tex(after[L], places)],
                    key=f"{L}_new")
    return d.math_block([out, loss], text="The output and the loss at the updated parameters:")
