"""Safe expression parsing: Python's ``ast`` and a whitelist, never ``eval``.

An expression from a problem file is parsed with :func:`ast.parse` and walked node by
node; only numbers, names (optionally indexed, ``W1[0][1]``), ``+ - * / **``, unary minus,
parentheses and calls of the op table's functions (docs/operations.md) with the right
number of arguments are accepted, and the SymPy expression is built from the tree here. User text never reaches
``eval``, ``exec``, ``sympify`` or ``parse_expr``, which evaluate Python.

What a hostile file can cost is bounded before any work is done: the length of the
text, the nesting depth, the digits of a number, and the size of constant exponents
(``x**(9**9**9)`` is refused at once, not computed).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from fractions import Fraction

import sympy as sp
from sympy.printing.str import StrPrinter

from . import ops
from .errors import ExpressionError, did_you_mean

MAX_LENGTH = 4000  # characters in one expression
MAX_DEPTH = 64  # nesting of operations
MAX_EXPONENT = 64  # |n| in x**n when n is a constant
MAX_DIGITS = 30  # digits in one number literal
MAX_INDEX = 100_000  # largest index in W[i][j]
FLAT_CHAIN = 16  # a + b + c + ... longer than this is one n-ary gate, not nested pairs

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,2})?\Z")

_ALLOWED = "numbers, names, + - * / **, unary minus, parentheses and the functions " + ", ".join(
    sorted(ops.FUNCTIONS)
)


def symbol(name: str) -> sp.Symbol:
    """The SymPy symbol of a leaf or node name. Real, so that |x|' is sign(x)."""
    return sp.Symbol(name, real=True)


def indexed_name(base: str, *index: int) -> str:
    """The scalar name of one element: ``W1[0][1]``."""
    return base + "".join(f"[{i}]" for i in index)


def is_name(text: str) -> bool:
    """Whether ``text`` is a valid leaf or node name (not a function name)."""
    return bool(_NAME.match(text)) and text not in ops.FUNCTIONS


# One spelling per element: ASCII digits without leading zeros, so that z[00] (or an
# index in other digits) cannot name z[0] a second time.
_INDEXED = re.compile(r"([A-Za-z][A-Za-z0-9_]*)((?:\[(?:0|[1-9][0-9]*)\])+)\Z")


def split_indexed(text: str) -> tuple[str, tuple[int, ...]] | None:
    """``"z1[0]"`` -> ("z1", (0,)); None when ``text`` is not an indexed name."""
    m = _INDEXED.match(text)
    if not m or not is_name(m.group(1)):
        return None
    return m.group(1), tuple(int(i) for i in re.findall(r"[0-9]+", m.group(2)))


def parse_number(text: str) -> sp.Rational:
    """A decimal literal as an exact rational: ``0.1`` is 1/10, not a binary float."""
    text = text.strip().replace("_", "")
    m = _NUMBER.match(text)
    if not m or len(m.group(1)) > MAX_DIGITS + 1:
        raise ExpressionError(f"'{text}' is not a number this tool accepts")
    return sp.Rational(text)


class WrittenNumber(sp.Rational):
    """An exact decimal that remembers how the problem wrote it: ``0.2`` is 1/5 for every
    computation (it is a SymPy ``Rational``, equal to ``Rational(1, 5)``) and prints as
    ``0.2``, so that ``0.2*x`` reads 0.2x and ``0.01*w**2`` reads 0.01w², never x/5 or
    w²/100. Arithmetic on it gives plain rationals; only the printers read ``text``.
    Its hash differs from the plain rational's, so that SymPy's cache never hands an
    expression written with ``1/5`` to one written with ``0.2`` (or back)."""

    __slots__ = ("text",)

    def __new__(cls, p, q=1, text=None):
        obj = sp.Expr.__new__(cls)
        obj.p, obj.q = int(p), int(q)
        obj.text = text if text is not None else _decimal_text(obj.p, obj.q)
        return obj

    def __getnewargs__(self):
        return (self.p, self.q, self.text)

    def _hashable_content(self):
        return (self.p, self.q, self.text)

    def __hash__(self):
        return super().__hash__()

    def __neg__(self):
        text = self.text[1:] if self.text.startswith("-") else "-" + self.text
        return WrittenNumber(-self.p, self.q, text)


def _decimal_text(p: int, q: int) -> str:
    """p/q (a terminating decimal) written out: 1/50 -> 0.02."""
    from decimal import Decimal, localcontext
    with localcontext() as ctx:
        ctx.prec = 60
        return format(Decimal(p) / Decimal(q), "f")


def decimals_as_written(expr: sp.Expr) -> sp.Expr:
    """``expr`` with its fractional constants that are short decimals (1/50) as
    :class:`WrittenNumber` (0.02), rebuilt unevaluated: a local derivative of
    ``0.01*w**2`` reads 0.02w, as the problem's own decimals do, not w/50. Exponents are
    left alone (x**(3/2) stays x^{3/2}); the value is unchanged."""
    if expr.is_Rational:
        q = expr.q
        for f in (2, 5):
            while q % f == 0:
                q //= f
        short = q == 1 and len(_decimal_text(abs(expr.p), expr.q)) <= 12
        return WrittenNumber(expr.p, expr.q) if short and not expr.is_Integer else expr
    if not expr.args or expr.is_Atom:
        return expr
    if expr.is_Pow:
        args = (decimals_as_written(expr.base), expr.exp)
    else:
        args = tuple(decimals_as_written(a) for a in expr.args)
    if all(a is b for a, b in zip(args, expr.args, strict=True)):
        return expr
    return expr.func(*args, evaluate=False)


def has_written_number(expr: sp.Expr) -> bool:
    return any(isinstance(a, WrittenNumber) for a in expr.atoms(sp.Rational))


def written_number(text: str) -> sp.Rational:
    """A number literal of an expression: a decimal (``0.2``, ``1e-3``) keeps its
    spelling for printing (:class:`WrittenNumber`); a whole number is an ``Integer``."""
    value = parse_number(text)
    if value.is_Integer:
        return value
    return WrittenNumber(value.p, value.q, text.strip().replace("_", ""))


def parse_expression(text) -> sp.Expr:
    """Parse one expression into an unevaluated SymPy expression.

    Raises :class:`ExpressionError` for anything outside the whitelist.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression in quotes, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    _check_look_alikes(text)
    depth = 0
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} deep")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid syntax in '{text.strip()}': {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested") from None
    return _Builder(text.strip()).build(tree.body, 0)


def _check_look_alikes(text: str) -> None:
    """Refuse characters that Python's parser would silently read as others.

    ``ast`` normalizes names (NFKC): ``𝐱`` and ``ｘ`` would be read as ``x``, so a file
    could show one name and mean another. Names are plain ASCII letters and digits."""
    for ch in text:
        if not ch.isascii() and unicodedata.normalize("NFKC", ch) != ch:
            plain = unicodedata.normalize("NFKC", ch)
            raise ExpressionError(f"'{ch}' (U+{ord(ch):04X}) would be read as '{plain}'; "
                                  "write names and numbers in plain ASCII")


class _Builder:
    """Walks an ``ast`` tree, accepting only whitelisted nodes, and builds SymPy."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, what: str):
        raise ExpressionError(f"{what} is not allowed in an expression (allowed: {_ALLOWED})")

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} deep")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            self.fail(_describe(node))
        return method(node, depth + 1)

    # Leaves -------------------------------------------------------------------------

    def _Constant(self, node: ast.Constant, depth):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            self.fail(f"the constant {node.value!r}")
        text = ast.get_source_segment(self.source, node) or repr(node.value)
        return written_number(text)

    def _Name(self, node: ast.Name, depth):
        if node.id in ops.FUNCTIONS:
            raise ExpressionError(f"'{node.id}' is a function: call it as {node.id}(...)")
        if not _NAME.match(node.id):
            raise ExpressionError(
                f"'{node.id}' is not a valid name (letters, digits and _, starting with a letter)"
            )
        return symbol(node.id)

    def _Subscript(self, node: ast.Subscript, depth):
        index = []
        while isinstance(node, ast.Subscript):
            i = node.slice
            if not (isinstance(i, ast.Constant) and type(i.value) is int and 0 <= i.value <= MAX_INDEX):
                raise ExpressionError("an index must be a whole number, as in W1[0][1]")
            index.insert(0, i.value)
            node = node.value
        if not isinstance(node, ast.Name):
            self.fail("indexing anything but a name")
        base = self._Name(node, depth)
        return symbol(indexed_name(base.name, *index))

    # Operators ------------------------------------------------------------------------

    def _UnaryOp(self, node: ast.UnaryOp, depth):
        operand = self.build(node.operand, depth)
        if isinstance(node.op, ast.USub):
            if isinstance(operand, sp.Number):
                return -operand
            return ops.build("neg", operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        self.fail(f"the operator '{_OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)}'")

    def _BinOp(self, node: ast.BinOp, depth):
        kind = type(node.op)
        chain = _chain(node)
        if len(chain) > FLAT_CHAIN:
            return self._flat(chain, depth)
        if kind not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            self.fail(f"the operator '{_OPERATOR_TEXT.get(kind, kind.__name__)}'")
        if kind is ast.Pow:
            return self._power(node, depth)
        left = self.build(node.left, depth)
        right = self.build(node.right, depth)
        if kind is ast.Add:
            return ops.build("add", left, right)
        if kind is ast.Sub:
            neg = -right if isinstance(right, sp.Number) else ops.build("neg", right)
            return ops.build("add", left, neg)
        if kind is ast.Mult:
            return ops.build("mul", left, right)
        if right == 0:
            raise ExpressionError("division by zero")
        if left == 1:
            return ops.build("inv", right)
        return ops.build("div", left, right)

    def _flat(self, chain, depth):
        """A long sum or product as one n-ary gate (keeps deep chains from recursing)."""
        adding = isinstance(chain[1][0], ast.Add | ast.Sub)
        items = []
        for op, operand in chain:
            value = self.build(operand, depth)
            if isinstance(op, ast.Sub):
                value = -value if isinstance(value, sp.Number) else ops.build("neg", value)
            items.append(value)
        return ops.build("add" if adding else "mul", *items)

    def _power(self, node: ast.BinOp, depth):
        base = self.build(node.left, depth)
        if _has_name(node.right):
            return ops.build("pow", base, self.build(node.right, depth))
        exponent = _constant_value(node.right)  # raises on anything but small arithmetic
        if abs(exponent) > MAX_EXPONENT or exponent.denominator > MAX_EXPONENT:
            raise ExpressionError(f"a constant exponent must be at most {MAX_EXPONENT} in size")
        exponent = sp.Rational(exponent.numerator, exponent.denominator)
        if exponent == sp.S.Half:
            return ops.build("sqrt", base)
        if exponent == -1:
            return ops.build("inv", base)
        return ops.build("pow", base, exponent)

    def _Call(self, node: ast.Call, depth):
        if not isinstance(node.func, ast.Name):
            self.fail("calling anything but a function name")
        name = node.func.id
        op = ops.FUNCTIONS.get(name)
        if op is None:
            raise ExpressionError(
                f"unknown function '{name}'{did_you_mean(name, ops.FUNCTIONS)}"
                f" (functions: {', '.join(sorted(ops.FUNCTIONS))})"
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.fail("keyword or starred arguments")
        if not op.takes(len(node.args)):
            raise ExpressionError(f"{name}() takes {op.arguments}, got {len(node.args)}")
        args = [self.build(a, depth) for a in node.args]
        return ops.build(op.name, *args)


_OPERATOR_TEXT = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitXor: "^", ast.BitAnd: "&",
    ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.Not: "not", ast.Invert: "~",
}


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"the attribute access '.{node.attr}'"
    if isinstance(node, ast.Compare):
        return "a comparison"
    if isinstance(node, ast.BoolOp):
        return "'and'/'or'"
    if isinstance(node, ast.Lambda):
        return "lambda"
    return f"'{type(node).__name__}'"


def _chain(node: ast.BinOp) -> list:
    """The operands of a left-nested chain of + and - (or of *), with their operators:
    ``a - b + c`` -> [(None, a), (Sub, b), (Add, c)]. Shorter than 2 for anything else."""
    family = (ast.Add, ast.Sub) if isinstance(node.op, ast.Add | ast.Sub) else (ast.Mult,)
    if not isinstance(node.op, family):
        return []
    items = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, family):
        items.append((node.op, node.right))
        node = node.left
    items.append((None, node))
    return items[::-1]


def _has_name(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name | ast.Subscript) for n in ast.walk(node))


def _constant_value(node: ast.AST) -> Fraction:
    """A constant exponent: literals combined by + - * / and unary minus, nothing else.

    No ``**`` inside a constant exponent: that is what makes ``9**9**9`` cost nothing.
    """
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = parse_number(repr(node.value) if type(node.value) is int else str(node.value))
        return Fraction(int(value.p), int(value.q))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _constant_value(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        a, b = _constant_value(node.left), _constant_value(node.right)
        if isinstance(node.op, ast.Div) and b == 0:
            raise ExpressionError("division by zero")
        result = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op))
        return result if result is not None else a / b
    raise ExpressionError(
        f"a constant exponent must be a plain number (at most {MAX_EXPONENT} in size)"
    )


class SourcePrinter(StrPrinter):
    """Writes an expression back in the whitelisted syntax that :func:`parse_expression`
    reads (``max`` not ``Max``, softmax spelled out), keeping the user's term order."""

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_WrittenNumber(self, expr):
        return expr.text  # reads back to the same exact value

    def _print_softmax(self, expr):
        """softmax has no name in a problem file: it is written out in exponentials."""
        exp = ops.OPS["exp"].notation.function
        exps = " + ".join(f"{exp}({self._print(z)})" for z in expr.logits)
        return f"{exp}({self._print(expr.logits[expr.index])})/({exps})"


def _source_printer(function: str):
    def _print(self, expr):
        return f"{function}({', '.join(self._print(a) for a in expr.args)})"
    return _print


# Every function a problem file may call is written back by the name the parser reads
# (max, not SymPy's Max; abs, not Abs), from the op table.
for _op in ops.FUNCTIONS.values():
    if _op.sympy is not None and issubclass(_op.sympy, sp.Function):
        setattr(SourcePrinter, f"_print_{_op.sympy.__name__}", _source_printer(_op.notation.function))


def to_source(expr: sp.Expr) -> str:
    """``expr`` as text that :func:`parse_expression` reads back to the same value."""
    return SourcePrinter().doprint(expr)
