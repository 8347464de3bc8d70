"""The files of an exam, each a thin driver over the one drawn :class:`Exam`.

``key.json`` (docs/json.md and docs/exams.md), ``moodle.xml`` (and, asked for,
``moodle-cloze.xml``), ``canvas-qti.zip``, ``exam.tex``/``exam.pdf``,
``solutions.tex``/``solutions.pdf`` and the compact answer key ``key.tex``/``key.pdf``; on request (``--format practice``, not by default),
``variant-ID-practice.html``, a practice page per variant for self-study. Every output is
produced before any file is written, so a failure while making them leaves the directory
as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import jsonout
from ..defaults import EXAM_DEFAULT_FORMATS, EXAM_FORMATS
from ..files import write_files
from ..loader import load_dict
from .model import Exam
from .precision import decimal_text, precision_text, stated, stated_tolerance, tolerance_text

FORMATS = EXAM_FORMATS
DEFAULT_FORMATS = EXAM_DEFAULT_FORMATS


def key_json(exam: Exam) -> str:
    """The answer key as JSON text: the same exercises, seed and count give the same bytes."""
    return jsonout.dumps(exam.key(), indent=1, ensure_ascii=False) + "\n"


def outputs(exam: Exam, formats, log: Callable[[str], None] | None = None) -> dict[str, str | bytes]:
    """File name -> content for the requested formats."""
    files: dict[str, str | bytes] = {}
    if "key" in formats:
        files["key.json"] = key_json(exam)
    if "moodle" in formats or "cloze" in formats:
        from .moodle import cloze_xml, moodle_xml

        if "moodle" in formats:
            files["moodle.xml"] = moodle_xml(exam)
        if "cloze" in formats:
            files["moodle-cloze.xml"] = cloze_xml(exam)
    if "qti" in formats:
        from .qti import qti_zip

        files["canvas-qti.zip"] = qti_zip(exam)
    if "tex" in formats or "pdf" in formats:
        from .document import compile_many, exam_tex, key_tex, solutions_tex

        sources = {"exam": exam_tex(exam), "solutions": solutions_tex(exam),
                   "key": key_tex(exam)}
        if "tex" in formats:
            files.update({f"{name}.tex": tex for name, tex in sources.items()})
        if "pdf" in formats:
            if log:
                log(f"compiling {len(sources)} PDFs")
            pdfs = compile_many(list(sources.items()))
            files.update({f"{name}.pdf": pdf for name, pdf in zip(sources, pdfs, strict=True)})
    if "practice" in formats:
        for v in exam.variants:
            name = f"variant-{v.id}-practice"
            files[f"{name}.html"] = practice_from_table(v.loadable, name, questions=v.questions)
    return files


def write_outputs(files: dict[str, str | bytes], directory: Path) -> list[Path]:
    """All the exam's files, written together or not at all."""
    return write_files(directory, files)


def practice_from_table(table: dict, name: str, places: int = 4, questions=()) -> str:
    """The practice page of a problem given as a table (docs/problem-files.md), such as
    an exam variant's table in ``key.json`` (its layer stack where it has one):
    for ``symbackprop exam ... --format practice``, one page of self-study per fresh variant. (It is the exam's: the render
    package prints a solved problem and loads none.) ``questions``: the variant's
    questions (:class:`~symbackprop.answerkey.KeyQuestion`), which the page judges by the
    acceptance rule (:func:`asked_rules`)."""
    from ..render.practice import render_practice

    problem = load_dict(table, name=name, source=f"<{name}>")
    return render_practice(problem.solve(), places, asked_rules(questions))


def asked_rules(questions) -> dict[str, dict]:
    """What the practice page needs of each question to apply the acceptance rule
    (:mod:`.precision`): the answer as the question states it and the stated tolerance,
    as exact decimal strings; the asked decimals; the tolerance and the sentence on
    precision as the question prints them."""
    return {q.ask: {"stated": decimal_text(stated(q.answer, q.decimals), q.decimals),
                    "tolerance": decimal_text(stated_tolerance(q.decimals), q.decimals),
                    "toleranceText": tolerance_text(q.decimals), "decimals": q.decimals,
                    "precision": precision_text(q.decimals)}
            for q in questions}
