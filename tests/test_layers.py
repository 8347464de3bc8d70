"""Networks of typed layers (convolution, pooling, normalisation, dropout, recurrent cells,
attention) against independent sources: a numpy forward pass written from PyTorch's
formulas with central finite differences (tests/layer_reference.py), PyTorch's autograd
through torch.nn.functional where PyTorch is installed, and random stacks by hypothesis."""

from __future__ import annotations

import tomllib

import layer_reference as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.examples import example_text

LAYER_EXAMPLES = ("conv-pool", "batchnorm", "layernorm", "dropout", "lstm-2step", "gru-2step",
                  "attention")


def _key(name: str, index: tuple) -> str:
    return name + "".join(f"[{i}]" for i in index)


def _agree(solution, table: dict, grads: dict, loss: float, tol: float) -> None:
    assert float(solution.values["L"]) == pytest.approx(loss, rel=tol, abs=tol)
    for name, grad in grads.items():
        for index in np.ndindex(*grad.shape):
            got = float(solution.gradients[_key(name, index)])
            assert got == pytest.approx(grad[index], rel=tol, abs=tol), _key(name, index)


@pytest.mark.parametrize("name", LAYER_EXAMPLES)
def test_built_in_layers_agree_with_numpy_and_central_differences(name):
    table = tomllib.loads(example_text(name))
    solution = sb.load(name).solve()
    loss, outputs = ref.forward(table, ref.parameters(table))
    for output, values in outputs.items():  # every element of every layer's output
        for index in np.ndindex(*values.shape):
            assert float(solution.values[_key(output, index)]) == pytest.approx(
                values[index], rel=1e-12, abs=1e-12), _key(output, index)
    _agree(solution, table, ref.central_differences(table), loss, 1e-7)


@pytest.mark.parametrize("name", LAYER_EXAMPLES)
def test_built_in_layers_agree_with_pytorch_autograd(name):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (an optional check)")
    table = tomllib.loads(example_text(name))
    loss, grads = ref.torch_gradients(table, torch)
    _agree(sb.load(name).solve(), table, grads, loss, 1e-12)


def test_update_and_second_forward_pass_follow_the_gradient():
    """K1_new = K1 − η·dL/dK1 element by element, and L_new is the reference loss there."""
    table = tomllib.loads(example_text("conv-pool"))
    solution = sb.load("conv-pool").solve()
    params = ref.parameters(table)
    grads = ref.central_differences(table)
    stepped = {n: v - 0.1 * grads[n] for n, v in params.items()}
    for index in np.ndindex(*params["K1"].shape):
        assert float(solution.updated[_key("K1", index)]) == pytest.approx(
            stepped["K1"][index], abs=1e-8)
    assert float(solution.values_after["L"]) == pytest.approx(ref.forward(table, stepped)[0],
                                                              abs=1e-8)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    """PyTorch's convention: a window with two equal maxima routes its gradient to the
    first in row-major order, none to the other."""
    problem = {
        "network": {"input": [1, 2, 2], "loss": "half_sse",
                    "layers": [{"type": "maxpool", "size": 2}, {"type": "flatten"}]},
        "inputs": {"x": [[[0.5, 0.5], [0.1, 0.2]]], "y": [1.0]},
        "parameters": {},
    }
    solution = sb.load_dict(problem)
    solved = solution.solve()
    assert float(solved.gradients["x[0][0][0]"]) == pytest.approx(-0.5)
    assert float(solved.gradients["x[0][0][1]"]) == 0


# -- random stacks ------------------------------------------------------------------------

_weights = st.floats(-0.9, 0.9, allow_nan=False).map(lambda v: round(v, 2))


def _array(draw, shape):
    return np.array(draw(st.lists(_weights, min_size=int(np.prod(shape)),
                                  max_size=int(np.prod(shape))))).reshape(shape).tolist()


@st.composite
def image_stacks(draw):
    """conv2d (any kernel, stride, padding) → tanh → max or average pool → flatten →
    dense → softmax, with cross-entropy."""
    channels, size = draw(st.integers(1, 2)), draw(st.integers(3, 5))
    filters, kernel = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    out = (size + 2 * padding - kernel) // stride + 1
    pool = draw(st.sampled_from(["maxpool", "avgpool"]))
    pooled = (out - 2) // 2 + 1 if out >= 2 else None
    layers = [{"type": "conv2d", "filters": filters, "kernel": kernel, "stride": stride,
               "padding": padding}, {"type": "tanh"}]
    params = {"K1": _array(draw, (filters, channels, kernel, kernel)), "b1": _array(draw, (filters,))}
    flat = filters * out * out
    if pooled:
        layers.append({"type": pool, "size": 2})
        flat = filters * pooled * pooled
    position = len(layers) + 2
    layers += [{"type": "flatten"}, {"type": "dense", "units": 2}, {"type": "softmax"}]
    params[f"W{position}"] = _array(draw, (2, flat))
    params[f"b{position}"] = _array(draw, (2,))
    return {"network": {"input": [channels, size, size], "loss": "cce", "layers": layers},
            "inputs": {"x": _array(draw, (channels, size, size)), "y": [1, 0]},
            "parameters": params}


@st.composite
def sequence_stacks(draw):
    """A recurrent layer or attention over (time, features) → layer norm → the last step
    or a flatten → dense → sigmoid, with binary cross-entropy."""
    time, features, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["rnn", "lstm", "gru", "attention"]))
    params = {}
    if kind == "attention":
        first = {"type": "attention", "d": hidden, "causal": draw(st.booleans())}
        for w in "qkv":
            params[f"W{w}1"] = _array(draw, (hidden, features))
        width = time * hidden
    else:
        gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
        first = {"type": kind, "hidden": hidden}
        params.update(W1=_array(draw, (gates * hidden, features)),
                      U1=_array(draw, (gates * hidden, hidden)), b1=_array(draw, (gates * hidden,)))
        width = time * hidden
    params.update(gamma2=_array(draw, (hidden,)), beta2=_array(draw, (hidden,)),
                  W4=_array(draw, (1, width)), b4=_array(draw, (1,)))
    layers = [first, {"type": "layernorm"}, {"type": "flatten"}, {"type": "dense", "units": 1},
              {"type": "sigmoid"}]
    return {"network": {"input": [time, features], "loss": "bce", "layers": layers},
            "inputs": {"x": _array(draw, (time, features)), "y": [1]}, "parameters": params}


def _check_random(table):
    problem = sb.load_dict(table)
    loss, _ = ref.forward(table, ref.parameters(table))
    _agree(problem.solve(), table, ref.central_differences(table), loss, 1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_stacks())
def test_random_image_stacks_agree_with_central_differences(table):
    """(Windows whose two largest values tie, or nearly, are drawn again: there the loss
    has no derivative for central differences to measure.)"""
    assume(ref.max_pool_gap(table) > 1e-3)
    _check_random(table)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence_stacks())
def test_random_sequence_stacks_agree_with_central_differences(table):
    """(A layer norm over one feature is constant: its gradient is 0 on both sides.)"""
    _check_random(table)


# -- what a user can get wrong --------------------------------------------------------------

BAD = [
    ({"type": "conv2", "filters": 1, "kernel": 2}, "layers[0]: unknown layer type 'conv2' (did you mean 'conv2d'?)"),
    ({"type": "conv2d", "filters": 1}, "layers[0]: conv2d needs kernel"),
    ({"type": "conv2d", "filters": 1, "kernel": 5}, "layers[0]: a 5×5 kernel does not fit a 4×4 input"),
    ({"type": "conv2d", "filters": 1, "kernel": 2, "strid": 2}, "layers[0]: conv2d has no setting 'strid' (did you mean 'stride'?)"),
    ({"type": "lstm", "hidden": 2}, "layers[0]: lstm takes [time, features], but its input has shape (1, 4, 4)"),
    ({"type": "dropout", "p": 1.5, "mask": 1}, "layers[0]: p must be a number in [0, 1)"),
]


@pytest.mark.parametrize(("layer", "message"), BAD)
def test_a_bad_layer_is_one_located_error(tmp_path, capsys, layer, message):
    from symbackprop.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(
        '[network]\ninput = [1, 4, 4]\nloss = "cce"\nlayers = [\n'
        f"  {_inline(layer)},\n  {{ type = \"flatten\" }},\n]\n"
        "[inputs]\nx = 0\n", encoding="utf-8")
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert f"bad.toml [network] {message}" in err


def _inline(table: dict) -> str:
    def value(v):
        return f'"{v}"' if isinstance(v, str) else str(v)
    return "{ " + ", ".join(f"{k} = {value(v)}" for k, v in table.items()) + " }"


def test_batchnorm_without_a_batch_is_refused():
    table = tomllib.loads(example_text("batchnorm"))
    table.pop("batch")
    table["inputs"] = {"x": [1.0, 0.5], "y": [1]}
    table.pop("data")
    with pytest.raises(sb.SymbackpropError, match="more than one value per channel"):
        sb.load_dict(table)


def test_a_dropout_mask_of_the_wrong_shape_is_refused():
    table = tomllib.loads(example_text("dropout"))
    table["network"]["layers"][2]["mask"] = [1, 0, 1]
    with pytest.raises(sb.SymbackpropError, match=r"layers\[2\] mask: mask must be an array"):
        sb.load_dict(table)


def test_verify_reads_element_keys_of_layer_tensors(tmp_path):
    """A claim on one element of a 4-axis kernel's gradient, of an image, of an update."""
    solution = sb.load("conv-pool").solve()
    claims = {key: f"{float(value):.4f}" for key, value in [
        ("dL/dK1[0][0][1][1]", solution.gradients["K1[0][0][1][1]"]),
        ("a1[1][2][3]", solution.values["a1[1][2][3]"]),
        ("K1_new[1][0][0][1]", solution.updated["K1[1][0][0][1]"]),
    ]}
    claims["dL/db1[0]"] = f"{-float(solution.gradients['b1[0]']):.4f}"  # the sign flipped
    report = sb.verify("conv-pool", claims)
    statuses = {v.key: v.status for v in report.verdicts}
    assert statuses == {"dL/dK1[0][0][1][1]": "correct", "a1[1][2][3]": "correct",
                        "K1_new[1][0][0][1]": "correct", "dL/db1[0]": "wrong"}
