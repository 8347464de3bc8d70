"""The files of an exam, each a thin driver over the one drawn :class:`Exam`.

``key.json`` (contract section 4), ``moodle.xml``, ``exam.tex``/``exam.pdf`` and
``solutions.tex``/``solutions.pdf``; on request (``--format practice``, not by default),
``variant-ID-practice.html``, a practice page per variant for self-study. Every output is produced before any file is
written, so a failure leaves the directory as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..files import write_files
from .model import Exam

DEFAULT_FORMATS = ("key", "moodle", "tex", "pdf")
FORMATS = (*DEFAULT_FORMATS, "practice")


def key_json(exam: Exam) -> str:
    """The answer key as JSON text: the same family, seed and count give the same bytes."""
    return json.dumps(exam.key(), indent=1, ensure_ascii=False) + "\n"


def outputs(exam: Exam, formats, log: Callable[[str], None] | None = None) -> dict[str, str | bytes]:
    """File name -> content for the requested formats."""
    files: dict[str, str | bytes] = {}
    if "key" in formats:
        files["key.json"] = key_json(exam)
    if "moodle" in formats:
        from .moodle import moodle_xml

        files["moodle.xml"] = moodle_xml(exam)
    if "tex" in formats or "pdf" in formats:
        from .document import compile_many, exam_tex, solutions_tex

        sources = {"exam": exam_tex(exam), "solutions": solutions_tex(exam)}
        if "tex" in formats:
            files.update({f"{name}.tex": tex for name, tex in sources.items()})
        if "pdf" in formats:
            if log:
                log(f"compiling {len(sources)} PDFs")
            pdfs = compile_many(list(sources.items()))
            files.update({f"{name}.pdf": pdf for name, pdf in zip(sources, pdfs, strict=True)})
    if "practice" in formats:
        from ..render.practice import practice_from_table

        for v in exam.variants:
            name = f"variant-{v.id}-practice"
            files[f"{name}.html"] = practice_from_table(v.table, name)
    return files


def write_outputs(files: dict[str, str | bytes], directory: Path) -> list[Path]:
    """All the exam's files, written together or not at all."""
    return write_files(directory, files)
