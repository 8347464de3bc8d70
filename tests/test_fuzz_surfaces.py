"""Fuzzing the surfaces added after the command line's first fuzz (tests/test_fuzz_cli.py):
exercise files, responses files in each form (CSV, a folder of claims files, Moodle's
Responses report), key.json, and the pages' input (a problem's title and names).

Whatever the input: exit status 0, 1 or 2; a failure is one ``error:`` line; nothing
appears outside the output folder and no process is left; what is written is valid
JSON (no NaN), well-formed XML, and HTML whose user text stays text. The CLI runs
in-process; each test has few examples and a deadline, and takes well under a minute.
"""

from __future__ import annotations

import json
import math
import os
import random
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from symbackprop.cli import main
from tests.test_fuzz_cli import _check, _run


@pytest.fixture
def workdir(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)

FUZZ = settings(max_examples=12, deadline=60_000, derandomize=True,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

HOSTILE_TEXT = st.one_of(
    st.sampled_from(["<script>alert(1)</script>", "{1:NUMERICAL:=5}", "\\input{/etc/passwd}",
                     "^^5cinput", "\\loop", "a\x00b", "\ufffe", "[a](javascript:x)", "&amp;",
                     "]]>", "\x1b[31m", "%", "#1", "{", "}", "$x$", "\\(x\\)", "1e24", "ｘ"]),
    st.text(max_size=25))
NUMBER_TEXT = st.one_of(
    st.sampled_from(["0.5", "-0.0139", "1e24", "1e60", "12345678901234567890123456", "1e23.5",
                     "nan", "inf", "-Infinity", "0,5853", "1,234", "", "-", "b", "(c)", "0x10",
                     "1_0", "٠٫٥", "1e-400", " ", "\u2212 0.5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a TOML basic string (\uXXXX escapes)


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                found.append(int(proc.name))
    return found


def _valid_outputs(out: Path) -> None:
    """Every JSON parses without NaN/Infinity; every XML (and the QTI package's) parses."""
    if not out.exists():
        return
    def refuse(constant):
        pytest.fail(f"{constant} in JSON")

    for path in out.iterdir():
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
        elif path.suffix == ".xml":
            ET.fromstring(path.read_bytes())
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as package:
                for name in package.namelist():
                    if name.endswith(".xml"):
                        ET.fromstring(package.read(name))


def _clear(out: Path) -> None:
    if out.exists():
        for path in sorted(out.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        out.rmdir()


# --- exercise files -------------------------------------------------------------------

@st.composite
def exercise_files(draw) -> str:
    lines = [f"title = {_toml_string(draw(HOSTILE_TEXT))}"]
    if draw(st.booleans()):
        lines.append(f"statement = {_toml_string(draw(HOSTILE_TEXT) + ' {{x}}')}")
    lines += ['[graph]', 'z = "w*x"', 'y = "sigmoid(z)"', 'E = "(y - t)**2/2"',
              '[inputs]', f"x = {draw(st.sampled_from(['0.5', '1e24', '-3', '0']))}", "t = 1",
              "[parameters]", "w = 0.5"]
    lines.append("[random]")
    lines.append("x = " + _toml_string(draw(st.sampled_from([
        "uniform(-1, 1, 0.1, exclude = 0)", "uniform(1e300, 1e301, 1e299)", "integer(0, 10**30)",
        "integer(0, 99999999999999999999999999)", "choice(0.5, 0.7)", "uniform(1, 0, 0.1)",
        "choice()", "uniform(-1e-300, 1e-300, 1e-301)"]))))
    if draw(st.booleans()):
        spec = "choice(" + json.dumps(draw(HOSTILE_TEXT)) + ', "w")'
        lines.append(f"k = {_toml_string(spec)}")
    lines.append("[constraints]")
    lines.append("c = " + _toml_string(draw(st.sampled_from([
        "abs(z) < 3", "q < 1", "z < y", "x*" * 60 + "x < 1", "z < 10**400", "y != y"]))))
    lines.append("[mistakes.m]")
    lines.append(f"note = {_toml_string(draw(HOSTILE_TEXT))}")
    lines.append('graph = { y = "tanh(z)" }')
    for kind in draw(st.lists(st.sampled_from(["numeric", "multichoice"]), min_size=1,
                              max_size=2)):
        ask = draw(st.sampled_from(["dE/dw", "y", "z", "dE/d{{k}}", "<b>"]))
        lines += ["[[questions]]", f"ask = {_toml_string(ask)}",
                  f'type = "{kind}"',
                  f"prompt = {_toml_string('Compute {{ask}} ' + draw(HOSTILE_TEXT))}",
                  f"decimals = {draw(st.sampled_from([0, 4, 8, 30]))}",
                  f"points = {draw(st.sampled_from(['1', '2.5', 'nan', 'inf', '1e300']))}"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@FUZZ
@given(text=exercise_files())
def test_exam_on_random_exercise_files(workdir, text):
    path = workdir / "ex.toml"
    path.write_text(text, encoding="utf-8")
    out = workdir / "out"
    before = set(workdir.rglob("*"))
    status, err = _run(["exam", str(path), "--variants", "2", "--seed", "1", "--format",
                        "key,moodle,qti,cloze", "-o", str(out)])
    _check(status, err, before, workdir, out, [])
    assert _children() == []
    _valid_outputs(out)
    _clear(out)


# --- grading: key.json and the three forms of responses --------------------------------

@pytest.fixture(scope="module")
def exam_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-exam") / "exam"
    assert main(["exam", "net221", "--variants", "3", "--seed", "5", "--format", "key",
                 "-o", str(folder)]) == 0
    return folder


def _grade(workdir, exam, responses) -> None:
    out = workdir / "grades"
    before = set(workdir.rglob("*"))
    path = os.environ["PATH"]
    os.environ["PATH"] = str(workdir / "no-tex")  # report.pdf left out: a TeX run apiece
    try:
        status, err = _run(["grade", str(exam), str(responses), "-o", str(out), "--jobs", "1"])
    finally:
        os.environ["PATH"] = path
    _check(status, err, before, workdir, out, [])
    assert _children() == []
    _valid_outputs(out)
    _clear(out)


@st.composite
def csv_responses(draw, variants) -> bytes:
    sep = draw(st.sampled_from([",", ";", "\t"]))
    rows = [sep.join(draw(st.permutations(["student", "variant", "ask", "answer"])))]
    for _ in range(draw(st.integers(0, 6))):
        student = draw(st.one_of(st.sampled_from(["ann", "=HYPERLINK(1)", "bob"]), HOSTILE_TEXT))
        cells = {"student": student, "variant": draw(st.sampled_from(variants + ["nope"])),
                 "ask": draw(st.sampled_from(["y", "dE/dw2", "w6_new", "dE/dw9", "<b>"])),
                 "answer": draw(NUMBER_TEXT)}
        header = rows[0].split(sep)
        rows.append(sep.join('"' + cells[h].replace('"', '""') + '"' for h in header))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = ending.join(rows) + ending
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@settings(FUZZ, max_examples=6)  # the other surfaces fuzz grade in the whole suite
@given(data=st.data())
def test_grade_on_random_csv_responses(workdir, exam_dir, data):
    variants = [v["id"] for v in json.loads((exam_dir / "key.json").read_text())["variants"]]
    path = workdir / "answers.csv"
    path.write_bytes(data.draw(csv_responses(variants)))
    _grade(workdir, exam_dir, path)


@pytest.mark.slow  # the quick run fuzzes grade through CSV responses only
@FUZZ
@given(data=st.data())
def test_grade_on_a_random_claims_folder(workdir, exam_dir, data):
    variants = [v["id"] for v in json.loads((exam_dir / "key.json").read_text())["variants"]]
    folder = workdir / "papers"
    folder.mkdir(exist_ok=True)
    for path in folder.iterdir():
        path.unlink()
    for i in range(data.draw(st.integers(1, 3))):
        lines = [data.draw(st.sampled_from([f"# variant: {variants[0]}", f"variant = {variants[1]}",
                                            "# variant: nope", ""]))]
        if data.draw(st.booleans()):
            lines.append("student = " + data.draw(HOSTILE_TEXT).replace("\n", " "))
        for _ in range(data.draw(st.integers(0, 4))):
            key = data.draw(st.sampled_from(["y", "dE/dw2", "w6_new", "dE/dw9", "z["]))
            lines.append(f"{key} = {data.draw(NUMBER_TEXT)}")
        (folder / f"s{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8",
                                          errors="replace")
    _grade(workdir, exam_dir, folder)


@pytest.mark.slow  # the quick run fuzzes grade through CSV responses only
@FUZZ
@given(data=st.data())
def test_grade_on_a_random_moodle_report(workdir, exam_dir, data):
    variants = [v["id"] for v in json.loads((exam_dir / "key.json").read_text())["variants"]]
    header = ["Surname", "First name", "Email address", "State", "Question 1", "Response 1",
              "Question 2", "Response 2"]
    rows = [",".join(header)]
    for i in range(data.draw(st.integers(0, 4))):
        v = data.draw(st.sampled_from(variants + ["nope"]))
        response = data.draw(st.one_of(NUMBER_TEXT, st.just("part 1: 1e24; part 2: nan")))
        cells = [data.draw(HOSTILE_TEXT), "A", f"s{i}@x", "Finished",
                 f"Text. Variant {v}, question 1", response,
                 f"Variant {v}, question {data.draw(st.integers(-1, 9))}", data.draw(NUMBER_TEXT)]
        rows.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    path = workdir / "moodle.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8", errors="replace")
    _grade(workdir, exam_dir, path)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


@pytest.mark.slow  # the quick run fuzzes grade through CSV responses only
@FUZZ
@given(data=st.data())
def test_grade_on_a_mutated_key(workdir, exam_dir, data):
    key = json.loads((exam_dir / "key.json").read_text())
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for _ in range(data.draw(st.integers(1, 3))):  # replace one value somewhere in the key
        node, path = key, []
        while isinstance(node, dict | list) and node and rng.random() < 0.8:
            k = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append(k)
            if not isinstance(node[k], dict | list):
                break
            node = node[k]
        if not path:
            continue
        parent = key
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = data.draw(JSON_VALUES)
    folder = workdir / "exam"
    folder.mkdir(exist_ok=True)
    (folder / "key.json").write_text(json.dumps(key))  # NaN and Infinity written as Python does
    variant = key.get("variants", [{}])[0] if isinstance(key.get("variants"), list) and \
        key["variants"] and isinstance(key["variants"][0], dict) else {}
    (workdir / "r.csv").write_text(f"student,variant,ask,answer\nann,{variant.get('id', 'x')},"
                                   f"y,0.5\n")
    _grade(workdir, folder, workdir / "r.csv")


# --- pages ---------------------------------------------------------------------------

@FUZZ
@given(title=HOSTILE_TEXT, value=st.floats(allow_nan=False, allow_infinity=False,
                                           min_value=-1e6, max_value=1e6))
def test_pages_keep_a_hostile_title_as_text(workdir, title, value):
    path = workdir / "p.toml"
    path.write_text(f"title = {_toml_string(title)}\n[graph]\nz = \"w*x\"\ny = \"sigmoid(z)\"\n"
                    f"[inputs]\nx = {value!r}\n[parameters]\nw = 0.5\n", encoding="utf-8")
    out = workdir / "out"
    before = set(workdir.rglob("*"))
    status, err = _run(["solve", str(path), "--format", "html,json,md", "-o", str(out)])
    _check(status, err, before, workdir, out, [])
    _valid_outputs(out)
    if status == 0:
        page = (out / "p.html").read_text(encoding="utf-8")
        if "<" in title and "script" in title:
            assert title not in page
        assert math.isfinite(value)
    _clear(out)
