"""Weights used in several places: the RNN's recurrent weight at every time step, the
convolution's kernel at every position. Gradients against central finite differences of
the loss written here in plain Python; the handout labels each use."""

from __future__ import annotations

import math

import pytest

import symbackprop as sb
from tests.conftest import run_cli


def rnn_loss(p):
    h = 0.2
    for x in (1.0, -0.5, 0.8):
        h = math.tanh(p["w"] * h + p["u"] * x)
    return (p["v"] * h - 0.2) ** 2 / 2


def conv_loss(p):
    x = [1.0, 0.5, -0.4, 0.8, 0.3]
    k = [p["k1"], p["k2"], p["k3"]]
    a = [max(0.0, sum(k[j] * x[i + j] for j in range(3))) for i in range(3)]
    y = p["v1"] * a[0] + p["v2"] * a[1] + p["v3"] * a[2]
    return (y - 1.0) ** 2 / 2


def central(loss, params, name, h=1e-6):
    up, down = dict(params), dict(params)
    up[name] += h
    down[name] -= h
    return (loss(up) - loss(down)) / (2 * h)


@pytest.mark.parametrize(("example", "loss"), [("rnn-bptt", rnn_loss), ("conv1d", conv_loss)])
def test_gradients_match_finite_differences(example, loss):
    problem = sb.load(example)
    solution = problem.solve()
    params = {p: float(problem.graph.leaves[p].value) for p in problem.graph.parameters}
    assert float(solution.lookup("E")) == pytest.approx(loss(params), rel=1e-12)
    for name in params:
        assert float(solution.lookup(f"dE/d{name}")) == pytest.approx(
            central(loss, params, name), rel=1e-7, abs=1e-10), name


def test_rnn_handout_sums_over_time_steps():
    md = run_cli("solve", "rnn-bptt", "--format", "md").stdout
    line = next(r for r in md.splitlines() if r.startswith(r"&= \underbrace") and "t = 1" in r)
    assert "t = 2" in line and "t = 3" in line
    assert "vanishes through time" in md
    assert r"\frac{\partial h_{3}}{\partial h_{1}} &= \frac{\partial h_{3}}{\partial h_{2}}" in md


def test_conv_handout_sums_over_positions():
    md = run_cli("solve", "conv1d", "--format", "md").stdout
    lines = [r for r in md.splitlines() if r"\underbrace" in r]
    assert lines and all("i = 1" in r and "i = 2" in r and "i = 3" in r for r in lines)
    assert "through time" not in md
