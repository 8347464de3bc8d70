"""Worked solutions as documents: LaTeX (and PDF), Markdown, and the notebook view.

The stages are small: :mod:`.printer` (names and expressions in the lectures' notation,
from the op table), :mod:`.document` and :mod:`.matrices` (the worked solution as data:
ready LaTeX math, laid out by :mod:`.equations`), :mod:`.environment` (the sandboxed
Jinja environment and the TeX escaping filter), :mod:`.pdf` (latexmk in a sealed
temporary directory). Every document of the package (worked solutions, exams, marked
sheets) is rendered through them.
"""

from __future__ import annotations

import re

from ..errors import UnsupportedError
from ..numbers import DEFAULT_PLACES

FORMATS = ("tex", "pdf", "md", "html", "practice")


def render_tex(solution, places: int = DEFAULT_PLACES, all_nodes: bool = False,
               show: list[str] | None = None) -> str:
    """The worked solution as a complete LaTeX document (``show``: the scalar names whose
    gradients it works out, see :func:`.lines.shown_names`; default: the parameters)."""
    from .environment import environment
    from .worked import worked_solution

    doc = worked_solution(solution, places, all_nodes, show=show)
    return environment().get_template("solution.tex.j2").render(doc=doc)


def render_markdown(solution, places: int = DEFAULT_PLACES, all_nodes: bool = False,
                    show: list[str] | None = None) -> str:
    """The worked solution as Markdown with ``$...$`` math (GitHub, Jupyter)."""
    from .environment import markdown_environment
    from .worked import worked_solution

    doc = worked_solution(solution, places, all_nodes, show=show)
    return markdown_environment().get_template("solution.md.j2").render(doc=doc)


def render_format(solution, fmt: str, places: int = DEFAULT_PLACES,
                  all_nodes: bool = False, show: list[str] | None = None) -> str | bytes:
    """The worked solution in one format: ``tex`` or ``md`` text, ``pdf`` bytes, the
    ``html`` page or the ``practice`` page (docs/browser.md)."""
    if fmt == "tex":
        return render_tex(solution, places, all_nodes, show)
    if fmt == "md":
        return render_markdown(solution, places, all_nodes, show)
    if fmt == "pdf":
        from .pdf import compile_pdf

        # The file name inside the sealed directory: the problem's, made safe for TeX.
        name = re.sub(r"[^A-Za-z0-9_-]", "_", solution.problem.name) or "solution"
        return compile_pdf(render_tex(solution, places, all_nodes, show), name)
    if fmt == "html":
        from .handout import render_html

        return render_html(solution, places)
    if fmt == "practice":
        from .practice import render_practice

        return render_practice(solution, places)
    raise UnsupportedError(f"--format {fmt}: not a document format ({', '.join(FORMATS)})")
