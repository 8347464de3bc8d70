"""Hostile text in an exercise file never becomes markup in an export, and every XML
written parses.

Titles, mistake notes and prompts carrying HTML, cloze syntax and characters XML 1.0
cannot carry go through ``exam`` into moodle.xml, moodle-cloze.xml and the QTI package;
each file is parsed with the standard library's XML parser, each HTML field with its
HTML parser, and no tag of the user's text comes out as a tag.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbackprop.cli import main
from symbackprop.markup import cloze_text, xml_safe

HOSTILE_TITLE = "<script>alert(1)</script> <img src=x onerror=alert(2)> & [a](javascript:x)"
HOSTILE_NOTE = "<img src=x onerror=alert(3)> took {1:NUMERICAL:=5} for the sum"

EXERCISE = '''
title = {title}
[graph]
y = "w*x"
m = "w + x"
E = "(y - t)**2 / 2"
[inputs]
x = 0.5
t = 1
[parameters]
w = 0.3
[random]
w = "uniform(0.1, 0.9, 0.1)"
[mistakes.added]
note = {note}
graph = {{ y = "w + x" }}
[[questions]]
ask = "y"
prompt = {prompt}
[[questions]]
ask = "dE/dw"
type = "multichoice"
'''


def _write(tmp_path, title, note, prompt):
    path = tmp_path / "ex.toml"
    path.write_text(EXERCISE.format(title=_toml(title), note=_toml(note), prompt=_toml(prompt)),
                    encoding="utf-8")
    return path


def _toml(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out) + '"'


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def html_tags(fragment: str) -> list:
    parser = _Tags()
    parser.feed(fragment)
    return parser.tags


def _exports(out) -> dict[str, ET.Element]:
    trees = {name: ET.fromstring((out / name).read_bytes())
             for name in ("moodle.xml", "moodle-cloze.xml")}
    with zipfile.ZipFile(out / "canvas-qti.zip") as package:
        for name in package.namelist():
            if name.endswith(".xml"):
                trees[name] = ET.parse(io.BytesIO(package.read(name))).getroot()
    return trees


def test_markup_in_titles_notes_and_prompts_stays_text(tmp_path, capsys):
    path = _write(tmp_path, HOSTILE_TITLE, HOSTILE_NOTE,
                  "Compute {{ask}} {1:NUMERICAL:=5} <b onclick=x>now</b>.")
    out = tmp_path / "out"
    assert main(["exam", str(path), "--variants", "2", "--seed", "1", "--format",
                 "key,moodle,qti,cloze", "-o", str(out)]) == 0, capsys.readouterr().err
    for name, root in _exports(out).items():
        for element in root.iter():  # attributes are plain text (a title="..." is shown)
            for tag, attrs in html_tags(element.text or ""):
                assert tag in {"p", "small", "br"} and not attrs, (name, element.text)
    cloze = ET.fromstring((out / "moodle-cloze.xml").read_bytes())
    for question in cloze.iter("question"):
        if question.get("type") == "cloze":
            text = question.find("questiontext/text").text
            assert len(re.findall(r"\{\d*:(NUMERICAL|MULTICHOICE)", text)) == 2, text


@pytest.mark.parametrize("field", ["title", "note", "prompt"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\ufffe"])
def test_characters_xml_cannot_carry_are_refused_naming_the_field(tmp_path, capsys, field,
                                                                  char):
    values = {"title": "T", "note": "n", "prompt": "Compute {{ask}}."}
    values[field] = f"a{char}b"
    path = _write(tmp_path, **values)
    assert main(["exam", str(path), "--variants", "1", "--seed", "1", "--format", "key",
                 "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}"), err
    assert f"U+{ord(char):04X}" in err[0] and field in err[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_xml_safe_text_always_parses(text):
    element = ET.Element("t", a=xml_safe(text))
    element.text = xml_safe(text)
    parsed = ET.fromstring(ET.tostring(element, encoding="unicode"))  # parses: no error
    assert parsed.get("a") == xml_safe(text)  # an attribute keeps even \r


@given(st.text(alphabet="{}0123456789:NUMERICAL=~#ab ", max_size=40))
def test_cloze_text_has_no_brace_left(text):
    assert "{" not in cloze_text(text) and "}" not in cloze_text(text)


@pytest.mark.parametrize("title", ['a "quoted" <title> & more', "<img src=x onerror=alert(1)>\u2028"])
def test_qti_title_attributes_keep_a_hostile_title_as_text(tmp_path, capsys, title):
    """The QTI assessment's and its question groups' ``title`` attributes hold the title
    as plain text: the XML parses, and the attribute reads back as the title itself."""
    path = _write(tmp_path, title, "n", "Compute {{ask}}.")
    out = tmp_path / "out"
    assert main(["exam", str(path), "--variants", "1", "--seed", "1", "--format", "qti",
                 "-o", str(out)]) == 0, capsys.readouterr().err
    with zipfile.ZipFile(out / "canvas-qti.zip") as package:
        root = ET.fromstring(package.read("assessment.xml"))
    ns = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    assert root.find(f"{ns}assessment").get("title") == xml_safe(title)
    groups = [s.get("title") for s in root.iter(f"{ns}section") if s.get("title")]
    assert groups and all(t.startswith(xml_safe(title) + ": question") for t in groups)
    assert all(i.get("title") and "<" not in i.get("title") for i in root.iter(f"{ns}item"))


def test_exam_refuses_a_mini_batch_past_the_worked_limit(tmp_path, capsys):
    """``exam`` applies ``solve``'s limit on a mini-batch (each variant is a worked
    solution), at load, naming the file and the field."""
    from symbackprop.limits import MAX_WORKED_BATCH

    n = MAX_WORKED_BATCH + 1
    path = tmp_path / "batch.toml"
    path.write_text(f'''title = "A batch"
batch = "all"
[graph]
z = "w*x"
E = "(z - t)**2 / 2"
[parameters]
w = 0.5
[data]
x = [{", ".join(["0.5"] * n)}]
t = [{", ".join(["1"] * n)}]
[[questions]]
ask = "dE/dw"
''', encoding="utf-8")
    assert main(["exam", str(path), "--variants", "1", "--seed", "1", "--format", "key",
                 "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {path} batch: a mini-batch of {n} samples: a worked solution takes "
                   f"at most {MAX_WORKED_BATCH} (the limit; docs/limits.md); train takes more"]
    assert not (tmp_path / "out").exists()
