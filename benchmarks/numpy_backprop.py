"""Backpropagation written by hand in numpy: the baselines the kernels are measured against.

Written once, readably, the way a course would write it (one sample per row):

* :func:`mlp_loss_and_grad`: a sigmoid MLP with a softmax output and categorical
  cross-entropy (784-16-16-10 in the benchmark), BP1-BP4 over a batch;
* :func:`net221_loss_and_grad`: the 2-2-1 sigmoid network of the lectures with half
  squared error, one array per scalar name, vectorized over the batch.

:func:`network_table` makes a matching problem table for symbackprop, so both sides
run on the same numbers. The tests import this module to check the kernels against it.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def mlp_loss_and_grad(params: dict, x: np.ndarray, y: np.ndarray):
    """Mean softmax cross-entropy of a sigmoid MLP and its gradient.

    ``params`` holds W1, b1, ..., WN, bN with W_l of shape (n_l, n_(l-1)); ``x`` is
    (B, n_0) and ``y`` one-hot (B, n_N).
    """
    depth = len(params) // 2
    batch = x.shape[0]
    activations = [x]
    for layer in range(1, depth):
        z = activations[-1] @ params[f"W{layer}"].T + params[f"b{layer}"]
        activations.append(sigmoid(z))
    logits = activations[-1] @ params[f"W{depth}"].T + params[f"b{depth}"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(y * log_probs).sum() / batch

    grads = {}
    delta = (np.exp(log_probs) - y) / batch  # BP1, softmax + cross-entropy
    for layer in range(depth, 0, -1):
        grads[f"W{layer}"] = delta.T @ activations[layer - 1]  # BP4
        grads[f"b{layer}"] = delta.sum(axis=0)  # BP3
        if layer > 1:
            a = activations[layer - 1]
            delta = (delta @ params[f"W{layer}"]) * a * (1 - a)  # BP2
    return loss, grads


def net221_loss_and_grad(w: dict, x1, x2, y_t):
    """The 2-2-1 network (w1..w6, no biases), half squared error, batch-mean, by hand."""
    h_a = sigmoid(w["w1"] * x1 + w["w3"] * x2)
    h_b = sigmoid(w["w2"] * x1 + w["w4"] * x2)
    y = sigmoid(w["w5"] * h_a + w["w6"] * h_b)
    loss = np.mean((y_t - y) ** 2 / 2)
    d_zc = (y - y_t) * y * (1 - y)
    d_za = d_zc * w["w5"] * h_a * (1 - h_a)
    d_zb = d_zc * w["w6"] * h_b * (1 - h_b)
    grads = {"w1": d_za * x1, "w2": d_zb * x1, "w3": d_za * x2, "w4": d_zb * x2,
             "w5": d_zc * h_a, "w6": d_zc * h_b}
    return loss, {k: float(np.mean(v)) for k, v in grads.items()}


def random_params(layers: list[int], seed: int = 0) -> dict:
    """Weights drawn as a course would (scaled by 1/sqrt(fan-in)), zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(layers)):
        n, m = layers[layer], layers[layer - 1]
        params[f"W{layer}"] = rng.normal(0, 1 / np.sqrt(m), (n, m))
        params[f"b{layer}"] = np.zeros(n)
    return params


def random_batch(layers: list[int], batch: int, seed: int = 1):
    """Inputs in [0, 1) and one-hot targets."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, layers[0]))
    y = np.eye(layers[-1])[rng.integers(0, layers[-1], batch)]
    return x, y


def network_table(layers: list[int], activations: list[str], loss: str, seed: int = 0) -> dict:
    """A network-form problem table with :func:`random_params` as its parameters and
    the first sample of :func:`random_batch` as its inputs."""
    params = random_params(layers, seed)
    x, y = random_batch(layers, 1, seed + 1)
    return {
        "network": {"layers": list(layers), "activations": list(activations), "loss": loss},
        "parameters": {k: v.tolist() for k, v in params.items()},
        "inputs": {"x": x[0].tolist(), "y": y[0].tolist()},
        "learning_rate": 0.1,
    }
