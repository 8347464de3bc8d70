"""Checking hand-computed answers (``symbackprop verify``): a feature in small stages.

:mod:`.claims` reads a claims file; :mod:`.tolerance` says when a written number counts
as a value; :mod:`.recompute` recomputes a quantity from a sheet's own numbers;
:mod:`.judge` gives each claim its status (correct, rounding, carried, wrong);
:mod:`.diagnose` names the mistake behind a wrong number; :mod:`.report` gathers the
verdicts and holds :func:`verify` (of a loaded problem; :func:`symbackprop.verify` loads
one by name or file). The marked sheet is rendered by :mod:`symbackprop.render.sheet`.
"""

from ..defaults import DEFAULT_BAND
from .report import Report, verify

__all__ = ["DEFAULT_BAND", "Report", "verify"]
