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

* a gradient with more than :data:`~symbackprop.render.lines.MAX_PATHS_SHOWN` paths is written as
  one step of the sweep (a sum over the uses of the value) instead of path by path;
* the network form is written in matrix form (BP1-BP4, :mod:`.matrices`); its
  element-wise chains are added only up to :data:`MAX_ELEMENT_CHAINS` of them;
* matrices are written out with their numbers up to :data:`~.matrices.MAX_SHOWN` rows
  and columns, and by their shape beyond that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .. import ops
from ..display import Display, Used, significant_places, tex_number
from ..numbers import to_decimal
from ..solution import Chain, Solution
from .equations import Equation, approx, width
from .lines import MAX_PATHS_SHOWN, chain_numbers, sweep_line, update_line, vanishing
from .printer import held_partial, latex, latex_name, partial, substituted

#: Element-wise chains shown for a network (beyond: BP1-BP4 only).
MAX_ELEMENT_CHAINS = 24
#: A local derivative is written in formula form on the chain's second line when every
#: factor's formula is at most this wide (in digit widths).
SHORT_FORMULA = 16


@dataclass
class Block:
    """One piece of a section: a sentence (plain text, escaped by the template), an
    optional math label before it, and display math rows (an alignment)."""

    text: str = ""
    rows: list[str] = field(default_factory=list)
    math: str = ""  # inline math the sentence ends with (e.g. the quantity it names)
    kind: str = "plain"  # "gradient", "locals", "sweep" ...: for the templates' spacing
    header: list[str] = field(default_factory=list)  # kind "table": column heads (math)
    cells: list[list[str]] = field(default_factory=list)  # kind "table": rows of math
    #: The displayed computations whose numbers the rows show (the rounding note reads
    #: them from the finished document: :func:`rounding_note`).
    lines: list = field(default_factory=list)
    #: Every number the block shows that names a quantity, with its claim key
    #: (docs/claim-keys.md): ``[(key, number as shown)]``; ``verify`` accepts each.
    claims: list[tuple[str, str]] = field(default_factory=list)
    #: The equations the rows lay out (a printer that lays out math its own way, the
    #: text account, reads them; empty where the rows were written directly).
    equations: list = field(default_factory=list)
    #: kind "figure": the computed picture (a convolution's window, the pooling windows:
    #: :mod:`.layerwise.windows`), which the LaTeX and HTML printers draw; None where the
    #: grids are too large, and ``text`` says so.
    figure: object = None


def math_block(equations: list, **fields) -> Block:
    """A block of display math made of equations: their rows, the displayed
    computations they show (for the rounding note) and the claim key of each result."""
    return Block(rows=[r for eq in equations for r in eq.rows()],
                 lines=[line for eq in equations for line in eq.lines],
                 claims=[c for eq in equations for c in eq.claims()],
                 equations=list(equations), **fields)


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
    #: The rounding note (plain text): what the display policy did in this document.
    rounding_note: str = ""
    #: The optimizer of the update (its rule in symbols, convention, settings), when the
    #: problem has an [optimizer]; None for plain gradient descent.
    optimizer: dict | None = None
    #: The later steps as a table (header, rows), when the optimizer takes several.
    steps: dict | None = None
    #: The mini-batch: each sample's loss and gradients, then their means.
    batch: list[Block] = field(default_factory=list)
    #: The display policy the document was built by, with the digits of every quantity
    #: it shows in several places (:attr:`Display.keyed`): a page that shows the same
    #: quantities (the HTML handout, the practice page) reads them through it.
    display: Display | None = None
    #: Written layer by layer (a network of typed layers: :mod:`.layerwise`).
    layered: bool = False


def document_claims(doc: Document) -> list[tuple[str, str]]:
    """Every number the document shows under a claim key, ``[(key, number as shown)]``,
    in the order of the page (a key shown twice is listed twice)."""
    blocks = doc.problem + doc.forward + doc.backward + doc.batch + doc.update + doc.after
    found = [c for b in blocks for c in b.claims]
    if doc.steps:
        found += doc.steps.get("claims", [])
    if doc.trend:
        found += doc.trend["claims"]
    return found


# ---------------------------------------------------------------------------- numbers


def factor_tex(text: str) -> str:
    """A displayed number (plain text) as a factor of a product in LaTeX: a negative or
    compound one in parentheses."""
    tex = tex_number(text)
    compound = tex.startswith("-") or " - " in tex or " + " in tex
    return f"({tex})" if compound else tex


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
    """Display strings of every value at the problem's point (leaves as given): ``text``
    in LaTeX by name, ``plain`` by symbol (for checking a substituted line)."""

    def __init__(self, solution: Solution, display: Display, values=None):
        values = values if values is not None else solution.values
        graph = solution.graph
        self.display = display
        self.values = values
        self.text: dict[str, str] = {}
        self.plain: dict[sp.Symbol, str] = {}
        for name, value in values.items():
            given = graph.is_leaf(name) and values is solution.values
            self.set(name, display.given(value) if given
                     else display.text(value, display.at(name)))

    def set(self, name: str, plain: str) -> None:
        self.text[name] = tex_number(plain)
        self.plain[sp.Symbol(name, real=True)] = plain

    def __getitem__(self, name):
        return self.text[name]

    def result(self, expr, value, key: str | None = None) -> str:
        """The displayed value of ``expr`` (the quantity ``key``) as a final side: marked
        ≈ when ``expr`` at the numbers shown does not give it within one unit of its
        last digit."""
        plain = self.display.text(value, self.display.at(key))
        return approx(tex_number(plain), not self.display.holds(expr, self.plain, plain))


# ---------------------------------------------------------------------------- sections


def widened(solution: Solution, display: Display) -> bool:
    """Whether some updated parameter, second-pass value or value after a later step is
    shown with more decimals than ``places`` because rounding would hide its change."""
    pairs = [(solution.values[p], v) for p, v in solution.updated.items()]
    pairs += [(solution.values[n], v) for n, v in solution.values_after.items()
              if n in solution.values]
    for before, after in zip(solution.steps, solution.steps[1:], strict=False):
        old, new = before.point.evaluation.values, after.point.evaluation.values
        pairs += [(old[n], new[n]) for n in [solution.output, *solution.graph.parameters]]
    return any(display.change(old, new) > display.places for old, new in pairs)


def rounding_note(doc: Document, solution: Solution, display: Display) -> str:
    """The rounding note, read from the finished document: ≈ where a row shows one, a
    refined factor where a displayed line has one, widened decimals where an update,
    the second pass or a step shows them. It depends on nothing the sections did while
    they were built, so it is right whatever order they were built in."""
    blocks = [*doc.problem, *doc.forward, *doc.backward, *doc.update, *doc.after, *doc.batch]
    rows = [r for b in blocks for r in b.rows]
    rows += [c for b in blocks for row in b.cells for c in row]
    if doc.steps:
        rows += [c for row in doc.steps["rows"] for c in row]
    used = Used.of_lines([line for b in blocks for line in b.lines],
                         widened=display.widened_to() if widened(solution, display) else 0,
                         approximated=any(r"\approx" in r for r in rows))
    return display.note(used)


def matrix_form(solution: Solution) -> bool:
    """Whether the solution is written in matrix form (BP1-BP4): a network-form problem
    whose graph is not staged. Staging (``--stage``) splits the layers' equations into
    generated gates, so the matrix-level sections no longer match the graph's edges; a
    staged network is written as a graph-form document of its gates."""
    return (solution.problem.network is not None
            and not any(node.generated for node in solution.graph.nodes))


def figure_of(solution: Solution, display: Display) -> tuple[str, str] | None:
    """The computational graph as a TikZ picture and its kind ("graph": the gate diagram
    with values on the wires; "network": layer by layer), when the figure module is
    present."""
    try:
        from .figure import figure_picture
    except ImportError:
        return None
    return figure_picture(solution, display)


def forward_equation(node, numbers: Numbers) -> Equation:
    """``z_a = x_1 w_1 + x_2 w_3 = 0.23 \\cdot 0.1 + 0.82 \\cdot 0.4 = 0.351``."""
    symbolic = latex(node.expr)
    numeric = substituted(node.expr, numbers.text)
    sides = [symbolic] if symbolic != numeric else []
    result = numbers[node.name]
    if numeric != result:
        sides.append(numeric)
        result = numbers.result(node.expr, numbers.values[node.name], node.name)
    return Equation(latex_name(node.name), sides + [result], key=node.name)


def edge_partial(solution: Solution, edge) -> str:
    """The symbol of an edge's local derivative: d upper / d lower, or, when ``lower``
    reaches ``upper`` by other paths too, the immediate partial with the other inputs
    held fixed (``dh3/dw|h2``), which is not the total d upper / d lower."""
    key = solution.local_key(edge.upper, edge.lower)
    return held_partial(key.name, key.wrt, key.held)


def chain_equation(chain: Chain, display: Display, solution: Solution | None = None) -> Equation:
    """d top / d bottom written three times: partials, local formulas, numbers.

    The numbers are chosen by the display policy so that each path's factors give the
    path's value as shown, and the paths' values give the result as shown; a path whose
    value is exactly 0 (a factor is 0) is not added in the sum of the paths' values."""
    head = partial(chain.top, chain.bottom)
    symbol = (lambda e: edge_partial(solution, e)) if solution is not None else (
        lambda e: partial(e.upper, e.lower))
    partials = [" ".join(symbol(f.edge) for f in path) for path in chain.paths]
    sides = [" + ".join(partials)]
    formulas = [[latex(f.edge.local) for f in path] for path in chain.paths]
    if all(width(t) <= SHORT_FORMULA for path in formulas for t in path):
        sides.append(" + ".join(product([_wrap(t) for t in path]) for path in formulas))
    key = f"d{chain.top}/d{chain.bottom}"
    numbers = chain_numbers(chain, display, display.at(key))
    products = [product([factor_tex(t) for t in line.operands]) for line in numbers.products]
    if numbers.total is not None:
        sides.append(" + ".join(products))
        terms = " + ".join(tex_number(t) for t in numbers.total.operands).replace("+ -", "- ")
        sides.append(approx(terms, any(line.approx for line in numbers.products)))
        sides.append(approx(tex_number(numbers.result), numbers.total.approx))
    else:
        if len(chain.paths[0]) > 1:
            sides.append(products[0])
        sides.append(approx(tex_number(numbers.result), numbers.approx))
    lines = numbers.products + ((numbers.total,) if numbers.total is not None else ())
    return Equation(head, sides, lines, key=key)


def local_equation(solution: Solution, edge, numbers: Numbers,
                   key: str | None = None) -> Equation:
    """``dy/dz_c = y (1 - y) = 0.6156 (1 - 0.6156) = 0.2366``: one local derivative
    (``key``: the claim key of its value, when it is shown as a gradient)."""
    formula = latex(edge.local)
    value = solution.evaluation.locals[edge.upper, edge.lower]
    sides = [formula]
    # d upper/d lower is the derivative over every path; where the edge is not the only
    # path, the local derivative is the partial with the other paths' nodes held fixed.
    local = solution.local_key(edge.upper, edge.lower)
    head = held_partial(local.name, local.wrt, local.held)
    key = key or str(local)
    if edge.local.free_symbols and not isinstance(edge.local, sp.Symbol):
        sides.append(substituted(edge.local, numbers.text))
        return Equation(head, sides + [numbers.result(edge.local, value, key)], key=key)
    return Equation(head, sides + [numbers.display.tex(value, numbers.display.at(key))],
                    key=key)


def sweep_equation(solution: Solution, name: str, display: Display) -> Equation:
    """One step of the sweep: dE/dname = the sum over its uses (for many paths)."""
    out = solution.output
    upstream = solution.graph.upstream(out) | {out}
    uses = [e for e in solution.derivation.uses(name) if e.upper in upstream]
    symbolic = " + ".join(f"{partial(out, e.upper)} {edge_partial(solution, e)}" for e in uses)
    line = sweep_line(solution, name, uses, display, display.at(f"d{out}/d{name}"))
    pairs = zip(line.operands[::2], line.operands[1::2], strict=True)
    numeric = " + ".join(product([factor_tex(g), factor_tex(v)]) for g, v in pairs)
    return Equation(partial(out, name),
                    [symbolic, numeric, approx(tex_number(line.result), line.approx)], (line,),
                    key=f"d{out}/d{name}")


def vanish_tex(solution: Solution, reason: str) -> str:
    """What makes a vanished path 0, in math: ``y_{1} = 0`` or the zero factor."""
    if "/" in reason:
        upper, lower = reason.split("/")
        return f"{partial(upper, lower)} = 0"
    return f"{latex_name(reason)} = 0"


def backward_blocks(solution: Solution, names: list[str], display: Display,
                    numbers: Numbers, whole=frozenset()) -> list[Block]:
    """Each gradient as its chain, followed by the local derivatives it uses for the
    first time (each is explained once, as the lectures do). The gradients of ``whole``
    are written with every path (a shared weight's sum over its uses shows them all), so
    no path of theirs is said to be left out."""
    blocks: list[Block] = []
    explained: set[tuple[str, str]] = set()
    said: set[str] = set()  # what makes vanished paths 0, once said
    out = solution.output
    for name in names:
        if solution.derivation.count_paths(out, name) <= MAX_PATHS_SHOWN:
            chain, vanished = vanishing(solution, solution.chain(name, limit=MAX_PATHS_SHOWN))
            if name in whole:
                chain, vanished = solution.chain(name, limit=MAX_PATHS_SHOWN), []
            fresh_zeros = [v for v in vanished if v not in said]
            if fresh_zeros:  # said once, for this chain and every later one
                said.update(fresh_zeros)
                blocks.append(Block(kind="vanish", math=", ".join(
                    vanish_tex(solution, v) for v in fresh_zeros)))
            if len(chain.paths) == 1 and len(chain.paths[0]) == 1:
                # A chain of one factor is that local derivative: written once, with
                # its formula and value (not dE/dy = dE/dy = ..., then again under "where").
                edge = chain.paths[0][0].edge
                explained.add((edge.upper, edge.lower))
                local = local_equation(solution, edge, numbers, f"d{out}/d{name}")
                blocks.append(math_block([local], kind="gradient", math=partial(out, name)))
                continue
            blocks.append(math_block([chain_equation(chain, display, solution)],
                                     kind="gradient", math=partial(out, name)))
            edges = [f.edge for path in chain.paths for f in path]
        else:
            blocks.append(math_block([sweep_equation(solution, name, display)],
                                     kind="sweep", math=partial(out, name)))
            edges = [e for e in solution.derivation.uses(name)
                     if e.upper == out or e.upper in solution.graph.upstream(out)]
        fresh = []
        for edge in edges:
            if (edge.upper, edge.lower) not in explained:
                explained.add((edge.upper, edge.lower))
                fresh.append(edge)
        if fresh:
            blocks.append(math_block([local_equation(solution, e, numbers) for e in fresh],
                                     kind="locals"))
    return blocks


def update_equation(solution: Solution, p: str, display: Display) -> Equation:
    """``w_1^{new} = w_1 - \\eta dE/dw_1 = 0.1 - 0.7 \\cdot (-0.0010) = 0.1007``."""
    line = update_line(solution, p, display)
    old, rate, grad = line.operands
    return Equation(
        new_name(p),
        [rf"{latex_name(p)} - \eta\, {partial(solution.output, p)}",
         rf"{tex_number(old)} - {tex_number(rate)} \cdot {factor_tex(grad)}",
         approx(tex_number(line.result), line.approx)], (line,), key=f"{p}_new")


def new_name(name: str) -> str:
    """The name after the update, ``w_1^{new}``; a name that has a superscript already
    (an element of a staged network's W^{[1]}) is braced first, as TeX needs."""
    tex = latex_name(name)
    if "^" in tex:
        tex = "{" + tex + "}"
    return rf"{tex}^{{\text{{new}}}}"


def second_pass_equations(solution: Solution, display: Display) -> list[Equation]:
    """The forward pass again with the updated parameters, one equation per node."""
    graph, before, after = solution.graph, solution.values, solution.values_after
    new = Numbers(solution, display, {})
    for p, v in solution.updated.items():
        new.set(p, display.text(v, display.change(before[p], v)))
    for n in graph.inputs:
        new.set(n, display.text(after[n]))
    for node in graph.nodes:
        name = node.name
        new.set(name, display.text(after[name], display.change(before[name], after[name])))
    rows = []
    for node in graph.nodes:
        numeric = substituted(node.expr, new.text)
        result = new[node.name]
        sides = [numeric] if numeric != result else []
        if sides:
            shown = new.plain[sp.Symbol(node.name, real=True)]
            result = approx(result, not display.holds(node.expr, new.plain, shown))
        rows.append(Equation(new_name(node.name), sides + [result], key=f"{node.name}_new"))
    return rows


def trend(solution: Solution, display: Display) -> dict:
    out = solution.output
    # Decimals, so that exact values (``--exact``) compare and subtract reliably.
    before, after = to_decimal(solution.values[out]), to_decimal(solution.values_after[out])
    change = after - before
    shown = display.change(before, after)
    places = display.places
    before_text = display.text(before, display.at(out, shown))
    after_text = display.text(after, display.at(f"{out}_new", shown))
    return {
        "before": tex_number(before_text), "after": tex_number(after_text),
        "claims": [(out, before_text), (f"{out}_new", after_text)],
        "change": display.tex(abs(change), significant_places(change, places)
                              if shown > places else places),
        "down": after < before,
        "same": after == before,
        "zero_step": all(solution.updated[p] == solution.values[p] for p in solution.updated),
        "relative": display.tex(abs(change) / abs(before) * 100, 1) if before != 0 else None,
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
        matmul = ops.OPS["matmul"]
        seen.setdefault(matmul.name, matmul)
    return [Note(op.rule.gate, op.rule.pattern, op.rule.text) for op in seen.values()]
