"""Text made safe for the markup formats the exports write: XML 1.0, HTML, Moodle cloze.

One function per format, applied where text is emitted (exam/moodle.py, exam/qti.py);
TeX and Markdown have theirs in render/environment.py (``escape_tex``,
``escape_markdown``).

* XML 1.0 cannot carry NUL, the C0 controls other than tab, newline and carriage
  return, U+FFFE, U+FFFF or a lone surrogate, not even as a character reference: one of
  them makes the whole file not well-formed, and Moodle or Canvas refuses it. Exercise
  files refuse them when read (exam/exercise.py); :func:`xml_tree_safe` replaces any that
  still reaches a tree (a file name, say) by U+FFFD, so that every XML written parses.
* User text placed in HTML (Moodle's ``<info>``, question text, feedback, QTI's
  ``<mattext>``) is escaped: ``<script>`` is shown, never run.
* In a cloze question's text, ``{`` and ``}`` are written as character references, so
  that ``{1:NUMERICAL:=5}`` in a prompt is shown as written instead of becoming a
  subquestion; MathJax still reads ``\\frac{a}{b}`` (the browser decodes the references).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return NOT_XML.sub("\ufffd", text)


def xml_tree_safe(root: ET.Element) -> ET.Element:
    """Every text, tail and attribute of the tree made :func:`xml_safe` (in place)."""
    for element in root.iter():
        if element.text:
            element.text = xml_safe(element.text)
        if element.tail:
            element.tail = xml_safe(element.tail)
        for name, value in element.attrib.items():
            element.set(name, xml_safe(value))
    return root


def html_text(text: str) -> str:
    """Plain text for an HTML field: ``<``, ``>`` and ``&`` escaped."""
    return html.escape(str(text), quote=False)


def cloze_text(fragment: str) -> str:
    """An HTML fragment for a cloze question's text: its braces as character references,
    so that no part of it is read as an embedded subquestion."""
    return fragment.replace("{", "&#123;").replace("}", "&#125;")
