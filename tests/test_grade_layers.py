"""grade, verify on an exam's key and the exam's practice page name the layer slips.

key.json keeps a variant of a network of typed layers in the network form (its layer
stack), so the key's problem is the one ``verify`` builds from a problem file holding the
same numbers. A student's answers are made here with a slip worked out in numpy from the
key's numbers alone (tests/layer_reference.py's forward pass from PyTorch's formulas,
central differences for gradients): ``grade`` and ``verify EXAM_DIR CLAIMS`` must name the
slip in the words ``verify`` uses on the problem file, and give the points the key's rules
say (a wrong answer none, however well explained; a right one its points).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import layer_reference as ref
import numpy as np
import pytest

import symbackprop as sb
from conftest import run_cli
from symbackprop.grade.classreport import AS_IF

EXERCISES = Path(sb.__file__).parent / "examples" / "exercises" / "layers"
H = 1e-6
DROPOUT_SLIP = "left out dropout's scale 1/(1 − p) = 2 in a3 (the mask alone)"


@pytest.fixture(scope="module")
def dropout_exam(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layer-exam") / "exam"
    r = run_cli("exam", EXERCISES / "dropout.toml", "--variants", "1", "--seed", "11",
                "--format", "key,practice", "-o", folder)
    assert r.returncode == 0, r.stderr
    return folder, json.loads((folder / "key.json").read_text(encoding="utf-8"))


def _gradient(loss, params: dict, name: str, index: tuple) -> float:
    plus, minus = copy.deepcopy(params), copy.deepcopy(params)
    plus[name][index] += H
    minus[name][index] -= H
    return (loss(plus) - loss(minus)) / (2 * H)


def _toml(table: dict) -> str:
    """A problem table as a problem file writes it (numbers, strings, arrays, tables)."""
    def value(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)
    top = [f"{k} = {value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    sections = [f"[{k}]\n" + "\n".join(f"{n} = {value(x)}" for n, x in v.items())
                for k, v in table.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n\n" + "\n\n".join(sections) + "\n"


def _slip(note: str) -> str:
    assert AS_IF in note, note
    return note.split(AS_IF, 1)[1]


@pytest.fixture(scope="module")
def dropout_sheet(dropout_exam):
    """The exam, its variant, the student's numbers (the slip in three, one right) and the
    answers as written (four decimals)."""
    folder, key = dropout_exam
    (variant,) = key["variants"]
    table = variant["network_form"]
    assert table["network"]["layers"][2] == {"type": "dropout", "p": 0.5, "mask": [1, 0, 1, 1]}
    assert "graph" in variant["problem"]  # the graph form, which anyone can re-solve
    assert float(sb.load_dict(variant["problem"]).solve().values["L"]) == \
        pytest.approx(ref.forward(table, ref.parameters(table))[0], abs=1e-12)
    params = ref.parameters(table)
    plain = copy.deepcopy(table)
    plain["network"]["layers"][2]["p"] = 0.0  # the slip: the mask alone, no 1/(1 − p)
    slipped_loss, slipped = ref.forward(plain, params)
    answers = {
        "a3[0]": slipped["a3"][0], "L": slipped_loss,
        "dL/dW1[2][2]": _gradient(lambda p: ref.forward(plain, p)[0], params, "W1", (2, 2)),
        "W4_new[0][3]": params["W4"][0, 3] - 0.1 * _gradient(lambda p: ref.forward(table, p)[0],
                                                             params, "W4", (0, 3)),
    }
    questions = {q["ask"]: q for q in variant["questions"]}
    assert set(answers) == set(questions)
    for ask in ("a3[0]", "L", "dL/dW1[2][2]"):  # the slip changes these beyond the tolerance
        assert abs(answers[ask] - questions[ask]["answer"]) > 10 * questions[ask]["tolerance"]
    return folder, variant, answers, {ask: f"{v:.4f}" for ask, v in answers.items()}


def test_a_dropout_slip_is_named_by_grade_and_verify_on_the_key(dropout_sheet, tmp_path):
    folder, variant, answers, written = dropout_sheet
    table = variant["network_form"]
    questions = {q["ask"]: q for q in variant["questions"]}

    rows = "".join(f"ann,{variant['id']},{ask},{v}\n" for ask, v in written.items())
    (tmp_path / "answers.csv").write_text("student,variant,ask,answer\n" + rows)
    r = run_cli("grade", folder, tmp_path / "answers.csv", "--json", "-o", tmp_path / "grades",
                "--jobs", "1", "--report", "markdown")
    assert r.returncode == 0, r.stderr
    (student,) = json.loads(r.stdout)["students"]
    graded = {a["ask"]: a for a in student["answers"]}
    assert {a: m["status"] for a, m in graded.items()} == {
        "a3[0]": "wrong", "L": "wrong", "dL/dW1[2][2]": "wrong", "W4_new[0][3]": "correct"}
    assert student["points"] == questions["W4_new[0][3]"]["points"]  # wrong earns nothing
    assert all(_slip(graded[a]["note"]) == DROPOUT_SLIP for a in ("a3[0]", "L", "dL/dW1[2][2]"))
    report = (tmp_path / "grades" / "report.md").read_text(encoding="utf-8")
    assert "left out dropout's scale 1/(1 − p) in a3 (the mask alone)" in report

    claims = tmp_path / "sheet.txt"
    claims.write_text("".join(f"{ask} = {v}\n" for ask, v in written.items()))
    r = run_cli("verify", folder, claims, "--json")
    assert r.returncode == 1, r.stderr
    on_key = {c["claim"]: c for c in json.loads(r.stdout)["claims"]}
    assert {a: (c["status"], c["note"]) for a, c in on_key.items()} == \
        {a: (m["status"], m["note"]) for a, m in graded.items()}

    problem = tmp_path / "variant.toml"  # the same numbers as a problem file
    problem.write_text(_toml(table), encoding="utf-8")
    report = sb.verify(sb.load(str(problem)), written)
    for verdict in report.verdicts:
        if verdict.key != "W4_new[0][3]":
            assert verdict.mistake == "dropout-unscaled", verdict.note
            assert _slip(verdict.note) == _slip(graded[verdict.key]["note"])
    r = run_cli("verify", problem, claims)
    assert DROPOUT_SLIP in r.stdout

    page = (folder / f"variant-{variant['id']}-practice.html").read_text(encoding="utf-8")
    assert '"dropout-unscaled"' in page and DROPOUT_SLIP in page  # the page names it too


def test_a_batch_norm_slip_is_named_on_the_key(tmp_path):
    """batchnorm's backward with μ and σ² held constant, by hand in numpy from the key's
    numbers: dL/da1 = γ·dL/da2/√(σ² + ε), dL/dW1 = Σ_s δ_s x_sᵀ; verify on the key names
    stats-constant in the words verify uses on the problem."""
    from symbackprop.grade.onkey import verify_on_key

    folder = tmp_path / "exam"
    r = run_cli("exam", EXERCISES / "batchnorm.toml", "--variants", "1", "--seed", "11",
                "--format", "key", "-o", folder)
    assert r.returncode == 0, r.stderr
    (variant,) = json.loads((folder / "key.json").read_text(encoding="utf-8"))["variants"]
    table = variant["network_form"]
    p = ref.parameters(table)
    x, y = np.array(table["data"]["x"]), np.array(table["data"]["y"])
    a1 = x @ p["W1"].T + p["b1"]
    var = a1.var(axis=0)
    a2 = p["gamma2"] * (a1 - a1.mean(axis=0)) / np.sqrt(var + 1e-5) + p["beta2"]
    a3 = np.tanh(a2)
    a5 = 1 / (1 + np.exp(-(a3 @ p["W4"].T + p["b4"])))
    assert np.mean(0.5 * ((a5 - y) ** 2).sum(axis=1)) == pytest.approx(ref.forward(table, p)[0])
    da2 = ((a5 - y) / len(x) * a5 * (1 - a5)) @ p["W4"] * (1 - a3 ** 2)
    delta = da2 * p["gamma2"] / np.sqrt(var + 1e-5)  # the slip: μ and σ² constants
    sheet = {"dL/da1[0][1]": f"{delta[0, 1]:.4f}", "dL/dW1[0][0]": f"{(delta.T @ x)[0, 0]:.4f}"}
    on_key = verify_on_key(folder, sheet)
    on_problem = sb.verify(sb.load_dict(table), sheet)
    for mine, theirs in zip(on_key.verdicts, on_problem.verdicts, strict=True):
        assert mine.status == "wrong" and mine.mistake == theirs.mistake == "stats-constant"
        assert _slip(mine.note) == _slip(theirs.note)


def test_a_key_in_graph_form_is_still_read(dropout_sheet, tmp_path):
    """A key without the layer stack (written before key.json kept it, or by another tool:
    the graph form alone) grades as before: the same verdicts, without the layer slips'
    words (the graph form knows no layers)."""
    from symbackprop.grade.onkey import verify_on_key

    folder, variant, _, written = dropout_sheet
    old = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    del old["variants"][0]["network_form"]
    (tmp_path / "key.json").write_text(json.dumps(old), encoding="utf-8")
    verdicts = {v.key: v for v in verify_on_key(tmp_path, written).verdicts}
    assert {k: v.status for k, v in verdicts.items()} == {
        "a3[0]": "wrong", "L": "wrong", "dL/dW1[2][2]": "wrong", "W4_new[0][3]": "correct"}
    assert all(v.mistake != "dropout-unscaled" for v in verdicts.values())


@pytest.mark.parametrize("layers, field, words", [
    ([{"type": "conv3d"}], "layers[0]", "unknown layer type 'conv3d'"),
    # within each layer's limits, not the key's: 64 x 9 x 9 equations, then the pool's
    ([{"type": "conv2d", "filters": 64, "kernel": 1}, {"type": "avgpool", "size": 9},
      {"type": "flatten"}], "layers",
     "write out more than 5000 equations: an exam's key takes at most that"),
])
def test_a_tampered_layer_stack_is_one_error_line(dropout_exam, tmp_path, layers, field, words):
    folder, key = dropout_exam
    bad = copy.deepcopy(key)
    problem = bad["variants"][0]["network_form"]
    problem["network"].update(input=[1, 9, 9], layers=layers, loss="half_sse")
    problem["inputs"] = {"x": [[[0.5] * 9] * 9], "y": [1.0] * 64}
    problem["parameters"] = {"K1": [[[[0.1]]]] * 64, "b1": [0.0] * 64}
    (tmp_path / "exam").mkdir()
    (tmp_path / "exam" / "key.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "a.csv").write_text(f"student,variant,ask,answer\nann,{key['variants'][0]['id']},"
                                    "L,0.5\n")
    r = run_cli("grade", tmp_path / "exam", tmp_path / "a.csv", "-o", tmp_path / "g", "--jobs", "1",
                "--report", "none")
    assert r.returncode == 2 and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"error: {tmp_path / 'exam' / 'key.json'} variants[0].network_form"
                           f".network.{field}: "), line
    assert words in line
    assert not (tmp_path / "g").exists()
