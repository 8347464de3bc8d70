"""The array libraries a kernel can run on: numpy (always), JAX and PyTorch (when installed).

A backend is what ``sympy.lambdify`` needs to turn the same SymPy equations into code
for one library: a printer class, a namespace of functions, and a way to make arrays.
The generated code names *primitives* that SymPy has no printer for, and each backend
binds those names to its library's functions, from two tables:

* the op table (:mod:`symbackprop.ops`): every op's :class:`~symbackprop.ops.ArrayForm`
  (sigmoid, relu, the step [z > 0], maximum, minimum, softmax, the matrix product, ...),
  its name and its form in numpy, JAX and PyTorch. The numpy forms are the ops' own, so
  the kernels and the engine share one definition of every function, with its kink
  convention: relu'(0) = 0 through ``step``, and max/min ties to the first argument
  through ``step`` of the difference;
* :data:`ARRAY_PRIMITIVES` below: the network form's array operations that are no op
  of a graph (sums along one axis, the transpose, log-sum-exp, the one-hot mask, ...).

JAX and PyTorch are imported only when asked for; a missing library is a
:class:`~symbackprop.errors.SymbackpropError` that names the pip command.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sympy.printing.precedence import PRECEDENCE

from .. import ops
from ..errors import SymbackpropError

BACKENDS = ("numpy", "jax", "torch")
INSTALL = {"jax": "pip install jax jaxlib", "torch": "pip install torch"}


@dataclass(frozen=True)
class Backend:
    """One array library, as ``lambdify`` and the kernels see it."""

    name: str
    module: str  # lambdify's name for the library's namespace
    printer: type  # a SymPy code printer class
    primitives: dict[str, Callable]  # names the generated code calls, bound for this library
    asarray: Callable  # array-like -> this library's float64 array
    to_numpy: Callable  # this library's array -> numpy array
    extra: dict = field(default_factory=dict)
    #: a context manager in which the library computes in float64, for libraries whose
    #: default is narrower (JAX's float32); None when the default already is float64
    float64: Callable | None = None

    def float_type(self) -> np.dtype:
        """The numpy dtype of the floats this library computes in, here and now."""
        return np.asarray(self.to_numpy(self.asarray([0.0]))).dtype

    def make_printer(self):
        """A printer configured as ``lambdify`` configures its own."""
        return self.printer({
            "fully_qualified_modules": False, "inline": True,
            "allow_unknown_functions": True,
            "user_functions": {k: k for k in self.primitives},
        })

    @property
    def modules(self) -> list:
        return [self.primitives, self.module]


class _KernelPrinting:
    """What every backend's printer does the same way: a primitive is printed as a
    plain call of its name (the namespace binds it), and ``Max``/``Min`` as the binary
    ``maximum``/``minimum`` primitives (numpy's ``amax`` of a tuple breaks when a
    scalar meets an array, and ``torch.max`` needs two tensors)."""

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name in self._settings["user_functions"]:
            return f"{name}({', '.join(self._print(a) for a in expr.args)})"
        return super()._print_Function(expr)

    # The network form's matrix product and transpose read as the lectures' numpy does,
    # ``A0 @ W1.T``; every array library here has both operators. ``@`` binds as ``*``
    # does (the ``matmul`` function carries that precedence, so a product inside an
    # elementwise product gets its parentheses), ``.T`` as a call.

    def _print_matmul(self, expr):
        left, right = expr.args
        level = PRECEDENCE["Mul"]
        text = (self._print(left) if type(left) is type(expr)  # (a @ b) @ c = a @ b @ c
                else self.parenthesize(left, level, strict=False))
        return f"{text} @ {self.parenthesize(right, level, strict=False)}"

    def _print_transpose(self, expr):
        return f"{self.parenthesize(expr.args[0], PRECEDENCE['Func'], strict=False)}.T"

    def _fold(self, name, args):
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"{name}({text}, {self._print(arg)})"
        return text

    # SymPy's Max and Min (from relu's elementary form, say) as the max and min ops' kernels
    def _print_Max(self, expr):
        return self._fold(ops.OPS["max"].numerics.kernel.call, expr.args)

    def _print_Min(self, expr):
        return self._fold(ops.OPS["min"].numerics.kernel.call, expr.args)


# ------------------------------------------------------------------------------ numpy


# Sums along one axis of the network form's small (B, n) arrays are products with a
# column of ones, as the equations write them (BP3's δ 1): numpy's reduction machinery
# pays for each of the B rows (or n columns) what one BLAS call pays once, 2 µs against
# 0.7 µs for a 100 x 16 array. Every other shape takes the ordinary sum.


@functools.lru_cache(maxsize=64)
def _ones(n: int) -> np.ndarray:
    """A read-only vector of n ones (cached: the kernels ask for the same few sizes)."""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones


def _is_matrix(a) -> bool:
    return isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype == np.float64


def _np_class_sum(a):
    """Σ over the outputs of each sample (along each row), as a column (B, 1)."""
    if _is_matrix(a):
        return (a @ _ones(a.shape[1]))[:, None]
    return np.sum(a, axis=-1, keepdims=True)


def _np_batch_sum(a):
    """Σ over the batch (down each column): 1ᵀ a."""
    if _is_matrix(a):
        return _ones(a.shape[0]) @ a
    return np.sum(a, axis=0)


def _np_logsumexp(z):
    """log Σ_k e^(z_k) along each row (one sample), with the row's maximum taken out
    first (picked by ``argmax``, which numpy does several times faster than ``max``
    along a short axis)."""
    top = z[np.arange(z.shape[0]), z.argmax(axis=1)][:, None]
    return top + np.log(_np_class_sum(np.exp(z - top)))


def _np_mean(a):
    """The mean over the batch; ``sum / size`` is what ``ndarray.mean`` computes, without
    its Python-level bookkeeping."""
    return a.sum() / a.size if isinstance(a, np.ndarray) else float(a)


def _np_onehot(y, n):
    """Class indices of shape (B, 1) as a one-hot (B, n) matrix."""
    return (y == np.arange(n)).astype(float)


# ------------------------------------------------------------------ the array primitives


def _jax_onehot(jax):
    jnp = jax.numpy
    return lambda y, n: (y == jnp.arange(n)).astype(jnp.result_type(float))


#: The network form's array operations that are no op of the table, in each library:
#: (numpy function, JAX form, PyTorch form), the latter two functions of the module.
ARRAY_PRIMITIVES: dict[str, tuple[Callable, Callable, Callable]] = {
    "transpose": (np.transpose, lambda jax: jax.numpy.transpose, lambda torch: lambda a: a.T),
    "class_sum": (_np_class_sum,
                  lambda jax: functools.partial(jax.numpy.sum, axis=1, keepdims=True),
                  lambda torch: lambda a: a.sum(dim=1, keepdim=True)),
    "batch_sum": (_np_batch_sum, lambda jax: functools.partial(jax.numpy.sum, axis=0),
                  lambda torch: lambda a: a.sum(dim=0)),
    "logsumexp": (_np_logsumexp,
                  lambda jax: functools.partial(jax.scipy.special.logsumexp, axis=1, keepdims=True),
                  lambda torch: lambda z: torch.logsumexp(z, dim=1, keepdim=True)),
    "onehot": (_np_onehot, _jax_onehot,
               lambda torch: lambda y, n: (y == torch.arange(n)).to(torch.float64)),
    "batch_mean": (_np_mean, lambda jax: jax.numpy.mean,
                   lambda torch: lambda a: (a if isinstance(a, torch.Tensor)
                                            else torch.as_tensor(a, dtype=torch.float64)).mean()),
}

_LIBRARIES = ("numpy", "jax", "torch")


def primitives(library: str, module=None) -> dict[str, Callable]:
    """Every name generated code may call, bound for ``library`` (its module given for
    JAX and PyTorch): the op table's array forms and :data:`ARRAY_PRIMITIVES`."""
    bound = {form.call: ops.bind(form, op, library, module)
             for op in ops.OPS.values()
             for form in (op.numerics.kernel, op.layer.kernel if op.layer else None) if form}
    column = _LIBRARIES.index(library)
    for name, forms in ARRAY_PRIMITIVES.items():
        bound[name] = forms[0] if library == "numpy" else forms[column](module)
    return bound


# ------------------------------------------------------------------------------ numpy


def _numpy_backend() -> Backend:
    from sympy.printing.numpy import NumPyPrinter

    class Printer(_KernelPrinting, NumPyPrinter):
        pass

    return Backend("numpy", "numpy", Printer, primitives("numpy"),
                   asarray=functools.partial(np.asarray, dtype=float), to_numpy=np.asarray)


# -------------------------------------------------------------------------------- JAX


def _jax_backend() -> Backend:
    jax = _import("jax")
    jnp = importlib.import_module("jax.numpy")
    importlib.import_module("jax.scipy.special")  # logsumexp
    from sympy.printing.numpy import JaxPrinter

    class Printer(_KernelPrinting, JaxPrinter):
        pass

    # JAX computes in float32 unless jax_enable_x64 is set; the kernel follows that
    # setting rather than changing a global switch behind the user's back. The gradient
    # check alone switches to float64 for its own duration, with JAX's context manager
    # (``jax.enable_x64``, formerly ``jax.experimental.enable_x64``), where there is one.
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:
        enable_x64 = getattr(importlib.import_module("jax.experimental"), "enable_x64", None)
    return Backend("jax", "jax", Printer, primitives("jax", jax),
                   asarray=lambda a: jnp.asarray(a, dtype=jnp.result_type(float)),
                   to_numpy=np.asarray,
                   float64=(lambda: enable_x64(True)) if enable_x64 is not None else None)


# ---------------------------------------------------------------------------- PyTorch


def _torch_backend() -> Backend:
    torch = _import("torch")
    from sympy.printing.pytorch import TorchPrinter

    class Printer(_KernelPrinting, TorchPrinter):
        pass

    def tensor(a):
        return a if isinstance(a, torch.Tensor) else torch.as_tensor(a, dtype=torch.float64)

    return Backend("torch", "torch", Printer, primitives("torch", torch), asarray=tensor,
                   to_numpy=lambda a: a.detach().cpu().numpy() if isinstance(a, torch.Tensor)
                   else np.asarray(a))


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise SymbackpropError(
            f"the {name} backend needs {name}, which is not installed: {INSTALL[name]}"
        ) from None


_MAKERS = {"numpy": _numpy_backend, "jax": _jax_backend, "torch": _torch_backend}


@functools.cache
def get_backend(name: str) -> Backend:
    """The backend called ``name``; an unknown or missing one is a SymbackpropError."""
    if name not in _MAKERS:
        from ..errors import did_you_mean

        raise SymbackpropError(f"unknown backend '{name}'{did_you_mean(str(name), BACKENDS)}"
                               f" (one of {', '.join(BACKENDS)})")
    return _MAKERS[name]()


def available(name: str) -> bool:
    """Whether backend ``name`` can be used here (its library imports)."""
    try:
        get_backend(name)
    except SymbackpropError:
        return False
    return True
