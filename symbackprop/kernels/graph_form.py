"""Graph form: one fused function over the whole Wengert list, vectorized over the batch.

The function's arguments are the scalar leaves (``w1``, ``W1[0][1]``, ``x1``); its body
is the forward list (every node's equation, as the user wrote it) followed by the
backward list from :func:`symbackprop.derive.adjoint_equations` (adjoint = Σ upstream ×
local, each local derivative read from the op table in the lectures' form), pruned to
what the parameters' gradients need. Vectorizing costs nothing: each scalar name simply
holds an array with one entry per sample, since every op is elementwise, and the
gradient of the batch-mean loss is the batch mean of each parameter's adjoint.

Where sigmoid meets log (binary cross-entropy written out), the lectures' formulas
give 0·(−∞) and 0/0 in floats once σ(z) rounds to 1; :mod:`.stable` rewrites those
equations, found in the graph, into log-sum-exp and fused forms (see its doc).

Kinks follow the engine's convention because the adjoints *are* the engine's: relu'(0)
is ``step(0) = 0``, |x|'(0) is ``sign(0) = 0``, and a tie of max or min sends the
gradient to the first argument. So the kernel gives the worked solution's numbers.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..derive import adjoint_equations
from ..errors import SymbackpropError
from ..parse import symbol
from .backends import Backend
from .codegen import Names, lambdify_list
from .kernel import Kernel
from .stable import fuse_sigmoid_adjoints, sigmoid_nodes, stable_logs

batch_mean = sp.Function("batch_mean")


class GraphKernel(Kernel):
    """Kernels over the scalar graph of any problem (graph form or network form)."""

    form = "graph"

    def __init__(self, problem, backend: Backend, cse: bool = True):
        super().__init__(problem, backend)
        graph = problem.graph
        derivation = problem.derivation
        names = Names()
        bar = derivation.adjoint_symbols
        rename = {symbol(n): names.get(n) for n in graph.names}
        rename.update({bar[n]: names.get(n, "g") for n in graph.names})

        forward = [(names.get(node.name), node.expr.xreplace(rename)) for node in graph.nodes]
        # d output / d output = 1: substituted, so no equation multiplies by it.
        rename[bar[graph.output]] = sp.S.One
        backward = [(names.get(n, "g"), e.xreplace(rename))
                    for n, e in _needed(adjoint_equations(derivation, graph.output),
                                        graph.parameters, bar) if n != graph.output]
        # Stable forms where sigmoid meets log (module doc of .stable): the forward
        # list with log σ(u) by softplus, the backward with dividing adjoints fused.
        sigmoids = sigmoid_nodes(forward)
        forward = [(v, stable_logs(e, sigmoids)) for v, e in forward]
        value_of = {names.get(n): n for n in graph.names}
        complements, backward = fuse_sigmoid_adjoints(
            forward, backward, adjoint=lambda v: names.get(value_of[v], "g"),
            complement=lambda v: names.get(value_of[v], "one_minus"))
        defined = {s for s, _ in backward}

        self._param_leaves = graph.parameters
        self._input_leaves = graph.inputs
        args = [names.get(n) for n in self._param_leaves + self._input_leaves]
        output = names.get(graph.output)
        grads = [batch_mean(names.get(p, "g")) if names.get(p, "g") in defined else sp.S.Zero
                 for p in self._param_leaves]

        self._grad_fn, self.source = lambdify_list(args, forward + complements + backward,
                                                   [batch_mean(output), *grads], backend, cse)
        self._loss_fn, _ = lambdify_list(args, forward, [batch_mean(output)], backend, cse)
        node_names = [node.name for node in graph.nodes]
        self._forward_fn, _ = lambdify_list(args, forward, [names.get(n) for n in node_names],
                                            backend, cse=False)
        self._node_names = node_names

        self.parameter_shapes = _shapes(graph, self._param_leaves)
        self.input_shapes = _shapes(graph, self._input_leaves)
        self._constants = {n: float(graph.leaves[n].value) for n in self._input_leaves}
        self._hinge_class = None
        if problem.network is not None and problem.network.loss == "hinge":
            self._hinge_class = self._constants["y[0]"]

    # Calls -----------------------------------------------------------------------------

    def _args(self, params: dict, data: dict) -> tuple[list, int]:
        self._check_params(params)
        batch = self._batch_size(data)
        args: list = []
        asarray = self.backend.asarray
        for name, shape in self.parameter_shapes.items():
            value = asarray(params[name])
            args.extend(value.reshape(-1) if shape else [value])
        for name, shape in self.input_shapes.items():
            if name in data:
                value = asarray(data[name])
                args.extend(value.reshape(batch, -1).T if shape else [value])
            else:
                args.extend(self._constants[n] for n in _leaf_names(self.problem.graph, name, shape))
        if self._hinge_class is not None and "y" in data and np.any(
                self.backend.to_numpy(data["y"]) != self._hinge_class):
            raise SymbackpropError(
                f"the graph form of a hinge network is built for the class y = "
                f"{int(self._hinge_class)} only; use the network form for other classes")
        return args, batch

    def loss_and_grad(self, params: dict, data: dict) -> tuple[float, dict]:
        args, _ = self._args(params, data)
        loss, *flat = self._grad_fn(*args)
        grads, i = {}, 0
        for name, shape in self.parameter_shapes.items():
            size = int(np.prod(shape)) if shape else 1
            values = flat[i:i + size]
            i += size
            grads[name] = self._assemble(values, shape)
        return float(loss), grads

    def loss(self, params: dict, data: dict) -> float:
        args, _ = self._args(params, data)
        return float(self._loss_fn(*args)[0])

    def forward(self, params: dict, data: dict) -> dict:
        """Every node's value per sample: shape (B,) for a scalar node, (B, n) for the
        elements of an array node (``z1``, ``a1`` of a network)."""
        args, batch = self._args(params, data)
        to_np = self.backend.to_numpy
        values = {n: np.broadcast_to(np.asarray(to_np(v), dtype=float), (batch,))
                  for n, v in zip(self._node_names, self._forward_fn(*args), strict=True)}
        out: dict = {}
        graph = self.problem.graph
        for name in self._node_names:
            group = graph.group_of(name)
            if group is None:
                out[name] = values[name]
            elif group.name not in out and all(n in values for n in group.names()):
                out[group.name] = np.stack([values[n] for n in group.names()], axis=1).reshape(
                    batch, *group.shape)
        return out

    def _assemble(self, values: list, shape: tuple[int, ...]):
        if self.backend.name == "numpy":
            return np.asarray(values, dtype=float).reshape(shape) if shape else float(values[0])
        to_np = self.backend.to_numpy
        flat = np.array([float(to_np(v)) for v in values]).reshape(shape)
        return self.backend.asarray(flat)


def _needed(equations: list[tuple[str, sp.Expr]], parameters: list[str], bar: dict) -> list:
    """The adjoint equations the parameters' gradients depend on (a backward walk)."""
    needed = {bar[p] for p in parameters}
    kept = []
    for name, expr in reversed(equations):
        if bar[name] in needed:
            kept.append((name, expr))
            needed |= expr.free_symbols
    kept.reverse()
    return kept


def _shapes(graph, leaves: list[str]) -> dict[str, tuple[int, ...]]:
    """Leaf names grouped into the API's names: arrays by group, scalars by name."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name in leaves:
        group = graph.group_of(name)
        if group is None:
            shapes[name] = ()
        elif group.name not in shapes:
            shapes[group.name] = group.shape
    return shapes


def _leaf_names(graph, name: str, shape: tuple[int, ...]) -> list[str]:
    return graph.groups[name].names() if shape else [name]
