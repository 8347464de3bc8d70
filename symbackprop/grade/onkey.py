"""``symbackprop verify EXAM CLAIMS --variant ID``: one sheet checked against a
variant of an exam's answer key, under the exam's acceptance rule.

The claims are judged by ``verify``'s judge on the variant's problem, as a claims file
against any problem; then each claim the variant's questions ask is read and marked as
``grade`` marks it (:func:`~.marking.read_answer`, :func:`~.marking.by_the_rule`): full
points (``correct`` or ``rounding``) exactly when the number is within the stated
tolerance of the answer as the question states it, the judge's finer judgement
(``carried``, the mistake named) beyond that. Claims on quantities the exam does not ask
keep ``verify``'s verdict. So ``verify`` on an exam, ``grade`` and the exam's practice page
give the same verdict on the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from ..defaults import DEFAULT_BAND
from ..errors import ClaimError, SymbackpropError, Where, did_you_mean
from ..judging import PART_JOINT
from ..limits import check_worked_size
from ..status import ACCEPTED
from ..verify.claims import Claim, claims_from_mapping, read_claims
from ..verify.judge import judge
from ..verify.report import Report
from .key import ExamKey, KeyVariant, read_key
from .marking import by_the_rule, read_answer


def key_variant(key: ExamKey, variant: str | None) -> KeyVariant:
    """The variant ``variant`` names; the key's only one when it is None."""
    ids = list(key.variants)
    if variant is None:
        if len(ids) == 1:
            return key.variants[ids[0]]
        shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        raise SymbackpropError(f"the key has {len(ids)} variants ({shown}): name one with "
                               "--variant ID", Where(file=str(key.path)))
    if variant not in key.variants:
        raise SymbackpropError(f"--variant: no variant '{variant}' in the key"
                               f"{did_you_mean(variant, ids)}", Where(file=str(key.path)))
    return key.variants[variant]


def verify_on_key(exam: str | Path | ExamKey, claims, variant: str | None = None, *,
                  band=DEFAULT_BAND, strict: bool = False) -> Report:
    """Check ``claims`` (a claims file, ``-``, or a mapping ``key -> number``) against the
    variant ``variant`` of the exam in ``exam`` (its folder or key.json, or the key read
    with :func:`~.key.read_key`, whose variants are solved once), by the exam's
    acceptance rule for the quantities it asks (module docstring)."""
    band = Decimal(str(band))
    if not band.is_finite() or band < 0:
        raise SymbackpropError("the rounding band must be a number of units >= 0")
    chosen = key_variant(exam if isinstance(exam, ExamKey) else read_key(exam), variant)
    solution = chosen.solution
    check_worked_size(chosen.problem)
    if isinstance(claims, Mapping):
        parsed, source = claims_from_mapping(claims, solution), None
    else:
        parsed = read_claims(claims, solution)
        source = "<stdin>" if str(claims) == "-" else str(Path(claims))
    asked = chosen.question_keys()
    read, sheet = {}, []
    for claim in parsed:
        index = asked.get(claim.key)
        if index is not None:  # read as grade reads an answer: fewer decimals padded
            try:
                number, read[claim.key] = read_answer(claim.given.text, chosen.questions[index])
            except ClaimError as exc:  # pragma: no cover - the claims file read it already
                raise SymbackpropError(exc.message, Where(file=source, field=str(claim.key))) from None
            claim = Claim(claim.key, number, claim.line)
        sheet.append(claim)
    verdicts = judge(solution, sheet, band)
    for verdict in verdicts:
        index = asked.get(verdict.claim.key)
        if index is None:
            continue
        was = verdict.status in ACCEPTED
        verdict.status, note = by_the_rule(chosen.questions[index], verdict.claim.given.value,
                                           verdict)
        if verdict.status in ACCEPTED and not was:
            verdict.mistake = None  # the rule accepts it: no slip to name
        verdict.note = PART_JOINT.join(filter(None, [read[verdict.claim.key], note]))
    return Report(chosen.problem, solution, verdicts, band, strict, source)
