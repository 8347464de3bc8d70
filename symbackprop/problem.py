"""A problem: a graph with values, a learning rate, optional training data.

The stages are small and each has one home: load (:mod:`~symbackprop.loader`) → graph
(:mod:`~symbackprop.graph`) → derivation (:mod:`~symbackprop.derive`) → evaluation
(:mod:`~symbackprop.evaluate`) → :class:`~symbackprop.solution.Solution`. Renderers,
the verifier, the exam generator and the kernels all start from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

import numpy as np
import sympy as sp

from .derive import Derivation, Derivations
from .graph import Graph, stage
from .layers import LayerStack
from .network import Network
from .optimizers import Optimizer
from .parse import to_source
from .solution import Solution
from .stepping import check_exact_steps, evaluate_point, take_steps


@dataclass
class Problem:
    """A loaded problem. ``graph`` is in the user's granularity unless staged."""

    name: str
    source: str
    graph: Graph
    title: str | None = None
    learning_rate: sp.Rational | None = None
    network: Network | None = None
    #: A network of typed layers (convolution, pooling, ...): its graph is written out
    #: element by element, and a mini-batch is part of it (the sample first in every name).
    layers: LayerStack | None = None
    data: dict[str, np.ndarray] | None = None
    raw: dict = field(default_factory=dict, repr=False)
    #: The ``[optimizer]`` table; None for plain SGD with ``learning_rate`` (or no update).
    optimizer: Optimizer | None = None
    #: ``"all"`` or K: solve the mean loss over the first K samples of ``[data]``.
    batch: str | int | None = None
    #: The caller's cache of derivations by graph shape (the exam generator's, shared by
    #: the draws of one exercise); None: this problem is derived on its own.
    derivations: Derivations | None = field(default=None, repr=False, compare=False)

    @property
    def update_rule(self) -> Optimizer | None:
        """The optimizer of the update step: ``[optimizer]``, else SGD with the
        learning rate; None when the problem asks for no update."""
        if self.optimizer is not None:
            return self.optimizer
        if self.learning_rate is not None:
            return Optimizer("sgd", learning_rate=self.learning_rate)
        return None

    @cached_property
    def derivation(self) -> Derivation:
        """The graph's edges with their local derivatives (computed once per problem, or
        once per graph shape of the caller's :attr:`derivations`)."""
        if self.derivations is not None:
            return self.derivations.of(self.graph)
        return Derivation(self.graph)

    def staged(self) -> Problem:
        """The same problem with every compound equation split into atomic gates."""
        return replace(self, graph=stage(self.graph))

    def solve(self, exact: bool = False) -> Solution:
        """Forward pass, backward pass, update and second forward pass (and more steps
        of the optimizer, over the mini-batch when the problem has one).

        ``exact=True`` keeps exact SymPy values (rationals, exp and log of rationals);
        by default values are floats whose first 25 digits are guaranteed.
        """
        rule = self.update_rule
        if exact and rule is not None:
            check_exact_steps(self, rule)
        before = evaluate_point(self, self.graph, exact)
        steps = take_steps(self, rule, before, exact) if rule is not None else []
        return Solution(self, self.derivation, before, steps)

    def compile(self, backend: str = "numpy", form: str = "auto", dtype: str = "float64"):
        """Kernels for the loss and its gradient over a batch (docs/kernels.md).

        ``backend``: "numpy", "jax" or "torch"; ``form``: "network" (matrix-level
        BP1-BP4), "layers" (whole arrays per typed layer), "graph" (the scalar Wengert
        list) or "auto" (network or layers when the problem has one); ``dtype``:
        "float64", or "float32" for the layers form. See :mod:`symbackprop.kernels`.
        """
        from .kernels import compile_problem

        return compile_problem(self, backend=backend, form=form, dtype=dtype)

    def graph_form(self) -> dict:
        """The problem as a graph-form table (docs/problem-files.md), e.g. for an answer key.

        Every node's expression is written back in the whitelisted syntax, so the table
        loads again with :func:`symbackprop.load_dict` and solves to the same numbers.
        """
        leaves_of = {"input": {}, "parameter": {}}
        for name, leaf in self.graph.leaves.items():
            group = self.graph.group_of(name)
            if group is None:
                leaves_of[leaf.kind][name] = _plain_number(leaf.value)
            elif group.name not in leaves_of[leaf.kind]:
                leaves_of[leaf.kind][group.name] = group.nest(
                    {n: _plain_number(self.graph.leaves[n].value) for n in group.names()})
        table = {
            "graph": {n.name: to_source(n.expr) for n in self.graph.nodes},
            "inputs": leaves_of["input"],
            "parameters": leaves_of["parameter"],
            "output": self.graph.output,
        }
        if self.learning_rate is not None:
            table["learning_rate"] = _plain_number(self.learning_rate)
        if self.optimizer is not None:
            table["optimizer"] = {"name": self.optimizer.name, "steps": self.optimizer.steps,
                                  **{k: _plain_number(v) for k, v in self.optimizer.settings().items()}}
        if self.batch is not None and self.data:
            table["batch"] = self.batch
            table["data"] = {name: np.vectorize(lambda v: _plain_number(sp.Rational(repr(float(v)))),
                                                otypes=[object])(values).tolist()
                             for name, values in self.data.items()}
        if self.title:
            table["title"] = self.title
        return table

    def network_form(self) -> dict | None:
        """A network of typed layers as its problem file writes it: the layer stack, which
        an exam's answer key keeps beside the graph form (key.json's ``network_form``), so
        that ``grade`` works on the problem ``verify`` builds from that file, layer slips
        and all. None for any other problem."""
        if self.layers is None:
            return None
        return {k: _json_value(v) for k, v in self.raw.items() if k in TOP_KEYS}

    def __repr__(self) -> str:
        return f"<Problem {self.name}: {len(self.graph.nodes)} nodes, output {self.graph.output}>"


#: The top-level keys of a problem table (an exercise file adds others; a key leaves them out).
TOP_KEYS = ("title", "output", "learning_rate", "graph", "network", "inputs", "parameters", "data",
            "optimizer", "batch")


def _json_value(value):
    """A value of a loaded problem table as JSON writes it: numbers as :func:`_plain_number`."""
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, str | bool) or value is None:
        return value
    return _plain_number(str(value) if isinstance(value, Decimal) else value)


def _plain_number(value: sp.Rational):
    """An exact rational as an int or the shortest float that reads back as it."""
    value = sp.Rational(value)
    if value.q == 1:
        return int(value.p)
    return float(value)
