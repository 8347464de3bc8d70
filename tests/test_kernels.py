"""The numeric kernels (docs/kernels.md) against independent sources.

* the core's exact worked solution (batch of one), for the built-ins and for every
  activation and loss of the contract, in both forms;
* central finite differences (batches), through ``kernel.check`` and a plain difference
  quotient written here;
* hand-written numpy backprop for a 784-16-16-10 sigmoid/softmax/cce network
  (``benchmarks/numpy_backprop.py``);
* random networks and random graph-form problems (hypothesis);
* JAX and PyTorch, when installed.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.errors import SymbackpropError
from symbackprop.kernels import available
from tests.oracle import close
from tests.test_oracle import random_graphs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from numpy_backprop import (  # noqa: E402
    mlp_loss_and_grad,
    net221_loss_and_grad,
    network_table,
    random_batch,
    random_params,
)

GRAPH_BUILTINS = ["chain-xyz", "neuron", "net-221", "net-322", "logreg"]
NETWORK_BUILTINS = ["mlp-relu-bce", "autoencoder-838", "four-pixel"]
OUTPUT_ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear", "softmax"]
HIDDEN_ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear"]
LOSSES = ["half_sse", "sse", "mse", "bce", "cce", "hinge"]
# log(a) needs a in (0, 1): the cross-entropies only after sigmoid or softmax.
PAIRS = [(act, loss) for act in OUTPUT_ACTIVATIONS for loss in LOSSES
         if loss not in ("bce", "cce") or act in ("sigmoid", "softmax")]


def as_float_tree(value):
    return np.array(value, dtype=object).astype(float)


def assert_matches_solution(problem, kernel, rel=1e-10):
    """Kernel at the problem's own sample == the engine's worked solution."""
    solution = problem.solve()
    answer = solution.to_json()
    loss, grads = kernel.loss_and_grad(kernel.parameters(), kernel.inputs())
    assert close(loss, answer["values"][answer["output"]], rel=rel)
    for name, grad in grads.items():
        expected = as_float_tree(answer["gradients"][name])
        np.testing.assert_allclose(grad, expected, rtol=rel, atol=1e-14, err_msg=name)


def difference_quotient(kernel, params, data, eps=1e-6):
    """The gradient by central differences, one coordinate at a time (small problems)."""
    grads = {}
    for name, value in params.items():
        value = np.asarray(value, dtype=float)
        g = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[index] += eps
            down[index] -= eps
            g[index] = (kernel.loss({**params, name: up}, data)
                        - kernel.loss({**params, name: down}, data)) / (2 * eps)
        grads[name] = g
    return grads


def network_problem(layers, activations, loss, seed=0):
    rng = np.random.default_rng(seed)
    table = network_table(layers, activations, loss, seed)
    for key, value in table["parameters"].items():  # round, so TOML-like decimals
        table["parameters"][key] = np.round(np.asarray(value) + rng.normal(0, 0.3, np.shape(value)),
                                            3).tolist()
    n = layers[-1]
    if loss == "hinge":
        table["inputs"]["y"] = [int(rng.integers(0, n))]
    elif loss == "cce":
        table["inputs"]["y"] = np.eye(n)[rng.integers(0, n)].tolist()
    else:
        table["inputs"]["y"] = np.round(rng.random(n), 2).tolist()
    table["inputs"]["x"] = np.round(rng.normal(0, 1, layers[0]), 2).tolist()
    return sb.load_dict(table)


def random_data(problem, batch, seed=1):
    """A batch of inputs and targets that fit the problem's loss."""
    rng = np.random.default_rng(seed)
    net = problem.network
    n = net.layers[-1]
    x = rng.normal(0, 1, (batch, net.layers[0]))
    if net.loss == "hinge":
        y = rng.integers(0, n, (batch, 1)).astype(float)
    elif net.loss == "cce":
        y = np.eye(n)[rng.integers(0, n, batch)]
    else:
        y = rng.random((batch, n))
    return {"x": x, "y": y}


# ------------------------------------------------------------------ the worked solutions


@pytest.mark.parametrize("name", GRAPH_BUILTINS + NETWORK_BUILTINS)
def test_graph_form_gives_the_worked_solution(name):
    problem = sb.load(name)
    assert_matches_solution(problem, problem.compile(form="graph"))


@pytest.mark.parametrize("name", NETWORK_BUILTINS)
def test_network_form_gives_the_worked_solution(name):
    problem = sb.load(name)
    kernel = problem.compile()
    assert kernel.form == "network"
    assert_matches_solution(problem, kernel)


@pytest.mark.parametrize("act,loss", PAIRS)
def test_every_activation_and_loss(act, loss):
    """Both forms against the exact solution (batch of one) and finite differences (a
    batch of 6), for each output activation and loss; hidden activations rotate."""
    i = PAIRS.index((act, loss))
    hidden = HIDDEN_ACTIVATIONS[i % len(HIDDEN_ACTIVATIONS)]
    layers = [3, 4, 1 if (loss == "bce" and i % 2) else 3]
    if act == "softmax" and layers[-1] == 1:
        layers[-1] = 3
    problem = network_problem(layers, [hidden, act], loss, seed=i)
    data = random_data(problem, 6, seed=i)
    for form in ("network", "graph"):
        kernel = problem.compile(form=form)
        assert_matches_solution(problem, kernel)
        if form == "graph" and loss == "hinge":
            continue  # the scalar graph fixes the class of its one sample
        params = kernel.parameters()
        _, grads = kernel.loss_and_grad(params, data)
        numeric = difference_quotient(kernel, params, data)
        for name in grads:
            np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-7,
                                       err_msg=f"{form} {name}")
        assert kernel.check(params, data) < 1e-6


def test_forms_agree_on_a_batch():
    problem = sb.load("four-pixel")
    network, graph = problem.compile(form="network"), problem.compile(form="graph")
    params, data = network.parameters(), network.data()
    assert len(data["x"]) == 40
    l1, g1 = network.loss_and_grad(params, data)
    l2, g2 = graph.loss_and_grad(params, data)
    assert l1 == pytest.approx(l2, rel=1e-12)
    for name in g1:
        np.testing.assert_allclose(g1[name], g2[name], rtol=1e-10, atol=1e-14)
    f1, f2 = network.forward(params, data), graph.forward(params, data)
    np.testing.assert_allclose(f1["a2"], f2["a2"], rtol=1e-12)
    np.testing.assert_allclose(f1["L"], f2["L"], rtol=1e-12)
    assert f1["a2"].shape == (40, 4) and f1["L"].shape == (40,)


# ---------------------------------------------------------------------- kinks and floats


KINKS = {
    "relu": ('[graph]\nz = "w*x"\nE = "relu(z)"\n[inputs]\nx = 0\n[parameters]\nw = 0.5\n', 0.0),
    "abs": ('[graph]\nz = "w*x"\nE = "abs(z) + z"\n[inputs]\nx = 2\n[parameters]\nw = 0\n', 2.0),
    "max": ('[graph]\nE = "max(w, v)"\n[parameters]\nw = 1\nv = 1\n', None),
    "min": ('[graph]\nE = "min(w, v)"\n[parameters]\nw = 1\nv = 1\n', None),
}


@pytest.mark.parametrize("kink", sorted(KINKS))
def test_kinks_follow_the_engine(kink, tmp_path):
    """relu'(0) = 0, |x|'(0) = 0, ties of max and min to the first argument."""
    path = tmp_path / "kink.toml"
    path.write_text(KINKS[kink][0])
    problem = sb.load(path)
    kernel = problem.compile()
    _, grads = kernel.loss_and_grad(kernel.parameters(), kernel.data())
    gradients = problem.solve().to_json()["gradients"]
    for name, g in grads.items():
        assert g == pytest.approx(float(gradients[name]), abs=1e-15), name
    if kink in ("max", "min"):  # the whole gradient to one argument, as the engine sends it
        assert sorted([grads["w"], grads["v"]]) == [0.0, 1.0]


def test_fused_forms_survive_saturation():
    """softmax + cce and sigmoid + bce stay finite where σ or softmax round to 0 or 1."""
    for act, loss, n in (("softmax", "cce", 3), ("sigmoid", "bce", 2)):
        problem = network_problem([2, n], [act], loss)
        kernel = problem.compile()
        weights = np.array([[800.0, -800.0], [-800.0, 800.0], [0.0, 0.0]])[:n]
        params = {"W1": weights, "b1": np.zeros(n)}
        data = {"x": np.eye(2), "y": np.eye(n)[[1, 0]]}  # every sample confidently wrong
        loss_value, grads = kernel.loss_and_grad(params, data)
        assert loss_value == pytest.approx(1600.0)
        assert all(np.isfinite(g).all() for g in grads.values())
        # the exact solution of the first sample says the same
        assert kernel.check(params, data) < 1e-6
        assert all(np.isfinite(g).all() for g in grads.values())


# ------------------------------------------------------------------- hand-written numpy


def test_784_16_16_10_matches_hand_written_backprop():
    layers = [784, 16, 16, 10]
    problem = sb.load_dict(network_table(layers, ["sigmoid", "sigmoid", "softmax"], "cce"))
    kernel = problem.compile()
    params = random_params(layers, seed=3)
    x, y = random_batch(layers, 50, seed=4)
    loss, grads = kernel.loss_and_grad(params, {"x": x, "y": y})
    ref_loss, ref_grads = mlp_loss_and_grad(params, x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for name, g in ref_grads.items():
        assert grads[name].shape == g.shape
        np.testing.assert_allclose(grads[name], g, rtol=1e-9, atol=1e-15, err_msg=name)


def test_net221_graph_form_matches_hand_written_numpy():
    kernel = sb.load("net-221").compile()
    rng = np.random.default_rng(0)
    data = {"x1": rng.random(64), "x2": rng.random(64), "y_t": rng.random(64)}
    params = kernel.parameters()
    loss, grads = kernel.loss_and_grad(params, data)
    ref_loss, ref_grads = net221_loss_and_grad({k: float(v) for k, v in params.items()},
                                               data["x1"], data["x2"], data["y_t"])
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for name, g in ref_grads.items():
        assert grads[name] == pytest.approx(g, rel=1e-10, abs=1e-16)


# --------------------------------------------------------------------------- properties


@st.composite
def random_networks(draw):
    depth = draw(st.integers(1, 3))
    layers = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    hidden = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in range(depth - 1)]
    act, loss = draw(st.sampled_from(PAIRS))
    if act == "softmax" or loss == "hinge":
        layers[-1] = max(layers[-1], 2)
    return layers, hidden + [act], loss, draw(st.integers(0, 10_000))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks())
def test_random_networks_agree_with_finite_differences(spec):
    layers, activations, loss, seed = spec
    problem = network_problem(layers, activations, loss, seed)
    kernel = problem.compile()
    data = random_data(problem, 5, seed)
    params = kernel.parameters()
    value, grads = kernel.loss_and_grad(params, data)
    assert np.isfinite(value)
    assert {k: np.shape(v) for k, v in grads.items()} == {k: np.shape(v) for k, v in params.items()}
    numeric = difference_quotient(kernel, params, data)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-4, atol=1e-6)
    # and the scalar graph of the same network gives the same numbers on its sample
    assert_matches_solution(problem, kernel)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_random_graphs_give_the_worked_solution(table):
    """Graph-form kernels give the engine's numbers, kinks included."""
    problem = sb.load_dict(table)
    solution = problem.solve()
    value = float(solution.values[solution.output])
    assume(np.isfinite(value) and abs(value) < 1e12)
    kernel = problem.compile()
    with np.errstate(all="ignore"):
        loss, grads = kernel.loss_and_grad(kernel.parameters(), kernel.data())
    assert loss == pytest.approx(value, rel=1e-9, abs=1e-12)
    for name, g in grads.items():
        expected = float(solution.gradients[name])
        assume(abs(expected) < 1e12)
        assert g == pytest.approx(expected, rel=1e-8, abs=1e-10), (name, table)


def test_graph_form_batches_match_sample_by_sample():
    """A batch's mean gradient is the mean of the one-sample gradients."""
    kernel = sb.load("net-322").compile()
    params = kernel.parameters()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(7, 3))
    data = {"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]} if "x1" in kernel.input_shapes else None
    if data is None:
        name = next(iter(kernel.input_shapes))
        data = {name: rng.normal(size=(7, *kernel.input_shapes[name]))}
    loss, grads = kernel.loss_and_grad(params, data)
    singles = [kernel.loss_and_grad(params, {k: v[i:i + 1] for k, v in data.items()})
               for i in range(7)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    for name in grads:
        assert np.mean([s[1][name] for s in singles], axis=0) == pytest.approx(grads[name], rel=1e-10)


# ------------------------------------------------------------------------------- the API


def test_parameters_and_data_come_from_the_problem():
    kernel = sb.load("autoencoder-838").compile()
    params, data = kernel.parameters(), kernel.data()
    assert {k: v.shape for k, v in params.items()} == {"W1": (3, 8), "b1": (3,), "W2": (8, 3),
                                                       "b2": (8,)}
    np.testing.assert_array_equal(data["x"], np.eye(8))
    params["W1"][0, 0] = 99.0  # a copy: the next call is fresh
    assert kernel.parameters()["W1"][0, 0] != 99.0
    one = sb.load("net-221").compile().data()
    assert {k: v.shape for k, v in one.items()} == {"x1": (1,), "x2": (1,), "y_t": (1,)}


def test_inputs_left_out_keep_the_problem_value():
    kernel = sb.load("net-221").compile()
    full = kernel.loss_and_grad(kernel.parameters(), {"x1": [0.23], "x2": [0.82], "y_t": [1.0]})
    partial = kernel.loss_and_grad(kernel.parameters(), {"x1": [0.23]})
    assert full[0] == partial[0]


@pytest.mark.parametrize("params,data,words", [
    ({}, {}, ["missing", "w1"]),
    (None, {"nope": [1.0]}, ["nope", "not an input"]),
    (None, {"x1": [1.0, 2.0], "x2": [1.0]}, ["batch sizes"]),
])
def test_bad_arguments_are_clear_errors(params, data, words):
    kernel = sb.load("net-221").compile()
    with pytest.raises(SymbackpropError) as info:
        kernel.loss_and_grad(kernel.parameters() if params is None else params, data)
    for word in words:
        assert word in str(info.value)


def test_bad_shapes_and_forms_are_clear_errors():
    kernel = sb.load("four-pixel").compile()
    params = kernel.parameters()
    with pytest.raises(SymbackpropError, match="W1 has shape"):
        kernel.loss_and_grad({**params, "W1": np.zeros((2, 2))}, kernel.data())
    with pytest.raises(SymbackpropError, match="x has shape"):
        kernel.loss_and_grad(params, {"x": np.zeros((3, 5))})
    with pytest.raises(SymbackpropError, match="network form needs"):
        sb.load("net-221").compile(form="network")
    with pytest.raises(SymbackpropError, match="unknown backend 'numpi'.*numpy"):
        sb.load("net-221").compile(backend="numpi")


def test_a_missing_backend_names_the_pip_command(monkeypatch):
    import importlib

    from symbackprop.kernels import backends

    real = importlib.import_module

    def fake(name, *args):
        if name.split(".")[0] in ("jax", "torch"):
            raise ImportError(name)
        return real(name, *args)

    backends.get_backend.cache_clear()
    monkeypatch.setattr(backends.importlib, "import_module", fake)
    try:
        for name, pip in (("jax", "pip install jax"), ("torch", "pip install torch")):
            with pytest.raises(SymbackpropError, match=pip):
                sb.load("net-221").compile(backend=name)
    finally:
        backends.get_backend.cache_clear()


def test_generated_source_reads_like_the_equations():
    source = sb.load("four-pixel").compile().source
    for line in ("Z1 = b1 + A0 @ W1.T", "A1 = tanh(Z1)",
                 "delta1 = (1 - A1**2)*(delta2 @ W2)", "dW1 = delta1.T @ A0"):
        assert line in source
    graph = sb.load("net-221").compile().source
    assert "v_h_a = sigmoid(v_z_a)" in graph and "g_z_c = " in graph


def test_matrix_products_print_with_their_parentheses():
    """``@`` binds as ``*`` does: the printed code must group as the expression does."""
    import sympy as sp

    from symbackprop.kernels.backends import get_backend
    from symbackprop.kernels.network_form import matmul, transpose

    a, b, c = sp.symbols("a b c", real=True)
    printer = get_backend("numpy").make_printer()
    cases = {
        a * matmul(b, c): ("a*(b @ c)", "(b @ c)*a"),
        matmul(a * b, c): ("(a*b) @ c",),
        matmul(a, b * c): ("a @ (b*c)",),
        matmul(matmul(a, b), c): ("a @ b @ c",),
        matmul(a, matmul(b, c)): ("a @ (b @ c)",),
        matmul(a + b, transpose(c)) + 1: ("(a + b) @ c.T + 1", "1 + (a + b) @ c.T"),
        transpose(a + b): ("(a + b).T",),
        matmul(b, c) ** 2: ("(b @ c)**2",),
    }
    for expr, texts in cases.items():
        assert printer.doprint(expr) in texts, expr
    rng = np.random.default_rng(0)
    values = {"a": rng.random((3, 3)), "b": rng.random((3, 3)), "c": rng.random((3, 3))}
    va, vb, vc = values.values()
    assert np.allclose(eval(printer.doprint(a * matmul(b, c)), values), va * (vb @ vc))
    assert np.allclose(eval(printer.doprint(matmul(a * b, c)), values), (va * vb) @ vc)


def test_the_kernels_sigmoid_is_the_op_tables():
    """One numpy sigmoid: the kernels bind the op table's, which gives 1/(1 + e^-z) to
    the bit wherever that is nonzero, and no overflow warning where e^-z overflows."""
    import warnings

    from symbackprop import ops
    from symbackprop.kernels.backends import get_backend

    sigmoid = ops.OPS["sigmoid"].numerics.numpy
    assert get_backend("numpy").primitives["sigmoid"] is sigmoid
    z = np.concatenate([np.linspace(-709.78, 709.78, 20001),
                        np.random.default_rng(2).normal(0, 30, 2000)])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(sigmoid(z), 1.0 / (1.0 + np.exp(-z)))
    assert sigmoid(3) == 1.0 / (1.0 + np.exp(-3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = sigmoid(np.array([-1e308, -800.0, 800.0, np.inf, -np.inf]))
        assert sigmoid(-1000) < 1e-307
    assert (extreme[[0, 1, 4]] < 1e-307).all() and (extreme[[2, 3]] == 1.0).all()
    assert np.isnan(sigmoid(np.array([np.nan])))[0]


def test_sums_along_an_axis_agree_with_numpy():
    from symbackprop.kernels import backends

    rng = np.random.default_rng(1)
    for a in (rng.random((7, 3)), rng.random((1, 5)), np.arange(6.0).reshape(2, 3).T):
        np.testing.assert_allclose(backends._np_class_sum(a), a.sum(axis=1, keepdims=True))
        np.testing.assert_allclose(backends._np_batch_sum(a), a.sum(axis=0))
        np.testing.assert_allclose(backends._np_logsumexp(a),
                                   np.log(np.exp(a).sum(axis=1, keepdims=True)))
    assert backends._np_class_sum(np.ones((2, 3), dtype=int)).tolist() == [[3], [3]]
    big = np.array([[1000.0, 0.0], [-1000.0, -1001.0], [np.nan, 0.0]])
    lse = backends._np_logsumexp(big)[:, 0]
    assert lse[0] == 1000.0 and lse[1] == pytest.approx(-1000 + np.log1p(np.exp(-1)))
    assert np.isnan(lse[2])
    assert backends._np_mean(np.arange(4.0)) == 1.5 and backends._np_mean(2) == 2.0


# ----------------------------------------------------------------------------- backends


@pytest.mark.parametrize("backend", ["torch", "jax"])
@pytest.mark.parametrize("name,form", [("four-pixel", "network"), ("four-pixel", "graph"),
                                       ("net-221", "graph"), ("mlp-relu-bce", "network")])
def test_backends_give_the_numpy_numbers(backend, name, form):
    if not available(backend):
        pytest.skip(f"{backend} is not installed (pip install {backend})")
    problem = sb.load(name)
    reference = problem.compile(form=form)
    kernel = problem.compile(backend=backend, form=form)
    params, data = reference.parameters(), reference.data()
    loss, grads = reference.loss_and_grad(params, data)
    other_loss, other_grads = kernel.loss_and_grad(kernel.parameters(), kernel.data())
    single = backend == "jax" and not _jax_x64()
    rel = 1e-5 if single else 1e-10
    assert other_loss == pytest.approx(loss, rel=rel)
    for key in grads:
        np.testing.assert_allclose(kernel.backend.to_numpy(other_grads[key]), grads[key],
                                   rtol=rel, atol=1e-6 if single else 1e-14)


def _jax_x64() -> bool:
    import jax

    return bool(jax.config.read("jax_enable_x64"))


def test_rounded_decimals_stay_exact():
    """Decimal values from TOML arrive in the kernel as the nearest float."""
    problem = sb.load_dict({"graph": {"E": "w*x"}, "inputs": {"x": Decimal("0.1")},
                            "parameters": {"w": Decimal("0.7")}})
    kernel = problem.compile()
    assert kernel.loss_and_grad(kernel.parameters(), kernel.data()) == (0.7 * 0.1, {"w": 0.1})


@pytest.mark.parametrize("name,form", [("four-pixel", "network"), ("autoencoder-838", "network"),
                                       ("net-221", "graph")])
def test_jax_check_is_not_fooled_by_float32(name, form):
    """JAX computes in float32 by default; the gradient check runs in float64 for its
    own duration (the kernel stays float32 afterwards), and without float64 it takes a
    step fit for float32, so a right gradient passes and a wrong one does not."""
    if not available("jax"):
        pytest.skip("jax is not installed (pip install jax)")
    import dataclasses

    kernel = sb.load(name).compile(backend="jax", form=form)
    single = not _jax_x64()
    for seed in range(3):
        assert kernel.check(seed=seed) < 1e-7
    if single:
        assert kernel.backend.float_type() == np.float32
    kernel.backend = dataclasses.replace(kernel.backend, float64=None)  # a JAX without it
    for seed in range(3):
        assert kernel.check(seed=seed) < (1e-2 if single else 1e-7)
    right = kernel.loss_and_grad
    kernel.loss_and_grad = lambda p, d: (lambda lg: (lg[0], {k: 1.5 * v for k, v in lg[1].items()}))(
        right(p, d))
    assert kernel.check() > 0.1


# ------------------------------------------------------------------ stable forms (graph)

LOGREG = {"output": "L", "graph": {"z": "w*x + b", "y_hat": "sigmoid(z)",
                                   "L": "-y*log(y_hat) - (1 - y)*log(1 - y_hat)"},
          "inputs": {"x": 50, "y": 1}, "parameters": {"w": 2.5, "b": 0.05}}


def test_logreg_saturated_sigmoid_matches_the_exact_solution():
    """σ(125.05) is 1 in doubles: log(1 − ŷ) and (1 − y)/(1 − ŷ) were 0·(−∞) and 0/0.
    The graph form now takes log σ by softplus and fuses the adjoint of z to
    (1 − y)·ŷ − y·σ(−z): the exact loss 4.9e-55 and its tiny gradient, to rounding."""
    problem = sb.load_dict(LOGREG)
    kernel = problem.compile()
    assert "softplus" in kernel.source and "/" not in kernel.source
    answer = problem.solve().to_json()
    loss, grads = kernel.loss_and_grad(kernel.parameters(), kernel.inputs())
    assert loss == pytest.approx(float(answer["values"]["L"]), rel=1e-12)
    assert 4e-55 < loss < 6e-55
    for name in ("w", "b"):
        assert np.isfinite(grads[name])
        assert grads[name] == pytest.approx(float(answer["gradients"][name]), rel=1e-12)
    for y in (0, 1):  # both tails, both targets
        for w in (-2.5, 2.5):
            table = {**LOGREG, "inputs": {"x": 50, "y": y}, "parameters": {"w": w, "b": 0.05}}
            kernel = sb.load_dict(table).compile()
            loss, grads = kernel.loss_and_grad(kernel.parameters(), kernel.inputs())
            assert np.isfinite(loss) and all(np.isfinite(g) for g in grads.values())


def test_stable_forms_keep_the_numbers_where_floats_were_fine():
    """Away from saturation the rewritten kernel gives the lectures' formulas' numbers."""
    kernel = sb.load_dict(LOGREG).compile()
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, 64)
    y = (rng.random(64) < 0.5).astype(float)
    for w, b in ((0.3, -0.2), (-1.1, 0.7), (2.0, 0.0)):
        loss, grads = kernel.loss_and_grad({"w": np.asarray(w), "b": np.asarray(b)},
                                           {"x": x, "y": y})
        s = 1 / (1 + np.exp(-(w * x + b)))
        plain = np.mean(-y * np.log(s) - (1 - y) * np.log(1 - s))
        g_z = s * (1 - s) * (-y / s + (1 - y) / (1 - s))
        assert loss == pytest.approx(plain, rel=1e-12)
        assert grads["w"] == pytest.approx(np.mean(g_z * x), rel=1e-12)
        assert grads["b"] == pytest.approx(np.mean(g_z), rel=1e-12)


def test_fusion_leaves_other_sigmoids_alone():
    """A sigmoid whose adjoint does not divide by it keeps the derived equations."""
    kernel = sb.load("net-221").compile(form="graph")
    assert "one_minus" not in kernel.source and "softplus" not in kernel.source
