"""Marking a class: each student's answers judged against their own paper, with points.

Each answer is judged by :func:`symbackprop.verify.judge.judge`, the judge of
``verify``, on the student's own variant; the student's other answers to that variant
are the sheet it reads, so a number that follows correctly from the student's own
earlier mistake is ``carried`` (error carried forward). Before judging, an answer is
read as a student writes it: a decimal comma (``0,0822``), a Unicode minus, spaces
around it, a letter (``b``) for a multiple-choice question; an answer with fewer
decimals than the question asks is read with zeros for the missing ones (``0.59`` for a
four-decimal question is 0.5900), so a coarse number is not correct merely because it
was written coarsely.

**Full points follow the acceptance rule of every exam answer**
(:func:`symbackprop.exam.precision.accepts`, the rule Moodle and Canvas apply to the
exported questions): an answer within the stated tolerance of the answer as the question
states it is ``correct`` or ``rounding``, whatever number of digits the student wrote;
one outside it never is. Beyond the band the judge's finer judgement stays, for partial
credit only: an error carried forward is ``carried``, and so is a number that follows
from intermediates rounded early but lands outside the stated tolerance; a wrong number
keeps the mistake the judge names.

Points (docs/grading.md): ``correct`` and ``rounding`` earn the question's points,
``carried`` the ``carried`` share of them (0.5 by default), ``wrong``, ``invalid`` and
``missing`` nothing. Every student of the responses gets a :class:`StudentGrade`, with a
mark for every question of their paper and an ``invalid`` mark for every row that
could not be placed (an unknown variant or question, a bad number), with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from ..defaults import DEFAULT_BAND, DEFAULT_CARRIED
from ..errors import ClaimError
from ..exam.precision import accepts, decimal_text, stated, tolerance_text
from ..judging import EXAM_NOTES, PART_JOINT, exam_verdict
from ..limits import capped_jobs
from ..status import ACCEPTED, Status
from ..verify.claims import Claim, Number, parse_number
from ..verify.judge import Verdict, judge
from ..verify.recompute import shared
from ..workers import results_in_order, worker_pool
from .key import ExamKey, KeyQuestion, KeyVariant
from .lms import differences_json
from .responses import Response, Roster


@dataclass
class Mark:
    """One question of a paper (or one row that fits none), judged and scored."""

    ask: str
    variant: str
    status: Status
    note: str = ""
    given: str | None = None  # as the student wrote it
    value: Decimal | None = None  # the number judged
    expected: float | None = None
    points: Decimal = Decimal(0)
    max_points: Decimal = Decimal(0)
    slot: int | None = None  # 1-based position on the paper; None: a row that fits none
    where: str | None = None
    verdict: Verdict | None = None
    question: KeyQuestion | None = None
    index: int | None = None  # the question's index among its variant's questions

    def to_json(self) -> dict:
        out = {"ask": self.ask, "variant": self.variant,
               "given": float(self.value) if self.value is not None else None,
               "expected": self.expected, "status": self.status, "note": self.note,
               "points": _json_number(self.points)}
        if self.given is not None and (self.value is None or self.status == Status.INVALID):
            out["written"] = self.given
        if self.slot is not None:
            out["question"] = self.slot
        return out


@dataclass
class StudentGrade:
    student: str
    variants: list[str]  # the paper's variant ids; the rows' own when no paper is known
    marks: list[Mark]
    person: dict = field(default_factory=dict)
    max_points: Decimal = Decimal(0)

    @property
    def points(self) -> Decimal:
        return sum((m.points for m in self.marks), Decimal(0))

    @property
    def variant(self) -> str:
        return "+".join(self.variants)

    @property
    def slots(self) -> list[Mark]:
        return [m for m in self.marks if m.slot is not None]

    @property
    def invalid_rows(self) -> list[Mark]:
        return [m for m in self.marks if m.status == Status.INVALID and m.where]

    def to_json(self) -> dict:
        return {"student": self.student, "variant": self.variant,
                "points": _json_number(self.points), "max_points": _json_number(self.max_points),
                "answers": [m.to_json() for m in self.marks]}


@dataclass
class Gradebook:
    """The whole class, graded: one :class:`StudentGrade` per student, in the order of
    the responses."""

    key: ExamKey
    roster: Roster
    students: list[StudentGrade]
    carried: Decimal
    band: Decimal

    def summary(self) -> dict:
        counts = dict.fromkeys(Status, 0)
        for s in self.students:
            for m in s.marks:
                counts[m.status] += 1
        points = sorted(s.points for s in self.students)
        n = len(points)
        mean = sum(points, Decimal(0)) / n if n else Decimal(0)
        median = ((points[(n - 1) // 2] + points[n // 2]) / 2) if n else Decimal(0)
        return {"students": n, "max_points": _json_number(self.max_points),
                "mean": round(float(mean), 4), "median": _json_number(median),
                "statuses": counts, "carried_share": _json_number(self.carried)}

    @property
    def max_points(self) -> Decimal:
        return max((s.max_points for s in self.students), default=Decimal(0))

    def to_json(self) -> dict:
        return {"students": [s.to_json() for s in self.students], "summary": self.summary(),
                "lms_differences": differences_json(self)}


def _json_number(d: Decimal):
    """A Decimal for JSON: an int when whole, else the shortest float."""
    whole = int(d)
    return whole if whole == d else float(d)


# ------------------------------------------------------------------------ reading answers

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_LETTER = re.compile(r"^\(?([A-Za-z])[).]?$")


def read_answer(text: str, question: KeyQuestion) -> tuple[Number, str]:
    """The number an answer states, read as the module docstring says, and
    a note on how it was read ("" when as written). Raises ClaimError with the reason."""
    clean = _SPACES.sub("", text)
    note = ""
    letter = _LETTER.match(clean)
    if letter and question.choices is not None:
        index = ord(letter.group(1).lower()) - ord("a")
        if not 0 <= index < len(question.choices):
            raise ClaimError(f"'{text}' is not one of the {len(question.choices)} choices")
        from ..answerkey import shown

        clean = shown(question.choices[index], question.decimals)
        note = f"choice {letter.group(1).lower()} = {clean}"
    if re.fullmatch(r"[-+\u2212]?\d+,\d{3}", clean) and question.decimals >= 3:
        clean = clean.replace(",", ".")  # 1,234 for a question asking decimals: not a thousand
    number = parse_number(clean) if clean else None
    if number is None:
        raise ClaimError("empty")
    if number.decimals < question.decimals:
        with localcontext() as exact:  # 1e24 to 4 places has 29 digits: more than 28
            exact.prec = 200  # parse_number keeps numbers within 10^-60 ... 10^60
            padded = number.value.quantize(Decimal(1).scaleb(-question.decimals))
        read = format(padded, "f")
        note = PART_JOINT.join(filter(None, [note, EXAM_NOTES["padded"].format(
            decimals=question.decimals, read=read)]))
        number = Number(read, padded)
    return number, note


# ------------------------------------------------------------------------ marking


def points_for(status: Status, points: Decimal, carried: Decimal) -> Decimal:
    if status in ACCEPTED:
        return points
    if status == Status.CARRIED:
        return points * carried
    return Decimal(0)


#: Answers listed in the note of a question answered several times (the rest counted).
SHOWN_ANSWERS = 5
#: Below this many students, starting worker processes costs more than it saves.
PARALLEL_FROM = 40


def grade_class(key: ExamKey, roster: Roster, carried: Decimal = DEFAULT_CARRIED,
                band: Decimal = DEFAULT_BAND, jobs: int | None = None) -> Gradebook:
    """Mark every student of ``roster`` against ``key``, over ``jobs`` worker processes
    (default: the machine's cores) for a large class. Students of the same variant go
    to the same worker, which solves that variant once."""
    by_student: dict[str, list[Response]] = {s: [] for s in roster.students}
    for r in roster.responses:
        by_student[r.student].append(r)
    key.suggest(dict.fromkeys(r.variant for r in roster.responses if r.problem is None
                              and r.variant and r.variant not in key.variants))
    jobs = capped_jobs(jobs)  # never more processes than cores, whatever is asked
    tasks = [(s, rows, roster.people.get(s, {})) for s, rows in by_student.items()]
    if jobs == 1 or len(tasks) < PARALLEL_FROM:
        students = _grade_chunk(key, tasks, carried, band)
    else:
        students = _grade_parallel(key, tasks, carried, band, jobs)
    return Gradebook(key, roster, students, carried, band)


def _grade_chunk(key: ExamKey, tasks, carried: Decimal, band: Decimal) -> list[StudentGrade]:
    typical = key.typical_paper()
    return [grade_student(s, rows, key, carried, band, typical, person)
            for s, rows, person in tasks]


def _grade_parallel(key: ExamKey, tasks, carried, band, jobs: int) -> list[StudentGrade]:
    """The tasks split into chunks of whole variants, graded in worker processes, put
    back in the class's order."""
    def variant_of(task) -> str:
        return next((r.variant for r in task[1] if r.variant), "")

    order = sorted(range(len(tasks)), key=lambda i: variant_of(tasks[i]))
    size = max(1, len(tasks) // (4 * jobs))
    chunks, current, last = [], [], None
    for i in order:
        v = variant_of(tasks[i])
        if len(current) >= size and v != last:
            chunks.append(current)
            current = []
        current.append(i)
        last = v
    if current:
        chunks.append(current)
    unsolved = key.unsolved()
    results: list[StudentGrade | None] = [None] * len(tasks)
    with worker_pool(jobs) as pool:  # quiet on Ctrl-C and SIGTERM, no worker left
        futures = [pool.submit(_grade_chunk, unsolved, [tasks[i] for i in chunk], carried, band)
                   for chunk in chunks]
        for chunk, done in zip(chunks, results_in_order(futures), strict=True):
            for i, graded in zip(chunk, done, strict=True):
                results[i] = graded
    return results


def _place(r: Response, key: ExamKey) -> tuple[int | None, str | None]:
    """The index of the question a row answers in its variant, or why it has none."""
    if r.problem is not None:
        return None, r.problem
    if not r.variant:
        return None, "no variant given"
    if r.variant not in key.variants:
        return None, f"unknown variant '{r.variant}'{key.suggestions.get(r.variant, '')}"
    index = key.variants[r.variant].find(r.ask) if r.ask else None
    if index is None:
        asked = ", ".join(q.ask for q in key.variants[r.variant].questions)
        return None, (f"'{r.ask}' is not a question of variant {r.variant} (asked: {asked})"
                      if r.ask else "no question (ask) given")
    return index, None


def grade_student(student: str, rows: list[Response], key: ExamKey, carried: Decimal,
                  band: Decimal, typical: list[KeyVariant], person: dict) -> StudentGrade:
    """Every question of the student's paper marked; rows that fit it not, ``invalid``.

    Each answer is judged against the variant its own row names, together with the
    student's other answers to that variant (the sheet a ``carried`` mark reads). The
    paper is what the rows name: when the rows come in numbered slots (a Moodle or
    Canvas quiz, where each slot may draw another variant), the questions of the slots
    in their order; when every row names a variant of one paper of the key, that
    paper, all its questions (those no row answers are ``missing``); otherwise (the
    rows name variants of several papers, as a quiz drawing each question at random
    does) each question of the key's paper is taken from the variant the rows name for
    it: its exercise and its number in the exercise."""
    if any(r.slot is not None for r in rows):
        return _grade_slots(student, rows, key, carried, band, person)
    extra: list[Mark] = []
    placed: dict[tuple[str, int], list[Response]] = {}
    for r in rows:
        index, reason = _place(r, key)
        if reason is None:
            placed.setdefault((r.variant, index), []).append(r)
        else:
            extra.append(Mark(r.ask, r.variant, Status.INVALID, reason, given=r.answer, where=r.where))
    named = list(dict.fromkeys(v for v, _ in placed))
    papers = {key.paper_id(v) for v in named}
    positions: list[tuple[str | None, int, Decimal, str]] = []  # variant, index, points, why
    if len(papers) == 1:
        positions = [(v.id, i, q.points, "") for v in key.paper(named[0])
                     for i, q in enumerate(v.questions)]
    elif not papers:
        positions = [(None, i, q.points, "the paper is unknown: no row names a variant of "
                      "the key") for v in typical for i, q in enumerate(v.questions)]
    else:
        positions, clashes = _positions(placed, key, typical)
        extra += clashes
    marks = _mark_positions(positions, placed, key, carried, band)
    variants = list(dict.fromkeys(m.variant for m in marks if m.variant in key.variants)) \
        or sorted({r.variant for r in rows if r.variant})
    max_points = sum((m.max_points for m in marks), Decimal(0))
    return StudentGrade(student, variants, marks + extra, person, max_points)


def _positions(placed: dict, key: ExamKey, typical: list[KeyVariant]):
    """The paper of a student whose rows name variants of several papers: each question
    of the typical paper (an exercise and a question number in it) from the variant the
    rows name for it. Two variants named for one question are both ``invalid``: which
    one the student sat cannot be told."""
    by_place: dict[tuple[str | None, int], list[str]] = {}
    for variant_id, index in placed:
        exercise = key.variants[variant_id].exercise
        by_place.setdefault((exercise, index), []).append(variant_id)
    positions, clashes = [], []
    for v in typical:
        for i, q in enumerate(v.questions):
            named = by_place.pop((v.exercise, i), [])
            if len(named) == 1:
                positions.append((named[0], i, key.variants[named[0]].questions[i].points, ""))
                continue
            why = "no row answers this question"
            if len(named) > 1:
                why = f"answered from {len(named)} variants ({', '.join(named)})"
                for variant_id in named:
                    for r in placed.pop((variant_id, i)):
                        clashes.append(Mark(r.ask, r.variant, Status.INVALID,
                                            f"question {i + 1} of the exercise is {why}",
                                            given=r.answer, where=r.where))
            positions.append((None, i, q.points, why))
    for (_, i), named in by_place.items():  # a question number beyond the typical paper
        for variant_id in named:
            for r in placed.pop((variant_id, i)):
                clashes.append(Mark(r.ask, r.variant, Status.INVALID,
                                    f"question {i + 1} of variant {variant_id} is on no paper",
                                    given=r.answer, where=r.where))
    return positions, clashes


def _mark_positions(positions, placed: dict, key: ExamKey, carried: Decimal,
                    band: Decimal) -> list[Mark]:
    """The marks of a paper's questions in its order, each variant's judged together."""
    wanted: dict[str, set[int]] = {}
    for variant_id, index, _, _ in positions:
        if variant_id is not None:
            wanted.setdefault(variant_id, set()).add(index)
    judged: dict[tuple[str, int], Mark] = {}
    for variant_id, indices in wanted.items():
        for mark in _mark_variant(key.variants[variant_id], placed, carried, band, indices):
            judged[variant_id, mark.index] = mark
    marks = []
    for slot, (variant_id, index, points, why) in enumerate(positions, start=1):
        mark = judged.get((variant_id, index)) if variant_id is not None else None
        if mark is None:
            mark = Mark("", "", Status.MISSING, why, max_points=points)
        mark.slot = slot
        marks.append(mark)
    return marks


def _grade_slots(student: str, rows: list[Response], key: ExamKey, carried: Decimal,
                 band: Decimal, person: dict) -> StudentGrade:
    """A paper made of the rows' slots: each row one question, judged with the other
    answers to the same variant as its sheet."""
    layout: list[tuple[Response, int | None, str | None]] = []
    placed: dict[tuple[str, int], list[Response]] = {}
    for r in sorted(rows, key=lambda r: r.slot or 0):
        index, reason = _place(r, key)
        layout.append((r, index, reason))
        if reason is None:
            placed.setdefault((r.variant, index), []).append(r)
    judged: dict[tuple[str, int], Mark] = {}
    by_variant: dict[str, set[int]] = {}
    for v, i in placed:
        by_variant.setdefault(v, set()).add(i)
    for variant_id, indices in by_variant.items():
        variant = key.variants[variant_id]
        order = sorted(indices)
        for i, mark in enumerate(_mark_variant(variant, placed, carried, band, indices)):
            judged[variant_id, order[i]] = mark
    marks: list[Mark] = []
    used: set[int] = set()  # the marks already on the paper (by identity)
    for r, index, reason in layout:
        if reason is None:
            mark = judged.get((r.variant, index))
            if mark is None or id(mark) in used:
                continue  # the same question in two slots: marked once
            used.add(id(mark))
        else:
            mark = Mark(r.ask, r.variant, Status.INVALID, reason, given=r.answer, where=r.where,
                        max_points=Decimal(1))
        mark.slot = len(marks) + 1
        marks.append(mark)
    variants = list(dict.fromkeys(m.variant for m in marks if m.variant in key.variants))
    max_points = sum((m.max_points for m in marks), Decimal(0))
    return StudentGrade(student, variants, marks, person, max_points)


def by_the_rule(question: KeyQuestion, value: Decimal, verdict: Verdict) -> tuple[Status, str]:
    """The status and note of an answer ``value`` (the number judged) to ``question``
    under the acceptance rule: full points exactly when the number written is within the
    stated tolerance of the stated answer (module docstring); the judge's verdict
    otherwise explains the number (:func:`symbackprop.judging.exam_verdict`, which
    ``verify`` on an exam and an exam's practice page apply too)."""
    d = question.decimals
    return exam_verdict(verdict.status, verdict.note, accepts(value, verdict.expected, d),
                        decimal_text(stated(verdict.expected, d), d), tolerance_text(d))


def _judged(variant: KeyVariant, claims: list[Claim], band: Decimal) -> list[Verdict]:
    """``judge`` of one student's sheet for ``variant``; two students who wrote the same
    numbers for the same variant get the same verdicts (judging is a function of the
    solution, the claims as written and the band), judged once per process."""
    solution = variant.solution
    memo = ("sheet", band, tuple((str(c.key), c.given.text) for c in claims))
    cache = shared(solution)
    if memo not in cache:
        cache[memo] = judge(solution, claims, band)
    return cache[memo]


def _mark_variant(variant: KeyVariant, placed: dict, carried: Decimal, band: Decimal,
                  only: set[int] | None = None) -> list[Mark]:
    """The marks of one variant's questions (those in ``only``, if given), judged
    together as one sheet."""
    marks: list[Mark] = []
    claims: list[Claim] = []
    judged: dict[int, tuple[Mark, str]] = {}
    keys = {i: k for k, i in variant.question_keys().items()}
    for i, q in enumerate(variant.questions):
        if only is not None and i not in only:
            continue
        answers = [r for r in placed.get((variant.id, i), []) if r.answer.strip()]
        mark = Mark(q.ask, variant.id, Status.MISSING, max_points=q.points, expected=q.answer,
                    question=q, index=i)
        marks.append(mark)
        if not answers:
            continue
        mark.given, mark.where = answers[0].answer, answers[0].where
        try:
            numbers = [read_answer(r.answer, q) for r in answers]
        except ClaimError as exc:
            mark.status, mark.note = Status.INVALID, exc.message
            continue
        if len({n.value for n, _ in numbers}) > 1:
            mark.status = Status.INVALID
            listed = [f"{r.answer} ({r.where})" for r in answers[:SHOWN_ANSWERS]]
            if len(answers) > SHOWN_ANSWERS:  # an export of 10,000 slots repeating a question
                listed.append(f"and {len(answers) - SHOWN_ANSWERS} more")
            mark.note = "answered more than once: " + ", ".join(listed)
            continue
        number, how = numbers[0]
        mark.value = number.value
        claims.append(Claim(keys[i], number))
        judged[i] = (mark, how)
    if claims:
        verdicts = _judged(variant, claims, band)
        for (mark, how), verdict in zip(judged.values(), verdicts, strict=True):
            mark.verdict = verdict
            mark.status, note = by_the_rule(mark.question, mark.value, verdict)
            mark.note = PART_JOINT.join(filter(None, [how, note]))
    for mark in marks:
        mark.points = points_for(mark.status, mark.max_points, carried)
    return marks
