"""The ``[random]`` table of an exercise file: how each given value is drawn.

A spec is a string such as ``"uniform(-1, 1, 0.1)"``. It is read with :func:`ast.parse`
and a whitelist (the way :mod:`symbackprop.parse` reads expressions), never evaluated,
and every number is kept as the decimal it is written as, so a drawn value is exactly
the short decimal a student reads (0.3 is 3/10, not a binary float).

Specs (keyword options after the positional ones):

* ``uniform(lo, hi, step)``: a multiple of ``step`` in [lo, hi];
* ``integer(lo, hi)``: a whole number in [lo, hi];
* ``choice(a, b, ...)``: one of the values given (numbers, or strings in quotes: an
  expression for a ``[graph]`` node, or a word for a placeholder);
* options ``exclude = 0`` or ``exclude = [0, 1]`` (values never drawn) and
  ``sign = "±"`` (the drawn magnitude gets a random sign; ``"+"``/``"-"`` force one).

A vector or matrix given in ``[inputs]``/``[parameters]`` is drawn element by element.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..errors import ProblemError, did_you_mean

KINDS = ("uniform", "integer", "choice")
OPTIONS = ("exclude", "sign")
SIGNS = {"±": (1, -1), "+-": (1, -1), "+": (1,), "-": (-1,)}
MAX_LENGTH = 2000
MAX_CHOICES = 1000


@dataclass(frozen=True)
class Spec:
    """One parsed spec: ``kind`` and its values as exact decimals (or strings)."""

    kind: str
    args: tuple
    exclude: tuple[Decimal, ...] = ()
    signs: tuple = ()  # () keeps the drawn sign; (1,), (-1,) force one; (1, -1) draws one

    @property
    def strings(self) -> bool:
        return self.kind == "choice" and isinstance(self.args[0], str)

    def draw(self, rng):
        """One value from ``rng`` (a ``random.Random``): an int, a Decimal or a string."""
        for _ in range(10_000):
            if self.kind == "choice":
                value = self.args[rng.randrange(len(self.args))]
            elif self.kind == "integer":
                value = Decimal(rng.randint(int(self.args[0]), int(self.args[1])))
            else:
                lo, hi, step = self.args
                k = rng.randint(_ceil(lo / step), _floor(hi / step))
                value = k * step
            if isinstance(value, str):
                return value
            if self.signs:
                value = _signed(value, self.signs[rng.randrange(len(self.signs))])
            if value not in self.exclude:
                return plain(value)
        raise ProblemError("every value it can draw is excluded")  # ruled out by parse_spec


def plain(value: Decimal):
    """A drawn decimal as the loader reads it: an int when whole, else the Decimal."""
    value = value.normalize() if value else Decimal(0)
    return int(value) if value == value.to_integral_value() else value


def _ceil(d: Decimal) -> int:
    return int(d.to_integral_value(rounding="ROUND_CEILING"))


def _floor(d: Decimal) -> int:
    return int(d.to_integral_value(rounding="ROUND_FLOOR"))


def parse_spec(text) -> Spec:
    """A spec string as a :class:`Spec`; raises :class:`ProblemError` with the reason."""
    if not isinstance(text, str):
        raise ProblemError('expected a spec in quotes, e.g. "uniform(-1, 1, 0.1)"')
    if len(text) > MAX_LENGTH:
        raise ProblemError(f"the spec is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ProblemError(f"cannot read '{text.strip()}': write uniform(lo, hi, step),"
                           " integer(lo, hi) or choice(a, b, ...)") from None
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name):
        raise ProblemError(f"'{text.strip()}' is not uniform(...), integer(...) or choice(...)")
    kind = tree.func.id
    if kind not in KINDS:
        raise ProblemError(f"unknown spec '{kind}'{did_you_mean(kind, KINDS)}"
                           f" (specs: {', '.join(KINDS)})")
    args = tuple(_value(a, text) for a in tree.args)
    options = {}
    for kw in tree.keywords:
        if kw.arg not in OPTIONS:
            raise ProblemError(f"{kind}: unknown option '{kw.arg}'{did_you_mean(kw.arg or '', OPTIONS)}"
                               f" (options: {', '.join(OPTIONS)})")
        options[kw.arg] = kw.value
    exclude = _exclude(options.get("exclude"), text)
    signs = _signs(options.get("sign"), text)
    spec = Spec(kind, args, exclude, signs)
    _check(spec)
    return spec


def _value(node, text: str):
    """A number literal (as Decimal, with its unary minus) or a string literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        source = ast.get_source_segment(text.strip(), node) or repr(node.value)
        try:
            return sign * Decimal(source.replace("_", ""))
        except InvalidOperation:
            pass
    raise ProblemError(f"'{ast.get_source_segment(text.strip(), node) or '?'}' is not a number"
                       " or a string in quotes")


def _exclude(node, text: str) -> tuple[Decimal, ...]:
    if node is None:
        return ()
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    values = tuple(_value(n, text) for n in items)
    if any(isinstance(v, str) for v in values):
        raise ProblemError("exclude takes numbers")
    return values


def _signs(node, text: str) -> tuple[int, ...]:
    if node is None:
        return ()
    value = _value(node, text)
    if not isinstance(value, str) or value not in SIGNS:
        raise ProblemError('sign must be "±" (either sign), "+" or "-"')
    return SIGNS[value]


def _check(spec: Spec) -> None:
    """Refuse a spec that cannot draw anything, so that drawing never loops."""
    kind, args = spec.kind, spec.args
    if kind == "choice":
        if not args:
            raise ProblemError("choice needs at least one value")
        if len(args) > MAX_CHOICES:
            raise ProblemError(f"choice takes at most {MAX_CHOICES} values")
        if len({isinstance(a, str) for a in args}) > 1:
            raise ProblemError("choice takes numbers or strings, not both")
        if spec.strings and (spec.exclude or spec.signs):
            raise ProblemError("exclude and sign apply to numbers only")
        if not spec.strings and not any(v not in spec.exclude for v in _all_values(spec)):
            raise ProblemError("choice: every value is excluded")
        return
    want = 3 if kind == "uniform" else 2
    if len(args) != want or any(isinstance(a, str) for a in args):
        form = "uniform(lo, hi, step)" if kind == "uniform" else "integer(lo, hi)"
        raise ProblemError(f"{kind} takes {want} numbers: {form}")
    lo, hi = args[0], args[1]
    if kind == "integer":
        if lo != lo.to_integral_value() or hi != hi.to_integral_value():
            raise ProblemError("integer needs whole numbers lo and hi")
        if lo > hi:
            raise ProblemError("integer needs lo <= hi")
        if hi - lo > 10**9:
            raise ProblemError("integer: the range is too large")
        count = int(hi - lo) + 1
    else:
        step = args[2]
        if not lo < hi:
            raise ProblemError("uniform needs lo < hi")
        if step <= 0:
            raise ProblemError("uniform needs a step > 0")
        count = _floor(hi / step) - _ceil(lo / step) + 1
        if count < 1:
            raise ProblemError(f"uniform: no multiple of {step} lies in [{lo}, {hi}]")
        if count > 10**9:
            raise ProblemError("uniform: the step is too small for the range")
    if count <= 10_000 and not any(v not in spec.exclude for v in _all_values(spec)):
        raise ProblemError(f"{kind}: every value in the range is excluded")


def _all_values(spec: Spec):
    """Every value a numeric spec can draw (for a small range)."""
    if spec.kind == "integer":
        bases = [Decimal(k) for k in range(int(spec.args[0]), int(spec.args[1]) + 1)]
    elif spec.kind == "uniform":
        lo, hi, step = spec.args
        bases = [k * step for k in range(_ceil(lo / step), _floor(hi / step) + 1)]
    else:
        bases = list(spec.args)
    return [_signed(b, s) for b in bases for s in (spec.signs if spec.signs else (None,))]


def _signed(value: Decimal, sign):
    """``value`` with the spec's sign: None keeps it, 1 and -1 force one."""
    return value if sign is None else abs(value) * sign
