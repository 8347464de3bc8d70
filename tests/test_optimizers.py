"""The optimizers against PyTorch's documented update rules, written out here.

The reference below is a direct transcription of the algorithms in the torch.optim
documentation (SGD with momentum/nesterov, RMSprop, Adam), in plain Python floats, fed
with gradients from ``sympy.diff`` of the problem's loss written as one expression. It
shares no code with symbackprop. When torch is installed the same three steps are also
run through ``torch.optim`` itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import symbackprop as sb
from symbackprop.keys import Key

W1, W2 = 0.3, -0.2
X1, X2, T = 0.5, -1.5, 1.0

PROBLEM = """
[graph]
z = "w1*x1 + w2*x2"
y = "tanh(z)"
E = "(y - y_t)**2/2 + w1*w1*w2/4"
[inputs]
x1 = 0.5
x2 = -1.5
y_t = 1
[parameters]
w1 = 0.3
w2 = -0.2
[optimizer]
{settings}
steps = 3
"""

CASES = {
    "sgd": {"name": "sgd", "learning_rate": 0.1},
    "sgd-decay": {"name": "sgd", "learning_rate": 0.1, "weight_decay": 0.05},
    "momentum": {"name": "momentum", "learning_rate": 0.1, "momentum": 0.9},
    "nesterov": {"name": "nesterov", "learning_rate": 0.1, "momentum": 0.8},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.01, "alpha": 0.99, "eps": 1e-8},
    "adam": {"name": "adam", "learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adam-decay": {"name": "adam", "learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99,
                   "eps": 1e-3, "weight_decay": 0.1},
}


def _loss_expression():
    w1, w2 = sp.symbols("w1 w2")
    y = sp.tanh(w1 * sp.Rational(1, 2) + w2 * sp.Rational(-3, 2))
    return (w1, w2), (y - 1) ** 2 / 2 + w1 * w1 * w2 / 4


def _gradient(ws):
    symbols, loss = _loss_expression()
    point = dict(zip(symbols, ws, strict=True))
    return [float(sp.diff(loss, s).subs(point).evalf(30)) for s in symbols]


def torch_formulas(settings: dict, steps: int = 3) -> list[list[float]]:
    """The parameters after each step, by the algorithm boxes of the torch.optim docs."""
    name = settings["name"]
    lr = settings["learning_rate"]
    wd = settings.get("weight_decay", 0.0)
    w = [W1, W2]
    m = [0.0, 0.0]  # momentum buffer or Adam's first moment
    v = [0.0, 0.0]
    out = []
    for t in range(1, steps + 1):
        grads = _gradient(w)
        for i in range(2):
            g = grads[i] + wd * w[i]
            if name == "sgd":
                w[i] = w[i] - lr * g
            elif name in ("momentum", "nesterov"):
                mu = settings["momentum"]
                m[i] = g if t == 1 else mu * m[i] + g  # dampening 0
                step = g + mu * m[i] if name == "nesterov" else m[i]
                w[i] = w[i] - lr * step
            elif name == "rmsprop":
                a = settings["alpha"]
                v[i] = a * v[i] + (1 - a) * g * g
                w[i] = w[i] - lr * g / (math.sqrt(v[i]) + settings["eps"])
            else:
                b1, b2 = settings["beta1"], settings["beta2"]
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                m_hat = m[i] / (1 - b1**t)
                v_hat = v[i] / (1 - b2**t)
                w[i] = w[i] - lr * m_hat / (math.sqrt(v_hat) + settings["eps"])
        out.append(list(w))
    return out


def _toml(settings: dict) -> str:
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v!r}" for k, v in settings.items()]
    return PROBLEM.format(settings="\n".join(lines))


def _problem(settings: dict, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(_toml(settings))
    return sb.load(path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_three_steps_follow_pytorchs_formulas(case, tmp_path):
    settings = CASES[case]
    solution = _problem(settings, tmp_path).solve()
    expected = torch_formulas(settings)
    for t, (e1, e2) in enumerate(expected, 1):
        got = [float(solution.value_of(Key("after", p, step=t))) for p in ("w1", "w2")]
        assert got == pytest.approx([e1, e2], rel=1e-12, abs=1e-14), (case, t)
    assert float(solution.lookup("w1_new")) == pytest.approx(expected[0][0], rel=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_three_steps_match_torch_optim(case, tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed: the check against "
                                "torch.optim itself is skipped (the formulas are checked above)")
    settings = CASES[case]
    w = torch.tensor([W1, W2], dtype=torch.float64, requires_grad=True)
    kwargs = {"lr": settings["learning_rate"], "weight_decay": settings.get("weight_decay", 0.0)}
    name = settings["name"]
    if name == "sgd":
        opt = torch.optim.SGD([w], **kwargs)
    elif name in ("momentum", "nesterov"):
        opt = torch.optim.SGD([w], momentum=settings["momentum"], nesterov=name == "nesterov",
                              **kwargs)
    elif name == "rmsprop":
        opt = torch.optim.RMSprop([w], alpha=settings["alpha"], eps=settings["eps"], **kwargs)
    else:
        opt = torch.optim.Adam([w], betas=(settings["beta1"], settings["beta2"]),
                               eps=settings["eps"], **kwargs)
    solution = _problem(settings, tmp_path).solve()
    for t in range(1, 4):
        opt.zero_grad()
        y = torch.tanh(w[0] * X1 + w[1] * X2)
        loss = (y - T) ** 2 / 2 + w[0] * w[0] * w[1] / 4
        loss.backward()
        opt.step()
        got = [float(solution.value_of(Key("after", p, step=t))) for p in ("w1", "w2")]
        assert got == pytest.approx(w.detach().tolist(), rel=1e-10, abs=1e-13), (case, t)


def test_state_keys_after_the_first_step(tmp_path):
    solution = _problem(CASES["adam"], tmp_path).solve()
    g = _gradient([W1, W2])[0]
    assert float(solution.lookup("m_w1")) == pytest.approx(0.1 * g, rel=1e-12)
    assert float(solution.lookup("v_w1")) == pytest.approx(0.001 * g * g, rel=1e-12)
    momentum = _problem(CASES["momentum"], tmp_path).solve()
    assert float(momentum.lookup("b_w1")) == pytest.approx(g, rel=1e-12)
    with pytest.raises(sb.SymbackpropError, match="keeps no b"):
        solution.lookup("b_w1")


def test_loss_after_each_step_is_the_loss_at_those_parameters(tmp_path):
    solution = _problem(CASES["adam"], tmp_path).solve()
    (w1, w2), loss = _loss_expression()
    for t in range(1, 4):
        at = {w1: sp.Float(solution.lookup(f"w1@{t}"), 30), w2: sp.Float(solution.lookup(f"w2@{t}"), 30)}
        assert float(solution.lookup(f"E@{t}")) == pytest.approx(float(loss.subs(at)), rel=1e-12)


def test_exact_first_adam_step_is_exact():
    """On a loss whose gradient is a fraction, Adam's first step stays exact: by PyTorch's
    formulas (written here) w1 − lr·m̂/(√v̂ + ε) with m̂ = g and v̂ = g² at step 1."""
    problem = sb.load_dict({
        "graph": {"E": "(w1*x - y)**2 / 2"}, "inputs": {"x": 2, "y": 1},
        "parameters": {"w1": 0.25}, "optimizer": dict(CASES["adam"])})
    w = problem.solve(exact=True).lookup("w1_new")
    g = sp.diff((sp.Symbol("w") * 2 - 1) ** 2 / 2, sp.Symbol("w")).subs(sp.Symbol("w"),
                                                                         sp.Rational(1, 4))
    lr, eps = sp.Rational(1, 10), sp.Rational(1, 10**8)
    assert isinstance(w, sp.Rational)
    assert w == sp.Rational(1, 4) - lr * g / (abs(g) + eps)


def test_exact_adam_through_a_tanh_is_refused_before_the_work(tmp_path):
    """The square root of a gradient through tanh has no exact form worth its cost (one
    step took minutes): exit 2's error, raised before the step is taken."""
    import time

    from symbackprop.limits import LimitError

    start = time.monotonic()
    with pytest.raises(LimitError, match="square root of a gradient"):
        _problem(CASES["adam"], tmp_path).solve(exact=True)
    assert time.monotonic() - start < 60


def test_the_rules_run_on_numpy_arrays_as_on_sympy_numbers():
    from symbackprop.optimizers import Optimizer, step, zero_state

    o = Optimizer("adam", learning_rate=sp.Rational(1, 10))
    arrays = o.as_floats()
    w, g = np.array([0.3, -0.2]), np.array([0.25, -0.5])
    s = step(arrays, w, g, zero_state(arrays, w), 1)
    for i in range(2):
        exact = step(o, sp.Float(w[i], 30), sp.Float(g[i], 30), zero_state(o, sp.Float(0, 30)), 1)
        assert s.new[i] == pytest.approx(float(exact.new), rel=1e-15)


@pytest.mark.parametrize("case", ["momentum", "nesterov", "rmsprop", "adam", "adam-decay"])
def test_train_takes_the_same_steps(case, tmp_path):
    """The kernels' training loop uses the same rules: three full-batch epochs on the one
    sample are the three steps of the reference."""
    from symbackprop.training import TrainOptions, train

    result = train(_problem(CASES[case], tmp_path), TrainOptions(epochs=3))
    assert result.optimizer == CASES[case]["name"]
    expected = torch_formulas(CASES[case])[-1]
    got = [float(np.ravel(result.parameters[p])[0]) for p in ("w1", "w2")]
    assert got == pytest.approx(expected, rel=1e-9)


def test_train_option_errors_name_the_option(tmp_path):
    from symbackprop.training import OptionError, TrainOptions, train

    problem = _problem(CASES["adam"], tmp_path)
    for options, option in ((TrainOptions(epochs=0), "epochs"),
                            (TrainOptions(optimizer="adma"), "optimizer"),
                            (TrainOptions(learning_rate=-1.0), "learning_rate")):
        with pytest.raises(OptionError, match=f"^{option}: ") as info:
            train(problem, options)
        assert info.value.option == option and "--" not in str(info.value)


def test_cli_optimizer_flag(tmp_path):
    from tests.conftest import run_cli

    bad = run_cli("train", "net-221", "--optimizer", "adma")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --optimizer")
    good = run_cli("train", "net-221", "--optimizer", "adam", "--epochs", "3", "--json")
    assert good.returncode == 0, good.stderr
    import json
    assert json.loads(good.stdout)["optimizer"] == "adam"
