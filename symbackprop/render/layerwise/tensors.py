"""Arrays in a layer-level worked solution: element names gathered into their shapes,
written as matrices (one per 2-D slice) with each element's claim key, and the lines
that compute with them, fitted by the display policy so that every element of a result
follows from the numbers shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from ...display import Display, Line, tex_number
from ...network import LOSS_NAME
from ...notation import array_name, latex_name
from ...parse import indexed_name
from ...solution import Solution
from .. import document as d
from ..equations import LINE, TRANSPOSED, Equation, approx, split_terms, width

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


@dataclass
class Net:
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

    def symbol(self, array: str) -> str:
        """An array's LaTeX (μ^{[2]}), or a single node's (a layer norm's μ_{2} of one
        sample, printed as that node is everywhere)."""
        return array_name(array) if self.shape(array) else latex_name(array)

    def text(self, name: str, source: dict, places: int | None = None) -> str:
        """An element as shown: a given number as given, else at ``places``."""
        if source is self.vals and self.given(name) and places is None:
            return self.display.given(self.vals[name])
        return self.display.text(source[name], places)

    def input_of(self, layer) -> str:
        return "x" if layer.position == 1 else f"a{layer.position - 1}"


def matrix(texts, marks=None) -> str:
    """A 1-D (column, or transposed row when long) or 2-D array of displayed numbers."""
    texts = np.asarray(texts, dtype=object)
    if texts.ndim == 1:
        if len(texts) > MAX_COLUMN:
            return matrix(texts.reshape(1, -1), None if marks is None else
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


def written_out(array_shape) -> bool:
    tail = array_shape[-2:] if len(array_shape) >= 2 else array_shape
    return all(n <= MAX_SHOWN for n in tail)


def slices(shape: tuple[int, ...]) -> list[tuple]:
    """The leading indices of the 2-D slices (or the whole array when it has at most
    two axes)."""
    return [()] if len(shape) <= 2 else list(np.ndindex(*shape[:-2]))


def sub(array: str, lead: tuple, tex: str | None = None) -> str:
    """``array`` in the notation (``a^{[1]}``) with the leading (channel, sample) indices
    of a slice, from 1; ``tex``, when given, is the head written instead."""
    index = ",".join(str(i + 1) for i in lead)
    if tex is not None:
        return f"{tex}_{{{index}}}" if lead else tex
    return array_name(array, index)


def shape_tex(shape: tuple[int, ...]) -> str:
    return "(" + r" \times ".join(str(n) for n in shape) + ")"


def grad_tex(tex: str) -> str:
    return rf"\frac{{\partial {latex_name(L)}}}{{\partial {tex}}}"


def tensor_equations(c: Net, array: str, source: dict, *, grad: bool = False,
                     places=None, lhs: str | None = None, marks=None, suffix: str = "") -> list[Equation]:
    """``array`` (values, or with ``grad`` its gradients) as one equation per 2-D slice,
    each element claimed under its key (``a1[0][1][2]``, ``dL/da1[0][1][2]``)."""
    names = c.names(array)
    out = []
    for lead in slices(names.shape):
        block = names[lead] if lead else names
        texts = np.empty(block.shape, dtype=object)
        claims = []
        for index in np.ndindex(*block.shape):
            name = block[index]
            p = places(name) if callable(places) else places
            texts[index] = c.text(name, source, p)
            claims.append((f"d{L}/d{name}" if grad else name, texts[index]))
        if not written_out(block.shape):
            claims = []
        side_lhs = sub(array, lead, lhs)
        if grad:
            side_lhs = grad_tex(side_lhs)
        mark = None if marks is None else (marks[lead] if lead else marks)
        out.append(Equation(side_lhs + suffix, [matrix(texts, mark)], elements=claims))
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


def fitted(c: Net, operands: list[tuple[list[str], dict]], results: list[str],
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


def result_side(c: Net, names, source: dict, approximate: bool) -> str:
    texts = np.vectorize(lambda n: c.display.text(source[n]), otypes=[object])(names)
    return approx(matrix(texts), approximate)


def grad_claims(c: Net, names) -> list[tuple[str, str]]:
    return [(f"d{L}/d{n}", c.display.text(c.grads[n])) for n in np.asarray(names).flat]


# Combining the operands as shown (lists of Decimals): the checks of displayed lines.


def fitting(sides: list[str], split: bool = False) -> list[str]:
    """The first and last sides, and the middle ones that fit the line (with ``split``,
    also a sum whose every term fits: the equation breaks it into rows at its signs)."""
    def fits(side):
        return width(side) <= LINE - 8 or split and all(
            width(term) <= LINE - 20 for term in split_terms(side))
    middle = [s for s in sides[1:-1] if fits(s)]
    return sides[:1] + middle + sides[-1:]


def vector_line(c: Net, lhs: str, rule: str, operands: list, results, combine,
                 numeric, source: dict | None = None, claim=True, split: bool = False) -> Equation:
    """``lhs = rule = numbers = result`` for a vector (or matrix) computed element by
    element from ``operands`` [(names, source)]: the numbers fitted so that every element
    of the result follows within one unit; ``numeric`` writes the numbers' side from the
    operands' matrices (LaTeX). The results are gradients (``c.grads``) claimed under
    their keys, or values of ``source`` (a quantity with no node, such as the gradient of
    a pre-activation) claimed only where ``claim`` lists them (names; True: all).
    ``split``: a numbers' side too wide for a line is kept when the equation can break
    it into rows at its signs (a sum of products)."""
    source = c.grads if source is None else source
    results = np.asarray(results, dtype=object)
    texts, ap = fitted(c, [(list(np.asarray(n, dtype=object).flat), src) for n, src in operands],
                       list(results.flat), combine, source)
    shapes = [np.asarray(n, dtype=object).shape for n, _ in operands]
    shaped = [matrix(np.array(t, dtype=object).reshape(shape))
              for t, shape in zip(texts, shapes, strict=True)]
    numbers = numeric(shaped) if all(written_out(shape) for shape in shapes) else ""
    claimed = (list(results.flat) if claim is True else list(claim) if claim else [])
    if not written_out(results.shape):  # shown by its shape only
        claimed = []
    return Equation(lhs, fitting([rule, numbers, result_side(c, results, source, ap)],
                                 split=split),
                    elements=grad_claims(c, claimed))


def locals_of(c: Net, uppers, lowers, tag: str) -> tuple[list[str], dict]:
    """The engine's local derivatives ∂upper/∂lower, element by element, as operands."""
    names = [f"{tag}:{u}/{lo}" for u, lo in zip(uppers, lowers, strict=True)]
    locals_ = c.solution.evaluation.locals
    return names, {n: locals_[u, lo] for n, u, lo in zip(names, uppers, lowers, strict=True)}


def groups_of(c: Net, layer) -> list[str]:
    """The arrays a layer writes, in the order it writes them (its output last)."""
    pos = layer.position
    own = [g for g in c.graph.groups if re.fullmatch(rf"[A-Za-z]+{pos}", g)
           and g not in layer.parameters and g != layer.output
           and not c.graph.is_leaf(c.names(g).flat[0])]
    return own + [layer.output]


def pool_marks(c: Net, layer) -> np.ndarray:
    """Where each window's maximum is: the input element whose local derivative is 1."""
    src, out = c.names(c.input_of(layer)), set(c.names(layer.output).flat)
    marks = np.zeros(src.shape, dtype=bool)
    locals_ = c.solution.evaluation.locals
    for index in np.ndindex(*src.shape):
        marks[index] = any(e.upper in out and locals_[e.upper, e.lower] != 0
                           for e in c.solution.derivation.uses(src[index]))
    return marks


def outer(m: int, n: int):
    return lambda ops: [ops[0][i] * ops[1][j] for i in range(m) for j in range(n)]


def matmul(m: int, k: int, n: int, transpose_a=False, transpose_b=False):
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


def hadamard(ops):
    out = list(ops[0])
    for other in ops[1:]:
        out = [x * y for x, y in zip(out, other, strict=True)]
    return out


def correlate(h: int, w: int, kh: int, kw: int):
    """x (h×w) ⋆ d (kh×kw) as a valid cross-correlation: (h − kh + 1)×(w − kw + 1)."""
    def combine(ops):
        x, dd = ops
        return [sum((dd[i * kw + j] * x[(i + u) * w + (j + v)] for i in range(kh)
                     for j in range(kw)), Decimal(0))
                for u in range(h - kh + 1) for v in range(w - kw + 1)]
    return combine
