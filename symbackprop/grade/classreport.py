"""The class report: what a teacher reads after grading, as Markdown and PDF.

It holds the score distribution, each question's success rate, the most common
mistakes with their counts and share of the class ("30 students (10 %): the sign is
flipped"), where carried errors start (the answer a chain of carried marks goes back
to), the answers that look copied (the same wrong number on several papers, or another
variant's right answer), and every row that could not be graded, with its reason.

This module computes the numbers; ``templates/grade/report.{md,tex}.j2`` lay them out
and :mod:`.figures` draws the two charts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from ..status import ACCEPTED, Status
from .gradebook import points_text, question_count
from .lms import WHY, difference_counts, differences
from .marking import Gradebook, Mark

TOP_MISTAKES = 12
SUSPICIOUS_FROM = 3  # papers with the same wrong number
AS_IF = "; as if one "  # how verify's notes introduce the mistake's sentence
_NUMBER = r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])"
#: A number of the variant left in a sentence; not one of a formula's (1/(1 − p), 1/√d).
_VARIANT_NUMBER = rf"(?<![(/√]){_NUMBER}(?!/)"


def mistake_of(mark: Mark) -> tuple[str, str] | None:
    """The mistake behind a ``wrong`` mark as (catalogue id, what the student did),
    the sentence without its numbers and formula, so that the same slip on different
    variants reads the same ("left out the factor dy/dz_c"). A multiple-choice answer
    the judge cannot explain takes the mistake behind the distractor chosen. None when
    neither names a slip."""
    verdict = mark.verdict
    if verdict is not None and verdict.mistake:
        return verdict.mistake, _sentence(verdict.note)
    q = mark.question
    if q is not None and q.choices is not None and q.mistakes and mark.value is not None:
        from ..answerkey import shown

        for choice, mistake in zip(q.choices, q.mistakes, strict=True):
            if mistake and shown(choice, q.decimals) == format(mark.value, "f"):
                return mistake, ""
    return None


@lru_cache(maxsize=4096)  # a class's notes repeat: one per variant, question and slip
def _sentence(note: str) -> str:
    """What the student did, from a wrong mark's note, without numbers or formula."""
    sentence = note.split(AS_IF, 1)[1] if AS_IF in note else ""
    sentence = sentence.split(": ", 1)[0]
    sentence = re.sub(rf"\s*\(\s*{_NUMBER}\s*\)", "", sentence)
    sentence = re.sub(rf"\s*=\s*{_NUMBER}", "", sentence)
    return re.sub(_VARIANT_NUMBER, "…", sentence).strip()


def percent(part: int, whole: int) -> str:
    """A share as a whole percentage, as the report prints it (0 % only when none)."""
    if not whole or not part:
        return "0 %"
    share = round(100 * part / whole)
    return f"{share} %" if share else "< 1 %"


@dataclass
class Question:
    """One question slot of the paper across the class."""

    slot: int
    asks: list[str]
    counts: dict[str, int]
    total: int

    @property
    def success(self) -> float:
        """The share of the class with full marks (correct or rounding)."""
        return sum(self.counts[s] for s in ACCEPTED) / self.total if self.total else 0


@dataclass
class Finding:
    """A mistake, a carried-error origin or a suspicious number, with who made it."""

    text: str
    students: list[str] = field(default_factory=list)
    questions: Counter = field(default_factory=Counter)
    detail: str = ""

    @property
    def count(self) -> int:
        return len(self.students)

    def slots(self) -> str:
        return ", ".join(f"q{s}" for s in sorted(self.questions))


def question_rates(book: Gradebook) -> list[Question]:
    n = question_count(book)
    counts = {slot: dict.fromkeys(Status, 0) for slot in range(1, n + 1)}
    asks: dict[int, dict[str, None]] = {slot: {} for slot in counts}
    for s in book.students:
        for m in s.slots:
            counts[m.slot][m.status] += 1
            if m.ask:
                asks[m.slot][m.ask] = None
    return [Question(slot, list(asks[slot]), counts[slot], sum(counts[slot].values()))
            for slot in counts]


def common_mistakes(book: Gradebook, limit: int = TOP_MISTAKES) -> list[Finding]:
    """The mistakes of the class's wrong answers by catalogue id, most common first.

    A mistake that every student made the same way reads as what they did ("left out
    the factor dy/dz_c"); one made in several ways (the update added to w5 by some, to
    w6 by others) reads as the catalogue's title with the commonest way as example."""
    from ..mistakes import MISTAKES

    groups: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for s in book.students:
        for m in s.slots:
            if m.status == Status.WRONG:
                found = mistake_of(m)
                mistake, sentence = found if found else ("", "")
                groups[mistake].append((s.student, sentence, m.slot))
    out = []
    for mistake, made in groups.items():
        sentences = Counter(sentence for _, sentence, _ in made)
        common = sentences.most_common(1)[0][0]
        if not mistake:
            text, detail = "", "a wrong number no known mistake explains"
        elif len(sentences) == 1 and common:
            text, detail = common, ""
        else:
            title = MISTAKES[mistake].title if mistake in MISTAKES else mistake
            text, detail = "", title + (f", such as: {common}" if common else "")
        f = Finding(text, detail=detail)
        f.students = list(dict.fromkeys(student for student, _, _ in made))
        for _, _, slot in made:
            f.questions[slot] += 1
        out.append(f)
    return sorted(out, key=lambda f: (-f.count, f.text or f.detail))[:limit]


def carried_origins(book: Gradebook) -> list[Finding]:
    """For each quantity that carried marks follow from, who carried it and into which
    questions: where the chains of carried errors start."""
    found: dict[str, Finding] = {}
    who: dict[str, dict[str, None]] = defaultdict(dict)
    for s in book.students:
        for m in s.slots:
            if m.status != Status.CARRIED or m.verdict is None:
                continue
            for source in m.verdict.sources:
                name = str(source)
                found.setdefault(name, Finding(name)).questions[m.slot] += 1
                who[name][s.student] = None
    for name, f in found.items():
        f.students = list(who[name])
    return sorted(found.values(), key=lambda f: (-f.count, f.text))


def suspicious(book: Gradebook, minimum: int = SUSPICIOUS_FROM) -> list[Finding]:
    """Wrong numbers that several papers share although their variants differ, and wrong
    numbers that are the right answer of another variant. A shared wrong number that a
    known mistake explains on the student's own variant (the judge names it, or it is the
    value of a distractor's mistake) is no evidence of copying: it is counted among the
    common mistakes instead. (Another variant's right answer stays suspicious even so:
    that match is the more specific one.)"""
    from ..answerkey import shown

    answers: dict[tuple[int, str], set[str]] = defaultdict(set)  # the right answers by slot
    right: dict[tuple, str] = {}  # each question's answer as shown, worked out once
    for s in book.students:
        for m in s.slots:
            if m.question is not None:
                q = (m.question.answer, m.question.decimals)
                if q not in right:
                    right[q] = shown(*q)
                answers[m.slot, right[q]].add(m.variant)
    same: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    out: list[Finding] = []
    for s in book.students:
        for m in s.slots:
            if m.status not in (Status.WRONG, Status.CARRIED) or m.value is None:
                continue
            value = format(m.value, "f")
            if not (m.status == Status.WRONG and mistake_of(m) is not None):
                same[m.slot, value].append((s.student, m.variant))
            others = answers.get((m.slot, value), set()) - {m.variant}
            if others and m.status == Status.WRONG:
                out.append(Finding(f"q{m.slot} = {value}", [s.student], Counter({m.slot: 1}),
                                   "the right answer of variant " + ", ".join(sorted(others))))
    for (slot, value), who in same.items():
        variants = {v for _, v in who}
        if len(who) >= minimum and len(variants) > 1:
            out.append(Finding(f"q{slot} = {value}", [st for st, _ in who],
                               Counter({slot: len(who)}),
                               f"the same wrong number on {len(who)} papers of "
                               f"{len(variants)} variants"))
    return sorted(out, key=lambda f: (-f.count, f.text))


def invalid_rows(book: Gradebook) -> list[tuple[str, str, str]]:
    """(where, student, reason) for every answer graded invalid."""
    rows = []
    for s in book.students:
        for m in s.marks:
            if m.status == Status.INVALID:
                rows.append((m.where or book.roster.source, s.student, m.note))
    return rows


def lms_data(book: Gradebook) -> dict:
    """The answers Moodle or Canvas would score otherwise, with the count per cause."""
    found = differences(book)
    return {"answers": found, "why": WHY,
            "counts": [(c, n["moodle"], n["canvas"]) for c, n in difference_counts(found).items()]}


def report_data(book: Gradebook) -> dict:
    """Everything the report shows, as plain values (the templates format them)."""
    n = len(book.students)
    summary = book.summary()
    return {
        "family": book.key.family,
        "source": book.roster.source,
        "students": n,
        "max_points": points_text(book.max_points),
        "mean": summary["mean"],
        "median": points_text(Decimal(str(summary["median"]))),
        "statuses": summary["statuses"],
        "carried_share": points_text(book.carried),
        "questions": question_rates(book),
        "mistakes": common_mistakes(book),
        "carried": carried_origins(book),
        "suspicious": suspicious(book),
        "invalid": invalid_rows(book),
        "lms": lms_data(book),
        "notes": list(book.roster.notes),
        "points": [s.points for s in book.students],
    }
