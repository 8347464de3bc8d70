"""The exam as a Moodle XML question bank that runs a quiz: one category per exercise and
question slot.

Slot ``k`` of exercise ``E`` holds every variant's question ``k`` in the category
``$course$/top/<exam>/<E>/q<k>``, so a quiz made of one *random question* from each slot
category gives every student one variant of each question (docs/exams.md says how, step
by step). Each question has a ``<name>`` (variant id, slot and claim key), its text in
HTML with the math left in ``\\( \\)`` / ``\\[ \\]`` for Moodle's MathJax filter, and
general feedback holding the worked solution.

* Numeric questions are ``numerical``: the right answer as the question states it
  (:func:`.precision.stated`, so the review page shows "The correct answer is: -0.9577")
  with the stated tolerance, both written as exact decimals (``0.0002``, never a float's
  ``2e-05``), so that Moodle's check ``|x − answer| ≤ tolerance`` is the acceptance rule
  of :mod:`.precision`; the known mistakes' values follow as 0 % answers whose feedback
  names the mistake. The question text asks for a decimal point, since Moodle in
  English reads ``0,9608`` as 9608.
* Multiple choice is ``multichoice`` with a penalty of 1/(choices - 1) for a wrong try
  (interactive and adaptive modes), numerical a penalty of 0.1.
* :func:`cloze_xml` writes one ``cloze`` (embedded answers) question per variant holding
  all its parts, in its own categories, for a quiz of one question per exercise.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from ..answerkey import shown
from ..markup import cloze_text, html_text, xml_tree_safe
from .model import Exam
from .precision import decimal_text, stated_tolerance
from .statement import note_tex, prompt, statement, to_html, worked_steps

NUMERICAL_PENALTY = "0.1"


def _text(parent, tag: str, text: str, fmt: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if fmt:
        element.set("format", fmt)
    ET.SubElement(element, "text").text = text
    return element


def _simple(parent, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def feedback_html(variant, question) -> str:
    """The worked solution as display math, its lines aligned at their first '='."""
    lines = []
    for line in worked_steps(variant, question):
        left, eq, right = line.partition("=")
        lines.append(f"{left}&={right}" if eq else line)
    math = r"\[ \begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned} \]"
    note = ("<p><small>Numbers are rounded for display; the factors shown give each result"
            " within one unit of its last digit.</small></p>")
    return f"<p>Worked solution:</p><p>{html.escape(math, quote=False)}</p>{note}"


def exam_name(exam: Exam) -> str:
    """The top category of an exam: its exercises and seed (``net221-7``)."""
    return f"{exam.family}-{exam.seed}".replace("/", "-")


def slot_category(exam: Exam, exercise: str, slot: int | str) -> str:
    return f"$course$/top/{exam_name(exam)}/{exercise}/{slot if isinstance(slot, str) else f'q{slot}'}"


def _category(quiz, path: str, info: str) -> None:
    category = ET.SubElement(quiz, "question", type="category")
    _text(category, "category", path)
    _text(category, "info", html_text(info), "html")


def _question_text(variant, exercise, q, number: int) -> str:
    return (to_html(f"{statement(variant, exercise)}\n\n{prompt(q, variant.solution, lms=True)}")
            + f"<p><small>Variant {variant.id}, question {number}</small></p>")


def tolerance_text(q) -> str:
    """The ``<tolerance>`` of a question: the stated tolerance as an exact decimal."""
    return decimal_text(stated_tolerance(q.decimals), q.decimals)


def _numerical(node, q) -> None:
    answer = _text(node, "answer", q.shown, "moodle_auto_format", fraction="100")
    _simple(answer, "tolerance", tolerance_text(q))
    _text(answer, "feedback", "Right.", "html")
    for value, note in q.mistaken:
        wrong = _text(node, "answer", shown(value, q.decimals), "moodle_auto_format", fraction="0")
        _simple(wrong, "tolerance", tolerance_text(q))
        _text(wrong, "feedback", to_html(f"Not quite: {note_tex(note, str)}."), "html")
    _simple(node, "unitgradingtype", "0")
    _simple(node, "unitpenalty", "0")
    _simple(node, "showunits", "3")
    _simple(node, "unitsleft", "0")


def _multichoice(node, q) -> None:
    _simple(node, "single", "true")
    _simple(node, "shuffleanswers", "false")  # the key's order, shuffled by the seed
    _simple(node, "answernumbering", "abc")
    for i, (choice, note) in enumerate(zip(q.choices, q.mistakes, strict=True)):
        answer = _text(node, "answer", shown(choice, q.decimals), "html",
                       fraction="100" if i == q.correct else "0")
        _text(answer, "feedback", "Right." if note is None else
              to_html(f"Not quite: {note_tex(note, str)}."), "html")


def moodle_xml(exam: Exam) -> str:
    """Every question of the exam, slot by slot, each slot its own category."""
    quiz = ET.Element("quiz")
    for exercise in exam.exercises:
        variants = [v for v in exam.variants if v.exercise == exercise.name]
        for slot in range(1, len(variants[0].questions) + 1):
            _category(quiz, slot_category(exam, exercise.name, slot),
                      f"{exercise.title}: question {slot}, one variant per student")
            for variant in variants:
                q = variant.questions[slot - 1]
                kind = "multichoice" if q.choices is not None else "numerical"
                node = ET.SubElement(quiz, "question", type=kind)
                _text(node, "name", f"{variant.id} q{slot} {q.ask}")
                _text(node, "questiontext", _question_text(variant, exercise, q, slot), "html")
                _text(node, "generalfeedback", feedback_html(variant, q), "html")
                _simple(node, "defaultgrade", _points(q.points))
                _simple(node, "penalty", NUMERICAL_PENALTY if kind == "numerical"
                        else f"{1 / (len(q.choices) - 1):.7f}")
                _simple(node, "hidden", "0")
                _simple(node, "idnumber", f"{variant.id}-q{slot}")
                (_numerical if kind == "numerical" else _multichoice)(node, q)
    return _document(quiz)


def _points(points) -> str:
    return str(int(points)) if float(points).is_integer() else repr(float(points))


def _document(quiz) -> str:
    ET.indent(xml_tree_safe(quiz))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


# Cloze: one question per variant -----------------------------------------------------

_CLOZE_SPECIAL = str.maketrans({c: "\\" + c for c in "\\}#~/\""})


def _cloze_escape(text: str) -> str:
    """Text inside a cloze subquestion: its markup characters escaped by a backslash."""
    return text.translate(_CLOZE_SPECIAL)


def cloze_part(q) -> str:
    """One embedded answer: ``{1:NUMERICAL:=x:tol#Right.~%0%y:tol#mistake}`` or MULTICHOICE."""
    points = _points(q.points)
    if q.choices is None:
        parts = [f"={q.shown}:{tolerance_text(q)}#Right."]
        parts += [f"%0%{shown(v, q.decimals)}:{tolerance_text(q)}#{_cloze_escape(html_text('Not quite: ' + n))}"
                  for v, n in q.mistaken]
        return "{" + f"{points}:NUMERICAL:" + "~".join(parts) + "}"
    parts = [("=" if i == q.correct else "") + shown(c, q.decimals)
             + ("#Right." if n is None else "#" + _cloze_escape(html_text("Not quite: " + n)))
             for i, (c, n) in enumerate(zip(q.choices, q.mistakes, strict=True))]
    return "{" + f"{points}:MULTICHOICE:" + "~".join(parts) + "}"


def cloze_xml(exam: Exam) -> str:
    """One cloze question per variant, holding all its questions, one category per
    exercise (``.../<exercise>/cloze``)."""
    quiz = ET.Element("quiz")
    for exercise in exam.exercises:
        _category(quiz, slot_category(exam, exercise.name, "cloze"),
                  f"{exercise.title}: all questions of a variant, one variant per student")
        for variant in (v for v in exam.variants if v.exercise == exercise.name):
            body = cloze_text(to_html(statement(variant, exercise)))
            for number, q in enumerate(variant.questions, start=1):
                body += f"<p>{number}. {cloze_text(html_text(prompt(q, variant.solution, lms=True)))}" \
                        f" {cloze_part(q)}</p>"
            node = ET.SubElement(quiz, "question", type="cloze")
            _text(node, "name", f"{variant.id} cloze")
            _text(node, "questiontext", body + f"<p><small>Variant {variant.id}</small></p>", "html")
            _text(node, "generalfeedback", "".join(feedback_html(variant, q)
                                                   for q in variant.questions), "html")
            _simple(node, "penalty", "0.1")
            _simple(node, "hidden", "0")
            _simple(node, "idnumber", f"{variant.id}-cloze")
    return _document(quiz)
