"""Which digits a number shows: the one display policy of a document.

Every document (the plain-text account, the worked solution in LaTeX and Markdown, the
figure, the marked sheet, an exam's solutions and feedback) makes one :class:`Display`
and reads every number through it, so that each section follows the same rules:

* **places**: a value shows ``places`` decimals, a value smaller than 10^-places as many
  significant digits (0.00005015, not 0.0001); a value that is an exact short decimal
  shows as itself (0.23, not 0.2300); 0 is 0;
* **widened decimals**: an updated value that rounding would show unchanged gets as
  many more decimals (up to ``more_places``) as make its change visible
  (:meth:`Display.change`);
* **lines that add up**: a displayed product or sum gives the displayed result from the
  displayed numbers within one unit of the result's last digit. :meth:`Display.fit`
  gives the factors more digits, the factor that is furthest off first, until that
  holds; where it cannot within ``more_places`` more digits, the line is written with
  ≈ and :meth:`Display.note` says why.

Products are always computed from full-precision values; only display rounds. A
:class:`Display` is the policy only: reading a number through it changes nothing. What a
document used (a widened value, a refined factor, an ≈ line) is read from the document
itself when it is finished (:class:`Used`, :meth:`Display.note`), so the rounding note
says exactly what the document shows, whatever order its sections were built in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext

import sympy as sp
from mpmath.libmp import prec_to_dps

from .evaluate import GUARANTEED_DIGITS
from .numbers import DEFAULT_PLACES, format_number, to_decimal

#: Leaves (the problem's given numbers) are shown as given, to this many decimals at most.
LEAF_PLACES = 12
#: A change or a line that rounding would spoil is shown with up to this many more digits.
MORE_PLACES = 4
#: The last digits of a float that a product of floats may have spoilt.
NOISE_DIGITS = 20


@dataclass(frozen=True)
class Line:
    """A displayed computation: its operands and its result as text, and the relation
    between them (``=`` when the operands shown give the result shown within one unit of
    its last digit, else ``≈``)."""

    operands: tuple[str, ...]
    result: str
    approx: bool = False
    #: The decimals each operand is shown with (a caller that shows an operand as the
    #: result of a line of its own gives that line these).
    places: tuple[int, ...] = ()
    #: Whether some operand got more digits than the policy's so that the line adds up.
    refined: bool = False

    @property
    def relation(self) -> str:
        return "≈" if self.approx else "="


@dataclass(frozen=True)
class Used:
    """What a finished document used of the policy, read from the document: the note
    says these and nothing else."""

    #: The most decimals a widened value may take (0: none was widened).
    widened: int = 0
    #: Whether some line could not be made to add up and is written with ≈.
    approximated: bool = False
    #: Whether some factor was given more digits so that its line adds up.
    refined: bool = False

    @classmethod
    def of_lines(cls, lines, widened: int = 0, approximated: bool = False) -> Used:
        """What the displayed ``lines`` used (plus ``widened`` and ``approximated`` found
        elsewhere in the document, such as a formula line marked ≈)."""
        lines = list(lines)
        return cls(widened, approximated or any(line.approx for line in lines),
                   any(line.refined for line in lines))


@dataclass(frozen=True)
class Display:
    """The digits of one document: a policy, read by every section (it records nothing)."""

    places: int = DEFAULT_PLACES
    leaf_places: int = LEAF_PLACES
    more_places: int = MORE_PLACES
    #: The decimals a quantity shows wherever a document shows it, by claim key
    #: (``(("dE/dw1", 5),)``): one quantity, one precision on a page. A quantity that two
    #: sections would show with different digits (a gradient in its chain and as an
    #: optimizer's g, a sample's loss in its forward pass and in the batch's table) is
    #: shown everywhere with the most decimals either needs (:meth:`at`).
    keyed: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, policy: Display | int | None) -> Display:
        """``policy`` itself, or the default policy at that many places (for callers of
        the public functions that take ``places``)."""
        if isinstance(policy, Display):
            return policy
        return cls(DEFAULT_PLACES if policy is None else policy)

    # ------------------------------------------------------------------ one number

    def at(self, key: str | None, places: int | None = None) -> int:
        """The decimals of the quantity named ``key`` (a claim key) where a section
        would show it with ``places`` (default: the document's): the most of those and
        of the decimals the document gives that quantity everywhere (:attr:`keyed`)."""
        places = self.places if places is None else places
        for name, p in self.keyed:
            if name == key:
                return max(places, p)
        return places

    def with_keyed(self, keyed: dict[str, int]) -> Display:
        """This policy with ``keyed`` quantities shown at those decimals (at least)."""
        merged = dict(self.keyed)
        for key, p in keyed.items():
            merged[key] = max(p, merged.get(key, 0))
        return replace(self, keyed=tuple(sorted(merged.items())))

    def of_sample(self, sample: int) -> Display:
        """The policy for the passes of one sample of a mini-batch, which are written
        with the problem's own names: a quantity keyed ``y@s1`` is ``y`` there."""
        mark = f"@s{sample}"
        return replace(self, keyed=tuple((k[:-len(mark)], p) for k, p in self.keyed
                                         if k.endswith(mark)))

    def decimals(self, value) -> int:
        """The decimals the document's rule gives ``value``: ``places``, or the
        decimals that keep ``places`` significant digits of a smaller value."""
        return significant_places(value, self.places)

    def text(self, value, places: int | None = None) -> str:
        """``value`` as plain text (ASCII minus, ``4.914e-55`` for tiny ones) at
        ``places`` decimals (default: the document's); a saturated value such as
        σ(125.05) reads ``1 - 4.914e-55`` rather than a bare 1."""
        places = self.places if places is None else places
        shown = format_number(certified(value), places)
        return _near_whole(value, shown) or shown

    def given(self, value) -> str:
        """A given number (input, parameter, learning rate): as written, up to
        ``leaf_places`` decimals."""
        return self.text(value, self.leaf_places)

    def tex(self, value, places: int | None = None) -> str:
        """:meth:`text` in LaTeX math (powers of ten written out)."""
        return tex_number(self.text(value, places))

    # ------------------------------------------------------------------ changes

    def change(self, old, new) -> int:
        """The decimals at which ``new`` shows differently from ``old``: ``places``, or
        more (up to ``places + more_places``) when rounding would hide the change, so
        that w_1 = 0.1 updated to 0.09998 is not written 0.1000 as if nothing moved."""
        old, new = to_decimal(certified(old)), to_decimal(certified(new))
        top = self.places + self.more_places
        if old == new or not (old.is_finite() and new.is_finite()):
            return self.places
        for p in range(self.places, top + 1):
            if to_decimal(format_number(new, p)) != to_decimal(format_number(old, p)):
                break
        else:
            p = top
        return p

    # ------------------------------------------------------------------ lines

    def fit(self, operands: Sequence, result, combine: Callable[[list[Decimal]], Decimal],
            result_places: int | None = None, operand_places: Sequence[int | None] | None = None,
            start_places: Sequence[int | None] | None = None) -> Line:
        """The operands and the result of one displayed computation, with the operands'
        digits chosen so that ``combine`` of the operands as shown gives the result as
        shown within one unit of its last digit.

        ``operand_places`` fixes an operand's decimals (None: the document's rule, then
        widened as needed); a given number shown as given is never widened.
        ``start_places`` gives an operand more decimals to start from (still widened).
        """
        result_places = self.places if result_places is None else result_places
        result_text = self.text(result, result_places)
        fixed = list(operand_places or [None] * len(operands))
        start = list(start_places or [None] * len(operands))
        places = [(self.places if b is None else b) if p is None else p
                  for p, b in zip(fixed, start, strict=True)]
        target = _plain(result_text)
        if target is None:  # a near-whole or non-finite result: nothing to check against
            return Line(tuple(self.text(v, p) for v, p in zip(operands, places, strict=True)),
                        result_text, places=tuple(places))
        unit = _unit(result_text)
        limit = [p + self.more_places for p in places]

        def shown(i: int, p: int):
            d = _plain(self.text(operands[i], p))
            # A compound operand (1 - 4.914e-55) stands for its value.
            return d if d is not None else to_decimal(certified(operands[i]))

        def error(ps: list[int]) -> Decimal | None:
            values = [shown(i, p) for i, p in enumerate(ps)]
            if any(v is None for v in values):
                return None
            with localcontext() as ctx:
                ctx.prec = 80
                ctx.Emin, ctx.Emax = MIN_EMIN, MAX_EMAX  # σ(-10^8) is tiny, not 0
                return abs(combine(values) - target)

        current = error(places)
        widened = False
        while current is not None and current > unit:
            best = None
            for i in range(len(operands)):
                if fixed[i] is not None or places[i] >= limit[i] or _exact(operands[i], places[i]):
                    continue
                trial = places[:i] + [places[i] + 1] + places[i + 1:]
                e = error(trial)
                if e is not None and (best is None or e < best[0]):
                    best = (e, trial)
            if best is None:
                break
            current, places = best
            widened = True
        approx = current is None or current > unit
        return Line(tuple(self.text(v, p) for v, p in zip(operands, places, strict=True)),
                    result_text, approx, tuple(places), widened and not approx)

    def product(self, factors: Sequence, result, result_places: int | None = None,
                factor_places: Sequence[int | None] | None = None) -> Line:
        """``f1 · f2 · ... = result`` with factors that multiply to the result shown."""
        return self.fit(factors, result, _multiply, result_places, factor_places)

    def total(self, terms: Sequence, result, result_places: int | None = None) -> Line:
        """``t1 + t2 + ... = result`` with terms that add up to the result shown."""
        return self.fit(terms, result, _add, result_places)

    def fit_arrays(self, operands: Sequence, results: Sequence, combine: Callable,
                   fixed: Sequence[bool] = ()) -> tuple[list[int], bool, bool]:
        """Decimals for the arrays of one displayed array computation (δ aᵀ = ∂L/∂W,
        x ⋆ δ = ∂L/∂K, g ⊙ f'(z)), one count per operand array, so that every element of
        ``combine`` of the operands as shown gives that element of the result as shown
        (at the document's places) within one unit of its last digit. ``operands`` are
        flat lists of values, ``results`` the flat list of result values; ``combine``
        takes the operands as lists of Decimals and returns the results' list. An operand
        ``fixed`` (a given number, shown as given) keeps its digits. Returns each
        operand's decimals (None for a fixed one), whether some element still does not
        hold (the line is written with ≈) and whether an operand got more digits."""
        fixed = list(fixed) or [False] * len(operands)
        places = [None if f else self.places for f in fixed]
        targets = [_plain(self.text(v)) for v in results]
        units = [_unit(self.text(v)) if t is not None else None
                 for v, t in zip(results, targets, strict=True)]

        def error(ps) -> Decimal | None:
            shown = []
            for values, p in zip(operands, ps, strict=True):
                row = [_plain(self.text(v, self.leaf_places if p is None else p))
                       for v in values]
                row = [d if d is not None else to_decimal(certified(v))
                       for d, v in zip(row, values, strict=True)]
                shown.append(row)
            with localcontext() as ctx:
                ctx.prec = 80
                ctx.Emin, ctx.Emax = MIN_EMIN, MAX_EMAX
                got = combine(shown)
                worst = Decimal(0)
                for g, t, u in zip(got, targets, units, strict=True):
                    if t is not None:
                        worst = max(worst, abs(g - t) / u)
            return worst

        current = error(places)
        widened = False
        while current > 1:
            best = None
            for i, p in enumerate(places):
                if p is None or p >= self.places + self.more_places:
                    continue
                trial = places[:i] + [p + 1] + places[i + 1:]
                e = error(trial)
                if best is None or e < best[0]:
                    best = (e, trial)
            if best is None or best[0] >= current:
                break
            current, places = best
            widened = True
        return places, current > 1, widened and current <= 1

    def holds(self, expr: sp.Expr, shown: dict, result_text: str) -> bool:
        """Whether ``expr`` with its symbols replaced by the numbers as shown
        (symbol -> text) gives ``result_text`` within one unit of its last digit: the
        test of a substituted line such as ``y (1 - y) = 0.6156 (1 - 0.6156) = 0.2366``.
        A line that fails it is written with ≈ (and the note says why)."""
        target = _plain(result_text)
        values = {s: _plain(shown.get(s, "")) for s in expr.free_symbols}
        if target is None or any(v is None for v in values.values()):
            return True  # nothing to check against (a compound or missing number)
        try:
            # Floats of 40 digits: exact for the shown digits, and cheap for 1e-43429340
            # (a Rational of it would have 43 million digits).
            got = sp.N(expr.xreplace({s: sp.Float(str(v), 40) for s, v in values.items()}), 30)
            ok = got.is_number and abs(to_decimal(got) - target) <= _unit(result_text)
        except (ArithmeticError, TypeError, ValueError):
            return True
        return bool(ok)

    def fit_formulas(self, lines: Sequence[tuple[str, sp.Expr]], values: dict,
                     places: dict, fixed=(), constants: dict | None = None
                     ) -> tuple[dict, set[str]]:
        """Digits for the named quantities of several lines ``target = formula`` that
        read each other's results (an optimizer's m, then m_hat from m, ...), so that
        each line with its operands as shown gives its result as shown within one unit.

        ``values``: every quantity by name; ``places``: the decimals each starts with;
        ``fixed``: names never widened (a given number); ``constants``: names whose exact
        value a line uses as it is (settings such as beta1). A quantity gets one number of
        decimals for every line that shows it; an operand is widened (by up to
        ``more_places``) where a line needs it. Returns the decimals and the targets of
        the lines that still do not hold (written with ≈). Nothing is recorded: a caller
        tells the rounding note by the :class:`Line` records of its equations."""
        constants = constants or {}
        places = dict(places)
        limit = {n: p + self.more_places for n, p in places.items()}

        def error(target: str, expr: sp.Expr, ps: dict) -> Decimal | None:
            result = _plain(self.text(values[target], ps[target]))
            env = {}
            for sym in expr.free_symbols:
                if sym.name in constants:
                    env[sym] = sp.Float(str(to_decimal(constants[sym.name], 40)), 40)
                    continue
                shown = _plain(self.text(values[sym.name], ps[sym.name]))
                if shown is None:
                    return None
                env[sym] = sp.Float(str(shown), 40)
            if result is None:
                return None
            try:
                got = sp.N(expr.xreplace(env), 30)
                return abs(to_decimal(got) - result) - _unit(self.text(values[target],
                                                                       ps[target]))
            except (ArithmeticError, TypeError, ValueError):
                return None

        for _ in range(len(lines) * self.more_places + 1):
            failing = [(t, e) for t, e in lines if (err := error(t, e, places)) is not None
                       and err > 0]
            best = None
            for target, expr in failing:  # the first line that more digits can mend
                for sym in sorted(expr.free_symbols, key=str):
                    n = sym.name
                    if n in constants or n in fixed or places[n] >= limit[n] \
                            or _exact(values[n], places[n]):
                        continue
                    trial = {**places, n: places[n] + 1}
                    e = error(target, expr, trial)
                    if e is not None and (best is None or e < best[0]):
                        best = (e, trial)
                if best is not None:
                    break
            if best is None:
                break
            places = best[1]
        bad = {t for t, e in lines if (err := error(t, e, places)) is not None and err > 0}
        return places, bad

    # ------------------------------------------------------------------ the note

    def widened_to(self) -> int:
        """The most decimals a widened value may take (the note says "up to" it)."""
        return self.places + self.more_places

    def note(self, used: Used = Used()) -> str:
        """The rounding note of a document that ``used`` these (read from the finished
        document): the rules it followed, in plain text."""
        p = self.places
        parts = [f"Numbers are rounded for display to {p} decimals (smaller ones to {p} "
                 "significant digits); every value is computed from full-precision values, "
                 "and a value shown as 0 is exactly 0."]
        parts.append("In every product and sum the numbers shown give the result shown to "
                     "within one unit of its last digit"
                     + (": a small factor is shown with more significant digits where that "
                        "needs them." if used.refined else "."))
        if used.widened:
            parts.append("Where rounding would hide a change (an updated value that would "
                         "read as the old one), the value is shown with as many more decimals "
                         f"as make the change visible (up to {used.widened}).")
        if used.approximated:
            parts.append("A line written with ≈ does not add up from the rounded numbers "
                         f"shown, even with up to {self.more_places} more digits per factor "
                         "(or, in a formula, from the rounded inputs): its result is the "
                         "full-precision value rounded.")
        return " ".join(parts)


# ---------------------------------------------------------------------- helpers


def significant_places(value, places: int) -> int:
    """The decimals that keep ``places`` significant digits of a small value (0.001984,
    not 0.0020); ``places`` for a value of 0.1 or more, or 0."""
    d = to_decimal(certified(value))
    if not d.is_finite() or d == 0:
        return places
    return max(places, places - d.adjusted() - 1)


def certified(value):
    """A float value cut to the digits the engine guarantees, so that one which is an
    exact short decimal up to float noise in its last digits prints as itself: four-pixel's
    z1[6] is -0.0299...9 at 40 digits and -0.03 at 25, written -0.03 among 0.99, 1.22, ...
    rather than -0.0300. Exact values (``--exact``) are left as they are."""
    if not isinstance(value, sp.Float):
        return value
    d = to_decimal(value)
    if not d.is_finite() or d == 0:
        return value
    with localcontext() as ctx:
        ctx.prec = GUARANTEED_DIGITS
        ctx.Emin, ctx.Emax = MIN_EMIN, MAX_EMAX  # σ(-10^116) is tiny, not 0
        return +d


def _near_whole(value, text: str) -> str | None:
    """``N - d`` for a value that displays as a whole number N but is not one (a
    saturated σ): the gap in power-of-ten form, so log(1 - ŷ) does not read as log 0."""
    if not isinstance(value, sp.Float) or not re.fullmatch(r"-?\d+", text) or text in ("0", "-0"):
        return None
    gap = value - sp.Integer(int(text))
    if gap == 0 or abs(gap) > sp.Float("1e-12"):
        return None  # the value is that whole number, or its rounding is an ordinary one
    # A gap within the float's last digits is noise, not a saturated σ: a path's value
    # -1.4724 · 0.6792 is -1 (a whole number prints as one), not -1 + 1.1e-41.
    noise = sp.Float(10) ** (NOISE_DIGITS - prec_to_dps(value._prec)) * abs(int(text) or 1)
    if abs(gap) <= noise:
        return None
    return f"{text} {'-' if gap < 0 else '+'} {format_number(certified(abs(gap)), 4)}"


_TINY = re.compile(r"(-?)0\.(0{5,})(\d)(\d*)")


def tex_number(text: str) -> str:
    r"""A number as text (digits, sign, point, exponent) in LaTeX math: 1.4013e+65 as
    1.4013 \cdot 10^{65}, 0.0000000491 as 4.91 \cdot 10^{-8}, ``1 - 4.914e-55`` as
    1 - 4.914 \cdot 10^{-55}. Both a computed number and one a student wrote go through
    here."""
    if " " in text:
        return " ".join(tex_number(part) for part in text.split(" "))
    m = _TINY.fullmatch(text)
    if m:
        sign, zeros, first, rest = m.groups()
        mantissa = f"{first}.{rest}" if rest else first
        return _power_tex(sign, mantissa, -(len(zeros) + 1))
    if "e" in text.lower() and re.fullmatch(r"-?[\d.]+[eE][-+]?\d+", text):
        mantissa, exponent = text.lower().split("e")
        sign = "-" if mantissa.startswith("-") else ""
        return _power_tex(sign, mantissa.lstrip("-"), int(exponent))
    return text


def _power_tex(sign: str, mantissa: str, exponent: int) -> str:
    r"""``4.91 \cdot 10^{-8}``; a mantissa of 1 as a teacher writes it, ``10^{-8}``."""
    if mantissa == "1":
        return rf"{sign}10^{{{exponent}}}"
    return rf"{sign}{mantissa} \cdot 10^{{{exponent}}}"


def _plain(text: str) -> Decimal | None:
    """A displayed number as a Decimal (None for a compound one such as ``1 - 4e-55``)."""
    try:
        d = Decimal(text)
    except ArithmeticError:
        return None
    return d if d.is_finite() else None


def _unit(text: str) -> Decimal:
    """One unit of the last digit shown: 0.0534 -> 0.0001, 4.914e-55 -> 1e-58, 3 -> 1."""
    d = Decimal(text)
    return Decimal(1).scaleb(d.as_tuple().exponent)


def _exact(value, places: int) -> bool:
    """Whether ``value`` shows exactly at ``places`` decimals (more digits add nothing)."""
    d = to_decimal(certified(value))
    return d.is_finite() and _plain(format_number(d, places)) == d


def _multiply(values: list[Decimal]) -> Decimal:
    total = Decimal(1)
    for v in values:
        total *= v
    return total


def _add(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))
