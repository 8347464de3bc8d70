"""Derivation by the chain rule on the computational graph.

Two steps, as the lectures teach them:

1. **Local derivatives**, one per edge: ``d node / d input`` for each input a node uses,
   read from the op table (:mod:`symbackprop.ops`) and written in node symbols, in the
   lectures' form (dy/dz_c = y (1 - y), not an exploded exponential). A compound node
   (``z_a = x1 w1 + x2 w3``) applies the same table rule by rule inside its expression.
2. **One reverse sweep**: for each name, the adjoint is the sum over its uses of
   (adjoint of the user) × (local derivative): upstream × local = downstream, summed
   where a value is used twice. Adjoints are kept as these sums over edges, in node
   symbols, never expanded into the leaves, so the work grows linearly with the graph.

The same edges give, on demand, every chain the worked solution prints: the products of
local derivatives along each path between two names (:meth:`Derivation.paths`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from . import ops
from .graph import Graph, Node
from .parse import decimals_as_written, has_written_number


@dataclass(frozen=True)
class Edge:
    """One edge of the graph, from ``lower`` (a value used) up to ``upper`` (its user),
    with the local derivative d upper / d lower as a SymPy expression in node symbols."""

    upper: str
    lower: str
    local: sp.Expr


def local_partials(node: Node, rewrite: dict | None = None) -> dict[str, sp.Expr]:
    """d node / d input for each input of the node, by the op table's local rules.

    One pass down the node's expression (reverse mode inside the node), so a node with
    many inputs (a wide weighted sum) costs time linear in its size. ``rewrite`` maps
    subexpressions to node symbols (e.g. ``softmax(1, z...)`` to ``a2[1]``), so that a
    local derivative refers to values the reader already has.
    """
    found: dict[sp.Symbol, sp.Expr] = {}
    stack = [(node.expr, sp.S.One, True)]
    while stack:
        expr, factor, top = stack.pop()
        if isinstance(expr, sp.Symbol):
            found[expr] = found.get(expr, sp.S.Zero) + factor
            continue
        if not expr.free_symbols:
            continue
        op, args = ops.classify(expr)
        # The lecture form refers to the gate's own output: the node symbol at the top.
        partials = op.partials(args, node.symbol if top else expr, expr)
        for arg, partial in zip(args, partials, strict=True):
            if arg.free_symbols and partial != 0:
                stack.append((arg, factor * partial, False))
    written = has_written_number(node.expr)  # 0.01*w**2: its derivative reads 0.02w
    result = {}
    for name in node.inputs:
        d = found.get(sp.Symbol(name, real=True), sp.S.Zero)
        d = d.xreplace(rewrite) if rewrite else d
        result[name] = decimals_as_written(d) if written else d
    return result


class Derivation:
    """The edges of a graph with their local derivatives, and the sweeps over them."""

    def __init__(self, graph: Graph):
        self.graph = graph
        rewrite = {node.expr: node.symbol for node in graph.nodes
                   if isinstance(node.expr, sp.Function)}
        self.edges: dict[tuple[str, str], Edge] = {}
        for node in graph.nodes:
            for lower, local in local_partials(node, rewrite).items():
                self.edges[node.name, lower] = Edge(node.name, lower, local)

    def uses(self, name: str) -> list[Edge]:
        """The edges from ``name`` up to each node that uses it (the terms of its sum)."""
        return [self.edges[user, name] for user in self.graph.users[name]]

    def inputs_of(self, node: str) -> list[Edge]:
        """The edges from a node down to each value it uses."""
        return [self.edges[node, lower] for lower in self.graph.node(node).inputs]

    def between(self, top: str, bottom: str) -> set[str]:
        """Names on some path from ``bottom`` up to ``top`` (both included)."""
        if top == bottom:
            return {top}
        up = self.graph.upstream(top) | {top}
        if bottom not in up:
            return set()
        down = {bottom}
        for node in self.graph.nodes:  # topological order: users come after what they use
            if node.name in up and any(i in down for i in node.inputs):
                down.add(node.name)
        return (up & down) | {bottom}

    def order(self, top: str) -> list[str]:
        """``top`` and every node upstream of it, in reverse topological order."""
        up = self.graph.upstream(top) | {top}
        return [n.name for n in reversed(self.graph.nodes) if n.name in up]

    def paths(self, top: str, bottom: str, limit: int = 10_000) -> list[list[Edge]]:
        """Every path from ``top`` down to ``bottom`` as a list of edges, top first.

        The derivative d top / d bottom is the sum over these paths of the product of
        the local derivatives. Raises ValueError past ``limit`` paths (wide networks).
        """
        found: list[list[Edge]] = []
        inside = self.between(top, bottom)

        def walk(name: str, trail: list[Edge]) -> None:
            if name == bottom:
                found.append(list(trail))
                if len(found) > limit:
                    raise ValueError(f"more than {limit} paths from {top} to {bottom}")
                return
            if not self.graph.is_node(name):
                return
            for edge in self.inputs_of(name):
                if edge.lower in inside:
                    trail.append(edge)
                    walk(edge.lower, trail)
                    trail.pop()

        if bottom in inside and top != bottom:
            walk(top, [])
        return found

    def count_paths(self, top: str, bottom: str) -> int:
        """The number of paths, counted without listing them."""
        inside = self.between(top, bottom)
        counts = {bottom: 1}
        for name in reversed(self.order(top)):
            if name in inside and name != bottom:
                counts[name] = sum(counts.get(e.lower, 0) for e in self.inputs_of(name)
                                   if e.lower in inside)
        return counts.get(top, 0) if top != bottom else 1

    @cached_property
    def adjoint_symbols(self) -> dict[str, sp.Symbol]:
        """A placeholder symbol per name for its adjoint, \\bar{name} in print."""
        return {n: sp.Symbol(f"\\bar{{{n}}}") for n in self.graph.names}

    def sweep(self, top: str) -> Iterator[tuple[str, list[Edge]]]:
        """The reverse sweep from ``top``: for each name below it, in the order the
        sweep reaches it, the edges whose sum gives its adjoint
        (adjoint(name) = Σ adjoint(edge.upper) × edge.local)."""
        up = self.graph.upstream(top) | {top}
        ordered = self.order(top)
        leaves = [n for n in self.graph.leaves if n in up]
        for name in ordered[1:] + leaves:
            yield name, [e for e in self.uses(name) if e.upper in up]

    def symbolic(self, top: str, bottom: str) -> sp.Expr:
        """d top / d bottom as one expression in node symbols: the sum over paths of
        the products of local derivatives, factored the way the sweep computes it."""
        inside = self.between(top, bottom)
        if not inside:
            return sp.S.Zero
        memo: dict[str, sp.Expr] = {top: sp.S.One}
        for name in self.order(top)[1:] + list(self.graph.leaves):
            if name in inside and name not in memo:
                memo[name] = sp.Add(*[memo[e.upper] * e.local for e in self.uses(name)
                                      if e.upper in memo])
        return memo.get(bottom, sp.S.Zero)


class Derivations:
    """Derivations by graph shape, owned by the caller that loads many problems of one
    shape (the exam generator: one per exercise, for its hundreds of draws).

    Local derivatives depend only on the equations and the names, never on the values
    (a problem's second forward pass already reuses them), and the exam generator loads
    hundreds of problems that differ only in their numbers: deriving each anew was a
    twentieth of the work. :meth:`of` gives a copy that has ``graph`` itself; its edges
    are shared (immutable). Nothing is kept between callers: a problem loaded without a
    cache is derived on its own.
    """

    def __init__(self, kept: int = 256):
        self.kept = kept
        self._by_shape: dict[tuple, Derivation] = {}

    def of(self, graph: Graph) -> Derivation:
        """The derivation of ``graph``, reusing the edges of an earlier graph of the same shape."""
        shape = (tuple((n.name, n.expr) for n in graph.nodes),
                 tuple((name, leaf.kind) for name, leaf in graph.leaves.items()), graph.output)
        known = self._by_shape.get(shape)
        if known is None:
            if len(self._by_shape) >= self.kept:
                self._by_shape.clear()
            known = self._by_shape[shape] = Derivation(graph)
        derivation = copy.copy(known)
        derivation.graph = graph
        return derivation

    def __len__(self) -> int:
        return len(self._by_shape)

    def __getstate__(self):
        # Sent to a worker process empty: it fills its own copy (the draws of one chunk
        # of tasks share it), rather than receiving every derivation the parent made.
        return {"kept": self.kept, "_by_shape": {}}


def adjoint_equations(derivation: Derivation, top: str) -> list[tuple[str, sp.Expr]]:
    """The backward pass as a Wengert list: (name, expression for d top / d name), each
    in node symbols and the adjoint symbols of names earlier in the list.

    One term per edge, so its size is linear in the graph, however many paths there are.
    The kernels lambdify it; the worked solution prints it as the flat-code listing.
    """
    bar = derivation.adjoint_symbols
    equations = [(top, sp.S.One)]
    for name, edges in derivation.sweep(top):
        equations.append((name, sp.Add(*[bar[e.upper] * e.local for e in edges])))
    return equations
