"""The printable exam and its worked solutions as LaTeX (and, compiled, PDF).

Python prepares every string (statements, prompts, choices, derivation lines) and the
templates ``templates/exam/exam.tex.j2`` and ``solutions.tex.j2`` only lay them out:
one paper per student, holding one variant of each exercise, with a name and ID line.
"""

from __future__ import annotations

from ..answerkey import shown
from ..render.pdf import compile_many as render_compile_many
from .model import Exam
from .statement import environment, escape, note_tex, prompt, statement, worked_steps

LETTERS = "abcdefghij"


def _parts(exam: Exam, paper, solutions: bool) -> list[dict]:
    """One part per exercise of a paper: its statement and its questions."""
    parts = []
    for v in paper:
        questions = []
        for q in v.questions:
            item = {"prompt": prompt(q, v.solution), "points": q.points,
                    "choices": [shown(c, q.decimals) for c in q.choices]
                    if q.choices is not None else None}
            if solutions:
                item["answer"] = q.shown
                item["letter"] = LETTERS[q.correct] if q.correct is not None else None
                item["steps"] = [_align(line) for line in worked_steps(v, q)]
                item["notes"] = None if q.choices is None else [
                    f"({LETTERS[i]}) \\({shown(c, q.decimals)}\\): {note_tex(n)}"
                    for i, (c, n) in enumerate(zip(q.choices, q.mistakes, strict=True))
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


#: Answer columns per table of the key: portrait up to PORTRAIT_COLUMNS, else landscape.
PORTRAIT_COLUMNS = 6
LANDSCAPE_COLUMNS = 9


def key_tex(exam: Exam) -> str:
    """The compact answer key (``key.pdf``): one line per paper, each question's answer
    as the solutions print it, at the precision asked; a choice's letter before it."""
    several = len(exam.exercises) > 1
    labels: list[str] = []
    rows = []
    for paper in exam.papers:
        cells, names = [], []
        for i, v in enumerate(paper, start=1):
            for j, q in enumerate(v.questions, start=1):
                names.append(f"{i}.{j}" if several else str(j))
                letter = f"({LETTERS[q.correct]})~" if q.correct is not None else ""
                cells.append(f"{letter}\\({q.shown}\\)")
        labels = names if len(names) > len(labels) else labels
        rows.append((paper[0].student, cells))
    width = PORTRAIT_COLUMNS if len(labels) <= PORTRAIT_COLUMNS else LANDSCAPE_COLUMNS
    blocks = [{"labels": labels[k:k + width],
               "rows": [{"student": s, "cells": c[k:k + width]} for s, c in rows]}
              for k in range(0, len(labels), width)]
    exercises = ", ".join(f"{i}. {escape(e.title)}" for i, e in enumerate(exam.exercises, 1))
    note = ("Each answer is given at the precision the question asks; a letter marks the"
            " right choice of a multiple-choice question. Paper \\(k\\) holds variant"
            " \\(k\\) of each exercise (its ID ends in \\(k\\)); the solutions derive every"
            " answer." + (f" Exercises: {exercises}." if several else ""))
    return environment().get_template("exam/key.tex.j2").render(
        title=escape(exam.title), seed=exam.seed, landscape=width > PORTRAIT_COLUMNS,
        note=note, blocks=blocks)


def compile_many(sources: list[tuple[str, str]]) -> list[bytes]:
    """Compile (name, LaTeX) pairs to PDF in parallel (the render package's compiler)."""
    return render_compile_many(sources)
