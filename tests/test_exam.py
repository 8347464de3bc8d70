"""Exam families: reproducible keys, answers against the independent oracle, choices,
well-posedness over many seeds, and the command line."""

from __future__ import annotations

import functools
import json
import os
from decimal import Decimal

import pytest
import sympy as sp
from oracle import close, graph_oracle

import symbackprop as sb
from symbackprop.answerkey import rounded
from symbackprop.errors import SymbackpropError
from symbackprop.exam import FAMILIES, make_exam, read_exercise
from symbackprop.exam.outputs import key_json
from symbackprop.exam.stress import stress
from symbackprop.keys import parse_key

DATA = __import__("pathlib").Path(__file__).parent / "data"


def _as_toml_numbers(table: dict) -> dict:
    """The key's problem as the oracle reads TOML: floats as decimals."""
    def conv(v):
        if isinstance(v, float):
            return Decimal(repr(v))
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(table)


def oracle_answer(table: dict, key: str):
    """The value of a claim key by sympy.diff of the substituted expression, computed
    from the key.json problem alone (no engine code)."""
    value, grads, full, symbols, point = _worked(json.dumps(table))  # key.json's own JSON
    table = _as_toml_numbers(table)
    names = set(table["graph"]) | set(point_names(table))
    parsed = parse_key(key, names | {n.split("[")[0] for n in names})
    output = table.get("output") or list(table["graph"])[-1]
    if parsed.kind == "value":
        if parsed.name in full:
            return sp.N(full[parsed.name].xreplace(point), 50)
        return _leaf_value(table, parsed.name)
    if parsed.kind == "after":
        rate = sp.Rational(str(table["learning_rate"]))
        return _leaf_value(table, parsed.name) - rate * grads[parsed.name]
    assert parsed.name == output, "the families ask derivatives of the output"
    if parsed.wrt in grads:
        return grads[parsed.wrt]
    # d output / d node: cut the graph at the node, which becomes an input of its value.
    node_value = sp.N(full[parsed.wrt].xreplace(point), 50)
    cut = {k: (dict(v) if isinstance(v, dict) else v) for k, v in table.items()}
    del cut["graph"][parsed.wrt]
    cut.setdefault("inputs", {})
    cut["inputs"] = dict(cut["inputs"])
    cut["inputs"][parsed.wrt] = Decimal(str(node_value))
    return graph_oracle(cut)[1][parsed.wrt]


@functools.lru_cache(maxsize=64)
def _worked(table_json: str):
    """The oracle of one problem, worked out once however many keys are asked of it (a
    class of students asks the same variant's keys again and again). Read back from JSON
    in the order written: the graph's order says which node is the output."""
    return graph_oracle(_as_toml_numbers(json.loads(table_json)))


def point_names(table):
    from oracle import _leaf_symbols

    return list(_leaf_symbols(table))


def _leaf_value(table, name):
    from oracle import _leaf_symbols

    return _leaf_symbols(_as_toml_numbers(table))[name]


@pytest.fixture(scope="module", params=FAMILIES)
def exam(request):
    return make_exam(request.param, 6, seed=11, jobs=1)


def test_same_seed_same_key_other_seed_other_key(exam):
    again = make_exam(exam.family, 6, seed=11, jobs=1)
    assert key_json(again) == key_json(exam)
    other = make_exam(exam.family, 6, seed=12, jobs=1)
    assert key_json(other) != key_json(exam)
    ids = [v.id for v in exam.variants]
    assert ids == [f"{exam.family}-11-{i:03d}" for i in range(1, 7)]


def test_variants_of_one_exam_differ(exam):
    problems = [json.dumps(v["problem"], sort_keys=True) for v in exam.key()["variants"]]
    assert len(set(problems)) == len(problems)


def test_answers_against_the_oracle(exam):
    key = json.loads(key_json(exam))
    for variant in key["variants"]:
        for q in variant["questions"]:
            expected = oracle_answer(variant["problem"], q["ask"])
            assert close(q["answer"], expected, rel=1e-9, abs_=1e-12), (variant["id"], q["ask"])


def test_key_problem_reloads_and_resolves_every_ask(exam):
    for variant in exam.key()["variants"]:
        solution = sb.load_dict(variant["problem"]).solve()
        for q in variant["questions"]:
            assert close(solution.lookup(q["ask"]), q["answer"], rel=1e-12)


def test_every_ask_is_a_claim_key_its_rounded_answer_verifies(exam):
    """Each ask read as a line of a claims file (so never a derivative key written
    upside down) and the answer rounded to the asked decimals: correct."""
    for variant in exam.variants:
        claims = {q.ask: f"{rounded(q.answer, q.decimals):.{q.decimals}f}"
                  for q in variant.questions}
        report = sb.verify(variant.problem, claims, strict=True)
        assert report.accepted, (variant.id, report.to_text())


def test_no_asked_update_is_the_value_before_it(exam):
    for variant in exam.variants:
        sol = variant.solution
        for q in variant.questions:
            asked = parse_key(q.ask, sol.key_names)
            if asked.kind == "after":
                d = q.decimals
                assert rounded(q.answer, d) != rounded(sol.values[asked.name], d), (variant.id,
                                                                                    q.ask)


def test_the_reviewers_dead_unit_bias_is_redrawn():
    """mlp once asked b1_new[1] behind a dead relu unit: the answer was the given b1[1].
    Such draws are rejected as ``unchanged`` and redrawn."""
    from symbackprop.exam import read_exercise
    from symbackprop.exam.draw import Draw
    from symbackprop.exam.generate import build_variant
    from symbackprop.exam.wellposed import Rejected

    exercise = read_exercise("mlp")
    found = []
    for attempt in range(200):
        try:
            build_variant(exercise, 3, 0, Draw("mlp", 3, 0, attempt))
        except Rejected as rejected:
            if rejected.rule == "unchanged" and "b1_new" in rejected.detail:
                found.append(rejected.detail)
                break
    assert found, "no draw of mlp-3-001 was rejected as unchanged"
    for variant in make_exam("mlp", 5, seed=3, jobs=1).variants:
        asked = {q.ask: q.answer for q in variant.questions}
        (bias,) = [k for k in asked if k.startswith("b1_new")]
        before = variant.solution.values[bias.replace("_new", "")]
        assert rounded(asked[bias], 4) != rounded(before, 4)


def test_the_unchanged_rule():
    from symbackprop.exam.wellposed import Rejected, check_unchanged

    solution = sb.load("net-221").solve()
    w5_new = solution.lookup("w5_new")  # 0.2374 from w5 = 0.2
    check_unchanged("w5_new", w5_new, solution, 4)
    check_unchanged("dE/dw5", solution.lookup("dE/dw5"), solution, 4)  # not an update
    with pytest.raises(Rejected) as rejected:  # 0.2 at one decimal, as given
        check_unchanged("w5_new", w5_new, solution, 1)
    assert rejected.value.rule == "unchanged"
    with pytest.raises(Rejected, match="as before"):  # 0.1007 is 0.10 at two decimals
        check_unchanged("w1_new", solution.lookup("w1_new"), solution, 2)
    # a learning rate above 1 can move a parameter whose gradient rounds to 0
    steep = sb.load_dict({"graph": {"E": "w*x"}, "inputs": {"x": 0.00004},
                          "parameters": {"w": 0.5}, "learning_rate": 10}).solve()
    with pytest.raises(Rejected, match="rounds to 0"):  # w_new = 0.4996, dE/dw = 0.00004
        check_unchanged("w_new", steep.lookup("w_new"), steep, 4)


def test_multiple_choice_has_exactly_one_right_choice(exam):
    seen_mc = 0
    for variant in exam.key()["variants"]:
        for q in variant["questions"]:
            if "choices" not in q:
                continue
            seen_mc += 1
            shown = [rounded(c, q["decimals"]) for c in q["choices"]]
            assert len(shown) >= 4 and len(set(shown)) == len(shown)
            right = [i for i, c in enumerate(shown) if abs(c - q["answer"]) <= q["tolerance"]]
            assert right == [q["correct"]]
            assert q["mistakes"][q["correct"]] is None
            assert all(m for i, m in enumerate(q["mistakes"]) if i != q["correct"])
    assert seen_mc >= len(exam.variants)


def test_choices_are_shuffled_by_the_seed():
    positions = [q["correct"] for f in FAMILIES
                 for v in make_exam(f, 4, seed=3, jobs=1).key()["variants"]
                 for q in v["questions"] if "choices" in q]
    assert len(set(positions)) == 4


@pytest.mark.slow  # worker processes (the quick run draws in one)
def test_parallel_draw_gives_the_same_key():
    assert key_json(make_exam("logreg", 45, seed=5, jobs=2)) == key_json(
        make_exam("logreg", 45, seed=5, jobs=1))


def test_a_longer_exam_starts_with_the_shorter_one():
    short = make_exam("chain", 3, seed=9, jobs=1).key()["variants"]
    long = make_exam("chain", 5, seed=9, jobs=1).key()["variants"]
    assert long[:3] == short


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_stress_many_seeds(family, capsys):
    """No degenerate variant over STRESS_SEEDS seeds per family (100; the exam's own
    `--stress` and STRESS_SEEDS=500 try more)."""
    report = stress(family, int(os.environ.get("STRESS_SEEDS", 100)), jobs=2)
    with capsys.disabled():
        print(f"\n{report}")
    assert "unchanged" in report.rules
    assert [p for p in report.degenerate if "unchanged by the update" in p] == []
    assert report.degenerate == []


def test_cli_list(cli):
    r = cli("exam", "--list")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(FAMILIES)


def test_cli_writes_key(cli, tmp_path):
    r = cli("exam", "net221", "--variants", "2", "--seed", "7", "-o", tmp_path, "--format", "key")
    assert r.returncode == 0, r.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    assert key["family"] == "net221" and key["seed"] == 7 and len(key["variants"]) == 2
    assert key_json(make_exam("net221", 2, 7)) == (tmp_path / "key.json").read_text()


@pytest.mark.parametrize("args, words", [
    (["chian", "--variants", "3", "--seed", "1"], "did you mean 'chain'"),
    (["chain", "--variants", "0", "--seed", "1"], "--variants"),
    (["chain", "--variants", "100000", "--seed", "1"], "--variants"),
    (["chain", "--variants", "3", "--seed", "x"], "--seed"),
    (["chain", "--variants", "3", "--seed", "1.5"], "--seed"),
    (["chain", "--variants", "3"], "--seed"),
    (["chain", "--variants", "3", "--seed", "1", "--format", "moodel"], "did you mean 'moodle'"),
])
def test_cli_bad_input(cli, tmp_path, args, words):
    r = cli("exam", *args, "-o", tmp_path / "out")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_moodle_xml(tmp_path, cli):
    """One category per exercise and slot, every question in its slot's category, the
    right answer at the asked precision with the tolerance the key states, known
    mistakes as 0 % answers, a penalty for wrong tries."""
    import xml.etree.ElementTree as ET

    r = cli("exam", "mlp", "logreg", "--variants", "3", "--seed", "4", "-o", tmp_path,
            "--format", "key,moodle")
    assert r.returncode == 0, r.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    root = ET.parse(tmp_path / "moodle.xml").getroot()
    assert root.tag == "quiz"
    category = None
    by_category: dict[str, list] = {}
    for element in root.findall("question"):
        if element.get("type") == "category":
            category = element.findtext("category/text")
            continue
        by_category.setdefault(category, []).append(element)
    records = {v["id"]: v for v in key["variants"]}
    expected = {}
    for v in key["variants"]:
        for slot, q in enumerate(v["questions"], start=1):
            expected.setdefault(f"$course$/top/mlp+logreg-4/{v['exercise']}/q{slot}", []).append((v, q))
    assert sorted(by_category) == sorted(expected) and len(expected) == 8
    for path, elements in by_category.items():
        assert [e.findtext("name/text").split()[0] for e in elements] == \
            [v["id"] for v, _ in expected[path]]
        for element, (variant, q) in zip(elements, expected[path], strict=True):
            assert records[element.findtext("name/text").split()[0]] is variant
            text = element.findtext("questiontext/text")
            assert "\\(" in text and variant["id"] in text
            assert "Worked solution" in element.findtext("generalfeedback/text")
            answers = element.findall("answer")
            right = [a for a in answers if a.get("fraction") == "100"]
            assert len(right) == 1
            d = q["decimals"]
            assert right[0].findtext("text") == f"{rounded(q['answer'], d):.{d}f}"
            assert float(element.findtext("penalty")) > 0
            if "choices" in q:
                assert element.get("type") == "multichoice" and len(answers) == len(q["choices"])
                assert all(a.get("fraction") == "0" for a in answers if a is not right[0])
            else:
                assert element.get("type") == "numerical"
                assert float(right[0].findtext("tolerance")) == q["tolerance"] == 2 * 10.0 ** -d
                assert f"within ±{q['tolerance']:.{d}f} accepted" in text
                for wrong in answers[1:]:
                    assert wrong.get("fraction") == "0"
                    assert wrong.findtext("feedback/text").startswith("<p>Not quite: ")
                    # outside the right answer's band, so a response matches one answer only
                    assert abs(float(wrong.findtext("text")) - float(right[0].findtext("text"))) \
                        > 2 * q["tolerance"]


def _pdf_text(path) -> str:
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.replace("\u2212", "-")  # TeX's minus sign


@pytest.mark.slow
@pytest.mark.parametrize("family", ["mlp", "chain"])
def test_pdfs_show_each_variant(cli, tmp_path, family):
    r = cli("exam", family, "--variants", "2", "--seed", "21", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("key.json", "moodle.xml", "exam.tex", "exam.pdf", "solutions.tex", "solutions.pdf"):
        assert (tmp_path / name).stat().st_size > 0
    key = json.loads((tmp_path / "key.json").read_text())
    exam_pages = _pdf_text(tmp_path / "exam.pdf").split("\f")
    solution_text = _pdf_text(tmp_path / "solutions.pdf")
    for variant, page in zip(key["variants"], exam_pages, strict=False):
        assert variant["id"] in page and "Student ID" in page
        for q in variant["questions"]:
            d = q["decimals"]
            if "choices" in q:  # every choice is printed, and the right one in the solutions
                for c in q["choices"]:
                    assert f"{c:.{d}f}" in page, (variant["id"], q["ask"], c)
            assert f"{rounded(q['answer'], d):.{d}f}" in solution_text, (variant["id"], q["ask"])
        given = variant["problem"]["inputs"]
        for value in given.values():
            for number in (value if isinstance(value, list) else [value]):
                assert str(number) in page
    assert len([p for p in exam_pages if p.strip()]) == len(key["variants"])


def test_distractors_are_the_mistakes_they_name():
    """Each named mistake, recomputed here from the oracle: a flipped sign, the 1/2
    forgotten (twice the gradient), the update added, the learning rate forgotten."""
    checked = set()
    for family in ("net221", "logreg", "mlp", "chain"):
        for variant in make_exam(family, 4, seed=8, jobs=1).key()["variants"]:
            table = variant["problem"]
            for q in variant["questions"]:
                for choice, note in zip(q.get("choices", []), q.get("mistakes", []), strict=True):
                    d = q["decimals"]
                    if note in ("a flipped sign", "the minus sign of the cross-entropy dropped"):
                        expected = -q["answer"]
                    elif note == "the 1/2 of the squared error forgotten" and "/" in q["ask"]:
                        expected = 2 * q["answer"]
                    elif note in ("the update added instead of subtracted", "the learning rate forgotten"):
                        p = parse_key(q["ask"], set(point_names(table))).name
                        g = oracle_answer(table, f"d{table.get('output', 'L')}/d{p}")
                        rate = 1 if note.startswith("the learning") else table["learning_rate"]
                        sign = 1 if note.startswith("the update") else -1
                        expected = _leaf_value(table, p) + sign * sp.Rational(str(rate)) * g
                    else:
                        continue
                    assert choice == rounded(expected, d), (variant["id"], q["ask"], note)
                    checked.add(note)
    assert len(checked) >= 4


@pytest.mark.slow
def test_title_heading_and_compact_key(cli, tmp_path):
    """--title heads every paper on its own lines (never beside an ID, never wrapping
    "Paper k"), and key.pdf has one line per paper holding every answer of key.json at
    the asked precision (rounded here, half up, from key.json's exact answers)."""
    title = "Midterm in Neural Networks, Winter Term, with a Title Long Enough to Wrap Twice Over"
    r = cli("exam", "neuron", "mlp", "--variants", "3", "--seed", "8", "--title", title,
            "--format", "key,pdf", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    text = _pdf_text(tmp_path / "exam.pdf")
    papers = text.split("Midterm in Neural Networks")[1:]
    assert len(papers) == 3
    for k, page in enumerate(papers, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0].endswith(f"Paper {k}") and "Student ID" in lines[2]
        assert "Exam:" not in page
        ids = [line for line in lines if line.endswith((f"neuron-8-00{k}", f"mlp-8-00{k}"))
               and line.startswith("Exercise")]
        assert len(ids) == 2  # each exercise's title and its ID on one line, apart
    rows = [line.split() for line in _pdf_text(tmp_path / "key.pdf").splitlines()
            if line.split() and line.split()[0].isdigit() and len(line.split()) > 3]
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    for row, paper in zip(rows, range(1, 4), strict=True):
        variants = [v for v in key["variants"] if v["student"] == paper]
        expected = []
        for v in variants:
            for q in v["questions"]:
                if "correct" in q:
                    expected.append("(" + "abcd"[q["correct"]] + ")")
                expected.append(f"{rounded(q['answer'], q['decimals']):.{q['decimals']}f}")
        assert row[1:] == expected


def test_the_default_title_of_several_exercises_is_short():
    exam = make_exam(["neuron", "chain"], 1, seed=1, jobs=1)
    assert exam.title == "Exam"
    assert make_exam("neuron", 1, seed=1, jobs=1).title == read_exercise("neuron").title


@pytest.mark.parametrize("title", ["", "a\nb", "x" * 201])
def test_a_bad_title_is_refused(title):
    with pytest.raises(SymbackpropError, match="--title"):
        make_exam("neuron", 1, seed=1, jobs=1, title=title)


def test_constant_distractors_are_found():
    """A value printed among a slot's distractors on nearly every variant is reported;
    one that changes with the variant is not."""
    from symbackprop.exam.stress import constant_distractors

    varied = [[(f"0.{k}3", {f"0.{k}1", f"0.{k}2"})] for k in range(10)]
    assert constant_distractors(varied) == []
    struck = [[(f"0.{k}3", {"0.0000", f"0.{k}2"})] for k in range(10)]
    assert constant_distractors(struck) == ["question 1: the distractor 0.0000 on 10 of 10 variants"]
    # answers that are themselves -2 or -1 (a hinge pattern): the other values repeat
    few = [[(str(-1 - k % 2), {"0", "2"})] for k in range(9)]
    assert constant_distractors(few) == []


def test_no_lone_zero_distractor_and_every_distractor_names_its_mistake():
    """The softmax exercise's missing-path distractor was 0.0000 on every paper; now no
    distractor rounds to 0 (the answer never does), none is constant across 20 papers,
    and each one names the mistake behind it."""
    from symbackprop.exam.stress import constant_distractors, distractors_shown, problems_of

    exam = make_exam(str(DATA / "exercise_softmax.toml"), 20, seed=1, jobs=1)
    assert constant_distractors([distractors_shown(v) for v in exam.variants]) == []
    for v in exam.variants:
        assert problems_of(v) == []
        for q in v.questions:
            if q.choices is not None:
                assert all(rounded(c, q.decimals) != 0 for c in q.choices)
                assert all(n for i, n in enumerate(q.mistakes) if i != q.correct)


@pytest.mark.parametrize("answer, decimals, significant, short", [
    (Decimal("1e-8"), 8, None, True),  # would be asked as 0.00000001
    (Decimal("1.34e-7"), 8, 3, True),  # 0.00000013: two digits, three asked
    (Decimal("1.23e-6"), 8, 3, False),
    (Decimal("0.5"), 4, None, False),  # 0.5000
    (Decimal("-1.2e-8"), 8, None, True),
    (Decimal("0.0123"), 4, None, False),
])
def test_too_few_digits(answer, decimals, significant, short):
    from symbackprop.exam.precision import too_few_digits

    assert (too_few_digits(answer, decimals, significant) is not None) == short
