"""The judge's rules as data: its constants and the words of its notes, written once.

``verify`` (:mod:`symbackprop.verify.judge` and :mod:`~symbackprop.verify.diagnose`)
writes every note with :func:`note`; the practice page receives the same table
(:func:`page_rules`, in the page's model JSON) and fills in the same templates, so the
page and ``verify`` say the same words. The statuses are :mod:`symbackprop.status`'s.

A template's fields are Python's ``str.format`` fields (``{expected}``); the page's
filler replaces the same ``{name}`` markers and nothing else.
"""

from __future__ import annotations

from decimal import Decimal

from .defaults import DEFAULT_BAND
from .status import ACCEPTED, JUDGED, Status

#: (DEFAULT_BAND, units of the last digit within which rounding explains a number, is
#: :mod:`symbackprop.defaults`', which the command line's help reads.)
#: The given numbers a note names before it says "N more".
MAX_SOURCES = 4
#: Recomputations spent looking for an early rounding, per sheet.
MAX_EARLY_TRIES = 400
#: An intermediate rounded early keeps at least this many decimals: one decimal moves a
#: value so far (0.351 to 0.4) that it would explain numbers by coincidence.
MIN_EARLY_DECIMALS = 2
#: An early rounding is looked for this many decimals below the claim's at most.
EARLY_DECIMALS_BELOW = 3
#: "Another quantity's value" needs a number written with 2 significant digits or more.
MIN_DIGITS_FOR_COINCIDENCE = 2
#: How a number may be written (a regular expression that Python and JavaScript read
#: alike): digits, a point, a power of ten; a decimal comma where it cannot be a
#: thousands separator; these minus signs besides "-". More than MAX_DIGITS decimals or
#: digits is refused.
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
DECIMAL_COMMA = r"([+-]?)(\d+),(\d+)([eE][+-]?\d+)?"
MINUS_SIGNS = "\u2212\u2013\u2012"
MAX_DIGITS = 60
#: A zero written with a power of ten (``0e9``) has no significant digit, so it claims
#: 0 itself: it is judged as if written with this many decimals.
ZERO_DECIMALS = 30
#: A note quotes an expected value with 2 decimals more than the claim, at least this many.
MIN_NOTE_PLACES = 4

#: The words of the notes. ``how`` is "rounded" or "truncated".
NOTES = {
    "truncated": "truncated; rounded it is {rounded}",
    "band": "{off} units of the last digit off (band {band})",
    "early": "follows from {name} rounded early to {cut} ({early} decimals; it is {exact})",
    "follows": "follows from the given {sources}",
    "source": "{key} = {given}",
    "source_early": "{key} = {given} ({how} early, to {decimals} {decimal_word}; it is {exact})",
    "more": "{count} more",
    "cut": "intermediates {how} to {places} decimals",
    "cut_others": "other intermediates {how} to {places} decimals",
    "from_exact": "follows from the exact values",
    "carried": "expected {expected}; follows from the given {sources} (error carried forward)",
    "bypassed": ", though not from the given {skipped}",
    "expected": "expected {expected}",
    "mistake": "{expected}; as if one {sentence}",
    "own_numbers": "{expected}; the given {sources} would give {own}, not {given} either",
}
#: The words of an exam question's verdict (``grade``, ``verify`` on an exam, an exam's
#: practice page): the acceptance rule's clause, which every asked answer's note starts
#: with, and how a number with fewer decimals than asked was read.
EXAM_NOTES = {
    "within": "within {tolerance} of {stated}, the answer as stated",
    "outside": "outside {tolerance} of {stated}, the answer as stated",
    "padded": "{decimals} decimals asked: read as {read}",
}
#: The joints between a note's parts and between the numbers it lists.
PART_JOINT = "; "
LIST_JOINT = ", "
#: "1 decimal", "2 decimals".
DECIMAL_WORDS = ("decimal", "decimals")
#: How a number was cut: the words of :func:`symbackprop.verify.tolerance.matches`.
ROUNDED, TRUNCATED = "rounded", "truncated"
#: A number inside a mistake's sentence that the page prints at the claim's precision:
#: the exact value between these marks (:meth:`symbackprop.mistakes.Situation.num`).
NUMBER_SLOT = ("\u27e8", "\u27e9")


def note(which: str, /, **fields) -> str:
    """The note ``which`` of :data:`NOTES` with its fields filled in."""
    return NOTES[which].format(**fields)


def exam_verdict(status: Status, judged_note: str, inside: bool, stated: str,
                 tolerance: str) -> tuple[Status, str]:
    """The status and note of an exam answer, from the judge's verdict (``status``,
    ``judged_note``) and the acceptance rule (``inside``: whether the number written is
    within ``tolerance``, the stated tolerance as printed, ``±0.0002``, of ``stated``, the
    answer as the question states it; docs/exams.md, "The acceptance rule").

    The rule decides full points: inside, the answer is ``correct`` or ``rounding``
    (``rounding`` where the judge did not accept it); outside, it never is (a number the
    judge accepted, such as one that follows from intermediates rounded early, becomes
    ``carried``). Beyond the band the judge's finer judgement stays: ``carried`` and the
    mistake named. The note starts with the rule's clause; the judge's note follows,
    except where the rule overrules a ``wrong`` or ``carried`` verdict inside the band.
    The practice page applies the same steps (``symbackprop/render/js/judge.js``)."""
    accepted = status in ACCEPTED
    clause = EXAM_NOTES["within" if inside else "outside"].format(tolerance=tolerance,
                                                                  stated=stated)
    if inside and not accepted:
        return Status.ROUNDING, clause
    if not inside and accepted:
        status = Status.CARRIED
    return status, PART_JOINT.join(filter(None, [clause, judged_note]))


def decimal_word(count: int) -> str:
    return DECIMAL_WORDS[0] if count == 1 else DECIMAL_WORDS[1]


def band_text(band: Decimal) -> str:
    """``2 units``, ``1 unit``, ``0.5 units``."""
    n = format(band.normalize(), "f")
    return f"{n} unit" + ("" if band == 1 else "s")


def note_places(decimals: int) -> int:
    """The decimals a note quotes a value with, for a claim of ``decimals``."""
    return max(decimals + 2, MIN_NOTE_PLACES)


def page_rules() -> dict:
    """Everything above as JSON, for the practice page's judge."""
    return {
        "band": float(DEFAULT_BAND), "bandText": band_text(DEFAULT_BAND),
        "maxSources": MAX_SOURCES, "maxEarlyTries": MAX_EARLY_TRIES,
        "minEarlyDecimals": MIN_EARLY_DECIMALS, "earlyDecimalsBelow": EARLY_DECIMALS_BELOW,
        "minDigitsForCoincidence": MIN_DIGITS_FOR_COINCIDENCE, "zeroDecimals": ZERO_DECIMALS,
        "minNotePlaces": MIN_NOTE_PLACES, "notes": NOTES, "examNotes": EXAM_NOTES, "partJoint": PART_JOINT,
        "listJoint": LIST_JOINT, "decimalWords": list(DECIMAL_WORDS),
        "number": NUMBER, "decimalComma": DECIMAL_COMMA, "minusSigns": f"[{MINUS_SIGNS}]",
        "maxDigits": MAX_DIGITS, "rounded": ROUNDED, "truncated": TRUNCATED, "slot": list(NUMBER_SLOT),
        "statuses": [str(s) for s in JUDGED], "accepted": [str(s) for s in ACCEPTED],
    }
