"""Stable forms for the graph form, where the lectures' formulas break in floats.

The pattern is the sigmoid followed by a logarithm (binary cross-entropy written out,
``L = −y log ŷ − (1 − y) log(1 − ŷ)`` with ``ŷ = σ(z)``). Once |z| passes about 37,
σ(z) rounds to exactly 1 (or 1 − σ(z) to a tiny value with most of its digits lost), and
the formulas as written give

* forward: ``(1 − y) log(1 − ŷ)`` = 0 · log 0 = 0 · (−∞) = NaN, though the exact loss is
  a tiny positive number;
* backward: the adjoint of ŷ is ``(1 − y)/(1 − ŷ) − y/ŷ``, 0/0 = NaN, though the adjoint
  of z, that times the sigmoid's local derivative ŷ(1 − ŷ), is just ŷ − y.

Nothing here is special to one problem: both rewrites are found in the graph, from which
nodes are sigmoids (the op table's ``sigmoid``) and which expressions use them.

Forward: ``log(σ(u))`` is evaluated as ``−softplus(−u)`` and ``log(1 − σ(u))`` as
``−softplus(u)`` (softplus(u) = log(1 + eᵘ), by log-sum-exp, never overflowing), whether
σ(u) is a node of the graph or written inside the expression. These are the same
numbers where the old form was accurate, and finite (and right) where it was not.

Backward: for a sigmoid node s whose adjoint divides by s or by 1 − s (its users are
logarithms of it, or anything else whose local derivative does that), the adjoint is
not computed on its own. It is substituted into each equation that uses it (the adjoint
of the sigmoid's input, times the local derivative s(1 − s)), and that small expression
is simplified once, at compile time, by ``sympy.cancel`` with s and its complement
t = 1 − s taken as independent symbols. For cross-entropy this gives
``(1 − y)·s − y·t`` in place of ``s(1 − s)·((1 − y)/(1 − s) − y/s)``: no division, and
t computed as σ(−u), and the result collected on s and t, so that even ŷ − y for ŷ
within 1e-16 of y keeps its digits (−σ(−u) for y = 1, not 1 − 1 = 0). The rewrite is kept only when the result divides by
neither s nor t; otherwise the equations are left exactly as derived. Because it is a
cancellation of the same rational function, the numbers agree with the unfused kernel
to rounding wherever that one was accurate.
"""

from __future__ import annotations

import sympy as sp

from ..functions import sigmoid, softplus

Equation = tuple[sp.Symbol, sp.Expr]


def sigmoid_nodes(forward: list[Equation]) -> dict[sp.Symbol, sp.Expr]:
    """The forward equations of the form ``s = sigmoid(u)``: s -> u."""
    return {s: e.args[0] for s, e in forward if isinstance(e, sigmoid)}


def _sigmoid_argument(expr: sp.Expr, nodes: dict) -> sp.Expr | None:
    if expr in nodes:
        return nodes[expr]
    if isinstance(expr, sigmoid):
        return expr.args[0]
    return None


def stable_logs(expr: sp.Expr, nodes: dict) -> sp.Expr:
    """``expr`` with log σ(u) as −softplus(−u) and log(1 − σ(u)) as −softplus(u)."""
    if not expr.has(sp.log):
        return expr

    def rewrite(node):
        if isinstance(node, sp.log):
            (x,) = node.args
            u = _sigmoid_argument(x, nodes)
            if u is not None:
                return -softplus(-u)
            u = _sigmoid_argument(sp.S.One - x, nodes)
            if u is not None:
                return -softplus(u)
        return node

    return expr.replace(lambda e: isinstance(e, sp.log), rewrite)


def _divides_by(expr: sp.Expr, symbols: set) -> bool:
    """Whether some denominator of ``expr`` involves one of ``symbols``."""
    return any(isinstance(p, sp.Pow) and p.exp.is_negative and p.base.free_symbols & symbols
               for p in sp.preorder_traversal(expr))


def fuse_sigmoid_adjoints(forward: list[Equation], backward: list[Equation],
                          adjoint, complement) -> tuple[list[Equation], list[Equation]]:
    """Each sigmoid's dividing adjoint fused into its users (see the module doc).

    ``adjoint(s)`` is the adjoint symbol of value s, ``complement(s)`` a fresh symbol for
    1 − s. Returns the forward equations to add (t = σ(−u) for each complement the new
    equations use) and the new backward list.
    """
    added: list[Equation] = []
    for s, u in sigmoid_nodes(forward).items():
        t = complement(s)
        fused = _fuse_one(adjoint(s), s, t, backward)
        if fused is not None:
            backward = fused
            if any(t in e.free_symbols for _, e in backward):
                added.append((t, sigmoid(-u)))
    return added, backward


def _fuse_one(g_s, s, t, backward: list[Equation]) -> list[Equation] | None:
    """``backward`` without the equation of ``g_s``, substituted into its users and
    cancelled; None when it does not divide by s or 1 − s, or when cancelling leaves a
    division by s or t or a longer expression (then nothing changes)."""
    definitions = dict(backward)
    e_s = definitions.get(g_s)
    if e_s is None or not _divides_by(e_s, {s}):
        return None
    users = [(g, e) for g, e in backward if g_s in e.free_symbols]
    if not users:
        return None
    to_t = {sp.S.One - s: t, s - 1: -t}
    new = {}
    for g, e in users:
        before = e.xreplace({g_s: e_s})
        # cancel expands; collecting on s and t keeps each one's coefficient apart, so
        # that (1 − y)·s − y·t does not become s − y·s − y·t, where s − s loses t
        after = sp.collect(sp.cancel(before.xreplace(to_t)), [s, t])
        if _divides_by(after, {s, t}) or sp.count_ops(after) > sp.count_ops(before):
            return None
        new[g] = after
    return [(g, new.get(g, e)) for g, e in backward if g != g_s]
