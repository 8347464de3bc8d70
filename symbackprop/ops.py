"""The one table of operations: every fact about an op that the package uses.

Each :class:`Op` is registered once, and everything else reads it from here. Its facts
come in small records, one per concern:

* :class:`Notation`: every spelling of it. The name users call it by (the parser's
  whitelist is the set of these names), its plain text, its LaTeX (a template over its
  arguments' LaTeX), its name as a LaTeX command and as characters (MathML; the widths
  the figure and the equations estimate with), its gate's label in a figure;
* :class:`Rule`: its gate's name, the gradient pattern it shows (add distributes, mul
  swaps, max routes, ...), its local derivative per argument as a SymPy expression in
  the form the lectures write it (σ' = σ(1 − σ) from the gate's own output ``out``,
  tanh' = 1 − tanh², relu' = [z > 0]) and that rule in LaTeX for the handouts' notes; a
  matrix op's vector-Jacobian product. The chain rule is applied in one place
  (:mod:`symbackprop.derive`), on local derivatives read from here;
* :class:`Numerics`: its value in doubles, whether finite inputs can give an infinite
  value there (a log of 0) that more precision, not an overflow, explains, its name and
  implementation in each array library the kernels run on (numpy, JAX, PyTorch) for the
  ops SymPy's code printers do not know, and its form in SymPy's builtins for the
  printers that know only those (the practice page's JavaScript);
* :class:`Kinks`: where its derivative is a convention (the arguments' distance from
  the kink), which convention, and how deep into a flat tail its input is; read alike by
  evaluation (the notes on kinks met), the exams' well-posedness rules and the stress
  test's re-check;
* :class:`Layer`: whether a ``[network]`` layer may use it, element by element or over
  the whole layer (softmax), with its whole-layer kernel;
* and on the :class:`Op` itself its SymPy class, by which expressions are built
  (:func:`build`) and classified (:func:`classify`), both lookups in this table.

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

#: How an activation acts on a layer (:attr:`Layer.acts`): each element on its own,
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
class Notation:
    """How an op is written: every spelling of it, in every format, is read from here
    (the parser's names, the plain text, LaTeX, MathML, the figure's labels and widths).

    ``latex`` and ``text`` are templates over the arguments' LaTeX or text: ``{0}``,
    ``{1}`` are single arguments, ``{args,}``, ``{args+}``, ``{args*}`` all of them
    joined by a comma, a plus or a thin product."""

    latex: str
    symbol: str  # the gate's label in a figure (LaTeX)
    #: the op's name as one LaTeX command (\log, \sigma, \times, \operatorname{relu}),
    #: set before the brackets of a function, and its characters (log, σ, ×, relu) for
    #: MathML and plain text
    head: str = ""
    word: str = ""
    text: str | None = None  # plain text (None: SymPy's own, as for +, *, /, **)
    brackets: bool = False  # written as a function, its name then its arguments in brackets
    function: str | None = None  # the name users call it by (the parser's whitelist)
    width: float = 0.0  # em that ``head`` sets, when it is a command such as \log
    subscript: Callable[[Expr], str] | None = None  # printed after it (softmax's index)
    #: the gate's label when one of its two arguments is a constant (the sigmoid
    #: neuron's +1 gate): (its arguments, the constant one, the LaTeX printer) -> the
    #: label, or None to keep the symbol
    constant: Callable[[tuple, Expr, Callable], str | None] | None = None


@dataclass(frozen=True)
class Rule:
    """How an op is differentiated, and how the handouts say it."""

    gate: str  # its name in a computational graph
    pattern: str  # the gradient pattern it shows (add distributes, mul swaps, ...)
    local: Callable[..., tuple]  # (args, out, expr) -> d out / d arg_i for each i
    text: str  # the local rule as the lectures write it (LaTeX), for the notes
    #: a matrix op's vector-Jacobian product: (args, upstream) -> per-argument adjoints
    vjp: Callable | None = None


@dataclass(frozen=True)
class Numerics:
    """An op's value in doubles and in the array libraries the kernels run on."""

    numpy: Callable | None = None  # elementwise numpy form, over the same arguments
    pole: bool = False  # finite arguments can give an infinite value (log 0, 1/0)
    kernel: ArrayForm | None = None  # for an op SymPy's code printers do not know
    #: the function in SymPy builtins (exp, log, Max, Piecewise) over its arguments, for
    #: code printers that know only those (the practice page's JavaScript)
    elementary: Callable[..., Expr] | None = None


@dataclass(frozen=True)
class Kinks:
    """Where an op's derivative is a convention, or nearly zero."""

    #: distance of the arguments from the kink (0 on it), None for a smooth op: the
    #: largest move of one argument that reaches the kink (|z| for relu, |a − b|/2 for
    #: max, where moving both halfway meets the tie)
    distance: Callable[[tuple], object] | None = None
    convention: str = ""  # the derivative taken at the kink, in words
    #: how deep into a flat tail the input is, in the sigmoid's units (its |z|): the
    #: derivative there is 1/cosh²(depth/2) of its largest
    saturation: Callable[[tuple], object] | None = None


@dataclass(frozen=True)
class Layer:
    """How an op acts as a ``[network]`` layer's activation."""

    acts: str  # ELEMENTWISE, or WHOLE_LAYER (softmax; the last layer only)
    kernel: ArrayForm | None = None  # a whole-layer activation over (batch, units)
    #: a whole-layer activation's vector-Jacobian product over a layer's arrays:
    #: (its output a, the upstream gradient g, the sum over each sample) -> δ
    vjp: Callable | None = None


@dataclass(frozen=True)
class Op:
    """One operation and every fact about it (see the module docstring)."""

    name: str
    arity: int | tuple[int, ...] | None  # None: any number of arguments; a tuple: either
    notation: Notation
    rule: Rule
    numerics: Numerics = Numerics()
    kinks: Kinks = Kinks()
    layer: Layer | None = None  # None: no layer may use it
    #: its SymPy class: a function class, or Add, Mul, Pow for arithmetic
    sympy: type | None = None
    #: for an op that shares its SymPy class (neg and div are products, inv and sqrt
    #: powers): its arguments when ``expr`` is this op, else None; the op without one is
    #: what is left of the class
    match: Callable[[Expr], tuple | None] | None = None
    #: the unevaluated SymPy expression over its arguments (default: its class, unevaluated)
    make: Callable[..., Expr] | None = None
    #: arguments of the SymPy expression that are not inputs of the gate, put first when
    #: it is built (softmax's element index)
    parameters: Callable[[Expr], tuple] | None = None

    def partials(self, args: tuple, out: Expr, expr: Expr | None = None) -> tuple:
        """Local derivatives d out / d args[i], one per argument.

        ``out`` is what the lecture form refers to as the gate's output: the node's own
        symbol when the gate is a whole node, else the subexpression ``expr`` itself.
        """
        return tuple(self.rule.local(tuple(args), out, expr if expr is not None else out))

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
        return float(self.numerics.numpy(*fixed, *numbers))


def called(word: str, head: str | None = None, *, symbol: str | None = None,
           function: str | None = None, width: float = 0.0, text: str | None = "",
           **more) -> Notation:
    """The notation of a function written with brackets, ``word(args)``: upright
    (\\operatorname{relu}) unless ``head`` is its LaTeX command (\\log, \\sigma, whose
    set width ``width`` is, in em); its figure label is that command or the word."""
    escaped = word.replace("_", r"\_")
    head = head or rf"\operatorname{{{escaped}}}"
    braced = head.replace("{", "{{").replace("}", "}}")
    return Notation(latex=braced + r"\left({args,}\right)",
                    symbol=symbol or (head if width else rf"\mathrm{{{escaped}}}"),
                    head=head, word=word, text=f"{word}({{args,}})" if text == "" else text,
                    brackets=True, function=function, width=width, **more)


_JOINS = {"{args,}": ", ", "{args+}": " + ", "{args*}": " "}


def fill(template: str, args: list[str]) -> str:
    """A notation template (:attr:`Notation.latex`, :attr:`Notation.text`) filled with its
    arguments, already written: ``{args,}``, ``{args+}`` and ``{args*}`` join all of them
    with a comma, a plus or a thin space; ``{0}``, ``{1}`` are single arguments."""
    for marker, sep in _JOINS.items():
        if marker in template:
            return template.replace(marker, sep.join(args)).replace("{{", "{").replace("}}", "}")
    return template.format(*args)


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

_EV = {"evaluate": False}


def _is_reciprocal(e) -> bool:
    return isinstance(e, sp.Pow) and e.exp == -1


def _negation(expr):
    args = expr.args
    return (args[1],) if len(args) == 2 and args[0] == -1 else None


def _quotient(expr):
    """a/b, which SymPy holds as a · b⁻¹ (or b⁻¹ · a)."""
    args = expr.args
    if len(args) == 2 and _is_reciprocal(args[1]) and not _is_reciprocal(args[0]):
        return (args[0], args[1].base)
    if len(args) == 2 and _is_reciprocal(args[0]) and not _is_reciprocal(args[1]):
        return (args[1], args[0].base)
    return None


register(Op(
    name="add", arity=None, sympy=sp.Add,
    notation=Notation(latex="{args+}", symbol="+", head="+", word="+",
                      constant=lambda args, c, tex: f"-{tex(-c)}" if c < 0 else f"+{tex(c)}"),
    rule=Rule(gate="add gate",
              pattern="distributes: every input receives the upstream gradient unchanged",
              local=lambda args, out, expr=None: tuple(sp.S.One for _ in args),
              text=r"\frac{\partial (a + b)}{\partial a} = 1"),
    numerics=Numerics(numpy=_np_sum),
))
register(Op(
    name="mul", arity=None, sympy=sp.Mul,
    notation=Notation(latex="{args*}", symbol=r"\times", head=r"\times", word="×", width=0.78,
                      constant=lambda args, c, tex: rf"\times {tex(c)}" if c >= 0 else rf"\times ({tex(c)})"),
    rule=Rule(gate="mul gate",
              pattern="swaps: each input receives the upstream gradient times the other input",
              local=lambda args, out, expr=None: tuple(_product_of_others(args, i)
                                                       for i in range(len(args))),
              text=r"\frac{\partial (a b)}{\partial a} = b"),
    numerics=Numerics(numpy=_np_product),
))
register(Op(
    name="neg", arity=1, sympy=sp.Mul, match=_negation,
    make=lambda a: sp.Mul(sp.S.NegativeOne, a, **_EV),
    notation=Notation(latex="-{0}", symbol=r"\cdot(-1)", head="-", word="−"),
    rule=Rule(gate="negation gate (·(−1))", pattern="flips the sign of the upstream gradient",
              local=lambda args, out, expr=None: (sp.S.NegativeOne,),
              text=r"\frac{d(-x)}{dx} = -1"),
    numerics=Numerics(numpy=np.negative),
))
register(Op(
    name="div", arity=2, sympy=sp.Mul, match=_quotient,
    make=lambda a, b: sp.Mul(a, sp.Pow(b, sp.S.NegativeOne, **_EV), **_EV),
    notation=Notation(latex=r"\frac{{{0}}}{{{1}}}", symbol=r"\div", head=r"\div", word="÷",
                      width=0.78),
    rule=Rule(gate="division gate",
              pattern="scales by 1/b for the numerator; −a/b² for the denominator",
              local=lambda args, out, expr=None: (1 / args[1], -args[0] / args[1] ** 2),
              text=r"\frac{\partial (a/b)}{\partial a} = \frac{1}{b},\ \frac{\partial (a/b)}{\partial b} = -\frac{a}{b^2}"),
    numerics=Numerics(numpy=np.divide, pole=True),
))
register(Op(
    name="inv", arity=1, sympy=sp.Pow,
    match=lambda e: (e.base,) if e.exp == -1 else None,
    make=lambda a: sp.Pow(a, sp.S.NegativeOne, **_EV),
    notation=Notation(latex=r"\frac{{1}}{{{0}}}", symbol=r"1/x"),
    rule=Rule(gate="reciprocal gate (1/x)", pattern="multiplies the upstream gradient by −1/x²",
              local=lambda args, out, expr=None: (-1 / args[0] ** 2,),
              text=r"\frac{d(1/x)}{dx} = -\frac{1}{x^2}"),
    numerics=Numerics(numpy=np.reciprocal, pole=True),
))
register(Op(
    name="pow", arity=2, sympy=sp.Pow,
    notation=Notation(latex="{0}^{{{1}}}", symbol=r"x^n",
                      constant=lambda args, c, tex: f"x^{{{tex(c)}}}" if args[1] is c else None),
    rule=Rule(gate="power gate",
              pattern="multiplies the upstream gradient by the exponent times x to one power less (the power rule)",
              local=lambda args, out, expr=None: (
                  args[1] * args[0] ** (args[1] - 1),
                  out * sp.log(args[0]) if args[1].free_symbols else sp.S.Zero),
              text=r"\frac{d(x^n)}{dx} = n x^{n-1}"),
    numerics=Numerics(numpy=np.power, pole=True),
))

# Functions ----------------------------------------------------------------------------

register(Op(
    name="exp", arity=1, sympy=sp.exp,
    notation=Notation(latex=r"e^{{{0}}}", symbol=r"\exp", head=r"\exp", word="exp",
                      text="exp({0})", function="exp", width=1.45),
    rule=Rule(gate="exp gate",
              pattern="multiplies the upstream gradient by its own output (e to the x is its own derivative)",
              local=lambda args, out, expr=None: (out,), text=r"\frac{d(e^x)}{dx} = e^x"),
    numerics=Numerics(numpy=np.exp),
))
register(Op(
    name="log", arity=1, sympy=sp.log,
    notation=called("log", r"\log", function="log", width=1.25),
    rule=Rule(gate="log gate", pattern="divides the upstream gradient by its input",
              local=lambda args, out, expr=None: (1 / args[0],),
              text=r"\frac{d(\log x)}{dx} = \frac{1}{x}"),
    numerics=Numerics(numpy=np.log, pole=True),
))
register(Op(
    name="sqrt", arity=1, sympy=sp.Pow,
    match=lambda e: (e.base,) if e.exp == sp.S.Half else None,
    make=lambda a: sp.Pow(a, sp.S.Half, **_EV),
    notation=Notation(latex=r"\sqrt{{{0}}}", symbol=r"\sqrt{x}", head=r"\sqrt", word="√",
                      text="sqrt({0})", function="sqrt", width=0.85),
    rule=Rule(gate="square-root gate", pattern="divides the upstream gradient by twice its own output",
              local=lambda args, out, expr=None: (1 / (2 * out),),
              text=r"\frac{d\sqrt{x}}{dx} = \frac{1}{2\sqrt{x}}"),
    numerics=Numerics(numpy=np.sqrt),
))
register(Op(
    name="abs", arity=1, sympy=sp.Abs,
    notation=Notation(latex=r"\left|{0}\right|", symbol=r"|x|", text="|{0}|", function="abs"),
    rule=Rule(gate="abs gate", pattern="passes the gradient with the sign of its input (0 at x = 0)",
              local=lambda args, out, expr=None: (sp.sign(args[0]),),
              text=r"\frac{d|x|}{dx} = \operatorname{sign}(x)"),
    numerics=Numerics(numpy=np.abs),
    kinks=Kinks(distance=_at_zero, convention="|x|'(0) = 0"),
))
register(Op(
    name="sigmoid", arity=1, sympy=sigmoid,
    notation=called("σ", r"\sigma", function="sigmoid", width=0.6),
    rule=Rule(gate="sigmoid gate",
              pattern="multiplies the upstream gradient by σ(1 − σ), from its own output",
              local=lambda args, out, expr=None: (out * (1 - out),),
              text=r"\frac{d\sigma(z)}{dz} = \sigma(z)\,(1 - \sigma(z))"),
    numerics=Numerics(
        numpy=_np_sigmoid, elementary=lambda z: 1 / (1 + sp.exp(-z)),
        kernel=ArrayForm("sigmoid", jax=lambda jax: jax.nn.sigmoid, torch=lambda torch: torch.sigmoid)),
    kinks=Kinks(saturation=_at_zero),
    layer=Layer(ELEMENTWISE),
))
register(Op(
    name="tanh", arity=1, sympy=sp.tanh,
    notation=called("tanh", r"\tanh", function="tanh", width=1.95),
    rule=Rule(gate="tanh gate",
              pattern="multiplies the upstream gradient by 1 − tanh², from its own output",
              local=lambda args, out, expr=None: (1 - out**2,),
              text=r"\frac{d\tanh(z)}{dz} = 1 - \tanh^2(z)"),
    numerics=Numerics(numpy=np.tanh),
    kinks=Kinks(saturation=lambda args: 2 * abs(args[0])),  # tanh(z) = 2σ(2z) − 1
    layer=Layer(ELEMENTWISE),
))
register(Op(
    name="relu", arity=1, sympy=relu,
    notation=called("relu", function="relu"),
    rule=Rule(gate="ReLU gate",
              pattern="passes the upstream gradient where its input is positive, blocks it elsewhere",
              local=lambda args, out, expr=None: (step(args[0]),),
              text=r"\frac{d\,\mathrm{relu}(z)}{dz} = [z > 0]"),
    numerics=Numerics(
        numpy=_np_relu, elementary=lambda z: sp.Max(z, 0),
        kernel=ArrayForm("relu", jax=lambda jax: jax.nn.relu, torch=lambda torch: torch.relu)),
    kinks=Kinks(distance=_at_zero, convention="relu'(0) = 0"),
    layer=Layer(ELEMENTWISE),
))
register(Op(
    name="max", arity=2, sympy=maximum,
    notation=called("max", r"\max", function="max", width=1.65),
    rule=Rule(gate="max gate",
              pattern="routes: the whole upstream gradient goes to the larger input, none to the other",
              local=lambda args, out, expr=None: (1 - step(args[1] - args[0]), step(args[1] - args[0])),
              text=r"\frac{\partial \max(a, b)}{\partial a} = [a \ge b]"),
    numerics=Numerics(
        numpy=np.maximum, elementary=lambda a, b: sp.Max(a, b),
        kernel=ArrayForm("maximum", jax=lambda jax: jax.numpy.maximum, torch=_torch_binary("maximum"))),
    kinks=Kinks(distance=_tie, convention="a tie of max goes to the first argument"),
))
register(Op(
    name="min", arity=2, sympy=minimum,
    notation=called("min", r"\min", function="min", width=1.4),
    rule=Rule(gate="min gate",
              pattern="routes: the whole upstream gradient goes to the smaller input, none to the other",
              local=lambda args, out, expr=None: (1 - step(args[0] - args[1]), step(args[0] - args[1])),
              text=r"\frac{\partial \min(a, b)}{\partial a} = [a \le b]"),
    numerics=Numerics(
        numpy=np.minimum, elementary=lambda a, b: sp.Min(a, b),
        kernel=ArrayForm("minimum", jax=lambda jax: jax.numpy.minimum, torch=_torch_binary("minimum"))),
    kinks=Kinks(distance=_tie, convention="a tie of min goes to the first argument"),
))
register(Op(
    name="softplus", arity=1, sympy=softplus,
    notation=called("softplus", function="softplus"),
    rule=Rule(gate="softplus gate",
              pattern="multiplies the upstream gradient by σ of its input (softplus is the sigmoid's integral)",
              local=lambda args, out, expr=None: (sigmoid(args[0]),),
              text=r"\frac{d\,\mathrm{softplus}(z)}{dz} = \sigma(z)"),
    numerics=Numerics(
        numpy=functools.partial(np.logaddexp, 0.0),
        elementary=lambda z: sp.Piecewise((z + sp.log(1 + sp.exp(-z)), z > 0),
                                          (sp.log(1 + sp.exp(z)), True)),
        kernel=ArrayForm("softplus", jax=lambda jax: jax.nn.softplus,
                         torch=lambda torch: lambda z: torch.nn.functional.softplus(_tensor(torch, z)))),
    layer=Layer(ELEMENTWISE),
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
    name="leaky_relu", arity=(1, 2), sympy=leaky_relu,
    notation=called("leaky_relu", symbol=r"\mathrm{leaky}", function="leaky_relu"),
    rule=Rule(gate="leaky ReLU gate",
              pattern="passes the upstream gradient where its input is positive, times its slope a elsewhere",
              local=lambda args, out, expr=None: _leaky_local(args),
              text=r"\frac{\partial \operatorname{leaky\_relu}(z, a)}{\partial z} = [z > 0] + a\,[z \le 0],"
                   r"\ \frac{\partial \operatorname{leaky\_relu}(z, a)}{\partial a} = z\,[z \le 0]"),
    numerics=Numerics(
        numpy=_np_leaky_relu,
        elementary=lambda z, a=LEAKY_SLOPE: sp.Piecewise((z, z > 0), (a * z, True)),
        kernel=ArrayForm(
            "leaky_relu",
            jax=lambda jax: lambda z, a=float(LEAKY_SLOPE): jax.numpy.where(z > 0, z, a * z),
            torch=lambda torch: lambda z, a=float(LEAKY_SLOPE): torch.where(
                _tensor(torch, z) > 0, _tensor(torch, z), a * _tensor(torch, z)))),
    kinks=Kinks(distance=_at_zero,
                convention="leaky_relu'(0) = a, the slope on the left (0.01 unless given)"),
    layer=Layer(ELEMENTWISE),
))


def _np_elu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


register(Op(
    name="elu", arity=1, sympy=elu,
    notation=called("elu", function="elu"),
    rule=Rule(gate="ELU gate",
              pattern="passes the upstream gradient where its input is positive, times e to the power of its input elsewhere",
              local=lambda args, out, expr=None: (sp.Add(step(args[0]),
                                                         (1 - step(args[0])) * sp.exp(args[0]),
                                                         evaluate=False),),
              text=r"\frac{d\,\mathrm{elu}(z)}{dz} = [z > 0] + [z \le 0]\, e^{z}"),
    numerics=Numerics(
        numpy=_np_elu, elementary=lambda z: sp.Piecewise((z, z > 0), (sp.exp(z) - 1, True)),
        kernel=ArrayForm("elu", jax=lambda jax: jax.nn.elu,
                         torch=lambda torch: lambda z: torch.nn.functional.elu(_tensor(torch, z)))),
    kinks=Kinks(distance=_at_zero,
                convention="elu'(0) = 1 from either side (its two formulas meet there)"),
    layer=Layer(ELEMENTWISE),
))


def _softmax_local(args, out, expr):
    index = expr.index
    return tuple(out * (1 - out) if k == index else -out * softmax(k, *args)
                 for k in range(len(args)))


register(Op(
    name="softmax", arity=None, sympy=softmax,
    # plain text spells it out, exp(z_i)/(exp(z_0) + ...), as a problem file writes it
    notation=called("softmax", text=None, subscript=lambda expr: str(expr.index + 1)),
    rule=Rule(gate="softmax gate",
              pattern="every logit receives gradient from every output: its own through a(1 − a), each other one through −a times that output",
              local=_softmax_local,
              text=r"\frac{\partial a_j}{\partial z_k} = a_j(\delta_{jk} - a_k)"),
    numerics=Numerics(
        numpy=_np_softmax_element, elementary=lambda j, *zs: softmax(j, *zs).rewrite(sp.exp),
        kernel=ArrayForm(
            "softmax",
            jax=lambda jax: _softmax_element(lambda z, axis: jax.nn.softmax(z, axis=axis), _jax_stack(jax)),
            torch=lambda torch: _softmax_element(lambda z, axis: torch.softmax(z, dim=axis),
                                                 _torch_stack(torch)))),
    layer=Layer(
        WHOLE_LAYER,
        kernel=ArrayForm(
            "softmax_classes", numpy=functools.partial(_np_softmax, axis=1),
            jax=lambda jax: functools.partial(jax.nn.softmax, axis=1),
            torch=lambda torch: lambda z: torch.softmax(z, dim=1)),
        # Σ_j g_j ∂a_j/∂z_k = Σ_j g_j a_j (δ_jk − a_k) = a_k (g_k − Σ_j g_j a_j)
        vjp=lambda a, g, total: a * (g - total(a * g))),
    parameters=lambda expr: expr.args[:1],
))

# In derivatives only ------------------------------------------------------------------

register(Op(
    name="step", arity=1, sympy=step,
    notation=Notation(latex=r"\left[{0} > 0\right]", symbol=r"[x > 0]", text="[{0} > 0]"),
    rule=Rule(gate="step (relu's derivative)",
              pattern="appears in local derivatives only (relu', max', min'): 1 where its input is positive, else 0",
              local=lambda args, out, expr=None: (sp.S.Zero,),
              text=r"\frac{d\,[z > 0]}{dz} = 0 \ (z \ne 0)"),
    numerics=Numerics(
        numpy=_np_step, elementary=lambda z: sp.Piecewise((1, z > 0), (0, True)),
        kernel=ArrayForm(
            "step", jax=lambda jax: lambda z: (z > 0).astype(_jax_float(jax)),
            torch=lambda torch: lambda z: (_tensor(torch, z) > 0).to(torch.float64))),
))

# Matrix level (network form): vector-Jacobian products instead of scalar partials.
register(Op(
    name="matmul", arity=2,
    notation=Notation(latex="{0} {1}", symbol=r"W a"),
    rule=Rule(gate="matrix-product gate",
              pattern="the mul gate's swap in matrix form: the weights receive δ times the input transposed, the input the weights transposed times δ",
              local=lambda args, out, expr=None: (None, None),  # differentiated by its vjp
              text=r"\frac{\partial L}{\partial W} = \delta\, a^{\mathsf T},\ \frac{\partial L}{\partial a} = W^{\mathsf T} \delta",
              vjp=lambda args, g: (g * args[1].T, args[0].T * g)),
    numerics=Numerics(
        numpy=np.matmul,
        kernel=ArrayForm("matmul", jax=lambda jax: jax.numpy.matmul, torch=lambda torch: torch.matmul)),
))

#: Vector-Jacobian products of the matrix-level ops: (args, upstream) -> per-argument adjoints.
MATRIX_VJP: dict[str, Callable] = {op.name: op.rule.vjp for op in OPS.values() if op.rule.vjp}

#: The functions users may call in expressions, by name (docs/operations.md lists them).
FUNCTIONS: dict[str, Op] = {op.notation.function: op for op in OPS.values() if op.notation.function}

#: SymPy function class -> op name: how function expressions are printed.
FUNCTION_CLASSES = {op.sympy: op.name for op in OPS.values()
                    if op.sympy is not None and issubclass(op.sympy, sp.Function)}

#: SymPy class -> the ops of that class, the ones that ``match`` first: how every
#: expression is classified.
_BY_CLASS: dict[type, list[Op]] = {}
for _op in OPS.values():
    if _op.sympy is not None:
        _BY_CLASS.setdefault(_op.sympy, []).append(_op)
for _ops in _BY_CLASS.values():
    _ops.sort(key=lambda op: op.match is None)

#: The ops a ``[network]`` layer may use as its activation, by name.
ACTIVATIONS: dict[str, Op] = {op.name: op for op in OPS.values() if op.layer}

#: The em width of each LaTeX command an op is named by (\log, \tanh, \sigma, \times):
#: the figure's and the equations' estimates of how wide a label or a side is.
OPS_BY_HEAD: dict[str, Op] = {op.notation.head[1:]: op for op in OPS.values()
                              if op.notation.width}
COMMAND_WIDTHS: dict[str, float] = {op.notation.head[1:]: op.notation.width
                                    for op in OPS.values() if op.notation.width}

#: The same for the functions written with brackets (\log, \tanh, \max, \sigma): the
#: equations' estimate of a side's width.
NAME_WIDTHS: dict[str, float] = {cmd: width for cmd, width in COMMAND_WIDTHS.items()
                                 if OPS_BY_HEAD[cmd].notation.brackets}

#: The characters each of those commands sets (\log: log, \times: ×), for MathML.
COMMAND_WORDS: dict[str, str] = {op.notation.head[1:]: op.notation.word
                                 for op in OPS.values() if op.notation.width}


def kernel_forms() -> list[ArrayForm]:
    """Every array form the kernel backends bind: each op's, and each whole-layer form."""
    return [f for op in OPS.values()
            for f in (op.numerics.kernel, op.layer.kernel if op.layer else None) if f is not None]


def bind(form: ArrayForm, op: Op | None, library: str, module: ModuleType | None) -> Callable:
    """The function ``library`` binds to ``form.call``."""
    if library == "numpy":
        return form.numpy or op.numerics.numpy
    return getattr(form, library)(module)


def build(name: str, *args) -> Expr:
    """The unevaluated SymPy expression of op ``name`` applied to ``args``.

    Unevaluated so that the structure the user wrote survives: staging ``-(a + b)`` into
    a negation gate needs SymPy not to distribute the minus sign.
    """
    op = OPS[name]
    return op.make(*args) if op.make else op.sympy(*args, **_EV)


def rebuild(op: Op, expr: Expr, args) -> Expr:
    """``expr`` (of op ``op``) with new arguments; its parameters, such as softmax's
    index, kept."""
    fixed = op.parameters(expr) if op.parameters else ()
    return build(op.name, *fixed, *args)


def activate(name: str, zs: list, i: int) -> Expr:
    """Output ``i`` of activation ``name`` over a layer's inputs ``zs``: op(z_i), or for
    a whole-layer activation op(i, z_0, ..., z_n)."""
    if ACTIVATIONS[name].layer.acts == WHOLE_LAYER:
        return build(name, sp.Integer(i), *zs)
    return build(name, zs[i])


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
    for cls in type(expr).__mro__:
        for op in _BY_CLASS.get(cls, ()):
            if op.match is not None:
                args = op.match(expr)
                if args is not None:
                    return op, args
                continue
            skip = len(op.parameters(expr)) if op.parameters else 0
            return op, expr.args[skip:]
    raise TypeError(f"no op registered for {type(expr).__name__}: {expr}")
