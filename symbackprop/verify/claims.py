"""Claims files (docs/claim-keys.md): the numbers a student or a slide deck gives.

One claim per line, ``KEY = NUMBER`` or ``KEY = [[..], [..]]`` for a whole vector or
matrix; blank lines and lines starting with ``#`` are ignored (a ``#`` after the number
starts a comment too). Every number keeps the text it was written with, because the
precision the author wrote (``0.0010`` has four decimals) is what the verifier judges by.

A whole-array claim is split into one :class:`Claim` per element (``W1[0][1]``,
``dL/dW1[0][1]``); a scalar claim on a one-element array refers to that element. Every
mistake raises :class:`~symbackprop.errors.ClaimError` located at ``FILE line N``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from ..errors import ClaimError
from ..files import read_limited
from ..judging import DECIMAL_COMMA, MAX_DIGITS, MINUS_SIGNS, NUMBER, ZERO_DECIMALS
from ..keys import Key, Kind, parse_key
from ..limits import MAX_CLAIMS, MAX_CLAIMS_BYTES, LimitError
from ..printable import quoted

_NUMBER = re.compile(NUMBER)
_DECIMAL_COMMA = re.compile(DECIMAL_COMMA)
_TOKEN = re.compile(r"\s*(\[|\]|,|[^\s\[\],]+)")
_MINUS_SIGNS = str.maketrans(dict.fromkeys(MINUS_SIGNS, "-"))




@dataclass(frozen=True)
class Number:
    """A number as written: its exact decimal value and the text it came from.

    Its precision is what the author wrote, and never coarser than that: the digits
    after the point (``0.0010``: four decimals), or for a number written with a power
    of ten its significant digits (``5.34e-2``: three, so its last digit is 1e-4). A
    power of ten cannot widen the precision past the number itself: ``1e9`` is one
    significant digit of a billion, not 0 give or take a billion (see
    :func:`~.tolerance.within`), and ``0e9`` claims exactly 0.
    """

    text: str
    value: Decimal

    @property
    def scientific(self) -> bool:
        """Written with a power of ten (``5.34e-2``): judged by its significant digits."""
        return "e" in self.text.lower()

    @property
    def exponent(self) -> int:
        """The power of ten of the last digit written: -4 for ``0.0010`` and ``5.34e-2``."""
        found = self.__dict__.get("_exponent")  # kept: grading reads it for every test
        if found is None:
            found = (-ZERO_DECIMALS if self.scientific and self.value == 0
                     else self.value.as_tuple().exponent)
            object.__setattr__(self, "_exponent", found)
        return found

    @property
    def unit(self) -> Decimal:
        """One unit of the last digit written (``0.0001`` for ``0.0010``)."""
        found = self.__dict__.get("_unit")
        if found is None:
            found = Decimal(1).scaleb(self.exponent)
            object.__setattr__(self, "_unit", found)
        return found

    @property
    def decimals(self) -> int:
        return max(0, -self.exponent)


@dataclass(frozen=True)
class Claim:
    """One scalar claim: the quantity (a :class:`Key` naming one scalar), the number
    given, and the line it was written on."""

    key: Key
    given: Number
    line: int | None = None

    @property
    def name(self) -> str:
        """The claim key as reports print it: ``dE/dw1``, ``W1[0][1]``, ``w1_new``."""
        return str(self.key)


def ascii_digits(text: str) -> str:
    """Digits of any script (Arabic-Indic ``٠٫٥``, full-width ``０.５``) as ASCII, so
    that a number is kept, and later printed, as the digits 0-9 (NFKC first: it turns
    full-width digits and points into ASCII)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text).replace("\u066b", ".")  # Arabic decimal sign
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and c.isdecimal() else c
                   for c in text)


def parse_number(text: str) -> Number:
    """A decimal number as written (``-0.0533``, ``5e-05``, a Unicode minus sign, a
    decimal comma ``0,0822`` where it cannot be a thousands separator, digits of other
    scripts)."""
    clean = _decimal_point(ascii_digits(text.strip().translate(_MINUS_SIGNS)))
    if not clean.isascii() or not _NUMBER.fullmatch(clean):
        raise ClaimError(f"'{text.strip()}' is not a number")
    try:
        value = Decimal(clean)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ClaimError(f"'{text.strip()}' is not a number") from None
    if abs(value.as_tuple().exponent) > MAX_DIGITS or value.adjusted() > MAX_DIGITS:
        raise ClaimError(f"'{text.strip()}' has too many digits")
    return Number(clean, value)


def _decimal_point(text: str) -> str:
    """``0,0822`` read as ``0.0822``. A comma is a decimal comma when it is the only
    separator between digits; ``1,234`` (a whole part and exactly three digits) could
    be a thousand and is refused, ``0,123`` cannot and is read."""
    m = _DECIMAL_COMMA.fullmatch(text)
    if not m:
        return text
    whole, decimals = m.group(2), m.group(3)
    if len(decimals) == 3 and whole.lstrip("0"):
        raise ClaimError(f"'{text}' is ambiguous: write {whole}.{decimals} (a decimal) or "
                         f"{whole}{decimals} (a whole number)")
    return f"{m.group(1)}{whole}.{decimals}{m.group(4) or ''}"


def parse_value(text: str):
    """A number, or nested lists of numbers (``[[0.1, 0.2], [0.3, 0.4]]``)."""
    text = text.strip()
    if not text.startswith("["):
        return parse_number(text)
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise ClaimError(f"'{text}' is not a number or a list of numbers")
    pos = 0

    def item():
        nonlocal pos
        if pos >= len(tokens):
            raise ClaimError(f"'{text}': the list ends too early")
        token = tokens[pos]
        pos += 1
        if token != "[":
            if token in ("]", ","):
                raise ClaimError(f"'{text}': a number is missing before '{token}'")
            return parse_number(token)
        items = []
        while True:
            if pos < len(tokens) and tokens[pos] == "]" and not items:
                raise ClaimError(f"'{text}': an empty list has no values")
            items.append(item())
            if pos >= len(tokens):
                raise ClaimError(f"'{text}': a ']' is missing")
            token = tokens[pos]
            pos += 1
            if token == "]":
                return items
            if token != ",":
                raise ClaimError(f"'{text}': expected ',' or ']' after a number")

    value = item()
    if pos != len(tokens):
        raise ClaimError(f"'{text}': unexpected text after the closing ']'")
    return value


def _shape(value) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    shapes = {_shape(v) for v in value}
    if len(shapes) != 1:
        raise ClaimError("the rows have different lengths")
    return (len(value),) + shapes.pop()


def expand(key: Key, value, solution) -> list[tuple[Key, Number]]:
    """A claim on ``key`` as scalar claims, one per element for an array."""
    graph = solution.graph
    groups = graph.groups
    if key.kind == Kind.AFTER and not solution.values_after:
        raise ClaimError(f"'{key}' needs a learning_rate in the problem")
    if key.kind in (Kind.SAMPLE, Kind.PARTIAL):
        solution.lookup(key)  # a sample the batch has, names that are scalars
    if key.kind in (Kind.AFTER, Kind.STATE):
        solution.value_of(key if key.name not in groups else
                          replace(key, name=groups[key.name].names()[0]))  # a step or state it has
    if key.kind == Kind.DERIVATIVE:
        top, bottom = groups.get(key.name), groups.get(key.wrt)
        if top and bottom:
            raise ClaimError(f"'{key}' is a Jacobian, not a number or an array: name one "
                             f"element, such as d{top.names()[0]}/d{key.wrt}")
        group = top or bottom
        if group is None:
            elements = [key]
        elif top:
            elements = [Key(Kind.DERIVATIVE, n, key.wrt) for n in group.names()]
        else:
            elements = [Key(Kind.DERIVATIVE, key.name, n) for n in group.names()]
    else:
        group = groups.get(key.name)
        elements = [key] if group is None else [replace(key, name=n) for n in group.names()]
    shape = group.shape if group is not None else ()
    given_shape = _shape(value)
    size = int(np.prod(shape)) if shape else 1
    row_or_column = len(shape) == 2 and 1 in shape  # [-0.1210, -0.2621] for a 1x2 matrix
    # and a vector written as the column (or row) it is on paper: [[-0.59], [1.38]]
    as_column = len(shape) == 1 and given_shape in ((size, 1), (1, size))
    if given_shape == shape or (row_or_column and given_shape == (size,)) or as_column:
        flat = list(np.array(value, dtype=object).reshape(-1)) if shape else [value]
    elif given_shape == () and len(elements) == 1:
        flat = [value]  # a scalar claim on a one-element array
    elif given_shape == ():
        size = "x".join(map(str, shape))
        raise ClaimError(f"'{key}' is an array ({size}): give all of it as a list, or one "
                         f"element, such as {elements[0]}")
    else:
        want = "x".join(map(str, shape)) if shape else "a single number"
        got = "x".join(map(str, given_shape))
        hint = ""
        if len(shape) == 2 and given_shape == shape[::-1]:
            hint = (f": the transpose? d{key.name}/d{key.wrt} has the shape of {key.wrt}"
                    if key.kind == Kind.DERIVATIVE else ": the transpose?")
        raise ClaimError(f"'{key}' has shape {want}, but {got} numbers are given{hint}")
    return list(zip(elements, flat, strict=True))


def check_direction(key: Key, elements: list[Key], graph, upstream: dict) -> None:
    """Refuse a derivative key written upside down: ``dz_a/dh_a`` where h_a = σ(z_a).

    docs/claim-keys.md defines d top / d bottom for a ``bottom`` upstream of ``top``. When
    instead ``top`` is upstream of ``bottom``, the key is almost surely the intended
    derivative with its names swapped; answering 0 (``top`` does not depend on
    ``bottom``) would mark a right number wrong for a slip of notation. Names unrelated
    either way keep their meaning: the derivative is 0. ``upstream`` memoizes
    :meth:`Graph.upstream` over one file.
    """
    for element in elements:
        top, bottom = element.name, element.wrt
        if top == bottom:
            continue
        if bottom not in upstream:
            upstream[bottom] = graph.upstream(bottom)
        if top in upstream[bottom]:
            raise ClaimError(f"'{key}': {key.wrt} is not upstream of {key.name} ({key.wrt} "
                             f"depends on {key.name}); did you mean d{key.wrt}/d{key.name}?")


def parse_claims(text: str, solution, source: str = "<claims>") -> list[Claim]:
    """The claims of a claims file's text, resolved against a solved problem."""
    claims: list[Claim] = []
    seen: dict[Key, tuple[Number, int]] = {}
    upstream: dict[str, set[str]] = {}
    lines = text.splitlines()
    written = sum(1 for line in lines if "=" in line.split("#", 1)[0])
    if written > MAX_CLAIMS:  # refused before any claim is resolved or judged
        raise LimitError(f"{written} claims: more than {MAX_CLAIMS} (the limit; "
                         "docs/limits.md)").at(file=source)
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            if "=" not in line:
                raise ClaimError(f"'{_short(line)}' is not a claim: write KEY = NUMBER "
                                 "(e.g. dE/dw1 = -0.0010)")
            left, right = line.split("=", 1)
            if not left.strip():
                raise ClaimError("a claim key is missing before '='")
            if not right.strip():
                raise ClaimError(f"'{left.strip()}' has no number after '='")
            key = parse_key(left, solution.key_names)
            value = parse_value(right)
            expanded = expand(key, value, solution)
            if key.kind == Kind.DERIVATIVE:
                check_direction(key, [e for e, _ in expanded], solution.graph, upstream)
            for element, given in expanded:
                if element in seen:
                    first, first_line = seen[element]
                    if first.value != given.value:
                        raise ClaimError(f"{element} is claimed twice with different numbers "
                                         f"({first.text} on line {first_line}, {given.text} here)")
                    continue
                seen[element] = (given, number)
                if len(seen) > MAX_CLAIMS:
                    raise LimitError(f"more than {MAX_CLAIMS} numbers claimed (the limit; "
                                     "docs/limits.md)")
                claims.append(Claim(element, given, number))
        except (ClaimError, LimitError) as exc:
            raise exc.at(file=source, line=number) from None
    if not claims:
        raise ClaimError("no claims: write one per line, KEY = NUMBER").at(file=source)
    return claims


def read_claims(path: str | Path, solution) -> list[Claim]:
    """The claims of a claims file (``-``: standard input). Errors name the file and line."""
    if str(path) == "-":
        import sys

        try:
            text = sys.stdin.buffer.read(MAX_CLAIMS_BYTES + 1).decode("utf-8")
        except UnicodeDecodeError:
            raise ClaimError("is not UTF-8 text").at(file="<stdin>") from None
        if len(text.encode("utf-8")) > MAX_CLAIMS_BYTES:
            raise ClaimError(f"more than {MAX_CLAIMS_BYTES // 1_000_000} MB").at(file="<stdin>")
        return parse_claims(text.lstrip("\ufeff"), solution, source="<stdin>")
    path = Path(path)
    try:
        text = read_limited(path, MAX_CLAIMS_BYTES, ClaimError, "claims file").decode("utf-8")
    except FileNotFoundError:
        raise ClaimError("no such file").at(file=str(path)) from None
    except UnicodeDecodeError:
        raise ClaimError("is not UTF-8 text").at(file=str(path)) from None
    except ClaimError as exc:
        raise exc.at(file=str(path)) from None
    return parse_claims(text.lstrip("\ufeff"), solution, source=str(path))


def claims_from_mapping(claims: Mapping, solution) -> list[Claim]:
    """Claims given in Python: key -> number, string or nested lists.

    Give numbers as strings (``"0.0010"``) to keep the precision written: a float
    ``0.0010`` is ``0.001``, read as three decimals.
    """
    lines = []
    for key, value in claims.items():
        line = f"{key} = {_text(value)}"
        if any(c in line for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029#"):
            # one claim per entry: a line break (or a comment sign) would make it two
            raise ClaimError(f"{quoted(str(key))}: a key or value holds a line break or '#'"
                             ).at(file="<claims>")
        lines.append(line)
    return parse_claims("\n".join(lines), solution, source="<claims>")


def _text(value) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, np.generic):  # numpy's str is the shortest repr, without 'np.'
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
