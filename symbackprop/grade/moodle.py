"""Moodle's quiz Responses report, downloaded as CSV, read back into answers.

Moodle writes one row per attempt: the identity columns the site shows (``Last name``
and ``First name`` in 5.x, ``Surname`` and ``First name`` in 4.x, then ``Username``,
``ID number``, ``Email address``, ... as *Show user identity* lists them), then the
attempt's ``Status``, ``Started``, ``Completed``, ``Duration`` (4.x: ``State``, ``Started
on``, ``Completed``, ``Time taken``), ``Grade/10.00``, and for each quiz slot N (its
number as displayed: ``1``, ``2``, ``1a``) the columns ``Question N`` (the question's
text as plain text, when "Question text" is ticked in the report's options),
``Response N`` (what the student entered; ``-`` for nothing) and ``Right answer N``.
The file is UTF-8 with a byte order mark; a cell that begins with ``=``, ``+``, ``-`` or
``@`` gets a ``'`` in front (so a negative answer reads ``'-0.7177``).

Which student a row is comes from :mod:`.identity` (every identity column together;
rows that the export cannot tell apart are refused). Which variant and question a slot
held is read from the question text: the Moodle file of ``symbackprop exam`` ends every
question with ``Variant <id>, question <n>``. A cloze question (one per variant, all its
parts) has no question number; its response reads ``part 1: 0.5853; part 2: -0.0139``,
and part n is question n. A student with several attempts is graded on the last
finished one (the export's order), which the report notes.
"""

from __future__ import annotations

import re

from ..limits import MAX_ANSWERS
from .identity import Identity, students
from .responses import NO_ANSWER, Response, Roster, error, too_many

#: The first columns of an attempt (5.x and 4.x spellings): the identity columns end there.
ATTEMPT = ("status", "state", "started", "started on", "completed", "duration", "time taken")
ADVICE = ("show Email address, Username or ID number in the report (Site administration > "
          "Users > Permissions > User policies > Show user identity) and download it again")
_QUESTION_NUMBER = re.compile(r"\W{0,3}(?:question|Q)\s*(\d+)", re.IGNORECASE)
_PART = re.compile(r"part\s*(\d+)\s*:\s*([^;]*)", re.IGNORECASE)


_WORD = re.compile(r"[\w-]+")  # a variant id as exam writes them: net221-7-001


class VariantFinder:
    """Finds the key's variant ids (and a question number after one) in a text: an id
    that stands apart (no letter, digit, '_' or '-' next to it), the last one written."""

    def __init__(self, key):
        self.key = key
        self.words = set(key.variants)
        self.pattern = None
        if not all(_WORD.fullmatch(i) for i in key.variants):  # an id of other characters
            ids = sorted(key.variants, key=len, reverse=True)
            self.pattern = re.compile(
                r"(?<![\w-])(" + "|".join(re.escape(i) for i in ids) + r")(?![\w-])")

    def find(self, text: str) -> tuple[str | None, int | None]:
        if self.pattern is None:  # ids of word characters: each a whole word of the text,
            # looked up in a set (an alternation of 20,000 ids took 0.7 ms per text)
            found = [m for m in _WORD.finditer(text) if m.group() in self.words]
        else:
            found = list(self.pattern.finditer(text))
        if not found:
            return None, None
        m = found[-1]  # the footer is the last mention
        number = _QUESTION_NUMBER.match(text, m.end())
        return m.group(0), int(number.group(1)) if number else None


def read_moodle_export(rows: list[list[str]], header: list[str], source: str, key) -> Roster:
    """The answers of a Responses report download (see the module docstring)."""
    roster = Roster(source, "moodle")
    slots = []
    columns: dict[str, int] = {}  # each header's first column, by its text without case
    for i, h in enumerate(header):
        columns.setdefault(h.strip().lower(), i)
    for i, h in enumerate(header):
        m = re.match(r"^Response (\S+)$", h)
        if not m:
            continue
        question = columns.get(f"question {m.group(1)}".lower())
        if question is None:
            raise error(source, f"no 'Question {m.group(1)}' column: tick 'Question text' "
                                 "(with 'Response') in the report's options before downloading",
                         f"Response {m.group(1)}")
        slots.append((m.group(1), question, i))
    state = columns.get("status", columns.get("state"))
    identity = Identity(identity_columns(header), ADVICE)
    if not identity.unique:
        roster.notes.append(f"{source} shows no Email address, Username or ID number: Moodle's "
                            f"grade import cannot match moodle-grades.csv to its users; {ADVICE}")
    finder = VariantFinder(key)
    attempts = [(number, row) for number, row in enumerate(rows[1:], start=2)
                if not _is_average(row, identity)]
    if len(attempts) * len(slots) > MAX_ANSWERS:  # before any slot is read
        raise too_many(source, f"answers ({len(attempts)} attempt{'s' * (len(attempts) != 1)} "
                               f"times {len(slots)} slots)")
    unmatched = []
    for student in students(attempts, identity, source):
        if identity.unique and not any(student.person.get(h) for _, h in identity.unique):
            unmatched.append(student.label)
        roster.add_student(student.label)
        roster.people[student.label] = student.person
        tried = student.rows
        chosen = tried[-1]
        if len(tried) > 1:
            finished = [t for t in tried if state is not None and state < len(t[1])
                        and t[1][state].strip().lower() == "finished"]
            chosen = (finished or tried)[-1]
            roster.notes.append(f"{student.label}: {len(tried)} attempts in {source} (rows "
                                f"{', '.join(str(t[0]) for t in tried)}); the one on row "
                                f"{chosen[0]} is graded")
        number, row = chosen
        for ordinal, (label, question, response) in enumerate(slots, start=1):
            text = row[question] if question < len(row) else ""
            answer = row[response].strip() if response < len(row) else ""
            where = f"{source} row {number}, Response {label}"
            for r in _slot_answers(student.label, text, answer, where, finder, key):
                r.slot = ordinal
                roster.responses.append(r)
    if unmatched:
        shown = " or ".join(h for _, h in identity.unique)
        roster.notes.append(f"{len(unmatched)} student{'s have' if len(unmatched) > 1 else ' has'} "
                            f"no {shown} in {source} ({', '.join(unmatched)}): Moodle's grade "
                            "import cannot match their rows of moodle-grades.csv")
    return roster


def identity_columns(header: list[str]) -> list[tuple[int, str]]:
    """The columns before the attempt's own (``Status``, ``Started``, ...; else before
    the first ``Question N`` or ``Response N``), with a header."""
    end = len(header)
    for i, h in enumerate(header):
        low = h.strip().lower()
        if low in ATTEMPT or low.startswith("grade/") or re.match(r"^(question|response) \S+$", low):
            end = i
            break
    return [(i, h.strip()) for i, h in enumerate(header[:end]) if h.strip()]


def _is_average(row: list[str], identity: Identity) -> bool:
    """Moodle's last row, "Overall average" (in the first name column), is no student."""
    values = [v for v in identity.values(row) if v]
    return len(values) == 1 and values[0].lower().startswith("overall average")


def _slot_answers(student: str, text: str, answer: str, where: str, finder, key) -> list[Response]:
    """The answers one slot of one attempt holds."""
    if answer in NO_ANSWER and text.strip() in NO_ANSWER:
        return []  # a slot the attempt never reached
    variant_id, number = finder.find(text)
    if variant_id is None:
        return [Response(student, "", "", answer, where,
                         "the question text names no variant of the key")]
    variant = key.variants[variant_id]
    count = len(variant.questions)
    if number is None:
        parts = _PART.findall(answer)
        if parts:  # a cloze question: every part of the variant at once
            return [_numbered(student, variant, int(n), a.strip(), f"{where} part {n}")
                    for n, a in parts]
        if count == 1:
            number = 1
        else:
            return [Response(student, variant_id, "", answer, where,
                             f"the question text names variant {variant_id} but not which of "
                             f"its {count} questions")]
    return [_numbered(student, variant, number, answer, where)]


def _numbered(student: str, variant, number: int, answer: str, where: str) -> Response:
    if not 1 <= number <= len(variant.questions):
        return Response(student, variant.id, f"question {number}", answer, where,
                        f"variant {variant.id} has no question {number}")
    answer = "" if answer in NO_ANSWER else answer
    return Response(student, variant.id, variant.questions[number - 1].ask, answer, where)
