"""The printable exam and its worked solutions as LaTeX (and, compiled, PDF).

Python prepares every string (statements, prompts, choices, derivation lines) and the
templates ``templates/exam/exam.tex.j2`` and ``solutions.tex.j2`` only lay them out:
one paper per student, holding one variant of each exercise, with a name and ID line.
"""

from __future__ import annotations

from ..render.pdf import compile_many as render_compile_many
from .model import Exam, shown
from .statement import environment, escape, note_tex, prompt, statement, worked_steps

LETTERS = "abcdefghij"


def _parts(exam: Exam, paper, solutions: bool) -> list[dict]:
    """One part per exercise of a paper: its statement and its questions."""
    parts = []
    for v in paper:
        questions = []
        for q in v.questions:
            item = {"prompt": prompt(q, v.solution), "points": q.ask.points,
                    "choices": [shown(c, q.decimals) for c in q.choices]
                    if q.choices is not None else None}
            if solutions:
                item["answer"] = q.shown
                item["letter"] = LETTERS[q.correct] if q.correct is not None else None
                item["steps"] = [_align(line) for line in worked_steps(v, q)]
                item["notes"] = None if q.choices is None else [
                    f"({LETTERS[i]}) \\({shown(c, q.decimals)}\\): {note_tex(n)}"
                    for i, (c, n) in enumerate(zip(q.choices, q.notes, strict=True))
                    if n is not None]
            questions.append(item)
        parts.append({"id": escape(v.id), "title": escape(exam.exercise(v.exercise).title),
                      "statement": statement(v, exam.exercise(v.exercise)),
                      "questions": questions})
    return parts


def _render(exam: Exam, template: str, solutions: bool) -> str:
    papers = [{"student": paper[0].student, "parts": _parts(exam, paper, solutions)}
              for paper in exam.papers]
    return environment().get_template(template).render(
        title=escape(exam.title), family=escape(exam.family), seed=exam.seed, papers=papers,
        several=len(exam.exercises) > 1)


def exam_tex(exam: Exam) -> str:
    return _render(exam, "exam/exam.tex.j2", solutions=False)


def solutions_tex(exam: Exam) -> str:
    return _render(exam, "exam/solutions.tex.j2", solutions=True)


def _align(line: str) -> str:
    for eq in ("=", r"\approx"):
        left, found, right = line.partition(eq)
        if found:
            return f"{left}&{eq}{right}"
    return line


def compile_many(sources: list[tuple[str, str]]) -> list[bytes]:
    """Compile (name, LaTeX) pairs to PDF in parallel (the render package's compiler)."""
    return render_compile_many(sources)
