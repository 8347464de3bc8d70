"""Drawing an exam: variants, their questions, the choices, and the redraw loop.

Each variant ``i`` of an exam with seed ``S`` of family ``F`` is drawn from its own
generator seeded with ``F/S/i/attempt``: the variant depends on nothing else, so the
same command gives a byte-identical key, and a longer exam starts with the variants of
a shorter one. A draw that breaks a well-posedness rule (:mod:`.wellposed`) is counted
under that rule and redrawn with the next attempt number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import sympy as sp

from .. import load_dict
from ..errors import SymbackpropError
from ..evaluate import Floating, forward
from ..limits import capped_jobs
from .distractors import distractors
from .draw import Draw
from .families import family as get_family
from .model import Ask, Exam, Question, Variant, rounded
from .wellposed import LARGEST, RULES, Rejected, check_gates, check_unchanged

MAX_VARIANTS = 10_000
SCREEN_DIGITS = 15
MAX_ATTEMPTS = 2_000
CHOICES = 4


def make_exam(family: str, variants: int, seed: int, jobs: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> Exam:
    """``variants`` well-posed, pairwise different variants of ``family``.

    Variants are drawn in parallel over ``jobs`` processes (default: the machine's
    cores) when there are many; the result does not depend on ``jobs``.
    """
    fam = get_family(family)
    check_counts(variants, seed)
    rules: Counter = Counter({r: 0 for r in RULES})
    made: list[Variant] = []
    seen: set[str] = set()
    for index, (variant, attempt, fired) in enumerate(_draw_all(fam, seed, variants, jobs)):
        rules.update(fired)
        while variant.signature() in seen:  # rare: redraw here, from the next attempt on
            rules["duplicate"] += 1
            variant, attempt = draw_variant(fam, seed, index, attempt + 1, rules)
        seen.add(variant.signature())
        made.append(variant)
        if progress:
            progress(index + 1, variants)
    return Exam(fam.NAME, seed, made, dict(rules), title=fam.TITLE)


#: Below this many variants, starting worker processes costs more than it saves.
PARALLEL_FROM = 40


def _draw_all(fam, seed: int, variants: int, jobs: int | None):
    """(variant, attempt, rules fired) for each index, in index order."""
    jobs = capped_jobs(jobs)  # never more processes than cores, whatever is asked
    if jobs == 1 or variants < PARALLEL_FROM:
        for index in range(variants):
            yield _draw_one((fam.NAME, seed, index))
        return
    chunk = max(1, min(25, variants // (4 * jobs)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_draw_one, [(fam.NAME, seed, i) for i in range(variants)],
                            chunksize=chunk)


def _draw_one(task) -> tuple[Variant, int, Counter]:
    name, seed, index = task
    fired: Counter = Counter()
    variant, attempt = draw_variant(get_family(name), seed, index, 0, fired)
    return variant, attempt, fired


def check_counts(variants, seed) -> None:
    if isinstance(variants, bool) or not isinstance(variants, int) or not 1 <= variants <= MAX_VARIANTS:
        raise SymbackpropError(f"--variants: must be a whole number from 1 to {MAX_VARIANTS}, got {variants}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise SymbackpropError(f"--seed: must be a whole number from 0 to 2^63 - 1, got {seed}")


def variant_id(family: str, seed: int, index: int) -> str:
    return f"{family}-{seed}-{index + 1:03d}"


def draw_variant(fam, seed: int, index: int, attempt: int, rules: Counter) -> tuple[Variant, int]:
    """The first well-posed draw from ``attempt`` on, and the attempt that gave it."""
    for _ in range(MAX_ATTEMPTS):
        draw = Draw(fam.NAME, seed, index, attempt)
        try:
            return build_variant(fam, seed, index, draw), attempt
        except Rejected as rejected:
            rules[rejected.rule] += 1
            attempt += 1
    raise RuntimeError(f"{fam.NAME}: no well-posed variant in {MAX_ATTEMPTS} draws")  # a family bug


def build_variant(fam, seed: int, index: int, draw: Draw) -> Variant:
    """One variant from one draw; raises :class:`Rejected` when it is not well-posed."""
    table = fam.draw(draw)
    vid = variant_id(fam.NAME, seed, index)
    problem = load_dict(table, name=vid)
    # Screen with a quick low-precision forward pass, so that most rejected draws
    # never cost a full solve; then check the solve's own values, before and after.
    quick = forward(problem.graph, Floating(SCREEN_DIGITS))
    check_gates(problem.graph, quick)
    if hasattr(fam, "screen"):
        fam.screen(problem, quick)
    solution = problem.solve()
    check_gates(problem.graph, *filter(None, (solution.values, solution.values_after)))
    solved: dict = {}  # the problem as students misread it, solved once per variant
    questions = [make_question(ask, solution, table, fam, draw, solved)
                 for ask in fam.asks(draw, problem, solution)]
    return Variant(vid, fam.NAME, problem.graph_form(), problem, solution, questions,
                   context=fam.context(table, problem, solution) if hasattr(fam, "context") else {})


def make_question(ask: Ask, solution, table: dict, fam, draw: Draw, solved: dict) -> Question:
    answer = solution.lookup(ask.key)
    if isinstance(answer, list):
        raise TypeError(f"{fam.NAME}: {ask.key} is an array; ask for one element")  # a family bug
    shown = rounded(answer, ask.decimals)
    if abs(shown) > LARGEST:
        raise Rejected("size", f"{ask.key} = {float(answer):.4g}")
    if shown == 0 and not (ask.zero_ok and answer == 0):
        raise Rejected("zero", f"{ask.key} = {float(answer):.3g} rounds to 0")
    check_unchanged(ask.key, answer, solution, ask.decimals)
    question = Question(ask, answer)
    if not ask.choice:
        return question
    unit = 10.0 ** -ask.decimals
    picked: list[tuple[float, str | None]] = [(shown, None)]
    rewrites = getattr(fam, "REWRITES", {})
    for value, note in distractors(solution, ask.key, ask.mistakes, rewrites, table, solved):
        if not (isinstance(value, sp.Expr) and value.is_finite or isinstance(value, int | float)):
            continue
        r = rounded(value, ask.decimals)
        # Distinct at the asked precision, and never within the answer's tolerance.
        if abs(r) > LARGEST or any(abs(r - p) < 1.5 * unit for p, _ in picked):
            continue
        picked.append((r, note))
        if len(picked) == CHOICES:
            break
    if len(picked) < CHOICES:
        raise Rejected("collision", f"{ask.key}: only {len(picked)} distinct choices")
    order = draw.shuffled(range(CHOICES))
    question.choices = [picked[i][0] for i in order]
    question.notes = [picked[i][1] for i in order]
    question.correct = order.index(0)
    return question
