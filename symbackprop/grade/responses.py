"""The students' answers, from any of the three forms ``grade`` reads.

* **A CSV of answers**, one row per answer, with the header ``student,variant,ask,answer``
  (other columns ignored, in any order).
* **Moodle's quiz Responses report**, downloaded as CSV: one row per attempt, the
  students' names and e-mail, then ``Question N`` (the question's text, which names the
  variant and the question: ``Variant net221-7-001, question 2``), ``Response N`` and
  ``Right answer N`` for each slot N of the quiz.
* **A folder of claims files**, one per student: ``KEY = NUMBER`` lines as ``verify``
  reads them, after a line ``variant = ID`` naming the variant they answer (several
  such lines for a paper of several exercises); ``student = NAME`` names the student,
  otherwise the file's name does.

Every file is read by the standard library's csv module as the spreadsheets and Moodle
write it: UTF-8 with or without a byte order mark (UTF-16 with one; Windows-1252 when
it is not UTF-8), separated by commas, semicolons (decimal-comma locales) or tabs.
Nothing is judged here: a row whose variant or question cannot be told keeps the reason
in :attr:`Response.problem` and is graded ``invalid``, so no student is lost.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SymbackpropError, Where
from ..files import read_limited
from ..limits import MAX_ANSWERS, MAX_CLAIMS_FILES, MAX_RESPONSES_BYTES, LimitError

MAX_BYTES = MAX_RESPONSES_BYTES
MAX_FILES = MAX_CLAIMS_FILES
HEADER = ("student", "variant", "ask", "answer")
DELIMITERS = (",", ";", "\t")
NO_ANSWER = ("", "-")  # Moodle writes '-' for a question left unanswered


@dataclass
class Response:
    """One answer as given: who, which variant and question, the text, and where."""

    student: str
    variant: str
    ask: str
    answer: str
    where: str  # "responses.csv row 5", for the list of invalid answers
    problem: str | None = None  # why the variant or question cannot be told
    slot: int | None = None  # the quiz slot it answers (Moodle), in the quiz's order


@dataclass
class Roster:
    """Every student (in the order first seen) and every answer they gave."""

    source: str
    kind: str  # "csv", "moodle" or "claims"
    students: list[str] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    people: dict[str, dict[str, str]] = field(default_factory=dict)  # Moodle's name columns
    notes: list[str] = field(default_factory=list)  # said on stderr and in the report

    def add_student(self, student: str) -> None:
        if student not in self.people:
            self.people[student] = {}
            self.students.append(student)


def error(source: str, message: str, where: str | None = None) -> SymbackpropError:
    return SymbackpropError(message, Where(file=source, field=where))


def too_many(source: str, what: str = "answers") -> LimitError:
    return LimitError(f"more than {MAX_ANSWERS} {what}: grade takes at most {MAX_ANSWERS} "
                      "answers in one run (the limit; docs/limits.md); split the class",
                      Where(file=source))


def read_file(path: Path, limit: int = MAX_BYTES) -> bytes:
    """A responses or claims file's bytes: a regular file of at most ``limit`` bytes."""
    try:
        return read_limited(path, limit, what="responses file")
    except FileNotFoundError:
        raise error(str(path), "no such file") from None
    except SymbackpropError as exc:
        raise exc.at(file=str(path)) from None


def decode(data: bytes, source: str, notes: list[str] | None = None) -> str:
    """Text as spreadsheets write it: UTF-8 (BOM or not), UTF-16 with a BOM, or
    Windows-1252 (Excel's "CSV" on Windows) when it is not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise error(source, "is not valid UTF-16 text") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise error(source, "is not UTF-8 text") from None
    if notes is not None:
        notes.append(f"{source}: not UTF-8; read as Windows-1252")
    return text


def _fields(line: str, delimiter: str) -> int:
    """How many fields ``delimiter`` splits a header line into (0 where a field would
    pass the csv module's 131,072-character limit: not the separator)."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def read_rows(text: str, source: str) -> list[list[str]]:
    """The rows of a CSV text, its separator told from the header line: the one of
    ',', ';' and tab that splits it into the most fields."""
    if "\x00" in text:
        raise error(source, "is a binary file, not CSV text")
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]  # CR-only line ends too (old Mac)
    counts = {d: _fields(first, d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d])  # ties: the comma
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ANSWERS + 1:  # a header and one answer per row at most
                raise too_many(source, "rows")
    except csv.Error as exc:
        if "field limit" in str(exc):  # no export writes a cell that long
            raise LimitError(f"a field of more than {csv.field_size_limit()} characters, the "
                             "limit of a cell (docs/limits.md): not a responses file",
                             Where(file=source, line=reader.line_num)) from None
        raise error(source, f"is not CSV ({exc})") from None
    return rows


def answers_csv(rows: list[list[str]], lower: list[str], source: str) -> Roster:
    roster = Roster(source, "csv")
    column = {h: lower.index(h) for h in HEADER}
    for number, row in enumerate(rows[1:], start=2):
        cell = {h: (row[i].strip() if i < len(row) else "") for h, i in column.items()}
        student = cell["student"]
        where = f"{source} row {number}"
        if not student:
            roster.notes.append(f"{where}: no student named; the row is left out")
            continue
        roster.add_student(student)
        roster.responses.append(Response(student, cell["variant"], cell["ask"],
                                         cell["answer"], where))
    return roster


_VARIANT_LINE = re.compile(r"^\s*#?\s*variant\s*[:=]\s*(\S+)\s*$", re.IGNORECASE)
_STUDENT_LINE = re.compile(r"^\s*#?\s*student\s*[:=]\s*(.+?)\s*$", re.IGNORECASE)


def read_claims_folder(folder: Path) -> Roster:
    """One claims file per student: ``variant = ID`` (or ``# variant: ID``) before the
    claims it covers, ``student = NAME`` optional (default: the file's name)."""
    roster = Roster(str(folder), "claims")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if len(files) > MAX_FILES:
        raise error(str(folder), f"more than {MAX_FILES} files")
    if not files:
        raise error(str(folder), "no claims files in the folder")
    budget = MAX_BYTES  # the folder's files together, as one responses file
    for path in files:
        source = str(path)
        try:
            data = read_file(path, budget)
        except SymbackpropError as exc:
            if "larger than" in exc.message:
                raise LimitError(f"the claims files come to more than {MAX_BYTES // 1_000_000} "
                                 "MB together (the limit; docs/limits.md)",
                                 Where(file=str(folder))) from None
            raise
        budget -= len(data)
        text = decode(data, source, roster.notes)
        student, variant, answers = path.stem, "", []
        for number, raw in enumerate(text.splitlines(), start=1):
            where = f"{source} line {number}"
            if m := _VARIANT_LINE.match(raw):
                variant = m.group(1)
                continue
            if m := _STUDENT_LINE.match(raw):
                student = m.group(1)
                continue
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            ask, eq, answer = line.partition("=")
            problem = None if eq else "not a claim: write KEY = NUMBER"
            if not variant:
                problem = problem or "no 'variant = ID' line before this claim"
            answers.append(Response("", variant, ask.strip(), answer.strip(), where, problem))
            if len(answers) + len(roster.responses) > MAX_ANSWERS:
                raise too_many(str(folder), "claims")
        if student in roster.people:
            roster.notes.append(f"{source}: student '{student}' has another claims file too; "
                                "their claims are graded together")
        roster.add_student(student)
        for response in answers:
            response.student = student
        roster.responses += answers
        if not answers:
            roster.notes.append(f"{source}: no claims")
    return roster
