"""The catalogue's mistakes for typed layers, each made here on purpose, independently.

For each slip, a student's number is worked out in numpy from the problem file alone
(tests/layer_reference.py's forward pass from PyTorch's formulas, with the slip applied,
and central finite differences for gradients): the convolution with its kernel flipped,
the input gradient with the kernel unflipped, a tied max-pool window's gradient sent to
both maxima, the batch norm's backward with μ and σ² held constant, dropout without its
1/(1 − p), the LSTM's cell-state gradient without the forget gate, attention without
1/√d. ``verify`` must name that slip's id for the number (rounded as a student writes
it), and the exams draw the same number as a distractor under that mistake.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import layer_reference as ref
import numpy as np
import pytest

import symbackprop as sb
from symbackprop.exam import make_exam, read_exercise
from symbackprop.exam.distractors import distractors
from symbackprop.examples import example_text
from symbackprop.mistakes import CATALOGUE, wrong_values

LAYER_MISTAKES = ("conv-flipped", "kernel-unflipped", "pool-every-max", "stats-constant",
                  "dropout-unscaled", "forget-dropped", "attention-unscaled")
H = 1e-6


def table_of(name: str) -> dict:
    return tomllib.loads(example_text(name))


@pytest.fixture(scope="module")
def problems():
    made: dict = {}

    def get(name):
        if name not in made:
            made[name] = sb.load(name)
        return made[name]
    return get


def named(problem, claims: dict, mistake: str) -> None:
    """verify judges every claim wrong and names ``mistake``; the exams draw each number
    (at the claim's 4 decimals) as a distractor under that mistake."""
    report = sb.verify(problem, {k: f"{v:.4f}" for k, v in claims.items()})
    solution = report.solution
    for verdict in report.verdicts:
        assert verdict.status == "wrong" and verdict.mistake == mistake, (verdict.key, verdict.note)
        drawn = [float(v) for v, _ in distractors(solution, verdict.key, [mistake], {}, {})]
        assert any(abs(d - claims[verdict.key]) < 5e-5 for d in drawn), (verdict.key, drawn)


def gradient(loss, params: dict, name: str, index: tuple) -> float:
    plus, minus = copy.deepcopy(params), copy.deepcopy(params)
    plus[name][index] += H
    minus[name][index] -= H
    return (loss(plus) - loss(minus)) / (2 * H)


def rest_gradient(table: dict, first: int, inputs: np.ndarray, batch: bool = False) -> np.ndarray:
    """dL/d(the output of layer ``first``), by central differences through the layers after
    it, from that output as the input of a network of the remaining layers."""
    net = table["network"]
    rest = {"network": {**net, "layers": net["layers"][first:]}}
    params = {}  # W5 of the network is W4 of the network without its first layer
    for name, value in ref.parameters(table).items():
        base, position = re.fullmatch(r"([A-Za-z]+?)(\d+)", name).groups()
        if int(position) > first:
            params[f"{base}{int(position) - first}"] = value
    grad = np.empty_like(inputs)
    for index in np.ndindex(*inputs.shape):
        losses = []
        for step in (H, -H):
            moved = inputs.copy()
            moved[index] += step
            if batch:
                sub = {**rest, "batch": "all", "data": {"x": moved.tolist(), "y": table["data"]["y"]}}
            else:
                sub = {**rest, "inputs": {"x": moved.tolist(), "y": table["inputs"]["y"]}}
            losses.append(ref.forward(sub, params)[0])
        grad[index] = (losses[0] - losses[1]) / (2 * H)
    return grad


def test_every_layer_mistake_is_in_the_catalogue():
    """Each of the catalogue's mistakes about a typed layer is made in a test here."""
    assert {m.id for m in CATALOGUE if m.layers} == set(LAYER_MISTAKES)


def test_a_convolution_instead_of_the_cross_correlation(problems):
    """conv-pool with the kernel flipped by 180° in numpy: a1 and the loss."""
    table = table_of("conv-pool")
    params = ref.parameters(table)
    flipped = {**params, "K1": params["K1"][:, :, ::-1, ::-1].copy()}
    loss, outputs = ref.forward(table, flipped)
    true = ref.forward(table, params)[1]["a1"]
    index = next(i for i in np.ndindex(*true.shape) if abs(true[i] - outputs["a1"][i]) > 0.01)
    a1 = "a1" + "".join(f"[{i}]" for i in index)
    named(problems("conv-pool"), {a1: outputs["a1"][index], "L": loss}, "conv-flipped")


def test_the_kernel_not_flipped_in_the_input_gradient(problems):
    """dL/dx of conv-pool from δ = dL/da1 (central differences through the layers above):
    Σ_f Σ_ij δ[f][i][j] K[f][c][r−i][s−j] is right; with K[f][c][1−(r−i)][1−(s−j)] (the
    kernel not rotated) it is the slip."""
    table = table_of("conv-pool")
    params = ref.parameters(table)
    a1 = ref.forward(table, params)[1]["a1"]
    delta = rest_gradient(table, 1, a1)
    K = params["K1"]
    kh, kw = K.shape[2:]

    def dx(r, s, kernel):
        return sum(delta[f, i, j] * kernel[f, 0, r - i, s - j]
                   for f in range(K.shape[0]) for i in range(a1.shape[1]) for j in range(a1.shape[2])
                   if 0 <= r - i < kh and 0 <= s - j < kw)
    problem = problems("conv-pool")
    right = float(problem.solve().gradients["x[0][2][2]"])
    assert dx(2, 2, K) == pytest.approx(right, abs=1e-7)
    named(problem, {"dL/dx[0][2][2]": dx(2, 2, K[:, :, ::-1, ::-1]),
                    "dL/dx[0][1][3]": dx(1, 3, K[:, :, ::-1, ::-1])}, "kernel-unflipped")


TIED = {"learning_rate": 0.1,
        "network": {"input": [1, 2, 2], "loss": "half_sse",
                    "layers": [{"type": "maxpool", "size": 2}, {"type": "flatten"},
                               {"type": "dense", "units": 1}]},
        "inputs": {"x": [[[0.5, 0.5], [0.1, 0.2]]], "y": [1.0]},
        "parameters": {"W3": [[0.8]], "b3": [0.1]}}


def test_a_tied_max_pool_window_sends_the_gradient_to_both_maxima():
    """x[0][0][0] = x[0][0][1] = 0.5 tie in the window: PyTorch sends dL/d(pool) =
    W·(W·0.5 + b − y) to the first only; the slip sends it to the second too."""
    W, b, y = 0.8, 0.1, 1.0
    upstream = W * (W * 0.5 + b - y)
    problem = sb.load_dict(TIED)
    assert float(problem.solve().gradients["x[0][0][1]"]) == 0
    named(problem, {"dL/dx[0][0][1]": upstream}, "pool-every-max")


def test_batch_norm_backward_with_the_mean_and_variance_held_constant(problems):
    """batchnorm: dL/da1 = γ·dL/da2 / √(σ² + ε) (μ and σ² constants), δ of the batch norm's
    output by central differences; then dL/dW1 = Σ_s δ_s x_sᵀ and dL/db1 = Σ_s δ_s (whose
    true value is 0: a bias before a batch norm cancels)."""
    table = table_of("batchnorm")
    params = ref.parameters(table)
    x = np.array(table["data"]["x"])
    a1 = x @ params["W1"].T + params["b1"]
    var = a1.var(axis=0)
    a2 = ref.forward(table, params)[1]["a2"]
    delta = rest_gradient(table, 2, a2, batch=True) * params["gamma2"] / np.sqrt(var + 1e-5)
    dW = delta.T @ x
    db = delta.sum(axis=0)
    named(problems("batchnorm"), {"dL/dW1[0][0]": dW[0, 0], "dL/dW1[1][1]": dW[1, 1],
                                  "dL/db1[0]": db[0]}, "stats-constant")


def test_dropout_without_its_scale(problems):
    """dropout with p = 0.5: the mask alone (p read as 0 in the reference forward)."""
    table = table_of("dropout")
    plain = copy.deepcopy(table)
    plain["network"]["layers"][2]["p"] = 0.0
    params = ref.parameters(table)
    loss, outputs = ref.forward(plain, params)
    grad = gradient(lambda p: ref.forward(plain, p)[0], params, "W1", (0, 0))
    named(problems("dropout"), {"a3[0]": outputs["a3"][0], "L": loss, "dL/dW1[0][0]": grad},
          "dropout-unscaled")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _lstm_loss(table, params, frozen=None, carry=None) -> float:
    """lstm-2step's loss (two steps from zero states, PyTorch's gates i, f, g, o, then a
    sigmoid unit and bce). With ``frozen`` parameters, the cell state's carry is written
    c_1 = f_1·c_0(frozen) + carry·(c_0 − c_0(frozen)) + i_1·g_1: at params = frozen its
    value is the true one, and its derivative through c_0 is ``carry`` instead of f_1."""
    def step(p, x_t, h, c):
        i, f, g, o = np.split(p["W1"] @ x_t + p["U1"] @ h + p["b1"], 4)
        return _sigmoid(f), _sigmoid(i) * np.tanh(g), _sigmoid(o)
    x = np.array(table["inputs"]["x"])
    _, ig0, o0 = step(params, x[0], np.zeros(2), np.zeros(2))
    c0 = ig0
    h0 = o0 * np.tanh(c0)
    f1, ig1, o1 = step(params, x[1], h0, c0)
    if frozen is None:
        c1 = f1 * c0 + ig1
    else:
        c0_frozen = step(frozen, x[0], np.zeros(2), np.zeros(2))[1]
        c1 = f1 * c0_frozen + carry * (c0 - c0_frozen) + ig1
    y = _sigmoid(params["W2"] @ (o1 * np.tanh(c1)) + params["b2"])
    t = np.array(table["inputs"]["y"])
    return float(-np.sum(t * np.log(y) + (1 - t) * np.log(1 - y)))


def test_the_lstm_cell_gradient_without_the_forget_gate(problems):
    """dL/db1[0] (the input gate of unit 0, which reaches the loss through c_0 → c_1 too)
    with dc_1/dc_0 taken as 1 (f_1 left out) and as 0 (the path dropped), by central
    differences of the loss written with that carry; with the true carry f_1 the same
    differences give the engine's gradient."""
    table = table_of("lstm-2step")
    params = ref.parameters(table)
    assert _lstm_loss(table, params) == pytest.approx(ref.forward(table, params)[0], abs=1e-12)
    problem = problems("lstm-2step")
    true = gradient(lambda p: _lstm_loss(table, p), params, "b1", (0,))
    assert float(problem.solve().gradients["b1[0]"]) == pytest.approx(true, abs=1e-8)
    frozen = copy.deepcopy(params)
    for carry in (1.0, 0.0):
        slipped = gradient(lambda p, carry=carry: _lstm_loss(table, p, frozen, carry),
                           params, "b1", (0,))
        named(problem, {"dL/db1[0]": slipped}, "forget-dropped")


def test_attention_without_its_scale(problems):
    """attention with the scores q·k, not q·k/√2 (d read as 1 in the reference's scale)."""
    table = table_of("attention")
    plain = copy.deepcopy(table)
    plain["network"]["layers"][0]["d"] = 1  # the reference uses d for the scale only
    params = ref.parameters(table)
    loss, outputs = ref.forward(plain, params)
    grad = gradient(lambda p: ref.forward(plain, p)[0], params, "Wq1", (0, 0))
    named(problems("attention"), {"a1[0][0]": outputs["a1"][0, 0], "L": loss,
                                  "dL/dWq1[0][0]": grad}, "attention-unscaled")


# ------------------------------------------------------------------ the exercise files

EXERCISES = Path(sb.__file__).parent / "examples" / "exercises" / "layers"
LAYER_EXERCISES = ("conv-pool", "batchnorm", "layernorm", "dropout", "lstm-2step", "gru-2step",
                   "attention")


def test_every_layer_built_in_has_an_exercise_file():
    assert sorted(p.stem for p in EXERCISES.glob("*.toml")) == sorted(LAYER_EXERCISES)


def _network_table(exercise: Path, problem: dict) -> dict:
    """A variant's problem as a network of typed layers, for the reference: key.json keeps
    it beside the graph form (network_form), the exercise's [network] with the variant's
    drawn numbers."""
    table = tomllib.loads(exercise.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(problem["network"])) == table["network"]
    return problem


def test_a_dropout_exam_exports_and_draws_the_unscaled_dropout(cli, tmp_path):
    """exam over the dropout exercise: Moodle XML and the QTI package parse; every answer
    agrees with the reference forward pass (values) and central differences (gradients) on
    the variant's own numbers; the unscaled dropout is a choice of the multiple-choice
    question, named, and a wrong answer with feedback in Moodle."""
    path = EXERCISES / "dropout.toml"
    r = cli("exam", path, "--variants", "2", "--seed", "4", "-o", tmp_path,
            "--format", "key,moodle,qti")
    assert r.returncode == 0, r.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    label = "dropout without its 1/(1 − p) scale"
    for variant in key["variants"]:
        table = _network_table(path, variant["network_form"])
        params = ref.parameters(table)
        loss, outputs = ref.forward(table, params)

        def loss_at(p, table=table):
            return ref.forward(table, p)[0]
        truth = {"a3[0]": outputs["a3"][0], "L": loss,
                 "dL/dW1[2][2]": gradient(loss_at, params, "W1", (2, 2)),
                 "W4_new[0][3]": params["W4"][0, 3] - 0.1 * gradient(loss_at, params, "W4", (0, 3))}
        for q in variant["questions"]:
            assert q["answer"] == pytest.approx(truth[q["ask"]], abs=1e-7), q["ask"]
        (mc,) = [q for q in variant["questions"] if "choices" in q]
        assert label in mc["mistakes"]
    moodle = ET.parse(tmp_path / "moodle.xml").getroot()
    feedback = [a.findtext("feedback/text") or "" for a in moodle.iter("answer")]
    assert any(label in f for f in feedback)
    with zipfile.ZipFile(tmp_path / "canvas-qti.zip") as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                ET.fromstring(z.read(name))


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in LAYER_EXERCISES if n != "dropout"])
def test_each_layer_exercise_makes_a_variant_with_its_mistakes(name):
    """One variant of each exercise: every answer is the solved problem's, values agree
    with the reference forward pass, and each question that names a layer mistake draws
    it where it changes the answer."""
    exercise = read_exercise(str(EXERCISES / f"{name}.toml"))
    (variant,) = make_exam(exercise, 1, seed=3, jobs=1).variants
    table = _network_table(EXERCISES / f"{name}.toml", variant.network_form)
    loss, _ = ref.forward(table, ref.parameters(table))
    assert float(variant.solution.values["L"]) == pytest.approx(loss, abs=1e-9)
    layer_ids = {m.id for m in CATALOGUE if m.layers}
    named = set()
    for q in variant.questions:
        assert float(variant.solution.lookup(q.ask)) == pytest.approx(q.answer, abs=1e-12)
        labels = [n for _, n in q.mistaken] if q.choices is None else [n for n in q.mistakes if n]
        named |= {m.id for m in CATALOGUE if m.id in layer_ids
                  and any(w.label in labels for w in wrong_values(variant.solution, q.ask, [m.id]))}
    types = {layer["type"] for layer in table["network"]["layers"]}
    # none for a GRU; a well-posed max-pool has no tie, so no pool-every-max
    about = {m.id for m in CATALOGUE if set(m.layers) & types} - {"pool-every-max"}
    assert named == about, (named, about)
