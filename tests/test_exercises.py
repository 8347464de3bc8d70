"""Exercise files as a teacher writes them: a tanh and a softmax network of their own,
several exercises in one exam, the LMS files (Moodle, Canvas QTI) read back and every
answer re-derived by sympy.diff (tests/oracle.py) from key.json alone; bad files."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import sympy as sp
from test_exam import oracle_answer

import symbackprop as sb
from symbackprop.answerkey import rounded
from symbackprop.exam import FAMILIES, make_exam, read_exercise
from symbackprop.exam.statement import worked_steps

DATA = Path(__file__).parent / "data"
TANH = DATA / "exercise_tanh.toml"
SOFTMAX = DATA / "exercise_softmax.toml"
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
PAPERS = 10  # a class's exam: each slot draws from 10 variants


def _close_at(value: float, exact, decimals: int) -> bool:
    return value == rounded(exact, decimals)


@pytest.fixture(scope="module")
def class_exam(tmp_path_factory):
    """PAPERS papers of a teacher's two files and a built-in family, every output, from the
    command line as a teacher runs it."""
    from conftest import run_cli

    out = tmp_path_factory.mktemp("exam")
    r = run_cli("exam", TANH, "chain", SOFTMAX, "--variants", str(PAPERS), "--seed", "7", "-o", out,
                "--format", "key,moodle,cloze,qti")
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "key.json").read_text())


def test_the_key_has_a_variant_of_each_exercise_per_student(class_exam):
    _, key = class_exam
    assert key["exercises"] == ["exercise_tanh", "chain", "exercise_softmax"]
    papers = {}
    for v in key["variants"]:
        papers.setdefault(v["student"], []).append(v["exercise"])
    assert sorted(papers) == list(range(1, PAPERS + 1))
    assert all(p == key["exercises"] for p in papers.values())


def test_every_answer_rederived_by_sympy_diff(class_exam):
    _, key = class_exam
    for v in key["variants"]:
        for q in v["questions"]:
            expected = oracle_answer(v["problem"], q["ask"])
            assert abs(q["answer"] - float(expected)) <= 1e-9 * max(1, abs(float(expected))), \
                (v["id"], q["ask"])
            if "choices" in q:
                assert q["choices"][q["correct"]] == rounded(expected, q["decimals"])


def test_no_answer_has_fewer_than_three_significant_digits(class_exam):
    _, key = class_exam
    for v in key["variants"]:
        for q in v["questions"]:
            d, answer = q["decimals"], Decimal(repr(q["answer"]))
            shown = answer.quantize(Decimal(1).scaleb(-d))
            if shown != answer:  # an exact answer (-6.0, 0) is not widened
                assert len(shown.as_tuple().digits) >= 3 or abs(shown) >= 100, (v["id"], q)
            assert q["tolerance"] == 2 * 10.0 ** -d


@pytest.mark.slow
def test_papers_and_solutions_pdf(tmp_path):
    """Every student's paper names each of its variants; the solutions say how their
    lines are rounded (a TeX run of papers and solutions: slow)."""
    from conftest import run_cli

    out = tmp_path / "exam"
    r = run_cli("exam", TANH, "chain", SOFTMAX, "--variants", "6", "--seed", "7", "-o", out,
                "--format", "key,tex,pdf")
    assert r.returncode == 0, r.stderr
    key = json.loads((out / "key.json").read_text())
    text = subprocess.run(["pdftotext", "-layout", str(out / "exam.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 6
    for student in range(1, 7):
        ids = [v["id"] for v in key["variants"] if v["student"] == student]
        paper = "".join(p for p in pages if f"paper {student}:" in p)
        assert all(i in paper for i in ids), student
    solutions = subprocess.run(["pdftotext", str(out / "solutions.pdf"), "-"],
                               capture_output=True, text=True, check=True).stdout
    assert "within one unit of its last digit" in solutions


def test_moodle_slot_categories_and_cloze(class_exam):
    out, key = class_exam
    root = ET.parse(out / "moodle.xml").getroot()
    categories = [c.findtext("category/text") for c in root.findall("question[@type='category']")]
    slots = [f"$course$/top/exercise_tanh+chain+exercise_softmax-7/{e}/q{k}"
             for e, n in (("exercise_tanh", 4), ("chain", 3), ("exercise_softmax", 3))
             for k in range(1, n + 1)]
    assert categories == slots
    assert len(root.findall("question")) == len(slots) + PAPERS * 10
    cloze = ET.parse(out / "moodle-cloze.xml").getroot()
    questions = cloze.findall("question[@type='cloze']")
    assert len(questions) == PAPERS * 3
    records = {v["id"]: v for v in key["variants"]}
    for element in questions:
        v = records[element.findtext("name/text").split()[0]]
        text = element.findtext("questiontext/text")
        parts = re.findall(r"\{(\d+):(NUMERICAL|MULTICHOICE):([^{}]*)\}", text)
        assert len(parts) == len(v["questions"])


def test_canvas_qti_package(class_exam):
    """The zip Canvas imports: a manifest naming the assessment, one question group per
    slot drawing one item, every item's answer re-derived from key.json's problem."""
    out, key = class_exam
    with zipfile.ZipFile(out / "canvas-qti.zip") as z:
        manifest = ET.fromstring(z.read("imsmanifest.xml"))
        (resource,) = [r for r in manifest.iter() if r.tag.endswith("resource")]
        assert resource.get("type") == "imsqti_xmlv1p2"
        root = ET.fromstring(z.read(resource.get("href")))
    records = {v["id"]: v for v in key["variants"]}
    (assessment,) = root.findall(f"{QTI}assessment")
    groups = assessment.findall(f"{QTI}section/{QTI}section")
    assert len(groups) == 10
    seen = 0
    for group in groups:
        assert group.findtext(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_number") == "1"
        items = group.findall(f"{QTI}item")
        assert len(items) == PAPERS
        for item in items:
            vid, slot = item.get("ident").rsplit("-q", 1)
            v = records[vid]
            q = v["questions"][int(slot) - 1]
            exact = oracle_answer(v["problem"], q["ask"])
            d = q["decimals"]
            fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                      for f in item.iter(f"{QTI}qtimetadatafield")}
            assert float(fields["points_possible"]) == q["points"]
            condition = item.find(f"{QTI}resprocessing/{QTI}respcondition/{QTI}conditionvar")
            if "choices" in q:
                assert fields["question_type"] == "multiple_choice_question"
                right = condition.findtext(f"{QTI}varequal")
                label = next(x for x in item.iter(f"{QTI}response_label") if x.get("ident") == right)
                assert float(label.findtext(f"{QTI}material/{QTI}mattext")) == rounded(exact, d)
            else:
                assert fields["question_type"] == "numerical_question"
                assert _close_at(float(condition.findtext(f"{QTI}or/{QTI}varequal")), exact, d)
                low = float(condition.findtext(f"{QTI}or/{QTI}and/{QTI}vargte"))
                high = float(condition.findtext(f"{QTI}or/{QTI}and/{QTI}varlte"))
                assert low < float(exact) < high
                assert high - low == pytest.approx(2 * q["tolerance"])
            seen += 1
    assert seen == PAPERS * 10


def test_an_exercise_file_is_a_valid_problem(cli):
    r = cli("solve", TANH, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["values"]["w1"] == 0.3
    assert sb.load(TANH).solve().lookup("w1") == sb.load_dict(
        {"graph": {"E": "w1*1"}, "parameters": {"w1": 0.3}}).solve().lookup("w1")


@pytest.mark.parametrize("name", FAMILIES)
def test_show_prints_a_file_that_is_an_exercise_and_a_problem(name, cli, tmp_path):
    shown = cli("exam", "--show", name)
    assert shown.returncode == 0
    path = tmp_path / f"my{name}.toml"
    path.write_text(shown.stdout)
    assert sb.load(path).solve() is not None
    exam = make_exam(str(path), 2, seed=1, jobs=1)
    builtin = read_exercise(name)
    assert [a.key for a in read_exercise(str(path)).questions] == [a.key for a in builtin.questions]
    assert len(exam.variants) == 2


@pytest.mark.parametrize("variants, seed", [(4, 5), pytest.param(36, 6, marks=pytest.mark.slow)])
def test_displayed_factors_give_the_displayed_result(variants, seed):
    """Every derivation line of the variants of each family: the numbers shown, multiplied
    and added as shown, round to the result shown within one unit of its last digit, or
    the line says ≈. (4 variants a family in the quick run, 36 others in the whole suite.)"""
    checked = 0
    for family in FAMILIES:
        for variant in make_exam(family, variants, seed=seed).variants:
            for q in variant.questions:
                lines = worked_steps(variant, q)
                for line, nxt in zip(lines, lines[1:], strict=False):
                    if not line.startswith("= ") or not nxt.startswith("= "):
                        continue
                    total = sum((_product(term) for term in line[2:].split(" + ")), Decimal(0))
                    result = Decimal(nxt[2:])
                    unit = Decimal(1).scaleb(result.as_tuple().exponent)
                    assert abs(total - result) <= unit, (variant.id, q.ask, line, nxt)
                    checked += 1
    assert checked > 7 * variants


def _product(term: str) -> Decimal:
    out = Decimal(1)
    for factor in term.split(r" \cdot "):
        out *= Decimal(factor.strip().strip("()"))
    return out


BASE = '''
[graph]
y = "w*x"
E = "(y - t)**2 / 2"
[inputs]
x = 0.5
t = 1
[parameters]
w = 0.3
'''


@pytest.mark.parametrize("extra, words", [
    ('[random]\nx = "uniform(1, 1, 0.1)"\n', "[random] x: uniform needs lo < hi"),
    ('[random]\nx = "unifrom(0, 1, 0.1)"\n', "did you mean 'uniform'"),
    ('[random]\nx = "uniform(0, 1, 0.1, exlude = 0)"\n', "did you mean 'exclude'"),
    ('[random]\nww = "uniform(0, 1, 0.1)"\n', "[random] ww: names no value of the problem (did you mean 'w'?)"),
    ('[random]\nx = "integer(0, 0, exclude = 0)"\n', "every value in the range is excluded"),
    ('[random]\nx = "__import__(\'os\')"\n', "[random] x:"),
    ('[[questions]]\nask = "dE/dv"\n', "[questions] #1 ask: 'v' names nothing in the problem"),
    ('[[questions]]\nask = "dE/dw"\ndecimal = 3\n', "did you mean 'decimals'"),
    ('[[questions]]\nask = "dE/dw"\ntype = "multiple"\n', "did you mean 'multichoice'"),
    ('[[questions]]\nask = "dE/dw"\nmistakes = ["sign-fliped"]\n', "did you mean 'sign-flipped'"),
    ('[[questions]]\nask = "dE/dw"\ndecimals = 3\nsignificant = 3\n', "not both"),
    ('statement = "at {{xx}}"\n[[questions]]\nask = "E"\n', "unknown placeholder {{xx}} (did you mean 'x'?)"),
    ('statement = "\\\\input{/etc/passwd}"\n[[questions]]\nask = "E"\n', "\\input is not allowed"),
    ('[constraints]\nc = "abs(q) < 3"\n[[questions]]\nask = "E"\n', "[constraints] c: 'q' names nothing"),
    ('[constraints]\nc = "abs(y) 3"\n[[questions]]\nask = "E"\n', "[constraints] c: write one comparison"),
    ('[constraints]\nc = "__import__(\'os\') < 3"\n[[questions]]\nask = "E"\n', "[constraints] c:"),
    ('[mistakes.half]\nnote = "x"\ngraph = { EE = "y" }\n[[questions]]\nask = "E"\n',
     "[mistakes.half] EE: no such [graph] node (did you mean 'E'?)"),
    ('', "an exercise needs at least one [[questions]]"),
])
def test_bad_exercise_files(cli, tmp_path, extra, words):
    path = tmp_path / "my.toml"
    # a top-level key (statement) goes before the tables
    text = extra + BASE if extra.startswith("statement") else BASE + extra
    if "[[questions]]" not in extra and extra:
        text += '[[questions]]\nask = "E"\n'
    path.write_text(text)
    before = path.read_bytes()
    r = cli("exam", path, "--variants", "2", "--seed", "1", "-o", tmp_path / "out")
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and words in lines[0], lines
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() and path.read_bytes() == before


def test_an_exercise_that_cannot_be_drawn_names_the_rule(cli, tmp_path):
    path = tmp_path / "never.toml"
    path.write_text(BASE + '[random]\nx = "uniform(0.1, 1, 0.1)"\n[constraints]\nbig = "y > 5"\n'
                    '[[questions]]\nask = "E"\n')
    r = cli("exam", path, "--variants", "1", "--seed", "1", "-o", tmp_path / "out", "--format", "key")
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}") and "constraint 'big' failed 1000 times" in line


def test_placeholders_are_escaped_and_never_executed(tmp_path):
    path = tmp_path / "words.toml"
    path.write_text('statement = "Look: {{word}}."\n' + BASE
                    + '[random]\nword = \'choice("a_b & {c}", "$x$")\'\n[[questions]]\nask = "E"\n')
    from symbackprop.exam.document import exam_tex

    tex = exam_tex(make_exam(str(path), 2, seed=2, jobs=1))
    assert r"\& \{c\}." in tex or r"\$" in tex  # escaped by the documents' TeX escape
    assert "a_b & {c}" not in tex and "Look: $x$" not in tex


def test_an_exercise_with_too_few_different_variants(cli, tmp_path, monkeypatch):
    import symbackprop.exam.generate as generate

    monkeypatch.setattr(generate, "MAX_ATTEMPTS", 50)  # 1000 in use: the same path, slower
    path = tmp_path / "few.toml"
    path.write_text(BASE + '[random]\nt = "integer(0, 1)"\n[[questions]]\nask = "dE/dw"\n')
    r = cli("exam", path, "--variants", "3", "--seed", "1", "--format", "key", "-o", tmp_path / "o")
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()
    assert "no well-posed variant in 50 draws: the rule duplicate failed 50 times" in line
    assert "2 found" in line


MINIBATCH = '''output = "E"
learning_rate = 0.5
batch = "all"
[graph]
z = "w*x + b"
y = "sigmoid(z)"
E = "(y - t)**2 / 2"
[parameters]
w = 0.4
b = -0.1
[data]
x = [1.5, -0.5]
t = [1, 0]
[random]
x = "uniform(-2, 2, 0.5, exclude = 0)"
[[questions]]
ask = "dE/dw"
'''


def test_random_draws_data_sample_by_sample(cli, tmp_path):
    """[random] may draw a [data] list: every sample afresh; the key's answer is the
    batch mean of the samples' gradients, recomputed here with sympy.diff."""
    path = tmp_path / "mb.toml"
    path.write_text(MINIBATCH)
    r = cli("exam", path, "--variants", "4", "--seed", "2", "--format", "key", "-o", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    key = json.loads((tmp_path / "o" / "key.json").read_text())
    drawn = [tuple(v["problem"]["data"]["x"]) for v in key["variants"]]
    assert len(set(drawn)) == 4 and all(len(x) == 2 and 0 not in x for x in drawn)
    w, b, x, t = sp.symbols("w b x t")
    loss = (1 / (1 + sp.exp(-(w * x + b))) - t) ** 2 / 2
    for v, xs in zip(key["variants"], drawn, strict=True):
        ts = v["problem"]["data"]["t"]
        mean = sum(sp.diff(loss, w).subs({w: sp.Rational(2, 5), b: sp.Rational(-1, 10),
                                           x: sp.nsimplify(xi), t: ti})
                   for xi, ti in zip(xs, ts, strict=True)) / 2
        assert abs(float(mean) - v["questions"][0]["answer"]) < 1e-12
