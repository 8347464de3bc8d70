"""Claim keys (docs/claim-keys.md): one notation for every quantity.

``z_a`` (a value), ``dE/dw1`` (a gradient of the output), ``dy/dz_c`` (a derivative of
any node with respect to anything upstream), ``w1_new`` and ``E_new`` (after the
update), ``w1@3`` and ``E@3`` (after step 3 of the optimizer), ``m_w1``, ``v_w1``,
``b_w1`` (the optimizer's state after the first step: docs/optimizers.md), ``W1[0][1]``
and ``dL/dW1[0][1]`` (elements), ``W1`` (a whole array).
:func:`parse_key` reads the text; :meth:`Solution.lookup` resolves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from .errors import ClaimError, did_you_mean

_NAME = r"[A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*"
_DERIVATIVE = re.compile(rf"\s*(?:d|∂)\s*({_NAME})\s*/\s*(?:d|∂)\s*({_NAME})\s*\Z")
_PLAIN = re.compile(rf"\s*({_NAME}(?:_new)?)\s*\Z")
_NEW_SUFFIX = re.compile(r"^([A-Za-z][A-Za-z0-9_]*?)_new((?:\[\d+\])*)$")
_NEW_AFTER_INDEX = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])+)_new$")
_AT_STEP = re.compile(rf"\s*({_NAME})\s*@\s*(\d+)\s*\Z")
_STATE = re.compile(rf"^(m|v|b)_({_NAME})$")
#: ``KEY@s2``: the quantity of sample 2 of a mini-batch (``@`` then ``s``: never a step).
_AT_SAMPLE = re.compile(r"\A(.*?)\s*@\s*s(\d+)\s*\Z", re.S)
#: ``dh3/dw|h2``: the derivative with ``h2`` held fixed (paths through it left out).
_HELD = re.compile(rf"\A(.*?)\s*\|\s*({_NAME}(?:\s*,\s*{_NAME})*)\s*\Z", re.S)
MAX_STEP = 10_000


class Kind(StrEnum):
    """What a claim key names: a value, a value after the update (or after step k), a
    derivative, or an optimizer's state.

    A ``StrEnum``: each kind equals (and prints as) its word, so JSON and messages
    are unchanged.
    """

    VALUE = "value"
    AFTER = "after"
    DERIVATIVE = "derivative"
    STATE = "state"  # an optimizer's state after the first step: m_w1, v_w1, b_w1
    #: d top / d wrt with the nodes ``held`` fixed: the paths through them left out
    #: (``dh3/dw|h2``, the immediate partial of h3's own equation in an RNN)
    PARTIAL = "partial"
    #: a value or a derivative of one sample of a mini-batch (``y@s1``, ``dE/dy@s1``);
    #: ``wrt`` None for a value
    SAMPLE = "sample"


@dataclass(frozen=True)
class Key:
    """A parsed claim key: its :class:`Kind`, the name, and ``wrt`` for a derivative;
    ``step`` for AFTER, the optimizer step (None: ``_new``, the first); ``slot`` for
    STATE, which state (``m``, ``v`` or ``b``)."""

    kind: Kind
    name: str
    wrt: str | None = None
    step: int | None = None
    slot: str | None = None
    held: tuple[str, ...] = ()
    sample: int | None = None

    def __post_init__(self):
        # A plain word is accepted and stored as its Kind, so that equal keys hash alike.
        if type(self.kind) is not Kind:
            object.__setattr__(self, "kind", Kind(self.kind))

    def __str__(self) -> str:
        if self.kind == Kind.SAMPLE:
            inner = (f"d{self.name}/d{self.wrt}" if self.wrt is not None else self.name)
            return inner + (f"|{','.join(self.held)}" if self.held else "") + f"@s{self.sample}"
        if self.kind == Kind.PARTIAL:
            return f"d{self.name}/d{self.wrt}|{','.join(self.held)}"
        if self.kind == Kind.DERIVATIVE:
            return f"d{self.name}/d{self.wrt}"
        if self.kind == Kind.STATE:
            return f"{self.slot}_{self.name}"
        if self.kind == Kind.AFTER and self.step is not None:
            return f"{self.name}@{self.step}"
        if self.kind == Kind.AFTER:
            base, bracket, rest = self.name.partition("[")
            return f"{base}_new" + (bracket + rest if bracket else "")
        return self.name


def parse_key(text: str, names) -> Key:
    """Read a claim key against the names a problem has (scalar names and array names).

    ``names`` decides the ambiguous cases: a node literally called ``x_new`` is a value.
    """
    names = set(names)
    m = _AT_SAMPLE.match(text)
    if m:
        s = int(m.group(2))
        if s < 1 or s > MAX_STEP:
            raise ClaimError(f"'{text.strip()}': samples are counted from 1")
        inner = parse_key(m.group(1), names)
        if inner.kind not in (Kind.VALUE, Kind.DERIVATIVE, Kind.PARTIAL):
            raise ClaimError(f"'{text.strip()}': a sample has values and derivatives"
                             " (y@s1, dE/dy@s1), not updates or optimizer state")
        return Key(Kind.SAMPLE, inner.name, inner.wrt, held=inner.held, sample=s)
    m = _HELD.match(text)
    if m:
        inner = parse_key(m.group(1), names)
        if inner.kind != Kind.DERIVATIVE:
            raise ClaimError(f"'{text.strip()}': only a derivative holds names fixed"
                             " (dh3/dw|h2)")
        held = tuple(sorted({h.strip() for h in m.group(2).split(",")}))
        for h in held:
            if h not in names:
                raise ClaimError(f"'{h}' names nothing in the problem{did_you_mean(h, names)}")
            if h in (inner.name, inner.wrt):
                raise ClaimError(f"'{text.strip()}': {h} cannot be held fixed in a"
                                 " derivative of its own")
        return Key(Kind.PARTIAL, inner.name, inner.wrt, held=held)
    m = _DERIVATIVE.match(text)
    if m and not _PLAIN.match(text):
        top, bottom = m.group(1), m.group(2)
        for n in (top, bottom):
            if n not in names:
                raise ClaimError(f"'{n}' names nothing in the problem{did_you_mean(n, names)}")
        return Key(Kind.DERIVATIVE, top, bottom)
    m = _AT_STEP.match(text)
    if m:
        name, t = m.group(1), int(m.group(2))
        if name not in names:
            raise ClaimError(f"'{name}' names nothing in the problem{did_you_mean(name, names)}")
        if t > MAX_STEP:
            raise ClaimError(f"'{text.strip()}': no problem works out {t} steps")
        return Key(Kind.AFTER, name, step=t)
    m = _PLAIN.match(text)
    if not m:
        raise ClaimError(f"'{text.strip()}' is not a claim key (examples: z_a, dE/dw1, w1_new, "
                         "w1@2, m_w1, W1[0][1], dL/dW1[0][1])")
    name = m.group(1)
    if name in names:
        return Key(Kind.VALUE, name)
    new = _NEW_SUFFIX.match(name) or _NEW_AFTER_INDEX.match(name)
    if new:
        base = new.group(1) + (new.group(2) if new.re is _NEW_SUFFIX else "")
        if base in names:
            return Key(Kind.AFTER, base)
    state = _STATE.match(name)
    if state and state.group(2) in names:
        return Key(Kind.STATE, state.group(2), slot=state.group(1))
    raise ClaimError(f"'{name}' names nothing in the problem{did_you_mean(name, names)}")


# ---------------------------------------------------------------------- quantities
# What a key names as a part of a computation: read by verify's recomputation and by the
# practice page's model alike, so it is core (keys), not verify's.


class Part(StrEnum):
    """The kinds of quantity a recomputation is made of."""

    VALUE = "value"  # a forward value
    AFTER = "after"  # a value after the update
    DERIV = "deriv"  # d top / d bottom, summed over paths
    LOCAL = "local"  # the local derivative on one edge
    STATE = "state"  # an optimizer's state after the first step (other: m, v or b)
    STEP = "step"  # a value after step k >= 2 of the optimizer (other: k)
    #: a quantity not recomputed from a sheet's numbers (name: its claim key): one
    #: sample's value or derivative, a derivative with names held fixed
    EXACT = "exact"


class Quantity(NamedTuple):
    """A quantity on the page: ``(VALUE, name)``, ``(AFTER, name)``, ``(DERIV, top,
    bottom)`` or ``(LOCAL, upper, lower)``."""

    part: Part
    name: str
    other: str | None = None


def quantity(key: Key) -> Quantity:
    """The quantity a claim key names."""
    if key.kind in (Kind.SAMPLE, Kind.PARTIAL):
        return Quantity(Part.EXACT, str(key))
    if key.kind == Kind.DERIVATIVE:
        return Quantity(Part.DERIV, key.name, key.wrt)
    if key.kind == Kind.STATE:
        return Quantity(Part.STATE, key.name, key.slot)
    if key.kind == Kind.AFTER and key.step not in (None, 1):
        return Quantity(Part.STEP, key.name, key.step)
    return Quantity(Part.AFTER if key.kind == Kind.AFTER else Part.VALUE, key.name)
