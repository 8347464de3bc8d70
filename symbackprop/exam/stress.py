"""The stress test of R/exams (``stresstest_exercise``): draw an exercise (a built-in
family or a teacher's file) over many seeds,
count how often each well-posedness rule fired, and re-check every variant drawn.

The re-check is written apart from the generator's loop: it reads the drawn variant
as a student would get it (its numbers, its rounded choices), so a rule the generator
forgot to apply shows up here as a degenerate variant. The gates' kinks and flat tails
it reads from the op table, as the generator does (:func:`.wellposed.gate_problems`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..answerkey import rounded
from ..answerkey import shown as shown_at
from ..keys import Kind, parse_key
from ..workers import map_in_order, worker_pool
from .generate import make_exam
from .precision import too_few_digits
from .wellposed import RULES, gate_problems


@dataclass
class StressReport:
    family: str
    seeds: int
    rules: Counter = field(default_factory=Counter)
    degenerate: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        fired = ", ".join(f"{r} {self.rules[r]}" for r in RULES)
        return (f"{self.family}: {self.seeds} seeds, redraws by rule: {fired}; "
                f"degenerate variants: {len(self.degenerate)}")


def problems_of(variant) -> list[str]:
    """What is wrong with a drawn variant, in words (empty when it is well-posed)."""
    found = []
    sol = variant.solution
    for values in filter(None, (sol.values, sol.values_after)):
        found += [f"{rule}: {detail}" for rule, detail in gate_problems(sol.graph, values)]
    for q in variant.questions:
        d = q.decimals
        if rounded(q.answer, d) == 0 and not (q.asked.zero_ok and q.answer == 0):
            found.append(f"{q.ask}: rounds to 0")
        asked = parse_key(q.ask, sol.key_names)
        if asked.kind == Kind.AFTER and rounded(q.answer, d) == rounded(sol.values[asked.name], d):
            found.append(f"{q.ask}: unchanged by the update")
        short = too_few_digits(q.answer, d, q.significant)
        if short is not None:
            found.append(f"{q.ask}: {short}")
        wrong = [(v, n) for v, n in q.mistaken] if q.choices is None else [
            (c, n) for i, (c, n) in enumerate(zip(q.choices, q.mistakes, strict=True)) if i != q.correct]
        for value, note in wrong:  # every distractor is a mistake students make
            if not note:
                found.append(f"{q.ask}: the distractor {rounded(value, d)} names no mistake")
        if q.choices is None:
            continue
        shown = [rounded(c, d) for c in q.choices]
        if len(set(shown)) != len(shown) or len(shown) < 4:
            found.append(f"{q.ask}: choices collide {shown}")
        right = [i for i, c in enumerate(shown) if abs(c - float(q.answer)) <= q.tolerance]
        if right != [q.correct]:
            found.append(f"{q.ask}: right choices {right}, key says {q.correct}")
    return found


def distractors_shown(variant) -> list[tuple[str, set[str]]]:
    """Per question of a variant, its answer and its distractors as printed at the asked
    precision."""
    out = []
    for q in variant.questions:
        values = [v for v, _ in q.mistaken] if q.choices is None else [
            c for i, c in enumerate(q.choices) if i != q.correct]
        out.append((q.shown, {shown_at(v, q.decimals) for v in values}))
    return out


#: A distractor printed alike in this share of the variants (of at least CONSTANT_FROM),
#: and never the answer, is constant: students learn to strike it.
CONSTANT_SHARE = 0.9
CONSTANT_FROM = 5
#: A slot whose answers take fewer values than this across the variants asks a pattern
#: (hinge's dL/ds0 is -2 or -1): its distractors are the pattern's other values.
FEW_ANSWERS = 3


def constant_distractors(shown: list[list[tuple[str, set[str]]]]) -> list[str]:
    """Distractors that do not change with the variant: for each question slot, a value
    printed among the distractors of nearly every variant and never as the answer
    (``shown``: per variant, what :func:`distractors_shown` gives). Where the answers
    themselves take fewer than :data:`FEW_ANSWERS` values (a hinge gradient is −2 or −1)
    the distractors are the pattern's other values and are not reported."""
    if len(shown) < CONSTANT_FROM:
        return []
    slots: dict[int, Counter] = {}
    answers: dict[int, set] = {}
    for per_variant in shown:
        for i, (answer, values) in enumerate(per_variant):
            slots.setdefault(i, Counter()).update(values)
            answers.setdefault(i, set()).add(answer)
    return [f"question {i + 1}: the distractor {value} on {n} of {len(shown)} variants"
            for i, counts in slots.items() for value, n in counts.items()
            if n >= CONSTANT_SHARE * len(shown) and value not in answers[i]
            and len(answers[i]) >= FEW_ANSWERS]


def _one(task):
    family, seed = task
    exam = make_exam(family, 1, seed, jobs=1)
    return (Counter(exam.rules), [f"{v.id}: {p}" for v in exam.variants for p in problems_of(v)],
            [distractors_shown(v) for v in exam.variants])


def stress(family: str, seeds: int = 500, jobs: int | None = None) -> StressReport:
    """Draw the first variant of ``seeds`` exams of ``family``, re-check each, and judge
    the distractors across them (none printed alike in nearly every variant)."""
    report = StressReport(family, seeds)
    tasks = [(family, s) for s in range(seeds)]
    shown: list = []
    with worker_pool(jobs) as pool:
        for fired, bad, per_variant in map_in_order(pool, _one, tasks, 25):
            report.rules.update(fired)
            report.degenerate += bad
            shown += per_variant
    report.degenerate += [f"{family}: {c}" for c in constant_distractors(shown)]
    return report
