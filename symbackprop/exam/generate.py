"""Drawing an exam: variants of each exercise, their questions, the choices, the redraws.

Variant ``i`` of exercise ``E`` in an exam with seed ``S`` is drawn from its own
generator seeded with ``E/S/i/attempt``: it depends on nothing else, so the same command
gives a byte-identical key, a longer exam starts with the variants of a shorter one, and
an exercise's variants do not change when other exercises join the exam. Student ``i``'s
paper holds variant ``i`` of every exercise. A draw that breaks a well-posedness rule
(:mod:`.wellposed`) or a constraint of the file is counted under that rule and redrawn
with the next attempt number; an exercise that cannot be drawn well-posed within
:data:`MAX_ATTEMPTS` draws is the teacher's to fix, and the error names the rule that
kept failing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import sympy as sp

from ..answerkey import KeyQuestion, rounded
from ..errors import SymbackpropError
from ..evaluate import Floating, forward
from ..limits import capped_jobs
from ..loader import load_dict
from ..workers import map_in_order, worker_pool
from .distractors import distractors
from .draw import Draw
from .exercise import ALL, DEFAULT_MISTAKES, Exercise, read_exercise
from .model import Ask, Exam, Variant
from .precision import BAND, asked_decimals, tolerance, too_few_digits
from .wellposed import LARGEST, RULES, Rejected, check_gates, check_unchanged

MAX_VARIANTS = 10_000
MAX_EXERCISES = 50
MAX_TITLE = 200
SCREEN_DIGITS = 15
MAX_ATTEMPTS = 1_000
CHOICES = 4
#: Known mistakes a numeric question carries for the LMS (0 % answers naming them).
NUMERIC_MISTAKES = 3


def make_exam(exercises, variants: int, seed: int, jobs: int | None = None,
              progress: Callable[[int, int], None] | None = None,
              title: str | None = None) -> Exam:
    """``variants`` papers, each with one well-posed variant of every exercise.

    ``exercises``: names of built-in families or exercise file paths (or
    :class:`Exercise` objects), or one of them alone. Variants are drawn in parallel over
    ``jobs`` processes (default: the machine's cores) when there are many; the result
    does not depend on ``jobs``. ``title`` heads every paper (default: the exercise's
    title, or "Exam" for several exercises, whose own titles head their parts).
    """
    refs = [exercises] if isinstance(exercises, str | Exercise) else list(exercises)
    if not refs:
        raise SymbackpropError("name at least one exercise (`symbackprop exam --list` lists the built-in ones)")
    if len(refs) > MAX_EXERCISES:
        raise SymbackpropError(f"at most {MAX_EXERCISES} exercises in one exam")
    check_counts(variants, seed)
    read = [r if isinstance(r, Exercise) else read_exercise(r) for r in refs]
    names = [e.name for e in read]
    for e in read:
        if names.count(e.name) > 1:
            raise SymbackpropError(f"{e.source}: two exercises of the exam are named '{e.name}'"
                                   " (rename one file)")
    rules: Counter = Counter({r: 0 for r in RULES})
    drawn: dict[str, list[Variant]] = {}
    total = variants * len(read)
    for exercise in read:
        made: list[Variant] = []
        seen: set[str] = set()
        for index, (variant, attempt, fired) in enumerate(_draw_all(exercise, seed, variants, jobs)):
            rules.update(fired)
            repeats = 0
            while variant.signature() in seen:  # rare: redraw here, from the next attempt on
                rules["duplicate"] += 1
                repeats += 1
                if repeats >= MAX_ATTEMPTS:
                    raise SymbackpropError(
                        f"{exercise.source}: no well-posed variant in {MAX_ATTEMPTS} draws: the"
                        f" rule duplicate failed {repeats} times (variant {index + 1} repeats an"
                        f" earlier one, {len(seen)} found); widen [random] or ask fewer --variants")
                variant, attempt = draw_variant(exercise, seed, index, attempt + 1, rules)
            seen.add(variant.signature())
            variant.student = index + 1
            made.append(variant)
            if progress:
                progress(len(drawn) * variants + index + 1, total)
        drawn[exercise.name] = made
    papers = [drawn[e.name][i] for i in range(variants) for e in read]
    if title is not None and (not isinstance(title, str) or not title.strip()
                              or len(title) > MAX_TITLE or "\n" in title):
        raise SymbackpropError(f"--title: one line of at most {MAX_TITLE} characters")
    if not title:
        title = read[0].title if len(read) == 1 else "Exam"
    return Exam("+".join(names), seed, papers, dict(rules), title=title, exercises=read)


#: Below this many variants, starting worker processes costs more than it saves.
PARALLEL_FROM = 40


def _draw_all(exercise: Exercise, seed: int, variants: int, jobs: int | None):
    """(variant, attempt, rules fired) for each index, in index order."""
    jobs = capped_jobs(jobs)  # never more processes than cores, whatever is asked
    if jobs == 1 or variants < PARALLEL_FROM:
        for index in range(variants):
            yield _draw_one((exercise, seed, index))
        return
    chunk = max(1, min(25, variants // (4 * jobs)))
    with worker_pool(jobs) as pool:
        yield from map_in_order(pool, _draw_one,
                                [(exercise, seed, i) for i in range(variants)], chunk)


def _draw_one(task) -> tuple[Variant, int, Counter]:
    exercise, seed, index = task
    fired: Counter = Counter()
    variant, attempt = draw_variant(exercise, seed, index, 0, fired)
    return variant, attempt, fired


def check_counts(variants, seed) -> None:
    if isinstance(variants, bool) or not isinstance(variants, int) or not 1 <= variants <= MAX_VARIANTS:
        raise SymbackpropError(f"--variants: must be a whole number from 1 to {MAX_VARIANTS}, got {variants}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise SymbackpropError(f"--seed: must be a whole number from 0 to 2^63 - 1, got {seed}")


def variant_id(name: str, seed: int, index: int) -> str:
    return f"{name}-{seed}-{index + 1:03d}"


def draw_variant(exercise: Exercise, seed: int, index: int, attempt: int,
                 rules: Counter) -> tuple[Variant, int]:
    """The first well-posed draw from ``attempt`` on, and the attempt that gave it."""
    fired: Counter = Counter()
    last = ""
    for _ in range(MAX_ATTEMPTS):
        draw = Draw(exercise.name, seed, index, attempt)
        try:
            variant = build_variant(exercise, seed, index, draw)
            rules.update(fired)
            return variant, attempt
        except Rejected as rejected:
            fired[rejected.rule] += 1
            last = rejected.detail
            attempt += 1
    rule, count = fired.most_common(1)[0]
    # One message string (no location object): it crosses process boundaries intact.
    raise SymbackpropError(
        f"{exercise.source}: no well-posed variant in {MAX_ATTEMPTS} draws: the rule {rule}"
        f" failed {count} times (last: {last}); widen [random] or relax [constraints]")


def build_variant(exercise: Exercise, seed: int, index: int, draw: Draw) -> Variant:
    """One variant from one draw; raises :class:`Rejected` when it is not well-posed."""
    table, free = exercise.draw(draw.rng)
    vid = variant_id(exercise.name, seed, index)
    try:
        problem = load_dict(table, name=vid, source=exercise.source,
                            derivations=exercise.derivations, key=True)
        # Screen with a quick low-precision forward pass, so that most rejected draws
        # never cost a full solve; then check the solve's own values, before and after.
        quick = forward(problem.graph, Floating(SCREEN_DIGITS))
    except SymbackpropError as exc:
        raise Rejected("undefined", str(exc)) from None
    check_gates(problem.graph, quick)
    broken = exercise.check_constraints(free, quick)
    if broken is not None:
        raise Rejected(f"constraint '{broken}'", "its condition is false")
    try:
        solution = problem.solve()
    except SymbackpropError as exc:
        raise Rejected("undefined", str(exc)) from None
    check_gates(problem.graph, *filter(None, (solution.values, solution.values_after)))
    solved: dict = {}  # the problem as students misread it, solved once per variant
    rewrites = exercise.rewrites(free)
    questions = [make_question(ask, solution, table, rewrites, draw, solved)
                 for ask in exercise.asks(free)]
    return Variant(vid, exercise.name, problem.graph_form(), problem, solution, questions,
                   drawn=table, free=free, network_form=problem.network_form())


def mistake_names(ask: Ask, rewrites: dict) -> tuple[str, ...]:
    """The mistakes a question's distractors come from: as the file names them, or
    every mistake of the catalogue and of the file (those that do not apply give none)."""
    if ask.mistakes != ALL:
        return ask.mistakes
    return DEFAULT_MISTAKES + tuple(rewrites)


def make_question(ask: Ask, solution, table: dict, rewrites: dict, draw: Draw,
                  solved: dict) -> KeyQuestion:
    try:
        answer = solution.lookup(ask.key)
    except SymbackpropError as exc:  # a placeholder made a key the problem lacks
        raise SymbackpropError(f"[questions] ask '{ask.key}': {exc.message}") from None
    if isinstance(answer, list):
        raise SymbackpropError(f"[questions] ask '{ask.key}': a vector or matrix; ask for one element")
    decimals = asked_decimals(answer, ask.decimals, ask.significant)
    shown = rounded(answer, decimals)
    if abs(shown) > LARGEST:
        raise Rejected("size", f"{ask.key} = {float(answer):.4g}")
    if shown == 0 and not (ask.zero_ok and answer == 0):
        raise Rejected("zero", f"{ask.key} = {float(answer):.3g} rounds to 0")
    short = too_few_digits(answer, decimals, ask.significant)
    if short is not None:
        raise Rejected("size", f"{ask.key} = {float(answer):.3g}: {short}")
    check_unchanged(ask.key, answer, solution, decimals)
    question = KeyQuestion(ask.key, answer, decimals, ask.points, ask.significant,
                           tolerance(decimals), asked=ask)
    unit = 10.0 ** -decimals
    # Choices lie outside each other's tolerance; a numeric question's known mistakes
    # lie outside the tolerance bands around the answer and each other (Moodle and
    # Canvas then match a response to at most one of them).
    band = float(BAND)
    gap = ((band + 1) if ask.choice else (2 * band + 1)) * unit - unit / 2
    picked: list[tuple[float, str | None]] = [(shown, None)]
    wanted = CHOICES if ask.choice else 1 + NUMERIC_MISTAKES
    for value, note in distractors(solution, ask.key, mistake_names(ask, rewrites), rewrites,
                                   table, solved):
        if not (isinstance(value, sp.Expr) and value.is_finite or isinstance(value, int | float)):
            continue
        r = rounded(value, decimals)
        if abs(r) > LARGEST or any(abs(r - p) < gap for p, _ in picked):
            continue
        if r == 0 and not ask.zero_ok:  # a lone 0 (a missing path's) is struck at sight
            continue
        picked.append((r, note))
        if len(picked) == wanted:
            break
    if not ask.choice:
        question.mistaken = [(v, n) for v, n in picked[1:]]
        return question
    if len(picked) < CHOICES:
        raise Rejected("collision", f"{ask.key}: only {len(picked)} distinct choices")
    order = draw.shuffled(range(CHOICES))
    question.choices = [picked[i][0] for i in order]
    question.mistakes = [picked[i][1] for i in order]
    question.correct = order.index(0)
    return question
