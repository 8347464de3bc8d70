"""Numbers for the forward pass, the local derivatives and the adjoints.

Two arithmetics run the same walk over the graph:

* :class:`Exact`: decimal inputs as rationals and SymPy's exact arithmetic; a value is
  an exact expression such as ``1/(1 + exp(-351/1000))``, printable to any precision.
* :class:`Floating`: SymPy floats with many digits. :func:`evaluate` runs it at two
  precisions and accepts only digits on which both agree, raising the precision where
  floats break: log(1 − σ(z)) at z = 125 is log(0) at 40 digits and right at 100. So no
  finite quantity comes out as NaN, and every value reported is right to at least
  :data:`GUARANTEED_DIGITS` significant digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import ops
from .derive import Derivation
from .errors import ProblemError
from .graph import Graph

GUARANTEED_DIGITS = 25
_PRECISIONS = (40, 100, 250, 600, 1500)
_GUARD = 20


@dataclass(frozen=True)
class Exact:
    """Exact SymPy arithmetic."""

    def number(self, value: sp.Rational) -> sp.Expr:
        return value if isinstance(value, sp.Basic) else sp.Rational(value)

    def apply(self, expr: sp.Expr, env: dict) -> sp.Expr:
        return expr.xreplace(env)


@dataclass(frozen=True)
class Floating:
    """SymPy floats with ``digits`` decimal digits."""

    digits: int

    def number(self, value) -> sp.Float:
        return sp.Float(value, self.digits)

    def apply(self, expr: sp.Expr, env: dict) -> sp.Expr:
        value = expr.xreplace(env)
        if not isinstance(value, sp.Float):
            value = value.evalf(self.digits)
        if isinstance(value, sp.Rational):  # an exact 0 or 1 that survived
            value = sp.Float(value, self.digits)
        return value


@dataclass
class Evaluation:
    """Values of every name, local derivative values per edge, adjoints of the output,
    and notes on kinks met (where a subgradient convention was used)."""

    values: dict[str, sp.Expr]
    locals: dict[tuple[str, str], sp.Expr]
    adjoints: dict[str, sp.Expr]
    kinks: list[str] = field(default_factory=list)


def forward(graph: Graph, arithmetic) -> dict[str, sp.Expr]:
    """The value of every leaf and node, node by node in list order."""
    values: dict[str, sp.Expr] = {}
    env: dict[sp.Symbol, sp.Expr] = {}
    for name, leaf in graph.leaves.items():
        values[name] = arithmetic.number(leaf.value)
        env[leaf.symbol] = values[name]
    for node in graph.nodes:
        values[node.name] = arithmetic.apply(node.expr, env)
        env[node.symbol] = values[node.name]
    return values


def local_values(derivation: Derivation, values: dict, arithmetic) -> dict:
    """The number of each edge's local derivative at the given values."""
    env = {sp.Symbol(n, real=True): v for n, v in values.items()}
    return {key: arithmetic.apply(edge.local, env) for key, edge in derivation.edges.items()}


def adjoints(derivation: Derivation, top: str, locals_: dict, zero) -> dict[str, sp.Expr]:
    """d top / d name for every name, by the reverse sweep; 0 where ``name`` is not
    upstream of ``top``."""
    adj = {name: zero for name in derivation.graph.names}
    adj[top] = zero + 1
    for name, edges in derivation.sweep(top):
        adj[name] = sum((adj[e.upper] * locals_[e.upper, e.lower] for e in edges), zero)
    return adj


def kinks(graph: Graph, values: dict, arithmetic) -> list[str]:
    """Where a gate with a kink (relu at 0, a max tie, |x| at 0) sits exactly on it."""
    env = {sp.Symbol(n, real=True): v for n, v in values.items()}
    found = []
    for node in graph.nodes:
        for sub in sp.preorder_traversal(node.expr):
            c = ops.classify(sub) if isinstance(sub, sp.Basic) else None
            if c is None or c[0].kink is None:
                continue
            args = tuple(arithmetic.apply(a, env) for a in c[1])
            if _on_kink(c[0], args):
                found.append(
                    f"{node.name}: {c[0].gate} at its kink ({sub}); the gradient uses the "
                    "convention relu'(0) = 0, |x|'(0) = 0, ties of max/min go to the first argument"
                )
    return found


def _on_kink(op: ops.Op, args: tuple) -> bool:
    tol = sp.Float(10) ** -(GUARANTEED_DIGITS)
    if op.name in ("max", "min"):
        return abs(args[0] - args[1]) <= tol * (1 + abs(args[0]))
    return abs(args[0]) <= tol


def evaluate_once(graph: Graph, derivation: Derivation, arithmetic) -> Evaluation:
    values = forward(graph, arithmetic)
    loc = local_values(derivation, values, arithmetic)
    zero = arithmetic.number(0)
    adj = adjoints(derivation, graph.output, loc, zero)
    return Evaluation(values, loc, adj, kinks(graph, values, arithmetic))


def evaluate(graph: Graph, derivation: Derivation, exact: bool = False) -> Evaluation:
    """Evaluate the graph exactly, or in floats whose digits are checked.

    Floats: each run is repeated with :data:`_GUARD` more digits; the lower-precision
    run is accepted when both agree to :data:`GUARANTEED_DIGITS` digits everywhere,
    else the precision is raised.
    """
    if exact:
        return evaluate_once(graph, derivation, Exact())
    last = None
    for digits in _PRECISIONS:
        low = evaluate_once(graph, derivation, Floating(digits))
        high = evaluate_once(graph, derivation, Floating(digits + _GUARD))
        if _agree(low, high):
            return low
        last = high
    bad = [n for n, v in last.values.items() if not _finite(v)]
    if bad:
        raise ProblemError(
            "its value is not a finite number (a log of 0, or a division by 0?)"
        ).at(field=bad[0])
    return last


def _finite(v) -> bool:
    return isinstance(v, sp.Number) and v.is_finite is True


def _agree(a: Evaluation, b: Evaluation) -> bool:
    for left, right in ((a.values, b.values), (a.adjoints, b.adjoints)):
        for name, x in left.items():
            y = right[name]
            if not (_finite(x) and _finite(y)):
                return False
            if abs(x - y) > sp.Float(10) ** -GUARANTEED_DIGITS * max(abs(y), sp.Float(1e-300)):
                if abs(x - y) > sp.Float(10) ** -(GUARANTEED_DIGITS + 40):
                    return False
    return True
