"""Exam exercises on optimizer steps: the shipped Adam, BPTT and convolution exercise files
run through ``symbackprop exam``, every Adam answer re-derived here from PyTorch's
documented formulas with gradients from ``sympy.diff``, and the worked solutions written
with the optimizer's own rule, never as plain w − η·g."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

import symbackprop as sb
from tests.conftest import run_cli

EXERCISES = Path(sb.__file__).parent / "examples" / "exercises"


def _adam_first_step(w, g, lr, beta1, beta2, eps):
    """torch.optim.Adam's first step (state zero, bias-corrected, eps after the root)."""
    m = (1 - beta1) * g
    v = (1 - beta2) * g**2
    m_hat = m / (1 - beta1)
    v_hat = v / (1 - beta2)
    return m, v, w - lr * m_hat / (sp.sqrt(v_hat) + eps)


@pytest.fixture(scope="module")
def adam_exam(tmp_path_factory):
    out = tmp_path_factory.mktemp("adam")
    r = run_cli("exam", EXERCISES / "adam-step.toml", "--variants", "4",
                "--seed", "3", "-o", out, "--format", "key,moodle,tex")
    assert r.returncode == 0, r.stderr
    return out


def _adam_steps(loss, params: dict, steps, lr, beta1, beta2, eps):
    """torch.optim.Adam's documented loop, every parameter at once, at 50 digits:
    the gradients of the first step and the parameters after ``steps`` steps."""
    m = {p: 0 for p in params}
    v = {p: 0 for p in params}
    first = None
    for t in range(1, steps + 1):
        g = {p: sp.N(sp.diff(loss, p).xreplace(params), 50) for p in params}
        first = first or g
        for p in params:
            m[p] = beta1 * m[p] + (1 - beta1) * g[p]
            v[p] = beta2 * v[p] + (1 - beta2) * g[p] ** 2
            m_hat, v_hat = m[p] / (1 - beta1**t), v[p] / (1 - beta2**t)
            params = {**params, p: params[p] - lr * m_hat / (sp.sqrt(v_hat) + eps)}
    return first, params


def test_adam_answers_follow_pytorchs_formulas(adam_exam):
    """The first step's gradient and moments, the weight and the loss after two steps,
    each re-derived with PyTorch's documented loop and sympy.diff."""
    key = json.loads((adam_exam / "key.json").read_text())
    for variant in key["variants"]:
        problem = variant["problem"]
        opt = problem["optimizer"]
        values = {sp.Symbol(k): sp.Rational(str(v)) for table in ("inputs", "parameters")
                  for k, v in problem[table].items()}
        env = {"sigmoid": lambda z: 1 / (1 + sp.exp(-z))}
        exprs: dict = {}
        for name, text in problem["graph"].items():
            exprs[sp.Symbol(name)] = sp.sympify(text, locals=env).xreplace(exprs)
        loss = exprs[sp.Symbol(problem["output"])]
        w1 = sp.Symbol("w1")
        rates = [sp.Rational(str(opt[k])) for k in ("learning_rate", "beta1", "beta2", "eps")]
        g = sp.diff(loss, w1).xreplace(values)
        m, v, w_new = _adam_first_step(values[w1], g, *rates)
        inputs = {sp.Symbol(k): sp.Rational(str(x)) for k, x in problem["inputs"].items()}
        params = {sp.Symbol(k): sp.Rational(str(x)) for k, x in problem["parameters"].items()}
        _, after = _adam_steps(loss.xreplace(inputs), params, 2, *rates)
        truth = {"dE/dw1": g, "m_w1": m, "v_w1": v, "w1_new": w_new, "w1@2": after[w1],
                 "E@2": loss.xreplace(inputs).xreplace(after)}
        assert {q["ask"] for q in variant["questions"]} >= {"w1@2", "E@2"}
        for q in variant["questions"]:
            assert abs(q["answer"] - float(truth[q["ask"]])) <= 1e-12 * max(1, abs(q["answer"])), q
        # the second step is no longer ±η: the question tests more than the first step
        assert abs(abs(float(after[w1] - values[w1])) - 2 * float(rates[0])) > 1e-3


def test_adam_solutions_use_the_optimizers_rule(adam_exam):
    tex = (adam_exam / "solutions.tex").read_text()
    assert r"\hat{m}" in tex and r"\hat{v}" in tex
    assert r"- \eta\, \frac{\partial" not in tex  # never w − η ∂E/∂w for an Adam step
    exam = (adam_exam / "exam.tex").read_text()
    assert "v_{w_{1}}" in exam and "{w_{1}}^{(2)}" in exam  # asked as v_w1 and w1 after step 2
    assert "after the second step" in exam


@pytest.mark.parametrize("name", ["rnn-bptt", "conv1d"])
def test_shipped_exercise_files_make_an_exam(name, tmp_path):
    r = run_cli("exam", EXERCISES / f"{name}.toml", "--variants", "3",
                "--seed", "1", "-o", tmp_path, "--format", "key")
    assert r.returncode == 0, r.stderr
    key = json.loads((tmp_path / "key.json").read_text())
    assert len(key["variants"]) == 3
    for variant in key["variants"]:
        solution = sb.load_dict(variant["problem"]).solve()
        for q in variant["questions"]:
            assert float(solution.lookup(q["ask"])) == pytest.approx(q["answer"], rel=1e-12)
