"""A gradient that is exactly 0 in a large graph comes out as exactly 0.

A bias right before a batch norm: the batch norm subtracts the batch's mean, so a bias
added to every sample cancels and dL/db is 0, while the floats summing the samples'
nonzero gradients leave noise (1.563e-102 once, in a graph of 187 nodes). Independent
sources: ``sympy.diff`` of the fully expanded scalar loss (built here from the layer
formulas, with the bias as a symbol), and central differences of a numpy forward pass
(tests/layer_reference.py). The property test draws small dense + batch-norm stacks,
some with a nonlinearity between the dense layer and the batch norm (then the bias's
gradient is not 0), and checks that a gradient is 0 only where central differences
find it 0.
"""

from __future__ import annotations

import json
import re
import tomllib

import layer_reference as ref
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.render.text import render_text

#: dense (4 → 5) → batchnorm → tanh → dense (1) → sigmoid over 8 samples: 187 nodes.
PROBLEM = """\
title = "A bias before a batch norm"
learning_rate = 0.1
batch = "all"

[network]
input = 4
loss = "half_sse"
layers = [
  { type = "dense", units = 5 },
  { type = "batchnorm" },
  { type = "tanh" },
  { type = "dense", units = 1 },
  { type = "sigmoid" },
]

[parameters]
W1 = [[-0.7, 0.7, 0.5, -0.5], [0.0, -0.1, 0.3, 0.6], [-0.8, -0.9, 0.7, -0.1],
      [0.5, -1.0, -0.1, 0.4], [-0.5, 0.9, 0.8, -0.9]]
b1 = [-0.9, 0.1, 0.9, -0.2, -0.6]
gamma2 = [1.2, 0.8, 1.0, 0.9, 1.1]
beta2 = [0.1, -0.2, 0.0, 0.3, -0.1]
W4 = [[-0.2, -0.9, -0.6, -0.1, 0.4]]
b4 = [0.1]

[data]
x = [[-0.5, -0.5, -0.6, -0.1], [-0.4, -1.0, 0.7, 0.1], [0.3, -0.6, 1.0, 0.7],
     [-0.8, -0.3, 0.4, 0.4], [0.9, -0.2, 0.7, 0.3], [-0.4, 0.2, 0.8, 0.7],
     [0.0, 0.2, -0.9, -0.5], [0.6, -0.2, -0.7, 0.1]]
y = [[1], [0], [1], [0], [0], [1], [1], [1]]
"""
TABLE = tomllib.loads(PROBLEM)
UNITS = 5


@pytest.fixture(scope="module")
def problem_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bnzero") / "bias-before-bn.toml"
    path.write_text(PROBLEM, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def solved(problem_file):
    problem = sb.load(str(problem_file))
    assert len(problem.graph.nodes) > 150  # written element by element: a large graph
    return problem.solve()


def _rational(v) -> sp.Rational:
    return sp.Rational(str(v))


def _sympy_loss(table: dict, overrides: dict) -> sp.Expr:
    """The loss as one scalar expression, written from the layer formulas (biased batch
    variance, eps = 1e-5), with some parameter elements replaced by symbols."""
    p = {name: np.vectorize(_rational, otypes=[object])(np.array(v, dtype=object))
         for name, v in table["parameters"].items()}
    for (name, index), symbol in overrides.items():
        p[name][index] = symbol
    xs = [[_rational(v) for v in row] for row in table["data"]["x"]]
    ys = [_rational(row[0]) for row in table["data"]["y"]]
    n, eps = len(xs), sp.Rational(1, 10**5)
    a1 = [[sum(p["W1"][j, k] * x[k] for k in range(len(x))) + p["b1"][j] for j in range(UNITS)]
          for x in xs]
    a2 = [[None] * UNITS for _ in xs]
    for j in range(UNITS):
        mu = sum(a[j] for a in a1) / n
        var = sum((a[j] - mu) ** 2 for a in a1) / n
        for s, a in enumerate(a1):
            a2[s][j] = p["gamma2"][j] * (a[j] - mu) / sp.sqrt(var + eps) + p["beta2"][j]
    losses = []
    for s in range(n):
        z = sum(p["W4"][0, j] * sp.tanh(a2[s][j]) for j in range(UNITS)) + p["b4"][0]
        losses.append((ys[s] - 1 / (1 + sp.exp(-z))) ** 2 / 2)
    return sum(losses) / n


def test_bias_before_batchnorm_is_exactly_zero_as_sympy_and_differences_say(solved):
    b = sp.symbols(f"b0:{UNITS}", real=True)
    loss = _sympy_loss(TABLE, {("b1", (j,)): b[j] for j in range(UNITS)})
    grads = ref.central_differences(TABLE)
    for j in range(UNITS):
        assert sp.diff(loss, b[j]) == 0  # exactly: the mean's subtraction cancels b
        assert abs(grads["b1"][j]) < 1e-9
        value = solved.gradients[f"b1[{j}]"]
        assert value == 0 and not isinstance(value, sp.Float), (j, value)
    # the same oracle is not blind: gamma2[0]'s gradient is not 0 and agrees
    g = sp.Symbol("g", real=True)
    exact = sp.diff(_sympy_loss(TABLE, {("gamma2", (0,)): g}), g).subs(g, sp.Rational("1.2"))
    assert abs(sp.N(exact, 30) - solved.gradients["gamma2[0]"]) < sp.Float("1e-25")
    for name in ("W1", "gamma2", "beta2", "W4"):  # nothing else was zeroed
        for index in np.ndindex(*grads[name].shape):
            key = name + "".join(f"[{i}]" for i in index)
            assert float(solved.gradients[key]) == pytest.approx(grads[name][index], abs=1e-8)
            assert solved.gradients[key] != 0


def test_zero_in_the_handout_the_json_and_verify(solved, problem_file, cli, tmp_path):
    text = render_text(solved)
    line = next(ln for ln in text.splitlines() if "dL/db^[1] =" in ln)
    assert re.search(r"= \[\[0, 0, 0, 0, 0\]\]ᵀ$", line), line
    assert json.loads(json.dumps(solved.to_json()))["gradients"]["b1"] == [0] * UNITS
    claims = tmp_path / "mine.txt"
    claims.write_text("dL/db1[0] = 0\ndL/db1[3] = 0.000\ndL/db1[1] = 0.0021\n", encoding="utf-8")
    r = cli("verify", problem_file, claims, "--json")
    assert r.returncode == 1, r.stderr  # one claim is wrong
    verdicts = {c["claim"]: c for c in json.loads(r.stdout)["claims"]}
    assert verdicts["dL/db1[0]"]["status"] == "correct" and verdicts["dL/db1[0]"]["expected"] == 0
    assert verdicts["dL/db1[3]"]["status"] == "correct"
    assert verdicts["dL/db1[1]"]["status"] == "wrong"


# -- the rule never zeros a true nonzero gradient ------------------------------------------

_weights = st.integers(-9, 9).map(lambda k: k / 10)


@st.composite
def stacks(draw):
    """dense → (nothing, tanh or relu) → batchnorm → tanh → dense → sigmoid over a batch
    of 2 to 4: with nothing between, the bias's gradient is exactly 0; with tanh or relu,
    in general not."""
    n, features, units = draw(st.integers(2, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    between = draw(st.sampled_from([[], [{"type": "tanh"}], [{"type": "relu"}]]))

    def array(*shape):
        return np.array(draw(st.lists(_weights, min_size=int(np.prod(shape)),
                                      max_size=int(np.prod(shape))))).reshape(shape).tolist()
    k = 2 + len(between)
    layers = [{"type": "dense", "units": units}, *between, {"type": "batchnorm"},
              {"type": "tanh"}, {"type": "dense", "units": 1}, {"type": "sigmoid"}]
    return {"title": "random", "learning_rate": 0.1, "batch": "all",
            "network": {"input": features, "loss": "half_sse", "layers": layers},
            "parameters": {"W1": array(units, features), "b1": array(units),
                           f"gamma{k}": array(units), f"beta{k}": array(units),
                           f"W{k + 2}": array(1, units), f"b{k + 2}": [0.1]},
            "data": {"x": array(n, features), "y": [[draw(st.integers(0, 1))] for _ in range(n)]}}


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_a_gradient_is_zero_only_where_it_is(table):
    params = ref.parameters(table)
    z = np.array(table["data"]["x"]) @ params["W1"].T + params["b1"]
    assume(np.abs(z).min() > 1e-3)  # a relu on its kink has no derivative to measure
    solution = sb.load_dict(table).solve()
    grads = ref.central_differences(table)
    for name, grad in grads.items():
        for index in np.ndindex(*grad.shape):
            value = solution.gradients[name + "".join(f"[{i}]" for i in index)]
            if value == 0:
                assert abs(grad[index]) < 1e-8, (name, index, grad[index])
            else:
                assert float(value) == pytest.approx(grad[index], rel=1e-6, abs=1e-8)
    if len(table["network"]["layers"]) == 5:  # nothing between the dense layer and the norm
        assert all(solution.gradients[f"b1[{j}]"] == 0 for j in range(len(params["b1"])))
