"""SymPy functions that SymPy lacks: sigmoid, relu, the step [z > 0], softmax.

They are real :class:`sympy.Function` subclasses so that expressions print as ``σ(z)``
and ``relu(z)`` instead of exploded exponentials, stay exact on rationals, and evaluate
to any precision. Their derivatives (``fdiff``) exist so that ``sympy.diff`` works on
user expressions in tests; the engine itself reads derivatives from :mod:`symbackprop.ops`.
"""

from __future__ import annotations

import mpmath
import sympy as sp
from sympy.core.function import ArgumentIndexError


def _number(z):
    """z as a SymPy number when it is one (exact or float), else None."""
    return z if isinstance(z, sp.Number) else None


def _undefined(*values) -> bool:
    """Whether a value is NaN (a recomputation from a sheet's impossible number, such as
    a negative variance): a comparison with it raises, so the piecewise functions give
    NaN for it before they compare."""
    return any(v is sp.nan for v in values)


class sigmoid(sp.Function):
    """The logistic function σ(z) = 1 / (1 + e^(−z))."""

    nargs = 1

    @classmethod
    def eval(cls, z):
        if z is sp.S.Zero:
            return sp.S.Half
        if z is sp.S.Infinity:
            return sp.S.One
        if z is sp.S.NegativeInfinity:
            return sp.S.Zero
        if isinstance(z, sp.Float):
            return _float_sigmoid(z)
        return None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))

    def _eval_evalf(self, prec):
        z = self.args[0]._eval_evalf(prec)
        if z is None or not z.is_Number:
            return None
        return _float_sigmoid(sp.Float(z, precision=prec))

    def _eval_is_real(self):
        return self.args[0].is_real


def _float_sigmoid(z: sp.Float) -> sp.Float:
    """σ at a float, in the form that does not overflow for large |z|."""
    prec = z._prec
    if _undefined(z):
        return z
    if z >= 0:
        return sp.Float(1 / (1 + sp.exp(-z)), precision=prec)
    e = sp.exp(z)
    return sp.Float(e / (1 + e), precision=prec)


class step(sp.Function):
    """The Iverson bracket [z > 0]: relu's derivative, 0 at the kink z = 0 by convention."""

    nargs = 1

    @classmethod
    def eval(cls, z):
        n = _number(z)
        if _undefined(n):
            return n
        if n is not None:
            return sp.S.One if n > 0 else sp.S.Zero
        if z.is_positive:
            return sp.S.One
        if z.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _eval_evalf(self, prec):
        z = self.args[0]._eval_evalf(prec)
        if z is None or not z.is_Number:
            return None
        if _undefined(z):
            return z
        return sp.Float(1 if z > 0 else 0, precision=prec)


class relu(sp.Function):
    """The rectifier relu(z) = max(0, z)."""

    nargs = 1

    @classmethod
    def eval(cls, z):
        n = _number(z)
        if _undefined(n):
            return n
        if n is not None:
            return n if n > 0 else n * 0
        if z.is_nonnegative:
            return z
        if z.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return step(self.args[0])

    def _eval_evalf(self, prec):
        z = self.args[0]._eval_evalf(prec)
        if z is None or not z.is_Number:
            return None
        if _undefined(z):
            return z
        return z if z > 0 else sp.Float(0, precision=prec)


class _Extremum(sp.Function):
    """max or min of two arguments, kept in the order the user wrote them.

    SymPy's ``Max`` and ``Min`` sort their arguments, so "ties go to the first argument"
    would mean SymPy's first, not the user's. These keep the written order, which the
    subgradient convention (and the printed formula) refers to.
    """

    nargs = 2
    _pick = None  # max or min of two numbers

    @classmethod
    def eval(cls, a, b):
        if isinstance(a, sp.Number) and isinstance(b, sp.Number):
            return cls._pick(a, b)
        return None

    def fdiff(self, argindex=1):
        a, b = self.args
        first = 1 - step(b - a) if self._pick is _larger else 1 - step(a - b)
        if argindex == 1:
            return first
        if argindex == 2:
            return 1 - first
        raise ArgumentIndexError(self, argindex)

    def _eval_evalf(self, prec):
        values = [a._eval_evalf(prec) for a in self.args]
        if any(v is None or not v.is_Number for v in values):
            return None
        return self._pick(*values)

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None


def _larger(a, b):
    if _undefined(a, b):
        return sp.nan
    return a if a >= b else b


def _smaller(a, b):
    if _undefined(a, b):
        return sp.nan
    return a if a <= b else b


class maximum(_Extremum):
    """max(a, b); at a tie the first argument is the one that counts."""

    _pick = staticmethod(_larger)


class minimum(_Extremum):
    """min(a, b); at a tie the first argument is the one that counts."""

    _pick = staticmethod(_smaller)


class softmax(sp.Function):
    """Element ``j`` of softmax(z_0, ..., z_{n-1}): e^(z_j) / Σ_k e^(z_k).

    Written ``softmax(j, z_0, ..., z_{n-1})``: the first argument is the element index.
    """

    @classmethod
    def eval(cls, j, *zs):
        if not isinstance(j, sp.Integer) or not 0 <= int(j) < len(zs):
            raise ValueError("softmax(j, z0, ..., zn): j must be an index into the z's")
        if all(isinstance(z, sp.Number) for z in zs) and any(isinstance(z, sp.Float) for z in zs):
            return _float_softmax(int(j), zs)
        return None

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def logits(self) -> tuple:
        return self.args[1:]

    def fdiff(self, argindex=1):
        if argindex == 1:
            return sp.S.Zero
        k = argindex - 2
        zs = self.logits
        if k == self.index:
            return self * (1 - self)
        return -self * softmax(k, *zs)

    def _eval_rewrite_as_exp(self, j, *zs, **kwargs):
        return sp.exp(zs[int(j)]) / sp.Add(*[sp.exp(z) for z in zs])

    def _eval_evalf(self, prec):
        zs = [z._eval_evalf(prec) for z in self.logits]
        if any(z is None or not z.is_Number for z in zs):
            return None
        return _float_softmax(self.index, [sp.Float(z, precision=prec) for z in zs])


def _float_softmax(j, zs):
    """softmax_j with the maximum subtracted first, so large logits do not overflow."""
    prec = max(z._prec for z in zs if isinstance(z, sp.Float))
    top = max(zs)
    es = [sp.exp(sp.Float(z - top, precision=prec)) for z in zs]
    return sp.Float(es[j] / sp.Add(*es), precision=prec)


def _float_call(function, z: sp.Float) -> sp.Float:
    """An mpmath ``function`` at the float z, at z's precision."""
    prec = z._prec
    with mpmath.workprec(prec):
        return sp.Float(function(z._to_mpmath(prec)), precision=prec)


class _MpmathFunction(sp.Function):
    """A function of one real argument whose value at a float is an mpmath formula
    (``_mp``, a staticmethod), evaluated at the float's precision."""

    nargs = 1
    _mp = None

    def _eval_evalf(self, prec):
        z = self.args[0]._eval_evalf(prec)
        if z is None or not z.is_Number:
            return None
        return _float_call(self._mp, sp.Float(z, precision=prec))

    def _eval_is_real(self):
        return self.args[0].is_real


def _mp_softplus(z):
    """log(1 + e^z) without overflow for large z or lost digits for very negative z."""
    if z > 0:
        return z + mpmath.log1p(mpmath.exp(-z))
    return mpmath.log1p(mpmath.exp(z))


class softplus(_MpmathFunction):
    """softplus(z) = log(1 + e^z), the smooth rectifier; its derivative is σ(z)."""

    _mp = staticmethod(_mp_softplus)

    @classmethod
    def eval(cls, z):
        if z is sp.S.Zero:
            return sp.log(2)
        if isinstance(z, sp.Float):
            return _float_call(_mp_softplus, z)
        return None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, z, **kwargs):
        return sp.log(1 + sp.exp(z))


#: The slope of leaky_relu(z) below 0 when it is written with one argument.
LEAKY_SLOPE = sp.Rational(1, 100)


class leaky_relu(sp.Function):
    """The leaky rectifier: z for z > 0, else a z. Written ``leaky_relu(z)`` the slope a
    is :data:`LEAKY_SLOPE` (0.01); ``leaky_relu(z, a)`` gives it, and the slope is then
    an input like any other (its gradient is min(z, 0))."""

    nargs = (1, 2)

    @property
    def slope(self) -> sp.Expr:
        return self.args[1] if len(self.args) == 2 else LEAKY_SLOPE

    @classmethod
    def eval(cls, z, a=LEAKY_SLOPE):
        if isinstance(z, sp.Number) and isinstance(a, sp.Number):
            if _undefined(z, a):
                return sp.nan
            return z if z > 0 else a * z
        return None

    def fdiff(self, argindex=1):
        z = self.args[0]
        if argindex == 1:
            return step(z) + self.slope * (1 - step(z))
        if argindex == 2 and len(self.args) == 2:
            return z * (1 - step(z))
        raise ArgumentIndexError(self, argindex)

    def _eval_evalf(self, prec):
        values = [a._eval_evalf(prec) for a in self.args]
        if any(v is None or not v.is_Number for v in values):
            return None
        z, a = values[0], values[1] if len(values) == 2 else sp.Float(LEAKY_SLOPE, precision=prec)
        if _undefined(z, a):
            return sp.nan
        return z if z > 0 else a * z

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None


def _mp_elu(z):
    return z if z > 0 else mpmath.expm1(z)


class elu(_MpmathFunction):
    """The exponential linear unit with α = 1: z for z > 0, else e^z − 1. Its derivative,
    1 for z > 0 and e^z otherwise, is continuous: both sides give 1 at 0."""

    _mp = staticmethod(_mp_elu)

    @classmethod
    def eval(cls, z):
        if isinstance(z, sp.Float):
            return _float_call(_mp_elu, z)
        if isinstance(z, sp.Rational):
            return z if z > 0 else sp.exp(z) - 1
        return None

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        z = self.args[0]
        return step(z) + (1 - step(z)) * sp.exp(z)
