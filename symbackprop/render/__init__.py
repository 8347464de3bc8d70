"""Worked solutions as documents: LaTeX (and PDF), Markdown, and the notebook view.

The stages are small: :mod:`.printer` (names and expressions in the lectures' notation,
from the op table), :mod:`.environment` (the sandboxed Jinja environment and the TeX
escaping filter), :mod:`.pdf` (latexmk in a sealed temporary directory). Every document
of the package (worked solutions, exams, marked sheets) is rendered through them.
"""

from __future__ import annotations

from ..errors import UnsupportedError


def render_format(solution, fmt: str, places: int = 4, all_nodes: bool = False) -> str | bytes:
    """The worked solution in one format: ``tex`` or ``md`` text, ``pdf`` bytes."""
    raise UnsupportedError(f"--format {fmt} is not available in this version")
