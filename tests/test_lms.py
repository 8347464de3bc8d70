"""One verdict everywhere: the question text, Moodle, Canvas and ``grade`` agree on every
answer, except where the class report says why (docs/exams.md, "The acceptance rule").

The rules of the two LMSs are read from their source, not guessed:

* Moodle, ``question/type/numerical/question.php`` (``qtype_numerical_answer``):
  ``get_tolerance_interval`` for the nominal type (``tolerancetype = 2``, what the XML
  import gives) is ``answer ± (tolerance + 10^-precision · max(tolerance, |answer|,
  10^-precision))`` with PHP's ``precision`` of 14, and ``within_tolerance`` is
  ``min <= value && value <= max`` on PHP floats. ``get_matching_answer`` takes the first
  answer whose interval holds the value, so the 100 % answer (written first) wins over
  the 0 % answers of known mistakes.
* Moodle's number reading, ``question/type/numerical/questiontype.php``
  (``qtype_numerical_answer_processor::apply_units``): spaces dropped, ``x10^`` forms
  made ``e``, then in English ``str_replace([thousandssep, decsep, ','], ['', '.', '.'])``
  drops every ``,`` (so ``0,9608`` is 9608), and the number must match
  ``[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:e[-+]?\\d+)?``: ``−0.7567`` with U+2212 is no number.
  Its own tests (``tests/answerprocessor_test.php``) read ``3x10^8`` as 3e8 and ``''``
  as nothing.
* Canvas, ``gems/plugins/qti_exporter/lib/qti/numeric_interaction.rb``: an exact answer
  is ``varequal.to_f`` with ``margin = (BigDecimal(varlte) − BigDecimal(varequal)).to_f``;
  ``vargte`` is not read. ``app/models/quizzes/quiz_question/numerical_question.rb``
  scores ``BigDecimal(exact.to_s) − BigDecimal(margin.to_s) <= answer <= ... + margin``.
  The answer is read by ``AnswerSerializers::Numerical`` whose spec (English) reads
  ``17,000`` as 17000 and turns garbage (``foobar``, ``25 00012``) into 0.

Every XML file is parsed for real; the answers are written in this file from key.json
alone.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from symbackprop.cli import main
from symbackprop.exam import FAMILIES
from symbackprop.grade.lms import canvas_number, moodle_number

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
MINUS = "\u2212"


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def stated(answer: float, decimals: int) -> Decimal:
    """The key's answer rounded half-up to the asked places (as the question states it)."""
    return Decimal(repr(answer)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP) + 0


def tolerance(decimals: int) -> Decimal:
    """The stated tolerance: 2 units of the last asked place, as the prompt says."""
    return 2 * Decimal(1).scaleb(-decimals)


# --------------------------------------------------------------- the LMSs' rules, here


def moodle_accepts(value: float | None, answer_text: str, tolerance_text: str) -> bool:
    """Moodle's nominal check on the <answer> and <tolerance> texts (PHP floats)."""
    if value is None:
        return False
    a, t = float(answer_text), abs(float(tolerance_text))
    eps = 10.0 ** -14
    slack = t + eps * max(t, abs(a), eps)
    return a - slack <= value <= a + slack


def canvas_accepts(value: Decimal, varequal: str, varlte: str) -> bool:
    """Canvas's check: exact and margin through Ruby floats (to_f, to_s) and BigDecimal."""
    exact = Decimal(repr(float(varequal)))
    margin = Decimal(repr(float(Decimal(varlte) - Decimal(varequal))))
    return exact - margin <= value <= exact + margin


def test_number_readers_read_as_moodle_and_canvas_do():
    """The readers of symbackprop.grade.lms against the LMSs' own test cases and what a
    real Moodle 5.1 did with a decimal comma and U+2212."""
    assert moodle_number("3x10^8") == 3e8  # answerprocessor_test.php, apply_units
    assert moodle_number("3.142E-4") == 3.142e-4
    assert moodle_number("") is None and moodle_number("    ") is None
    assert moodle_number("1,000,000") == 1e6
    assert moodle_number("0,9608") == 9608.0  # English: ',' is the thousands separator
    assert moodle_number(MINUS + "0.7567") is None  # not a number: 0 points
    assert moodle_number(" -0.7567 ") == -0.7567
    assert canvas_number("17,000") == 17000  # numerical_spec.rb, English
    assert canvas_number("6,200,000.13") == Decimal("6200000.13")
    assert canvas_number("foobar") == 0 and canvas_number("25 00012") == 0
    assert canvas_number("0,9608") == 9608
    assert canvas_number(MINUS + "0.7567") == 0


# --------------------------------------------------------------- one exam of every family


@pytest.fixture(scope="module")
def exam(tmp_path_factory) -> Path:
    return make_exam_dir(tmp_path_factory.mktemp("every-family"))


def make_exam_dir(out: Path, variants: int = 2) -> Path:
    status, _, err = run("exam", *FAMILIES, "--variants", variants, "--seed", 5, "-o", out,
                         "--format", "key,moodle,cloze,qti")
    assert status == 0, err
    return out


@pytest.fixture(scope="module")
def key(exam) -> dict:
    return json.loads((exam / "key.json").read_text())


def questions_by_id(key: dict) -> dict[str, tuple[dict, dict]]:
    """'<variant>-q<slot>' -> (variant, question)."""
    return {f"{v['id']}-q{i}": (v, q) for v in key["variants"]
            for i, q in enumerate(v["questions"], start=1)}


@pytest.fixture(scope="module")
def moodle(exam) -> dict[str, tuple[str, str]]:
    return read_moodle(exam)


def read_moodle(exam: Path) -> dict[str, tuple[str, str]]:
    """'<variant>-q<slot>' -> (the 100 % answer's text, its tolerance) of every numerical
    question of moodle.xml."""
    out = {}
    for q in ET.parse(exam / "moodle.xml").getroot().iter("question"):
        if q.get("type") != "numerical":
            continue
        answers = q.findall("answer")
        assert answers[0].get("fraction") == "100"  # the right answer is matched first
        out[q.findtext("idnumber")] = (answers[0].findtext("text"),
                                       answers[0].findtext("tolerance"))
    return out


@pytest.fixture(scope="module")
def canvas(exam) -> dict[str, tuple[str, str, str]]:
    return read_canvas(exam)


def read_canvas(exam: Path) -> dict[str, tuple[str, str, str]]:
    """item ident -> (varequal, vargte, varlte) of every numerical item of the QTI."""
    with zipfile.ZipFile(exam / "canvas-qti.zip") as z:
        root = ET.fromstring(z.read("assessment.xml"))
    out = {}
    for item in root.iter(f"{QTI}item"):
        kind = next(f.findtext(f"{QTI}fieldentry") for f in item.iter(f"{QTI}qtimetadatafield")
                    if f.findtext(f"{QTI}fieldlabel") == "question_type")
        if kind != "numerical_question":
            continue
        out[item.get("ident")] = tuple(item.find(f".//{QTI}{tag}").text
                                       for tag in ("varequal", "vargte", "varlte"))
    return out


def test_every_numerical_question_states_the_rounded_answer_and_tolerance(key, moodle, canvas):
    """Moodle's answer and tolerance and Canvas's answer and bounds are exact decimals:
    the key rounded to the asked places, and the tolerance 2 units of that place, on
    both sides exactly (Canvas reads only varlte)."""
    numerical = {i: vq for i, vq in questions_by_id(key).items() if "choices" not in vq[1]}
    assert set(moodle) == set(canvas) == set(numerical)
    for ident, (_, q) in numerical.items():
        r, t = stated(q["answer"], q["decimals"]), tolerance(q["decimals"])
        answer, tol = moodle[ident]
        assert Decimal(answer) == r and Decimal(tol) == t, ident
        assert "e" not in (answer + tol).lower()
        equal, low, high = canvas[ident]
        assert Decimal(equal) == r, ident
        assert Decimal(high) - Decimal(equal) == Decimal(equal) - Decimal(low) == t, ident
        assert not any("e" in s.lower() for s in (equal, low, high)), ident
        assert Decimal(repr(q["tolerance"])) == t  # key.json states the same tolerance


def test_question_text_states_the_rule_and_asks_for_a_decimal_point(exam, key):
    root = ET.parse(exam / "moodle.xml").getroot()
    texts = {q.findtext("idnumber"): q.findtext("questiontext/text")
             for q in root.iter("question") if q.get("type") == "numerical"}
    for ident, (_, q) in questions_by_id(key).items():
        if ident not in texts:
            continue
        d = q["decimals"]
        t = format(tolerance(d), "f")
        assert f"within ±{t} accepted" in texts[ident]
        if d:
            assert "with a decimal point" in texts[ident]


def test_assessment_and_manifest_identifiers_are_unique_per_exam(tmp_path):
    """Canvas merges an import into a quiz of the same identifier: another exam (other
    exercises, other variants, same seed) never shares one; the same exam keeps it."""
    def idents(*args):
        out = tmp_path / "-".join(map(str, args))
        assert run("exam", *args, "--seed", 3, "-o", out, "--format", "qti")[0] == 0
        with zipfile.ZipFile(out / "canvas-qti.zip") as z:
            assessment = ET.fromstring(z.read("assessment.xml")).find(f"{QTI}assessment")
            manifest = ET.fromstring(z.read("imsmanifest.xml"))
        return assessment.get("ident"), manifest.get("identifier")

    a = idents("net221", "--variants", 2)
    assert a == idents("net221", "--variants", 2)
    others = [idents("chain", "--variants", 2), idents("net221", "--variants", 3)]
    for other in others:
        assert other[0] != a[0] and other[1] != a[1]


# --------------------------------------------------------------- answers of every kind

#: An answer as a student writes it: (form, units of the last asked place off the stated
#: answer, decimals written relative to the asked ones). Written from the stated answer.
OFFSETS = [(f"k{k}", Decimal(k), 0) for k in (-3, -2, -1, 0, 1, 2, 3)] + [
    ("k2.5", Decimal("2.5"), 1), ("k-2.5", Decimal("-2.5"), 1),
    ("k1.6", Decimal("1.6"), 1),  # one digit more, inside the band: full points
    ("k-1.6", Decimal("-1.6"), 1),
    ("k2.01", Decimal("2.01"), 2), ("k-2.04", Decimal("-2.04"), 2),
]
FORMS = [name for name, _, _ in OFFSETS] + ["missing-digit", "comma", "minus"]


def written(form: str, q: dict) -> str | None:
    """The text a student of ``form`` writes for question ``q`` (None: no such answer)."""
    d = q["decimals"]
    r, unit = stated(q["answer"], d), Decimal(1).scaleb(-d)
    for name, k, extra in OFFSETS:
        if name == form:
            return format((r + k * unit).quantize(Decimal(1).scaleb(-(d + extra))), "f")
    if form == "missing-digit":
        return format(Decimal(repr(q["answer"])).quantize(Decimal(1).scaleb(-(d - 1)),
                                                          ROUND_HALF_UP), "f") if d else None
    if form == "comma":
        return format(r, "f").replace(".", ",") if d else None
    if form == "minus":
        return MINUS + format(-r, "f") if r < 0 else None
    raise AssertionError(form)


@pytest.fixture(scope="module")
def graded(exam, key, tmp_path_factory):
    return grade_every_form(exam, key, tmp_path_factory)


def grade_every_form(exam: Path, key: dict, tmp_path_factory):
    """Every paper answered in every form, one student per (paper, form), graded."""
    rows = [["student", "variant", "ask", "answer"]]
    answers = {}
    for v in key["variants"]:
        for form in FORMS:
            student = f"p{v['student']}-{form}"
            for slot, q in enumerate(v["questions"], start=1):
                text = None if "choices" in q else written(form, q)
                if text is not None:
                    rows.append([student, v["id"], q["ask"], text])
                    answers[student, v["id"], slot] = (text, q)
    path = tmp_path_factory.mktemp("answers") / "answers.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path_factory.mktemp("grades")
    status, stdout, err = run("grade", exam, path, "-o", out, "--json", "--jobs", 1,
                              "--report", "markdown")
    assert status == 0, err
    return json.loads(stdout), answers, out


def _grade_points(book: dict) -> dict:
    points = {}
    for s in book["students"]:
        slots: dict[str, int] = {}
        for a in s["answers"]:
            if "question" not in a:
                continue
            slots[a["variant"]] = slots.get(a["variant"], 0) + 1
            points[s["student"], a["variant"], slots[a["variant"]]] = (
                Decimal(str(a["points"])), a["status"])
    return points


def agreement(graded, moodle, canvas) -> dict[str, dict[str, int]]:
    """form -> counts of answers where Moodle, Canvas and grade agree or not, checking
    on the way that every disagreement is one the report names."""
    book, answers, _ = graded
    points = _grade_points(book)
    listed = {(d["student"], d["variant"], d["ask"]): d for d in book["lms_differences"]["answers"]}
    table: dict[str, dict[str, int]] = {}
    for (student, variant, slot), (text, q) in answers.items():
        form = student.split("-", 1)[1]
        ident = f"{variant}-q{slot}"
        full = Decimal(str(q["points"]))
        true_value = Decimal(text.replace(",", ".").replace(MINUS, "-"))
        rule = abs(true_value - stated(q["answer"], q["decimals"])) <= tolerance(q["decimals"])
        m = full if moodle_accepts(moodle_number(text), *moodle[ident]) else Decimal(0)
        c = full if canvas_accepts(canvas_number(text), canvas[ident][0], canvas[ident][2]) \
            else Decimal(0)
        g, status = points[student, variant, slot]
        # Full points in grade are exactly the rule, whatever the digits written.
        assert (g == full) == rule, (student, ident, text, status)
        if form not in ("comma", "minus"):  # numbers both LMSs read as written
            assert (m == full) == rule and (c == full) == rule, (student, ident, text)
        row = table.setdefault(form, {"answers": 0, "all agree": 0, "moodle differs": 0,
                                      "canvas differs": 0, "named": 0})
        row["answers"] += 1
        row["all agree"] += g == m == c
        row["moodle differs"] += g != m
        row["canvas differs"] += g != c
        d = listed.get((student, variant, q["ask"]))
        if g != m or g != c:
            assert d is not None, (student, ident, text, g, m, c)
            assert (Decimal(str(d["moodle"])), Decimal(str(d["canvas"]))) == (m, c)
            expected = {"comma": "decimal comma", "minus": "Unicode minus"}.get(
                form, "carried credit")
            assert d["cause"] == expected, d
            row["named"] += 1
        else:
            assert d is None, d
    return table


def test_moodle_canvas_and_grade_agree_except_where_the_report_says_why(graded, moodle, canvas):
    table = agreement(graded, moodle, canvas)
    assert set(table) == set(FORMS)
    for form, row in table.items():
        assert row["all agree"] + row["named"] == row["answers"], (form, row)
    # The decimal comma and U+2212 are where the LMSs and grade must differ.
    assert table["comma"]["moodle differs"] > 0 and table["minus"]["canvas differs"] > 0
    # At the stated edge (±2 units, and 1.6 units with a digit more) all three accept.
    for form in ("k2", "k-2", "k1.6", "k-1.6"):
        assert table[form]["all agree"] == table[form]["answers"], form


def test_the_report_names_each_cause_with_its_count(graded):
    book, _, out = graded
    counts = book["lms_differences"]["counts"]
    assert set(counts) <= {"decimal comma", "Unicode minus", "carried credit"}
    report = (out / "report.md").read_text()
    assert "## Where Moodle and Canvas would give other points" in report
    for cause, n in counts.items():
        assert f"| {cause} | {n['moodle']} | {n['canvas']} |" in report
    moodle_csv = list(csv.DictReader((out / "moodle-grades.csv").open(encoding="utf-8")))
    points = {s["student"]: str(s["points"]) for s in book["students"]}
    assert {r["Student"]: r["Grade"] for r in moodle_csv} == {
        k: v.rstrip("0").rstrip(".") if "." in v else v for k, v in points.items()}


if __name__ == "__main__":  # the table of agreement: python tests/test_lms.py [VARIANTS]
    import sys
    import tempfile

    class _Factory:
        def mktemp(self, name):
            return Path(tempfile.mkdtemp(prefix=name))

    e = make_exam_dir(_Factory().mktemp("exam"), int(sys.argv[1]) if sys.argv[1:] else 2)
    g = grade_every_form(e, json.loads((e / "key.json").read_text()), _Factory())
    t = agreement(g, read_moodle(e), read_canvas(e))
    print("| form | answers | Moodle = Canvas = grade | Moodle differs | Canvas differs |"
          " named in the report |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for form, row in t.items():
        print(f"| {form} | {row['answers']} | {row['all agree']} | {row['moodle differs']} | "
              f"{row['canvas differs']} | {row['named']} |")
