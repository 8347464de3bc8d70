"""A solved problem: forward values, gradients, the update, the second forward pass, and
every chain-rule product they came from.

:class:`Solution` is what ``problem.solve()`` returns and what every output (JSON, the
plain-text account, the worked solution, the verifier) reads. Numbers are SymPy numbers
at full precision; only the printers round.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from .derive import Derivation, Edge
from .errors import ClaimError, did_you_mean
from .evaluate import Evaluation, adjoints
from .keys import Key, Kind, parse_key
from .numbers import to_float
from .printable import quoted


@dataclass(frozen=True)
class Factor:
    """One local derivative on a chain: the edge and its value at the problem's point."""

    edge: Edge
    value: sp.Expr


@dataclass(frozen=True)
class Chain:
    """d top / d bottom as a sum over paths of products of local derivatives."""

    top: str
    bottom: str
    paths: tuple[tuple[Factor, ...], ...]
    value: sp.Expr

    @property
    def used_twice(self) -> bool:
        return len(self.paths) > 1


class Solution:
    """Everything ``solve`` computes, with lookups by claim key."""

    def __init__(self, problem, derivation: Derivation, before: Evaluation,
                 after: Evaluation | None, updated: dict | None):
        self.problem = problem
        self.graph = problem.graph
        self.derivation = derivation
        self.evaluation = before
        self.after = after
        self.output = self.graph.output
        self.values: dict[str, sp.Expr] = before.values
        self.gradients: dict[str, sp.Expr] = before.adjoints
        self.updated: dict[str, sp.Expr] = updated or {}
        self.values_after: dict[str, sp.Expr] = after.values if after else {}
        self.warnings: list[str] = list(before.kinks)
        self._sweeps: dict[str, dict] = {self.output: self.gradients}

    @property
    def learning_rate(self):
        return self.problem.learning_rate

    # Derivatives and chains -----------------------------------------------------------

    def derivative(self, top: str, bottom: str | None = None) -> sp.Expr:
        """d top / d bottom at the problem's point; ``derivative("dy/dz_c")`` also works.

        ``bottom`` is held as an independent variable and every path between the two is
        summed; the result is 0 when ``top`` does not depend on ``bottom``.
        """
        if bottom is None:
            key = parse_key(top, self.key_names)
            if key.kind != Kind.DERIVATIVE:
                raise ClaimError(f"'{top}' is not a derivative key (like dy/dz_c)")
            top, bottom = key.name, key.wrt
        self._check_names(top, bottom)
        if top == bottom:
            return self.values[top] * 0 + 1
        if not self.graph.is_node(top):
            return self.values[top] * 0
        if top not in self._sweeps:
            zero = self.values[top] * 0
            self._sweeps[top] = adjoints(self.derivation, top, self.evaluation.locals, zero)
        return self._sweeps[top][bottom]

    def chain(self, bottom: str, top: str | None = None, limit: int = 10_000) -> Chain:
        """The chain d top / d bottom (top: the output), path by path, with local values."""
        top = top or self.output
        self._check_names(top, bottom)
        paths = tuple(
            tuple(Factor(e, self.evaluation.locals[e.upper, e.lower]) for e in path)
            for path in self.derivation.paths(top, bottom, limit=limit)
        )
        return Chain(top, bottom, paths, self.derivative(top, bottom))

    def _check_names(self, *names) -> None:
        """The library's own error for a name that is no scalar of the graph."""
        for name in names:
            if not isinstance(name, str) or name not in self.graph:
                raise ClaimError(f"{quoted(str(name))} names no value of the problem"
                                 f"{did_you_mean(str(name), self.graph.names)}")

    # Claim keys -------------------------------------------------------------------------

    @cached_property
    def key_names(self) -> set[str]:
        """Every name a claim key may use: scalar leaves and nodes, and array names."""
        return set(self.graph.names) | set(self.graph.groups)

    def lookup(self, key: str | Key):
        """The exact value a claim key names: a number, or nested lists for an array."""
        if isinstance(key, str):
            key = parse_key(key, self.key_names)
        if key.kind == Kind.VALUE:
            return self._scalar_or_array(key.name, self.values.__getitem__)
        if key.kind == Kind.AFTER:
            if not self.values_after:
                raise ClaimError(f"'{key}' needs a learning_rate in the problem")
            return self._scalar_or_array(key.name, self.values_after.__getitem__)
        top_group = self.graph.groups.get(key.name)
        bottom_group = self.graph.groups.get(key.wrt)
        if top_group and bottom_group:
            raise ClaimError(f"'{key}' is a Jacobian, not a number or an array: name one element,"
                             f" such as d{top_group.names()[0]}/d{key.wrt}")
        if top_group:
            return top_group.nest({n: self.derivative(n, key.wrt) for n in top_group.names()})
        return self._scalar_or_array(key.wrt, lambda n: self.derivative(key.name, n))

    def _scalar_or_array(self, name: str, get):
        group = self.graph.groups.get(name)
        if group is None:
            return get(name)
        return group.nest({n: get(n) for n in group.names()})

    # JSON -------------------------------------------------------------------------------

    def _grouped(self, values: dict[str, sp.Expr], names=None) -> dict:
        """Values by name as floats, arrays nested, in graph order."""
        out: dict = {}
        for name in names if names is not None else self.graph.names:
            if name not in values:
                continue
            group = self.graph.group_of(name)
            if group is None:
                out[name] = to_float(values[name])
            elif group.name not in out:
                out[group.name] = group.nest({n: to_float(values[n]) for n in group.names()})
        return out

    def to_json(self) -> dict:
        """The object of ``symbackprop solve --format json`` (docs/json.md)."""
        result = {
            "output": self.output,
            "values": self._grouped(self.values),
            "gradients": self._grouped(self.gradients),
        }
        if self.updated:
            result["updated"] = self._grouped(self.updated, self.graph.parameters)
            result["values_after"] = self._grouped(self.values_after)
        if self.problem.title:
            result["title"] = self.problem.title
        result["warnings"] = list(self.warnings)
        return result

    def __repr__(self) -> str:
        return f"<Solution of {self.problem.name}: {self.output} = {to_float(self.values[self.output]):.6g}>"
