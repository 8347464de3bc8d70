"""``symbackprop grade``: a class of 300 students with planted mistakes.

The exam is made by ``symbackprop exam``; every planted answer is computed in this file
from the key's problem by the independent oracle (``sympy.diff`` of the fully
substituted expression, tests/oracle.py), never by the engine: a sign flip, the local
derivative dy/dz_c dropped from the chain, the learning rate forgotten or the update
added, a wrong forward value with the later answers computed from it by hand (error
carried forward), a bad number, a missing answer, a decimal comma, and one wrong value
shared by many papers. The gradebook must give each planted answer the status and
points the plant implies.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import sympy as sp
from oracle import graph_oracle
from test_exam import _as_toml_numbers

from symbackprop.cli import main

STUDENTS = 300
VARIANTS = 60
SHARED_WRONG = "0.1234"  # the same wrong y on many papers: suspicious


def shown(value, decimals: int) -> str:
    d = Decimal(str(sp.N(value, 30))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return format(d, "f")


class Oracle:
    """The true and the planted answers of one variant, from its problem alone."""

    def __init__(self, variant: dict):
        table = _as_toml_numbers(variant["problem"])
        self.table = table
        _, self.grads, self.full, self.symbols, self.point = graph_oracle(table)
        self.rate = sp.Rational(str(table["learning_rate"]))
        self.asks = [q["ask"] for q in variant["questions"]]
        self.decimals = [q["decimals"] for q in variant["questions"]]
        assert self.asks[0] == "y" and self.asks[1].startswith("dE/dw")
        assert self.asks[2].endswith("_new")
        self.w_grad = self.asks[1].split("/d")[1]  # the hidden weight asked
        self.w_new = self.asks[2][:-4]  # the updated output weight

    def value(self, name):
        return sp.N(self.full[name].xreplace(self.point), 40)

    def leaf(self, name):
        return sp.Rational(str({**self.table["inputs"], **self.table["parameters"]}[name]))

    def truth(self) -> list:
        w = self.w_new
        return [self.value("y"), self.grads[self.w_grad],
                self.leaf(w) - self.rate * self.grads[w]]

    def dzc_dw(self, w):
        return sp.diff(self.full["z_c"], self.symbols[w]).xreplace(self.point)

    def dropped_dy_dzc(self):
        y = self.value("y")
        return self.grads[self.w_grad] / (y * (1 - y))

    def carried_from(self, y_given):
        """dE/dw and w_new computed by hand from a wrong y (σ' = y(1 − y) at the given y)."""
        y_t = self.leaf("y_t")
        factor = (y_given - y_t) * y_given * (1 - y_given)  # dE/dy * dy/dz_c
        grad = factor * self.dzc_dw(self.w_grad)
        w = self.w_new
        return grad, self.leaf(w) - self.rate * factor * self.dzc_dw(w)


#: plant -> (the statuses it implies for y, dE/dw, w_new; the points)
PLANTS = {
    "none": (("correct", "correct", "correct"), "3"),
    "sign": (("correct", "wrong", "correct"), "2"),
    "dropped": (("correct", "wrong", "correct"), "2"),
    "no_rate": (("correct", "correct", "wrong"), "2"),
    "carried": (("wrong", "carried", "carried"), "1"),
    "bad_number": (("correct", "correct", "invalid"), "2"),
    "missing": (("correct", "missing", "correct"), "2"),
    "comma": (("correct", "correct", "correct"), "3"),
    "added": (("correct", "correct", "wrong"), "2"),
    "same_wrong": (("wrong", "correct", "correct"), "2"),
    "copied": (("wrong", "correct", "correct"), "2"),
}


_ORACLES: dict[str, Oracle] = {}


def oracle_of(variant: dict) -> Oracle:
    """The oracle of a variant, worked out once for every student who has it."""
    if variant["id"] not in _ORACLES:
        _ORACLES[variant["id"]] = Oracle(variant)
    return _ORACLES[variant["id"]]


def planted_rows(student: str, variant: dict, plant: str,
                 neighbour: dict | None = None) -> tuple[list[list[str]], list, str]:
    """The rows of one student, and the statuses and points the plant implies: a
    planted number that comes out the same as the true one at the precision asked (a
    forgotten learning rate on a tiny gradient) is correct, one within the stated
    tolerance (2 units of the last asked place) of the true answer rounded to the asked
    places is rounding: the acceptance rule the question states, docs/exams.md."""
    o = oracle_of(variant)
    values = o.truth()
    answers = [shown(v, d) for v, d in zip(values, o.decimals, strict=True)]
    y_d, g_d, w_d = o.decimals
    if plant == "sign":
        answers[1] = shown(-values[1], g_d)
    elif plant == "dropped":
        answers[1] = shown(o.dropped_dy_dzc(), g_d)
    elif plant == "no_rate":
        answers[2] = shown(o.leaf(o.w_new) - o.grads[o.w_new], w_d)
    elif plant == "added":
        answers[2] = shown(o.leaf(o.w_new) + o.rate * o.grads[o.w_new], w_d)
    elif plant == "carried":
        y_given = sp.Rational(answers[0]) + sp.Rational("0.05")
        grad, w_new = o.carried_from(y_given)
        answers = [shown(y_given, y_d), shown(grad, g_d), shown(w_new, w_d)]
    elif plant == "bad_number":
        answers[2] = "0.62.1"
    elif plant == "comma":
        answers[0] = answers[0].replace(".", ",")
    elif plant == "same_wrong":
        answers[0] = SHARED_WRONG
    elif plant == "copied":  # y copied from a neighbour with another variant
        answers[0] = shown(oracle_of(neighbour).truth()[0], y_d)
    rows = [[student, variant["id"], ask, a] for ask, a in zip(o.asks, answers, strict=True)]
    if plant == "missing":
        del rows[1]
    statuses = list(PLANTS[plant][0])
    truth = [shown(v, d) for v, d in zip(values, o.decimals, strict=True)]
    for i, answer in enumerate(answers):
        if statuses[i] not in ("wrong", "carried"):
            continue
        off = abs(Decimal(answer) - Decimal(truth[i])) / Decimal(1).scaleb(-o.decimals[i])
        if answer == truth[i]:
            statuses[i] = "correct"  # the slip does not show at the precision asked
        elif off <= 2:
            statuses[i] = "rounding"  # within the rounding band of 2 units
    worth = {"correct": 1, "rounding": 1, "carried": Decimal("0.5")}
    points = str(sum(worth.get(st, 0) for st in statuses))
    return rows, tuple(statuses), points


@pytest.fixture(scope="module")
def exam_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exam")
    assert main(["exam", "net221", "--variants", str(VARIANTS), "--seed", "11",
                 "--format", "key,moodle", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def key(exam_dir) -> dict:
    return json.loads((exam_dir / "key.json").read_text())


@pytest.fixture(scope="module")
def klass(exam_dir, key, tmp_path_factory):
    """The class's CSV (300 students) and the plant of each student."""
    plants = {}
    rows = [["student", "variant", "ask", "answer", "comment"]]
    names = list(PLANTS)
    for i in range(STUDENTS):
        student = f"s{i:03d}"
        plant = names[i % len(names)]
        neighbour = key["variants"][(i + 1) % VARIANTS]
        planted, statuses, points = planted_rows(student, key["variants"][i % VARIANTS], plant,
                                                 neighbour)
        plants[student] = (plant, key["variants"][i % VARIANTS], statuses, points)
        rows += [r + ["planted"] for r in planted]
    rows.append(["ghost", "net221-11-999", "y", "0.5", ""])  # an unknown variant
    path = tmp_path_factory.mktemp("class") / "answers.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path, plants


@pytest.fixture(scope="module")
def graded(exam_dir, klass, tmp_path_factory):
    path, plants = klass
    out = tmp_path_factory.mktemp("grades")
    import contextlib

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(exam_dir), str(path), "-o", str(out), "--json",
                       "--report", "markdown",  # the PDF: test_class_report_pdf
                       "--jobs", "1"])  # the tests run side by side already
    assert status == 0, stderr.getvalue()
    return json.loads(stdout.getvalue()), out, stderr.getvalue(), plants


@pytest.fixture(scope="module")
def few(klass, tmp_path_factory):
    """Two students of each plant and the ghost: the class's rows cut down, for the
    tests that grade it again with other settings."""
    path, plants = klass
    rows = list(csv.reader(path.open(encoding="utf-8")))
    chosen = {f"s{i:03d}" for i in range(2 * len(PLANTS))} | {"ghost"}
    small = tmp_path_factory.mktemp("few") / "few.csv"
    with small.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if r[0] in chosen])
    return small, plants


def test_the_oracle_agrees_with_the_key(key):
    for variant in key["variants"][:10]:
        o = Oracle(variant)
        for value, q in zip(o.truth(), variant["questions"], strict=True):
            assert abs(float(value) - q["answer"]) < 1e-12


def test_every_status_and_point_is_what_the_plant_implies(graded):
    report, _, _, plants = graded
    students = {s["student"]: s for s in report["students"]}
    assert len(students) == STUDENTS + 1
    for name, (plant, variant, statuses, points) in plants.items():
        s = students[name]
        assert s["variant"] == variant["id"]
        got = [a["status"] for a in s["answers"]]
        assert got == list(statuses), (name, plant, s["answers"])
        assert Decimal(str(s["points"])) == Decimal(points), (name, plant)
        assert s["max_points"] == 3
        for a, q in zip(s["answers"], variant["questions"], strict=True):
            assert a["ask"] == q["ask"]
            want = {"correct": 1, "rounding": 1, "carried": 0.5}.get(a["status"], 0)
            assert a["points"] == want


def test_the_planted_mistakes_are_named(graded):
    report, _, _, plants = graded
    students = {s["student"]: s for s in report["students"]}
    expected_words = {"sign": (1, "as if one flipped the sign"), "dropped": (1, "factor dy/dz_c"),
                      "no_rate": (2, "forgot the learning rate"),
                      "added": (2, "instead of subtracting it"),
                      "carried": (1, "follows from the given y"),
                      "bad_number": (2, "not a number")}
    for name, (plant, _, statuses, _) in plants.items():
        if plant in expected_words and statuses == PLANTS[plant][0]:
            index, words = expected_words[plant]
            assert words in students[name]["answers"][index]["note"], (plant, students[name])


def test_the_unknown_variant_is_graded_invalid_and_listed(graded):
    report, out, stderr, plants = graded
    ghost = next(s for s in report["students"] if s["student"] == "ghost")
    assert ghost["points"] == 0 and ghost["max_points"] == 3
    assert [a["status"] for a in ghost["answers"]] == ["missing"] * 3 + ["invalid"]
    assert "unknown variant 'net221-11-999'" in ghost["answers"][3]["note"]
    assert "ghost: unknown variant" in stderr
    bad = sum(1 for p, *_ in plants.values() if p == "bad_number")
    assert stderr.count("invalid:") == bad + 1  # the bad numbers and the ghost
    assert "not a number" in stderr


def test_gradebook_csv_is_contract_section_7(graded):
    report, out, _, plants = graded
    rows = list(csv.reader((out / "gradebook.csv").open(encoding="utf-8")))
    assert rows[0] == ["student", "variant", "points", "max_points", "q1", "q2", "q3"]
    assert len(rows) == STUDENTS + 2
    by_name = {r[0]: r for r in rows[1:]}
    for name, (_, variant, statuses, points) in plants.items():
        row = by_name[name]
        assert row[1] == variant["id"]
        assert Decimal(row[2]) == Decimal(points) and row[3] == "3"
        cells = [Decimal(c) for c in row[4:]]
        assert sum(cells) == Decimal(row[2])
        for cell, status in zip(cells, statuses, strict=True):
            assert cell == {"correct": 1, "rounding": 1, "carried": Decimal("0.5")}.get(status, 0)
    assert by_name["ghost"][2:] == ["0", "3", "0", "0", "0"]


def test_moodle_grades_csv(graded):
    _, out, _, plants = graded
    rows = list(csv.reader((out / "moodle-grades.csv").open(encoding="utf-8")))
    assert rows[0] == ["Student", "Grade", "Feedback"]
    grades = {r[0]: r for r in rows[1:]}
    for name, (_, _, _, points) in plants.items():
        assert Decimal(grades[name][1]) == Decimal(points)
        assert grades[name][2].startswith(f"{grades[name][1]}/3: ")


def test_carried_share(exam_dir, few, tmp_path):
    path, plants = few
    from symbackprop.grade import grade

    book = grade(exam_dir, path, carried="0.25")
    worth = {"correct": 1, "rounding": 1, "carried": Decimal("0.25")}
    carried = [s for s in book.students
               if s.student in plants and plants[s.student][0] == "carried"]
    assert len(carried) == 2
    for s in carried:
        statuses = plants[s.student][2]
        assert s.points == sum(worth.get(st, 0) for st in statuses)


# ------------------------------------------------------------------------ file formats


def _grade_json(exam_dir, responses, tmp_path, *extra):
    import contextlib

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(exam_dir), str(responses), "-o", str(tmp_path / "out"),
                       "--json", "--report", "none", *extra])
    return status, (json.loads(stdout.getvalue()) if status == 0 else None), stderr.getvalue()


def test_semicolon_csv_with_bom_and_decimal_commas(exam_dir, key, tmp_path):
    variant = key["variants"][0]
    o = Oracle(variant)
    answers = [shown(v, d).replace(".", ",") for v, d in zip(o.truth(), o.decimals, strict=True)]
    lines = ["Answer;Student;Variant;Ask"] + [f"{a};Ann Lee;{variant['id']};{ask}"
                                              for a, ask in zip(answers, o.asks, strict=True)]
    path = tmp_path / "excel.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))
    status, report, _ = _grade_json(exam_dir, path, tmp_path)
    assert status == 0
    (ann,) = report["students"]
    assert ann["student"] == "Ann Lee"
    assert [a["status"] for a in ann["answers"]] == ["correct"] * 3


def test_multiple_choice_letter_and_fewer_decimals(exam_dir, key, tmp_path):
    variant = key["variants"][0]
    q = variant["questions"][2]
    o = Oracle(variant)
    letter = "abcd"[q["correct"]]
    y = o.truth()[0]
    rows = [f"s1,{variant['id']},{variant['questions'][2]['ask']},{letter.upper()}",
            f"s1,{variant['id']},y,{shown(y, 2)}"]
    path = tmp_path / "mc.csv"
    path.write_text("student,variant,ask,answer\n" + "\n".join(rows) + "\n")
    status, report, _ = _grade_json(exam_dir, path, tmp_path)
    answers = report["students"][0]["answers"]
    assert answers[2]["status"] == "correct"
    # 2 decimals written where 4 are asked: read as 0.xx00, which is wrong unless y is
    # that close to a multiple of 0.01.
    close = abs(Decimal(shown(y, 2)) - Decimal(str(sp.N(y, 30)))) <= Decimal("0.00005")
    assert answers[0]["status"] == ("correct" if close else "wrong")
    assert "4 decimals asked" in answers[0]["note"]


def test_claims_folder(exam_dir, key, tmp_path):
    folder = tmp_path / "sheets"
    folder.mkdir()
    for i in range(3):
        variant = key["variants"][i]
        o = Oracle(variant)
        lines = [f"# variant: {variant['id']}"] + [
            f"{ask} = {shown(v, d)}" for ask, v, d in zip(o.asks, o.truth(), o.decimals, strict=True)]
        if i == 2:
            lines[1] = "y = 1,5"  # one wrong, with a decimal comma
        (folder / f"student{i}.txt").write_text("\n".join(lines) + "\n")
    status, report, _ = _grade_json(exam_dir, folder, tmp_path)
    assert status == 0
    points = {s["student"]: s["points"] for s in report["students"]}
    assert points == {"student0": 3, "student1": 3, "student2": 2}


# ------------------------------------------------------------------------ bad input


def _run(exam_dir, responses, out):
    import contextlib

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main(["grade", str(exam_dir), str(responses), "-o", str(out)])
    return status, stderr.getvalue()


def test_csv_without_header_exits_2_and_changes_nothing(exam_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "gradebook.csv").write_text("mine\n")
    path = tmp_path / "noheader.csv"
    path.write_text("s1,net221-11-001,y,0.5\n")
    status, err = _run(exam_dir, path, out)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path} header: no column")
    assert (out / "gradebook.csv").read_text() == "mine\n"


@pytest.mark.parametrize("breakage, field", [
    (lambda k: k.pop("variants"), "variants"),
    (lambda k: k["variants"][1]["questions"][0].update(answer="x"), "variants[1].questions[0].answer"),
    (lambda k: k["variants"][0].update(id=k["variants"][1]["id"]), "variants[1].id"),
    (lambda k: k["variants"][0]["questions"][0].update(decimals=-1), "variants[0].questions[0].decimals"),
])
def test_malformed_key_exits_2_naming_file_and_field(key, tmp_path, breakage, field):
    broken = json.loads(json.dumps(key))
    breakage(broken)
    exam = tmp_path / "exam"
    exam.mkdir()
    (exam / "key.json").write_text(json.dumps(broken))
    path = tmp_path / "a.csv"
    path.write_text("student,variant,ask,answer\ns1,x,y,1\n")
    status, err = _run(exam, path, tmp_path / "out")
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {exam / 'key.json'} {field}:"), err
    assert not (tmp_path / "out").exists()


def test_a_key_whose_problem_does_not_load(key, tmp_path):
    broken = json.loads(json.dumps(key))
    broken["variants"][0]["problem"]["graph"]["y"] = "sigmoid(z_c"
    exam = tmp_path / "exam"
    exam.mkdir()
    (exam / "key.json").write_text(json.dumps(broken))
    path = tmp_path / "a.csv"
    path.write_text(f"student,variant,ask,answer\ns1,{key['variants'][0]['id']},y,1\n")
    status, err = _run(exam, path, tmp_path / "out")
    assert status == 2
    assert err.startswith(f"error: {exam / 'key.json'} variants[0].problem.graph.y")
    assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------ Moodle


def _moodle_questions(exam_dir) -> dict[tuple[str, int], str]:
    """(variant id, question number) -> the question's text as plain text, the way
    Moodle's Responses report shows it (tags stripped, entities decoded)."""
    import html
    import re
    import xml.etree.ElementTree as ET

    texts = {}
    for q in ET.parse(exam_dir / "moodle.xml").getroot().iter("question"):
        if q.get("type") == "category":
            continue
        name = q.find("name/text").text
        variant, number = name.split()[0], int(name.split()[1][1:])
        body = q.find("questiontext/text").text
        plain = html.unescape(re.sub(r"<[^>]+>", "\n", body))
        texts[variant, number] = re.sub(r"\n+", "\n", plain).strip()
    return texts


def test_moodle_responses_export(exam_dir, key, tmp_path):
    """A quiz of one random question per slot: each slot may hold another variant."""
    import random

    texts = _moodle_questions(exam_dir)
    rng = random.Random(5)
    header = ["Surname", "First name", "Email address", "State", "Started on", "Completed",
              "Time taken", "Grade/3.00"]
    for k in (1, 2, 3):
        header += [f"Question {k}", f"Response {k}", f"Right answer {k}"]
    rows, expected = [header], {}
    for i in range(20):
        email = f"student{i}@uni.example"
        row = [f"Surname{i}", f"First{i}", email, "Finished", "1 May 2025  10:00 AM",
               "1 May 2025  10:40 AM", "40 mins", "2.00"]
        statuses = []
        for k in (1, 2, 3):
            variant = key["variants"][rng.randrange(VARIANTS)]
            o = oracle_of(variant)
            truth = shown(o.truth()[k - 1], o.decimals[k - 1])
            wrong = (i + k) % 4 == 0
            answer = shown(-o.truth()[k - 1], o.decimals[k - 1]) if wrong else truth
            if i == 7 and k == 2:
                answer, status = "-", "missing"  # not answered
            else:
                status = "wrong" if wrong else "correct"
            row += [texts[variant["id"], k], answer, truth]
            statuses.append(status)
        rows.append(row)
        expected[email] = statuses
    rows.append(["Nobody", "Nora", "nora@uni.example", "-", "-", "-", "-", "-"] + ["-"] * 9)
    expected["nora@uni.example"] = ["missing"] * 3
    path = tmp_path / "responses.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(rows)
    status, report, err = _grade_json(exam_dir, path, tmp_path)
    assert status == 0, err
    got = {s["student"]: [a["status"] for a in s["answers"]] for s in report["students"]}
    assert got == expected
    rows = list(csv.reader((tmp_path / "out" / "moodle-grades.csv").open(encoding="utf-8")))
    assert rows[0] == ["Surname", "First name", "Email address", "Grade", "Feedback"]
    assert rows[1][:3] == ["Surname0", "First0", "student0@uni.example"]
    assert rows[1][3] == points_of(expected["student0@uni.example"])


def points_of(statuses) -> str:
    return str(sum(1 for s in statuses if s == "correct"))


def test_moodle_export_without_question_text_exits_2(exam_dir, tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text('"Surname","First name","Email address","Response 1"\n"A","B","a@b","0.5"\n')
    status, err = _run(exam_dir, path, tmp_path / "out")
    assert status == 2
    assert err.startswith(f"error: {path} Response 1: no 'Question 1' column")


# ------------------------------------------------------------------------ class report

#: plant -> (the question it touches, the words the report names it with)
NAMED = {"sign": (1, " flipped the sign (q2)"),
         "dropped": (1, " left out the factor dy/dz\\_c (q2)"),
         "no_rate": (2, " forgot the learning rate η (q3)"),
         "added": (2, ": the update added instead of subtracted (w + η·g), such as: added η·dE/dw")}


def _share(n: int, whole: int) -> str:
    return f"{round(100 * n / whole)} %"


def _expected_lines(plants) -> list[str]:
    """The report's lines for the planted mistakes, with the counts the plants imply."""
    whole = STUDENTS + 1
    lines = []
    for plant, (index, words) in NAMED.items():
        n = sum(1 for p, _, st, _ in plants.values() if p == plant and st[index] == "wrong")
        assert n >= 10
        lines.append(f"- {n} students ({_share(n, whole)}){words}")
    carried = sum(1 for p, _, st, _ in plants.values() if p == "carried" and "carried" in st)
    lines.append(f"- a wrong y: {carried} students ({_share(carried, whole)}) carried it into q2, q3")
    same = sum(1 for p, *_ in plants.values() if p == "same_wrong")
    lines.append(f"- q1 = {SHARED_WRONG}, the same wrong number on {same} papers of ")
    return lines


def test_class_report_names_the_planted_mistakes_with_their_counts(graded):
    _, out, _, plants = graded
    text = (out / "report.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    for line in _expected_lines(plants):
        assert any(ln.startswith(line) for ln in lines), line
    bad = sum(1 for p, *_ in plants.values() if p == "bad_number")
    assert "net221-11-999" in text and text.count("is not a number") == bad
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![Scores](scores.png)" in text


def test_class_report_names_answers_copied_from_another_variant(graded, key):
    _, out, _, plants = graded
    lines = (out / "report.md").read_text(encoding="utf-8").splitlines()
    copied = 0
    for name, (plant, variant, statuses, _) in plants.items():
        if plant == "copied" and statuses[0] == "wrong":
            index = next(i for i, v in enumerate(key["variants"]) if v is variant)
            neighbour = key["variants"][(index + 1) % VARIANTS]["id"]
            # two variants may share the same rounded y: the line then names both
            assert any(ln.startswith("- q1 = ") and "the right answer of variant " in ln
                       and neighbour in ln.split("the right answer of variant ")[1]
                       and ln.endswith(f": {name}") for ln in lines), name
            copied += 1
    assert copied >= 20


@pytest.mark.slow
def test_class_report_pdf(exam_dir, klass, tmp_path):
    """The class report's TeX compiles without over- or underfull boxes, and its PDF
    names the planted mistakes with their counts, as report.md does."""
    import subprocess

    from symbackprop.grade import grade
    from symbackprop.grade.classreport import report_data
    from symbackprop.grade.document import report_tex
    from symbackprop.grade.figures import question_chart, score_histogram

    path, plants = klass
    book = grade(exam_dir, path)
    data = report_data(book)
    (tmp_path / "report.tex").write_text(report_tex(data), encoding="utf-8")
    (tmp_path / "scores.pdf").write_bytes(score_histogram(data["points"], book.max_points, "pdf"))
    (tmp_path / "questions.pdf").write_bytes(question_chart(data["questions"], "pdf"))
    run = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                          "report.tex"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "report.log").read_text(errors="replace")
    assert "Overfull" not in log and "Underfull" not in log
    subprocess.run(["pdftotext", "-layout", "report.pdf", "r.txt"], cwd=tmp_path, check=True)
    text = " ".join((tmp_path / "r.txt").read_text(encoding="utf-8").split())
    for line in _expected_lines(plants):
        # the PDF sets derivatives as math: dy/dz_c is ∂y/∂z_c, its subscript lowered
        words = line[2:].replace("dy/dz\\_c", "∂y/∂zc").replace("dE/dw", "∂E/∂w")
        words = " ".join(words.split())
        assert words in text, words
    assert "Class report: net221" in text


# ------------------------------------------------------------------------ marked sheets


@pytest.mark.slow
def test_marked_sheets_one_per_student_and_one_for_printing(exam_dir, klass, tmp_path):
    import subprocess

    path, plants = klass
    rows = list(csv.reader(path.open(encoding="utf-8")))
    chosen = {f"s{i:03d}" for i in range(len(PLANTS))} | {"ghost"}
    small = tmp_path / "small.csv"
    with small.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if r[0] in chosen])
    status, report, err = _grade_json(exam_dir, small, tmp_path, "--sheets", "--jobs", "2")
    assert status == 0, err
    out = tmp_path / "out"
    pages = 0
    for s in report["students"]:
        pdf = out / f"sheet-{s['student']}.pdf"
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        flat = " ".join(text.split())
        assert s["student"] in flat
        assert f"{s['points']} of 3 points" in flat
        if s["student"] != "ghost":
            assert f"variant {s['variant']}" in flat
            for a in s["answers"]:
                word = {"rounding": "rounded"}.get(a["status"], a["status"])
                assert word in flat, (s["student"], a["status"])
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages += int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages")))
    info = subprocess.run(["pdfinfo", str(out / "sheets.pdf")], capture_output=True, text=True).stdout
    assert f"Pages:           {pages}" in info
    merged = subprocess.run(["pdftotext", str(out / "sheets.pdf"), "-"], capture_output=True,
                            text=True, check=True).stdout
    order = [merged.index(s["student"]) for s in report["students"]]
    assert order == sorted(order)  # the class's order
    assert "marked sheets" in err


# ------------------------------------------------------------------------ papers of several exercises


def test_papers_of_several_exercises(tmp_path):
    """A key whose variants carry "exercise" and "student" (docs/exams.md): each
    student's paper is every variant with their number, graded as one row."""
    from test_exam import oracle_answer

    from symbackprop.exam import make_exam

    variants = []
    for family in ("net221", "chain"):
        for number, v in enumerate(make_exam(family, 3, seed=7).key()["variants"], start=1):
            variants.append({**v, "exercise": family, "student": number})
    exam = tmp_path / "exam"
    exam.mkdir()
    (exam / "key.json").write_text(json.dumps({"family": "", "seed": 7, "variants": variants}))
    papers = {n: [v for v in variants if v["student"] == n] for n in (1, 2, 3)}

    def right(student, n, only=None):
        rows = []
        for v in papers[n]:
            if only and v["exercise"] != only:
                continue
            for q in v["questions"]:
                rows.append([student, v["id"], q["ask"],
                             shown(oracle_answer(v["problem"], q["ask"]), q["decimals"])])
        return rows

    rows = [["student", "variant", "ask", "answer"]] + right("ann", 1) + right("bob", 2)
    stray = papers[3][1]
    rows.append(["bob", stray["id"], stray["questions"][0]["ask"], "1"])
    rows += right("cid", 3, only="net221")
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    status, report, err = _grade_json(exam, path, tmp_path)
    assert status == 0, err
    s = {x["student"]: x for x in report["students"]}
    size = sum(len(v["questions"]) for v in papers[1])
    assert s["ann"]["variant"] == "+".join(v["id"] for v in papers[1])
    assert [a["status"] for a in s["ann"]["answers"]] == ["correct"] * size
    assert s["ann"]["points"] == s["ann"]["max_points"] == size
    # bob names variants of two papers: each question from the variant named for it, and
    # the chain question answered from two variants is neither (which did he sit?)
    assert [a["status"] for a in s["bob"]["answers"] if a["status"] == "invalid"] == ["invalid"] * 2
    assert all("answered from 2 variants" in a["note"] for a in s["bob"]["answers"]
               if a["status"] == "invalid")
    chain = len(papers[3][1]["questions"])
    assert [a["status"] for a in s["cid"]["answers"]][-chain:] == ["missing"] * chain
    header = next(csv.reader((tmp_path / "out" / "gradebook.csv").open()))
    assert header[4:] == [f"q{i}" for i in range(1, size + 1)]


@pytest.mark.parametrize("responses", ["/dev/null", "missing.csv"])
def test_responses_that_are_no_file_exit_2(exam_dir, tmp_path, responses):
    path = responses if responses.startswith("/") else tmp_path / responses
    status, err = _run(exam_dir, path, tmp_path / "out")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {path}: ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("written, read", [
    ("1,234", "1.2340"), ("0,0822", "0.0822"), ("-0,5", "-0.5000"), (" 0.5853 ", "0.5853"),
    ("\u22120.5853", "-0.5853"), ("1,234.5", None), ("abc", None), ("0.1.2", None)])
def test_reading_an_answer(written, read):
    from symbackprop.answerkey import KeyQuestion
    from symbackprop.errors import ClaimError
    from symbackprop.grade.marking import read_answer

    question = KeyQuestion("y", 0.5, 4)
    if read is None:
        with pytest.raises(ClaimError):
            read_answer(written, question)
    else:
        assert format(read_answer(written, question)[0].value, "f") == read


def test_points_from_the_key(key, few, tmp_path):
    """A question worth 2 points: 2 when right, 1 when carried (half), 0 when wrong."""
    path, plants = few
    weighted = json.loads(json.dumps(key))
    for v in weighted["variants"]:
        v["questions"][1]["points"] = 2
    exam = tmp_path / "exam"
    exam.mkdir()
    (exam / "key.json").write_text(json.dumps(weighted))
    from symbackprop.grade import grade

    book = grade(exam, path, jobs=1)
    worth = {"correct": 1, "rounding": 1, "carried": Decimal("0.5")}
    for s in book.students:
        if s.student == "ghost":
            continue
        _, _, statuses, _ = plants[s.student]
        assert s.max_points == 4
        assert s.points == sum(worth.get(st, 0) * (2 if i == 1 else 1)
                               for i, st in enumerate(statuses))


def test_names_that_a_spreadsheet_would_run_are_written_as_text(exam_dir, key, tmp_path):
    """OWASP's CSV injection: a cell that begins =, +, -, @, tab or CR gets a leading '."""
    variant = key["variants"][0]
    names = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
             "ann=1"]
    path = tmp_path / "evil.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "variant", "ask", "answer"])
        for name in names:
            w.writerow([name, variant["id"], "y", "0.5"])
    out = tmp_path / "out"
    assert main(["grade", str(exam_dir), str(path), "-o", str(out), "--report", "none"]) == 0
    assert {p.name for p in out.iterdir()} == {"gradebook.csv", "gradebook.json",
                                               "moodle-grades.csv"}
    for file in ("gradebook.csv", "moodle-grades.csv"):
        rows = list(csv.reader((out / file).open(encoding="utf-8")))
        firsts = sorted(r[0] for r in rows[1:])
        assert firsts == sorted(["'" + n for n in names[:4]] + ["ann=1"]), file
        assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r"))
                   for r in rows for c in r), file
    # names are read stripped, so a leading tab or CR reaches the writer only from elsewhere
    from symbackprop.grade.gradebook import safe_cell

    assert [safe_cell(c) for c in ("\tx", "\rx", "x", "0.5", "")] == ["'\tx", "'\rx", "x", "0.5", ""]


def test_one_student_is_one_student(exam_dir, key, tmp_path, capsys):
    variant = key["variants"][0]
    path = tmp_path / "one.csv"
    path.write_text(f"student,variant,ask,answer\nann,{variant['id']},y,0.5\n")
    out = tmp_path / "out"
    assert main(["grade", str(exam_dir), str(path), "-o", str(out), "--report", "markdown"]) == 0
    assert "graded 1 student: mean" in capsys.readouterr().err
    assert not (out / "report.pdf").exists() and (out / "scores.png").exists()
    assert "1 student graded from" in (out / "report.md").read_text(encoding="utf-8")
    assert "1 students" not in (out / "report.md").read_text(encoding="utf-8")


def test_the_answers_moodle_would_score_otherwise_are_listed_with_their_cause(graded):
    """Moodle gives no carried credit and reads 0,2972 as 2972: every carried mark, every
    decimal comma and every number written for a choice question that is no choice but
    within the tolerance of the right one is listed, with its cause, and nothing else."""
    report = graded[0]
    listed = {(d["student"], d["question"]): d["cause"]
              for d in report["lms_differences"]["answers"]}
    expected = {}
    for s in report["students"]:
        for a in s["answers"]:
            if a["status"] == "carried":
                expected[s["student"], a["question"]] = "carried credit"
            elif a["status"] == "rounding" and a["ask"].endswith("_new"):  # a choice
                expected[s["student"], a["question"]] = "not one of the choices"
            elif a.get("points") and "," in str(a.get("written", "")):
                expected[s["student"], a["question"]] = "decimal comma"
    commas = {(name, 1) for name, (plant, *_rest) in graded[3].items() if plant == "comma"}
    expected.update(dict.fromkeys(commas, "decimal comma"))
    assert listed == expected
    assert set(listed.values()) == {"carried credit", "decimal comma", "not one of the choices"}
    counts = report["lms_differences"]["counts"]
    assert counts["decimal comma"]["moodle"] == len(commas)


# ------------------------------------------------------------------ verify on the exam's key


def test_verify_on_an_exam_key(exam_dir, key, tmp_path, cli):
    """``verify EXAM CLAIMS --variant ID``: the asked quantities by the acceptance rule
    (an answer 2 units from the stated answer on the far side of the exact one is
    accepted, with the rule's words), a quantity not asked by verify's own judgement;
    the exit status as verify's; a variant that is not in the key, or missing, is one
    error line naming the key."""
    variant = key["variants"][4]
    q = next(q for q in variant["questions"] if q["decimals"] == 4)
    unit = Decimal("0.0001")
    exact = Decimal(repr(q["answer"]))
    r = exact.quantize(unit, rounding=ROUND_HALF_UP)
    far = r + 2 * unit if exact < r else r - 2 * unit  # 2 units from r, more from the exact
    assert abs(far - exact) > 2 * unit
    _, _, full, _, point = graph_oracle(variant["problem"])
    z_a = full["z_a"].xreplace(point).evalf(30)
    claims = tmp_path / "sheet.txt"
    claims.write_text(f"{q['ask']} = {far}\nz_a = {float(z_a):.4f}\n")
    result = cli("verify", exam_dir, claims, "--variant", variant["id"], "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = {c["claim"]: c for c in json.loads(result.stdout)["claims"]}
    assert verdicts[q["ask"]]["status"] == "rounding"
    assert verdicts[q["ask"]]["note"] == f"within ±0.0002 of {r}, the answer as stated"
    assert verdicts["z_a"]["status"] == "correct" and "stated" not in verdicts["z_a"]["note"]
    # 3 units off the stated answer: outside, exit 1
    claims.write_text(f"{q['ask']} = {r + 3 * unit}\n")
    result = cli("verify", exam_dir / "key.json", claims, "--variant", variant["id"])
    assert result.returncode == 1 and "outside ±0.0002" in result.stdout
    for args, words in [(["--variant", variant["id"] + "x"], "did you mean"),
                        ([], "--variant ID")]:
        result = cli("verify", exam_dir, claims, *args)
        assert result.returncode == 2 and result.stdout == "", result.stderr
        assert result.stderr.startswith(f"error: {exam_dir / 'key.json'}") and words in result.stderr
        assert len(result.stderr.splitlines()) == 1
    result = cli("verify", "net-221", claims, "--variant", variant["id"])
    assert result.returncode == 2 and result.stderr.startswith("error: --variant")
