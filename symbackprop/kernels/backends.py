"""The array libraries a kernel can run on: numpy (always), JAX and PyTorch (when installed).

A backend is what ``sympy.lambdify`` needs to turn the same SymPy equations into code
for one library: a printer class, a namespace of functions, and a way to make arrays.
The generated code names a handful of *primitives* that SymPy has no printer for
(sigmoid, relu, the step [z > 0], softmax, the matrix product, sums over one axis, ...);
each backend binds those names to its library's functions. The numpy primitives are
the op table's own numpy forms (:data:`symbackprop.ops.NUMPY_NAMESPACE` and each
``Op.numpy``), so the kernels and the engine share one definition of every function,
with its kink convention: relu'(0) = 0 through ``step``, and max/min ties to the first
argument through ``step`` of the difference. Two are recast for speed and give the same
numbers: the sigmoid (the op table's formula without its ``np.errstate``) and the sums
along one axis (products with ones), see below.

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

    def _print_Max(self, expr):
        return self._fold("maximum", expr.args)

    def _print_Min(self, expr):
        return self._fold("minimum", expr.args)


# ------------------------------------------------------------------------------ numpy


def _softmax_element(np_softmax, stack):
    """softmax(j, z_0, ..., z_n) of the graph form, element j, over broadcast arrays:
    the op table's stable softmax along a new leading axis."""

    def softmax(j, *zs):
        return np_softmax(stack(zs), axis=0)[int(j)]

    return softmax


# e^709.78... is the largest power of e a float holds.
_EXP_MAX = float(np.log(np.finfo(float).max))


def _np_sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), the op table's formula and passes, with e^(−z) taken of
    min(−z, 709.78) so that it cannot overflow. The op table silences that overflow with
    ``np.errstate`` instead, which inside a kernel costs more than the four passes (numpy
    takes a slower path for every operation while an errstate is active). The numbers
    are the op table's for z ≥ −709.78; below, where e^(−z) would overflow and the op
    table gives 0, this gives 5.6e-309 (σ itself is below 1.8e-308 there)."""
    e = np.negative(np.asarray(z, dtype=float))
    if not e.ndim:  # a number: no array to work in
        return 1.0 / (1.0 + np.exp(min(float(e), _EXP_MAX)))
    np.minimum(e, _EXP_MAX, out=e)
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def _np_stack(zs):
    return np.stack(np.broadcast_arrays(*zs))


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


def _numpy_backend() -> Backend:
    from sympy.printing.numpy import NumPyPrinter

    class Printer(_KernelPrinting, NumPyPrinter):
        pass

    table = ops.NUMPY_NAMESPACE
    primitives = {
        "sigmoid": _np_sigmoid, "relu": table["relu"], "step": table["step"],
        "maximum": table["Max"], "minimum": table["Min"],
        "softmax": _softmax_element(ops.OPS["softmax"].numpy, _np_stack),
        # network form: one sample per row
        "matmul": ops.OPS["matmul"].numpy, "transpose": np.transpose,
        "class_sum": _np_class_sum, "batch_sum": _np_batch_sum,
        "softmax_classes": functools.partial(ops.OPS["softmax"].numpy, axis=1),
        "logsumexp": _np_logsumexp,
        "softplus": functools.partial(np.logaddexp, 0.0),
        "onehot": _np_onehot,
        "batch_mean": _np_mean,
    }
    return Backend("numpy", "numpy", Printer, primitives,
                   asarray=functools.partial(np.asarray, dtype=float), to_numpy=np.asarray)


# -------------------------------------------------------------------------------- JAX


def _jax_backend() -> Backend:
    jax = _import("jax")
    jnp = importlib.import_module("jax.numpy")
    jsp = importlib.import_module("jax.scipy.special")
    from sympy.printing.numpy import JaxPrinter

    class Printer(_KernelPrinting, JaxPrinter):
        pass

    def stack(zs):
        return jnp.stack(jnp.broadcast_arrays(*zs))

    primitives = {
        "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu,
        "step": lambda z: (z > 0).astype(jnp.result_type(float)),
        "maximum": jnp.maximum, "minimum": jnp.minimum,
        "softmax": _softmax_element(jax.nn.softmax, stack),
        "matmul": jnp.matmul, "transpose": jnp.transpose,
        "class_sum": functools.partial(jnp.sum, axis=1, keepdims=True),
        "batch_sum": functools.partial(jnp.sum, axis=0),
        "softmax_classes": functools.partial(jax.nn.softmax, axis=1),
        "logsumexp": functools.partial(jsp.logsumexp, axis=1, keepdims=True),
        "softplus": jax.nn.softplus,
        "onehot": lambda y, n: (y == jnp.arange(n)).astype(jnp.result_type(float)),
        "batch_mean": jnp.mean,
    }
    # JAX computes in float32 unless jax_enable_x64 is set; the kernel follows that
    # setting rather than changing a global switch behind the user's back. The gradient
    # check alone switches to float64 for its own duration, with JAX's context manager
    # (``jax.enable_x64``, formerly ``jax.experimental.enable_x64``), where there is one.
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:
        enable_x64 = getattr(importlib.import_module("jax.experimental"), "enable_x64", None)
    return Backend("jax", "jax", Printer, primitives,
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

    def stack(zs):
        return torch.stack(torch.broadcast_tensors(*map(tensor, zs)))

    def torch_softmax(z, axis):
        return torch.softmax(z, dim=axis)

    primitives = {
        "sigmoid": torch.sigmoid, "relu": torch.relu,
        "step": lambda z: (tensor(z) > 0).to(torch.float64),
        "maximum": lambda a, b: torch.maximum(tensor(a), tensor(b)),
        "minimum": lambda a, b: torch.minimum(tensor(a), tensor(b)),
        "softmax": _softmax_element(torch_softmax, stack),
        "matmul": torch.matmul, "transpose": lambda a: a.T,
        "class_sum": lambda a: a.sum(dim=1, keepdim=True),
        "batch_sum": lambda a: a.sum(dim=0),
        "softmax_classes": lambda z: torch.softmax(z, dim=1),
        "logsumexp": lambda z: torch.logsumexp(z, dim=1, keepdim=True),
        "softplus": torch.nn.functional.softplus,
        "onehot": lambda y, n: (y == torch.arange(n)).to(torch.float64),
        "batch_mean": lambda a: tensor(a).mean(),
    }
    return Backend("torch", "torch", Printer, primitives, asarray=tensor,
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
