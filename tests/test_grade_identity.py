"""``grade``: who a row is, and which variant each answer is judged against.

Moodle's Responses report in both header spellings (4.x ``Surname``, 5.x ``Last name``;
UTF-8 with a byte order mark; with and without e-mail, username, ID number), Canvas's
Student Analysis report (its columns as canvas-lms's ``StudentAnalysis#to_csv`` writes
them), and the plain CSV form with each question drawn from another variant. The right
answers are computed by the independent oracle (``sympy.diff`` of the fully substituted
expression, tests/oracle.py) from the key's problems; no student may be merged with
another or lost.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from test_exam import oracle_answer
from test_grade import shown

from symbackprop.cli import main

SEED = 3
VARIANTS = 6


@pytest.fixture(scope="module")
def exam(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exam")
    assert main(["exam", "net221", "--variants", str(VARIANTS), "--seed", str(SEED),
                 "--format", "key,moodle,qti", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def key(exam) -> dict:
    return json.loads((exam / "key.json").read_text())


@pytest.fixture(scope="module")
def texts(exam) -> dict[tuple[str, int], str]:
    """(variant id, question number) -> the question text as plain text, as Moodle's
    report and Canvas's header show it (tags stripped, entities decoded)."""
    found = {}
    for q in ET.parse(exam / "moodle.xml").getroot().iter("question"):
        if q.get("type") == "category":
            continue
        name = q.find("name/text").text
        variant, number = name.split()[0], int(name.split()[1][1:])
        plain = html.unescape(re.sub(r"<[^>]+>", " ", q.find("questiontext/text").text))
        found[variant, number] = re.sub(r"\s+", " ", plain).strip()
    return found


def right(variant: dict, k: int) -> str:
    q = variant["questions"][k - 1]
    return shown(oracle_answer(variant["problem"], q["ask"]), q["decimals"])


def wrong(variant: dict, k: int) -> str:
    q = variant["questions"][k - 1]
    return shown(-oracle_answer(variant["problem"], q["ask"]), q["decimals"])


def grade(exam, path, out) -> tuple[int, dict | None, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(exam), str(path), "-o", str(out), "--json",
                       "--report", "none"])
    report = json.loads(stdout.getvalue()) if status == 0 else None
    return status, report, stderr.getvalue()


def write_csv(path: Path, rows, bom: bool = True) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


# ------------------------------------------------------------------------ Moodle

SPELLINGS = {
    "5.x": (["Last name", "First name"], ["Status", "Started", "Completed", "Duration",
                                          "Grade/3.00"]),
    "4.x": (["Surname", "First name"], ["State", "Started on", "Completed", "Time taken",
                                        "Grade/3.00"]),
}
#: Two people with the same first name, two with the same full name told apart by
#: their username (shown) or e-mail.
PEOPLE = [("Lee", "Ann", "ann.lee@uni.example", "u01"), ("Park", "Ann", "", "u02"),
          ("Cho", "Ben", "ben.cho@uni.example", "u03"), ("Cho", "Ben", "", "u04"),
          ("Diaz", "Cara", "", "u05")]


def moodle_rows(key, texts, spelling: str, shown_ids: list[str], people=PEOPLE):
    """A Responses report: slot k of student i drawn from variant (i + k) mod N, the
    answer right except where (i + k) is divisible by 3. Returns the rows and, per
    student (by the identity shown), the expected statuses."""
    names, attempt = SPELLINGS[spelling]
    header = names + shown_ids + attempt
    for k in (1, 2, 3):
        header += [f"Question {k}", f"Response {k}", f"Right answer {k}"]
    rows, expected = [header], []
    for i, (last, first, email, username) in enumerate(people):
        ids = {"Email address": email, "Username": username, "ID number": f"S{i}"}
        row = [last, first] + [ids[c] for c in shown_ids]
        row += ["Finished", "1 May 2025  10:00 AM", "1 May 2025  10:40 AM", "40 mins", "2.00"]
        statuses = []
        for k in (1, 2, 3):
            variant = key["variants"][(i + k) % VARIANTS]
            bad = (i + k) % 3 == 0
            answer = wrong(variant, k) if bad else right(variant, k)
            answer = "'" + answer if answer.startswith("-") else answer  # Moodle's quote
            row += [texts[variant["id"], k], answer, right(variant, k)]
            statuses.append(("wrong" if bad else "correct", variant["id"]))
        rows.append(row)
        expected.append(statuses)
    rows.append(["Overall average", "", *[""] * len(shown_ids), "", "", "", "", "1.50"]
                + [""] * 9)
    return rows, expected


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize("shown_ids", [["Email address"], ["Username", "ID number",
                                                           "Email address"], ["Username"]])
def test_moodle_responses_every_student_graded_apart(exam, key, texts, tmp_path, spelling,
                                                       shown_ids):
    rows, expected = moodle_rows(key, texts, spelling, shown_ids)
    path = write_csv(tmp_path / "responses.csv", rows)
    status, report, err = grade(exam, path, tmp_path / "out")
    assert status == 0, err
    assert len(report["students"]) == len(PEOPLE)
    for s, statuses in zip(report["students"], expected, strict=True):
        got = [(a["status"], a["variant"]) for a in s["answers"]]
        assert got == statuses, s["student"]
    labels = [s["student"] for s in report["students"]]
    assert len(set(labels)) == len(PEOPLE)
    grades = list(csv.reader((tmp_path / "out" / "moodle-grades.csv").open(encoding="utf-8")))
    assert grades[0] == [*SPELLINGS[spelling][0], *shown_ids, "Grade", "Feedback"]
    assert [r[:2] for r in grades[1:]] == [[p[0], p[1]] for p in PEOPLE]


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_moodle_same_name_and_no_identifier_exits_2(exam, key, texts, tmp_path, spelling):
    rows, _ = moodle_rows(key, texts, spelling, ["Email address"])
    path = write_csv(tmp_path / "responses.csv", rows)
    # Ben Cho twice, one without e-mail: told apart. Without the e-mail column: not.
    rows, _ = moodle_rows(key, texts, spelling, [])
    path = write_csv(tmp_path / "names.csv", rows)
    status, report, err = grade(exam, path, tmp_path / "out")
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {path} rows 4, 5: the rows show the same "
                          f"{SPELLINGS[spelling][0][0]} and First name (Cho, Ben)")
    assert "Show user identity" in err
    assert not (tmp_path / "out").exists()


def test_moodle_names_alone_are_enough_when_they_differ(exam, key, texts, tmp_path):
    people = [p for p in PEOPLE if p[3] != "u04"]  # no second Ben Cho
    rows, expected = moodle_rows(key, texts, "5.x", [], people)
    path = write_csv(tmp_path / "responses.csv", rows)
    status, report, err = grade(exam, path, tmp_path / "out")
    assert status == 0, err
    assert [s["student"] for s in report["students"]] == ["Ann Lee", "Ann Park", "Ben Cho",
                                                         "Cara Diaz"]
    assert "shows no Email address, Username or ID number" in err


def test_moodle_two_attempts_of_one_student(exam, key, texts, tmp_path):
    rows, expected = moodle_rows(key, texts, "5.x", ["Email address"])
    first = list(rows[1])
    first[first.index("Finished")] = "In progress"
    rows.insert(1, first)  # Ann Lee's unfinished attempt, row 2
    path = write_csv(tmp_path / "responses.csv", rows)
    status, report, err = grade(exam, path, tmp_path / "out")
    assert status == 0, err
    assert len(report["students"]) == len(PEOPLE)
    assert "ann.lee@uni.example: 2 attempts" in err and "the one on row 3 is graded" in err


def test_moodle_grades_report_is_refused_with_what_to_download(exam, tmp_path):
    path = write_csv(tmp_path / "grades.csv", [
        ["Last name", "First name", "Email address", "Status", "Started", "Completed",
         "Duration", "Grade/10.00", "Q. 1 /5.00", "Q. 2 /5.00"],
        ["Lee", "Ann", "a@uni.example", "Finished", "-", "-", "-", "5.00", "5.00", "0.00"]])
    status, _, err = grade(exam, path, tmp_path / "out")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {path} header: is Moodle's Grades report")
    assert "Responses report" in err


# ------------------------------------------------------------------------ Canvas


def test_canvas_student_analysis(exam, key, texts, tmp_path):
    """The columns as canvas-lms's StudentAnalysis#to_csv writes them: identity, then per
    question drawn by any submission '<id>: <text>' and its points; a question group
    draws one question per student, so each row fills some of the columns."""
    header = ["name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted",
              "attempt"]
    columns = []  # (variant, k): every question of two variants, as groups draw them
    for v in key["variants"][:2]:
        for k in (1, 2, 3):
            columns.append((v, k))
            header += [f"{1000 + len(columns)}: {texts[v['id'], k]}", "1.0"]
    header += ["n correct", "n incorrect", "score"]
    people = [("Ann Lee", "11", "S1"), ("Ann Lee", "12", "S2"), ("Ben Cho", "13", "")]
    rows, expected = [header], {}
    for i, (name, uid, sis) in enumerate(people):
        row = [name, uid, sis, "Section 1", "7", "", "2025-05-01 10:40:00 UTC", "1"]
        statuses = []
        for c, (v, k) in enumerate(columns):
            drawn = (c // 3 + i + k) % 2 == 0  # group k draws variant 0 or 1
            if not drawn:
                row += ["", ""]
                continue
            if i == 2 and k == 3:
                row += ["", "0.0"]  # drawn, not answered
                statuses.append(("missing", v["id"]))
                continue
            bad = (i + k) % 3 == 0
            row += [wrong(v, k) if bad else right(v, k), "0.0" if bad else "1.0"]
            statuses.append(("wrong" if bad else "correct", v["id"]))
        row += ["0", "0", "0"]
        rows.append(row)
        expected[uid] = statuses
    path = write_csv(tmp_path / "student_analysis.csv", rows, bom=False)
    status, report, err = grade(exam, path, tmp_path / "out")
    assert status == 0, err
    got = {s["answers"] and s["student"]: [(a["status"], a["variant"]) for a in s["answers"]]
           for s in report["students"]}
    assert list(got) == ["S1", "S2", "13"]  # sis_id, else the Canvas user id
    assert list(got.values()) == list(expected.values())


def test_canvas_same_name_without_ids_exits_2(exam, key, texts, tmp_path):
    header = ["name", "section", "section_id", "submitted",
              f"1001: {texts[key['variants'][0]['id'], 1]}", "1.0",
              "n correct", "n incorrect", "score"]
    rows = [header] + [["Ann Lee", "S", "7", "2025-05-01", "0.5", "1.0", "1", "0", "1"]] * 2
    path = write_csv(tmp_path / "student_analysis.csv", rows, bom=False)
    status, _, err = grade(exam, path, tmp_path / "out")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {path} rows 2, 3: the rows show the same name and section")


# ------------------------------------------------------------------------ per-slot variants


def test_csv_rows_of_one_student_may_name_different_variants(exam, key, tmp_path):
    """A quiz drawing each question at random: ann's q1, q2, q3 come from three variants;
    each answer is judged against its own row's variant, and a question no row answers
    is missing."""
    variants = key["variants"]
    rows = [["student", "variant", "ask", "answer"]]
    expected = {}
    for i, student in enumerate(("ann", "bob", "cid")):
        statuses = []
        for k in (1, 2, 3):
            v = variants[(i + 2 * k) % VARIANTS]
            ask = v["questions"][k - 1]["ask"]
            if student == "cid" and k == 2:
                statuses.append(("missing", ""))
                continue
            bad = student == "bob" and k == 3
            rows.append([student, v["id"], ask, wrong(v, k) if bad else right(v, k)])
            statuses.append(("wrong" if bad else "correct", v["id"]))
        expected[student] = statuses
    path = write_csv(tmp_path / "answers.csv", rows, bom=False)
    status, report, err = grade(exam, path, tmp_path / "out")
    assert status == 0, err
    got = {s["student"]: [(a["status"], a["variant"]) for a in s["answers"]]
           for s in report["students"]}
    assert got == expected
    assert "invalid" not in err


# ------------------------------------------------------------------------ a real Moodle

REAL = Path(__file__).parent / "data" / "moodle-5.0"


def test_real_moodle_exports(tmp_path):
    """Exports made by a real Moodle 5.0.6 (PostgreSQL 15, PHP 8.2; tests/data/moodle-5.0
    says how) from a quiz of one random question per category of an exam's moodle.xml,
    20 students: every student is graded, each answer against the variant Moodle drew
    for its slot, and its points agree with the mark Moodle gave it except for a named
    cause: a decimal comma or U+2212, which Moodle does not read as a number (its mark
    0, grade's full), or Moodle's band |x - a| <= t around the rounded key a, where
    grade judges by its own band (docs/grading.md)."""
    for name in ("responses-email.csv", "responses-all-ids.csv"):
        status, report, err = grade(REAL, REAL / name, tmp_path / name)
        assert status == 0, err
        assert len(report["students"]) == 20
        assert "student02@uni.example: 2 attempts" in err  # the first one is not graded
    status, _, err = grade(REAL, REAL / "responses-names-only.csv", tmp_path / "names")
    # names only: Ann Park's two attempts and the two Ben Chos cannot be told apart
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "rows 3, 4: the rows show the same Last name and First name (Park, Ann) and " \
           "nothing else (and 1 more such group)" in err
    status, _, err = grade(REAL, REAL / "grades-email.csv", tmp_path / "grades")
    assert status == 2 and "Moodle's Grades report" in err

    key = json.loads((REAL / "key.json").read_text())
    asks = {v["id"]: [q["ask"] for q in v["questions"]] for v in key["variants"]}
    by_user = {s["student"]: s for s in report["students"]}
    causes = {"not a number for Moodle": 0, "Moodle's band": 0}
    for m in csv.DictReader((REAL / "moodle-marks.csv").open(encoding="utf-8")):
        s = by_user[m["email"] or m["username"]]
        answer = s["answers"][int(m["slot"]) - 1]
        variant, number = m["idnumber"].rsplit("-q", 1)
        assert (answer["variant"], answer["ask"]) == (variant, asks[variant][int(number) - 1])
        moodle = float(m["moodle_mark"] or 0)
        if answer["points"] == moodle:
            continue
        typed = m["typed"]
        if "," in typed or "\u2212" in typed:
            assert moodle == 0 and answer["status"] in ("correct", "rounding"), m
            causes["not a number for Moodle"] += 1
            continue
        assert m["qtype"] == "numerical", m
        inside = abs(Decimal(typed) - Decimal(m["moodle_answer"])) <= Decimal(m["tolerance"])
        assert inside == (moodle == 1), m  # Moodle applied its own rule
        causes["Moodle's band"] += 1
    assert causes["not a number for Moodle"] >= 6


# ------------------------------------------------------------------------ bounds


def test_default_output_folder_through_a_symlink_is_refused(exam, key, tmp_path):
    """EXAM_DIR/grades as a symbolic link: refused before any work, nothing written
    where it points."""
    import shutil

    copy = tmp_path / "exam"
    shutil.copytree(exam, copy)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (copy / "grades").symlink_to(elsewhere)
    v = key["variants"][0]
    path = write_csv(tmp_path / "answers.csv", [["student", "variant", "ask", "answer"],
                                                ["ann", v["id"], v["questions"][0]["ask"],
                                                 right(v, 1)]], bom=False)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        status = main(["grade", str(copy), str(path)])
    assert status == 2
    assert stderr.getvalue().startswith(f"error: {copy / 'grades'}: the default output folder "
                                        "is a symbolic link")
    assert list(elsewhere.iterdir()) == []


def test_more_answers_than_the_limit_are_refused_before_grading(exam, key, tmp_path):
    from symbackprop.limits import MAX_ANSWERS

    v = key["variants"][0]
    line = f"{v['id']},{v['questions'][0]['ask']},0.5\n"
    path = tmp_path / "answers.csv"
    with path.open("w") as f:
        f.write("student,variant,ask,answer\n")
        f.writelines(f"s{i},{line}" for i in range(MAX_ANSWERS + 1))
    status, _, err = grade(exam, path, tmp_path / "out")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {path}: more than {MAX_ANSWERS} rows")
    assert not (tmp_path / "out").exists()
