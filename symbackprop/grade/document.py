"""The class report's files: ``report.md`` (with ``scores.png`` and ``questions.png``)
and ``report.pdf``, both from :func:`.classreport.report_data` through the templates
``templates/grade/report.md.j2`` and ``report.tex.j2``. Without matplotlib (the ``plot``
extra) the report is written without its two charts, and :func:`left_out` says so."""

from __future__ import annotations

from ..render.environment import environment, escape_tex, markdown_environment
from .classreport import percent, report_data
from .figures import FIGURES, figures_available, question_chart, score_histogram
from .gradebook import points_text

LISTED = 12  # students named in one finding; the rest are counted
LISTED_DIFFERENCES = 60  # answers listed where an LMS would differ; gradebook.json has all


def listed(students: list[str]) -> str:
    shown = ", ".join(students[:LISTED])
    return shown + (f" and {len(students) - LISTED} more" if len(students) > LISTED else "")


def _helpers() -> dict:
    return {"percent": percent, "listed": listed, "points_text": points_text,
            "listed_differences": LISTED_DIFFERENCES}


def left_out() -> str | None:
    """The one line saying which figures the report leaves out, or None."""
    if figures_available():
        return None
    return (f"note: matplotlib is not installed: the class report leaves out its charts "
            f"({', '.join(FIGURES)}); pip install 'symbackprop[plot]' adds them")


def report_markdown(data: dict) -> str:
    template = markdown_environment().get_template("grade/report.md.j2")
    return template.render(**{"figures": figures_available(), **data}, **_helpers())


def report_tex(data: dict) -> str:
    from ..render.sheet import note_tex

    template = environment().get_template("grade/report.tex.j2")
    return template.render(**{"figures": figures_available(), **data}, **_helpers(), note=lambda text: note_tex(text),
                           text=escape_tex)


def report_files(book, pdf: bool = True) -> dict[str, str | bytes]:
    """File name -> content of the class report (PDF only when ``pdf``)."""
    data = report_data(book)
    data["figures"] = figures_available()
    files: dict[str, str | bytes] = {}
    if data["figures"]:
        files["scores.png"] = score_histogram(data["points"], book.max_points)
        files["questions.png"] = question_chart(data["questions"])
    files["report.md"] = report_markdown(data)
    if pdf:
        from ..render.pdf import compile_pdf

        figures = {}
        if data["figures"]:
            figures = {"scores.pdf": score_histogram(data["points"], book.max_points, "pdf"),
                       "questions.pdf": question_chart(data["questions"], "pdf")}
        files["report.pdf"] = compile_pdf(report_tex(data), "report", figures)
    return files
