"""The exceptions a user mistake raises.

Every mistake a user can make (a malformed file, an unknown name, a cycle, a forbidden
expression, a missing value, a bad claim) raises a :class:`SymbackpropError`. The CLI
turns it into exit status 2 and one line ``error: FILE [section] field: message``; it never
shows a traceback for these. Errors are raised deep inside (the parser knows nothing of
files), so each carries a :class:`Where` that outer layers complete with :meth:`at`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Where:
    """Where in the user's input a mistake sits: file, TOML section, field or line.

    An empty string marks a field as known to be absent (``section=""``: a top-level
    key), so that :meth:`SymbackpropError.at` does not fill it in later.
    """

    file: str | None = None
    section: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.section:
            parts.append(f"[{self.section}]")
        if self.field:
            parts.append(self.field)
        return " ".join(parts)


class SymbackpropError(Exception):
    """A mistake in the user's input; reported as one ``error:`` line, exit status 2."""

    def __init__(self, message: str, where: Where | None = None):
        super().__init__(message)
        self.message = message
        self.where = where or Where()

    def at(self, **fields) -> SymbackpropError:
        """Fill in the location fields that are still unknown; returns self for ``raise``."""
        known = {k: v for k, v in fields.items() if getattr(self.where, k) is None}
        self.where = replace(self.where, **known)
        return self

    def __str__(self) -> str:
        where = str(self.where)
        return f"{where}: {self.message}" if where else self.message


class ProblemError(SymbackpropError):
    """A problem file (or built-in name) that cannot be read as a problem."""


class ExpressionError(ProblemError):
    """An expression outside the whitelist, or one that would cost too much."""


class GraphError(ProblemError):
    """A graph that is not a DAG of defined names: cycles, undefined or doubled names."""


class MagnitudeError(ProblemError):
    """A value too large to compute with (beyond 10^300) at the problem's numbers."""


class ClaimError(SymbackpropError):
    """A claims file line that cannot be read, or a key that names nothing."""


class UnsupportedError(SymbackpropError):
    """Valid input that this version does not handle (as opposed to invalid input)."""


def did_you_mean(word: str, choices) -> str:
    """A ``(did you mean 'x'?)`` suffix for the closest choice, or an empty string."""
    choices = list(choices)
    same_case = [c for c in choices if c.lower() == word.lower() and c != word]
    close = same_case or difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
