"""Moodle's quiz Responses report, downloaded as CSV, read back into answers.

Moodle writes one row per attempt: the student's ``Surname``, ``First name`` and the
identity fields the site shows (``Email address``, ``ID number``, ``Username``), then
``State``, ``Started on``, ``Completed``, ``Time taken``, ``Grade/10.00``, and for each
quiz slot N (its number as displayed: ``1``, ``2``, ``1a``) the columns ``Question N``
(the question's text as plain text, when "Question text" is ticked in the report's
options), ``Response N`` (what the student entered; ``-`` for nothing) and
``Right answer N``.

Which variant and question a slot held is read from the question text: the Moodle file
of ``symbackprop exam`` ends every question with ``Variant <id>, question <n>``. A
cloze question (one per variant, all its parts) has no question number; its response
reads ``part 1: 0.5853; part 2: -0.0139``, and part n is question n. A student with
several attempts is graded on the last finished one (the export's order), which the
report notes.
"""

from __future__ import annotations

import re

from .responses import NO_ANSWER, Response, Roster, error

NAMES = ("First name", "Surname")
IDENTITY = ("Email address", "ID number", "Username")
_QUESTION_NUMBER = re.compile(r"\W{0,3}(?:question|Q)\s*(\d+)", re.IGNORECASE)
_PART = re.compile(r"part\s*(\d+)\s*:\s*([^;]*)", re.IGNORECASE)


def _column(header: list[str], name: str) -> int | None:
    for i, h in enumerate(header):
        if h.strip().lower() == name.lower():
            return i
    return None


class VariantFinder:
    """Finds the key's variant ids (and a question number after one) in a text."""

    def __init__(self, key):
        self.key = key
        ids = sorted(key.variants, key=len, reverse=True)
        self.pattern = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(i) for i in ids) + r")(?![\w-])")

    def find(self, text: str) -> tuple[str | None, int | None]:
        found = list(self.pattern.finditer(text))
        if not found:
            return None, None
        m = found[-1]  # the footer is the last mention
        number = _QUESTION_NUMBER.match(text, m.end())
        return m.group(1), int(number.group(1)) if number else None


def read_moodle_export(rows: list[list[str]], header: list[str], source: str, key) -> Roster:
    """The answers of a Responses report download (see the module docstring)."""
    roster = Roster(source, "moodle")
    slots = []
    for i, h in enumerate(header):
        m = re.match(r"^Response (\S+)$", h)
        if not m:
            continue
        question = _column(header, f"Question {m.group(1)}")
        if question is None:
            raise error(source, f"no 'Question {m.group(1)}' column: tick 'Question text' "
                                 "(with 'Response') in the report's options before downloading",
                         f"Response {m.group(1)}")
        slots.append((m.group(1), question, i))
    names = {n: _column(header, n) for n in NAMES + IDENTITY}
    state = _column(header, "State")
    if state is None:
        state = _column(header, "Status")
    finder = VariantFinder(key)
    attempts: dict[str, list[tuple[int, list[str]]]] = {}
    for number, row in enumerate(rows[1:], start=2):
        cell = {n: (row[i].strip() if i is not None and i < len(row) else "")
                for n, i in names.items()}
        person = " ".join(p for p in (cell["First name"], cell["Surname"]) if p)
        student = cell["Email address"] or cell["ID number"] or cell["Username"] or person
        if not student or person.lower().startswith("overall average"):
            continue
        if student not in roster.people:
            roster.add_student(student)
            roster.people[student] = {n: v for n, v in cell.items() if names[n] is not None}
        attempts.setdefault(student, []).append((number, row))
    for student, tried in attempts.items():
        chosen = tried[-1]
        if len(tried) > 1:
            finished = [t for t in tried if state is not None and state < len(t[1])
                        and t[1][state].strip().lower() == "finished"]
            chosen = (finished or tried)[-1]
            roster.notes.append(f"{student}: {len(tried)} attempts in {source}; the one on "
                                f"row {chosen[0]} is graded")
        number, row = chosen
        for ordinal, (label, question, response) in enumerate(slots, start=1):
            text = row[question] if question < len(row) else ""
            answer = row[response].strip() if response < len(row) else ""
            where = f"{source} row {number}, Response {label}"
            for r in _slot_answers(student, text, answer, where, finder, key):
                r.slot = ordinal
                roster.responses.append(r)
    return roster


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
