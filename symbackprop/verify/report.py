"""A verify run: every verdict in the order of the claims, the summary and the exit status,
and :func:`verify`, which judges claims against a loaded problem. (Loading a file or a
built-in by name is the caller's: :func:`symbackprop.verify`, the API, loads and then
calls this; the verify package reads no files of problems.)"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..defaults import DEFAULT_BAND
from ..errors import SymbackpropError
from ..limits import check_worked_size
from ..problem import Problem
from ..status import ACCEPTED, JUDGED, Status
from .claims import claims_from_mapping, read_claims
from .judge import Verdict, judge


@dataclass
class Report:
    """Every verdict, in the order of the claims file, with the summary and exit status."""

    problem: object
    solution: object
    verdicts: list[Verdict]
    band: Decimal = DEFAULT_BAND
    strict: bool = False
    source: str | None = None

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys((str(status) for status in JUDGED), 0)  # plain words as keys
        for v in self.verdicts:
            counts[v.status] += 1
        return counts

    @property
    def accepted(self) -> bool:
        """Whether every claim is accepted: ``correct`` or ``rounding`` (only ``correct``
        under ``strict``)."""
        allowed = (Status.CORRECT,) if self.strict else ACCEPTED
        return all(v.status in allowed for v in self.verdicts)

    @property
    def exit_status(self) -> int:
        return 0 if self.accepted else 1

    def to_json(self) -> dict:
        """The object of ``symbackprop verify P C --json`` (docs/json.md)."""
        return {"claims": [v.to_json() for v in self.verdicts], "summary": self.summary}

    def summary_line(self) -> str:
        s = self.summary
        n = len(self.verdicts)
        text = (f"{n} claim{'s' if n != 1 else ''}: {s['correct']} correct, {s['rounding']} rounding,"
                f" {s['carried']} carried, {s['wrong']} wrong")
        if self.strict and s[Status.ROUNDING] and not (s[Status.CARRIED] or s[Status.WRONG]):
            text += " (--strict accepts only correct)"
        return text

    def to_text(self) -> str:
        """The readable table: claim, given, expected, status, note; then the summary."""
        header = ("claim", "given", "expected", "status", "note")
        rows = [(v.key, v.claim.given.text, v.expected_text(), v.status, v.note)
                for v in self.verdicts]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        lines = []
        for row in [header, *rows]:
            cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
        lines.append(self.summary_line())
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<Report of {self.problem.name}: {self.summary_line()}>"


def verify(problem, claims, *, band=DEFAULT_BAND, strict: bool = False) -> Report:
    """Check hand-computed answers against a loaded problem.

    ``problem``: a :class:`~symbackprop.problem.Problem` (:func:`symbackprop.verify`
    also takes a problem file or a built-in name). ``claims``: a claims file (path), or a mapping ``key -> number`` (give numbers
    as strings, ``"0.0010"``, to keep the precision written). ``band``: how many units
    of the last digit shown a number may be off and still count as ``rounding`` (capped
    by half the value, and never across 0: :func:`within`).
    ``strict``: accept only ``correct`` numbers (the report's exit status).
    """
    if not isinstance(problem, Problem):
        raise TypeError("symbackprop.verify.report.verify takes a loaded Problem; "
                        "symbackprop.verify also takes a file or a built-in name")
    band = Decimal(str(band))
    if not band.is_finite() or band < 0:
        raise SymbackpropError("the rounding band must be a number of units >= 0")
    check_worked_size(problem)
    solution = problem.solve()
    if isinstance(claims, Mapping):
        parsed, source = claims_from_mapping(claims, solution), None
    else:
        parsed = read_claims(claims, solution)
        source = "<stdin>" if str(claims) == "-" else str(Path(claims))
    verdicts = judge(solution, parsed, band)
    return Report(problem, solution, verdicts, band, strict, source)
