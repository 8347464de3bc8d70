"""key.json's questions are one class with one set of bounds, and there is one status
type: what the exam writes the grader reads back unchanged, what an exercise file may
ask the key may hold (and nothing more), and every example an error shows is valid."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.answerkey import MAX_DECIMALS, MAX_POINTS, KeyQuestion
from symbackprop.errors import SymbackpropError
from symbackprop.exam import make_exam, read_exercise
from symbackprop.exam.exercise import QUESTION_SPECS
from symbackprop.mistakes import MISTAKES
from symbackprop.status import ACCEPTED, JUDGED, Status

EXERCISE = """[graph]
z = "w*x"
E = "(z - 1)**2 / 2"
[inputs]
x = 0.5
[parameters]
w = 0.3
[random]
w = "choice(0.2, 0.3, 0.4)"
"""


def _exercise(tmp_path, fields: str):
    path = tmp_path / "q.toml"
    path.write_text(EXERCISE + '[[questions]]\nask = "dE/dw"\n' + fields)
    return read_exercise(str(path))


def test_what_the_exam_writes_the_grader_reads_back():
    """Every question of a real exam (numeric, multiple choice, significant digits)
    survives to_json -> JSON text -> from_json with every key.json field equal."""
    exam = make_exam(["net221", "neuron"], variants=3, seed=5)
    seen_choice = False
    for variant in exam.variants:
        for q in variant.questions:
            written = q.to_json()
            back = KeyQuestion.from_json(json.loads(json.dumps(written)), "q")
            assert back.to_json() == written
            assert back.answer == float(q.answer) and back.decimals == q.decimals
            assert back.points == q.points and back.tolerance == q.tolerance
            seen_choice = seen_choice or back.choices is not None
    assert seen_choice


def test_the_written_key_is_what_the_grader_reads(tmp_path):
    from symbackprop.grade.key import read_key

    exam = make_exam(["chain"], variants=2, seed=3)
    (tmp_path / "key.json").write_text(json.dumps(exam.key()))
    key = read_key(tmp_path)
    for variant in exam.variants:
        assert [q.to_json() for q in key.variants[variant.id].questions] == \
            [q.to_json() for q in variant.questions]


@settings(max_examples=60, deadline=None)
@given(decimals=st.integers(-2, MAX_DECIMALS + 3),
       points=st.one_of(st.integers(-2, MAX_POINTS + 2),
                        st.decimals(-1, MAX_POINTS + 1, places=2)))
def test_an_exercise_and_the_key_share_their_bounds(tmp_path_factory, decimals, points):
    """A question's decimals and points are accepted by the exercise reader exactly when
    key.json may hold them."""
    tmp = tmp_path_factory.mktemp("b")
    try:
        _exercise(tmp, f"decimals = {decimals}\npoints = {points}\n")
        by_file = True
    except SymbackpropError:
        by_file = False
    try:
        KeyQuestion.from_json({"ask": "y", "answer": 0.5, "decimals": decimals,
                               "points": float(points)})
        by_key = True
    except SymbackpropError:
        by_key = False
    assert by_file == by_key == (0 <= decimals <= MAX_DECIMALS and 0 < points <= MAX_POINTS)


@pytest.mark.parametrize("spec", QUESTION_SPECS, ids=lambda s: s.name)
def test_every_example_an_error_shows_is_accepted(tmp_path, spec):
    """The example in a field's error message is itself a valid value: written into a
    real exercise file it is read without error (the mistakes example names real
    mistakes of the catalogue)."""
    if spec.name == "ask":
        text = EXERCISE + f'[[questions]]\nask = "{spec.example.replace("w1", "w")}"\n'
        (tmp_path / "q.toml").write_text(text)
        read_exercise(str(tmp_path / "q.toml"))
        return
    from symbackprop.examples import toml_value

    _exercise(tmp_path, f"{spec.name} = {toml_value(spec.example)}\n")
    if spec.name == "mistakes":
        assert all(m in MISTAKES for m in spec.example)


@pytest.mark.parametrize("spec", [s for s in QUESTION_SPECS if s.name != "type"],
                         ids=lambda s: s.name)
def test_a_bad_field_names_it_and_shows_the_example(tmp_path, spec):
    bad = "3" if spec.name in ("ask", "prompt") else '"x"'
    path = tmp_path / "q.toml"
    asked = "" if spec.name == "ask" else 'ask = "dE/dw"\n'
    path.write_text(EXERCISE + "[[questions]]\n" + asked + f"{spec.name} = {bad}\n")
    with pytest.raises(SymbackpropError) as caught:
        read_exercise(str(path))
    assert f"#1 {spec.name}: expected {spec.what}, e.g. {spec.name} = " in str(caught.value)


@pytest.mark.parametrize("field, value, words", [
    ("decimals", 9, "variants[0].questions[0].decimals: expected a whole number of decimals from 0 to 8"),
    ("answer", float("inf"), "variants[0].questions[0].answer: expected a finite number"),
    ("points", 0, "variants[0].questions[0].points: expected points more than 0, at most 1000"),
    ("points", 1e6, "variants[0].questions[0].points: 1e+06 is larger than 1e+03"),
    ("answer", "x", "variants[0].questions[0].answer: expected a number"),
    ("tolerance", -1, "variants[0].questions[0].tolerance"),
])
def test_a_bad_key_question_names_the_field(tmp_path, field, value, words):
    from conftest import run_cli

    exam = make_exam(["chain"], variants=1, seed=3)
    key = exam.key()
    key["variants"][0]["questions"][0][field] = value
    (tmp_path / "key.json").write_text(json.dumps(key))
    (tmp_path / "r.csv").write_text("student,variant,ask,answer\n")
    r = run_cli("grade", tmp_path, tmp_path / "r.csv", "-o", tmp_path / "out")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"error: {tmp_path / 'key.json'}") and words in r.stderr


def test_one_status_type_for_verify_and_grade(tmp_path):
    """verify's verdicts and grade's marks hold the same Status members; summaries print
    as their JSON does."""
    report = sb.verify("net-221", {"E": "0.0737", "y": "0.2"})
    assert all(isinstance(v.status, Status) for v in report.verdicts)
    assert tuple(report.summary) == JUDGED
    assert repr(report.summary) == repr(json.loads(json.dumps(report.summary)))
    assert set(ACCEPTED) <= set(JUDGED) and set(JUDGED) < set(Status)
    assert {str(s) for s in Status} == {"correct", "rounding", "carried", "wrong", "invalid",
                                        "missing"}


def test_key_points_are_decimals():
    q = KeyQuestion.from_json({"ask": "y", "answer": 0.5, "points": 2.5})
    assert q.points == Decimal("2.5") and q.to_json()["points"] == 2.5
    assert KeyQuestion.from_json({"ask": "y", "answer": 0.5}).to_json()["points"] == 1
