"""A solved problem: forward values, gradients, the update, the second forward pass, and
every chain-rule product they came from.

:class:`Solution` is what ``problem.solve()`` returns and what every output (JSON, the
plain-text account, the worked solution, the verifier) reads. Numbers are SymPy numbers
at full precision; only the printers round.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import sympy as sp

from .derive import Derivation, Edge
from .errors import ClaimError, did_you_mean
from .evaluate import Evaluation, adjoints
from .keys import Key, Kind, parse_key
from .numbers import to_float
from .printable import quoted
from .stepping import Point, batch_inputs


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

    def __init__(self, problem, derivation: Derivation, before, steps: list | None = None):
        self.problem = problem
        self.graph = problem.graph
        self.derivation = derivation
        self.point = before  # a stepping.Point: the evaluation and, in a batch, each sample's
        self.evaluation: Evaluation = before.evaluation
        self.samples: list[Evaluation] = before.samples
        self.steps = steps or []  # stepping.StepRecord per optimizer step
        first = self.steps[0] if self.steps else None
        self.after = first.point.evaluation if first else None
        self.output = self.graph.output
        self.values: dict[str, sp.Expr] = self.evaluation.values
        self.gradients: dict[str, sp.Expr] = self.evaluation.adjoints
        self.updated: dict[str, sp.Expr] = first.parameters if first else {}
        self.values_after: dict[str, sp.Expr] = self.after.values if self.after else {}
        self.warnings: list[str] = list(self.evaluation.kinks)
        self.sample = None  # which sample of [data] was solved, from 1 (no batch)
        self.sample_note = ""
        if problem.data is not None and not self.samples and "inputs" not in problem.raw:
            self.sample = 1
            self.sample_note = (
                f"the problem has {len(next(iter(problem.data.values())))} samples in [data];"
                " this solution works on the first of them (batch = \"all\" solves the mean"
                " loss over all of them)")
        self._sweeps: dict[str, dict] = {self.output: self.gradients}

    def sample_solution(self, i: int) -> Solution:
        """Sample ``i`` (from 0) of the mini-batch solved on its own: its forward and
        backward pass, for the handout to write out in full."""
        graph = self.graph.with_values(batch_inputs(self.problem)[i])
        problem = replace(self.problem, graph=graph, batch=None, data=None, optimizer=None,
                          learning_rate=None)
        return Solution(problem, self.derivation, Point(self.samples[i]))

    @property
    def optimizer(self):
        """The update rule of the steps (an :class:`~symbackprop.optimizers.Optimizer`)."""
        return self.problem.update_rule

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
            if self.samples:  # the mean of the samples' derivatives
                sweeps = [adjoints(self.derivation, top, s.locals, zero) for s in self.samples]
                self._sweeps[top] = {n: sum((w[n] for w in sweeps), zero) / len(sweeps)
                                     for n in sweeps[0]}
            else:
                self._sweeps[top] = adjoints(self.derivation, top, self.evaluation.locals, zero)
        return self._sweeps[top][bottom]

    def held_derivative(self, top: str, bottom: str, held=()) -> sp.Expr:
        """d top / d bottom with the nodes ``held`` fixed: the sum over the paths from
        ``bottom`` up to ``top`` that pass through none of them (docs/claim-keys.md).
        With h3 = tanh(w h2 + u x3), ``held_derivative("h3", "w", ["h2"])`` is the
        immediate partial h2 (1 - h3^2); without ``held`` it is :meth:`derivative`."""
        self._check_names(top, bottom, *held)
        if top == bottom:
            return self.values[top] * 0 + 1
        held = set(held) - {top, bottom}
        samples = self.samples or [self.evaluation]
        zero = self.values[top] * 0
        inside = self.derivation.between(top, bottom) - held
        total = zero
        for evaluation in samples:
            memo = {top: zero + 1}
            for name in self.derivation.order(top)[1:] + list(self.graph.leaves):
                if name in inside and name not in memo:
                    memo[name] = sum((memo[e.upper] * evaluation.locals[e.upper, e.lower]
                                      for e in self.derivation.uses(name) if e.upper in memo),
                                     zero)
            total += memo.get(bottom, zero)
        return total / len(samples)

    def local_key(self, upper: str, lower: str) -> Key:
        """The claim key of the local derivative on the edge ``lower -> upper``:
        ``dupper/dlower`` when the edge is the only path between them, else the same
        with ``upper``'s other inputs that depend on ``lower`` held fixed
        (``dh3/dw|h2``): the immediate partial, not the total derivative."""
        if self.derivation.count_paths(upper, lower) <= 1:
            return Key(Kind.DERIVATIVE, upper, lower)
        held = tuple(sorted(i for i in self.graph.node(upper).inputs
                            if i != lower and lower in self.graph.upstream(i)))
        return Key(Kind.PARTIAL, upper, lower, held=held)

    def _sample_value(self, key: Key):
        """A value or derivative of one sample of the mini-batch (``y@s1``)."""
        if not self.samples:
            raise ClaimError(f"'{key}' names a sample of a mini-batch; this problem is "
                             "solved on one sample (batch = \"all\" in the problem file"
                             " solves a mini-batch)")
        if key.sample > len(self.samples):
            raise ClaimError(f"'{key}': the mini-batch has {len(self.samples)} samples")
        one = self.sample_solution(key.sample - 1)
        if key.wrt is None:
            return one.values[key.name]
        return one.held_derivative(key.name, key.wrt, key.held)

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
        if key.kind in (Kind.PARTIAL, Kind.SAMPLE):
            for n in (key.name, key.wrt, *key.held):
                if n is not None and n in self.graph.groups:
                    raise ClaimError(f"'{key}': name one element of {n}, such as "
                                     f"{self.graph.groups[n].names()[0]}")
            return self.value_of(key)
        if key.kind == Kind.DERIVATIVE:
            top_group = self.graph.groups.get(key.name)
            bottom_group = self.graph.groups.get(key.wrt)
            if top_group and bottom_group:
                raise ClaimError(f"'{key}' is a Jacobian, not a number or an array: name one"
                                 f" element, such as d{top_group.names()[0]}/d{key.wrt}")
            if top_group:
                return top_group.nest({n: self.derivative(n, key.wrt) for n in top_group.names()})
            return self._scalar_or_array(key.wrt, lambda n: self.derivative(key.name, n))
        return self._scalar_or_array(key.name, lambda n: self.value_of(replace(key, name=n)))

    def value_of(self, key: Key):
        """The exact value of a key that names one scalar (not a derivative)."""
        if key.kind == Kind.DERIVATIVE:
            return self.derivative(key.name, key.wrt)
        if key.kind == Kind.PARTIAL:
            return self.held_derivative(key.name, key.wrt, key.held)
        if key.kind == Kind.SAMPLE:
            return self._sample_value(key)
        if key.kind == Kind.VALUE:
            return self.values[key.name]
        if key.kind == Kind.STATE:
            return self._state(key)
        t = key.step if key.step is not None else 1  # "after"
        if t == 0:
            return self.values[key.name]
        if not self.steps:
            raise ClaimError(f"'{key}' needs a learning_rate or an [optimizer] in the problem")
        if t > len(self.steps):
            raise ClaimError(f"'{key}' asks for step {t}, the problem works out "
                             f"{len(self.steps)} (steps in [optimizer])")
        return self.steps[t - 1].point.evaluation.values[key.name]

    def _state(self, key: Key):
        if not self.steps:
            raise ClaimError(f"'{key}' needs an [optimizer] in the problem")
        names = self.optimizer.state_names
        if key.slot not in names:
            has = (f"its state is {', '.join(n + '_' + key.name for n in names)}" if names
                   else "it keeps no state")
            raise ClaimError(f"'{key}': the optimizer {self.optimizer.name} keeps no "
                             f"{key.slot}; {has}")
        if key.name not in self.graph.parameters:
            raise ClaimError(f"'{key}': {key.name} is not a parameter, it has no optimizer state")
        return self.steps[0].updates[key.name].state[key.slot]

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
        result.update(self._extra_json())
        if self.problem.title:
            result["title"] = self.problem.title
        result["warnings"] = list(self.warnings) + ([self.sample_note] if self.sample_note else [])
        return result

    def _extra_json(self) -> dict:
        """The optimizer, its state and the later steps; the mini-batch's samples; the
        sample of ``[data]`` solved (docs/json.md)."""
        extra: dict = {}
        params = self.graph.parameters
        if self.problem.optimizer is not None:
            o = self.optimizer
            extra["optimizer"] = {"name": o.name, "steps": o.steps,
                                  **{k: to_float(v) for k, v in o.settings().items()}}
            extra["state"] = {slot: self._grouped(
                {p: s.state[slot] for p, s in self.steps[0].updates.items()}, params)
                for slot in o.state_names}
            extra["steps"] = [
                {"step": r.t, "parameters": self._grouped(r.parameters, params),
                 "state": {slot: self._grouped({p: s.state[slot] for p, s in r.updates.items()},
                                               params) for slot in o.state_names},
                 "values": self._grouped(r.point.evaluation.values)}
                for r in self.steps]
        if self.samples:
            extra["batch"] = {"size": len(self.samples), "samples": [
                {"sample": i, "values": self._grouped(s.values),
                 "gradients": self._grouped(s.adjoints)}
                for i, s in enumerate(self.samples, 1)]}
        if self.sample is not None:
            extra["sample"] = self.sample
        return extra

    def __repr__(self) -> str:
        return f"<Solution of {self.problem.name}: {self.output} = {to_float(self.values[self.output]):.6g}>"
