"""The one status type: what a checked number is, in ``verify``, ``grade`` and the reports.

``verify`` gives the first four (docs/verify.md); ``grade`` adds ``invalid`` (a row that
is not a number, or names no question of the student's paper) and ``missing`` (a
question the student left out). Each member equals, and prints as, its word in the JSON.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    CORRECT = "correct"
    ROUNDING = "rounding"
    CARRIED = "carried"
    WRONG = "wrong"
    INVALID = "invalid"
    MISSING = "missing"

    def __repr__(self) -> str:  # a summary dict prints {'correct': 2}, as its JSON does
        return repr(self.value)


#: The statuses ``verify``'s judge gives, in its order (its JSON summary counts these).
JUDGED = (Status.CORRECT, Status.ROUNDING, Status.CARRIED, Status.WRONG)
#: The statuses that accept a number: full credit in ``grade``.
ACCEPTED = (Status.CORRECT, Status.ROUNDING)
