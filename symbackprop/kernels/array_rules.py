"""The array operations of the layer form, each with its numpy form and its
vector-Jacobian product written once.

A network of typed layers runs as a short Wengert list over whole arrays
(:mod:`.layer_form`): each layer's forward equations use the operations below, and the
backward sweep is *derived* from them, equation by equation, upstream times local:

* a contraction ``einsum`` (the dense layer's W x, a convolution's K · window, attention's
  Q Kᵀ and P V) has the adjoints of the product rule, each itself a contraction:
  for O = A·B over the indices of the spec, dA = contract(g, B), dB = contract(A, g);
* ``unfold`` (im2col: every kernel-sized window of the padded input as a strided view) has
  ``fold`` as its adjoint, which adds each window's gradient back where the window was:
  so δ of a convolution's input is the upstream gradient convolved with the kernel, and
  dL/dK the upstream gradient contracted with the input's windows;
* max-pooling is ``window_argmax`` (the routing: each window's first maximum in row-major
  order, PyTorch's rule at a tie) then ``window_take``, whose adjoint ``window_put`` sends
  each gradient to the position it was taken from, and nowhere else;
* ``sum_axes`` (the means and variances of the normalisations) has ``expand`` as its
  adjoint; ``reshape`` has ``reshape_as``; a value broadcast into a larger array gets the
  sum of the gradient over the broadcast axes (``sum_to``);
* ``cols`` (one gate's columns) has ``cols_put``; ``time_step`` (one step of a sequence) has
  ``time_put``; ``stack_time`` has ``time_step``;
* the softmax over the last axis has the op table's softmax vector-Jacobian product.

Elementwise arithmetic and activations are not here: their local derivatives are the op
table's (:mod:`symbackprop.ops`), applied by :func:`symbackprop.derive.local_partials`.

Each rule is a SymPy function applied to SymPy symbols (arrays); static settings (the
stride, the window size, the einsum spec) are written into the function's name or its
integer arguments, so the generated code reads ``unfold(x, 3, 3, 1, 0)`` and
``einsum_bcijuv_fcuv_to_bfij(cols1, K1)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from math import prod

import numpy as np
import sympy as sp
from numpy.lib.stride_tricks import as_strided

from .. import ops
from ..ops import _np_softmax


@dataclass(frozen=True)
class ArrayRule:
    """One array operation: its numpy form and its vector-Jacobian product
    ``vjp(args, out, g) -> adjoint of each argument`` (None where the argument is a
    setting or has no gradient: an index array, a size)."""

    name: str
    numpy: Callable
    vjp: Callable | None = None


RULES: dict[str, ArrayRule] = {}


def _register(rule: ArrayRule) -> ArrayRule:
    RULES[rule.name] = rule
    return rule


def call(name: str, *args) -> sp.Expr:
    """The SymPy expression of array operation ``name`` over ``args`` (numbers become
    SymPy integers or tuples, printed as written)."""
    def arg(a):
        if isinstance(a, tuple):
            return sp.Tuple(*(sp.Integer(v) for v in a))
        return sp.Integer(a) if isinstance(a, int) else a
    return sp.Function(name)(*(arg(a) for a in args))


def rule_of(expr) -> ArrayRule | None:
    """The array rule ``expr`` calls, or None for elementwise algebra."""
    if isinstance(expr, sp.Function) and type(expr).__name__ in RULES:
        return RULES[type(expr).__name__]
    if isinstance(expr, sp.Function) and type(expr).__name__.startswith("einsum_"):
        return einsum_rule(type(expr).__name__)
    return None


def _ints(arg) -> tuple | int:
    if isinstance(arg, sp.Tuple):
        return tuple(int(v) for v in arg)
    return int(arg)


# ------------------------------------------------------------------------------ einsum


def einsum_name(spec: str) -> str:
    """``"bi,ji->bj"`` as the name ``einsum_bi_ji_to_bj``."""
    inputs, out = spec.split("->")
    a, b = inputs.split(",")
    return f"einsum_{a}_{b}_to_{out}"


def _spec(name: str) -> tuple[str, str, str]:
    body = name[len("einsum_"):]
    inputs, out = body.split("_to_")
    a, b = inputs.split("_")
    return a, b, out


def contraction(a: str, b: str, out: str) -> Callable:
    """A two-operand einsum as one batched matrix product (transposes and reshapes,
    planned once): the indices of both operands and the output are the batch of the
    product, those of both operands only are summed, the rest are its rows and columns."""
    batch = [i for i in out if i in a and i in b]
    summed = [i for i in a if i in b and i not in out]
    rows = [i for i in a if i not in b]
    cols = [i for i in b if i not in a]
    if set(rows) - set(out) or set(cols) - set(out):
        raise ValueError(f"{a},{b}->{out}: an index of one operand only must be kept")
    perm_a = [a.index(i) for i in batch + rows + summed]
    perm_b = [b.index(i) for i in batch + summed + cols]
    made = batch + rows + cols
    perm_out = [made.index(i) for i in out]

    def run(x, y):
        sizes = dict(zip(a, x.shape, strict=True)) | dict(zip(b, y.shape, strict=True))
        nb = [sizes[i] for i in batch]
        nr, ns, nc = (prod([sizes[i] for i in g]) for g in (rows, summed, cols))
        left = x.transpose(perm_a).reshape(*nb, nr, ns)
        right = y.transpose(perm_b).reshape(*nb, ns, nc)
        product = (left @ right).reshape(*nb, *[sizes[i] for i in rows], *[sizes[i] for i in cols])
        return product.transpose(perm_out)
    return run


@functools.cache
def einsum_rule(name: str) -> ArrayRule:
    """The rule of one contraction: O = A·B, dA = contract(g, B), dB = contract(A, g)."""
    a, b, out = _spec(name)

    def vjp(args, _out, g):
        left, right = args
        return (call(einsum_name(f"{out},{b}->{a}"), g, right),
                call(einsum_name(f"{a},{out}->{b}"), left, g))
    return ArrayRule(name, contraction(a, b, out), vjp)


# ----------------------------------------------------------------- windows (im2col)


def _unfold(x, kh, kw, stride, pad):
    """Every kh × kw window of the (padded) image, one row per output position:
    (B, oh, ow, C, kh, kw), contiguous (the im2col copy, made once), so that the
    contraction with the kernel is one matrix product without another copy."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    count, channels, height, width = x.shape
    oh, ow = (height - kh) // stride + 1, (width - kw) // stride + 1
    sb, sc, sh, sw = x.strides
    view = as_strided(x, (count, oh, ow, channels, kh, kw),
                      (sb, sh * stride, sw * stride, sc, sh, sw), writeable=False)
    return np.ascontiguousarray(view)


def _fold(g, height, width, stride, pad):
    """The adjoint of unfold: each window's gradient added back where the window lay."""
    count, oh, ow, channels, kh, kw = g.shape
    out = np.zeros((count, channels, height + 2 * pad, width + 2 * pad), dtype=g.dtype)
    g = g.transpose(0, 3, 1, 2, 4, 5)
    for u in range(kh):
        for v in range(kw):
            out[..., u:u + stride * (oh - 1) + 1:stride, v:v + stride * (ow - 1) + 1:stride] \
                += g[..., u, v]
    return out[..., pad:pad + height, pad:pad + width] if pad else out


_register(ArrayRule(
    "unfold", _unfold,
    lambda args, out, g: (call("fold", g, args[0], *args[3:]), None, None, None, None)))
_register(ArrayRule(
    "fold", lambda g, like, stride, pad: _fold(g, like.shape[-2], like.shape[-1], stride, pad)))


def _window_slices(x, size, stride):
    """The size·size strided slices of x, one per position in the window (row-major):
    slice k holds, for every window, its k-th value. Elementwise work on these slices
    runs at array speed, where a reduction along a window axis of 4 pays per window."""
    height, width = x.shape[-2:]
    oh, ow = (height - size) // stride + 1, (width - size) // stride + 1
    return [x[..., u:u + stride * (oh - 1) + 1:stride, v:v + stride * (ow - 1) + 1:stride]
            for u in range(size) for v in range(size)]


def _window_argmax(x, size, stride):
    """The position of each window's first maximum, row-major (PyTorch's rule at a tie)."""
    slices = _window_slices(x, size, stride)
    top = functools.reduce(np.maximum, slices)
    route = np.full(top.shape, len(slices) - 1, dtype=np.intp)
    for k in range(len(slices) - 2, -1, -1):  # the earliest position that holds the maximum
        route[slices[k] == top] = k
    return route


def _window_take(x, idx, size, stride):
    """The value each route points at: the window's maximum (the same number, computed
    as the maximum of the slices, faster than indexing)."""
    return functools.reduce(np.maximum, _window_slices(x, size, stride))


def _window_put(g, idx, like, size, stride):
    """Each window's gradient at the position its value was taken from, none elsewhere."""
    out = np.zeros(like.shape, dtype=g.dtype)
    for k, part in enumerate(_window_slices(out, size, stride)):
        part += np.where(idx == k, g, 0)  # += : overlapping windows add up
    return out


_register(ArrayRule("window_argmax", _window_argmax))
_register(ArrayRule(
    "window_take", _window_take,
    lambda args, out, g: (call("window_put", g, args[1], args[0], *args[2:]), None, None, None)))
_register(ArrayRule("window_put", _window_put))


# ------------------------------------------------------------- sums, shapes, steps


def _sum_axes(x, axes):
    return x.sum(axis=axes, keepdims=True)


def _sum_to(g, like):
    """``g`` summed over the axes along which ``like`` was broadcast, in like's shape."""
    shape = np.shape(like)
    if np.shape(g) == shape:
        return g
    extra = np.ndim(g) - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape)
                                       if n == 1 and np.shape(g)[extra + i] != 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)


_register(ArrayRule("sum_axes", _sum_axes,
                    lambda args, out, g: (call("expand", g, args[0]), None)))
_register(ArrayRule("expand", lambda g, like: np.broadcast_to(g, like.shape)))
_register(ArrayRule("sum_to", _sum_to))
_register(ArrayRule("reshape", lambda x, shape: x.reshape(shape),
                    lambda args, out, g: (call("reshape_as", g, args[0]), None)))
_register(ArrayRule(
    "permute", lambda x, axes: x.transpose(axes),
    lambda args, out, g: (call("permute", g, tuple(int(np.argsort(_ints(args[1]))[i])
                                                  for i in range(len(args[1])))), None)))
_register(ArrayRule("reshape_as", lambda g, like: g.reshape(like.shape)))


def _cols_put(g, like, start, stop):
    out = np.zeros(like.shape, dtype=g.dtype)
    out[..., start:stop] = g
    return out


_register(ArrayRule("cols", lambda x, start, stop: x[..., start:stop],
                    lambda args, out, g: (call("cols_put", g, *args), None, None)))
_register(ArrayRule("cols_put", _cols_put))


def _time_put(g, like, t):
    out = np.zeros(like.shape, dtype=g.dtype)
    out[:, t] = g
    return out


_register(ArrayRule("time_step", lambda x, t: x[:, t],
                    lambda args, out, g: (call("time_put", g, args[0], args[1]), None)))
_register(ArrayRule("time_put", _time_put))


_register(ArrayRule(
    "stack_time", lambda *xs: np.stack(xs, axis=1),
    lambda args, out, g: tuple(call("time_step", g, t) for t in range(len(args)))))


def softmax_vjp(args, out, g):
    """The op table's softmax rule over the last axis: a ⊙ (g − Σ_j g_j a_j)."""
    return (ops.OPS["softmax"].layer.vjp(out, g, lambda e: call("sum_axes", e, (-1,))),)


_register(ArrayRule("softmax_last", functools.partial(_np_softmax, axis=-1), softmax_vjp))


def numpy_namespace(names) -> dict[str, Callable]:
    """The numpy function of each array rule the generated code calls."""
    out = {}
    for name in names:
        rule = RULES.get(name) or (einsum_rule(name) if name.startswith("einsum_") else None)
        if rule is not None:
            out[name] = rule.numpy
    return out


# ------------------------------------------------------------------------ PyTorch


def _torch_forms(torch) -> dict[str, Callable]:
    """The same operations on PyTorch tensors (the kernel's torch backend): the same
    slices and sums, in PyTorch's spelling."""
    functional = torch.nn.functional

    def unfold(x, kh, kw, stride, pad):
        if pad:
            x = functional.pad(x, (pad, pad, pad, pad))
        return x.unfold(2, kh, stride).unfold(3, kw, stride).permute(0, 2, 3, 1, 4, 5).contiguous()

    def fold(g, like, stride, pad):
        count, oh, ow, channels, kh, kw = g.shape
        height, width = like.shape[-2:]
        out = torch.zeros((count, channels, height + 2 * pad, width + 2 * pad), dtype=g.dtype)
        g = g.permute(0, 3, 1, 2, 4, 5)
        for u in range(kh):
            for v in range(kw):
                out[..., u:u + stride * (oh - 1) + 1:stride, v:v + stride * (ow - 1) + 1:stride] \
                    += g[..., u, v]
        return out[..., pad:pad + height, pad:pad + width] if pad else out

    def window_argmax(x, size, stride):
        slices = _window_slices(x, size, stride)
        top = functools.reduce(torch.maximum, slices)
        route = torch.full(top.shape, len(slices) - 1, dtype=torch.long)
        for k in range(len(slices) - 2, -1, -1):
            route[slices[k] == top] = k
        return route

    def window_put(g, idx, like, size, stride):
        out = torch.zeros(like.shape, dtype=g.dtype)
        for k, part in enumerate(_window_slices(out, size, stride)):
            part += torch.where(idx == k, g, torch.zeros((), dtype=g.dtype))
        return out

    def sum_to(g, like):
        shape = tuple(like.shape)
        if tuple(g.shape) == shape:
            return g
        extra = g.dim() - len(shape)
        axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape)
                                           if n == 1 and g.shape[extra + i] != 1)
        return g.sum(dim=axes, keepdim=True).reshape(shape)

    def put(index):
        def run(g, like, *where):
            out = torch.zeros(like.shape, dtype=g.dtype)
            out[index(*where)] = g
            return out
        return run

    return {
        "unfold": unfold, "fold": fold, "window_argmax": window_argmax,
        "window_take": lambda x, idx, size, stride: functools.reduce(
            torch.maximum, _window_slices(x, size, stride)),
        "window_put": window_put,
        "sum_axes": lambda x, axes: x.sum(dim=axes, keepdim=True),
        "expand": lambda g, like: g.expand(like.shape), "sum_to": sum_to,
        "reshape": lambda x, shape: x.reshape(shape), "permute": lambda x, axes: x.permute(axes),
        "reshape_as": lambda g, like: g.reshape(like.shape),
        "cols": lambda x, start, stop: x[..., start:stop],
        "cols_put": put(lambda start, stop: (Ellipsis, slice(start, stop))),
        "time_step": lambda x, t: x[:, t], "time_put": put(lambda t: (slice(None), t)),
        "stack_time": lambda *xs: torch.stack(xs, dim=1),
        "softmax_last": lambda x: torch.softmax(x, dim=-1),
    }


# ---------------------------------------------------------------------------- JAX


def _jax_forms(jax) -> dict[str, Callable]:
    """The same operations on JAX arrays, which are immutable: a sum into a slice is
    ``.at[...].add``."""
    jnp = jax.numpy

    def where(u, v, size_u, size_v, stride, oh, ow):
        return (Ellipsis, slice(u, u + stride * (oh - 1) + 1, stride),
                slice(v, v + stride * (ow - 1) + 1, stride))

    def unfold(x, kh, kw, stride, pad):
        if pad:
            x = jnp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        oh, ow = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
        parts = [x[where(u, v, kh, kw, stride, oh, ow)] for u in range(kh) for v in range(kw)]
        stacked = jnp.stack(parts, axis=-1).reshape(*parts[0].shape, kh, kw)
        return jnp.transpose(stacked, (0, 2, 3, 1, 4, 5))

    def fold(g, like, stride, pad):
        count, oh, ow, channels, kh, kw = g.shape
        height, width = like.shape[-2:]
        out = jnp.zeros((count, channels, height + 2 * pad, width + 2 * pad), dtype=g.dtype)
        g = jnp.transpose(g, (0, 3, 1, 2, 4, 5))
        for u in range(kh):
            for v in range(kw):
                out = out.at[where(u, v, kh, kw, stride, oh, ow)].add(g[..., u, v])
        return out[..., pad:pad + height, pad:pad + width] if pad else out

    def window_argmax(x, size, stride):
        slices = _window_slices(x, size, stride)
        top = functools.reduce(jnp.maximum, slices)
        route = jnp.full(top.shape, len(slices) - 1)
        for k in range(len(slices) - 2, -1, -1):
            route = jnp.where(slices[k] == top, k, route)
        return route

    def window_put(g, idx, like, size, stride):
        out = jnp.zeros(like.shape, dtype=g.dtype)
        oh, ow = g.shape[-2:]
        for k in range(size * size):
            u, v = divmod(k, size)
            out = out.at[where(u, v, size, size, stride, oh, ow)].add(jnp.where(idx == k, g, 0))
        return out

    def sum_to(g, like):
        shape = tuple(like.shape)
        if tuple(g.shape) == shape:
            return g
        extra = g.ndim - len(shape)
        axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape)
                                           if n == 1 and g.shape[extra + i] != 1)
        return jnp.sum(g, axis=axes, keepdims=True).reshape(shape)

    def put(index):
        def run(g, like, *at):
            return jnp.zeros(like.shape, dtype=g.dtype).at[index(*at)].set(g)
        return run

    return {
        "unfold": unfold, "fold": fold, "window_argmax": window_argmax,
        "window_take": lambda x, idx, size, stride: functools.reduce(
            jnp.maximum, _window_slices(x, size, stride)),
        "window_put": window_put,
        "sum_axes": lambda x, axes: jnp.sum(x, axis=axes, keepdims=True),
        "expand": lambda g, like: jnp.broadcast_to(g, like.shape), "sum_to": sum_to,
        "reshape": lambda x, shape: jnp.reshape(x, shape),
        "permute": lambda x, axes: jnp.transpose(x, axes),
        "reshape_as": lambda g, like: jnp.reshape(g, like.shape),
        "cols": lambda x, start, stop: x[..., start:stop],
        "cols_put": put(lambda start, stop: (Ellipsis, slice(start, stop))),
        "time_step": lambda x, t: x[:, t], "time_put": put(lambda t: (slice(None), t)),
        "stack_time": lambda *xs: jnp.stack(xs, axis=1),
        "softmax_last": lambda x: jax.nn.softmax(x, axis=-1),
    }


_FORMS = {"torch": _torch_forms, "jax": _jax_forms}


def library_namespace(names, library: str, module) -> dict[str, Callable]:
    """The PyTorch or JAX function of each array rule the generated code calls."""
    forms = _FORMS[library](module)
    einsum = module.einsum if library == "torch" else module.numpy.einsum
    out = {}
    for name in names:
        if name.startswith("einsum_"):
            a, b, o = _spec(name)
            out[name] = functools.partial(einsum, f"{a},{b}->{o}")
        elif name in forms:
            out[name] = forms[name]
    missing = {n for n in names if n in RULES} - set(out)
    if missing:  # every rule has its form here: a new rule without one is caught
        raise ValueError(f"no {library} form for {', '.join(sorted(missing))}")
    return out
