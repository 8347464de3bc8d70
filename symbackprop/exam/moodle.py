"""The exam as a Moodle XML quiz: one question per variant and question.

Each family gets a category (``$course$/top/symbackprop/<family>``); each question has a
``<name>`` (variant id and claim key), its text in HTML with the math left in
``\\( \\)`` / ``\\[ \\]`` for Moodle's MathJax filter, and general feedback holding the
worked solution. Numeric questions are ``numerical`` with an absolute tolerance; the
others ``multichoice`` with one answer at fraction 100 and the distractors at 0, each
distractor's feedback naming the mistake behind it.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from ..numbers import to_float
from .model import Exam, shown
from .statement import note_tex, prompt, statement, to_html, worked_steps


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
    return f"<p>Worked solution:</p><p>{html.escape(math, quote=False)}</p>"


def moodle_xml(exam: Exam) -> str:
    quiz = ET.Element("quiz")
    category = ET.SubElement(quiz, "question", type="category")
    _text(category, "category", f"$course$/top/symbackprop/{exam.family}")
    _text(category, "info", exam.title, "html")
    for variant in exam.variants:
        text = statement(variant)
        for number, q in enumerate(variant.questions, start=1):
            kind = "multichoice" if q.choices is not None else "numerical"
            node = ET.SubElement(quiz, "question", type=kind)
            _text(node, "name", f"{variant.id} Q{number} {q.ask.key}")
            _text(node, "questiontext", to_html(f"{text}\n\n{prompt(q)}") +
                  f"<p><small>Variant {variant.id}, question {number}</small></p>", "html")
            _text(node, "generalfeedback", feedback_html(variant, q), "html")
            _simple(node, "defaultgrade", "1")
            _simple(node, "penalty", "0")
            _simple(node, "hidden", "0")
            _simple(node, "idnumber", f"{variant.id}-q{number}")
            if kind == "numerical":
                answer = _text(node, "answer", repr(to_float(q.answer)), "moodle_auto_format",
                               fraction="100")
                _simple(answer, "tolerance", repr(q.tolerance))
                _text(answer, "feedback", "", "html")
                _simple(node, "unitgradingtype", "0")
                _simple(node, "unitpenalty", "0")
                _simple(node, "showunits", "3")
                _simple(node, "unitsleft", "0")
                continue
            _simple(node, "single", "true")
            _simple(node, "shuffleanswers", "false")  # the key's order, shuffled by the seed
            _simple(node, "answernumbering", "abc")
            for i, (choice, note) in enumerate(zip(q.choices, q.notes, strict=True)):
                answer = _text(node, "answer", shown(choice, q.ask.decimals), "html",
                               fraction="100" if i == q.correct else "0")
                _text(answer, "feedback", "Right." if note is None else
                      to_html(f"Not quite: {note_tex(note, str)}."), "html")
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
