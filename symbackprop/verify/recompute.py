"""Recomputing a quantity the way a person does by hand, from the numbers on the page.

A :class:`World` is the problem's arithmetic seen from a sheet of paper: every quantity
(a forward value, a local derivative, a derivative along paths, an updated parameter, a
value after the update) is taken from ``known`` when the sheet gives it, and otherwise
computed from the quantities it is made of, by the same edges and local rules the engine
uses (σ' from the node's own output as y(1 − y)). Optionally every value and local
derivative that the sheet does not give is rounded or truncated to a number of decimals,
as a person rounding at each step would.

The verifier asks two kinds of world about a claim:

* the sheet's *accepted* numbers (or none), with intermediates rounded: does the given
  number follow from correct work at the author's precision? (``rounding``)
* *all* the sheet's numbers: does it follow from the author's own earlier numbers, some
  of them wrong? (``carried``, error carried forward)

:meth:`World.recompute` computes a claimed quantity from its parts without reading the
claim itself; :meth:`World.sources` names the given numbers it was computed from.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

import sympy as sp

from ..evaluate import Floating
from ..keys import Key
from ..numbers import to_decimal
from ..parse import symbol

DIGITS = 30
_MODES = {"round": ROUND_HALF_UP, "trunc": ROUND_DOWN}

# A quantity: ("value", name), ("after", name), ("deriv", top, bottom) or
# ("local", upper, lower) for the local derivative on one edge.
Quantity = tuple


def quantity(key: Key) -> Quantity:
    """The quantity a claim key names."""
    if key.kind == "derivative":
        return ("deriv", key.name, key.wrt)
    return (key.kind, key.name)


class World:
    """Quantities computed from ``known`` numbers (by claim key) and the problem's leaves.

    ``mode`` is None (no rounding), "round" or "trunc": how values and local derivatives
    that ``known`` does not give are cut to ``places`` decimals.
    """

    def __init__(self, solution, known: dict[Key, Decimal], mode: str | None = None,
                 places: int = 4):
        self.solution = solution
        self.graph = solution.graph
        self.derivation = solution.derivation
        self.arithmetic = Floating(DIGITS)
        self.known = {k: sp.Float(str(v), DIGITS) for k, v in known.items()}
        self.mode = mode
        self.places = places
        self.rate = (sp.Float(solution.learning_rate, DIGITS)
                     if solution.learning_rate is not None else None)
        self._memo: dict[Quantity, sp.Float] = {}
        self._inside: dict[tuple[str, str], set[str]] = {}
        self._single: dict[Quantity, bool] = {}

    # ---------------------------------------------------------------- the sheet's numbers

    def claim_key(self, q: Quantity) -> Key | None:
        """The claim key under which the sheet would give ``q``, if it can."""
        kind = q[0]
        if kind in ("value", "after"):
            return Key(kind, q[1])
        if kind == "deriv":
            return Key("derivative", q[1], q[2])
        # A local derivative is given as d upper / d lower when that is the only path.
        if q not in self._single:
            self._single[q] = self.derivation.count_paths(q[1], q[2]) == 1
        return Key("derivative", q[1], q[2]) if self._single[q] else None

    def get(self, q: Quantity) -> sp.Float:
        """``q`` as the sheet gives it, else computed from its parts."""
        if q not in self._memo:
            key = self.claim_key(q)
            if key is not None and key in self.known:
                self._memo[q] = self.known[key]
            else:
                self._memo[q] = self._compute(q, self.get)
        return self._memo[q]

    def recompute(self, key: Key, deeper: bool = False) -> sp.Float:
        """The claimed quantity computed from its parts, never from its own claim.

        ``deeper``: compute its parts from their parts too, past the sheet's numbers for
        them (an update done with the gradient the sheet's own numbers give, when the
        gradient written down beside it was miscopied).
        """
        q = quantity(key)

        def get(sub: Quantity) -> sp.Float:
            if self.claim_key(sub) == key:  # d t/d b of one edge is also its local
                return self._compute(sub, self.get)
            return self.get(sub)

        def get_deeper(sub: Quantity) -> sp.Float:
            return self._compute(sub, get)

        return self._compute(q, get_deeper if deeper else get)

    def bypassed(self, key: Key) -> list[Key]:
        """The sheet's numbers for the parts of ``key``, which ``deeper`` skips."""
        keys = [self.claim_key(p) for p in self.parts(quantity(key))]
        return [k for k in keys if k is not None and k != key and k in self.known]

    def sources(self, key: Key, deeper: bool = False) -> list[Key]:
        """The given numbers that :meth:`recompute` of ``key`` reads, in graph order."""
        found: list[Key] = []
        seen: set[Quantity] = set()
        stack = list(self.parts(quantity(key)))
        if deeper:
            stack = [sub for part in stack for sub in self.parts(part)]
        while stack:
            q = stack.pop()
            if q in seen:
                continue
            seen.add(q)
            k = self.claim_key(q)
            if k is not None and k != key and k in self.known:
                found.append(k)
                continue
            stack.extend(self.parts(q))
        order = {n: i for i, n in enumerate(self.graph.names)}
        return sorted(set(found), key=lambda k: (order.get(k.name, 0), str(k)))

    # ---------------------------------------------------------------- the formulas

    def parts(self, q: Quantity) -> list[Quantity]:
        """The quantities ``q`` is computed from."""
        kind = q[0]
        if kind == "value":
            if self.graph.is_leaf(q[1]):
                return []
            return [("value", n) for n in self.graph.node(q[1]).inputs]
        if kind == "local":
            edge = self.derivation.edges[q[1], q[2]]
            return [("value", s.name) for s in edge.local.free_symbols]
        if kind == "deriv":
            top, bottom = q[1], q[2]
            if top == bottom:
                return []
            inside = self._between(top, bottom)
            parts = []
            for user in self.graph.users.get(bottom, []):
                if user in inside:
                    parts += [("deriv", top, user), ("local", user, bottom)]
            return parts
        # after
        name = q[1]
        if self.graph.is_leaf(name):
            if self.graph.leaves[name].kind == "parameter":
                return [("value", name), ("deriv", self.graph.output, name)]
            return [("value", name)]
        return [("after", n) for n in self.graph.node(name).inputs]

    def _between(self, top: str, bottom: str) -> set[str]:
        if (top, bottom) not in self._inside:
            self._inside[top, bottom] = self.derivation.between(top, bottom)
        return self._inside[top, bottom]

    def _compute(self, q: Quantity, get) -> sp.Float:
        kind = q[0]
        if kind == "value":
            name = q[1]
            if self.graph.is_leaf(name):
                return sp.Float(self.graph.leaves[name].value, DIGITS)
            node = self.graph.node(name)
            env = {symbol(n): get(("value", n)) for n in node.inputs}
            return self._cut(self.arithmetic.apply(node.expr, env))
        if kind == "local":
            edge = self.derivation.edges[q[1], q[2]]
            env = {s: get(("value", s.name)) for s in edge.local.free_symbols}
            return self._cut(self.arithmetic.apply(edge.local, env))
        if kind == "deriv":
            top, bottom = q[1], q[2]
            if top == bottom:
                return sp.Float(1, DIGITS)
            total = sp.Float(0, DIGITS)
            inside = self._between(top, bottom)
            for user in self.graph.users.get(bottom, []):
                if user in inside:
                    total += get(("deriv", top, user)) * get(("local", user, bottom))
            return total
        name = q[1]
        if self.graph.is_leaf(name):
            value = get(("value", name))
            if self.graph.leaves[name].kind == "parameter":
                return value - self.rate * get(("deriv", self.graph.output, name))
            return value
        node = self.graph.node(name)
        env = {symbol(n): get(("after", n)) for n in node.inputs}
        return self._cut(self.arithmetic.apply(node.expr, env))

    def _cut(self, value: sp.Float) -> sp.Float:
        """A value written down by hand: rounded or truncated to ``places`` decimals."""
        if self.mode is None:
            return value
        d = to_decimal(value, DIGITS)
        with localcontext() as context:  # room for every decimal asked (a claim may have 60)
            context.prec = max(DIGITS, d.adjusted() + self.places + 2)
            d = d.quantize(Decimal(1).scaleb(-self.places), rounding=_MODES[self.mode])
        return sp.Float(str(d), DIGITS)
