"""The worked solution as data: every section, in ready LaTeX math, for the templates.

:func:`~.worked.worked_solution` walks a :class:`~symbackprop.solution.Solution` once and returns
the document as plain data (:class:`Document`): the problem, the forward pass one line
per node, the backward pass as chain-rule products with each local derivative explained
once, a note per gate kind, the update, the second forward pass. Math is LaTeX that
pdflatex and MathJax (GitHub, Jupyter) both read, laid out in rows of an alignment by
:class:`~.equations.Equation`; the templates (``templates/solution.tex.j2``,
``templates/solution.md.j2``) only place it. Nothing here rounds a value that is used
again: numbers are formatted for display from the solution's full-precision values.

Cut-offs that keep large problems readable (see the README, "Worked solutions"):

* a gradient with more than :data:`~symbackprop.render.text.MAX_PATHS_SHOWN` paths is written as
  one step of the sweep (a sum over the uses of the value) instead of path by path;
* the network form is written in matrix form (BP1-BP4, :mod:`.matrices`); its
  element-wise chains are added only up to :data:`MAX_ELEMENT_CHAINS` of them;
* matrices are written out with their numbers up to :data:`~.matrices.MAX_SHOWN` rows
  and columns, and by their shape beyond that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, localcontext

import sympy as sp

from .. import ops
from ..evaluate import GUARANTEED_DIGITS
from ..numbers import format_number, to_decimal
from ..solution import Chain, Solution
from .equations import Equation, width
from .printer import latex, latex_name, number_tex, partial, substituted
from .text import MAX_PATHS_SHOWN

#: Element-wise chains shown for a network (beyond: BP1-BP4 only).
MAX_ELEMENT_CHAINS = 24
#: A local derivative is written in formula form on the chain's second line when every
#: factor's formula is at most this wide (in digit widths).
SHORT_FORMULA = 16
#: Leaves are shown as given, to this many decimals at most.
LEAF_PLACES = 12


@dataclass
class Block:
    """One piece of a section: a sentence (plain text, escaped by the template), an
    optional math label before it, and display math rows (an alignment)."""

    text: str = ""
    rows: list[str] = field(default_factory=list)
    math: str = ""  # inline math the sentence ends with (e.g. the quantity it names)
    kind: str = "plain"  # "gradient", "locals", "sweep" ...: for the templates' spacing


@dataclass
class Note:
    """The note on one gate kind: its name, the gradient pattern, its local rule."""

    gate: str
    pattern: str
    rule: str


@dataclass
class Document:
    title: str
    name: str
    network: bool
    places: int
    output: str  # LaTeX of the output's name
    problem: list[Block]
    inputs: list[str]  # "x_{1} = 0.23" ... (LaTeX)
    parameters: list[str]
    learning_rate: str | None
    data_note: str
    figure: str | None
    forward: list[Block]
    backward: list[Block]
    notes: list[Note]
    update: list[Block]
    after: list[Block]
    trend: dict | None
    warnings: list[str]
    omitted: list[str]
    #: When some change that rounding would hide is shown with more decimals, the most
    #: decimals this may take (the rounding note then says so); else 0.
    widened: int = 0
    #: "graph" (the gate diagram, values on the wires) or "network" (layer by layer,
    #: arrays and their shapes): which caption the figure gets.
    figure_kind: str = ""


# ---------------------------------------------------------------------------- numbers


_TINY = re.compile(r"(-?)0\.(0{5,})(\d)(\d*)")


def number(value, places: int) -> str:
    r"""A number for display (the package's one formatter), in math: a tiny one such as
    0.0000000491 as 4.91 \cdot 10^{-8} rather than a row of zeros, and a saturated one
    such as σ(125.05) as 1 - 4.914 \cdot 10^{-55} rather than a bare 1 (which would make
    log(1 - ŷ) read as log 0), and a large one as 1.4013 \cdot 10^{65}."""
    text = format_number(_guaranteed(value), places)
    near = _near_whole(value, text)
    if near is not None:
        return near
    m = _TINY.fullmatch(text)
    if m:
        sign, zeros, first, rest = m.groups()
        mantissa = f"{first}.{rest}" if rest else first
        return rf"{sign}{mantissa} \cdot 10^{{{-(len(zeros) + 1)}}}"
    return number_tex(text)  # 1.4013e+65 with its power of ten


def _guaranteed(value):
    """A float value cut to the digits the engine guarantees, so that one which is an
    exact short decimal up to float noise in its last digits prints as itself: four-pixel's
    z1[6] is -0.0299...9 at 40 digits and -0.03 at 25, written -0.03 among 0.99, 1.22, ...
    rather than -0.0300. Exact values (``--exact``) are left as they are."""
    if not isinstance(value, sp.Float):
        return value
    d = to_decimal(value)
    if not d.is_finite() or d == 0:
        return value
    with localcontext() as ctx:
        ctx.prec = GUARANTEED_DIGITS
        ctx.Emin, ctx.Emax = MIN_EMIN, MAX_EMAX  # σ(-10^116) is tiny, not 0
        return +d


def _near_whole(value, text: str) -> str | None:
    """``N - d`` for a value that displays as a whole number N but is not one."""
    if not isinstance(value, sp.Float) or not re.fullmatch(r"-?\d+", text) or text in ("0", "-0"):
        return None
    whole = sp.Integer(int(text))
    gap = value - whole
    if gap == 0 or abs(gap) > sp.Float("1e-12"):
        return None  # the value is that whole number, or its rounding is an ordinary one
    shown = number(abs(gap), 4)
    return f"{text} {'-' if gap < 0 else '+'} {shown}"


def factor(value, places: int) -> str:
    """A number inside a product: negative numbers in parentheses."""
    text = number(value, places)
    compound = text.startswith("-") or " - " in text or " + " in text
    return f"({text})" if compound else text


#: A change that rounding to ``places`` hides is shown with up to this many more decimals.
MORE_PLACES = 4


def visible_places(old, new, places: int) -> int:
    """The decimals at which ``new`` displays differently from ``old``: ``places``, or
    more (up to ``places + MORE_PLACES``) when rounding would hide the change, so that
    w_1 = 0.1 updated to 0.09998 is not written 0.1000 as if nothing had moved."""
    old, new = to_decimal(old), to_decimal(new)
    if old == new or not (old.is_finite() and new.is_finite()):
        return places
    for p in range(places, places + MORE_PLACES + 1):
        if to_decimal(format_number(new, p)) != to_decimal(format_number(old, p)):
            return p
    return places + MORE_PLACES


def significant_places(value, places: int) -> int:
    """The decimals that keep ``places`` significant digits of a small value (0.001984,
    not 0.0020); ``places`` for a value of 0.1 or more."""
    d = to_decimal(value)
    if not d.is_finite() or d == 0:
        return places
    return max(places, places - d.adjusted() - 1)


def product(parts: list[str]) -> str:
    return r" \cdot ".join(parts)


def _wrap(tex: str) -> str:
    """A factor of a product in parentheses when it is a sum or starts with a sign."""
    if tex.startswith("-") or len(_top_level_terms(tex)) > 1:
        return rf"\left({tex}\right)"
    return tex


def _top_level_terms(tex: str) -> list[str]:
    from .equations import split_terms
    return split_terms(tex)


class Numbers:
    """Display strings of every value at the problem's point (leaves as given)."""

    def __init__(self, solution: Solution, places: int, values=None):
        values = values if values is not None else solution.values
        graph = solution.graph
        self.text = {}
        for name, value in values.items():
            digits = LEAF_PLACES if graph.is_leaf(name) and values is solution.values else places
            self.text[name] = number(value, digits)

    def __getitem__(self, name):
        return self.text[name]


# ---------------------------------------------------------------------------- sections


def widened(solution: Solution, places: int) -> bool:
    """Whether some updated parameter or second-pass value is shown with more decimals
    than ``places`` because rounding would hide its change."""
    pairs = [(solution.values[p], v) for p, v in solution.updated.items()]
    pairs += [(solution.values[n], v) for n, v in solution.values_after.items()
              if n in solution.values]
    return any(visible_places(old, new, places) > places for old, new in pairs)


def matrix_form(solution: Solution) -> bool:
    """Whether the solution is written in matrix form (BP1-BP4): a network-form problem
    whose graph is not staged. Staging (``--stage``) splits the layers' equations into
    generated gates, so the matrix-level sections no longer match the graph's edges; a
    staged network is written as a graph-form document of its gates."""
    return (solution.problem.network is not None
            and not any(node.generated for node in solution.graph.nodes))


def figure_of(solution: Solution, places: int) -> tuple[str, str] | None:
    """The computational graph as a TikZ picture and its kind ("graph": the gate diagram
    with values on the wires; "network": layer by layer), when the figure module is
    present."""
    try:
        from .figure import figure_picture
    except ImportError:
        return None
    return figure_picture(solution, places=places)


def forward_equation(node, numbers: Numbers) -> Equation:
    """``z_a = x_1 w_1 + x_2 w_3 = 0.23 \\cdot 0.1 + 0.82 \\cdot 0.4 = 0.351``."""
    symbolic = latex(node.expr)
    numeric = substituted(node.expr, numbers.text)
    sides = [symbolic] if symbolic != numeric else []
    if numeric != numbers[node.name]:
        sides.append(numeric)
    return Equation(latex_name(node.name), sides + [numbers[node.name]])


def targets(solution: Solution, all_nodes: bool) -> list[str]:
    """The names whose gradient the backward pass works out, closest to the output first
    (the lectures' order: w5, w6, then w1, w3, w2, w4)."""
    graph, out = solution.graph, solution.output
    upstream = graph.upstream(out)
    position = {n.name: i for i, n in enumerate(graph.nodes)}
    order = list(graph.leaves)
    distance = {out: 0}  # fewest edges from the output down to each name
    for name in solution.derivation.order(out):
        for edge in solution.derivation.inputs_of(name):
            distance[edge.lower] = min(distance.get(edge.lower, 10**9), distance[name] + 1)

    def key(name):
        first_user = min((position[u] for u in graph.users[name] if u in position), default=-1)
        return (distance.get(name, 0), first_user, order.index(name))

    leaves = [p for p in graph.parameters if p in upstream]
    if not leaves:
        leaves = [n for n in graph.leaves if n in upstream]
    leaves.sort(key=key)
    if not all_nodes:
        return leaves
    nodes = [n for n in solution.derivation.order(out)[1:]]
    return nodes + leaves


def chain_equation(chain: Chain, places: int) -> Equation:
    """d top / d bottom written three times: partials, local formulas, numbers."""
    head = partial(chain.top, chain.bottom)
    partials = [" ".join(partial(f.edge.upper, f.edge.lower) for f in path) for path in chain.paths]
    sides = [" + ".join(partials)]
    formulas = [[latex(f.edge.local) for f in path] for path in chain.paths]
    if all(width(t) <= SHORT_FORMULA for path in formulas for t in path):
        sides.append(" + ".join(product([_wrap(t) for t in path]) for path in formulas))
    numeric = [product([factor(f.value, places) for f in path]) for path in chain.paths]
    if len(chain.paths) > 1:
        sides.append(" + ".join(numeric))
        sides.append(" + ".join(_path_value(path, places) for path in chain.paths)
                     .replace("+ -", "- "))
    elif len(chain.paths[0]) > 1:
        sides.append(numeric[0])
    sides.append(number(chain.value, places))
    return Equation(head, sides)


def _path_value(path, places: int) -> str:
    value = sp.Integer(1)
    for f in path:
        value = value * f.value
    return number(value, places)


def local_equation(solution: Solution, edge, places: int, numbers: Numbers) -> Equation:
    """``dy/dz_c = y (1 - y) = 0.6156 (1 - 0.6156) = 0.2366``: one local derivative."""
    formula = latex(edge.local)
    value = number(solution.evaluation.locals[edge.upper, edge.lower], places)
    sides = [formula]
    if edge.local.free_symbols and not isinstance(edge.local, sp.Symbol):
        sides.append(substituted(edge.local, numbers.text))
    return Equation(partial(edge.upper, edge.lower), sides + [value])


def sweep_equation(solution: Solution, name: str, places: int) -> Equation:
    """One step of the sweep: dE/dname = the sum over its uses (for many paths)."""
    out = solution.output
    upstream = solution.graph.upstream(out) | {out}
    uses = [e for e in solution.derivation.uses(name) if e.upper in upstream]
    symbolic = " + ".join(f"{partial(out, e.upper)} {partial(e.upper, name)}" for e in uses)
    numeric = " + ".join(
        product([factor(solution.gradients[e.upper], places),
                 factor(solution.evaluation.locals[e.upper, name], places)]) for e in uses)
    return Equation(partial(out, name), [symbolic, numeric, number(solution.gradients[name], places)])


def backward_blocks(solution: Solution, names: list[str], places: int,
                    numbers: Numbers) -> list[Block]:
    """Each gradient as its chain, followed by the local derivatives it uses for the
    first time (each is explained once, as the lectures do)."""
    blocks: list[Block] = []
    explained: set[tuple[str, str]] = set()
    out = solution.output
    for name in names:
        if solution.derivation.count_paths(out, name) <= MAX_PATHS_SHOWN:
            chain = solution.chain(name, limit=MAX_PATHS_SHOWN)
            if len(chain.paths) == 1 and len(chain.paths[0]) == 1:
                # A chain of one factor is that local derivative: written once, with
                # its formula and value (not dE/dy = dE/dy = ..., then again under "where").
                edge = chain.paths[0][0].edge
                explained.add((edge.upper, edge.lower))
                blocks.append(Block(kind="gradient", math=partial(out, name), rows=
                                    local_equation(solution, edge, places, numbers).rows()))
                continue
            blocks.append(Block(kind="gradient", math=partial(out, name),
                                rows=chain_equation(chain, places).rows()))
            edges = [f.edge for path in chain.paths for f in path]
        else:
            blocks.append(Block(kind="sweep", math=partial(out, name),
                                rows=sweep_equation(solution, name, places).rows()))
            edges = [e for e in solution.derivation.uses(name)
                     if e.upper == out or e.upper in solution.graph.upstream(out)]
        fresh = []
        for edge in edges:
            if (edge.upper, edge.lower) not in explained:
                explained.add((edge.upper, edge.lower))
                fresh.append(edge)
        if fresh:
            blocks.append(Block(kind="locals", rows=[
                r for e in fresh for r in local_equation(solution, e, places, numbers).rows()]))
    return blocks


def update_equation(solution: Solution, p: str, places: int) -> Equation:
    """``w_1^{new} = w_1 - \\eta dE/dw_1 = 0.1 - 0.7 \\cdot (-0.0010) = 0.1007``."""
    rate = number(solution.learning_rate, LEAF_PLACES)
    old = number(solution.values[p], LEAF_PLACES)
    shown = visible_places(solution.values[p], solution.updated[p], places)
    gradient = solution.gradients[p]
    # When the change is small enough for rounding to hide it, the gradient keeps its
    # significant digits too (0.001984, not 0.0020), so that the line adds up.
    grad = factor(gradient, significant_places(gradient, places) if shown > places else places)
    return Equation(
        new_name(p),
        [rf"{latex_name(p)} - \eta\, {partial(solution.output, p)}",
         rf"{old} - {rate} \cdot {grad}", number(solution.updated[p], shown)])


def new_name(name: str) -> str:
    """The name after the update, ``w_1^{new}``; a name that has a superscript already
    (an element of a staged network's W^{[1]}) is braced first, as TeX needs."""
    tex = latex_name(name)
    if "^" in tex:
        tex = "{" + tex + "}"
    return rf"{tex}^{{\text{{new}}}}"


def second_pass_rows(solution: Solution, places: int) -> list[str]:
    """The forward pass again with the updated parameters, one line per node."""
    graph, before, after = solution.graph, solution.values, solution.values_after
    new = {p: number(v, visible_places(before[p], v, places))
           for p, v in solution.updated.items()}
    new.update({n: number(after[n], places) for n in graph.inputs})
    for node in graph.nodes:
        name = node.name
        new[name] = number(after[name], visible_places(before[name], after[name], places))
    rows = []
    for node in graph.nodes:
        numeric = substituted(node.expr, new)
        sides = [numeric] if numeric != new[node.name] else []
        rows += Equation(new_name(node.name), sides + [new[node.name]]).rows()
    return rows


def trend(solution: Solution, places: int) -> dict:
    out = solution.output
    # Decimals, so that exact values (``--exact``) compare and subtract reliably.
    before, after = to_decimal(solution.values[out]), to_decimal(solution.values_after[out])
    change = after - before
    shown = visible_places(before, after, places)
    return {
        "before": number(before, shown), "after": number(after, shown),
        "change": number(abs(change), significant_places(change, places)
                         if shown > places else places),
        "down": after < before,
        "relative": number(abs(change) / abs(before) * 100, 1) if before != 0 else None,
    }


def gate_notes(solution: Solution) -> list[Note]:
    """One note per kind of gate in the graph, in the order they first appear."""
    seen: dict[str, ops.Op] = {}
    for node in solution.graph.nodes:
        for sub in sp.preorder_traversal(node.expr):
            if not isinstance(sub, sp.Basic) or not sub.free_symbols:
                continue
            found = ops.classify(sub)
            if found and found[0].name not in seen:
                seen[found[0].name] = found[0]
    if matrix_form(solution):
        seen.setdefault("matmul", ops.OPS["matmul"])
    return [Note(op.gate, op.pattern, op.rule) for op in seen.values()]
