"""The catalogue of mistakes (symbackprop.mistakes): one table read by verify and exams.

Every entry must be usable by both readers: ``verify`` names it for a number the mistake
produces (its id on the verdict), and the exams' distractor generator draws the same
number under the same mistake. The new entries are checked against numbers worked out
here by hand (plain decimal arithmetic, as a student computes) or by the independent
oracle (tests/oracle.py), never from the engine.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import sympy as sp

import symbackprop as sb
from symbackprop.exam.distractors import distractors
from symbackprop.keys import Key, Kind
from symbackprop.mistakes import CATALOGUE, MISTAKES, wrong_values
from symbackprop.numbers import format_number
from tests.oracle import network_oracle

DOCS = Path(__file__).resolve().parent.parent / "docs"
D = Decimal

TANH = {"title": "tanh net", "learning_rate": 0.5,
        "network": {"layers": [2, 2, 1], "activations": ["tanh", "sigmoid"], "loss": "mse"},
        "parameters": {"W1": [[0.1, -0.4], [0.3, 0.8]], "b1": [0.1, -0.2],
                       "W2": [[0.5, -0.6]], "b2": [0.3]},
        "inputs": {"x": [1, 2], "y": [1]}}


def problems():
    return {name: sb.load(name) for name in ("chain-xyz", "neuron", "net-221", "mlp-relu-bce",
                                             "adam-steps")} | {
        "tanh": sb.load_dict(TANH)}


def claim_keys(solution):
    g = solution.graph
    return ([Key(Kind.VALUE, n.name) for n in g.nodes]
            + [Key(Kind.DERIVATIVE, g.output, n) for n in g.names if n != g.output]
            + [Key(Kind.AFTER, p) for p in g.parameters]
            + [Key(Kind.AFTER, p, step=2) for p in g.parameters if len(solution.steps) >= 2])


def r(value, places: int = 4) -> str:
    return str(D(str(value)).quantize(D(1).scaleb(-places), ROUND_HALF_UP))


def test_every_mistake_is_named_by_verify_and_drawn_by_the_exams():
    """For each catalogue entry, some claim on the built-in problems where the number
    the mistake gives is (a) a distractor the exam generator draws, labelled as the
    catalogue labels it, and (b) judged wrong by verify with that mistake named."""
    found = {}
    for name, problem in problems().items():
        solution = problem.solve()
        for key in claim_keys(solution):
            for mistake in MISTAKES:
                if mistake in found or MISTAKES[mistake].layers:
                    continue
                for wrong in wrong_values(solution, key, [mistake], places=6):
                    drawn = distractors(solution, str(key), [mistake], {}, {})
                    assert (wrong.value, wrong.label) in drawn, (mistake, key)
                    text = format_number(wrong.value, 4)
                    verdict = sb.verify(problem, {str(key): text}).verdicts[0]
                    if verdict.status == "wrong" and verdict.mistake == mistake:
                        assert verdict.note.startswith("expected ") and wrong.sentence in verdict.note
                        found[mistake] = (name, str(key), text)
                        break
    # the typed layers' mistakes: each made and named in tests/test_layer_mistakes.py
    graphs = {i for i, m in MISTAKES.items() if not m.layers}
    assert set(found) == graphs, graphs - set(found)


def test_the_docs_list_the_catalogue():
    """docs/verify.md's "Mistakes it names" lists every id of the catalogue, no other."""
    text = (DOCS / "verify.md").read_text(encoding="utf-8")
    section = text.split("## Mistakes it names", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.M)
    assert listed == [m.id for m in CATALOGUE]


def test_each_wrong_value_is_reported_with_its_id_and_a_sentence():
    solution = sb.load("net-221").solve()
    for wrong in wrong_values(solution, "dE/dw5"):
        assert wrong.mistake in MISTAKES and wrong.sentence and wrong.label
        assert sp.sympify(wrong.value).is_finite


# ---------------------------------------------------------------- the new entries, by hand


def test_a_forgotten_bias():
    """mlp-relu-bce: z1[1] = 0.3·1 + 0.4·2 + 0.2 = 1.3; without b1[1] it is 1.1, and
    a1, z2 built on it follow; all computed here by hand."""
    z1_0 = D("0.1") * 1 + D("0.2") * 2  # b1[0] forgotten as well: 0.5 (true 0.6)
    report = sb.verify("mlp-relu-bce", {"z1[1]": "1.1000", "z1[0]": r(z1_0)})
    for v in report.verdicts:
        assert v.status == "wrong" and v.mistake == "bias-forgotten", v.note
    assert "forgot the bias b1[1] in z1[1]" in report.verdicts[0].note
    # z2 = 0.5·relu(0.6) + 0.6·relu(1.3) + 0.3 = 1.38; without b2: 1.08
    report = sb.verify("mlp-relu-bce", {"z2[0]": r(D("0.5") * D("0.6") + D("0.6") * D("1.3"))})
    (v,) = report.verdicts
    assert v.mistake == "bias-forgotten" and "b2[0]" in v.note, v.note


def test_the_learning_rate_applied_twice():
    """mlp-relu-bce, η = 0.1, dL/dW2[0][1] from the oracle: W2 − 2η·g and W2 − η²·g.
    (With a ½ in the loss, 2η·g is also the ½ dropped: net-221 would say that.)"""
    _, grads = network_oracle(mlp_table())
    g = D(str(sp.N(grads["W2"][0, 1], 30)))
    for wrong, formula in ((D("0.6") - 2 * D("0.1") * g, "2η"), (D("0.6") - D("0.01") * g, "η²")):
        (v,) = sb.verify("mlp-relu-bce", {"W2_new[0][1]": r(wrong, 5)}).verdicts
        assert v.status == "wrong" and v.mistake == "rate-twice", v.note
        assert formula in v.note, v.note


def test_tanh_derivative_taken_from_the_input():
    """tanh' as 1 − z² instead of 1 − a²: for a1[0] = tanh(z1[0]), z1[0] = 0.1 − 0.8 + 0.1
    = −0.6; the student's da1[0]/dz1[0] = 1 − 0.36 = 0.64 (true 1 − tanh(−0.6)²)."""
    z = D("-0.6")
    (v,) = sb.verify(sb.load_dict(TANH), {"da1[0]/dz1[0]": r(1 - z * z)}).verdicts
    assert v.status == "wrong" and v.mistake == "derivative-from-input", v.note
    assert "1 − z1[0]²" in v.note and "not 1 − a1[0]²" in v.note, v.note
    # the oracle's gradient of W1[0][0], with the same slip inside: scaled by 0.64/tanh'
    _, grads = network_oracle(TANH)
    right = 1 - sp.tanh(sp.Rational(-6, 10)) ** 2
    slipped = grads["W1"][0, 0] * sp.Rational(64, 100) / right
    (v,) = sb.verify(sb.load_dict(TANH), {"dL/dW1[0][0]": r(sp.N(slipped, 30))}).verdicts
    assert v.mistake == "derivative-from-input", v.note


def test_a_transposed_weight_gradient():
    """BP4 written as δ·aᵀ transposed: dL/dW1[0][1] given the oracle's dL/dW1[1][0]."""
    _, grads = network_oracle(mlp_table())
    (v,) = sb.verify("mlp-relu-bce", {"dL/dW1[0][1]": r(sp.N(grads["W1"][1, 0], 30))}).verdicts
    assert v.status == "wrong" and v.mistake == "transposed", v.note
    assert "dL/dW1[1][0]" in v.note


def mlp_table() -> dict:
    from symbackprop import examples
    from tests.oracle import load_toml

    return load_toml(examples.example_text("mlp-relu-bce"))


@pytest.mark.parametrize("mistake", ["update-added", "rate-forgotten", "sign-flipped",
                                     "local-dropped", "mul-not-swapped"])
def test_the_exam_labels_are_the_old_notes(mistake):
    """The exam keys' notes are unchanged by the move into the catalogue."""
    labels = {"update-added": "the update added instead of subtracted",
              "rate-forgotten": "the learning rate forgotten", "sign-flipped": "a flipped sign",
              "local-dropped": "the local derivative df/ds0 dropped",
              "mul-not-swapped": "the mul gate at f not swapped (s0 times itself)"}
    solution = sb.load("chain-xyz").solve()
    got = [label for _, label in distractors(solution, "df/dx", [mistake], {}, {})]
    if mistake in ("update-added", "rate-forgotten"):
        assert got == []  # df/dx is no update
    else:
        assert labels[mistake] in got, got


def test_a_transposed_non_square_gradient_is_named(cli, tmp_path):
    """dL/dW1 of a 3-2-1 network is 2x3; written as its 3x2 transpose (BP4 as a·δᵀ),
    the error says so, with the line, and exit 2."""
    table = {**TANH, "network": {**TANH["network"], "layers": [3, 2, 1]},
             "parameters": {**TANH["parameters"], "W1": [[0.1, -0.4, 0.2], [0.3, 0.8, -0.5]]},
             "inputs": {"x": [1, 2, -1], "y": [1]}}
    problem = tmp_path / "p.toml"
    problem.write_text(toml_of(table))
    claims = tmp_path / "c.txt"
    claims.write_text("dL/dW1 = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]\n")
    r = cli("verify", problem, claims)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "line 1" in r.stderr and "the transpose? dL/dW1 has the shape of W1" in r.stderr


def toml_of(table: dict) -> str:
    """A problem file from a table of plain numbers and lists (no TOML writer needed)."""
    lines = [f'title = "{table["title"]}"', f'learning_rate = {table["learning_rate"]}']
    for section in ("network", "parameters", "inputs"):
        lines.append(f"[{section}]")
        for k, v in table[section].items():
            lines.append(f"{k} = {v!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"


def test_adam_without_bias_correction_and_one_step_too_few():
    """adam-steps (PyTorch's Adam, three steps): w1 after step 1 made with the raw
    moments, recomputed here from sympy.diff of the loss (m = 0.1 g, v = 0.001 g^2 after
    one step from zero); w1@2 written as w1 after step 1."""
    solution = sb.load("adam-steps").solve()
    o = solution.optimizer
    w1, w2, b = sp.symbols("w1 w2 b")
    z = w1 * sp.Rational(1, 2) + w2 * (-1) + b
    loss = (1 / (1 + sp.exp(-z)) - 1) ** 2 / 2
    at = {w1: sp.Rational(3, 10), w2: sp.Rational(1, 5), b: sp.Rational(1, 10)}
    g = sp.diff(loss, w1).subs(at)
    m, v = (1 - o.beta1) * g, (1 - o.beta2) * g**2
    expected = at[w1] - o.learning_rate * m / (sp.sqrt(v) + o.eps)
    (wrong,) = wrong_values(solution, "w1_new", ["bias-uncorrected"])
    assert abs(float(wrong.value - expected)) < 1e-12
    (early,) = wrong_values(solution, "w1@2", ["steps-miscounted"])
    assert early.value == solution.lookup("w1@1") != solution.lookup("w1@2")
    assert wrong_values(sb.load("net-221").solve(), "w5_new", ["bias-uncorrected"]) == []
