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

from dataclasses import dataclass
from decimal import Decimal
from math import prod

import numpy as np

from .. import ops
from ..display import Display, Line, tex_number
from ..losses import LOSSES
from ..network import LOSS_NAME
from ..notation import array_name, latex_name
from ..parse import indexed_name
from ..solution import Solution
from . import document as d
from .equations import LINE, TRANSPOSED, Equation, approx, width
from .printer import op_latex

#: A 1-D array longer than this is written as a transposed row.
MAX_COLUMN = 4
#: Arrays are written out in numbers up to this many rows and columns (beyond: the shape).
MAX_SHOWN = 10
#: The step-by-step normalisation backward is written for this many features (channels
#: or rows) at most; the others are given by their arrays.
MAX_NORM_STEPS = 2
#: A sum over more members than this is written by its symbol and value only.
MAX_TERMS = 8
#: Layer types and how the handout names them.
TITLES = {
    "dense": "dense", "conv2d": "convolution", "maxpool": "max-pool", "avgpool": "average pool",
    "flatten": "flatten", "batchnorm": "batch normalisation", "layernorm": "layer normalisation",
    "dropout": "dropout", "rnn": "recurrent layer", "lstm": "LSTM", "gru": "GRU",
    "attention": "attention",
}
L = LOSS_NAME


def layered_form(solution: Solution, all_nodes: bool, show) -> bool:
    """Whether the solution is written layer by layer: a network of typed layers, not
    staged, with the default gradients (``--show`` and ``--all-nodes`` ask for scalar
    gradients, which the element-by-element document gives)."""
    return (solution.problem.layers is not None and not all_nodes and show is None
            and not any(node.generated for node in solution.graph.nodes))


# ----------------------------------------------------------------------- tensors


@dataclass
class _Net:
    solution: Solution
    display: Display
    numbers: object

    def __post_init__(self):
        self.stack = self.solution.problem.layers
        self.graph = self.solution.graph
        self.vals, self.grads = self.solution.values, self.solution.gradients
        self.batched = self.graph.groups["x"].shape[:1] != () and len(
            self.graph.groups["x"].shape) == len(self.stack.input) + 1
        self.lines: list[Line] = []

    def shape(self, array: str) -> tuple[int, ...]:
        """An array's shape; () for a single node (a layer norm's μ of one sample)."""
        group = self.graph.groups.get(array)
        return group.shape if group is not None else ()

    def names(self, array: str) -> np.ndarray:
        shape = self.shape(array)
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            out[index] = indexed_name(array, *index)
        return out

    def given(self, name: str) -> bool:
        return self.graph.is_leaf(name)

    def text(self, name: str, source: dict, places: int | None = None) -> str:
        """An element as shown: a given number as given, else at ``places``."""
        if source is self.vals and self.given(name) and places is None:
            return self.display.given(self.vals[name])
        return self.display.text(source[name], places)

    def input_of(self, layer) -> str:
        return "x" if layer.position == 1 else f"a{layer.position - 1}"


def _matrix(texts, marks=None) -> str:
    """A 1-D (column, or transposed row when long) or 2-D array of displayed numbers."""
    texts = np.asarray(texts, dtype=object)
    if texts.ndim == 1:
        if len(texts) > MAX_COLUMN:
            return _matrix(texts.reshape(1, -1), None if marks is None else
                           np.asarray(marks).reshape(1, -1)) + TRANSPOSED
        texts = texts.reshape(-1, 1)
        marks = None if marks is None else np.asarray(marks).reshape(-1, 1)
    rows, cols = texts.shape
    if rows > MAX_SHOWN or cols > MAX_SHOWN:
        return rf"\left[\ {rows} \times {cols}\ \text{{values}}\ \right]"

    def cell(i, j):
        tex = tex_number(texts[i, j])
        return rf"\boxed{{{tex}}}" if marks is not None and marks[i, j] else tex
    body = r" \\ ".join(" & ".join(cell(i, j) for j in range(cols)) for i in range(rows))
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _shown(array_shape) -> bool:
    tail = array_shape[-2:] if len(array_shape) >= 2 else array_shape
    return all(n <= MAX_SHOWN for n in tail)


def _slices(shape: tuple[int, ...]) -> list[tuple]:
    """The leading indices of the 2-D slices (or the whole array when it has at most
    two axes)."""
    return [()] if len(shape) <= 2 else list(np.ndindex(*shape[:-2]))


def _sub(tex: str, lead: tuple) -> str:
    """``a^{[1]}`` with the leading (channel, sample) indices of a slice, from 1."""
    if not lead:
        return tex
    return f"{tex}_{{{','.join(str(i + 1) for i in lead)}}}"


def _shape_tex(shape: tuple[int, ...]) -> str:
    return "(" + r" \times ".join(str(n) for n in shape) + ")"


def grad_tex(tex: str) -> str:
    return rf"\frac{{\partial {latex_name(L)}}}{{\partial {tex}}}"


def tensor_equations(c: _Net, array: str, source: dict, *, grad: bool = False,
                     places=None, lhs: str | None = None, marks=None, suffix: str = "") -> list[Equation]:
    """``array`` (values, or with ``grad`` its gradients) as one equation per 2-D slice,
    each element claimed under its key (``a1[0][1][2]``, ``dL/da1[0][1][2]``)."""
    names = c.names(array)
    head = lhs if lhs is not None else array_name(array)
    out = []
    for lead in _slices(names.shape):
        block = names[lead] if lead else names
        texts = np.empty(block.shape, dtype=object)
        claims = []
        for index in np.ndindex(*block.shape):
            name = block[index]
            p = places(name) if callable(places) else places
            texts[index] = c.text(name, source, p)
            claims.append((f"d{L}/d{name}" if grad else name, texts[index]))
        if not _shown(block.shape):
            claims = []
        side_lhs = _sub(head, lead)
        if grad:
            side_lhs = grad_tex(side_lhs)
        mark = None if marks is None else (marks[lead] if lead else marks)
        out.append(Equation(side_lhs + suffix, [_matrix(texts, mark)], elements=claims))
    return out


def pack(equations: list[Equation]) -> list[str]:
    """Equations of one side each, two or three to a row where they fit."""
    rows, current, used = [], [], 0.0
    for eq in equations:
        text = f"{eq.lhs} = {eq.sides[-1]}" if eq.sides else eq.lhs
        w = width(text) + 3
        if current and used + w > LINE + 8:  # narrow matrices: the estimate errs wide
            rows.append(r", \quad ".join(current))
            current, used = [], 0.0
        current.append(text)
        used += w
    if current:
        rows.append(r", \quad ".join(current))
    return ["&" + r for r in rows]


def tensor_block(equations: list[Equation], text: str = "", math: str = "",
                 kind: str = "plain", lines=()) -> d.Block:
    return d.Block(text=text, math=math, kind=kind, rows=pack(equations),
                   claims=[cl for e in equations for cl in e.claims()], lines=list(lines))


def fitted(c: _Net, operands: list[tuple[list[str], dict]], results: list[str],
           combine, result_source: dict) -> tuple[list[list[str]], bool]:
    """The operands' texts (each array at the decimals that make every element of the
    result follow within one unit) and whether the line is written with ≈."""
    values = [[source[n] for n in names] for names, source in operands]
    fixed = [source is c.vals and all(c.given(n) for n in names) for names, source in operands]
    places, approximate, refined = c.display.fit_arrays(
        values, [result_source[n] for n in results], combine, fixed)
    texts = [[c.text(n, source, p) for n in names]
             for (names, source), p in zip(operands, places, strict=True)]
    c.lines.append(Line(tuple(t for row in texts for t in row),
                        ",".join(c.display.text(result_source[n]) for n in results),
                        approximate, refined=refined))
    return texts, approximate


def _result_side(c: _Net, names, source: dict, approximate: bool) -> str:
    texts = np.vectorize(lambda n: c.display.text(source[n]), otypes=[object])(names)
    return approx(_matrix(texts), approximate)


def _grad_claims(c: _Net, names) -> list[tuple[str, str]]:
    return [(f"d{L}/d{n}", c.display.text(c.grads[n])) for n in np.asarray(names).flat]


# Combining the operands as shown (lists of Decimals): the checks of displayed lines.

def _outer(m: int, n: int):
    return lambda ops: [ops[0][i] * ops[1][j] for i in range(m) for j in range(n)]


def _matmul(m: int, k: int, n: int, transpose_a=False, transpose_b=False):
    """(m×k)(k×n), reading A as its transpose (k×m) or B as (n×k) when asked."""
    def combine(ops):
        a, b = ops
        def A(i, j):
            return a[j * m + i] if transpose_a else a[i * k + j]
        def B(i, j):
            return b[j * k + i] if transpose_b else b[i * n + j]
        return [sum((A(i, t) * B(t, j) for t in range(k)), Decimal(0))
                for i in range(m) for j in range(n)]
    return combine


def _hadamard(ops):
    out = list(ops[0])
    for other in ops[1:]:
        out = [x * y for x, y in zip(out, other, strict=True)]
    return out


def _correlate(h: int, w: int, kh: int, kw: int):
    """x (h×w) ⋆ d (kh×kw) as a valid cross-correlation: (h − kh + 1)×(w − kw + 1)."""
    def combine(ops):
        x, dd = ops
        return [sum((dd[i * kw + j] * x[(i + u) * w + (j + v)] for i in range(kh)
                     for j in range(kw)), Decimal(0))
                for u in range(h - kh + 1) for v in range(w - kw + 1)]
    return combine


# ----------------------------------------------------------------------- sections


def layer_sections(doc, solution: Solution, display: Display, numbers) -> None:
    """Fill the problem, forward, backward, update and second-pass sections of ``doc``
    layer by layer."""
    c = _Net(solution, display, numbers)
    doc.problem = _problem(c)
    doc.forward = _forward(c)
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


def _problem(c: _Net) -> list:
    model = []
    prev = "x"
    lead = c.shape("x")[:1] if c.batched else ()
    for layer in c.stack.layers:
        out = array_name(layer.output)
        what = _model_row(c, layer, array_name(prev))
        model.append(rf"{out} &= {what} && {_shape_tex(lead + layer.out_shape)}")
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


def _model_row(c: _Net, layer, x: str) -> str:
    pos, kind = layer.position, layer.type
    p = {name: array_name(name) for name in layer.parameters}
    if kind == "dense":
        return rf"{p[f'W{pos}']} {x} + {p[f'b{pos}']}"
    if kind == "conv2d":
        (kh, kw), s, pad = layer["kernel"], layer["stride"], layer["padding"]
        return (rf"\operatorname{{conv}}_{{{kh}\times{kw}}}\left({x};\ {p[f'K{pos}']},\ "
                rf"{p[f'b{pos}']}\right)\ \text{{(stride {s}, padding {pad})}}")
    if kind in ("maxpool", "avgpool"):
        op = "max" if kind == "maxpool" else "avg"
        return (rf"\operatorname{{{op}pool}}_{{{layer['size']}\times{layer['size']}}}"
                rf"\left({x}\right)\ \text{{(stride {layer['stride']})}}")
    if kind == "flatten":
        return rf"\operatorname{{vec}}\left({x}\right)"
    if kind in ("batchnorm", "layernorm"):
        return (rf"{p[f'gamma{pos}']} \odot \frac{{{x} - \mu^{{[{pos}]}}}}"
                rf"{{\sqrt{{\sigma^{{2[{pos}]}} + \epsilon}}}} + {p[f'beta{pos}']}")
    if kind == "dropout":
        return rf"\frac{{1}}{{1 - p}}\, m^{{[{pos}]}} \odot {x}"
    if kind in ("rnn", "lstm", "gru"):
        return rf"\operatorname{{{kind}}}\left({x};\ {', '.join(p.values())}\right)"
    if kind == "attention":
        return (rf"\operatorname{{softmax}}\left(\frac{{Q K^{{\mathsf{{T}}}}}}"
                rf"{{\sqrt{{{layer['d']}}}}}\right) V")
    return op_latex(ops.OPS[kind], [x]) if kind in ops.OPS else x


def _groups_of(c: _Net, layer) -> list[str]:
    """The arrays a layer writes, in the order it writes them (its output last)."""
    import re
    pos = layer.position
    own = [g for g in c.graph.groups if re.fullmatch(rf"[A-Za-z]+{pos}", g)
           and g not in layer.parameters and g != layer.output
           and not c.graph.is_leaf(c.names(g).flat[0])]
    return own + [layer.output]


def _forward(c: _Net) -> list:
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
        marks = _pool_marks(c, layer) if layer.type == "maxpool" else None
        if marks is not None:
            blocks.append(tensor_block(
                tensor_equations(c, c.input_of(layer), c.vals,
                                 marks=marks),
                text="Each window's maximum (boxed), the first in row-major order at a tie:"))
        if layer.type == "dropout":
            blocks.append(d.Block(text="The mask and the scale:", rows=[
                rf"&m^{{[{layer.position}]}} = {_matrix(np.asarray(layer['mask'], dtype=object).astype(str))}"
                if np.asarray(layer["mask"]).ndim <= 2 else r"&m",
                rf"&\frac{{1}}{{1 - p}} = \frac{{1}}{{1 - {tex_number(c.display.given(layer['p']))}}}"
                rf" = {tex_number(c.display.text(1 / (1 - layer['p'])))}"]))
        arrays = []
        for group in _groups_of(c, layer):
            arrays += tensor_equations(c, group, c.vals)
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


def _pool_marks(c: _Net, layer) -> np.ndarray:
    """Where each window's maximum is: the input element whose local derivative is 1."""
    src, out = c.names(c.input_of(layer)), set(c.names(layer.output).flat)
    marks = np.zeros(src.shape, dtype=bool)
    locals_ = c.solution.evaluation.locals
    for index in np.ndindex(*src.shape):
        marks[index] = any(e.upper in out and locals_[e.upper, e.lower] != 0
                           for e in c.solution.derivation.uses(src[index]))
    return marks


# ----------------------------------------------------------------------- backward


def _backward(c: _Net) -> list:
    blocks = []
    top = c.stack.layers[-1].output
    blocks.append(tensor_block(tensor_equations(c, top, c.grads, grad=True), text=(
        "The gradient of the loss with respect to the network's output:")))
    for layer in reversed(c.stack.layers):
        title = TITLES.get(layer.type, layer.type)
        blocks.append(d.Block(kind="heading", text=f"Layer {layer.position}: {title}"))
        rule = RULES.get(layer.type, _activation_rule)
        blocks += rule(c, layer)
    return blocks


def _dense_rule(c: _Net, layer) -> list:
    pos = layer.position
    x, a, W, b = c.input_of(layer), layer.output, f"W{pos}", f"b{pos}"
    units, inn = layer.parameters[W]
    rows = prod(c.shape(a)[:-1])
    x_tex, W_tex = array_name(x), array_name(W)
    out = []
    if rows == 1:  # one vector: δ aᵀ
        dnames, xnames = list(c.names(a).flat), list(c.names(x).flat)
        texts, ap = fitted(c, [(dnames, c.grads), (xnames, c.vals)], list(c.names(W).flat),
                           _outer(units, inn), c.grads)
        numeric = f"{_matrix(texts[0])} {_matrix(np.array(texts[1], dtype=object).reshape(1, -1))}"
        sides = [rf"\delta \left({x_tex}\right)^{{\mathsf{{T}}}}", numeric,
                 _result_side(c, c.names(W), c.grads, ap)]
        shape_line = rf"{_shape_tex((units, inn))} = {_shape_tex((units, 1))}\,{_shape_tex((1, inn))}"
    else:  # rows of a batch or of a sequence: Σ_r δ_r a_rᵀ = Δᵀ A
        dnames, xnames = list(c.names(a).flat), list(c.names(x).flat)
        texts, ap = fitted(c, [(dnames, c.grads), (xnames, c.vals)], list(c.names(W).flat),
                           _matmul(units, rows, inn, transpose_a=True), c.grads)
        dm = np.array(texts[0], dtype=object).reshape(rows, units).T
        xm = np.array(texts[1], dtype=object).reshape(rows, inn)
        sides = [rf"\sum_{{r}} \delta_{{r}} \left({x_tex}_{{r}}\right)^{{\mathsf{{T}}}} = "
                 rf"\Delta^{{\mathsf{{T}}}} {x_tex}", f"{_matrix(dm)} {_matrix(xm)}",
                 _result_side(c, c.names(W), c.grads, ap)]
        shape_line = rf"{_shape_tex((units, inn))} = {_shape_tex((units, rows))}\,{_shape_tex((rows, inn))}"
    dW = Equation(grad_tex(W_tex), _fitting(sides), elements=_grad_claims(c, c.names(W)))
    out.append(d.math_block([dW], kind="bp", text=(
        f"The weights: δ = ∂L/∂a of layer {pos} is the upstream gradient (the layer is linear)"),
        math=shape_line))
    db_sides = [r"\delta" if rows == 1 else r"\sum_{r} \delta_{r}",
                _result_side(c, c.names(b), c.grads, False)]
    out.append(d.math_block([Equation(grad_tex(array_name(b)), db_sides,
                                      elements=_grad_claims(c, c.names(b)))],
                            kind="bp", text="The biases", math=_shape_tex((units,))))
    if not c.given(c.names(x).flat[0]) or layer.position > 1:
        wnames, dnames = list(c.names(W).flat), list(c.names(a).flat)
        xg = list(c.names(x).flat)
        if rows == 1:
            texts, ap = fitted(c, [(wnames, c.vals), (dnames, c.grads)], xg,
                               _matmul(inn, units, 1, transpose_a=True), c.grads)
            wm = np.array(texts[0], dtype=object).reshape(units, inn).T
            sides = [rf"\left({W_tex}\right)^{{\mathsf{{T}}}} \delta", f"{_matrix(wm)} {_matrix(texts[1])}",
                     _result_side(c, c.names(x), c.grads, ap)]
            shape_line = rf"{_shape_tex((inn,))} = {_shape_tex((inn, units))}\,{_shape_tex((units,))}"
        else:
            texts, ap = fitted(c, [(dnames, c.grads), (wnames, c.vals)], xg,
                               _matmul(rows, units, inn), c.grads)
            sides = [rf"\Delta\, {W_tex}",
                     f"{_matrix(np.array(texts[0], dtype=object).reshape(rows, units))} "
                     f"{_matrix(np.array(texts[1], dtype=object).reshape(units, inn))}",
                     _result_side(c, c.names(x), c.grads, ap)]
            shape_line = rf"{_shape_tex((rows, inn))} = {_shape_tex((rows, units))}\,{_shape_tex((units, inn))}"
        out.append(d.math_block([Equation(grad_tex(x_tex), _fitting(sides),
                                          elements=_grad_claims(c, c.names(x)))],
                                kind="bp", text="The gradient passed down", math=shape_line))
    return out


def _fitting(sides: list[str]) -> list[str]:
    """The first and last sides, and the middle ones that fit the line."""
    middle = [s for s in sides[1:-1] if width(s) <= LINE - 8]
    return sides[:1] + middle + sides[-1:]


def _elementwise(c: _Net, layer, factor_names, factor_source, rule_tex: str,
                 factor_tex: str, text: str) -> list:
    """∂L/∂x = ∂L/∂a ⊙ f, element by element, with the numbers of each 2-D slice."""
    x, a = c.input_of(layer), layer.output
    xn, an = c.names(x), c.names(a)
    fn = np.array(factor_names, dtype=object).reshape(xn.shape)
    eqs = []
    for lead in _slices(xn.shape):
        xs, gs, fs = (xn[lead], an[lead], fn[lead]) if lead else (xn, an, fn)
        sides = [rule_tex if not lead else rule_tex.replace(
            array_name(a), _sub(array_name(a), lead))]
        if _shown(xs.shape):
            texts, ap = fitted(c, [(list(gs.flat), c.grads), (list(fs.flat), factor_source)],
                               list(xs.flat), _hadamard, c.grads)
            sides.append(rf"{_matrix(np.array(texts[0], dtype=object).reshape(xs.shape))} \odot "
                         rf"{_matrix(np.array(texts[1], dtype=object).reshape(xs.shape))}")
        else:
            ap = False
        sides.append(_result_side(c, xs, c.grads, ap))
        eqs.append(Equation(grad_tex(_sub(array_name(x), lead)), _fitting(sides),
                            elements=_grad_claims(c, xs) if _shown(xs.shape) else []))
    return [d.math_block(eqs, kind="bp", text=text,
                         math=rf"{factor_tex},\ {_shape_tex(xn.shape)}")]


def _activation_rule(c: _Net, layer) -> list:
    x, a = c.input_of(layer), layer.output
    if layer.type == "softmax":
        return _softmax_rule(c, layer)
    xnames, anames = c.names(x), c.names(a)
    factors = [c.solution.derivative(o, i) for o, i in zip(anames.flat, xnames.flat, strict=True)]
    source = {f"f'{n}": v for n, v in zip(xnames.flat, factors, strict=True)}
    fnames = [f"f'{n}" for n in xnames.flat]
    f_tex = op_latex(ops.OPS[layer.type], [array_name(x)]).replace(r"\left(", r"'\left(", 1)
    return _elementwise(
        c, layer, fnames, source,
        rf"\frac{{\partial L}}{{\partial {array_name(a)}}} \odot {f_tex}", f_tex,
        f"The activation {layer.type}: the upstream gradient times its derivative, "
        "element by element")


def _softmax_rule(c: _Net, layer) -> list:
    x, a = c.input_of(layer), layer.output
    xnames, anames = c.names(x), c.names(a)
    row_x, row_a = (xnames, anames) if xnames.ndim == 1 else (xnames[(0,) * (xnames.ndim - 1)],
                                                               anames[(0,) * (anames.ndim - 1)])
    n = len(row_x)
    jac = [[c.solution.derivative(row_a[i], row_x[j]) for j in range(n)] for i in range(n)]
    jac_names = [f"J{i}_{j}" for i in range(n) for j in range(n)]
    source = dict(zip(jac_names, [v for r in jac for v in r], strict=True))
    texts, ap = fitted(c, [(jac_names, source), (list(row_a), c.grads)], list(row_x),
                       _matmul(n, n, 1, transpose_a=True), c.grads)
    jm = np.array(texts[0], dtype=object).reshape(n, n)
    a_tex, x_tex = array_name(a), array_name(x)
    jac_rule = (rf"J_{{ij}} = \frac{{\partial {a_tex}_{{i}}}}{{\partial {x_tex}_{{j}}}} "
                rf"= {a_tex}_{{i}}\left([i = j] - {a_tex}_{{j}}\right)")
    sides = [rf"J^{{\mathsf{{T}}}} \frac{{\partial L}}{{\partial {a_tex}}}",
             f"{_matrix(jm)}^{{\\mathsf{{T}}}} {_matrix(texts[1])}",
             _result_side(c, row_x, c.grads, ap)]
    eq = Equation(grad_tex(x_tex if xnames.ndim == 1 else f"{x_tex}_{{1}}"), _fitting(sides),
                  elements=_grad_claims(c, row_x))
    blocks = [d.Block(kind="bp", text="Softmax: the Jacobian of a row", rows=["&" + jac_rule]),
              d.math_block([eq])]
    if xnames.ndim > 1:
        blocks.append(tensor_block(tensor_equations(c, x, c.grads, grad=True),
                                   text="Every row the same way:"))
    return blocks


def _flatten_rule(c: _Net, layer) -> list:
    x = c.input_of(layer)
    return [tensor_block(tensor_equations(c, x, c.grads, grad=True), kind="bp", text=(
        f"Flatten moves no number: the gradient of layer {layer.position}'s output put back in the "
        f"shape {' × '.join(map(str, layer.in_shape))}"))]


def _pool_rule(c: _Net, layer) -> list:
    x = c.input_of(layer)
    if layer.type == "maxpool":
        marks = _pool_marks(c, layer)
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


def _dropout_rule(c: _Net, layer) -> list:
    x, a = c.input_of(layer), layer.output
    xnames = c.names(x)
    keep = 1 / (1 - layer["p"])
    mask = np.asarray(layer["mask"], dtype=object).reshape(xnames.shape)
    source = {f"m{n}": m * keep for n, m in zip(xnames.flat, mask.flat, strict=True)}
    return _elementwise(
        c, layer, [f"m{n}" for n in xnames.flat], source,
        rf"\frac{{\partial L}}{{\partial {array_name(a)}}} \odot \frac{{m}}{{1 - p}}",
        r"\frac{m}{1 - p}",
        "Dropout: the gradient passes where the mask kept the element, scaled by 1/(1 − p), "
        "and is 0 where it dropped it")


def _conv_rule(c: _Net, layer) -> list:
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
                                   kn, _correlate(H, W, oh, ow), c.grads)
                sides.append(rf"{_matrix(np.array(texts[0], dtype=object).reshape(H, W))} \star "
                             rf"{_matrix(np.array(texts[1], dtype=object).reshape(oh, ow))}")
            else:
                ap = False
            sides.append(_result_side(c, Kn[f, ch], c.grads, ap))
            eqs.append(Equation(grad_tex(f"{K_tex}_{{{f + 1},{ch + 1}}}"), _fitting(sides),
                                elements=_grad_claims(c, Kn[f, ch])))
    blocks.append(d.math_block(eqs, kind="bp", text="The kernels",
                               math=rf"{_shape_tex((H, W))} \star {_shape_tex((oh, ow))} "
                                    rf"\to {_shape_tex((kh, kw))}"))
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
                           rf"{_matrix(texts[::-1, ::-1])}")
    dx = tensor_equations(c, x, c.grads, grad=True) if not c.batched else []
    text = ("The gradient passed down: δ padded with zeros and convolved with each flipped "
            "kernel, summed over the filters" + ("" if plain else
                                                 " (with the stride's and padding's offsets)"))
    blocks.append(d.Block(kind="bp", text=text, rows=pack(
        [Equation(r, []) for r in flipped])))
    blocks.append(tensor_block(dx, math=rf"{_shape_tex((oh, ow))} \ast_{{\text{{full}}}} "
                                        rf"{_shape_tex((kh, kw))} \to {_shape_tex((H, W))}"))
    return blocks


def _norm_rule(c: _Net, layer) -> list:
    """Batch or layer normalisation backward, as the computational-graph derivation goes:
    ∂L/∂x̂, then ∂L/∂σ², then ∂L/∂μ, then ∂L/∂x; then the compact formula."""
    pos, batch = layer.position, layer.type == "batchnorm"
    x, a = c.input_of(layer), layer.output
    xn, an, hn = c.names(x), c.names(a), c.names(f"xhat{pos}")
    mun, varn = c.names(f"mu{pos}"), c.names(f"var{pos}")
    gamma, beta = c.names(f"gamma{pos}"), c.names(f"beta{pos}")
    eps = layer["eps"]
    eps_t = c.display.given(eps)
    blocks = [d.Block(kind="bp", text=(
        "Normalisation backward, through the mean and the variance: the normalised value "
        "(x − μ)/√(σ² + ε) reads x directly and through μ and σ², which read every x of "
        "the group, so the gradient of x has three terms"), rows=[
        r"&\frac{\partial L}{\partial \hat{x}_{i}} = \frac{\partial L}{\partial y_{i}}\,\gamma,"
        r" \qquad \frac{\partial L}{\partial \sigma^{2}} = \sum_{i} \frac{\partial L}{\partial"
        r" \hat{x}_{i}} (x_{i} - \mu) \cdot \left(-\tfrac{1}{2}\right)(\sigma^{2} + \epsilon)^{-3/2}",
        r"&\frac{\partial L}{\partial \mu} = \sum_{i} \frac{\partial L}{\partial \hat{x}_{i}}"
        r" \frac{-1}{\sqrt{\sigma^{2} + \epsilon}} + \frac{\partial L}{\partial \sigma^{2}}"
        r" \frac{-2}{N} \sum_{i} (x_{i} - \mu) = -\frac{1}{\sqrt{\sigma^{2} + \epsilon}}"
        r" \sum_{i} \frac{\partial L}{\partial \hat{x}_{i}} \quad\text{(the second sum is 0)}",
        r"&\frac{\partial L}{\partial x_{i}} = \frac{\partial L}{\partial \hat{x}_{i}}"
        r" \frac{1}{\sqrt{\sigma^{2} + \epsilon}} + \frac{\partial L}{\partial \sigma^{2}}"
        r" \frac{2 (x_{i} - \mu)}{N} + \frac{\partial L}{\partial \mu} \frac{1}{N}"])]
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
                r"\sum_{i} \frac{\partial L}{\partial y_{i}}\, \hat{x}_{i}",
                *_dot_side(c, sym_y, sym_hat, c.grads[gamma.flat[g]], n)],
                key=f"d{L}/d{gamma.flat[g]}")
            eqs += [db, dg]
        if n <= MAX_TERMS:
            texts, ap = fitted(c, [(sym_y, c.grads), (gam, c.vals)], sym_hat, _hadamard, c.grads)
            eqs.append(Equation(
                r"\frac{\partial L}{\partial \hat{x}}",
                [r"\frac{\partial L}{\partial y} \odot \gamma",
                 rf"{_matrix(texts[0])} \odot {_matrix(texts[1])}",
                 _result_side(c, np.array(sym_hat, dtype=object), c.grads, ap)],
                elements=_grad_claims(c, sym_hat)))
        eqs.append(_dvar(c, sym_hat, sym_x, mu, var, eps, eps_t))
        eqs.append(_dmu(c, sym_hat, mu, var, eps, eps_t))
        eqs.append(_dx(c, sym_hat[0], sym_x[0], mu, var, eps, eps_t, n))
        if batch:
            eqs.append(_compact_batch(c, sym_y[0], sym_hat[0], var, gam[0], beta.flat[g],
                                      gamma.flat[g], sym_x[0], eps, eps_t, n))
        else:
            eqs.append(_compact_layer(c, sym_hat, sym_x[0], var, eps, eps_t, n))
        blocks.append(d.math_block(eqs, kind="bp", text=(
            f"Step by step for {word} ({n} values {where}; μ = {c.display.text(c.vals[mu])}, "
            f"σ² = {c.display.text(c.vals[var])})")))
    if len(groups) > MAX_NORM_STEPS:
        blocks.append(d.Block(text=f"The other {len(groups) - MAX_NORM_STEPS} "
                                   "groups the same way; every result:"))
    arrays = tensor_equations(c, x, c.grads, grad=True)
    for p in (f"gamma{pos}", f"beta{pos}"):
        arrays += tensor_equations(c, p, c.grads, grad=True)
    blocks.append(tensor_block(arrays, text="The gradients of the layer, every element:"))
    return blocks


def _members(c: _Net, layer, xn, g: int) -> list[tuple]:
    """The indices of the input elements group ``g`` normalises together."""
    if layer.type == "batchnorm":
        channel_axis = 1 if c.batched else 0
        return [i for i in np.ndindex(*xn.shape) if i[channel_axis] == g]
    rows = list(np.ndindex(*xn.shape[:-1]))
    return [rows[g] + (j,) for j in range(xn.shape[-1])]


def _sum_side(c: _Net, names, source, result, n) -> list[str]:
    if n > MAX_TERMS:
        return [c.display.tex(result)]
    line = c.display.total([source[s] for s in names], result)
    c.lines.append(line)
    return [" + ".join(tex_number(t) for t in line.operands).replace("+ -", "- "),
            approx(tex_number(line.result), line.approx)]


def _dot_side(c: _Net, left, right, result, n) -> list[str]:
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


def _dvar(c: _Net, hats, xs, mu, var, eps, eps_t) -> Equation:
    n = len(hats)
    head = grad_tex(latex_name(var))
    sym = (r"-\tfrac{1}{2}\left(\sigma^{2} + \epsilon\right)^{-3/2} \sum_{i} "
           r"\frac{\partial L}{\partial \hat{x}_{i}} (x_{i} - \mu)")
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


def _given_places(c: _Net, names) -> list:
    return [c.display.leaf_places if c.given(n) else None for n in names]


def _eps(eps) -> Decimal:
    return Decimal(int(eps.p)) / Decimal(int(eps.q))


def _dmu(c: _Net, hats, mu, var, eps, eps_t) -> Equation:
    n = len(hats)
    head = grad_tex(latex_name(mu))
    sym = (r"-\frac{1}{\sqrt{\sigma^{2} + \epsilon}} \sum_{i} "
           r"\frac{\partial L}{\partial \hat{x}_{i}}")
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


def _dx(c: _Net, hat, x, mu, var, eps, eps_t, n) -> Equation:
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


def _compact_batch(c: _Net, y, hat, var, gam, beta, gamma, x, eps, eps_t, n) -> Equation:
    head = grad_tex(latex_name(x))
    e = _eps(eps)
    sym = (r"\frac{\gamma}{N\sqrt{\sigma^{2} + \epsilon}}\left(N \frac{\partial L}{\partial y_{i}}"
           r" - \frac{\partial L}{\partial \beta} - \hat{x}_{i} \frac{\partial L}"
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


def _compact_layer(c: _Net, hats, x, var, eps, eps_t, n) -> Equation:
    head = grad_tex(latex_name(x))
    e = _eps(eps)
    sym = (r"\frac{1}{N\sqrt{\sigma^{2} + \epsilon}}\left(N \frac{\partial L}{\partial \hat{x}_{i}}"
           r" - \sum_{j} \frac{\partial L}{\partial \hat{x}_{j}} - \hat{x}_{i} \sum_{j}"
           r" \frac{\partial L}{\partial \hat{x}_{j}} \hat{x}_{j}\right)")
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


def _generic_rule(c: _Net, layer, below: bool = False) -> list:
    """A recurrent layer or attention: the gradient of every array it writes, from its
    output down, and of its parameters (``below``: of its input and parameters only, after
    a rule that wrote the arrays)."""
    groups = [] if below else _groups_of(c, layer)[::-1][1:]
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


def _vector_line(c: _Net, lhs: str, rule: str, operands: list, results, combine,
                 numeric) -> Equation:
    """``lhs = rule = numbers = result`` for a vector (or matrix) computed element by
    element from ``operands`` [(names, source)]: the numbers fitted so that every element
    of the result follows within one unit; ``numeric`` writes the numbers' side from the
    operands' matrices (LaTeX)."""
    results = np.asarray(results, dtype=object)
    texts, ap = fitted(c, [(list(np.asarray(n, dtype=object).flat), src) for n, src in operands],
                       list(results.flat), combine, c.grads)
    shaped = [_matrix(np.array(t, dtype=object).reshape(np.asarray(n, dtype=object).shape))
              for t, (n, _) in zip(texts, operands, strict=True)]
    return Equation(lhs, _fitting([rule, numeric(shaped), _result_side(c, results, c.grads, ap)]),
                    elements=_grad_claims(c, results))


def _locals_of(c: _Net, uppers, lowers, tag: str) -> tuple[list[str], dict]:
    """The engine's local derivatives ∂upper/∂lower, element by element, as operands."""
    names = [f"{tag}:{u}/{lo}" for u, lo in zip(uppers, lowers, strict=True)]
    locals_ = c.solution.evaluation.locals
    return names, {n: locals_[u, lo] for n, u, lo in zip(names, uppers, lowers, strict=True)}


def _lstm_rule(c: _Net, layer) -> list:
    """The LSTM cell backward, step by step from the last: the cell's gradient through
    the state and through the next step's forget gate, then each gate's."""
    pos = layer.position
    if c.batched:
        return _generic_rule(c, layer)
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
        dhdc, src = _locals_of(c, h, cc, "dh/dc")
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
            combine = _hadamard

            def numeric(m):
                return rf"{m[0]} \odot {m[1]}"
        eqs = [_vector_line(c, grad_tex(f"c_{{{T}}}"), rule, ops, cc, combine, numeric)]
        dhdo, src_o = _locals_of(c, h, o, "dh/do")
        eqs.append(_vector_line(c, grad_tex(f"o_{{{T}}}"),
                                rf"\frac{{\partial L}}{{\partial h_{{{T}}}}} \odot \tanh c_{{{T}}}",
                                [(h, c.grads), (dhdo, src_o)], o, _hadamard,
                                lambda m: rf"{m[0]} \odot {m[1]}"))
        eqs.append(_vector_line(c, grad_tex(f"i_{{{T}}}"),
                                rf"\frac{{\partial L}}{{\partial c_{{{T}}}}} \odot g_{{{T}}}",
                                [(cc, c.grads), (gg, c.vals)], i, _hadamard,
                                lambda m: rf"{m[0]} \odot {m[1]}"))
        eqs.append(_vector_line(c, grad_tex(f"g_{{{T}}}"),
                                rf"\frac{{\partial L}}{{\partial c_{{{T}}}}} \odot i_{{{T}}}",
                                [(cc, c.grads), (i, c.vals)], gg, _hadamard,
                                lambda m: rf"{m[0]} \odot {m[1]}"))
        if t > 0:
            eqs.append(_vector_line(c, grad_tex(f"f_{{{T}}}"),
                                    rf"\frac{{\partial L}}{{\partial c_{{{T}}}}} \odot c_{{{T - 1}}}",
                                    [(cc, c.grads), (c.names(f"c{pos}")[t - 1], c.vals)], f,
                                    _hadamard, lambda m: rf"{m[0]} \odot {m[1]}"))
        blocks.append(d.math_block(eqs, kind="bp", text=(
            f"Step {T}" + (" (the first: no earlier cell, so no forget term)" if t == 0 else "")),
            math=rf"\frac{{\partial L}}{{\partial h_{{{T}}}}} = "
                 rf"{_matrix([c.display.text(c.grads[n]) for n in h])}"))
        blocks[-1].claims += _grad_claims(c, h)
    return blocks + _generic_rule(c, layer, below=True)


def _attention_rule(c: _Net, layer) -> list:
    """Scaled dot-product attention backward in matrix form: through A = P V to P and V,
    through each row's softmax (its Jacobian), then to Q and K."""
    pos = layer.position
    if c.batched or layer["causal"]:
        return _generic_rule(c, layer)
    q, k, v, sc, p = (c.names(f"{n}{pos}") for n in ("q", "k", "v", "s", "p"))
    a = c.names(layer.output)
    T, dd = q.shape
    root = Decimal(dd).sqrt()
    blocks = []
    eqs = [
        _vector_line(c, grad_tex("V"), r"P^{\mathsf{T}} \delta",
                     [(p, c.vals), (a, c.grads)], v, _matmul(T, T, dd, transpose_a=True),
                     lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}"),
        _vector_line(c, grad_tex("P"), r"\delta V^{\mathsf{T}}",
                     [(a, c.grads), (v, c.vals)], p, _matmul(T, dd, T, transpose_b=True),
                     lambda m: rf"{m[0]} {m[1]}^{{\mathsf{{T}}}}")]
    blocks.append(d.math_block(eqs, kind="bp", text=(
        f"Attention: δ = ∂L/∂A of layer {pos}, A = P V"),
        math=rf"({T} \times {dd}) = ({T} \times {T})\,({T} \times {dd})"))
    row_p, row_s = list(p[0]), list(sc[0])
    jac = [[c.solution.derivative(row_p[u], row_s[w]) for w in range(T)] for u in range(T)]
    jn = [f"J{u}_{w}" for u in range(T) for w in range(T)]
    src = dict(zip(jn, [x for r in jac for x in r], strict=True))
    jeq = _vector_line(c, grad_tex(array_name(f"s{pos}") + "_{1}"),
                       r"J^{\mathsf{T}} \frac{\partial L}{\partial p_{1}}",
                       [(np.array(jn, dtype=object).reshape(T, T), src), (row_p, c.grads)],
                       row_s, _matmul(T, T, 1, transpose_a=True),
                       lambda m: rf"{m[0]}^{{\mathsf{{T}}}} {m[1]}")
    blocks.append(d.math_block([jeq], kind="bp", text=(
        "Each row of scores through its softmax: the Jacobian of row 1, "
        "J_uw = p_u([u = w] − p_w)"),
        math=r"J = \operatorname{diag}(p_{1}) - p_{1} p_{1}^{\mathsf{T}}"))
    rest = tensor_equations(c, f"s{pos}", c.grads, grad=True)

    def scaled(m_, n_, k_, ta):
        inner = _matmul(m_, n_, k_, transpose_a=ta)
        return lambda ops: [x / root for x in inner(ops)]
    eqs = [
        _vector_line(c, grad_tex("Q"), rf"\frac{{1}}{{\sqrt{{{dd}}}}} \frac{{\partial L}}"
                     rf"{{\partial S}} K", [(sc, c.grads), (k, c.vals)], q,
                     scaled(T, T, dd, False),
                     lambda m: rf"\frac{{1}}{{\sqrt{{{dd}}}}} {m[0]} {m[1]}"),
        _vector_line(c, grad_tex("K"), rf"\frac{{1}}{{\sqrt{{{dd}}}}} \left(\frac{{\partial"
                     rf" L}}{{\partial S}}\right)^{{\mathsf{{T}}}} Q",
                     [(sc, c.grads), (q, c.vals)], k, scaled(T, T, dd, True),
                     lambda m: rf"\frac{{1}}{{\sqrt{{{dd}}}}} {m[0]}^{{\mathsf{{T}}}} {m[1]}")]
    blocks.append(tensor_block(rest, text="Every row the same way:"))
    blocks.append(d.math_block(eqs, kind="bp", text=(
        f"The scores S = Q Kᵀ/√{dd}: to the queries and the keys")))
    return blocks + _generic_rule(c, layer, below=True)


RULES = {
    "dense": _dense_rule, "conv2d": _conv_rule, "maxpool": _pool_rule, "avgpool": _pool_rule,
    "flatten": _flatten_rule, "batchnorm": _norm_rule, "layernorm": _norm_rule,
    "dropout": _dropout_rule, "rnn": _generic_rule, "lstm": _lstm_rule,
    "gru": _generic_rule, "attention": _attention_rule,
}


# ----------------------------------------------------------------------- update


def _update(c: _Net, parameters: list[str]) -> d.Block:
    rate = c.display.given(c.solution.learning_rate)
    eqs = []
    for p in parameters:
        names = c.names(p)
        for lead in _slices(names.shape):
            block = names[lead] if lead else names
            shown = max(c.display.change(c.vals[n], c.solution.updated[n]) for n in block.flat)
            texts = np.vectorize(lambda n, s=shown: c.display.text(c.solution.updated[n], s),
                                 otypes=[object])(block)
            claims = [(f"{p}_new{n[len(p):]}", c.display.text(c.solution.updated[n], shown))
                      for n in block.flat]
            tex = _sub(array_name(p), lead)
            eqs.append(Equation(rf"{{{tex}}}^{{\text{{new}}}}", [
                rf"{tex} - {tex_number(rate)}\, {grad_tex(tex)}", _matrix(texts)],
                elements=claims if _shown(block.shape) else []))
    rows = [r for e in eqs for r in e.rows()]
    return d.Block(rows=rows, claims=[cl for e in eqs for cl in e.claims()])


def _after(c: _Net) -> d.Block:
    after = c.solution.values_after
    top = c.stack.layers[-1].output
    names = list(c.names(top).flat)
    shown = max(c.display.change(c.vals[n], after[n]) for n in names)
    texts = [c.display.text(after[n], shown) for n in names]
    out = Equation(rf"{{{array_name(top)}}}^{{\text{{new}}}}", [_matrix(
        np.array(texts, dtype=object).reshape(c.shape(top)) if len(c.shape(top)) <= 2
        else np.array(texts, dtype=object))],
        elements=[(f"{top}_new{n[len(top):]}", t) for n, t in zip(names, texts, strict=True)])
    places = c.display.change(c.vals[L], after[L])
    loss = Equation(rf"{latex_name(L)}^{{\text{{new}}}}", [c.display.tex(after[L], places)],
                    key=f"{L}_new")
    return d.math_block([out, loss], text="The output and the loss at the updated parameters:")


