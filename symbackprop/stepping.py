"""Several update steps, and mini-batches: what ``solve`` does beyond one sample and one
SGD step (docs/optimizers.md).

A *point* is the problem evaluated at some parameter values: one :class:`Evaluation`
for one sample, or for a mini-batch the mean of the samples' evaluations (the loss is
the mean of their losses, so every gradient is the mean of theirs) together with each
sample's own. :func:`take_steps` moves the parameters by the problem's optimizer
(:func:`symbackprop.optimizers.step`, the one implementation of the rules) and
evaluates the point after each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .errors import ProblemError, SymbackpropError
from .evaluate import Evaluation, evaluate, function_depth
from .limits import MAX_EXACT_STEP_DEPTH, LimitError
from .optimizers import Optimizer, Step, step, zero_state


@dataclass
class Point:
    """The problem at some parameter values: the evaluation ``solve`` reports (the
    mean over the mini-batch, when there is one) and each sample's own."""

    evaluation: Evaluation
    samples: list[Evaluation] = field(default_factory=list)


@dataclass
class StepRecord:
    """Step ``t``: each parameter's :class:`Step` (new value, state, intermediates) and
    the problem evaluated at the new values."""

    t: int
    updates: dict[str, Step]
    point: Point

    @property
    def parameters(self) -> dict:
        return {p: s.new for p, s in self.updates.items()}


def batch_inputs(problem) -> list[dict[str, sp.Rational]]:
    """The leaf values of each sample of the problem's mini-batch (``batch``), exact.

    ``[data]`` holds floats read from decimals, so each is read back by its shortest
    repr: 0.23 is 23/100 again.
    """
    data, size = problem.data, problem.batch
    if not data or size is None:
        return []
    count = len(next(iter(data.values())))
    size = count if size == "all" else size
    samples = []
    for i in range(size):
        leaves = {}
        for name, values in data.items():
            group = problem.graph.groups.get(name)
            flat = np.asarray(values[i]).reshape(-1)
            names = group.names() if group is not None else [name]
            for element, v in zip(names, flat, strict=True):
                leaves[element] = sp.Rational(repr(float(v)))
        samples.append(leaves)
    return samples


def mean_evaluation(samples: list[Evaluation]) -> Evaluation:
    """The mean of the samples' values, local derivatives and adjoints."""
    n = len(samples)

    def mean(dicts):
        return {k: sum((d[k] for d in dicts[1:]), dicts[0][k]) / n for k in dicts[0]}

    kinks = [f"sample {i}: {k}" for i, s in enumerate(samples, 1) for k in s.kinks]
    return Evaluation(mean([s.values for s in samples]), mean([s.locals for s in samples]),
                      mean([s.adjoints for s in samples]), kinks)


def evaluate_point(problem, graph, exact: bool) -> Point:
    """The problem at ``graph``'s parameter values, over its mini-batch if it has one."""
    section = "network" if problem.network else "graph"
    inputs = batch_inputs(problem)
    try:
        if not inputs:
            return Point(evaluate(graph, problem.derivation, exact=exact))
        samples = []
        for i, leaves in enumerate(inputs, 1):
            try:
                samples.append(evaluate(graph.with_values(leaves), problem.derivation, exact=exact))
            except SymbackpropError as exc:
                exc.message = f"sample {i} of the batch: {exc.message}"
                raise
        return Point(mean_evaluation(samples), samples)
    except SymbackpropError as exc:
        raise exc.at(file=problem.source, section=section) from None


def take_steps(problem, optimizer: Optimizer, start: Point, exact: bool) -> list[StepRecord]:
    """``optimizer.steps`` updates from ``start``, each evaluated at its new point."""
    graph = problem.graph
    names = graph.parameters
    values = {p: start.evaluation.values[p] for p in names}
    states = {p: zero_state(optimizer, values[p]) for p in names}
    point, records = start, []
    for t in range(1, optimizer.steps + 1):
        if exact:
            _refuse_roots_of_transcendentals(problem, optimizer, point.evaluation.adjoints, names)
        updates = {p: step(optimizer, values[p], point.evaluation.adjoints[p], states[p], t)
                   for p in names}
        values = {p: s.new for p, s in updates.items()}
        states = {p: s.state for p, s in updates.items()}
        try:
            point = evaluate_point(problem, graph.with_values(values), exact)
        except SymbackpropError as exc:
            if t == 1:
                raise
            raise ProblemError(f"after step {t} of the optimizer: {exc.message}").at(
                file=problem.source, section="optimizer", field="steps") from None
        records.append(StepRecord(t, updates, point))
    return records


def check_exact_steps(problem, optimizer: Optimizer) -> None:
    """Refuse ``--exact`` over several steps of a graph with functions before any work:
    each step nests the last step's exact gradient into the parameters, so the exact
    form grows with every step (SGD through one sigmoid: 3 steps 6.7 s, 5 steps 57 s).
    The functions' depth times the steps may be at most :data:`MAX_EXACT_STEP_DEPTH`;
    one step keeps the depth limit alone, and a graph of fractions any number of steps
    (docs/limits.md)."""
    if optimizer.steps < 2:
        return
    depth = function_depth(problem.graph)
    if depth * optimizer.steps > MAX_EXACT_STEP_DEPTH:
        raise LimitError(
            f"--exact: {optimizer.steps} steps through functions nested {depth} deep: the "
            f"depth times the steps may be at most {MAX_EXACT_STEP_DEPTH} (the limit; "
            "docs/limits.md); solve without --exact (every digit shown is checked)"
        ).at(file=problem.source, section="optimizer", field="steps")


#: The optimizers whose rule takes a square root of the squared gradient.
_ROOTED = ("rmsprop", "adam")


def _refuse_roots_of_transcendentals(problem, optimizer: Optimizer, adjoints: dict,
                                     names) -> None:
    """Refuse ``--exact`` where RMSprop's or Adam's √v of a gradient that is no fraction
    would be nested into the next forward pass: SymPy cannot even tell such a root's sign
    cheaply, and one Adam step through a tanh took minutes. A fraction's root stays
    exact and cheap; checked floats give every digit shown either way (docs/limits.md)."""
    if optimizer.name not in _ROOTED:
        return
    for p in names:
        if not isinstance(adjoints[p], sp.Rational):
            raise LimitError(
                f"--exact: the {optimizer.name} step takes the square root of a gradient "
                f"that is not a fraction (the gradient of {p}); its exact form grows without "
                "bound, so solve without --exact (every digit shown is checked)"
            ).at(file=problem.source, section="optimizer", field="name")
