"""Numeric kernels generated from a problem's symbolic equations.

``problem.compile()`` (docs/kernels.md) returns a :class:`Kernel` whose
``loss_and_grad(params, data)`` gives the batch-mean loss and its gradient. Nothing here
is written by hand per network: both code paths generate their functions with
``sympy.lambdify`` from equations whose derivatives come from the op table.

* **Graph form** (:mod:`.graph_form`): one fused function over the scalar Wengert list
  and its backward sweep, each scalar name holding an array over the batch. Works for
  every problem; it is the worked solution, run on arrays.
* **Network form** (:mod:`.network_form`): the matrix-level equations BP1-BP4, so a
  784-16-16-10 network costs a handful of matrix products instead of thirteen thousand
  scalar equations. The default for problems written with ``[network]``.
* **Layer form** (:mod:`.layer_form`): a network of typed layers (convolution, pooling,
  normalisation, recurrent cells, attention) as a short list of array equations, its
  backward sweep derived from each array operation's vector-Jacobian product
  (:mod:`.array_rules`) and the op table. The default for networks of typed layers.

Backends (:mod:`.backends`): numpy, and JAX or PyTorch where installed.
"""

from __future__ import annotations

from ..errors import SymbackpropError, did_you_mean
from .backends import BACKENDS, available, get_backend
from .kernel import Kernel

FORMS = ("auto", "graph", "network", "layers")

__all__ = ["BACKENDS", "FORMS", "Kernel", "available", "compile_problem"]


def compile_problem(problem, backend: str = "numpy", form: str = "auto", cse: bool = True,
                    dtype: str = "float64") -> Kernel:
    """Compile a problem into numeric kernels.

    ``form``: ``"network"`` (matrix-level, problems written with ``[network]``),
    ``"graph"`` (scalar Wengert list, any problem), ``"layers"`` (whole arrays per layer,
    networks of typed layers), or ``"auto"``: network or layers when the problem has
    one. ``backend``: ``"numpy"``, ``"jax"`` or ``"torch"``; ``dtype``: ``"float64"``, or
    ``"float32"`` for the layers form.
    """
    if form not in FORMS:
        raise SymbackpropError(f"unknown kernel form '{form}'{did_you_mean(str(form), FORMS)}"
                               f" (one of {', '.join(FORMS)})")
    lib = get_backend(backend)
    layers = getattr(problem, "layers", None)
    if form == "auto":
        form = ("network" if problem.network is not None
                else "layers" if layers is not None else "graph")
    if form == "layers":
        if layers is None:
            raise SymbackpropError(f"{problem.source}: the layers form needs a [network] of typed"
                                   " layers")
        from .layer_form import LayerKernel

        return LayerKernel(problem, lib, cse=cse, dtype=dtype)
    if dtype != "float64":
        raise SymbackpropError(f"dtype {dtype}: the {form} form computes in float64")
    if form == "network":
        if problem.network is None:
            raise SymbackpropError(f"{problem.source}: the network form needs a [network] problem;"
                                   " this one is a [graph]")
        from .network_form import NetworkKernel

        return NetworkKernel(problem, lib, cse=cse)
    from .graph_form import GraphKernel

    return GraphKernel(problem, lib, cse=cse)
