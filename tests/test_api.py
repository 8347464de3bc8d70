"""The Python API of docs/kernels.md and the claim keys of docs/claim-keys.md."""

from __future__ import annotations

import pytest
import sympy as sp

import symbackprop as sb
from symbackprop.errors import ClaimError
from symbackprop.examples import example_text
from tests.oracle import close, graph_oracle, load_toml


@pytest.fixture(scope="module")
def net221():
    return sb.load("net-221").solve()


def _oracle_partial(table, top, bottom):
    """d top / d bottom with bottom held independent: substitute only what lies above it."""
    _, _, full, symbols, point = graph_oracle(table)
    b = sp.Symbol("B", real=True)
    graph = table["graph"]
    from sympy.parsing.sympy_parser import parse_expr

    from tests.oracle import FUNCTIONS  # noqa: F401  (same parser as the oracle)

    names = {n: (b if n == bottom else s) for n, s in symbols.items()}
    exprs = {}
    for name, text in graph.items():
        local = {**names, **{k: v for k, v in FUNCTIONS.items()}}
        local.update({n: exprs[n] for n in exprs})
        if name == bottom:
            exprs[name] = b
        else:
            exprs[name] = parse_expr(text, local_dict=local)
    values = {s: v for s, v in point.items()}
    bottom_value = full[bottom].xreplace(values) if bottom in full else point[symbols[bottom]]
    return sp.N(sp.diff(exprs[top], b).xreplace({**values, b: bottom_value}), 40)


@pytest.mark.parametrize("key", ["dy/dz_c", "dz_c/dw5", "dh_a/dz_a", "dz_c/dh_a", "dE/dz_a",
                                 "dy/dw1", "dz_c/dz_a", "dE/dh_b"])
def test_any_derivative_key(net221, key):
    top, bottom = key[1:].split("/d")
    table = load_toml(example_text("net-221"))
    assert close(net221.derivative(key), _oracle_partial(table, top, bottom))
    assert close(net221.derivative(top, bottom), net221.lookup(key))


def test_lecture_forms(net221):
    assert close(net221.derivative("dz_c/dw5"), net221.values["h_a"])
    y = net221.values["y"]
    assert close(net221.derivative("dy/dz_c"), y * (1 - y))


def test_derivative_of_something_not_upstream_is_zero(net221):
    assert net221.derivative("dz_a/dw6") == 0
    assert net221.derivative("dz_a/dz_a") == 1


def test_keys(net221):
    assert close(net221.lookup("w1_new"), net221.updated["w1"])
    assert close(net221.lookup("E_new"), net221.values_after["E"])
    assert close(net221.lookup("z_a_new"), net221.values_after["z_a"])
    with pytest.raises(ClaimError, match="did you mean"):
        net221.lookup("dE/dw7")
    with pytest.raises(ClaimError):
        net221.lookup("w1_old")


def test_array_keys():
    s = sb.load("mlp-relu-bce").solve()
    assert close(s.lookup("W1[0][1]"), 0.2)
    assert close(s.lookup("dL/dW1[0][1]"), s.lookup("dL/dW1")[0][1])
    assert len(s.lookup("dL/dW1")) == 2
    assert close(s.lookup("W2_new[0][1]"), s.lookup("W2_new")[0][1])
    assert close(s.lookup("dL/dz2")[0], s.lookup("a2")[0] - 1)
    with pytest.raises(ClaimError, match="Jacobian"):
        s.lookup("dz1/dW1")


def test_chains_keep_paths_and_local_values(net221):
    chain = net221.chain("w1")
    (path,) = chain.paths
    assert [(f.edge.upper, f.edge.lower) for f in path] == [
        ("E", "y"), ("y", "z_c"), ("z_c", "h_a"), ("h_a", "z_a"), ("z_a", "w1")]
    assert close(sp.Mul(*[f.value for f in path]), chain.value)
    assert str(path[1].edge.local) == "y*(1 - y)"


def test_sum_over_paths_when_a_value_is_used_twice():
    s = sb.load_dict({"graph": {"a": "x*w", "f": "a*a + sigmoid(a)"},
                      "inputs": {"x": 2}, "parameters": {"w": 1}}).solve()
    chain = s.chain("a")
    assert len(chain.paths) == 2 or len(chain.paths) == 1  # one edge f->a with a summed local
    a = 2
    sig = 1 / (1 + sp.exp(-a))
    assert close(s.gradients["w"], (2 * a + sig * (1 - sig)) * 2)


def test_solution_json_round_trips(net221):
    import json

    assert json.loads(json.dumps(net221.to_json()))["output"] == "E"


def test_graph_form_round_trip():
    for name in ("net-221", "neuron", "mlp-relu-bce"):
        problem = sb.load(name)
        again = sb.load_dict(problem.graph_form(), name=name)
        a, b = problem.solve(), again.solve()
        for leaf in problem.graph.leaves:
            assert close(a.gradients[leaf], b.gradients[leaf]), (name, leaf)


def test_precision_where_floats_break():
    """log(1 - sigmoid(z)) at z = 125 is log(0) in doubles; the value must still be right."""
    s = sb.load_dict({"graph": {"p": "sigmoid(z)", "L": "-log(1 - p)"},
                      "inputs": {"z": 125}}).solve()
    exact = sp.N(sp.log(1 + sp.exp(sp.Integer(125))), 50)  # -log(1 - sigma(z)) = log(1 + e^z)
    assert close(s.values["L"], exact, rel=1e-20)
    assert close(s.gradients["z"], sp.N(1 / (1 + sp.exp(-125)), 50), rel=1e-20)
    data = s.to_json()
    assert all(v == v for v in data["values"].values())  # no NaN


def test_kink_warning():
    s = sb.load_dict({"graph": {"r": "relu(x - 1)"}, "inputs": {"x": 1}}).solve()
    assert s.warnings and "relu" in s.warnings[0].lower()
    assert s.gradients["x"] == 0


def test_bp1_to_bp4_reproduced_by_the_scalar_sweep():
    """The matrix rules of Lesson 5 (BP1-BP4), computed here with numpy, equal the sweep's adjoints."""
    import numpy as np

    s = sb.load("autoencoder-838").solve()
    p = {k: np.array(s.lookup(k), dtype=float) for k in ("W1", "b1", "W2", "b2", "x", "y")}
    z1 = p["W1"] @ p["x"] + p["b1"]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = p["W2"] @ a1 + p["b2"]
    a2 = 1 / (1 + np.exp(-z2))
    d2 = (a2 - p["y"]) * a2 * (1 - a2)  # BP1 for half squared error
    d1 = (p["W2"].T @ d2) * a1 * (1 - a1)  # BP2
    assert np.allclose(np.array(s.lookup("dL/dz2"), dtype=float), d2, rtol=1e-12)
    assert np.allclose(np.array(s.lookup("dL/dz1"), dtype=float), d1, rtol=1e-12)
    assert np.allclose(np.array(s.lookup("dL/db1"), dtype=float), d1, rtol=1e-12)  # BP3
    assert np.allclose(np.array(s.lookup("dL/dW2"), dtype=float), np.outer(d2, a1), rtol=1e-12)  # BP4


def test_exact_mode_prints_and_compares_like_floats(cli, tmp_path):
    """--exact: the same numbers on every output, even where 40 digits cancel.

    After logistic regression's update, L = -log(σ(125.05)) = log(1 + e^-125.05), which
    is e^-125.05 to 55 digits (mpmath, independent of the engine); σ(125.05) rounds to 1
    at 40 digits, so a naive evaluation of the exact form prints 0.
    """
    import json

    import mpmath

    truth = float(mpmath.log1p(mpmath.exp(-mpmath.mpf("125.05"))))
    r = cli("solve", "logreg", "--exact", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["values_after"]["L"] == pytest.approx(truth, rel=1e-12)
    text = cli("solve", "logreg", "--exact")
    assert text.returncode == 0 and "The loss went down" in text.stdout, text.stderr


@pytest.mark.slow
def test_exact_mode_on_a_network_gives_the_floats_gradients(cli, tmp_path):
    """net-221 solved exactly (nested sigmoids of rationals: some ten seconds) gives the
    float solve's gradients and shows the exact forms."""
    import json

    # one exact solve of net-221 writes both the text and the JSON
    written = cli("solve", "net-221", "--exact", "--format", "text,json", "-o", tmp_path)
    assert written.returncode == 0, written.stderr
    assert "σ(" in (tmp_path / "net-221.txt").read_text()  # the exact form is shown
    floats = json.loads(cli("solve", "net-221", "--format", "json").stdout)
    exact = json.loads((tmp_path / "net-221.json").read_text())
    assert exact["gradients"] == pytest.approx(floats["gradients"], rel=1e-12)


@pytest.mark.parametrize("hash_seed", ["3", "5"])
def test_exact_mode_does_not_depend_on_the_hash_seed(hash_seed):
    """log(1 − σ(125.05)) is a real number whatever order SymPy keeps its terms in (with
    PYTHONHASHSEED 3 and 5, SymPy's assumptions once called it "not real")."""
    import os
    import subprocess
    import sys

    import mpmath

    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    r = subprocess.run([sys.executable, "-m", "symbackprop", "solve", "logreg", "--exact",
                        "--format", "json"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    import json

    after = json.loads(r.stdout)["values_after"]["L"]
    truth = float(mpmath.log1p(mpmath.exp(-mpmath.mpf("125.05"))))
    assert after == pytest.approx(truth, rel=1e-12)
