"""The class report's files: ``report.md`` (with ``scores.png`` and ``questions.png``)
and ``report.pdf``, both from :func:`.classreport.report_data` through the templates
``templates/grade/report.md.j2`` and ``report.tex.j2``."""

from __future__ import annotations

from ..render.environment import environment, escape_tex, markdown_environment
from .classreport import percent, report_data
from .figures import question_chart, score_histogram

LISTED = 12  # students named in one finding; the rest are counted


def listed(students: list[str]) -> str:
    shown = ", ".join(students[:LISTED])
    return shown + (f" and {len(students) - LISTED} more" if len(students) > LISTED else "")


def _helpers() -> dict:
    return {"percent": percent, "listed": listed}


def report_markdown(data: dict) -> str:
    template = markdown_environment().get_template("grade/report.md.j2")
    return template.render(**data, **_helpers())


def report_tex(data: dict) -> str:
    from ..render.sheet import note_tex

    template = environment().get_template("grade/report.tex.j2")
    return template.render(**data, **_helpers(), note=lambda text: note_tex(text),
                           text=escape_tex)


def report_files(book, pdf: bool = True) -> dict[str, str | bytes]:
    """File name -> content of the class report (PDF only when ``pdf``)."""
    data = report_data(book)
    files: dict[str, str | bytes] = {
        "scores.png": score_histogram(data["points"], book.max_points),
        "questions.png": question_chart(data["questions"]),
        "report.md": report_markdown(data),
    }
    if pdf:
        from ..render.pdf import compile_pdf

        figures = {"scores.pdf": score_histogram(data["points"], book.max_points, "pdf"),
                   "questions.pdf": question_chart(data["questions"], "pdf")}
        files["report.pdf"] = compile_pdf(report_tex(data), "report", figures)
    return files
