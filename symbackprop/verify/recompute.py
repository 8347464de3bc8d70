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

import weakref
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from enum import Enum

import sympy as sp

from ..evaluate import Floating
from ..keys import Key, Kind, Part, Quantity, parse_key, quantity
from ..numbers import to_decimal
from ..optimizers import step, zero_state
from ..parse import symbol

DIGITS = 30
#: Entries kept per solution in :func:`shared` before it is emptied (bounded memory).
SHARED_LIMIT = 100_000
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shared(solution) -> dict:
    """Results that depend only on ``solution`` and their own key, shared by every sheet
    judged against it (a class graded against one variant): a recomputation is a
    function of the solution, the cut, the places and the sheet's numbers it reads
    (:meth:`World.sources`), whichever sheet they come from. Bounded: emptied when it
    holds :data:`SHARED_LIMIT` entries."""
    cache = _SHARED.get(solution)
    if cache is None or len(cache) >= SHARED_LIMIT:
        cache = _SHARED[solution] = {}
    return cache


ARITHMETIC = Floating(DIGITS)
#: Numbers of sheets as floats, by their Decimal value (bounded; see :class:`_Floats`).
_FLOATS: dict[Decimal, sp.Float] = {}
_FLOATS_KEPT = 100_000


class _Floats(dict):
    """A sheet's numbers as SymPy floats of :data:`DIGITS` digits, each converted when it
    is first read: a sheet is judged through several worlds that read few of its
    numbers, and the same numbers recur across sheets (the conversion is a function of
    the Decimal's value, so equal values share one float)."""

    def __init__(self, given: dict):
        super().__init__()
        self._given = given

    def __contains__(self, key) -> bool:
        return key in self._given

    def __iter__(self):
        return iter(self._given)

    def __len__(self) -> int:
        return len(self._given)

    def __missing__(self, key):
        value = self._given[key]
        found = _FLOATS.get(value)
        if found is None:
            if len(_FLOATS) >= _FLOATS_KEPT:
                _FLOATS.clear()
            found = _FLOATS[value] = sp.Float(str(value), DIGITS)
        self[key] = found
        return found


class Cut(Enum):
    """How a person writes down an intermediate number: in full, rounded, or truncated."""

    NONE = None
    ROUND = ROUND_HALF_UP
    TRUNC = ROUND_DOWN


class World:
    """Quantities computed from ``known`` numbers (by claim key) and the problem's leaves.

    ``mode``: how values and local derivatives that ``known`` does not give are cut to
    ``places`` decimals (:class:`Cut`).
    """

    def __init__(self, solution, known: dict[Key, Decimal], mode: Cut = Cut.NONE,
                 places: int = 4):
        self.solution = solution
        self.graph = solution.graph
        self.derivation = solution.derivation
        self.arithmetic = ARITHMETIC
        self.given = known  # the sheet's numbers as written (Decimals): the memos' keys
        self.known = _Floats(known)  # the same as floats, converted when first read
        self.mode = mode
        self.places = places
        self._shared = shared(solution)  # this world's view of the shared results
        self._memo: dict[Quantity, sp.Float] = {}
        self._inside: dict[tuple[str, str], set[str]] = {}
        self._single: dict[Quantity, bool] = {}
        self._keys: dict[Quantity, Key | None] = {}
        self._given = frozenset(self.known)

    @property
    def optimizer(self):
        return self.solution.optimizer

    # ---------------------------------------------------------------- the sheet's numbers

    def claim_key(self, q: Quantity) -> Key | None:
        """The claim key under which the sheet would give ``q``, if it can."""
        if q not in self._keys:
            self._keys[q] = self._claim_key(q)
        return self._keys[q]

    def _claim_key(self, q: Quantity) -> Key | None:
        if q.part == Part.EXACT:
            return parse_key(q.name, self.solution.key_names)
        if q.part == Part.VALUE:
            return Key(Kind.VALUE, q.name)
        if q.part == Part.AFTER:
            return Key(Kind.AFTER, q.name)
        if q.part == Part.DERIV:
            return Key(Kind.DERIVATIVE, q.name, q.other)
        if q.part == Part.STATE:
            return Key(Kind.STATE, q.name, slot=q.other)
        if q.part == Part.STEP:
            return Key(Kind.AFTER, q.name, step=q.other)
        # A local derivative is given as d upper / d lower when that is the only path.
        if q not in self._single:
            self._single[q] = self.derivation.count_paths(q.name, q.other) == 1
        return Key(Kind.DERIVATIVE, q.name, q.other) if self._single[q] else None

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
        found, _ = self._walk(key, deeper)
        memo = ("recompute", key, deeper, self.mode, self.places,
                tuple((k, self.given[k]) for k in found))
        cache = self._shared
        if memo not in cache:
            cache[memo] = self._recompute(key, deeper)
        return cache[memo]

    def _recompute(self, key: Key, deeper: bool) -> sp.Float:
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
        found, _ = self._walk(key, deeper)
        memo = ("sources", key, deeper, self._given)
        cache = self._shared
        if memo not in cache:
            order = {n: i for i, n in enumerate(self.graph.names)}
            cache[memo] = sorted(set(found), key=lambda k: (order.get(k.name, 0), str(k)))
        return list(cache[memo])

    def computed_values(self, key: Key) -> list[str]:
        """The nodes whose values :meth:`recompute` of ``key`` works out itself (the
        sheet does not give them), in graph order: where a person may round early."""
        _, computed = self._walk(key, False)
        names = {q.name for q in computed if q.part == Part.VALUE and self.graph.is_node(q.name)}
        return [n for n in self.graph.names if n in names]

    def _walk(self, key: Key, deeper: bool) -> tuple[list[Key], list[Quantity]]:
        """The sheet's numbers that the recomputation of ``key`` reads, and the
        quantities it computes on the way (which depend only on which keys the sheet
        gives: shared by every sheet that gives the same ones)."""
        memo = ("walk", key, deeper, self._given)
        cache = self._shared
        if memo not in cache:
            cache[memo] = self._walk_once(key, deeper)
        return cache[memo]

    def _walk_once(self, key: Key, deeper: bool) -> tuple[list[Key], list[Quantity]]:
        found: list[Key] = []
        computed: list[Quantity] = []
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
            computed.append(q)
            stack.extend(self.parts(q))
        return found, computed

    # ---------------------------------------------------------------- the formulas

    def parts(self, q: Quantity) -> list[Quantity]:
        """The quantities ``q`` is computed from."""
        if q.part in (Part.STEP, Part.EXACT) or self.solution.samples:
            return []  # later steps and mini-batch means are not recomputed from a sheet
        if q.part == Part.STATE:
            return [Quantity(Part.VALUE, q.name), Quantity(Part.DERIV, self.graph.output, q.name)]
        if q.part == Part.VALUE:
            if self.graph.is_leaf(q.name):
                return []
            return [Quantity(Part.VALUE, n) for n in self.graph.node(q.name).inputs]
        if q.part == Part.LOCAL:
            edge = self.derivation.edges[q.name, q.other]
            return [Quantity(Part.VALUE, s.name) for s in edge.local.free_symbols]
        if q.part == Part.DERIV:
            top, bottom = q.name, q.other
            if top == bottom:
                return []
            inside = self._between(top, bottom)
            parts = []
            for user in self.graph.users.get(bottom, []):
                if user in inside:
                    parts += [Quantity(Part.DERIV, top, user), Quantity(Part.LOCAL, user, bottom)]
            return parts
        name = q.name  # AFTER
        if self.graph.is_leaf(name):
            if self.graph.leaves[name].kind == "parameter":
                return [Quantity(Part.VALUE, name), Quantity(Part.DERIV, self.graph.output, name)]
            return [Quantity(Part.VALUE, name)]
        return [Quantity(Part.AFTER, n) for n in self.graph.node(name).inputs]

    def _between(self, top: str, bottom: str) -> set[str]:
        if (top, bottom) not in self._inside:
            self._inside[top, bottom] = self.derivation.between(top, bottom)
        return self._inside[top, bottom]

    def _compute(self, q: Quantity, get) -> sp.Float:
        if q.part in (Part.STEP, Part.EXACT) or self.solution.samples:
            return self._exact(q)
        if q.part == Part.STATE:
            return self._first_step(q.name, get).state[q.other]
        if q.part == Part.VALUE:
            if self.graph.is_leaf(q.name):
                return sp.Float(self.graph.leaves[q.name].value, DIGITS)
            node = self.graph.node(q.name)
            env = {symbol(n): get(Quantity(Part.VALUE, n)) for n in node.inputs}
            return self._cut(self.arithmetic.apply(node.expr, env))
        if q.part == Part.LOCAL:
            edge = self.derivation.edges[q.name, q.other]
            env = {s: get(Quantity(Part.VALUE, s.name)) for s in edge.local.free_symbols}
            return self._cut(self.arithmetic.apply(edge.local, env))
        if q.part == Part.DERIV:
            top, bottom = q.name, q.other
            if top == bottom:
                return sp.Float(1, DIGITS)
            total = sp.Float(0, DIGITS)
            inside = self._between(top, bottom)
            for user in self.graph.users.get(bottom, []):
                if user in inside:
                    total += get(Quantity(Part.DERIV, top, user)) * get(Quantity(Part.LOCAL, user, bottom))
            return total
        name = q.name  # AFTER
        if self.graph.is_leaf(name):
            value = get(Quantity(Part.VALUE, name))
            if self.graph.leaves[name].kind == "parameter":
                return self._first_step(name, get).new
            return value
        node = self.graph.node(name)
        env = {symbol(n): get(Quantity(Part.AFTER, n)) for n in node.inputs}
        return self._cut(self.arithmetic.apply(node.expr, env))

    def _first_step(self, name: str, get):
        """The optimizer's first step of a parameter from the sheet's value and gradient
        (the state starts at zero, so the first step needs nothing else)."""
        w = get(Quantity(Part.VALUE, name))
        return step(self.optimizer, w, get(Quantity(Part.DERIV, self.graph.output, name)),
                    zero_state(self.optimizer, w), 1)

    def _exact(self, q: Quantity) -> sp.Float:
        """The solution's own value of a quantity that is not recomputed from parts."""
        if q.part == Part.LOCAL:
            value = self.solution.evaluation.locals[q.name, q.other]
        else:
            value = self.solution.value_of(self.claim_key(q) or Key(Kind.VALUE, q.name))
        return sp.Float(value, DIGITS)

    def _cut(self, value: sp.Float) -> sp.Float:
        """A value written down by hand: rounded or truncated to ``places`` decimals."""
        if self.mode is Cut.NONE:
            return value
        d = to_decimal(value, DIGITS)
        with localcontext() as context:  # room for every decimal asked (a claim may have 60)
            context.prec = max(DIGITS, d.adjusted() + self.places + 2)
            d = d.quantize(Decimal(1).scaleb(-self.places), rounding=self.mode.value)
        return sp.Float(str(d), DIGITS)
