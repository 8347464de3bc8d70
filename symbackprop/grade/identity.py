"""Who a row of an LMS export is: the student it belongs to, never a guess.

An export (Moodle's Responses or Grades report, Canvas's Student Analysis) has one row
per attempt, headed by the columns that say who made it: names, and whatever the site
shows of e-mail, ID number, username, SIS id or section. A student is every one of
those columns together (:attr:`Identity.columns`): two rows belong to the same student
only when every identity column agrees *and* one of them is an identifier the LMS keeps
unique per person (:data:`UNIQUE`: Moodle's username, e-mail and ID number; Canvas's
user id and SIS id) and is filled in. Rows that agree on everything shown but show no
such identifier may be two people of the same name or two attempts of one person: the
export cannot tell, so :func:`students` refuses it (exit 2), naming the rows and the
columns to show. Two rows that differ in any identity column are two students.

Each student gets a label for the gradebook: the first identifier filled in (e-mail,
username, ID number, SIS id, user id), else the name; a label that two students would
share gets the row number of the student's first row added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .responses import error

#: Columns whose value, when filled in, belongs to one person only, in the order a label
#: is chosen from them (header text, compared without case).
UNIQUE = ("email address", "username", "id number", "sis_id", "id")
#: Name columns: Moodle 4.x writes "Surname", 5.x "Last name"; Canvas one "name".
NAMES = ("first name", "surname", "last name", "name")


@dataclass
class Identity:
    """The identity columns of an export: (index, header) in the file's order."""

    columns: list[tuple[int, str]]
    advice: str  # what to show so that two students can be told apart

    def values(self, row: list[str]) -> tuple[str, ...]:
        return tuple(row[i].strip() if i < len(row) else "" for i, _ in self.columns)

    def person(self, row: list[str]) -> dict[str, str]:
        return {h: v for (_, h), v in zip(self.columns, self.values(row), strict=True)}

    @property
    def unique(self) -> list[tuple[int, str]]:
        return [(i, h) for i, h in self.columns if h.strip().lower() in UNIQUE]


@dataclass
class Student:
    label: str
    person: dict[str, str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cells)


def _label(person: dict[str, str]) -> str:
    lower = {h.strip().lower(): v for h, v in person.items()}
    for name in UNIQUE:
        if lower.get(name):
            return lower[name]
    first = lower.get("first name", "")
    last = lower.get("last name") or lower.get("surname") or ""
    name = " ".join(p for p in (first, last) if p) or lower.get("name", "")
    return name or " ".join(v for v in person.values() if v)


def students(rows: list[tuple[int, list[str]]], identity: Identity, source: str) -> list[Student]:
    """The students of ``rows`` ((row number, cells), in the file's order), each with
    their rows, in the order first seen; exit 2 when two rows may be two people that
    the export shows alike (see the module docstring)."""
    found: dict[tuple[str, ...], Student] = {}
    unsure: dict[tuple[str, ...], list[int]] = {}
    for number, row in rows:
        values = identity.values(row)
        if not any(values):
            raise error(source, "the row shows no name or identifier of a student",
                        f"row {number}")
        if values in found:
            if not any(row[i].strip() for i, _ in identity.unique if i < len(row)):
                unsure.setdefault(values, [found[values].rows[0][0]]).append(number)
            found[values].rows.append((number, row))
            continue
        found[values] = Student("", identity.person(row), [(number, row)])
    if unsure:
        values, numbers = next(iter(unsure.items()))
        shown = " and ".join(h for _, h in identity.columns)
        more = (f" (and {len(unsure) - 1} more such group{'s' if len(unsure) > 2 else ''})"
                if len(unsure) > 1 else "")
        raise error(source, f"the rows show the same {shown} ({', '.join(v for v in values if v)})"
                            f" and nothing else{more}: they may be two students or two attempts "
                            f"of one, and no two students are merged; {identity.advice}",
                    f"rows {', '.join(map(str, numbers))}")
    labels: dict[str, int] = {}
    for s in found.values():
        s.label = _label(s.person)
        labels[s.label] = labels.get(s.label, 0) + 1
    for s in found.values():
        if labels[s.label] > 1:
            s.label = f"{s.label} (row {s.rows[0][0]})"
    return list(found.values())
