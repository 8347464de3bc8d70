"""The layer form's array kernels (symbackprop/kernels/layer_form.py) against independent
sources: the element-by-element derivation the worked solution prints (the scalar graph of
layers/expand.py solved by the engine), PyTorch's autograd through torch.nn.functional
where PyTorch is installed, and a numpy forward pass from PyTorch's formulas with central
differences (tests/layer_reference.py)."""

from __future__ import annotations

import contextlib
import copy
import tomllib

import layer_reference as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from test_layers import LAYER_EXAMPLES, _key, image_stacks, sequence_stacks

import symbackprop as sb
from symbackprop.errors import SymbackpropError
from symbackprop.examples import example_text


def _against_solution(problem, tol=1e-10):
    """Loss, every gradient element and every layer output of the kernel against the
    engine's solution of the same problem."""
    kernel = problem.compile()
    assert kernel.form == "layers"
    params, data = kernel.parameters(), kernel.data()
    loss, grads = kernel.loss_and_grad(params, data)
    solution = problem.solve()
    assert loss == pytest.approx(float(solution.values["L"]), rel=tol, abs=tol)
    for name, grad in grads.items():
        assert grad.shape == kernel.parameter_shapes[name]
        for index in np.ndindex(*grad.shape):
            assert grad[index] == pytest.approx(float(solution.gradients[_key(name, index)]),
                                                rel=tol, abs=tol), _key(name, index)
    batched = problem.graph.groups["x"].shape != kernel.input_shapes["x"]
    for name, values in kernel.forward(params, data).items():
        if name == "L":
            continue
        for index in np.ndindex(*values.shape):
            key = _key(name, index if batched else index[1:])
            assert values[index] == pytest.approx(float(solution.values[key]), rel=tol, abs=tol), key


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed (an optional check)")


@pytest.mark.parametrize("name", LAYER_EXAMPLES)
def test_layer_kernels_agree_with_the_element_by_element_derivation(name):
    _against_solution(sb.load(name))


@pytest.mark.parametrize("name", LAYER_EXAMPLES)
def test_layer_kernels_agree_with_pytorch_autograd(name, torch):
    table = tomllib.loads(example_text(name))
    loss, expected = ref.torch_gradients(table, torch)
    kernel = sb.load(name).compile()
    got_loss, grads = kernel.loss_and_grad(kernel.parameters(), kernel.data())
    assert got_loss == pytest.approx(loss, rel=1e-10, abs=1e-10)
    for p, grad in expected.items():
        np.testing.assert_allclose(grads[p], grad, rtol=1e-10, atol=1e-10, err_msg=p)


def _batched(table: dict, count: int, seed: int) -> dict:
    """The table with a [data] batch of ``count`` random samples (one-hot targets), the
    reference's form of a mini-batch."""
    rng = np.random.default_rng(seed)
    shape = np.shape(table["inputs"]["x"])
    classes = len(table["inputs"]["y"])
    out = copy.deepcopy(table)
    out["data"] = {"x": rng.uniform(-1, 1, (count, *shape)).round(3).tolist(),
                   "y": np.eye(classes)[rng.integers(0, classes, count)].tolist()}
    out["batch"] = "all"
    return out


WIDE = {  # a stride-2 padded convolution, overlapping max windows, an average pool
    "network": {"input": [2, 7, 7], "loss": "cce", "layers": [
        {"type": "conv2d", "filters": 3, "kernel": [3, 2], "stride": 2, "padding": 1},
        {"type": "tanh"},
        {"type": "maxpool", "size": 2, "stride": 1},
        {"type": "avgpool", "size": 2},
        {"type": "flatten"}, {"type": "dense", "units": 3}, {"type": "softmax"}]},
    "inputs": {"x": np.linspace(-1, 1, 98).reshape(2, 7, 7).round(3).tolist(), "y": [0, 1, 0]},
}


def _wide_table() -> dict:
    rng = np.random.default_rng(5)
    table = copy.deepcopy(WIDE)
    table["parameters"] = {"K1": rng.uniform(-1, 1, (3, 2, 3, 2)).round(2).tolist(),
                           "b1": [0.1, -0.2, 0.05],
                           "W6": rng.uniform(-1, 1, (3, 3)).round(2).tolist(), "b6": [0, 0.1, -0.1]}
    return table


def _kernel_on(table: dict):
    one = {k: v for k, v in table.items() if k not in ("data", "batch")}
    kernel = sb.load_dict(one).compile()
    data = {n: np.array(v, float) for n, v in table["data"].items()}
    return kernel, kernel.loss_and_grad(kernel.parameters(), data)


def test_a_batch_through_strides_padding_and_overlapping_pools_agrees_with_central_differences():
    table = _batched(_wide_table(), 6, seed=1)
    for sample in table["data"]["x"]:  # no tie: the loss has a derivative
        assert ref.max_pool_gap({**table, "inputs": {"x": sample}}) > 1e-3
    _, (loss, grads) = _kernel_on(table)
    assert loss == pytest.approx(ref.forward(table, ref.parameters(table))[0], rel=1e-12)
    for name, grad in ref.central_differences(table).items():
        np.testing.assert_allclose(grads[name], grad, rtol=1e-6, atol=1e-8, err_msg=name)


def test_a_batch_through_strides_padding_and_overlapping_pools_agrees_with_pytorch(torch):
    table = _batched(_wide_table(), 6, seed=1)
    loss, expected = ref.torch_gradients(table, torch)
    _, (got, grads) = _kernel_on(table)
    assert got == pytest.approx(loss, rel=1e-12)
    for name, grad in expected.items():
        np.testing.assert_allclose(grads[name], grad, rtol=1e-10, atol=1e-12, err_msg=name)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_stacks())
def test_random_image_stacks_agree_with_the_derivation(table):
    assume(ref.max_pool_gap(table) > 1e-6)
    _against_solution(sb.load_dict(table))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence_stacks())
def test_random_sequence_stacks_agree_with_the_derivation(table):
    _against_solution(sb.load_dict(table))


@pytest.mark.parametrize("name", ["conv-pool", "lstm-2step", "batchnorm"])
def test_float32_kernels_compute_in_float32_close_to_float64(name):
    problem = sb.load(name)
    exact, single = problem.compile(), problem.compile(dtype="float32")
    loss64, grads64 = exact.loss_and_grad(exact.parameters(), exact.data())
    loss32, grads32 = single.loss_and_grad(single.parameters(), single.data())
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for p, g in grads64.items():
        assert grads32[p].dtype == np.float32, p
        np.testing.assert_allclose(grads32[p], g, rtol=1e-4, atol=1e-6, err_msg=p)


def test_the_backward_pass_is_derived_from_the_array_rules():
    """The generated code of conv-pool: the convolution by unfold and a contraction, the
    pool by its routing; the gradients by their adjoints (fold is not needed: the input
    takes no gradient), the routing sent back by window_put."""
    source = sb.load("conv-pool").compile().source
    for call in ("unfold(x, 2, 2, 1, 0)", "window_argmax(", "window_put(",
                 "einsum_bijcuv_bfij_to_fcuv(cols1, g_xk1)", "step("):
        assert call in source, call
    assert "fold(" not in source.replace("unfold(", "")


def test_what_the_layers_form_refuses():
    with pytest.raises(SymbackpropError, match="dtype float32: the network form"):
        sb.load("four-pixel").compile(dtype="float32")
    with pytest.raises(SymbackpropError, match="layers form needs"):
        sb.load("four-pixel").compile(form="layers")
    kernel = sb.load("conv-pool").compile()
    with pytest.raises(SymbackpropError, match="x has shape"):
        kernel.loss_and_grad(kernel.parameters(), {"x": np.zeros((2, 1, 4, 4)), "y": np.zeros((2, 3))})


CAUSAL = {
    "network": {"input": [3, 2], "loss": "cce", "layers": [
        {"type": "attention", "d": 2, "causal": True}, {"type": "layernorm"},
        {"type": "flatten"}, {"type": "dense", "units": 2}, {"type": "softmax"}]},
    "inputs": {"x": [[0.5, -0.2], [0.1, 0.9], [-0.7, 0.3]], "y": [0, 1]},
    "parameters": {"Wq1": [[0.3, -0.5], [0.8, 0.1]], "Wk1": [[-0.2, 0.4], [0.6, -0.9]],
                   "Wv1": [[0.7, 0.2], [-0.3, 0.5]], "gamma2": [1.1, 0.9], "beta2": [0.1, -0.1],
                   "W4": [[0.2, -0.4, 0.6, 0.1, -0.3, 0.5], [-0.5, 0.3, 0.2, -0.6, 0.4, 0.1]],
                   "b4": [0.05, -0.05]},
}


def _float64(library: str):
    """JAX computes in float32 unless its float64 mode is on: on for the comparison."""
    if library == "jax":
        jax = pytest.importorskip("jax", reason="JAX is not installed (an optional check)")
        return jax.enable_x64(True)
    pytest.importorskip("torch", reason="PyTorch is not installed (an optional check)")
    return contextlib.nullcontext()


@pytest.mark.parametrize(("name", "library"), [
    *((name, "torch") for name in [*LAYER_EXAMPLES, "causal attention", "strides and pools"]),
    # JAX's first call of each operation compiles it (seconds per problem): three cases
    ("strides and pools", "jax"), ("lstm-2step", "jax"), ("causal attention", "jax")])
def test_the_torch_and_jax_backends_run_the_same_layer_kernels(name, library):
    """The generated code on PyTorch tensors (backend="torch") and JAX arrays
    (backend="jax") gives the numpy kernel's loss and gradients."""
    with _float64(library):
        _same_on(name, library)


def _same_on(name, library):
    if name == "causal attention":
        problem, data = sb.load_dict(CAUSAL), None
    elif name == "strides and pools":
        table = _batched(_wide_table(), 4, seed=2)
        problem = sb.load_dict({k: v for k, v in table.items() if k not in ("data", "batch")})
        data = {n: np.array(v, float) for n, v in table["data"].items()}
    else:
        problem, data = sb.load(name), None
    numpy_kernel, other = problem.compile(), problem.compile(backend=library)
    data = data or numpy_kernel.data()
    loss, grads = numpy_kernel.loss_and_grad(numpy_kernel.parameters(), data)
    got, arrays = other.loss_and_grad(other.parameters(), data)
    assert got == pytest.approx(loss, rel=1e-12, abs=1e-14)
    for p, g in grads.items():
        assert not isinstance(arrays[p], np.ndarray)  # the library's own array
        np.testing.assert_allclose(other.backend.to_numpy(arrays[p]), g, rtol=1e-10,
                                   atol=1e-14, err_msg=p)
