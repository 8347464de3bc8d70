"""What every kernel offers: the loss and its gradient over a batch, the forward pass,
a gradient check, and the problem's own values as arrays.

Names follow the problem. ``params`` maps each parameter to an array: a vector or
matrix by its group name (``W1``, ``b1``), a scalar by its own name (``w1``). ``data``
maps each input to an array whose leading axis is the batch (``x`` of shape (B, 2),
``y_t`` of shape (B,)); an input left out keeps the problem's value for every sample.
The loss is the mean over the batch, and each gradient has its parameter's shape.
"""

from __future__ import annotations

import numpy as np

from ..errors import SymbackpropError
from .backends import Backend


class Kernel:
    """Numeric kernels compiled from a problem's equations (see :func:`compile_problem`).

    Subclasses (:class:`~symbackprop.kernels.graph_form.GraphKernel`,
    :class:`~symbackprop.kernels.network_form.NetworkKernel`) generate the functions;
    this class holds what they share.
    """

    form = "?"

    def __init__(self, problem, backend: Backend):
        self.problem = problem
        self.backend = backend
        #: shape of each parameter, in the problem's order
        self.parameter_shapes: dict[str, tuple[int, ...]] = {}
        #: shape of one sample of each input
        self.input_shapes: dict[str, tuple[int, ...]] = {}
        #: the generated Python source of the loss-and-gradient function
        self.source = ""

    # The problem's own values -----------------------------------------------------------

    def parameters(self) -> dict:
        """The problem's ``[parameters]`` as arrays (a fresh copy each call)."""
        return {name: self.backend.asarray(self._leaf_values(name, shape).copy())
                for name, shape in self.parameter_shapes.items()}

    def data(self) -> dict:
        """The problem's ``[data]`` with a leading batch axis; inputs it does not list,
        and problems without ``[data]``, use ``[inputs]`` (one sample)."""
        given = self.problem.data or {}
        count = len(next(iter(given.values()))) if given else 1
        out = {}
        for name, shape in self.input_shapes.items():
            if name in given:
                values = np.asarray(given[name], dtype=float)
            else:
                values = np.broadcast_to(self._leaf_values(name, shape), (count, *shape)).copy()
            out[name] = self.backend.asarray(values)
        return out

    def inputs(self) -> dict:
        """The problem's ``[inputs]``, the one sample ``solve`` works on, as a batch of one."""
        return {name: self.backend.asarray(self._leaf_values(name, shape)[None, ...])
                for name, shape in self.input_shapes.items()}

    def _leaf_values(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        graph = self.problem.graph
        if not shape:
            return np.asarray(float(graph.leaves[name].value))
        group = graph.groups[name]
        return np.array([float(graph.leaves[n].value) for n in group.names()]).reshape(shape)

    # Evaluation -------------------------------------------------------------------------

    def loss_and_grad(self, params: dict, data: dict) -> tuple[float, dict]:
        """The batch-mean loss and its gradient, one array per parameter."""
        raise NotImplementedError

    def loss(self, params: dict, data: dict) -> float:
        """The batch-mean loss alone (the forward pass only)."""
        raise NotImplementedError

    def forward(self, params: dict, data: dict) -> dict:
        """Every named value of the forward pass, each with a leading batch axis."""
        raise NotImplementedError

    def check(self, params: dict | None = None, data: dict | None = None,
              eps: float | None = None, seed: int = 0) -> float:
        """The relative error between the gradient and a central finite difference.

        As HIPS/autograd's ``check_grads``: one random direction v (seeded), the
        directional derivative ∇L·v from the kernel against
        (L(p + hv) − L(p − hv)) / 2h.

        The check measures the *formulas*, so it runs in float64 even where the backend
        computes in float32 by default (JAX: its float64 mode is switched on for the
        check's duration only). The step h, unless ``eps`` gives it, follows the
        precision of the floats the check computes in: the central difference errs by
        about h² times the third derivative (truncation) plus u·|L|/h (rounding, u the
        unit roundoff), least near h = u^(1/3); taken relative to the size of the
        parameters, h·|v| = u^(1/3)·max(1, |p|). A right gradient then gives about 1e-8
        or less in float64, a wrong one 1e-3 or more. Where a backend has no float64,
        float32 leaves 1e-5 to 1e-2 for a right gradient (the rounding of L against a
        small directional derivative), so only gross errors show.
        """
        precise = self.backend.float64
        if precise is None or self.backend.float_type() == np.float64:
            return self._check(params, data, eps, seed)
        with precise():
            return self._check(params, data, eps, seed)

    def _check(self, params, data, eps, seed) -> float:
        params = self.parameters() if params is None else params
        data = self.data() if data is None else data
        asarray, to_np = self.backend.asarray, self.backend.to_numpy
        # made again in the precision of the check (a float32 array would stay float32)
        data = {k: asarray(np.asarray(to_np(v), dtype=float)) for k, v in data.items()}
        rng = np.random.default_rng(seed)
        point = {k: np.asarray(to_np(v), dtype=float) for k, v in params.items()}
        direction = {k: rng.standard_normal(np.shape(v)) for k, v in point.items()}
        if eps is None:
            unit = float(np.finfo(self.backend.float_type()).eps)
            size = float(np.sqrt(sum(np.sum(np.square(v)) for v in point.values())))
            length = float(np.sqrt(sum(np.sum(np.square(v)) for v in direction.values())))
            eps = unit ** (1 / 3) * max(1.0, size) / max(length, 1e-300)
        _, grads = self.loss_and_grad({k: asarray(v) for k, v in point.items()}, data)
        analytic = sum(float(np.sum(np.asarray(to_np(grads[k])) * direction[k])) for k in point)

        def moved(sign):
            return {k: asarray(point[k] + sign * eps * direction[k]) for k in point}

        numeric = (self.loss(moved(1), data) - self.loss(moved(-1), data)) / (2 * eps)
        scale = max(abs(analytic), abs(numeric), 1e-12)
        return abs(analytic - numeric) / scale

    # Argument checks (shared) -----------------------------------------------------------

    def _check_params(self, params: dict) -> None:
        """Every parameter present with its shape. The common case (arrays of the right
        shapes) costs one attribute read each; anything else takes the careful path."""
        try:
            for name, shape in self.parameter_shapes.items():
                if params[name].shape != shape:
                    break
            else:
                return
        except (KeyError, AttributeError):
            pass
        missing = [n for n in self.parameter_shapes if n not in params]
        if missing:
            raise SymbackpropError(f"params: missing {', '.join(missing)}"
                                   f" (the problem's parameters: {', '.join(self.parameter_shapes)})")
        for name, shape in self.parameter_shapes.items():
            if tuple(np.shape(params[name])) != shape:
                raise SymbackpropError(f"params: {name} has shape {tuple(np.shape(params[name]))},"
                                       f" expected {shape}")

    def _batch_size(self, data: dict) -> int:
        """The batch size shared by every input given, checking each input's shape."""
        sizes = set()
        for name, value in data.items():
            expected = self.input_shapes.get(name)
            shape = getattr(value, "shape", None)
            if shape is None or expected is None or shape[1:] != expected:
                shape = self._input_shape(name, value, expected)
            sizes.add(shape[0])
        if len(sizes) > 1:
            raise SymbackpropError(f"data: inputs have different batch sizes {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def _input_shape(self, name: str, value, expected) -> tuple[int, ...]:
        if expected is None:
            raise SymbackpropError(f"data: '{name}' is not an input of the problem"
                                   f" (inputs: {', '.join(self.input_shapes) or 'none'})")
        shape = tuple(np.shape(value))
        if not shape or shape[1:] != expected:
            want = f"(batch, {', '.join(map(str, expected))})" if expected else "(batch,)"
            raise SymbackpropError(f"data: {name} has shape {shape}, expected {want}")
        return shape

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.problem.name}: {self.form} form, "
                f"{self.backend.name}, {sum(int(np.prod(s)) for s in self.parameter_shapes.values())}"
                " parameters>")
