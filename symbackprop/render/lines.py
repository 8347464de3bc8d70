"""The numbers of each displayed computation, chosen once for every format.

A chain (the paths' products and their sum), one step of the sweep and an update are
written in the plain-text account and in the LaTeX/Markdown worked solution alike; the
digits of their numbers come from the document's :class:`~symbackprop.display.Display`
here, so that both formats show the same numbers, which add up in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sympy as sp

from ..display import Display, Line, significant_places
from ..errors import ClaimError
from ..keys import parse_key
from ..solution import Chain, Solution

#: Above this many paths a gradient is shown as one step of the sweep instead.
MAX_PATHS_SHOWN = 4


@dataclass(frozen=True)
class ChainNumbers:
    """The numbers of a chain: one product per path, and (for several paths) the sum of
    the paths' values without the paths that are exactly 0."""

    products: tuple[Line, ...]
    total: Line | None
    result: str
    approx: bool  # the result does not follow from the numbers shown


def path_value(path) -> sp.Expr:
    """The product of a path's local derivatives (exactly 0 when one of them is)."""
    value = sp.Integer(1)
    for f in path:
        value = value * f.value
    return value


def vanishing(solution: Solution, chain: Chain) -> tuple[Chain, list[str]]:
    """The chain without the paths through a local derivative that is exactly 0, and
    what makes each such factor 0: the leaf that is 0 in its formula (``y[0]``, the
    one-hot target's zeros: the terms with y_j = 0 vanish), else the factor's edge as
    ``upper/lower``. A chain whose every path vanishes is kept whole (it shows why its
    value is 0)."""
    kept, why = [], []
    for path in chain.paths:
        zeros = [f for f in path if f.value == 0]
        if not zeros:
            kept.append(path)
            continue
        for f in zeros:
            leaves = sorted(str(s) for s in f.edge.local.free_symbols
                            if solution.graph.is_leaf(str(s)) and solution.values[str(s)] == 0)
            for reason in leaves or [f"{f.edge.upper}/{f.edge.lower}"]:
                if reason not in why:
                    why.append(reason)
    if not kept or len(kept) == len(chain.paths):
        return chain, []
    return Chain(chain.top, chain.bottom, tuple(kept), chain.value), why


def chain_numbers(chain: Chain, display: Display,
                  result_places: int | None = None) -> ChainNumbers:
    """Each path's factors with the digits that give the path's value as shown, the
    paths' values with the digits that give the result as shown. A path whose value is
    exactly 0 (a factor is 0) is left out of the sum: no term that is not there."""
    values = [path_value(path) for path in chain.paths]
    if len(chain.paths) == 1:
        line = display.product([f.value for f in chain.paths[0]], chain.value, result_places)
        return ChainNumbers((line,), None, line.result, line.approx)
    kept = [i for i, v in enumerate(values) if v != 0] or list(range(len(values)))
    total = display.total([values[i] for i in kept], chain.value, result_places)
    places = dict(zip(kept, total.places, strict=True))
    products = tuple(display.product([f.value for f in path], values[i], places.get(i))
                     for i, path in enumerate(chain.paths))
    approx = total.approx or any(line.approx for line in products)
    return ChainNumbers(products, total, total.result, approx)


def sweep_line(solution: Solution, name: str, uses, display: Display,
               result_places: int | None = None) -> Line:
    """dE/dname = Σ dE/duser · duser/dname: the operands in pairs (gradient, local)."""
    operands = [v for e in uses for v in (solution.gradients[e.upper],
                                           solution.evaluation.locals[e.upper, name])]
    return display.fit(operands, solution.gradients[name], _sum_of_pairs, result_places)


def _sum_of_pairs(values: list[Decimal]) -> Decimal:
    return sum((values[i] * values[i + 1] for i in range(0, len(values), 2)), Decimal(0))


def update_line(solution: Solution, p: str, display: Display) -> Line:
    """The numbers of ``p_new = p - η dE/dp``: p and η as given, the gradient with the
    digits that make the line add up (a small one keeps its significant digits, 0.001984
    rather than 0.0020), the new value with the decimals that show its change."""
    shown = display.change(solution.values[p], solution.updated[p])
    gradient = solution.gradients[p]
    # When the change is small enough for rounding to hide it, the gradient keeps its
    # significant digits too (0.001984, not 0.0020).
    start = significant_places(gradient, display.places) if shown > display.places else None
    return display.fit(
        [solution.values[p], solution.learning_rate, gradient],
        solution.updated[p], _step, result_places=shown,
        operand_places=[display.leaf_places, display.leaf_places, None],
        start_places=[None, None, start])


def _step(values: list[Decimal]) -> Decimal:
    old, rate, gradient = values
    return old - rate * gradient


def targets(solution: Solution, all_nodes: bool, show: list[str] | None = None) -> list[str]:
    """The names whose gradient the backward pass works out, closest to the output first
    (the lectures' order: w5, w6, then w1, w3, w2, w4): the parameters (or, without any,
    the leaves), every node and input as well with ``all_nodes`` (CS231n asks for
    df/dx0 of a neuron that has weights), or exactly the names ``show`` asks for
    (:func:`shown_names`), inputs included."""
    graph, out = solution.graph, solution.output
    upstream = graph.upstream(out)
    position = {n.name: i for i, n in enumerate(graph.nodes)}
    order = list(graph.names)
    distance = {out: 0}  # fewest edges from the output down to each name
    for name in solution.derivation.order(out):
        for edge in solution.derivation.inputs_of(name):
            distance[edge.lower] = min(distance.get(edge.lower, 10**9), distance[name] + 1)

    def key(name):
        first_user = min((position[u] for u in graph.users[name] if u in position), default=-1)
        return (distance.get(name, 0), first_user, order.index(name))

    if show is not None:
        return sorted(show, key=key)
    leaves = [p for p in graph.parameters if p in upstream]
    if not leaves:
        leaves = [n for n in graph.leaves if n in upstream]
    leaves.sort(key=key)
    if not all_nodes:
        return leaves
    nodes = [n for n in solution.derivation.order(out)[1:]]
    inputs = sorted((n for n in graph.leaves if n in upstream and n not in leaves), key=key)
    return nodes + leaves + inputs


def shown_names(solution: Solution, keys: list[str]) -> list[str]:
    """The scalar names that ``--show`` keys ask the gradient of: ``dE/dw1`` is w1,
    ``dL/dW2`` every element of W2. Each key must be a gradient of the output."""
    names: list[str] = []
    for text in keys:
        key = parse_key(text, solution.key_names)
        if key.kind != "derivative" or key.name != solution.output:
            example = next(iter(solution.graph.parameters or solution.graph.leaves))
            raise ClaimError(f"'{text}' is not a gradient of the output "
                             f"(such as d{solution.output}/d{example})")
        group = solution.graph.groups.get(key.wrt)
        for name in group.names() if group else [key.wrt]:
            if name not in names:
                names.append(name)
    return names


def needed_edges(solution: Solution, names: list[str]) -> set[tuple[str, str]]:
    """The edges (upper, lower) on the way from the output down to any of ``names``:
    the local derivatives their gradients need."""
    out = solution.output
    above = solution.graph.upstream(out) | {out}
    users = solution.graph.users
    reach: set[str] = set()
    stack = [n for n in names if n in above]
    while stack:
        n = stack.pop()
        if n in reach:
            continue
        reach.add(n)
        stack += [u for u in users.get(n, []) if u in above]
    return {(e.upper, e.lower) for e in solution.derivation.edges.values()
            if e.upper in reach and e.lower in reach}
