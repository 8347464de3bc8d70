"""Each student's marked sheet (``grade --sheets``): ``verify``'s marked sheet of their
own variant, headed by their name, variant and points, with the questions they left
out or answered with no number listed too; and one PDF of every sheet for printing.

The sheets are compiled in parallel (one TeX process per core, one pdflatex pass each:
a sheet has no cross-references); the printing PDF is made by TeX too, ``pdfpages``
placing every sheet's pages in the class's order.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..render.environment import environment, escape_tex
from ..render.pdf import compile_many, compile_pdf
from ..render.sheet import key_inline_tex, key_tex, note_tex, report_context
from ..verify.report import Report
from .gradebook import points_text

MAX_NAME = 120  # bytes of a sheet's file name taken from the student's name


def file_names(students) -> list[str]:
    """A file name for each student's sheet: their name made safe, unique in the class."""
    names, seen = [], set()
    for s in students:
        base = re.sub(r"[^\w.@-]+", "_", s.student).strip("._")
        base = base.encode()[:MAX_NAME].decode("utf-8", "ignore") or "student"
        name, n = base, 1
        while name.lower() in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name.lower())
        names.append(name)
    return names


def sheet_tex(student, book) -> list[str]:
    """The LaTeX of a student's sheet: one document per variant of the paper."""
    docs = []
    by_variant: dict[str, list] = {}
    for m in student.slots:
        if m.variant in book.key.variants:
            by_variant.setdefault(m.variant, []).append(m)
    header = {"name": escape_tex(student.student), "variant": escape_tex(student.variant),
              "points": points_text(student.points),
              "max_points": points_text(student.max_points),
              "carried": points_text(book.carried)}
    for variant_id, marks in by_variant.items():
        variant = book.key.variants[variant_id]
        solution = variant.solution
        verdicts = [replace(m.verdict, status=m.status, note=m.note,  # grade's mark
                            mistake=m.verdict.mistake if m.status == m.verdict.status else None)
                    for m in marks if m.verdict is not None]
        report = Report(variant.problem, solution, verdicts, book.band,
                        source=f"{student.student}'s answers")
        context = report_context(report)
        keys = {i: k for k, i in variant.question_keys().items()}
        for m in marks:
            if m.verdict is not None:
                continue
            key = keys[m.index]
            written = rf"\text{{{escape_tex(m.given)}}}" if m.given else ""
            context["rows"].append({
                "claim": key_inline_tex(key), "name": key_tex(key), "key": escape_tex(str(key)),
                "given": written, "expected": points_free(m), "status": m.status,
                "note": note_tex(m.note, solution.key_names), "correction": None})
        docs.append(environment().get_template("verify.tex.j2").render(
            **context, student=header))
    if not docs:  # no variant known: a sheet that says so
        docs.append(environment().get_template("grade/unknown-paper.tex.j2").render(
            student=header, notes=[escape_tex(m.note) for m in student.marks]))
    return docs


def points_free(mark) -> str:
    """The expected value of a question as the sheet shows it (the asked decimals + 2)."""
    from ..numbers import format_number

    q = mark.question
    return format_number(mark.expected, q.decimals + 2) if q is not None else ""


def sheet_files(book, jobs: int | None = None, progress=None) -> dict[str, bytes]:
    """``sheet-NAME.pdf`` for every student and ``sheets.pdf`` holding them all."""
    names = file_names(book.students)
    sources, owners = [], []
    for name, student in zip(names, book.students, strict=True):
        for i, tex in enumerate(sheet_tex(student, book)):
            sources.append((f"{name}-{i}", tex))
            owners.append(name)
    pdfs = compile_many(sources, jobs=jobs, once=True, progress=progress)
    parts: dict[str, list[bytes]] = {}
    for owner, pdf in zip(owners, pdfs, strict=True):
        parts.setdefault(owner, []).append(pdf)
    files = {}
    for name, pdf_parts in parts.items():
        files[f"sheet-{name}.pdf"] = (pdf_parts[0] if len(pdf_parts) == 1
                                       else merged(pdf_parts, f"sheet-{name}"))
    files["sheets.pdf"] = merged([files[f"sheet-{n}.pdf"] for n in names], "sheets")
    return files


def merged(pdfs: list[bytes], name: str) -> bytes:
    """One PDF of the pages of ``pdfs`` in order, made by TeX (pdfpages)."""
    files = {f"part{i:05d}.pdf": pdf for i, pdf in enumerate(pdfs)}
    tex = environment().get_template("grade/merged.tex.j2").render(parts=list(files))
    return compile_pdf(tex, name, files, once=True)
