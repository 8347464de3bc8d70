"""The one table of operations: every rule the engine, renderer and kernels use.

Each :class:`Op` is registered once with

* ``local``: its local derivative per argument as a SymPy expression, in the form the
  lectures write it (σ' = σ(1 − σ) in terms of the gate's own output, tanh' = 1 − tanh²,
  relu' = [z > 0]); ``out`` stands for the gate's output;
* ``gate`` and ``pattern``: its name in a computational graph and the gradient pattern it
  shows (add distributes, mul swaps, max routes, ...), as seed 000 explains them;
* ``latex``: how it prints, as a format string over the LaTeX of its arguments, and
  ``symbol``: the short label of its gate in a figure;
* ``numpy``: its numpy form, for ``lambdify`` and the training kernels.

Nothing else in the package holds a second copy of these rules: the chain rule is
applied in one place (:mod:`symbackprop.derive`), on local derivatives read from here.

:func:`classify` maps a SymPy expression to its op and arguments; it is the only place
that knows how SymPy represents ``a - b`` or ``a / b``.

Kink convention (a documented subgradient): relu'(0) = 0, |x|'(0) = 0, and at a tie of
max or min the whole gradient goes to the first argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .functions import maximum, minimum, relu, sigmoid, softmax, step

Expr = sp.Expr


@dataclass(frozen=True)
class Op:
    """One operation: its local derivatives, gate name, pattern, LaTeX and numpy form."""

    name: str
    gate: str
    pattern: str
    arity: int | None  # None: any number of arguments
    local: Callable[..., tuple]  # (args, out, expr) -> d out / d arg_i for each i
    latex: str  # format string over the arguments' LaTeX: {0}, {1}, ... or {args}
    symbol: str  # the gate's label in a figure (LaTeX)
    numpy: Callable | None = None  # elementwise numpy implementation
    function: str | None = None  # the name users call it by in expressions
    kink: Callable[[tuple], bool] | None = None  # True where the derivative is a convention
    rule: str = ""  # the local rule as the lectures write it (LaTeX), for the notes

    def partials(self, args: tuple, out: Expr, expr: Expr | None = None) -> tuple:
        """Local derivatives d out / d args[i], one per argument.

        ``out`` is what the lecture form refers to as the gate's output: the node's own
        symbol when the gate is a whole node, else the subexpression ``expr`` itself.
        """
        return tuple(self.local(tuple(args), out, expr if expr is not None else out))


# --------------------------------------------------------------------------- numpy forms


def _np_sigmoid(z):
    """σ = 1 / (1 + e^(−z)), accurate to the last bit for every z: for very negative z,
    e^(−z) overflows to infinity and σ rounds to 0, which is right, so that overflow is
    not worth a warning. Four passes over the array (the kernels call this a lot)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore"):
        e = np.exp(-z)
    e += 1.0
    return np.reciprocal(e, out=e) if e.ndim else 1.0 / e


def _np_relu(z):
    return np.maximum(z, 0.0)


def _np_step(z):
    return (np.asarray(z) > 0).astype(float)


def _np_softmax(z, axis=0):
    """softmax along ``axis`` with the maximum subtracted (log-sum-exp trick)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- the table


def _product_of_others(args, i):
    return sp.Mul(*[a for j, a in enumerate(args) if j != i])


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
    latex="{args+}", symbol="+", numpy=np.add,
    rule=r"\frac{\partial (a + b)}{\partial a} = 1",
))
register(Op(
    name="mul", gate="mul gate", arity=None,
    pattern="swaps: each input receives the upstream gradient times the other input",
    local=lambda args, out, expr=None: tuple(_product_of_others(args, i) for i in range(len(args))),
    latex="{args*}", symbol=r"\times", numpy=np.multiply,
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
    latex=r"\frac{{{0}}}{{{1}}}", symbol=r"\div", numpy=np.divide,
    rule=r"\frac{\partial (a/b)}{\partial a} = \frac{1}{b},\ \frac{\partial (a/b)}{\partial b} = -\frac{a}{b^2}",
))
register(Op(
    name="inv", gate="reciprocal gate (1/x)", arity=1,
    pattern="multiplies the upstream gradient by −1/x²",
    local=lambda args, out, expr=None: (-1 / args[0] ** 2,),
    latex=r"\frac{{1}}{{{0}}}", symbol=r"1/x", numpy=np.reciprocal,
    rule=r"\frac{d(1/x)}{dx} = -\frac{1}{x^2}",
))
register(Op(
    name="pow", gate="power gate", arity=2,
    pattern="multiplies the upstream gradient by the exponent times x to one power less (the power rule)",
    local=lambda args, out, expr=None: (
        args[1] * args[0] ** (args[1] - 1),
        out * sp.log(args[0]) if args[1].free_symbols else sp.S.Zero,
    ),
    latex="{0}^{{{1}}}", symbol=r"x^n", numpy=np.power,
    rule=r"\frac{d(x^n)}{dx} = n x^{n-1}",
))

# Functions ----------------------------------------------------------------------------

register(Op(
    name="exp", gate="exp gate", arity=1, function="exp",
    pattern="multiplies the upstream gradient by its own output (e to the x is its own derivative)",
    local=lambda args, out, expr=None: (out,),
    latex=r"e^{{{0}}}", symbol=r"\exp", numpy=np.exp,
    rule=r"\frac{d(e^x)}{dx} = e^x",
))
register(Op(
    name="log", gate="log gate", arity=1, function="log",
    pattern="divides the upstream gradient by its input",
    local=lambda args, out, expr=None: (1 / args[0],),
    latex=r"\log\left({0}\right)", symbol=r"\log", numpy=np.log,
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
    name="abs", gate="abs gate", arity=1, function="abs",
    pattern="passes the gradient with the sign of its input (0 at x = 0)",
    local=lambda args, out, expr=None: (sp.sign(args[0]),),
    latex=r"\left|{0}\right|", symbol=r"|x|", numpy=np.abs,
    kink=lambda args: args[0] == 0,
    rule=r"\frac{d|x|}{dx} = \operatorname{sign}(x)",
))
register(Op(
    name="sigmoid", gate="sigmoid gate", arity=1, function="sigmoid",
    pattern="multiplies the upstream gradient by σ(1 − σ), from its own output",
    local=lambda args, out, expr=None: (out * (1 - out),),
    latex=r"\sigma\left({0}\right)", symbol=r"\sigma", numpy=_np_sigmoid,
    rule=r"\frac{d\sigma(z)}{dz} = \sigma(z)\,(1 - \sigma(z))",
))
register(Op(
    name="tanh", gate="tanh gate", arity=1, function="tanh",
    pattern="multiplies the upstream gradient by 1 − tanh², from its own output",
    local=lambda args, out, expr=None: (1 - out**2,),
    latex=r"\tanh\left({0}\right)", symbol=r"\tanh", numpy=np.tanh,
    rule=r"\frac{d\tanh(z)}{dz} = 1 - \tanh^2(z)",
))
register(Op(
    name="relu", gate="ReLU gate", arity=1, function="relu",
    pattern="passes the upstream gradient where its input is positive, blocks it elsewhere",
    local=lambda args, out, expr=None: (step(args[0]),),
    latex=r"\operatorname{{relu}}\left({0}\right)", symbol=r"\mathrm{relu}", numpy=_np_relu,
    kink=lambda args: args[0] == 0,
    rule=r"\frac{d\,\mathrm{relu}(z)}{dz} = [z > 0]",
))
register(Op(
    name="max", gate="max gate", arity=2, function="max",
    pattern="routes: the whole upstream gradient goes to the larger input, none to the other",
    local=lambda args, out, expr=None: (1 - step(args[1] - args[0]), step(args[1] - args[0])),
    latex=r"\max\left({0}, {1}\right)", symbol=r"\max", numpy=np.maximum,
    kink=lambda args: args[0] == args[1],
    rule=r"\frac{\partial \max(a, b)}{\partial a} = [a \ge b]",
))
register(Op(
    name="min", gate="min gate", arity=2, function="min",
    pattern="routes: the whole upstream gradient goes to the smaller input, none to the other",
    local=lambda args, out, expr=None: (1 - step(args[0] - args[1]), step(args[0] - args[1])),
    latex=r"\min\left({0}, {1}\right)", symbol=r"\min", numpy=np.minimum,
    kink=lambda args: args[0] == args[1],
    rule=r"\frac{\partial \min(a, b)}{\partial a} = [a \le b]",
))


def _softmax_local(index):
    def local(args, out):
        return tuple(out * (1 - out) if k == index else -out * softmax(k, *args)
                     for k in range(len(args)))
    return local


register(Op(
    name="softmax", gate="softmax gate", arity=None,
    pattern="every logit receives gradient from every output: its own through a(1 − a), each other one through −a times that output",
    local=lambda args, out, expr=None: _softmax_local(expr.index)(args, out),
    latex=r"\operatorname{{softmax}}\left({args,}\right)", symbol=r"\mathrm{softmax}",
    numpy=_np_softmax,
    rule=r"\frac{\partial a_j}{\partial z_k} = a_j(\delta_{jk} - a_k)",
))

# Matrix level (network form): vector-Jacobian products instead of scalar partials.
register(Op(
    name="matmul", gate="matrix-product gate", arity=2,
    pattern="the mul gate's swap in matrix form: the weights receive δ times the input transposed, the input the weights transposed times δ",
    local=lambda args, out, expr=None: (None, None),  # matrix gates are differentiated by MATRIX_VJP
    latex="{0} {1}", symbol=r"W a", numpy=np.matmul,
    rule=r"\frac{\partial L}{\partial W} = \delta\, a^{\mathsf T},\ \frac{\partial L}{\partial a} = W^{\mathsf T} \delta",
))

#: Vector-Jacobian products of the matrix-level ops: (args, upstream) -> per-argument adjoints.
MATRIX_VJP: dict[str, Callable] = {
    "matmul": lambda args, g: (g * args[1].T, args[0].T * g),
}

#: The functions users may call in expressions, by name: contract section 1.
FUNCTIONS: dict[str, Op] = {op.function: op for op in OPS.values() if op.function}

#: SymPy function class -> op name: how expressions are classified and printed.
FUNCTION_CLASSES = {
    sp.exp: "exp", sp.log: "log", sp.Abs: "abs", sigmoid: "sigmoid", sp.tanh: "tanh",
    relu: "relu", maximum: "max", minimum: "min", softmax: "softmax",
}


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
    if name == "abs":
        return sp.Abs(args[0], **ev)
    if name in ("max", "min"):
        return (maximum if name == "max" else minimum)(*args, **ev)
    if name == "softmax":
        return softmax(*args)
    cls = {"exp": sp.exp, "log": sp.log, "sigmoid": sigmoid, "tanh": sp.tanh, "relu": relu}[name]
    return cls(args[0], **ev)


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

    For ``softmax(j, z...)`` the arguments are the logits (the index is not an argument).
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
    if isinstance(expr, softmax):
        return OPS["softmax"], expr.logits
    for cls, name in FUNCTION_CLASSES.items():
        if isinstance(expr, cls):
            return OPS[name], expr.args
    raise TypeError(f"no op registered for {type(expr).__name__}: {expr}")


#: numpy implementations by SymPy function name, for ``sympy.lambdify(modules=[...])``.
NUMPY_NAMESPACE = {
    "sigmoid": _np_sigmoid, "relu": _np_relu, "step": _np_step,
    "Max": np.maximum, "Min": np.minimum, "maximum": np.maximum, "minimum": np.minimum,
}
