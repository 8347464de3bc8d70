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
    None of these; :mod:`.diagnose` says how the number arises when it can.

The recomputations are :class:`~.recompute.World` s: the same edges and local
rules as the engine, in the lectures' form (σ' = y(1 − y) from the node's own output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sympy as sp

from ..keys import Key
from ..numbers import format_number, to_decimal, to_float
from .claims import Claim, Number
from .diagnose import diagnose
from .recompute import World
from .tolerance import DEFAULT_BAND, matches, within

STATUSES = ("correct", "rounding", "carried", "wrong")
ACCEPTED = ("correct", "rounding")
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
    mistake: str | None = None  # the id in symbackprop.mistakes of a wrong number's slip

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


# ------------------------------------------------------------------------ the verifier


def exact_value(solution, key: Key):
    if key.kind == "value":
        return solution.values[key.name]
    if key.kind == "after":
        return solution.values_after[key.name]
    return solution.derivative(key.name, key.wrt)


def judge(solution, claims: list[Claim], band=DEFAULT_BAND) -> list[Verdict]:
    """A verdict for each claim (in order), by the rules of the module docstring."""
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
            v.note, v.mistake = diagnose(solution, v, verdicts, band)
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
