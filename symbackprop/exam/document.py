"""The printable exam and its worked solutions as LaTeX (and, compiled, PDF).

Python prepares every string (statements, prompts, choices, derivation lines) and the
templates ``templates/exam/exam.tex.j2`` and ``solutions.tex.j2`` only lay them out:
one variant per page, with a name and ID line and the variant id on the exam.
"""

from __future__ import annotations

from ..render.pdf import compile_many as render_compile_many
from .model import Exam, shown
from .statement import environment, escape, note_tex, prompt, statement, worked_steps

LETTERS = "abcdefghij"


def _math_number(value: float, decimals: int) -> str:
    return shown(value, decimals)


def exam_tex(exam: Exam) -> str:
    pages = []
    for v in exam.variants:
        questions = [{"prompt": prompt(q),
                      "choices": [_math_number(c, q.ask.decimals) for c in q.choices]
                      if q.choices is not None else None}
                     for q in v.questions]
        pages.append({"id": escape(v.id), "statement": statement(v), "questions": questions})
    return environment().get_template("exam/exam.tex.j2").render(
        title=escape(exam.title), family=escape(exam.family), seed=exam.seed, pages=pages)


def solutions_tex(exam: Exam) -> str:
    pages = []
    for v in exam.variants:
        questions = []
        for q in v.questions:
            notes = None
            if q.choices is not None:
                notes = [f"({LETTERS[i]}) \\({_math_number(c, q.ask.decimals)}\\): {note_tex(n)}"
                         for i, (c, n) in enumerate(zip(q.choices, q.notes, strict=True))
                         if n is not None]
            questions.append({
                "prompt": prompt(q),
                "answer": _math_number(q.answer, q.ask.decimals),
                "letter": LETTERS[q.correct] if q.correct is not None else None,
                "steps": [_align(line) for line in worked_steps(v, q)],
                "notes": notes,
            })
        pages.append({"id": escape(v.id), "statement": statement(v), "questions": questions})
    return environment().get_template("exam/solutions.tex.j2").render(
        title=escape(exam.title), family=escape(exam.family), seed=exam.seed, pages=pages)


def _align(line: str) -> str:
    left, eq, right = line.partition("=")
    return f"{left}&={right}" if eq else line


def compile_many(sources: list[tuple[str, str]]) -> list[bytes]:
    """Compile (name, LaTeX) pairs to PDF in parallel (the render package's compiler)."""
    return render_compile_many(sources)
