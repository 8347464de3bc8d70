"""The computational graph: named equations in topological order (a Wengert list).

Everything else walks this list: the chain-rule sweep, the evaluator, the worked solution,
the figure and the kernels. A :class:`Graph` holds leaves (inputs, which are data, and
parameters, which are trained) and nodes (``name = expression`` over earlier names).
Vectors and matrices are held element by element (``W1[0][1]``); a :class:`Group` says
which scalar names form one array, so that reports can show them as nested lists.

:func:`build_graph` checks what a user can get wrong (undefined or doubled names,
cycles, an unknown output) and :func:`stage` splits compound formulas into atomic gates
with generated names, as the lectures do (q = x + y, f = q z).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

from . import ops
from .errors import GraphError, did_you_mean
from .parse import indexed_name, symbol

UPSTREAM_KEPT = 8  # upstream sets remembered per graph


@dataclass(frozen=True)
class Leaf:
    """A value given in the problem: ``kind`` is "input" (data) or "parameter" (trained)."""

    name: str
    kind: str
    value: sp.Rational

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)


@dataclass(frozen=True)
class Node:
    """One equation ``name = expr``; ``generated`` marks gates made by :func:`stage`."""

    name: str
    expr: sp.Expr
    generated: bool = False

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """The names the expression uses, in a stable order."""
        return tuple(sorted((s.name for s in self.expr.free_symbols), key=_natural))

    @property
    def op(self) -> ops.Op | None:
        """The op at the top of the expression (the node's gate when staged)."""
        found = ops.classify(self.expr)
        return found[0] if found else None


@dataclass(frozen=True)
class Group:
    """Scalar names that form one vector or matrix, e.g. ``W1`` of shape (2, 2)."""

    name: str
    shape: tuple[int, ...]

    def names(self) -> list[str]:
        """Element names in row-major order."""
        return [indexed_name(self.name, *i) for i in np.ndindex(*self.shape)]

    def nest(self, values: dict) -> list:
        """The group's values as nested lists, from a name -> value mapping."""
        flat = [values[n] for n in self.names()]
        return np.array(flat, dtype=object).reshape(self.shape).tolist()


@dataclass
class Graph:
    """Leaves and nodes in topological order, with the output node."""

    leaves: dict[str, Leaf]
    nodes: list[Node]
    output: str
    groups: dict[str, Group] = field(default_factory=dict)

    def __post_init__(self):
        self._node = {n.name: n for n in self.nodes}
        self._position = {n.name: i for i, n in enumerate(self.nodes)}
        self._upstream: dict[str, frozenset[str]] = {}

    # Lookup -----------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self.leaves) + [n.name for n in self.nodes]

    def node(self, name: str) -> Node:
        return self._node[name]

    def is_node(self, name: str) -> bool:
        return name in self._node

    def is_leaf(self, name: str) -> bool:
        return name in self.leaves

    def __contains__(self, name: str) -> bool:
        return name in self._node or name in self.leaves

    @property
    def parameters(self) -> list[str]:
        return [n for n, leaf in self.leaves.items() if leaf.kind == "parameter"]

    @property
    def inputs(self) -> list[str]:
        return [n for n, leaf in self.leaves.items() if leaf.kind == "input"]

    def group_of(self, name: str) -> Group | None:
        base = name.split("[", 1)[0]
        g = self.groups.get(base)
        return g if g is not None and name != base else None

    @cached_property
    def users(self) -> dict[str, list[str]]:
        """For each name, the nodes whose expression uses it, in topological order."""
        users: dict[str, list[str]] = {n: [] for n in self.names}
        for node in self.nodes:
            for name in node.inputs:
                users[name].append(node.name)
        return users

    def upstream(self, name: str) -> frozenset[str]:
        """Every leaf and node that ``name`` depends on (itself excluded).

        The last few answers are kept: renderers and verify ask for the output's upstream
        once per parameter or claim, and recomputing it each time made a long chain's
        account quadratic in its length (docs/limits.md). Only a few are kept, because
        each may hold the whole graph."""
        if name in self._upstream:
            return self._upstream[name]
        seen: set[str] = set()
        stack = [name]
        while stack:
            n = stack.pop()
            if n in self._node:
                for m in self._node[n].inputs:
                    if m not in seen:
                        seen.add(m)
                        stack.append(m)
        if len(self._upstream) >= UPSTREAM_KEPT:
            self._upstream.pop(next(iter(self._upstream)))
        self._upstream[name] = result = frozenset(seen)
        return result

    def before(self, a: str, b: str) -> bool:
        """Whether node ``a`` comes before node ``b`` in the list."""
        return self._position[a] < self._position[b]

    def with_values(self, values: dict[str, sp.Rational]) -> Graph:
        """The same graph with some leaf values replaced."""
        leaves = {n: Leaf(n, leaf.kind, values.get(n, leaf.value)) for n, leaf in self.leaves.items()}
        return Graph(leaves, self.nodes, self.output, self.groups)


def _natural(name: str):
    """Sort key that puts w2 before w10."""
    return [int(t) if t.isdigit() else t for t in _split_digits(name)]


def _split_digits(s: str) -> list[str]:
    return ["".join(g) for _, g in itertools.groupby(s, str.isdigit)]


def build_graph(
    assignments: Iterable[tuple[str, sp.Expr]],
    leaves: dict[str, Leaf],
    output: str | None = None,
    groups: dict[str, Group] | None = None,
) -> Graph:
    """Check and order user equations into a :class:`Graph`.

    ``assignments`` are (name, expression) pairs in file order. Errors name the
    offending equation in ``field`` (the loader adds file and section).
    """
    assignments = list(assignments)
    if not assignments:
        raise GraphError("the graph has no equations", )
    groups = groups or {}
    defined: dict[str, sp.Expr] = {}
    for name, expr in assignments:
        if name in leaves:
            kind = leaves[name].kind
            raise GraphError(f"'{name}' is defined twice: as an equation and in [{kind}s]").at(field=name)
        if name in defined:
            raise GraphError(f"'{name}' is defined twice").at(field=name)
        defined[name] = expr

    known = set(defined) | set(leaves)
    for name, expr in assignments:
        for s in expr.free_symbols:
            if s.name in known:
                continue
            base = s.name.split("[", 1)[0]
            if s.name in groups:
                shape = "x".join(map(str, groups[s.name].shape))
                hint = indexed_name(s.name, *([0] * len(groups[s.name].shape)))
                raise GraphError(
                    f"'{s.name}' is an array ({shape}): use one element, such as {hint}"
                ).at(field=name)
            if base in groups:
                raise GraphError(
                    f"'{s.name}' is outside '{base}', whose shape is {groups[base].shape}"
                ).at(field=name)
            raise GraphError(
                f"undefined name '{s.name}'{did_you_mean(s.name, known)}: "
                "give it a value in [inputs] or [parameters], or an equation"
            ).at(field=name)

    order = _topological_order(assignments)
    nodes = [Node(name, defined[name]) for name in order]
    if output is None:
        output = assignments[-1][0]
    elif output not in defined:
        hint = did_you_mean(output, defined)
        where = "is a leaf, not an equation" if output in leaves else "is not an equation"
        raise GraphError(f"the output '{output}' {where}{hint}").at(section="", field="output")
    return Graph(dict(leaves), nodes, output, dict(groups))


def _topological_order(assignments: list[tuple[str, sp.Expr]]) -> list[str]:
    """Names in an order where each equation follows the ones it uses; file order kept
    wherever the file is already in order. A cycle is an error that names it."""
    position = {name: i for i, (name, _) in enumerate(assignments)}
    deps = {name: {s.name for s in expr.free_symbols} & position.keys()
            for name, expr in assignments}
    order: list[str] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(name: str):
        if name in done:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise GraphError("cycle: " + " -> ".join(cycle)).at(field=name)
        visiting.append(name)
        for dep in sorted(deps[name], key=position.__getitem__):
            visit(dep)
        visiting.pop()
        done.add(name)
        order.append(name)

    for name, _ in assignments:
        visit(name)
    return order


# ------------------------------------------------------------------------------ staging


def stage(graph: Graph, prefix: str = "s") -> Graph:
    """Split every compound equation into atomic gates, one op per node.

    Intermediate results get generated names ``s0, s1, ...`` (numbered in evaluation
    order, skipping names already taken), as the lectures' flat code does; each user
    node keeps its name on its top gate. Constant subexpressions stay inline.
    """
    taken = set(graph.names)
    counter = itertools.count()
    new_nodes: list[Node] = []

    def fresh() -> str:
        while True:
            name = f"{prefix}{next(counter)}"
            if name not in taken:
                taken.add(name)
                return name

    def lift(expr: sp.Expr, top: bool) -> sp.Expr:
        found = ops.classify(expr)
        if found is None or not expr.free_symbols:
            return expr
        op, args = found
        rebuilt = ops.rebuild(op, expr, [lift(a, False) for a in args])
        if top:
            return rebuilt
        name = fresh()
        new_nodes.append(Node(name, rebuilt, generated=True))
        return symbol(name)

    for node in graph.nodes:
        expr = lift(node.expr, True)
        new_nodes.append(Node(node.name, expr, node.generated))
    return Graph(dict(graph.leaves), new_nodes, graph.output, dict(graph.groups))


def is_atomic(graph: Graph) -> bool:
    """Whether every node is a single gate over leaves, nodes and constants."""
    for node in graph.nodes:
        found = ops.classify(node.expr)
        if found and any(ops.classify(a) and a.free_symbols for a in found[1]):
            return False
    return True
