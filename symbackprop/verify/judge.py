"""Checking hand-computed answers: correct, rounding, carried forward, or wrong, and why.

Each claim gets the first status that fits, in this order:

``correct``
    The exact value rounded (or truncated) to the precision the author wrote.
``rounding``
    Within a band of the exact value (``band`` units of the last digit shown, 2 by
    default; never of the other sign, nor off by more than half the value or one unit,
    whichever is more: see :func:`within`), or equal to what the quantity gives when
    recomputed from the sheet's accepted numbers with every other intermediate rounded
    or truncated to the author's precision. Accepting a number can explain later ones,
    so this repeats until nothing changes. The note names an intermediate rounded
    early, to fewer decimals than the claim (h_a = 0.59 carried into z_c at four
    decimals), whether the sheet gives it or not.
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
from decimal import ROUND_HALF_UP, Context, Decimal
from itertools import product

import sympy as sp

from ..defaults import DEFAULT_BAND
from ..judging import (
    EARLY_DECIMALS_BELOW,
    LIST_JOINT,
    MAX_EARLY_TRIES,
    MAX_SOURCES,
    MIN_EARLY_DECIMALS,
    PART_JOINT,
    ROUNDED,
    TRUNCATED,
    band_text,
    decimal_word,
    note,
    note_places,
)
from ..keys import Key, Kind
from ..numbers import format_number, to_decimal, to_float
from ..status import ACCEPTED, Status
from .claims import Claim, Number
from .diagnose import diagnose
from .recompute import Cut, World
from .tolerance import matches, within

CUTS = tuple(Cut)  # no cut first, then rounded, then truncated intermediates
WIDE = Context(prec=200)  # room for the 60 decimals a claim may have


@dataclass
class Verdict:
    """The judgement on one claim (``status`` None while it is being judged)."""

    claim: Claim
    expected: sp.Expr  # the exact value, full precision
    status: Status | None = None
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
        return format_number(self.expected, note_places(self.claim.given.decimals))

    def to_json(self) -> dict:
        return {"claim": self.key, "given": float(self.claim.given.value),
                "expected": to_float(self.expected), "status": str(self.status),
                "note": self.note}


class Worlds:
    """The recomputations from one set of known numbers, made once for each way of
    cutting intermediates and number of decimals, and shared by every claim."""

    def __init__(self, solution, known: dict):
        self.solution = solution
        self.known = known
        self._made: dict[tuple[Cut, int], World] = {}

    def __call__(self, mode: Cut, places: int) -> World:
        if (mode, places) not in self._made:
            self._made[mode, places] = World(self.solution, self.known, mode, places)
        return self._made[mode, places]


# ------------------------------------------------------------------------ the verifier


def exact_value(solution, key: Key):
    return solution.value_of(key)


def judge(solution, claims: list[Claim], band=DEFAULT_BAND) -> list[Verdict]:
    """A verdict for each claim (in order), by the rules of the module docstring."""
    band = Decimal(str(band))
    verdicts = {c.key: Verdict(c, exact_value(solution, c.key)) for c in claims}
    given = {c.key: c.given.value for c in claims}
    for v in verdicts.values():
        _by_value(v, band)
    _by_rounded_work(solution, verdicts, given)
    _by_early_rounding(solution, verdicts, given)
    carried = Worlds(solution, given)
    for v in _pending(verdicts):
        _by_carried_error(v, carried, verdicts, given, band)
    for v in _pending(verdicts):
        v.status = Status.WRONG
        v.note, v.mistake = diagnose(solution, v, verdicts, band)
    return [verdicts[c.key] for c in claims]


def _pending(verdicts: dict) -> list[Verdict]:
    return [v for v in verdicts.values() if v.status is None]


def _by_value(v: Verdict, band: Decimal) -> None:
    """``correct`` when cut to the digits written, ``rounding`` within the band."""
    how = matches(v.claim.given, v.expected)
    if how:
        v.status = Status.CORRECT
        if how == TRUNCATED:
            v.note = note("truncated", rounded=_cut(v.expected, v.claim.given))
    elif within(v.claim.given, v.expected, band):
        v.status = Status.ROUNDING
        off = abs(v.claim.given.value - to_decimal(v.expected, 40)) / v.claim.given.unit
        v.note = note("band", off=_plain(off.quantize(Decimal("0.1"))), band=band_text(band))


def _by_rounded_work(solution, verdicts: dict, given: dict) -> None:
    """``rounding`` for what follows from the accepted numbers with intermediates cut,
    until nothing changes. A number within the band is explained the same way when it
    can be (a better note than "units off")."""
    explained_by_band = [v for v in verdicts.values() if v.status == Status.ROUNDING]
    changed = True
    while changed:
        known = {k: given[k] for k, v in verdicts.items() if v.accepted}
        worlds = Worlds(solution, known)
        changed = False
        for v in _pending(verdicts) + explained_by_band:
            places = v.claim.given.decimals
            for mode in CUTS:
                world = worlds(mode, places)
                value = world.recompute(v.claim.key)
                if matches(v.claim.given, value):
                    changed = changed or v.status is None
                    v.status, v.recomputed = Status.ROUNDING, value
                    v.sources = world.sources(v.claim.key)
                    v.note = _rounding_note(v, mode, places, verdicts)
                    break
        explained_by_band = []


def _by_early_rounding(solution, verdicts: dict, given: dict) -> None:
    """A better note for a number accepted only by the band: it follows when one
    intermediate the sheet does not give was rounded to fewer decimals than the claim
    (y rounded early to 0.616 gives E = 0.0737). The status stays: an early rounding
    explains, it does not widen what is accepted."""
    known = {k: given[k] for k, v in verdicts.items() if v.accepted}
    plain = World(solution, known)
    tries = 0
    for v in verdicts.values():
        if v.status != Status.ROUNDING or v.recomputed is not None:
            continue
        places = v.claim.given.decimals
        earlier = range(places - 1, max(MIN_EARLY_DECIMALS, places - EARLY_DECIMALS_BELOW) - 1, -1)
        for name, early in product(plain.computed_values(v.claim.key), earlier):
            if tries >= MAX_EARLY_TRIES:
                return
            tries += 1
            cut = to_decimal(solution.values[name], 40).quantize(
                Decimal(1).scaleb(-early), rounding=ROUND_HALF_UP, context=WIDE)
            world = World(solution, {**known, Key(Kind.VALUE, name): cut}, Cut.NONE, places)
            value = world.recompute(v.claim.key)
            if matches(v.claim.given, value):
                v.recomputed = value
                v.note = note("early", name=name, cut=_plain(cut), early=early,
                              exact=format_number(solution.values[name], places + 2))
                break


def _by_carried_error(v: Verdict, worlds: Worlds, verdicts: dict, given: dict,
                      band: Decimal) -> None:
    """``carried`` when it follows from the sheet's own numbers, wrong ones included."""
    for mode, deeper in product(CUTS, (False, True)):
        world = worlds(mode, v.claim.given.decimals)
        value = world.recompute(v.claim.key, deeper)
        wrong = [k for k in world.sources(v.claim.key, deeper) if not verdicts[k].accepted]
        if mode is Cut.NONE and not deeper and wrong:  # what the sheet's numbers give
            v.recomputed, v.sources = value, wrong
        if wrong and (matches(v.claim.given, value) or within(v.claim.given, value, band)):
            v.status, v.recomputed, v.sources = Status.CARRIED, value, wrong
            v.note = note("carried", expected=v.expected_text(), sources=_list(wrong, given))
            skipped = [k for k in world.bypassed(v.claim.key) if k not in wrong]
            if deeper and skipped:
                v.note += note("bypassed", skipped=_list(skipped, given))
            return


def _rounding_note(v: Verdict, mode: Cut, places: int, verdicts: dict) -> str:
    parts = []
    if v.sources:
        named = [_early(verdicts[k], places) for k in v.sources[:MAX_SOURCES]]
        if len(v.sources) > MAX_SOURCES:
            named.append(note("more", count=len(v.sources) - MAX_SOURCES))
        parts.append(note("follows", sources=LIST_JOINT.join(named)))
    if mode is not Cut.NONE:
        how = ROUNDED if mode is Cut.ROUND else TRUNCATED
        parts.append(note("cut_others" if v.sources else "cut", how=how,
                          places=places))
    return PART_JOINT.join(parts) or note("from_exact")


def _early(source: Verdict, places: int) -> str:
    """``h_a = 0.59``, and when it has fewer decimals than the claim it feeds and is not
    exact, that it was rounded (or truncated) early: the intermediate that explains
    the difference."""
    given = source.claim.given
    if given.decimals < places and to_decimal(source.expected, 40) != given.value:
        return note("source_early", key=source.claim.key, given=_plain(given.value),
                    how=matches(given, source.expected) or ROUNDED, decimals=given.decimals,
                    decimal_word=decimal_word(given.decimals),
                    exact=format_number(source.expected, places + 2))
    return note("source", key=source.claim.key, given=_plain(given.value))


def _list(keys: list[Key], given: dict) -> str:
    shown = [note("source", key=k, given=_plain(given[k])) for k in keys[:MAX_SOURCES]]
    if len(keys) > MAX_SOURCES:
        shown.append(note("more", count=len(keys) - MAX_SOURCES))
    return LIST_JOINT.join(shown)


def _plain(d: Decimal) -> str:
    return format(d, "f")


def _cut(value, given: Number) -> str:
    return format_number(value, given.decimals) if given.decimals else format_number(value, 0)
