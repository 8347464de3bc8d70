"""How a wrong number arises: the typical slips of a backpropagation sheet.

For a claim that is wrong, each slip below proposes the number it would produce; the
first one that the given number matches (to the digits written, or within the rounding
band) becomes the note, which always names the expected value:

* an update that added η·dE/dw instead of subtracting it, or left out η;
* the sign flipped;
* a path missing from a sum over paths (only some of the paths summed);
* a local derivative missing from a chain-rule product, or σ' taken as z(1 − z) from
  the input or as σ itself;
* off by a factor: 2 (the ½ of a half squared error dropped, or a slip of 2), the
  learning rate;
* the value of another quantity used (dE/dw6 given where dE/dw5 is asked).

Each proposal is computed from the exact solution (and, for updates, also from the
sheet's own gradient), never from the given number, so a note states a fact that the
reader can check.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import combinations
from weakref import WeakKeyDictionary

import sympy as sp

from ..functions import sigmoid
from ..keys import Key
from ..numbers import format_number, to_decimal
from ..parse import symbol
from .tolerance import matches, within

MAX_PATHS = 8  # subsets of paths tried for a missing path: 2^8 sums at most
MIN_DIGITS_FOR_COINCIDENCE = 2  # "another quantity's value" needs 2 significant digits


def diagnose(solution, verdict, verdicts: dict, band) -> str:
    """The note for a wrong claim: the expected value, and the slip when one fits."""
    claim = verdict.claim
    places = max(claim.given.decimals + 2, 4)
    expected = f"expected {format_number(verdict.expected, places)}"
    given = {k: v.claim.given.value for k, v in verdicts.items()}
    others = significant_digits(claim.given.text) >= MIN_DIGITS_FOR_COINCIDENCE
    # Numbers computed from this one repeat it; that is no explanation of it.
    later = {k for k, v in verdicts.items() if claim.key in v.sources}
    given_elsewhere = {k: n for k, n in given.items() if k not in later and k != claim.key}
    for value, how in _slips(solution, claim.key, verdict.expected, given, others, places,
                             given_elsewhere):
        if not isinstance(value, Decimal):
            value = to_decimal(sp.sympify(value), 30)
        if not value.is_finite():
            continue
        if matches(claim.given, value) or within(claim.given, value, min(band, 1)):
            return f"{expected}; {how(format_number(value, places))}"
    if verdict.recomputed is not None and verdict.sources:
        own = format_number(verdict.recomputed, places)
        sources = ", ".join(f"{k} = {format(given[k], 'f')}" for k in verdict.sources[:4])
        return f"{expected}; the given {sources} would give {own}, not {claim.given.text} either"
    return expected


def _slips(solution, key: Key, exact, given: dict, others: bool, places: int,
           given_elsewhere: dict) -> Iterator[tuple]:
    """(the number a slip produces, a function of that number's text -> the note)."""
    graph = solution.graph
    out = solution.output
    rate = solution.learning_rate

    if key.kind == "after" and graph.is_leaf(key.name) and rate is not None:
        w, name = solution.values[key.name], key.name
        g = solution.gradients[name]
        yield w + rate * g, lambda t: (f"{t} = {name} + η·d{out}/d{name}: the update added the "
                                       "gradient step instead of subtracting it")
        claimed = given.get(Key("derivative", out, name))
        if claimed is not None:
            gc = sp.Float(str(claimed), 30)
            yield w + rate * gc, lambda t: (
                f"{t} = {name} + η·(given d{out}/d{name} = {claimed}): the update added the "
                "gradient step instead of subtracting it")
        yield w - g, lambda t: f"{t} = {name} − d{out}/d{name}: the learning rate η = {_num(rate)} is missing"

    yield -exact, lambda t: "the sign is flipped"

    if key.kind == "derivative" and key.name != key.wrt:
        yield from _path_slips(solution, key, places)

    halved = _has_half(graph, out) and (
        (key.kind == "value" and key.name == out) or (key.kind == "derivative" and key.name == out))
    yield 2 * exact, lambda t: ("twice the expected value"
                                + (": the ½ of the loss dropped?" if halved else ""))
    yield exact / 2, lambda t: "half the expected value"
    if rate is not None and key.kind == "derivative":
        yield rate * exact, lambda t: f"the expected value times the learning rate η = {_num(rate)}"

    if others:
        yield from _other_quantities(solution, key)
        for other, number in given_elsewhere.items():
            yield number, (lambda t, other=other: f"the same number as given for {other}")


def _path_slips(solution, key: Key, places: int) -> Iterator[tuple]:
    """A path missing from the sum, or a local derivative missing from a product."""
    try:
        chain = solution.chain(key.wrt, key.name, limit=MAX_PATHS)
    except ValueError:
        return
    products = [sp.Mul(*[f.value for f in path]) for path in chain.paths]
    if 1 < len(products) <= MAX_PATHS:
        shared = set.intersection(*[{f.edge.lower for f in path[:-1]} for path in chain.paths])

        def through(i: int) -> str:
            own = [f.edge.lower for f in chain.paths[i][:-1] if f.edge.lower not in shared]
            return "through " + ", ".join(own) if own else "direct"

        for size in range(len(products) - 1, 0, -1):
            for kept in combinations(range(len(products)), size):
                missing = [i for i in range(len(products)) if i not in kept]
                value = sum(products[i] for i in kept)
                gone = sum(products[i] for i in missing)
                yield value, (lambda t, kept=kept, missing=missing, gone=gone: (
                    f"{t} sums only the path{'s' if len(kept) > 1 else ''} "
                    f"{'; '.join(through(i) for i in kept)}: the path"
                    f"{'s' if len(missing) > 1 else ''} "
                    f"{'; '.join(through(i) for i in missing)} "
                    f"({format_number(gone, places)}) {'are' if len(missing) > 1 else 'is'} missing"))
    edges = {}
    for path in chain.paths:
        for f in path:
            edges.setdefault((f.edge.upper, f.edge.lower), f.value)
    for (upper, lower), local in edges.items():
        if local in (1, -1) or local == 0:
            continue
        value = sum(sp.Mul(*[f.value for f in path if (f.edge.upper, f.edge.lower) != (upper, lower)])
                    for path in chain.paths)
        yield value, (lambda t, upper=upper, lower=lower, local=local: (
            f"{t} leaves out the factor d{upper}/d{lower} = {format_number(local, places)}"))
    yield from _sigmoid_slips(solution, chain, places)


def _sigmoid_slips(solution, chain, places: int) -> Iterator[tuple]:
    """σ' taken from the wrong number: z(1 − z) from the input instead of y(1 − y) from
    the output, or σ itself (y) instead of σ' on an edge y = σ(z)."""
    graph = solution.graph
    for upper, lower in {(f.edge.upper, f.edge.lower) for path in chain.paths for f in path}:
        node = graph.node(upper)
        if not (isinstance(node.expr, sigmoid) and node.expr.args[0] == symbol(lower)):
            continue
        z, y = solution.values[lower], solution.values[upper]
        for wrong, how in ((z * (1 - z), f"from the input {lower} = {format_number(z, places)}"
                                         f" as {lower}(1 − {lower})"),
                           (y, f"as σ itself, {upper} = {format_number(y, places)}")):
            value = sum(sp.Mul(*[wrong if (f.edge.upper, f.edge.lower) == (upper, lower)
                                 else f.value for f in path]) for path in chain.paths)
            yield value, (lambda t, upper=upper, lower=lower, how=how: (
                f"{t} takes d{upper}/d{lower} {how}, not {upper}(1 − {upper})"))


_CANDIDATES: WeakKeyDictionary = WeakKeyDictionary()


def _other_quantities(solution, key: Key) -> Iterator[tuple]:
    """The values of other quantities of the same kind first, then of any kind."""
    if solution not in _CANDIDATES:
        graph = solution.graph
        out = solution.output
        candidates: list[tuple[Key, object]] = []
        for name in graph.names:
            candidates.append((Key("derivative", out, name), solution.gradients[name]))
        for upper, lower in solution.derivation.edges:
            candidates.append((Key("derivative", upper, lower),
                               solution.evaluation.locals[upper, lower]))
        for name in graph.names:
            candidates.append((Key("value", name), solution.values[name]))
        for name in solution.values_after:
            candidates.append((Key("after", name), solution.values_after[name]))
        unique = {k: to_decimal(v, 30) for k, v in candidates}  # once per solution
        _CANDIDATES[solution] = [(k, v) for k, v in unique.items() if v.is_finite() and v != 0]
    ranked = sorted(_CANDIDATES[solution], key=lambda kv: kv[0].kind != key.kind)
    for other, value in ranked:
        if other != key:
            yield value, (lambda t, other=other: f"{t} is the value of {other}, another quantity")


def significant_digits(text: str) -> int:
    digits = text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
    return len(digits)


def _has_half(graph, name: str) -> bool:
    if not graph.is_node(name):
        return False
    expr = graph.node(name).expr
    half = sp.Rational(1, 2)
    return any(a == half or (a.is_Pow and a.base == 2 and a.exp == -1)
               for a in sp.preorder_traversal(expr))


def _num(value) -> str:
    return format_number(value)
