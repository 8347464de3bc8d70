"""The one table of operations: every fact about an op that the package uses.

Each :class:`Op` is registered once, and everything else reads it from here:

* ``local``: its local derivative per argument as a SymPy expression, in the form the
  lectures write it (σ' = σ(1 − σ) in terms of the gate's own output, tanh' = 1 − tanh²,
  relu' = [z > 0]); ``out`` stands for the gate's output. The chain rule is applied in
  one place (:mod:`symbackprop.derive`), on local derivatives read from here;
* ``gate``, ``pattern`` and ``rule``: its name in a computational graph, the gradient
  pattern it shows (add distributes, mul swaps, max routes, ...) and its local rule as
  the lectures write it, for the handouts' notes;
* ``latex`` and ``symbol``: how it prints (a format string over its arguments' LaTeX)
  and the short label of its gate in a figure;
* ``function`` and ``sympy``: the name users call it by in expressions (the parser's
  whitelist is the set of these names) and its SymPy class, by which expressions are
  classified, built and printed;
* ``kink``, ``convention`` and ``saturation``: where its derivative is a convention
  (a real function of the arguments: their distance from the kink), which convention,
  and how deep into a flat tail its input is; read alike by evaluation (the notes on
  kinks met), the exams' well-posedness rules and the stress test's re-check;
* ``numpy`` and ``pole``: its value in doubles, and whether finite inputs can give an
  infinite value there (a log of 0) that more precision, not an overflow, explains;
* ``kernel`` (and ``layer_kernel``): its name and implementation in each array library
  the kernels run on (numpy, JAX, PyTorch), for the ops SymPy's code printers do not
  know; the kernel backends bind exactly these names;
* ``activation``: whether a ``[network]`` layer may use it, element by element or over
  the whole layer (softmax).

Adding an op is one :func:`register` call here (and a SymPy function in
:mod:`symbackprop.functions` when SymPy lacks one); docs/operations.md explains how.

:func:`classify` maps a SymPy expression to its op and arguments; it is the only place
that knows how SymPy represents ``a - b`` or ``a / b``.

Kink convention (a documented subgradient): at a kink the derivative is the one from the
left, relu'(0) = 0, |x|'(0) = 0, leaky_relu'(0) = its slope; at a tie of max or min the
whole gradient goes to the first argument.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import sympy as sp

from .functions import (
    LEAKY_SLOPE,
    elu,
    leaky_relu,
    maximum,
    minimum,
    relu,
    sigmoid,
    softmax,
    softplus,
    step,
)

Expr = sp.Expr

#: How an activation acts on a layer (:attr:`Op.activation`): each element on its own,
#: or element i from every input of the layer (softmax; allowed on the last layer only).
ELEMENTWISE = "elementwise"
WHOLE_LAYER = "whole layer"


@dataclass(frozen=True)
class ArrayForm:
    """An op in generated kernel code: the name the code calls and what each array
    library binds to it. JAX and PyTorch are imported only when a kernel asks for them,
    so their forms are functions of the library's module (``lambda jax: jax.nn.relu``);
    ``numpy`` defaults to the op's own numpy form."""

    call: str
    jax: Callable[[ModuleType], Callable]
    torch: Callable[[ModuleType], Callable]
    numpy: Callable | None = None


@dataclass(frozen=True)
class Op:
    """One operation and every fact about it (see the module docstring)."""

    name: str
    gate: str
    pattern: str
    arity: int | tuple[int, ...] | None  # None: any number of arguments; a tuple: either
    local: Callable[..., tuple]  # (args, out, expr) -> d out / d arg_i for each i
    latex: str  # format string over the arguments' LaTeX: {0}, {1}, ... or {args}
    symbol: str  # the gate's label in a figure (LaTeX)
    numpy: Callable | None = None  # elementwise numpy form, over the same arguments
    function: str | None = None  # the name users call it by in expressions
    sympy: type | None = None  # its SymPy function class (for functions)
    #: distance of the arguments from the kink (0 on it), None for a smooth op: the
    #: largest move of one argument that reaches the kink (|z| for relu, |a − b|/2 for
    #: max, where moving both halfway meets the tie)
    kink: Callable[[tuple], object] | None = None
    convention: str = ""  # the derivative taken at the kink, in words
    #: how deep into a flat tail the input is, in the sigmoid's units (its |z|): the
    #: derivative there is 1/cosh²(depth/2) of its largest
    saturation: Callable[[tuple], object] | None = None
    pole: bool = False  # finite arguments can give an infinite value (log 0, 1/0)
    kernel: ArrayForm | None = None  # for an op SymPy's code printers do not know
    #: the function in SymPy builtins (exp, log, Max, Piecewise) over its arguments, for
    #: code printers that know only those (the practice page's JavaScript)
    elementary: Callable[..., Expr] | None = None
    layer_kernel: ArrayForm | None = None  # a whole-layer activation over (batch, units)
    #: a whole-layer activation's vector-Jacobian product over a layer's arrays:
    #: (its output a, the upstream gradient g, the sum over each sample) -> δ
    layer_vjp: Callable | None = None
    activation: str | None = None  # ELEMENTWISE or WHOLE_LAYER for a layer activation
    #: arguments of the SymPy expression that are not inputs of the gate, put first when
    #: it is built (softmax's element index)
    parameters: Callable[[Expr], tuple] | None = None
    subscript: Callable[[Expr], str] | None = None  # printed after it (softmax's index)
    rule: str = ""  # the local rule as the lectures write it (LaTeX), for the notes

    def partials(self, args: tuple, out: Expr, expr: Expr | None = None) -> tuple:
        """Local derivatives d out / d args[i], one per argument.

        ``out`` is what the lecture form refers to as the gate's output: the node's own
        symbol when the gate is a whole node, else the subexpression ``expr`` itself.
        """
        return tuple(self.local(tuple(args), out, expr if expr is not None else out))

    def takes(self, n: int) -> bool:
        """Whether the op can be called with ``n`` arguments."""
        if self.arity is None:
            return n >= 1
        return n in self.arity if isinstance(self.arity, tuple) else n == self.arity

    @property
    def arguments(self) -> str:
        """How many arguments it takes, in words: "1 argument", "1 or 2 arguments"."""
        counts = self.arity if isinstance(self.arity, tuple) else (self.arity,)
        text = " or ".join(str(n) for n in counts)
        return f"{text} argument{'s' if counts != (1,) else ''}"

    def double(self, expr: Expr, numbers: list) -> float:
        """Its value in doubles at argument values ``numbers`` (of ``expr``'s arguments)."""
        fixed = self.parameters(expr) if self.parameters else ()
        return float(self.numpy(*fixed, *numbers))


# --------------------------------------------------------------------------- numpy forms

# e^709.78... is the largest power of e a float holds.
_EXP_MAX = float(np.log(np.finfo(float).max))


def _np_sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), in four passes (the kernels call this a lot), with e^(−z)
    taken of min(−z, 709.78) so that it cannot overflow: below z = −709.78, where σ is
    under 1.8e-308, it gives 5.6e-309. (Silencing the overflow with ``np.errstate``
    instead costs more than the passes: numpy takes a slower path for every operation
    while an errstate is active.)"""
    e = np.negative(np.asarray(z, dtype=float))
    if not e.ndim:  # a number: no array to work in
        return 1.0 / (1.0 + np.exp(min(float(e), _EXP_MAX)))
    np.minimum(e, _EXP_MAX, out=e)
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def _np_relu(z):
    return np.maximum(z, 0.0)


def _np_step(z):
    return (np.asarray(z) > 0).astype(float)


def _np_sum(*xs):
    return functools.reduce(np.add, xs)


def _np_product(*xs):
    return functools.reduce(np.multiply, xs)


def _np_softmax(z, axis=0):
    """softmax along ``axis`` with the maximum subtracted (log-sum-exp trick)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_element(softmax_along, stack):
    """softmax(j, z_0, ..., z_n), element j, over broadcast arrays: a library's stable
    softmax along a new leading axis (``stack`` builds that axis)."""

    def element(j, *zs):
        return softmax_along(stack(zs), 0)[int(j)]

    return element


def _np_stack(zs):
    return np.stack(np.broadcast_arrays(*zs))


_np_softmax_element = _softmax_element(_np_softmax, _np_stack)


# ------------------------------------------------------- JAX and PyTorch forms (helpers)


def _jax_float(jax):
    return jax.numpy.result_type(float)


def _jax_stack(jax):
    jnp = jax.numpy
    return lambda zs: jnp.stack(jnp.broadcast_arrays(*zs))


def _tensor(torch, a):
    """A float64 tensor of ``a`` (PyTorch's functions want tensors, not numbers)."""
    return a if isinstance(a, torch.Tensor) else torch.as_tensor(a, dtype=torch.float64)


def _torch_stack(torch):
    return lambda zs: torch.stack(torch.broadcast_tensors(*(_tensor(torch, z) for z in zs)))


def _torch_binary(name):
    """PyTorch's ``torch.<name>(a, b)``, which takes two tensors, on numbers too."""
    return lambda torch: lambda a, b: getattr(torch, name)(_tensor(torch, a), _tensor(torch, b))


# --------------------------------------------------------------------------- the table


def _product_of_others(args, i):
    return sp.Mul(*[a for j, a in enumerate(args) if j != i])


def _tie(args):
    """How far max(a, b) or min(a, b) is from a tie: moving both by |a − b|/2 meets it."""
    return abs(args[0] - args[1]) / 2


def _at_zero(args):
    """How far a one-argument gate with its kink at 0 is from it: |z|."""
    return abs(args[0])


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op


# Arithmetic gates ------------------------------------------------------------------------

register(Op(
    name="add", gate="add gate", arity=None,
    pattern="distributes: every input receives the upstream gradient unchanged",
    local=lambda args, out, expr=None: tuple(sp.S.One for _ in args),
    latex="{args+}", symbol="+", numpy=_np_sum,
    rule=r"\frac{\partial (a + b)}{\partial a} = 1",
))
register(Op(
    name="mul", gate="mul gate", arity=None,
    pattern="swaps: each input receives the upstream gradient times the other input",
    local=lambda args, out, expr=None: tuple(_product_of_others(args, i) for i in range(len(args))),
    latex="{args*}", symbol=r"\times", numpy=_np_product,
    rule=r"\frac{\partial (a b)}{\partial a} = b",
))
register(Op(
    name="neg", gate="negation gate (·(−1))", arity=1,
    pattern="flips the sign of the upstream gradient",
    local=lambda args, out, expr=None: (sp.S.NegativeOne,),
    latex="-{0}", symbol=r"\cdot(-1)", numpy=np.negative,
    rule=r"\frac{d(-x)}{dx} = -1",
))
register(Op(
    name="div", gate="division gate", arity=2,
    pattern="scales by 1/b for the numerator; −a/b² for the denominator",
    local=lambda args, out, expr=None: (1 / args[1], -args[0] / args[1] ** 2),
    latex=r"\frac{{{0}}}{{{1}}}", symbol=r"\div", numpy=np.divide, pole=True,
    rule=r"\frac{\partial (a/b)}{\partial a} = \frac{1}{b},\ \frac{\partial (a/b)}{\partial b} = -\frac{a}{b^2}",
))
register(Op(
    name="inv", gate="reciprocal gate (1/x)", arity=1,
    pattern="multiplies the upstream gradient by −1/x²",
    local=lambda args, out, expr=None: (-1 / args[0] ** 2,),
    latex=r"\frac{{1}}{{{0}}}", symbol=r"1/x", numpy=np.reciprocal, pole=True,
    rule=r"\frac{d(1/x)}{dx} = -\frac{1}{x^2}",
))
register(Op(
    name="pow", gate="power gate", arity=2,
    pattern="multiplies the upstream gradient by the exponent times x to one power less (the power rule)",
    local=lambda args, out, expr=None: (
        args[1] * args[0] ** (args[1] - 1),
        out * sp.log(args[0]) if args[1].free_symbols else sp.S.Zero,
    ),
    latex="{0}^{{{1}}}", symbol=r"x^n", numpy=np.power, pole=True,
    rule=r"\frac{d(x^n)}{dx} = n x^{n-1}",
))

# Functions ----------------------------------------------------------------------------

register(Op(
    name="exp", gate="exp gate", arity=1, function="exp", sympy=sp.exp,
    pattern="multiplies the upstream gradient by its own output (e to the x is its own derivative)",
    local=lambda args, out, expr=None: (out,),
    latex=r"e^{{{0}}}", symbol=r"\exp", numpy=np.exp,
    rule=r"\frac{d(e^x)}{dx} = e^x",
))
register(Op(
    name="log", gate="log gate", arity=1, function="log", sympy=sp.log,
    pattern="divides the upstream gradient by its input",
    local=lambda args, out, expr=None: (1 / args[0],),
    latex=r"\log\left({0}\right)", symbol=r"\log", numpy=np.log, pole=True,
    rule=r"\frac{d(\log x)}{dx} = \frac{1}{x}",
))
register(Op(
    name="sqrt", gate="square-root gate", arity=1, function="sqrt",
    pattern="divides the upstream gradient by twice its own output",
    local=lambda args, out, expr=None: (1 / (2 * out),),
    latex=r"\sqrt{{{0}}}", symbol=r"\sqrt{x}", numpy=np.sqrt,
    rule=r"\frac{d\sqrt{x}}{dx} = \frac{1}{2\sqrt{x}}",
))
register(Op(
    name="abs", gate="abs gate", arity=1, function="abs", sympy=sp.Abs,
    pattern="passes the gradient with the sign of its input (0 at x = 0)",
    local=lambda args, out, expr=None: (sp.sign(args[0]),),
    latex=r"\left|{0}\right|", symbol=r"|x|", numpy=np.abs,
    kink=_at_zero, convention="|x|'(0) = 0",
    rule=r"\frac{d|x|}{dx} = \operatorname{sign}(x)",
))
register(Op(
    name="sigmoid", gate="sigmoid gate", arity=1, function="sigmoid", sympy=sigmoid,
    elementary=lambda z: 1 / (1 + sp.exp(-z)),
    pattern="multiplies the upstream gradient by σ(1 − σ), from its own output",
    local=lambda args, out, expr=None: (out * (1 - out),),
    latex=r"\sigma\left({0}\right)", symbol=r"\sigma", numpy=_np_sigmoid,
    saturation=_at_zero, activation=ELEMENTWISE,
    kernel=ArrayForm("sigmoid", jax=lambda jax: jax.nn.sigmoid, torch=lambda torch: torch.sigmoid),
    rule=r"\frac{d\sigma(z)}{dz} = \sigma(z)\,(1 - \sigma(z))",
))
register(Op(
    name="tanh", gate="tanh gate", arity=1, function="tanh", sympy=sp.tanh,
    pattern="multiplies the upstream gradient by 1 − tanh², from its own output",
    local=lambda args, out, expr=None: (1 - out**2,),
    latex=r"\tanh\left({0}\right)", symbol=r"\tanh", numpy=np.tanh,
    saturation=lambda args: 2 * abs(args[0]), activation=ELEMENTWISE,  # tanh(z) = 2σ(2z) − 1
    rule=r"\frac{d\tanh(z)}{dz} = 1 - \tanh^2(z)",
))
register(Op(
    name="relu", gate="ReLU gate", arity=1, function="relu", sympy=relu,
    elementary=lambda z: sp.Max(z, 0),
    pattern="passes the upstream gradient where its input is positive, blocks it elsewhere",
    local=lambda args, out, expr=None: (step(args[0]),),
    latex=r"\operatorname{{relu}}\left({0}\right)", symbol=r"\mathrm{relu}", numpy=_np_relu,
    kink=_at_zero, convention="relu'(0) = 0", activation=ELEMENTWISE,
    kernel=ArrayForm("relu", jax=lambda jax: jax.nn.relu, torch=lambda torch: torch.relu),
    rule=r"\frac{d\,\mathrm{relu}(z)}{dz} = [z > 0]",
))
register(Op(
    name="max", gate="max gate", arity=2, function="max", sympy=maximum,
    elementary=lambda a, b: sp.Max(a, b),
    pattern="routes: the whole upstream gradient goes to the larger input, none to the other",
    local=lambda args, out, expr=None: (1 - step(args[1] - args[0]), step(args[1] - args[0])),
    latex=r"\max\left({0}, {1}\right)", symbol=r"\max", numpy=np.maximum,
    kink=_tie, convention="a tie of max goes to the first argument",
    kernel=ArrayForm("maximum", jax=lambda jax: jax.numpy.maximum, torch=_torch_binary("maximum")),
    rule=r"\frac{\partial \max(a, b)}{\partial a} = [a \ge b]",
))
register(Op(
    name="min", gate="min gate", arity=2, function="min", sympy=minimum,
    elementary=lambda a, b: sp.Min(a, b),
    pattern="routes: the whole upstream gradient goes to the smaller input, none to the other",
    local=lambda args, out, expr=None: (1 - step(args[0] - args[1]), step(args[0] - args[1])),
    latex=r"\min\left({0}, {1}\right)", symbol=r"\min", numpy=np.minimum,
    kink=_tie, convention="a tie of min goes to the first argument",
    kernel=ArrayForm("minimum", jax=lambda jax: jax.numpy.minimum, torch=_torch_binary("minimum")),
    rule=r"\frac{\partial \min(a, b)}{\partial a} = [a \le b]",
))

register(Op(
    name="softplus", gate="softplus gate", arity=1, function="softplus", sympy=softplus,
    elementary=lambda z: sp.Piecewise((z + sp.log(1 + sp.exp(-z)), z > 0),
                                    (sp.log(1 + sp.exp(z)), True)),
    pattern="multiplies the upstream gradient by σ of its input (softplus is the sigmoid's integral)",
    local=lambda args, out, expr=None: (sigmoid(args[0]),),
    latex=r"\operatorname{{softplus}}\left({0}\right)", symbol=r"\mathrm{softplus}",
    numpy=functools.partial(np.logaddexp, 0.0), activation=ELEMENTWISE,
    kernel=ArrayForm("softplus", jax=lambda jax: jax.nn.softplus,
                     torch=lambda torch: lambda z: torch.nn.functional.softplus(_tensor(torch, z))),
    rule=r"\frac{d\,\mathrm{softplus}(z)}{dz} = \sigma(z)",
))


def _leaky_local(args):
    z = args[0]
    slope = args[1] if len(args) == 2 else LEAKY_SLOPE
    # [z > 0] + a (1 − [z > 0]), as written (SymPy would print 99[z > 0]/100 + 1/100);
    # a at z = 0: the slope on the left, as relu'(0) = 0
    dz = sp.Add(step(z), sp.Mul(slope, 1 - step(z), evaluate=False), evaluate=False)
    return (dz,) if len(args) == 1 else (dz, z * (1 - step(z)))


def _np_leaky_relu(z, a=float(LEAKY_SLOPE)):
    return np.where(np.asarray(z) > 0, z, np.multiply(a, z))


register(Op(
    name="leaky_relu", gate="leaky ReLU gate", arity=(1, 2), function="leaky_relu",
    elementary=lambda z, a=LEAKY_SLOPE: sp.Piecewise((z, z > 0), (a * z, True)),
    sympy=leaky_relu,
    pattern="passes the upstream gradient where its input is positive, times its slope a elsewhere",
    local=lambda args, out, expr=None: _leaky_local(args),
    latex=r"\operatorname{{leaky\_relu}}\left({args,}\right)", symbol=r"\mathrm{leaky}",
    numpy=_np_leaky_relu, kink=_at_zero, activation=ELEMENTWISE,
    convention="leaky_relu'(0) = a, the slope on the left (0.01 unless given)",
    kernel=ArrayForm(
        "leaky_relu",
        jax=lambda jax: lambda z, a=float(LEAKY_SLOPE): jax.numpy.where(z > 0, z, a * z),
        torch=lambda torch: lambda z, a=float(LEAKY_SLOPE): torch.where(
            _tensor(torch, z) > 0, _tensor(torch, z), a * _tensor(torch, z))),
    rule=r"\frac{\partial \operatorname{leaky\_relu}(z, a)}{\partial z} = [z > 0] + a\,[z \le 0],"
         r"\ \frac{\partial \operatorname{leaky\_relu}(z, a)}{\partial a} = z\,[z \le 0]",
))


def _np_elu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


register(Op(
    name="elu", gate="ELU gate", arity=1, function="elu", sympy=elu,
    elementary=lambda z: sp.Piecewise((z, z > 0), (sp.exp(z) - 1, True)),
    pattern="passes the upstream gradient where its input is positive, times e to the power of its input elsewhere",
    local=lambda args, out, expr=None: (sp.Add(step(args[0]), (1 - step(args[0])) * sp.exp(args[0]),
                                               evaluate=False),),
    latex=r"\operatorname{{elu}}\left({0}\right)", symbol=r"\mathrm{elu}", numpy=_np_elu,
    kink=_at_zero, activation=ELEMENTWISE,
    convention="elu'(0) = 1 from either side (its two formulas meet there)",
    kernel=ArrayForm("elu", jax=lambda jax: jax.nn.elu,
                     torch=lambda torch: lambda z: torch.nn.functional.elu(_tensor(torch, z))),
    rule=r"\frac{d\,\mathrm{elu}(z)}{dz} = [z > 0] + [z \le 0]\, e^{z}",
))


def _softmax_local(args, out, expr):
    index = expr.index
    return tuple(out * (1 - out) if k == index else -out * softmax(k, *args)
                 for k in range(len(args)))


register(Op(
    name="softmax", gate="softmax gate", arity=None, sympy=softmax,
    elementary=lambda j, *zs: softmax(j, *zs).rewrite(sp.exp),
    pattern="every logit receives gradient from every output: its own through a(1 − a), each other one through −a times that output",
    local=_softmax_local,
    latex=r"\operatorname{{softmax}}\left({args,}\right)", symbol=r"\mathrm{softmax}",
    numpy=_np_softmax_element, activation=WHOLE_LAYER,
    parameters=lambda expr: expr.args[:1], subscript=lambda expr: str(expr.index + 1),
    kernel=ArrayForm(
        "softmax",
        jax=lambda jax: _softmax_element(lambda z, axis: jax.nn.softmax(z, axis=axis), _jax_stack(jax)),
        torch=lambda torch: _softmax_element(lambda z, axis: torch.softmax(z, dim=axis),
                                             _torch_stack(torch))),
    layer_kernel=ArrayForm(
        "softmax_classes", numpy=functools.partial(_np_softmax, axis=1),
        jax=lambda jax: functools.partial(jax.nn.softmax, axis=1),
        torch=lambda torch: lambda z: torch.softmax(z, dim=1)),
    # Σ_j g_j ∂a_j/∂z_k = Σ_j g_j a_j (δ_jk − a_k) = a_k (g_k − Σ_j g_j a_j)
    layer_vjp=lambda a, g, total: a * (g - total(a * g)),
    rule=r"\frac{\partial a_j}{\partial z_k} = a_j(\delta_{jk} - a_k)",
))

# In derivatives only ------------------------------------------------------------------

register(Op(
    name="step", gate="step (relu's derivative)", arity=1, sympy=step,
    elementary=lambda z: sp.Piecewise((1, z > 0), (0, True)),
    pattern="appears in local derivatives only (relu', max', min'): 1 where its input is positive, else 0",
    local=lambda args, out, expr=None: (sp.S.Zero,),
    latex=r"\left[{0} > 0\right]", symbol=r"[x > 0]", numpy=_np_step,
    kernel=ArrayForm(
        "step", jax=lambda jax: lambda z: (z > 0).astype(_jax_float(jax)),
        torch=lambda torch: lambda z: (_tensor(torch, z) > 0).to(torch.float64)),
    rule=r"\frac{d\,[z > 0]}{dz} = 0 \ (z \ne 0)",
))

# Matrix level (network form): vector-Jacobian products instead of scalar partials.
register(Op(
    name="matmul", gate="matrix-product gate", arity=2,
    pattern="the mul gate's swap in matrix form: the weights receive δ times the input transposed, the input the weights transposed times δ",
    local=lambda args, out, expr=None: (None, None),  # matrix gates are differentiated by MATRIX_VJP
    latex="{0} {1}", symbol=r"W a", numpy=np.matmul,
    kernel=ArrayForm("matmul", jax=lambda jax: jax.numpy.matmul, torch=lambda torch: torch.matmul),
    rule=r"\frac{\partial L}{\partial W} = \delta\, a^{\mathsf T},\ \frac{\partial L}{\partial a} = W^{\mathsf T} \delta",
))

#: Vector-Jacobian products of the matrix-level ops: (args, upstream) -> per-argument adjoints.
MATRIX_VJP: dict[str, Callable] = {
    "matmul": lambda args, g: (g * args[1].T, args[0].T * g),
}

#: The functions users may call in expressions, by name (docs/operations.md lists them).
FUNCTIONS: dict[str, Op] = {op.function: op for op in OPS.values() if op.function}

#: SymPy function class -> op name: how expressions are classified, built and printed.
FUNCTION_CLASSES = {op.sympy: op.name for op in OPS.values() if op.sympy is not None}

#: The ops a ``[network]`` layer may use as its activation, by name.
ACTIVATIONS: dict[str, Op] = {op.name: op for op in OPS.values() if op.activation}


def kernel_forms() -> list[ArrayForm]:
    """Every array form the kernel backends bind: each op's, and each whole-layer form."""
    return [f for op in OPS.values() for f in (op.kernel, op.layer_kernel) if f is not None]


def bind(form: ArrayForm, op: Op | None, library: str, module: ModuleType | None) -> Callable:
    """The function ``library`` binds to ``form.call``."""
    if library == "numpy":
        return form.numpy or op.numpy
    return getattr(form, library)(module)


def build(name: str, *args) -> Expr:
    """The unevaluated SymPy expression of op ``name`` applied to ``args``.

    Unevaluated so that the structure the user wrote survives: staging ``-(a + b)`` into
    a negation gate needs SymPy not to distribute the minus sign.
    """
    ev = {"evaluate": False}
    if name == "add":
        return sp.Add(*args, **ev)
    if name == "mul":
        return sp.Mul(*args, **ev)
    if name == "neg":
        return sp.Mul(sp.S.NegativeOne, args[0], **ev)
    if name == "div":
        return sp.Mul(args[0], sp.Pow(args[1], sp.S.NegativeOne, **ev), **ev)
    if name == "inv":
        return sp.Pow(args[0], sp.S.NegativeOne, **ev)
    if name == "pow":
        return sp.Pow(args[0], args[1], **ev)
    if name == "sqrt":
        return sp.Pow(args[0], sp.S.Half, **ev)
    return OPS[name].sympy(*args, **ev)


def rebuild(op: Op, expr: Expr, args) -> Expr:
    """``expr`` (of op ``op``) with new arguments; its parameters, such as softmax's
    index, kept."""
    fixed = op.parameters(expr) if op.parameters else ()
    return build(op.name, *fixed, *args)


def activate(name: str, zs: list, i: int) -> Expr:
    """Output ``i`` of activation ``name`` over a layer's inputs ``zs``: op(z_i), or for
    a whole-layer activation op(i, z_0, ..., z_n)."""
    if ACTIVATIONS[name].activation == WHOLE_LAYER:
        return build(name, sp.Integer(i), *zs)
    return build(name, zs[i])


def _is_reciprocal(e) -> bool:
    return isinstance(e, sp.Pow) and e.exp == -1


def flat_args(expr: Expr) -> list:
    """The arguments of a nested sum or product, flat: ((a + b) + c) gives a, b, c.

    Parsing keeps the nesting the user wrote (staging needs it); printers read it flat.
    """
    out = []
    for a in expr.args:
        out.extend(flat_args(a) if type(a) is type(expr) else [a])
    return out


def classify(expr: Expr) -> tuple[Op, tuple] | None:
    """The op at the top of ``expr`` and its arguments; None for a symbol or number.

    The arguments are the gate's inputs: for ``softmax(j, z...)`` the logits (the index
    is one of the op's parameters, not an argument).
    """
    if expr.is_Atom:
        return None
    if isinstance(expr, sp.Add):
        return OPS["add"], expr.args
    if isinstance(expr, sp.Mul):
        args = expr.args
        if len(args) == 2 and args[0] == -1:
            return OPS["neg"], (args[1],)
        if len(args) == 2 and _is_reciprocal(args[1]) and not _is_reciprocal(args[0]):
            return OPS["div"], (args[0], args[1].base)
        if len(args) == 2 and _is_reciprocal(args[0]) and not _is_reciprocal(args[1]):
            return OPS["div"], (args[1], args[0].base)
        return OPS["mul"], args
    if isinstance(expr, sp.Pow):
        if expr.exp == -1:
            return OPS["inv"], (expr.base,)
        if expr.exp == sp.S.Half:
            return OPS["sqrt"], (expr.base,)
        return OPS["pow"], (expr.base, expr.exp)
    for cls, name in FUNCTION_CLASSES.items():
        if isinstance(expr, cls):
            op = OPS[name]
            skip = len(op.parameters(expr)) if op.parameters else 0
            return op, expr.args[skip:]
    raise TypeError(f"no op registered for {type(expr).__name__}: {expr}")
