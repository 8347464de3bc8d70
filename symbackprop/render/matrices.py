"""The network form of a worked solution: matrices, BP1-BP4 with shapes and numbers.

A layered network (:class:`~symbackprop.network.Network`) is written the way the L6 Backpropagation handout
writes its MLP: the forward pass as z = W a + b and a = f(z) with the matrices and
vectors in numbers (``bmatrix``), the backward pass as the four equations of
backpropagation, layer by layer from the output,

* BP1  δ^[N] = ∇_a L ⊙ f'(z^[N])              (the output layer's error; softmax: Jᵀ ∇_a L)
* BP2  δ^[l] = ((W^[l+1])ᵀ δ^[l+1]) ⊙ f'(z^[l])  (the error one layer down)
* BP3  ∂L/∂b^[l] = δ^[l]
* BP4  ∂L/∂W^[l] = δ^[l] (a^[l-1])ᵀ

each with its shapes, then the update in matrix form and the second forward pass. Every
number is read from the solution (δ^[l] is the adjoint of z^[l] in the scalar graph);
nothing is recomputed here. Small networks also get their element-wise chains
(:func:`.document.backward_blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import ops
from ..display import Display, significant_places
from ..losses import LOSSES
from ..network import LINEAR, LOSS_NAME, whole_layer
from ..notation import array_name, latex_name
from ..parse import indexed_name
from ..solution import Solution
from . import document as d
from .equations import LINE, TRANSPOSED, Equation, split_terms, width
from .printer import latex, op_latex, substituted

#: Matrices and vectors are written out in numbers up to this many rows and columns.
MAX_SHOWN = 10
#: Longer column vectors are written as transposed rows.
MAX_COLUMN = 4
#: A matrix product is written out with its factors up to this many entries in W.
MAX_PRODUCT = 16

T = TRANSPOSED


def _values(solution: Solution, array: str, source: dict) -> list:
    return solution.graph.groups[array].nest(source)


def bmatrix(nested, display: Display, transpose: bool = False, fmt=None,
            places: int | None = None) -> str:
    """A vector (as a column) or a matrix in numbers, or its shape when it is large.
    Numbers by the display policy at ``places`` (default: the document's); ``fmt``
    (value -> LaTeX) replaces that when given."""
    if not isinstance(nested[0], list):
        if transpose or len(nested) <= MAX_COLUMN:
            rows = [list(nested)] if transpose else [[v] for v in nested]
        else:  # a long column vector, written as a transposed row to save the page
            return bmatrix([list(nested)], display, fmt=fmt, places=places) + T
    else:
        rows = nested
    if transpose and isinstance(nested[0], list):
        rows = [list(col) for col in zip(*rows, strict=True)]
    if len(rows) > MAX_SHOWN or len(rows[0]) > MAX_SHOWN:
        return rf"\left[\ {len(rows)} \times {len(rows[0])}\ \text{{values}}\ \right]"
    fmt = fmt or (lambda v: display.tex(v, places))
    body = r" \\ ".join(" & ".join(fmt(v) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def shape(rows: int, cols: int = 1) -> str:
    return rf"({rows} \times {cols})"


def array_partial(top: str, array: str) -> str:
    return rf"\frac{{\partial {latex_name(top)}}}{{\partial {array_name(array)}}}"


def _activation(act: str, arg: str, prime: bool = False) -> str:
    if act == LINEAR:
        return arg if not prime else "1"
    text = op_latex(ops.OPS[act], [arg])
    return text.replace(r"\left(", r"'\left(", 1) if prime else text


def _rows(*equations: Equation) -> list[str]:
    return [r for e in equations for r in e.rows()]


def _fits(side: str) -> bool:
    """Whether a side can be set within the line, split at its sums if need be."""
    return all(width(part) <= LINE - 8 for part in split_terms(side))


def _fitting(sides: list[str]) -> list[str]:
    """The first (symbolic) and last (result) sides, and the middle ones that fit."""
    return sides[:1] + [s for s in sides[1:-1] if _fits(s)] + sides[-1:]


@dataclass
class _Net:
    """What every section of the network form reads: the solution, its network, the
    display policy, and the names of the activations a^[0] = x, a^[1], ..."""

    solution: Solution
    display: Display
    numbers: object

    def __post_init__(self):
        self.net = self.solution.problem.network
        self.graph = self.solution.graph
        self.depth = self.net.depth
        self.a = ["x"] + [f"a{layer}" for layer in range(1, self.depth + 1)]
        self.vals, self.grads = self.solution.values, self.solution.gradients

    def matrix(self, array: str, source: dict, **options) -> str:
        """``array`` in numbers from ``source`` (values, gradients, ...)."""
        return bmatrix(_values(self.solution, array, source), self.display, **options)


def network_sections(doc, solution: Solution, display: Display, names: list[str],
                     numbers, show: bool = False) -> None:
    """Fill the problem, forward, backward, update and second-pass sections of ``doc``.

    ``names`` are the scalar gradients worked out element by element; with ``show``
    (``--show``) they are also all the backward pass covers: BP3/BP4 only for the
    arrays they belong to, BP1/BP2 only down to the lowest layer they need."""
    c = _Net(solution, display, numbers)
    loss_symbolic = latex(c.graph.node(LOSS_NAME).expr)
    if width(loss_symbolic) > LINE // 2:  # the model keeps a column for the shapes
        loss_symbolic = LOSSES[c.net.loss].tex.replace("[N]", f"[{c.depth}]")
    asked = {c.graph.group_of(n).name if c.graph.group_of(n) else n
             for n in names} if show else set(c.net.parameters)
    doc.problem = _problem(c, loss_symbolic)
    doc.forward = _forward(c, loss_symbolic)
    doc.backward = _backward(c, asked, show)
    if len(names) <= d.MAX_ELEMENT_CHAINS:
        doc.backward.append(d.Block(kind="heading", text="Element by element"))
        doc.backward += d.backward_blocks(solution, names, display, numbers)
    else:
        doc.omitted.append(
            f"The element-wise chains of the {len(names)} scalar gradients are left out "
            f"(more than {d.MAX_ELEMENT_CHAINS}); BP1-BP4 above give every one of them.")
    if solution.updated:
        doc.update = _update(c, [p for p in c.net.parameters if p in asked])
        doc.after = _second_pass(c)


def _problem(c: _Net, loss_symbolic: str) -> list:
    """The problem: the matrix-level equations with shapes, the given arrays."""
    net = c.net
    model = []
    for layer in range(1, c.depth + 1):
        n, m = net.layers[layer], net.layers[layer - 1]
        model.append(rf"{array_name(f'z{layer}')} &= {array_name(f'W{layer}')} "
                     rf"{array_name(c.a[layer - 1])} + {array_name(f'b{layer}')} "
                     rf"&& {shape(n)} = {shape(n, m)}\,{shape(m)} + {shape(n)}")
        model.append(rf"{array_name(f'a{layer}')} &= "
                     rf"{_activation(net.activations[layer - 1], array_name(f'z{layer}'))} "
                     rf"&& {shape(n)}")
    model.append(rf"{latex_name(LOSS_NAME)} &= {loss_symbolic}")
    given = []
    for array in ["x", "y"] + net.parameters:
        source = {n: c.vals[n] for n in c.graph.groups[array].names()}
        given.append(Equation(array_name(array), [
            c.matrix(array, source, places=c.display.leaf_places)], key=array))
    return [d.Block(kind="model", rows=model),
            d.Block(kind="given", rows=_pack_given(given),
                    claims=[claim for e in given for claim in e.claims()])]


def _forward(c: _Net, loss_symbolic: str) -> list:
    """The forward pass in matrix form."""
    net, vals = c.net, c.vals
    forward = []
    for layer in range(1, c.depth + 1):
        W, b, z, act = f"W{layer}", f"b{layer}", f"z{layer}", net.activations[layer - 1]
        prev = c.a[layer - 1]
        sides = [rf"{array_name(W)} {array_name(prev)} + {array_name(b)}"]
        if net.layers[layer] * net.layers[layer - 1] <= MAX_PRODUCT:
            sides.append(" ".join([c.matrix(W, vals), c.matrix(prev, vals), "+",
                                   c.matrix(b, vals)]))
        sides.append(c.matrix(z, vals))
        forward.append(Equation(array_name(z), sides, key=z))
        forward.append(Equation(array_name(c.a[layer]), [
            _activation(act, array_name(z)), c.matrix(c.a[layer], vals)], key=c.a[layer]))
    loss_node = c.graph.node(LOSS_NAME)
    numeric = substituted(loss_node.expr, c.numbers.text)
    forward.append(Equation(latex_name(LOSS_NAME), [
        loss_symbolic, *([numeric] if _fits(numeric) else []), c.numbers[LOSS_NAME]],
        key=LOSS_NAME))
    return [d.math_block(forward)]


def _backward(c: _Net, asked: set[str], show: bool) -> list:
    """The backward pass: BP1-BP4, layer by layer from the output, down to the lowest
    layer that an asked array needs."""
    solution, net, display, vals, grads, a = c.solution, c.net, c.display, c.vals, c.grads, c.a
    depth = c.depth
    back: list[d.Block] = []
    out_a = a[depth]
    n_out = net.layers[depth]
    grad_out = _values(solution, out_a, grads)
    locals_out = [d.local_equation(solution, solution.derivation.edges[LOSS_NAME, e], c.numbers)
                  for e in c.graph.groups[out_a].names()] if n_out <= MAX_COLUMN else []
    back.append(d.math_block(
        [*locals_out, Equation(rf"\nabla_{{{array_name(out_a)}}} {latex_name(LOSS_NAME)}",
                               [bmatrix(grad_out, display)], key=f"d{LOSS_NAME}/d{out_a}")],
        kind="bp", text="The gradient of the loss with respect to the output",
        math=rf"\nabla_{{{array_name(out_a)}}} {latex_name(LOSS_NAME)}\ {shape(n_out)}"))
    lowest = min((int(p[1:]) for p in asked if p[:1] in "Wb" and p[1:].isdigit()), default=1)
    if show and "x" in asked:
        lowest = 1
    for layer in range(depth, lowest - 1, -1):
        z, W, b, act = f"z{layer}", f"W{layer}", f"b{layer}", net.activations[layer - 1]
        n, m = net.layers[layer], net.layers[layer - 1]
        delta = rf"\delta^{{[{layer}]}}"
        delta_v = bmatrix(_values(solution, z, grads), display)
        head = rf"{delta} = \frac{{\partial {latex_name(LOSS_NAME)}}}{{\partial {array_name(z)}}}"
        prime = _local_vector(solution, layer)
        if layer == depth:
            label, grad_a = "BP1, the error of the output layer", bmatrix(grad_out, display)
            if whole_layer(act):
                jac = [[solution.derivative(indexed_name(f"a{layer}", i), indexed_name(z, j))
                        for j in range(n)] for i in range(n)]
                sides = [rf"\left(\frac{{\partial {array_name(a[layer])}}}{{\partial "
                         rf"{array_name(z)}}}\right){T} \nabla_{{{array_name(a[layer])}}} L",
                         f"{bmatrix(jac, display, transpose=True)} {grad_a}"]
            else:
                sides = [rf"\nabla_{{{array_name(a[layer])}}} L \odot "
                         rf"{_activation(act, array_name(z), prime=True)}",
                         rf"{grad_a} \odot {bmatrix(prime, display)}"]
        else:
            label = "BP2, the error one layer down"
            W_up, up = f"W{layer + 1}", rf"\delta^{{[{layer + 1}]}}"
            grad_a = bmatrix(_values(solution, a[layer], grads), display)
            sides = [rf"\left(\left({array_name(W_up)}\right){T} {up}\right) \odot "
                     rf"{_activation(act, array_name(z), prime=True)}",
                     rf"\left({bmatrix(_values(solution, W_up, vals), display, transpose=True)} "
                     rf"{bmatrix(_values(solution, f'z{layer + 1}', grads), display)}"
                     rf"\right) \odot {bmatrix(prime, display)}",
                     rf"{grad_a} \odot {bmatrix(prime, display)}"]
        back.append(d.math_block([Equation(head, _fitting(sides + [delta_v]),
                                           key=f"d{LOSS_NAME}/d{z}")],
                                 kind="bp", text=label, math=rf"{delta}\ {shape(n)}"))
        if layer == depth:
            back += _fused(solution, net, display, delta_v)
        dW = Equation(array_partial(LOSS_NAME, W), _fitting([
            rf"{delta} \left({array_name(a[layer - 1])}\right){T}",
            " ".join([delta_v, bmatrix(_values(solution, a[layer - 1], vals), display,
                                       transpose=True)]),
            bmatrix(_values(solution, W, grads), display)]), key=f"d{LOSS_NAME}/d{W}")
        if W in asked:
            back.append(d.math_block([dW], kind="bp", text="BP4, the gradient of the weights",
                                     math=rf"{shape(n, m)} = {shape(n)}\,{shape(1, m)}"))
        db = Equation(array_partial(LOSS_NAME, b), [delta, delta_v], key=f"d{LOSS_NAME}/d{b}")
        if b in asked:
            back.append(d.math_block([db], kind="bp", text="BP3, the gradient of the biases",
                                     math=shape(n)))
    return back


def _update(c: _Net, parameters: list[str]) -> list:
    """The update in matrix form, for ``parameters``."""
    solution, display = c.solution, c.display
    rate = display.tex(solution.learning_rate, display.leaf_places)
    equations = []
    for P in parameters:
        shown = _visible(solution, c.graph.groups[P].names(), solution.updated, display)
        grad_fmt = None
        if shown > display.places:  # small changes: the gradients keep significant digits
            def grad_fmt(v):
                return display.tex(v, significant_places(v, display.places))
        equations.append(Equation(rf"{array_name(P)}_{{\text{{new}}}}", _fitting([
            rf"{array_name(P)} - \eta\, {array_partial(LOSS_NAME, P)}",
            rf"{c.matrix(P, c.vals, places=display.leaf_places)}"
            rf" - {rate} \cdot "
            rf"{c.matrix(P, c.grads, fmt=grad_fmt)}",
            c.matrix(P, solution.updated, places=shown)]), key=f"{P}_new"))
    return [d.math_block(equations)]


def _second_pass(c: _Net) -> list:
    """The forward pass again with the updated parameters, array by array."""
    solution, display = c.solution, c.display
    after = solution.values_after
    equations = []
    for layer in range(1, c.depth + 1):
        for array in (f"z{layer}", c.a[layer]):
            shown = _visible(solution, c.graph.groups[array].names(), after, display)
            equations.append(Equation(rf"{array_name(array)}_{{\text{{new}}}}", [
                c.matrix(array, after, places=shown)], key=f"{array}_new"))
    shown = display.change(c.vals[LOSS_NAME], after[LOSS_NAME])
    equations.append(Equation(rf"{latex_name(LOSS_NAME)}_{{\text{{new}}}}",
                              [display.tex(after[LOSS_NAME], shown)], key=f"{LOSS_NAME}_new"))
    return [d.math_block(equations)]


#: Why the error collapses to a − y when a loss meets its canonical output activation
#: (the loss table's ``canonical``), by loss: a sentence and rows of math.
_FUSED = {
    "cce": (
        "Softmax with cross-entropy: the error is the output minus the target",
        [r"\delta_{k} &= \sum_{j} \frac{\partial L}{\partial a_{j}}"
         r"\frac{\partial a_{j}}{\partial z_{k}} = \sum_{j} \left(-\frac{y_{j}}{a_{j}}\right)"
         r" a_{j} \left([j = k] - a_{k}\right) = -y_{k} + a_{k} \sum_{j} y_{j} = a_{k} - y_{k}",
         r"&\text{since the target sums to 1, } \textstyle\sum_{j} y_{j} = 1"]),
    "bce": (
        "Sigmoid with binary cross-entropy: the error is the output minus the target",
        [r"\delta_{k} &= \frac{\partial L}{\partial a_{k}} \sigma'(z_{k}) = "
         r"\left(-\frac{y_{k}}{a_{k}} + \frac{1 - y_{k}}{1 - a_{k}}\right) a_{k} (1 - a_{k})"
         r" = -y_{k} (1 - a_{k}) + (1 - y_{k})\, a_{k} = a_{k} - y_{k}"]),
}


def _fused(solution: Solution, net, display: Display, delta_v: str) -> list:
    """For softmax with cross-entropy (or sigmoid with binary cross-entropy) at the
    output, the fused rule δ = a − y, why it holds, and its numbers: the same δ as BP1,
    by a shorter road that the lectures take."""
    depth = net.depth
    fused = _FUSED.get(net.loss)
    if fused is None or LOSSES[net.loss].canonical != net.activations[depth - 1]:
        return []
    text, why = fused
    a_out, y = f"a{depth}", "y"
    vals = solution.values
    numbers = Equation(rf"\delta^{{[{depth}]}}", [
        rf"{array_name(a_out)} - {array_name(y)}",
        rf"{bmatrix(_values(solution, a_out, vals), display)} - "
        rf"{bmatrix(_values(solution, y, vals), display, places=display.leaf_places)}",
        delta_v])
    return [d.Block(kind="bp", text=text, rows=why + numbers.rows())]


def _visible(solution: Solution, names, new: dict, display: Display) -> int:
    """The decimals at which every changed element of an array shows its change
    (:meth:`~symbackprop.display.Display.change`), one count for the whole matrix."""
    return max(display.change(solution.values[n], new[n]) for n in names)


def _local_vector(solution: Solution, layer: int) -> list:
    """f'(z^[l]) element by element: the local derivative of a_i with respect to z_i."""
    names = solution.graph.groups[f"z{layer}"].names()
    outs = solution.graph.groups[f"a{layer}"].names()
    return [solution.derivative(o, z) for o, z in zip(outs, names, strict=True)]


def _pack_given(equations: list[Equation]) -> list[str]:
    """The given arrays, two or three to a row where they fit."""
    rows, current, used = [], [], 0.0
    for eq in equations:
        text = f"{eq.lhs} = {eq.sides[0]}"
        w = width(text) + 8
        if current and used + w > LINE - 4:
            rows.append(r", \quad ".join(current))
            current, used = [], 0.0
        current.append(text)
        used += w
    if current:
        rows.append(r", \quad ".join(current))
    return ["&" + r for r in rows]
