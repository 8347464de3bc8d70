"""Numbers for the forward pass, the local derivatives and the adjoints.

Two arithmetics run the same walk over the graph:

* :class:`Exact`: decimal inputs as rationals and SymPy's exact arithmetic; a value is
  an exact expression such as ``1/(1 + exp(-351/1000))``, printable to any precision.
* :class:`Floating`: SymPy floats with many digits. :func:`evaluate` runs it at two
  precisions and accepts only digits on which both agree, raising the precision where
  floats break: log(1 − σ(z)) at z = 125 is log(0) at 40 digits and right at 100. So no
  finite quantity comes out as NaN, and every value reported is right to at least
  :data:`GUARANTEED_DIGITS` significant digits.
* :class:`Certified`: what :func:`evaluate` runs: floats where a value is transcendental,
  exact rationals where it is not. The inputs are exact decimals, so a linear layer's
  0.3·1 − 0.2·2 + 0.1 is exactly 0, not 8.93e-103 of float noise: a value is 0 exactly
  when it is 0. A float value that the two precisions agree on only because both are
  tiny (noise of a cancellation, or a true tiny number) is decided by raising the
  precision: noise falls with it, a value stays (:func:`_decide_zeros`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import ops
from .derive import Derivation
from .errors import MagnitudeError, ProblemError
from .graph import Graph
from .limits import MAX_EXACT_BITS, MAX_EXACT_DEPTH, LimitError
from .parse import to_source

GUARANTEED_DIGITS = 25
LARGEST = 1e300  # no value, local derivative or intermediate may be larger in size
_PRECISIONS = (40, 100, 250, 600, 1500)
_GUARD = 20


@dataclass(frozen=True)
class Exact:
    """Exact SymPy arithmetic."""

    def number(self, value: sp.Rational) -> sp.Expr:
        return value if isinstance(value, sp.Basic) else sp.Rational(value)

    def apply(self, expr: sp.Expr, env: dict) -> sp.Expr:
        value = expr.xreplace(env)
        if isinstance(value, sp.Rational) and max(abs(value.p).bit_length(),
                                                  value.q.bit_length()) > MAX_EXACT_BITS:
            raise LimitError(f"--exact: a value here is a fraction of more than "
                             f"{MAX_EXACT_BITS * 3 // 10} digits (the limit; docs/limits.md); "
                             "solve without --exact")
        return value


@dataclass(frozen=True)
class Floating:
    """SymPy floats with ``digits`` decimal digits."""

    digits: int

    def number(self, value) -> sp.Float:
        return sp.Float(value, self.digits)

    def apply(self, expr: sp.Expr, env: dict) -> sp.Expr:
        key = _memo_key(expr, env, self.digits)
        value = _MEMO.get(key) if key is not None else None
        if value is not None:
            return value
        value = substitute(expr, env)
        if not isinstance(value, sp.Float):
            value = value.evalf(self.digits)
        if isinstance(value, sp.Rational):  # an exact 0 or 1 that survived
            value = sp.Float(value, self.digits)
        if key is not None:
            if len(_MEMO) >= _MEMO_KEPT:
                _MEMO.clear()
            _MEMO[key] = value
        return value


@dataclass(frozen=True)
class Certified(Floating):
    """Floats with ``digits`` digits where a value is transcendental, exact rationals
    where it is rational (sums and products of the given decimals, relu, max, powers):
    rational arithmetic is cheap and its zeros are exact."""

    def number(self, value) -> sp.Expr:
        return value if isinstance(value, sp.Rational) else sp.Rational(str(value))

    def apply(self, expr: sp.Expr, env: dict) -> sp.Expr:
        key = _memo_key(expr, env, -self.digits)
        value = _MEMO.get(key) if key is not None else None
        if value is not None:
            return value
        value = substitute(expr, env)
        if not isinstance(value, sp.Float | sp.Rational):
            value = value.evalf(self.digits)
        if key is not None:
            if len(_MEMO) >= _MEMO_KEPT:
                _MEMO.clear()
            _MEMO[key] = value
        return value


#: Floating results by (digits, expression, the exact numbers of its free symbols).
#: A value depends on nothing else, so a repeated computation is looked up: problems
#: that share equations and numbers (the exam's misread problems, the same variant with
#: one equation rewritten) share their values instead of recomputing them in SymPy.
_MEMO: dict = {}
_MEMO_KEPT = 20_000
_FREE: dict = {}


def clear_memos() -> None:
    """Forget every memo of the package (the values; derivations by shape are kept by
    their caller, :class:`symbackprop.derive.Derivations`).

    Benchmarks call it beside SymPy's ``clear_cache()`` so that they time from a cold
    start; a warm memo would flatter them.
    """
    _MEMO.clear()
    _FREE.clear()


def _memo_key(expr, env: dict, digits: int):
    """The memo key, or None when a value is not a plain number (no memo then)."""
    free = _FREE.get(expr)
    if free is None:
        if len(_FREE) >= _MEMO_KEPT:
            _FREE.clear()
        free = _FREE[expr] = tuple(sorted(expr.free_symbols, key=str))
    numbers = []
    for s in free:
        v = env.get(s)
        if isinstance(v, sp.Float):
            numbers.append((v._mpf_, v._prec))
        elif isinstance(v, sp.Rational):
            numbers.append((v.p, v.q))
        elif v is None:
            numbers.append(None)
        else:
            return None
    return digits, expr, tuple(numbers)


_NUMBER = (sp.Float, sp.Rational)


def substitute(expr: sp.Expr, rule: dict) -> sp.Expr:
    """``expr.xreplace(rule)``, number for number, only faster.

    xreplace rebuilds every changed Add and Mul through ``Add(*args)``, whose flatten
    asks SymPy's assumption system about each fresh Float: most of an evaluation's time.
    When every argument is already a finite number (Float or Rational), flatten does no
    more than drop the identity and fold ``coeff += arg`` (``*=``) from the identity in
    argument order, so that fold is done here directly, with the same Number operations
    in the same order: the same digits. Everything else (powers, functions, anything
    symbolic) is rebuilt with ``func(*args)`` exactly as xreplace does.
    """
    return _replace(expr, rule)[0]


def _replace(a, rule: dict):
    """(a with the rule applied, whether anything changed), as ``a._xreplace(rule)``."""
    xreplace = getattr(type(a), "_xreplace", None)
    if xreplace is None:
        return a, False
    if xreplace is not _BASIC_XREPLACE:
        return a._xreplace(rule)
    return _substitute(a, rule)


def _substitute(expr, rule: dict):
    if expr in rule:
        return rule[expr], True
    if not rule or not expr.args:
        return expr, False
    args = []
    changed = False
    for a in expr.args:
        new, c = _replace(a, rule)
        args.append(new)
        changed |= c
    if not changed:
        return expr, False
    if type(expr) in (sp.Add, sp.Mul) and all(isinstance(a, _NUMBER) for a in args):
        identity = expr.identity
        args = [a for a in args if a is not identity]  # as AssocOp.__new__ does
        if len(args) == 1:
            return args[0], True
        total = identity
        add = type(expr) is sp.Add
        for a in args:
            total = total + a if add else total * a
        return total, True
    return expr.func(*args), True


_BASIC_XREPLACE = sp.Basic._xreplace


@dataclass
class Evaluation:
    """Values of every name, local derivative values per edge, adjoints of the output,
    and notes on kinks met (where a subgradient convention was used)."""

    values: dict[str, sp.Expr]
    locals: dict[tuple[str, str], sp.Expr]
    adjoints: dict[str, sp.Expr]
    kinks: list[str] = field(default_factory=list)


def forward(graph: Graph, arithmetic) -> dict[str, sp.Expr]:
    """The value of every leaf and node, node by node in list order."""
    values: dict[str, sp.Expr] = {}
    env: dict[sp.Symbol, sp.Expr] = {}
    for name, leaf in graph.leaves.items():
        values[name] = arithmetic.number(leaf.value)
        env[leaf.symbol] = values[name]
    for node in graph.nodes:
        try:
            values[node.name] = arithmetic.apply(node.expr, env)
        except LimitError as exc:
            raise exc.at(field=_user_equation(graph, node.name)) from None
        env[node.symbol] = values[node.name]
    return values


def local_values(derivation: Derivation, values: dict, arithmetic) -> dict:
    """The number of each edge's local derivative at the given values."""
    env = {sp.Symbol(n, real=True): v for n, v in values.items()}
    return {key: arithmetic.apply(edge.local, env) for key, edge in derivation.edges.items()}


def adjoints(derivation: Derivation, top: str, locals_: dict, zero) -> dict[str, sp.Expr]:
    """d top / d name for every name, by the reverse sweep; 0 where ``name`` is not
    upstream of ``top``."""
    adj = {name: zero for name in derivation.graph.names}
    adj[top] = zero + 1
    for name, edges in derivation.sweep(top):
        adj[name] = sum((adj[e.upper] * locals_[e.upper, e.lower] for e in edges), zero)
    return adj


def kinks(graph: Graph, values: dict, arithmetic) -> list[str]:
    """Where a gate with a kink (relu at 0, a max tie, |x| at 0: the op table's
    :attr:`~symbackprop.ops.Kinks.distance`) sits exactly on it."""
    env = {sp.Symbol(n, real=True): v for n, v in values.items()}
    found = []
    for node in graph.nodes:
        for sub in sp.preorder_traversal(node.expr):
            c = ops.classify(sub) if isinstance(sub, sp.Basic) else None
            if c is None or c[0].kinks.distance is None:
                continue
            args = tuple(arithmetic.apply(a, env) for a in c[1])
            if _on_kink(c[0], args):
                found.append(f"{node.name}: {c[0].rule.gate} at its kink ({to_source(sub)}); "
                             f"the gradient uses the convention {c[0].kinks.convention}")
    return found


#: A gate is on its kink when its distance from it is below this share of its inputs' size.
_KINK_TOLERANCE = sp.Float(10) ** -GUARANTEED_DIGITS


def _on_kink(op: ops.Op, args: tuple) -> bool:
    return op.kinks.distance(args) <= _KINK_TOLERANCE * (1 + max(abs(a) for a in args))


def evaluate_once(graph: Graph, derivation: Derivation, arithmetic) -> Evaluation:
    values = forward(graph, arithmetic)
    loc = local_values(derivation, values, arithmetic)
    zero = arithmetic.number(0)
    adj = adjoints(derivation, graph.output, loc, zero)
    return Evaluation(values, loc, adj, kinks(graph, values, arithmetic))


def check_magnitudes(graph: Graph) -> None:
    """Refuse, before any exact or high-precision work, a graph whose values blow up.

    A tower such as ``x**x**x`` at x = 10 is 10^(10^10): exact arithmetic would build an
    integer of ten billion digits and arbitrary-precision floats would take as long. One
    cheap pass in doubles over every subexpression (the op table's numpy forms) finds
    such a value and names its node. Only overflow counts: a log(0) in doubles is the
    precision problem that :func:`evaluate` solves by raising the precision.
    """
    values: dict[sp.Symbol, float] = {leaf.symbol: float(leaf.value) for leaf in graph.leaves.values()}
    with np.errstate(over="raise", divide="ignore", invalid="ignore", under="ignore"):
        for node in graph.nodes:
            try:
                values[node.symbol] = _double(node.expr, values)
            except (FloatingPointError, OverflowError):
                raise MagnitudeError(
                    "a value in this equation grows beyond 10^300 (at the given inputs); "
                    "symbackprop computes with values of a size that can be written down"
                ).at(field=_user_equation(graph, node.name)) from None


def _user_equation(graph: Graph, name: str) -> str:
    """The user's equation a node belongs to: itself, or for a gate made by staging, the
    first user node it feeds (the name the user wrote in the file)."""
    while graph.node(name).generated and graph.users.get(name):
        name = graph.users[name][0]
    return name


def _double(expr: sp.Expr, values: dict) -> float:
    """``expr`` in double precision, raising OverflowError for a value beyond LARGEST."""
    if isinstance(expr, sp.Symbol):
        return values[expr]
    if expr.is_Number:
        return float(expr)
    op, args = ops.classify(expr)
    numbers = [_double(a, values) for a in args]
    result = op.double(expr, numbers)
    if np.isfinite(result) and abs(result) > LARGEST:
        raise OverflowError(expr)
    if np.isinf(result) and all(np.isfinite(numbers)) and not op.numerics.pole:
        raise OverflowError(expr)  # finite inputs, infinite output: an overflow numpy let by
    return result


def check_exact_depth(graph: Graph) -> None:
    """Refuse ``--exact`` where functions are applied one on another's result more than
    :data:`MAX_EXACT_DEPTH` times: each level nests the exact expression of the one below
    (σ(w·σ(w·σ(...)))), and its exact value costs time that grows exponentially (twenty
    chained sigmoids took 83 s). Floats are checked to the same guaranteed digits. The
    depth counts functions nested inside one equation too (σ(σ(σ(x))) in one line)."""
    name = _too_deep(graph)
    if name is not None:
        raise LimitError(f"--exact: functions nested more than {MAX_EXACT_DEPTH} deep "
                         "through the equations (the limit; docs/limits.md); solve "
                         "without --exact").at(field=_user_equation(graph, name))


def function_depth(graph: Graph) -> int:
    """How many functions the graph applies one on another's result at most, through
    its equations and within each (0 for + − × ÷ and whole powers alone)."""
    depth: dict[str, int] = {}
    for node in graph.nodes:
        depth[node.name] = _nesting(node.expr, {n: depth.get(n, 0) for n in node.inputs})
    return max(depth.values(), default=0)


def _too_deep(graph: Graph) -> str | None:
    """The first node whose functions nest more than :data:`MAX_EXACT_DEPTH` deep,
    counting through the equations and within each, or None."""
    depth: dict[str, int] = {}
    for node in graph.nodes:
        below = {n: depth.get(n, 0) for n in node.inputs}
        depth[node.name] = _nesting(node.expr, below)
        if depth[node.name] > MAX_EXACT_DEPTH:
            return node.name
    return None


def _nesting(expr: sp.Expr, below: dict) -> int:
    """How many functions (or non-integer powers) ``expr`` applies one on another's
    result, its symbols counting as deep as ``below`` says; stops counting past the
    limit."""
    if expr.is_Symbol:
        return below.get(expr.name, 0)
    inner = max((_nesting(a, below) for a in expr.args), default=0)
    return inner + _transcendental_here(expr) if inner <= MAX_EXACT_DEPTH else inner


def _transcendental_here(expr: sp.Expr) -> bool:
    return (isinstance(expr, sp.Pow) and not expr.exp.is_Integer) or (
        isinstance(expr, sp.Function) and not isinstance(expr, sp.Max | sp.Min | sp.Abs))


def evaluate(graph: Graph, derivation: Derivation, exact: bool = False) -> Evaluation:
    """Evaluate the graph exactly, or in floats whose digits are checked.

    Floats (:class:`Certified`): each run is repeated with :data:`_GUARD` more digits;
    the lower-precision run is accepted when both agree to :data:`GUARANTEED_DIGITS`
    digits everywhere, else the precision is raised. A value on which the runs agree
    only because both are below :data:`_ABSOLUTE` is a cancellation's noise or a true
    tiny number: a run at 200 more digits decides which (:func:`_decide_zeros`).
    """
    check_magnitudes(graph)
    if exact:
        check_exact_depth(graph)
        return _checked(evaluate_once(graph, derivation, Exact()), graph, exact=True)
    last = None
    for digits in _PRECISIONS:
        low = evaluate_once(graph, derivation, Certified(digits))
        high = evaluate_once(graph, derivation, Certified(digits + _GUARD))
        unsure = _agree(low, high)
        if unsure is not None:
            decided = _decide_zeros(graph, derivation, low, unsure, digits, high)
            return _checked(_floats(decided, digits), graph)
        last = high
    return _checked(_floats(last, _PRECISIONS[-1] + _GUARD), graph)


def _floats(result: Evaluation, digits: int) -> Evaluation:
    """The evaluation with its exact rationals as floats, so that every consumer reads
    one kind of number as before; an exact 0 stays SymPy's exact 0 (``== 0`` is true of
    it, and it is printed and exported as 0)."""
    def f(table: dict) -> dict:
        return {k: (sp.Float(v, digits) if isinstance(v, sp.Rational) and v != 0 else v)
                for k, v in table.items()}
    return Evaluation(f(result.values), f(result.locals), f(result.adjoints), result.kinks)


#: An unsure tiny value is evaluated again with this many more digits than the run that
#: found it ...
_ZERO_RAISE = 200
#: ... and is rounding noise (so 0) when it fell there below this share of its size
#: (:func:`_decide_zeros`).
_ZERO_SHRINK = sp.Float("1e-150", 50)


def _decide_zeros(graph: Graph, derivation: Derivation, result: Evaluation,
                  unsure: set[tuple[str, str]], digits: int, other: Evaluation) -> Evaluation:
    """``result`` (the run at ``digits``; ``other`` the run at ``digits`` + :data:`_GUARD`)
    with each unsure tiny value (table, name) decided by raising the precision.

    The whole graph is evaluated again at ``digits`` + :data:`_ZERO_RAISE` digits. Float
    rounding error is the working precision's unit times the size of the numbers
    combined, so a cancellation's noise falls by some 10^-200 there, and a true value
    stays what it is. A value that fell below :data:`_ZERO_SHRINK` times its size in the
    two first runs is therefore 0: a true value x ≠ 0 would have stayed, as it is larger
    than the higher run's noise, unless |x| were below 10^-150 of the first runs' noise,
    itself 10^-digits of the terms cancelled. A value that did not fall is a true tiny
    number: it gets the digits of the higher precision, where a second run agrees on
    them. One float evaluation (two where a value is kept) of the graph: bounded time at
    any size. (Exact forms decided this once, but only for small graphs: a batch norm's
    exact statistics in a graph of 187 nodes were too large to decide in bounded time.)
    """
    if not unsure:
        return result
    raised = digits + _ZERO_RAISE
    again = evaluate_once(graph, derivation, Certified(raised))
    kept: list[tuple[str, str]] = []
    for table, name in unsure:
        before = max(abs(getattr(result, table)[name]), abs(getattr(other, table)[name]))
        if abs(getattr(again, table)[name]) <= _ZERO_SHRINK * before:
            getattr(result, table)[name] = sp.Integer(0)
        else:
            kept.append((table, name))
    if kept:
        check = evaluate_once(graph, derivation, Certified(raised + _GUARD))
        for table, name in kept:
            x, y = getattr(again, table)[name], getattr(check, table)[name]
            if abs(x - y) <= _RELATIVE * abs(y):
                getattr(result, table)[name] = sp.Float(x, digits)
    return result


def _checked(result: Evaluation, graph: Graph, exact: bool = False) -> Evaluation:
    """The evaluation, if every value and gradient is a real number of a size that can
    be written down; else a located error saying what went wrong where."""
    def bad(v) -> bool:
        return not _finite(_numeric(v) if exact else v)

    for name, v in result.values.items():
        if bad(v):
            n = _numeric(v) if exact else v
            why = ("not a real number (a log or square root of a negative number?)"
                   if n.is_real is False and n.is_finite is not False
                   else "not a finite number (a log of 0, or a division by 0?)")
            raise ProblemError(f"its value is {why}").at(field=name)
    scalars = [(n, v) for n, v in (*result.values.items(), *result.adjoints.items())]
    scalars += [(upper, v) for (upper, _), v in result.locals.items()]
    for name, v in scalars:
        if _too_small(_numeric(v) if exact else v):
            raise MagnitudeError(
                "a value in this equation is not 0 but smaller than 10^-(10^15): its power of "
                "ten cannot be written down (an input far out on a sigmoid's or exp's tail?)"
            ).at(field=_user_equation(graph, name) if graph.is_node(name) else name)
    for name, v in result.adjoints.items():
        if bad(v):
            raise ProblemError(
                f"the gradient of {graph.output} with respect to it is not finite at the given "
                "numbers (a square root, log or 1/x at 0 on its way to the output?)"
            ).at(field=name)
        if not exact and abs(v) > LARGEST:
            raise MagnitudeError(
                f"the gradient of {graph.output} with respect to it grows beyond 10^300"
            ).at(field=name)
    return result


_SMALLEST_BINARY_EXPONENT = -3 * 10**15  # 2^-(3·10^15) is about 10^-(10^15)


def _too_small(v) -> bool:
    """A nonzero float whose power of ten is beyond what Decimal and the printers take."""
    if not isinstance(v, sp.Float) or v == 0:
        return False
    _, mantissa, exponent, bits = v._mpf_
    return mantissa != 0 and exponent + bits < _SMALLEST_BINARY_EXPONENT


def _numeric(v: sp.Expr) -> sp.Expr:
    """An exact value as a number, to decide whether it is real and finite.

    SymPy's assumptions (``is_real``) are not a decision procedure: on log(1 − σ(125))
    they evaluate the argument in low precision, where 1 − σ(125) cancels to 0 or below,
    and answer "not real" or "real" depending on the order of the terms. ``evalf`` raises
    its working precision until the digits asked for are right, so it decides.
    """
    return v.evalf(GUARANTEED_DIGITS) if isinstance(v, sp.Basic) else v


def _finite(v) -> bool:
    return isinstance(v, sp.Number) and v.is_finite is True


#: The constants of :func:`_agree`, built once (building them per comparison was a
#: tenth of a solve): the same SymPy numbers as before, so the same decisions.
_RELATIVE = sp.Float(10) ** -GUARANTEED_DIGITS
_TINY = sp.Float(1e-300)
_ABSOLUTE = sp.Float(10) ** -(GUARANTEED_DIGITS + 40)


def _agree(a: Evaluation, b: Evaluation) -> set[tuple[str, str]] | None:
    """None when the two runs disagree somewhere; else the (table, name) of the values
    on which they agree only because both are tiny (zero candidates)."""
    unsure: set[tuple[str, str]] = set()
    for table in ("values", "adjoints"):
        left, right = getattr(a, table), getattr(b, table)
        for name, x in left.items():
            y = right[name]
            if not (_finite(x) and _finite(y)):
                return None
            if abs(x - y) > _RELATIVE * max(abs(y), _TINY):
                if abs(x - y) > _ABSOLUTE:
                    return None
                unsure.add((table, name))
    return unsure
