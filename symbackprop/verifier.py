"""Checking hand-computed answers: correct, rounding, carried forward, or wrong, and why.

Each claim gets the first status that fits, in this order:

``correct``
    The exact value rounded (or truncated) to the precision the author wrote.
``rounding``
    Within a band of the exact value (``band`` units of the last digit shown, 2 by
    default; never of the other sign, nor off by more than half the value or one unit,
    whichever is more: see :func:`within`), or equal to what the quantity gives when
    recomputed from the sheet's accepted numbers with every other intermediate rounded
    or truncated to the author's precision. Accepting a number can explain later ones, so this repeats until nothing
    changes.
``carried``
    Wrong, but recomputing it from *all* the sheet's numbers (its wrong ones included)
    gives it: an error carried forward, which markers give credit for.
``wrong``
    None of these; :mod:`symbackprop.diagnose` says how the number arises when it can.

The recomputations are :class:`~symbackprop.recompute.World` s: the same edges and local
rules as the engine, in the lectures' form (σ' = y(1 − y) from the node's own output).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sympy as sp

from .claims import Claim, Number, claims_from_mapping, read_claims
from .errors import SymbackpropError
from .keys import Key
from .numbers import format_number, to_decimal, to_float
from .recompute import World

STATUSES = ("correct", "rounding", "carried", "wrong")
ACCEPTED = ("correct", "rounding")
DEFAULT_BAND = Decimal(2)
MAX_SOURCES = 4


@dataclass
class Verdict:
    """The judgement on one claim."""

    claim: Claim
    expected: sp.Expr  # the exact value, full precision
    status: str
    note: str = ""
    sources: list[Key] = field(default_factory=list)  # given numbers it follows from
    recomputed: sp.Expr | None = None  # what those numbers give, for rounding/carried

    @property
    def key(self) -> str:
        return self.claim.name

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED

    def expected_text(self) -> str:
        """The expected value with two digits more than the author wrote."""
        return format_number(self.expected, max(self.claim.given.decimals + 2, 4))

    def to_json(self) -> dict:
        return {"claim": self.key, "given": float(self.claim.given.value),
                "expected": to_float(self.expected), "status": self.status, "note": self.note}


@dataclass
class Report:
    """Every verdict, in the order of the claims file, with the summary and exit status."""

    problem: object
    solution: object
    verdicts: list[Verdict]
    band: Decimal = DEFAULT_BAND
    strict: bool = False
    source: str | None = None

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for v in self.verdicts:
            counts[v.status] += 1
        return counts

    @property
    def accepted(self) -> bool:
        """Whether every claim is accepted: ``correct`` or ``rounding`` (only ``correct``
        under ``strict``)."""
        allowed = ("correct",) if self.strict else ACCEPTED
        return all(v.status in allowed for v in self.verdicts)

    @property
    def exit_status(self) -> int:
        return 0 if self.accepted else 1

    def to_json(self) -> dict:
        """The object of ``symbackprop verify P C --json`` (contract section 4)."""
        return {"claims": [v.to_json() for v in self.verdicts], "summary": self.summary}

    def summary_line(self) -> str:
        s = self.summary
        n = len(self.verdicts)
        text = (f"{n} claim{'s' if n != 1 else ''}: {s['correct']} correct, {s['rounding']} rounding,"
                f" {s['carried']} carried, {s['wrong']} wrong")
        if self.strict and s["rounding"] and not (s["carried"] or s["wrong"]):
            text += " (--strict accepts only correct)"
        return text

    def to_text(self) -> str:
        """The readable table: claim, given, expected, status, note; then the summary."""
        header = ("claim", "given", "expected", "status", "note")
        rows = [(v.key, v.claim.given.text, v.expected_text(), v.status, v.note)
                for v in self.verdicts]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        lines = []
        for row in [header, *rows]:
            cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
        lines.append(self.summary_line())
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<Report of {self.problem.name}: {self.summary_line()}>"


# ------------------------------------------------------------------------ matching


def matches(given: Number, value) -> str | None:
    """"rounded" or "truncated" when ``given`` is ``value`` cut to the digits written."""
    v = value if isinstance(value, Decimal) else to_decimal(value, 40)
    g, unit = given.value, given.unit
    slack = unit * Decimal("1e-9")
    if abs(g - v) <= unit / 2 + slack:
        return "rounded"
    same_side = g == 0 or (g > 0) == (v > 0)
    if same_side and -slack <= abs(v) - abs(g) < unit - slack:
        return "truncated"
    return None


def within(given: Number, value, band: Decimal) -> bool:
    """Whether ``given`` is close enough to ``value`` for rounding to explain it.

    Three conditions, all needed:

    * at most ``band`` units of the last digit written from ``value``;
    * not of the other sign, unless ``value`` is 0 at the precision written (|value| below
      half a unit): rounding intermediates shifts a number, it does not reflect it through
      0, so -0.0534 written as 0.1 is a sign slip, not a rounding;
    * off by at most half of |value|, or by one unit of the last digit when that is more.
      A band counted in units of the last digit grows with the digit, not with the value:
      at one decimal, 2 units is ±0.2, which would accept 0.4 for 0.2374 (67 % off). A
      number that rounding really explains is close to its value in relative terms too;
      one where it is not must be explained by the recomputation from rounded
      intermediates (which the verifier tries separately), or it is not explained. The
      floor of one unit keeps a value smaller than a unit or two (a single significant
      digit) from being judged by a tolerance finer than the digits the author wrote.

    With the floor, the third condition already excludes most sign flips (a flipped
    nonzero number is at least 1.5 units away); the second says it outright.
    """
    v = value if isinstance(value, Decimal) else to_decimal(value, 40)
    g, unit = given.value, given.unit
    if not v.is_finite():
        return False
    if g * v < 0 and abs(v) >= unit / 2:
        return False
    tolerance = min(band * unit, max(abs(v) / 2, unit))
    return abs(g - v) <= tolerance * (1 + Decimal("1e-9"))


def exact_value(solution, key: Key):
    if key.kind == "value":
        return solution.values[key.name]
    if key.kind == "after":
        return solution.values_after[key.name]
    return solution.derivative(key.name, key.wrt)


# ------------------------------------------------------------------------ the verifier


def judge(solution, claims: list[Claim], band=DEFAULT_BAND) -> list[Verdict]:
    """A verdict for each claim (in order), by the rules of the module docstring."""
    from .diagnose import diagnose

    band = Decimal(str(band))
    verdicts = {c.key: Verdict(c, exact_value(solution, c.key), "") for c in claims}
    given = {c.key: c.given.value for c in claims}

    for v in verdicts.values():
        how = matches(v.claim.given, v.expected)
        if how:
            v.status = "correct"
            if how == "truncated":
                v.note = f"truncated; rounded it is {_cut(v.expected, v.claim.given)}"
        elif within(v.claim.given, v.expected, band):
            v.status = "rounding"
            off = abs(v.claim.given.value - to_decimal(v.expected, 40)) / v.claim.given.unit
            v.note = (f"{_plain(off.quantize(Decimal('0.1')))} units of the last digit off "
                      f"(band {_units(band)})")

    # Accepted numbers explain later ones: repeat until no verdict changes. A number
    # within the band is explained the same way when it can be (a better note).
    explained_by_band = [v for v in verdicts.values() if v.status == "rounding"]
    while True:
        pending = [v for v in verdicts.values() if not v.status]
        known = {k: given[k] for k, v in verdicts.items() if v.accepted}
        worlds: dict = {}
        changed = False
        for v in pending + explained_by_band:
            for mode in (None, "round", "trunc"):
                places = v.claim.given.decimals
                world = worlds.get((mode, places))
                if world is None:
                    world = worlds[mode, places] = World(solution, known, mode, places)
                value = world.recompute(v.claim.key)
                if matches(v.claim.given, value):
                    changed = changed or not v.status
                    v.status, v.recomputed = "rounding", value
                    v.sources = world.sources(v.claim.key)
                    v.note = _rounding_note(v, mode, places, given)
                    break
        explained_by_band = []
        if not changed:
            break

    # Error carried forward: follows from the sheet's own numbers, wrong ones included.
    everything: dict = {}
    for v in verdicts.values():
        if v.status:
            continue
        for mode in (None, "round", "trunc"):
            places = v.claim.given.decimals
            world = everything.get((mode, places))
            if world is None:
                world = everything[mode, places] = World(solution, given, mode, places)
            for deeper in (False, True):
                value = world.recompute(v.claim.key, deeper)
                sources = world.sources(v.claim.key, deeper)
                wrong = [k for k in sources if not verdicts[k].accepted]
                if mode is None and not deeper and wrong:  # what the sheet's numbers give
                    v.recomputed, v.sources = value, wrong
                if not wrong:
                    continue
                if matches(v.claim.given, value) or within(v.claim.given, value, band):
                    v.status, v.recomputed, v.sources = "carried", value, wrong
                    v.note = (f"expected {v.expected_text()}; follows from the given "
                              f"{_list(wrong, given)} (error carried forward)")
                    skipped = [k for k in world.bypassed(v.claim.key) if k not in wrong]
                    if deeper and skipped:
                        v.note += f", though not from the given {_list(skipped, given)}"
                    break
            if v.status:
                break

    for v in verdicts.values():
        if not v.status:
            v.status = "wrong"
            v.note = diagnose(solution, v, verdicts, band)
    return [verdicts[c.key] for c in claims]


def _rounding_note(v: Verdict, mode: str | None, places: int, given: dict) -> str:
    parts = []
    if v.sources:
        parts.append(f"follows from the given {_list(v.sources, given)}")
    if mode is not None:
        how = "rounded" if mode == "round" else "truncated"
        parts.append(f"{'other ' if v.sources else ''}intermediates {how} to {places} decimals")
    return "; ".join(parts) or "follows from the exact values"


def _list(keys: list[Key], given: dict) -> str:
    shown = [f"{k} = {_plain(given[k])}" for k in keys[:MAX_SOURCES]]
    if len(keys) > MAX_SOURCES:
        shown.append(f"{len(keys) - MAX_SOURCES} more")
    return ", ".join(shown)


def _plain(d: Decimal) -> str:
    return format(d, "f")


def _cut(value, given: Number) -> str:
    return format_number(value, given.decimals) if given.decimals else format_number(value, 0)


def _units(band: Decimal) -> str:
    n = format(band.normalize(), "f")
    return f"{n} unit" + ("" if band == 1 else "s")


# ------------------------------------------------------------------------ the API


def verify(problem, claims, *, band=DEFAULT_BAND, strict: bool = False) -> Report:
    """Check hand-computed answers against a problem.

    ``problem``: a :class:`~symbackprop.problem.Problem`, a problem file or a built-in
    name. ``claims``: a claims file (path), or a mapping ``key -> number`` (give numbers
    as strings, ``"0.0010"``, to keep the precision written). ``band``: how many units
    of the last digit shown a number may be off and still count as ``rounding`` (capped
    by half the value, and never across 0: :func:`within`).
    ``strict``: accept only ``correct`` numbers (the report's exit status).
    """
    from .problem import Problem, load

    if not isinstance(problem, Problem):
        problem = load(problem)
    band = Decimal(str(band))
    if not band.is_finite() or band < 0:
        raise SymbackpropError("the rounding band must be a number of units >= 0")
    solution = problem.solve()
    if isinstance(claims, Mapping):
        parsed, source = claims_from_mapping(claims, solution), None
    else:
        parsed = read_claims(claims, solution)
        source = "<stdin>" if str(claims) == "-" else str(Path(claims))
    verdicts = judge(solution, parsed, band)
    return Report(problem, solution, verdicts, band, strict, source)
