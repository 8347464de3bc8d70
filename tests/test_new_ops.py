"""softplus, leaky_relu (one and two arguments) and elu: each one entry of the op table,
and every part of the tool handles them.

References are independent of the table: the ops written out as SymPy formulas
(log(1 + e^z), Piecewise) and differentiated by ``sympy.diff`` after full substitution,
central finite differences, and a real TeX run.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

import symbackprop as sb
from symbackprop.errors import ExpressionError
from symbackprop.exam.wellposed import Rejected, check_gates
from symbackprop.kernels.backends import available
from symbackprop.parse import parse_expression
from symbackprop.render import render_markdown, render_tex
from symbackprop.render.pdf import tex_available

DIGITS = 40


def _softplus(z, a=None):
    return sp.log(1 + sp.exp(z))


LEAKY_SLOPE = sp.Rational(1, 100)  # leaky_relu(z) as documented


def _leaky(z, a=LEAKY_SLOPE):
    return sp.Piecewise((z, z > 0), (a * z, True))


def _elu(z, a=None):
    return sp.Piecewise((z, z > 0), (sp.exp(z) - 1, True))


# name -> (equations, inputs, the output written out by hand, with independent formulas)
PROBLEMS = {
    "softplus": ({"z": "w*x + b", "f": "softplus(z)*y"},
                 {"x": 0.7, "w": -1.3, "b": 0.4, "y": 2.5},
                 lambda v: _softplus(v["w"] * v["x"] + v["b"]) * v["y"]),
    "leaky_relu": ({"z": "w*x + b", "f": "leaky_relu(z) + leaky_relu(w*y)"},
                   {"x": 0.7, "w": -1.3, "b": 0.4, "y": -2.5},
                   lambda v: _leaky(v["w"] * v["x"] + v["b"]) + _leaky(v["w"] * v["y"])),
    "leaky_relu2": ({"z": "w*x + b", "f": "leaky_relu(z, a)*y"},
                    {"x": 0.7, "w": -1.3, "b": 0.4, "y": 2.5, "a": 0.2},
                    lambda v: _leaky(v["w"] * v["x"] + v["b"], v["a"]) * v["y"]),
    "elu": ({"z": "w*x + b", "f": "elu(z)*elu(y)"},
            {"x": 0.7, "w": -1.3, "b": 0.4, "y": 2.5},
            lambda v: _elu(v["w"] * v["x"] + v["b"]) * _elu(v["y"])),
}


def _table(name):
    equations, inputs, _ = PROBLEMS[name]
    return {"graph": equations, "inputs": inputs}


def _reference(name):
    """The output and its gradient from the written-out formula, by sympy.diff."""
    _, inputs, formula = PROBLEMS[name]
    xs = {k: sp.Symbol(k, real=True) for k in inputs}
    f = formula(xs)
    point = {xs[k]: sp.Rational(str(v)) for k, v in inputs.items()}
    value = sp.N(f.subs(point), DIGITS)
    grads = {k: sp.N(sp.diff(f, x).subs(point), DIGITS) for k, x in xs.items()}
    return value, grads


def _finite_differences(name, h=1e-6):
    _, inputs, formula = PROBLEMS[name]

    def at(values):
        return float(formula({k: sp.Float(v, 30) for k, v in values.items()}))

    grads = {}
    for k in inputs:
        up, down = dict(inputs), dict(inputs)
        up[k] += h
        down[k] -= h
        grads[k] = (at(up) - at(down)) / (2 * h)
    return at(inputs), grads


@pytest.mark.parametrize("name", PROBLEMS)
def test_engine_against_sympy_diff_and_finite_differences(name):
    solution = sb.load_dict(_table(name)).solve()
    value, grads = _reference(name)
    assert abs(solution.values["f"] - value) < sp.Float(10) ** -24
    fd_value, fd_grads = _finite_differences(name)
    assert float(solution.values["f"]) == pytest.approx(fd_value, rel=1e-12)
    for leaf, expected in grads.items():
        got = solution.gradients[leaf]
        assert abs(got - expected) < sp.Float(10) ** -24, (leaf, got, expected)
        assert float(got) == pytest.approx(fd_grads[leaf], rel=1e-6, abs=1e-8), leaf
    assert not solution.warnings


@pytest.mark.parametrize("name", PROBLEMS)
def test_staged_graph_form_gives_the_same_gradients(name):
    staged = sb.load_dict(_table(name), stage_gates=True).solve()
    _, grads = _reference(name)
    for leaf, expected in grads.items():
        assert abs(staged.gradients[leaf] - expected) < sp.Float(10) ** -24, leaf


@pytest.mark.parametrize("name", PROBLEMS)
def test_verify_accepts_a_correct_claim(name):
    _, grads = _reference(name)
    value, _ = _reference(name)
    sheet = {"f": f"{float(value):.4f}", **{f"df/d{k}": f"{float(g):.4f}" for k, g in grads.items()}}
    report = sb.verify(sb.load_dict(_table(name)), sheet)
    assert report.accepted, report.to_text()


@pytest.mark.parametrize("name", PROBLEMS)
def test_numpy_kernel_gradient_against_finite_differences(name):
    kernel = sb.load_dict(_table(name)).compile(backend="numpy", form="graph")
    params, data = kernel.parameters(), kernel.data()
    loss, grads = kernel.loss_and_grad(params, data)
    fd_value, fd_grads = _finite_differences(name)
    assert loss == pytest.approx(fd_value, rel=1e-12)
    flat = {**params, **data}
    for leaf, g in grads.items():
        assert float(np.ravel(g)[0]) == pytest.approx(fd_grads[leaf], rel=1e-6, abs=1e-8), leaf
    assert set(grads) <= set(flat)


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("name", PROBLEMS)
def test_other_backends_give_the_numpy_numbers(backend, name):
    if not available(backend):
        pytest.skip(f"{backend} is not installed (pip install {backend})")
    problem = sb.load_dict(_table(name))
    reference = problem.compile(backend="numpy", form="graph")
    kernel = problem.compile(backend=backend, form="graph")
    params, data = reference.parameters(), reference.data()
    loss, grads = reference.loss_and_grad(params, data)
    with kernel.backend.float64() if kernel.backend.float64 else _Nothing():
        other_loss, other_grads = kernel.loss_and_grad(params, data)
    assert float(other_loss) == pytest.approx(loss, rel=1e-5)
    for key, g in grads.items():
        np.testing.assert_allclose(kernel.backend.to_numpy(other_grads[key]), g, rtol=1e-5, atol=1e-7)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("expression, slope", [("leaky_relu(x)", 0.01), ("leaky_relu(x, a)", 0.3)])
def test_leaky_relu_kink_takes_the_left_slope(expression, slope):
    table = {"graph": {"f": expression}, "inputs": {"x": 0, "a": 0.3}}
    solution = sb.load_dict(table).solve()
    assert float(solution.gradients["x"]) == pytest.approx(slope, abs=1e-30)
    assert any("leaky_relu'(0) = a" in w for w in solution.warnings)


def test_elu_at_its_branch_point_is_smooth():
    solution = sb.load_dict({"graph": {"f": "elu(x)"}, "inputs": {"x": 0}}).solve()
    assert float(solution.gradients["x"]) == 1
    assert any("elu'(0) = 1" in w for w in solution.warnings)


@pytest.mark.parametrize("op", ["leaky_relu", "elu"])
def test_the_exam_rule_keeps_variants_away_from_the_kink(op):
    graph = sb.load_dict({"graph": {"f": f"{op}(x)"}, "inputs": {"x": 0.01}}).graph
    with pytest.raises(Rejected) as caught:
        check_gates(graph, {"x": sp.Rational(1, 100)})
    assert caught.value.rule == "kink"
    check_gates(graph, {"x": sp.Rational(1, 2)})  # far from it: accepted


def test_the_parser_knows_the_arities():
    parse_expression("leaky_relu(z)")
    parse_expression("leaky_relu(z, 0.2)")
    with pytest.raises(ExpressionError, match=r"leaky_relu\(\) takes 1 or 2 arguments, got 3"):
        parse_expression("leaky_relu(z, 0.2, 3)")
    with pytest.raises(ExpressionError, match="did you mean 'softplus'"):
        parse_expression("softplu(z)")


@pytest.mark.parametrize("hidden, out", [("softplus", "sigmoid"), ("leaky_relu", "softmax"),
                                         ("elu", "linear")])
def test_network_activations(hidden, out):
    """A network layer uses each as its activation; its numbers against the kernel's
    network form and finite differences of the kernel's loss."""
    table = {"network": {"layers": [2, 3, 2], "activations": [hidden, out], "loss": "half_sse"},
             "parameters": {"W1": [[0.3, -0.8], [0.5, 0.1], [-0.4, 0.9]], "b1": [0.1, -0.2, 0.05],
                            "W2": [[0.2, -0.5, 0.7], [0.6, 0.3, -0.1]], "b2": [0.0, 0.1]},
             "inputs": {"x": [0.7, -1.1], "y": [0.2, 0.9]}}
    problem = sb.load_dict(table)
    solution = problem.solve()
    kernel = problem.compile(backend="numpy", form="network")
    params, data = kernel.parameters(), kernel.data()
    loss, grads = kernel.loss_and_grad(params, data)
    assert loss == pytest.approx(float(solution.values["L"]), rel=1e-12)
    h = 1e-6
    for name, g in grads.items():
        for index in np.ndindex(g.shape):
            up = {k: np.array(v, dtype=float) for k, v in params.items()}
            down = {k: np.array(v, dtype=float) for k, v in params.items()}
            up[name][index] += h
            down[name][index] -= h
            fd = (kernel.loss(up, data) - kernel.loss(down, data)) / (2 * h)
            assert g[index] == pytest.approx(fd, rel=1e-6, abs=1e-9), (name, index)
            key = name + "".join(f"[{i}]" for i in index)
            assert float(solution.gradients[key]) == pytest.approx(g[index], rel=1e-10, abs=1e-14)


def _handout_problem():
    return sb.load_dict({"title": "Four activations", "learning_rate": 0.1, "graph": {
        "z": "w*x + b", "p": "softplus(z)", "q": "leaky_relu(z)", "r": "leaky_relu(z, a)",
        "s": "elu(z)", "f": "p*q + r*s"},
        "inputs": {"x": 0.7, "a": 0.2}, "parameters": {"w": -1.3, "b": 0.4}})


def test_markdown_handout_prints_them():
    text = render_markdown(_handout_problem().solve())
    assert r"\operatorname{softplus}" in text and r"\operatorname{leaky\_relu}" in text
    assert r"\operatorname{elu}" in text


@pytest.mark.slow
@pytest.mark.skipif(not tex_available() or not shutil.which("pdftotext"),
                    reason="TeX and pdftotext are installed by the README's test command")
def test_handout_compiles_with_real_tex_without_bad_boxes(tmp_path):
    source = tmp_path / "ops.tex"
    source.write_text(render_tex(_handout_problem().solve()), encoding="utf-8")
    run = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                          "-no-shell-escape", source.name], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "ops.log").read_text(errors="replace")
    assert "Overfull" not in log and "Underfull" not in log
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "ops.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    # TeX draws the underscore of leaky\_relu as a rule, which pdftotext reads as a space
    for word in ("softplus(", "leaky relu(", "elu(", "leaky ReLU gate", "ELU gate", "softplus gate"):
        assert word in text, word
