"""Numbers at and beyond their limits wherever one is read: students' answers, key.json,
problem values; and the JSON every command writes is JSON (no NaN, no Infinity).

An answer of 1e24 is a number and is judged; a key whose answer is inf, 1e300 or NaN,
whose points are NaN, whose decimals are 30 or whose choices run to thousands is refused
with one line naming the field. The CLI runs in-process (``main(argv)``).
"""

from __future__ import annotations

import json
import math

import pytest

from symbackprop.cli import main


def run(argv, capsys) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_error(status, err) -> str:
    lines = err.splitlines()
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exam") / "exam"
    assert main(["exam", "net221", "--variants", "2", "--seed", "3", "--format", "key",
                 "-o", str(folder)]) == 0
    return folder


def _key(exam) -> dict:
    return json.loads((exam / "key.json").read_text())


def _responses(path, variant, ask, answer):
    path.write_text(f"student,variant,ask,answer\nann,{variant},{ask},{answer}\n")
    return path


@pytest.mark.parametrize("answer", ["1e24", "1e60", "-1e60", "12345678901234567890123456",
                                    "1e-60", "0.000000000000000000000000000001"])
def test_a_huge_or_tiny_answer_is_judged_wrong(exam, tmp_path, capsys, answer):
    key = _key(exam)
    variant = key["variants"][0]
    question = variant["questions"][0]
    responses = _responses(tmp_path / "r.csv", variant["id"], question["ask"], answer)
    status, out, err = run(["grade", exam, responses, "-o", tmp_path / "g", "--json",
                              "--report", "none"], capsys)
    assert status == 0, err
    graded = json.loads(out)["students"][0]["answers"][0]
    assert graded["status"] == "wrong"
    assert math.isclose(graded["given"], float(answer))


@pytest.mark.parametrize("answer", ["1e23.5", "1e400", "1e-400", "nan", "inf", "-Infinity"])
def test_what_is_no_number_in_range_is_invalid(exam, tmp_path, capsys, answer):
    variant = _key(exam)["variants"][0]
    responses = _responses(tmp_path / "r.csv", variant["id"], variant["questions"][0]["ask"],
                           answer)
    status, out, err = run(["grade", exam, responses, "-o", tmp_path / "g", "--json",
                              "--report", "none"], capsys)
    assert status == 0, err
    graded = json.loads(out)["students"][0]["answers"][0]
    assert graded["status"] == "invalid" and graded["given"] is None


def _bad_key(exam, tmp_path, change) -> tuple:
    key = _key(exam)
    change(key["variants"][0]["questions"][0])
    folder = tmp_path / "exam"
    folder.mkdir()
    (folder / "key.json").write_text(json.dumps(key))  # allow_nan: writes NaN, Infinity
    variant = key["variants"][0]
    responses = _responses(tmp_path / "r.csv", variant["id"], variant["questions"][0]["ask"],
                           "0.5")
    return folder, responses


KEYS = {
    "answer": ({"answer": math.inf}, "answer: expected a finite number"),
    "answer-nan": ({"answer": math.nan}, "answer: expected a finite number"),
    "answer-huge": ({"answer": 1e300}, "answer: 1e+300 is larger than 1e+15"),
    "points": ({"points": math.nan}, "points: expected a finite number"),
    "points-huge": ({"points": 1e300}, "points: 1e+300 is larger than 1e+03"),
    "decimals": ({"decimals": 30}, "decimals: expected a whole number of decimals from 0 to 8"),
    "choices": ({"choices": list(range(10_000)), "correct": 0},
                "choices: 10000 choices: at most 26"),
    "choice-nan": ({"choices": [0.5, math.nan], "correct": 0}, "choices[1]: expected a finite"),
}


@pytest.mark.parametrize("case", KEYS)
def test_a_key_out_of_bounds_is_refused_naming_the_field(exam, tmp_path, capsys, case):
    change, message = KEYS[case]
    folder, responses = _bad_key(exam, tmp_path, lambda q: q.update(change))
    status, out, err = run(["grade", folder, responses, "-o", tmp_path / "g",
                              "--report", "none"], capsys)
    line = one_error(status, err)
    assert f"key.json variants[0].questions[0].{message}" in line, line
    assert not (tmp_path / "g").exists()


def test_a_key_at_its_bounds_is_graded(exam, tmp_path, capsys):
    def change(q):
        q.update(answer=1e15, decimals=8, points=1000)
    folder, responses = _bad_key(exam, tmp_path, change)
    status, out, err = run(["grade", folder, responses, "-o", tmp_path / "g", "--json",
                              "--report", "none"], capsys)
    assert status == 0, err
    assert json.loads(out)["students"][0]["answers"][0]["status"] == "wrong"


@pytest.mark.parametrize("text,message", [
    ("[" * 200_000 + "]" * 200_000, "JSON nested too deeply"),
    ('{"variants": [' + "9" * 5000 + "]}", "a number of more than 4300 digits"),
])
def test_a_key_that_python_cannot_read_is_refused(tmp_path, capsys, text, message):
    (tmp_path / "key.json").write_text(text)
    (tmp_path / "r.csv").write_text("student,variant,ask,answer\n")
    status, _, err = run(["grade", tmp_path, tmp_path / "r.csv", "-o", tmp_path / "g",
                              "--report", "none"], capsys)
    assert message in one_error(status, err) and "key.json" in err


def test_train_json_is_json_when_the_loss_overflows(tmp_path, capsys):
    problem = tmp_path / "lin.toml"
    problem.write_text('[graph]\ny = "w*x"\nE = "(y - t)**2"\n[inputs]\nx = 3.0\nt = 1\n'
                       "[parameters]\nw = 0.5\n")
    status, out, err = run(["train", problem, "--epochs", "200", "--lr", "10", "--json"], capsys)
    assert status == 0, err
    result = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert result["final_loss"] is None  # the loss overflowed: null, not Infinity
    assert all(x is None or math.isfinite(x) for x in result["losses"])
    assert any(x is None for x in result["losses"])


def test_a_csv_with_cr_only_line_ends_is_read(exam, tmp_path, capsys):
    variant = _key(exam)["variants"][0]
    path = tmp_path / "r.csv"
    path.write_bytes(f"student,variant,ask,answer\r ann,{variant['id']},y,0.5\r".encode())
    status, out, err = run(["grade", exam, path, "-o", tmp_path / "g", "--json",
                              "--report", "none"], capsys)
    assert status == 0, err
    answers = json.loads(out)["students"][0]["answers"]
    assert [a["given"] for a in answers if a["ask"] == "y"] == [0.5]


@pytest.mark.parametrize("header", ["student,variant,ask,answer\n", "x" * 140_000 + "\n"])
def test_a_field_over_the_csv_limit_is_exit_2_naming_it(exam, tmp_path, capsys, header):
    path = tmp_path / "r.csv"
    path.write_text(header + "ann,v,y," + "1" * 140_000 + "\n")
    status, out, err = run(["grade", exam, path, "-o", tmp_path / "g",
                              "--report", "none"], capsys)
    line = one_error(status, err)
    assert str(path) in line and "131072" in line, line
