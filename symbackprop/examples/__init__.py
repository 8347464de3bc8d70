"""The built-in problems (docs/problem-files.md): the lectures' worked examples.

Six are TOML files beside this module. Two carry data sets that are generated here,
deterministically, rather than stored: the 8-3-8 autoencoder's one-hot patterns
(from Lesson 5 (the backpropagation algorithm)) and the four-pixel images (from the long Backpropagation slide deck) with noisy copies. Each built-in is written
out as TOML text and read by the same loader as a user's file, so ``symbackprop
examples --show NAME`` prints a file a user can copy and edit; :func:`symbackprop.loader.load`
reads it.
"""

from __future__ import annotations

from importlib import resources

import numpy as np


def _round(a, places=2):
    return (np.round(np.asarray(a, dtype=float), places) + 0.0).tolist()  # no -0.0


def _autoencoder() -> dict:
    """Lesson 5 (the backpropagation algorithm): an 8-3-8 sigmoid autoencoder (59 parameters) on the 8 one-hot patterns.

    The learning rate is large because the loss is a sum over eight outputs of squares
    that σ' shrinks: at 5, ``symbackprop train`` reconstructs every pattern (each hot
    output 0.87 or more, every other 0.07 or less) in 2000 full-batch epochs, in a second.
    """
    rng = np.random.default_rng(838)
    eye = np.eye(8, dtype=int).tolist()
    return {
        "title": "An 8-3-8 sigmoid autoencoder",
        "learning_rate": 5.0,
        "network": {"layers": [8, 3, 8], "activations": ["sigmoid", "sigmoid"], "loss": "half_sse"},
        "parameters": {
            "W1": _round(rng.uniform(-1, 1, (3, 8))), "b1": _round(rng.uniform(-0.5, 0.5, 3)),
            "W2": _round(rng.uniform(-1, 1, (8, 3))), "b2": _round(rng.uniform(-0.5, 0.5, 8)),
        },
        "data": {"x": eye, "y": eye},
    }


#: The four classes of the four-pixel images, in output order.
FOUR_PIXEL_CLASSES = ("solid", "vertical", "diagonal", "horizontal")


def four_pixel_patterns() -> tuple[np.ndarray, np.ndarray]:
    """The eight ±1 patterns (pixels: top-left, top-right, bottom-left, bottom-right)
    and their class indices: two per class, each with its negative."""
    base = {
        "solid": [1, 1, 1, 1],
        "vertical": [1, -1, 1, -1],
        "diagonal": [1, -1, -1, 1],
        "horizontal": [1, 1, -1, -1],
    }
    xs, labels = [], []
    for k, name in enumerate(FOUR_PIXEL_CLASSES):
        for sign in (1, -1):
            xs.append([sign * p for p in base[name]])
            labels.append(k)
    return np.array(xs, dtype=float), np.array(labels)


def _four_pixel() -> dict:
    """The long Backpropagation slide deck: 2×2 images classed as solid, vertical, diagonal or horizontal."""
    rng = np.random.default_rng(4)
    patterns, labels = four_pixel_patterns()
    copies = 4
    noisy = np.clip(np.repeat(patterns, copies, axis=0)
                    + rng.uniform(-0.3, 0.3, (len(patterns) * copies, 4)), -1, 1)
    x = np.vstack([patterns, noisy])
    y = np.eye(4, dtype=int)[np.concatenate([labels, np.repeat(labels, copies)])]
    hidden = 8
    return {
        "title": "Four-pixel images: solid, vertical, diagonal or horizontal",
        "learning_rate": 0.1,
        "network": {"layers": [4, hidden, 4], "activations": ["tanh", "softmax"], "loss": "cce"},
        "parameters": {
            "W1": _round(rng.uniform(-1, 1, (hidden, 4))), "b1": _round(rng.uniform(-0.1, 0.1, hidden)),
            "W2": _round(rng.uniform(-1, 1, (4, hidden))), "b2": _round(rng.uniform(-0.1, 0.1, 4)),
        },
        "data": {"x": _round(x), "y": y.tolist()},
    }


#: An 8×8 zero drawn as scikit-learn's digits are (pixel counts 0 to 16, here over 16):
#: the one sample digits-cnn's file carries; it trains on the data set itself.
_DRAWN_ZERO = [[0, 0, 5, 13, 9, 1, 0, 0], [0, 0, 13, 15, 10, 15, 5, 0],
               [0, 3, 15, 2, 0, 11, 8, 0], [0, 4, 12, 0, 0, 8, 8, 0],
               [0, 5, 8, 0, 0, 9, 8, 0], [0, 4, 11, 0, 1, 12, 7, 0],
               [0, 2, 14, 5, 10, 12, 0, 0], [0, 0, 6, 13, 10, 0, 0, 0]]


def _digits_cnn() -> dict:
    """A small CNN for scikit-learn's 8×8 digits: eight 3×3 filters, ReLU, 2×2 max-pool,
    a dense softmax layer over the ten classes (810 parameters), Adam at 0.01.

    The initial weights are He's (normal, variance 2/fan-in) for the convolution and
    Glorot's for the dense layer, drawn by a fixed seed and rounded to 3 decimals.
    ``symbackprop train digits-cnn`` trains on 1,437 of the 1,797 images and reports the
    accuracy on the other 360 (:mod:`symbackprop.datasets`).
    """
    rng = np.random.default_rng(1797)
    filters, classes = 8, 10
    flat = filters * 3 * 3
    return {
        "title": "A small CNN on scikit-learn's 8x8 digits",
        "network": {"input": [1, 8, 8], "loss": "cce", "layers": [
            {"type": "conv2d", "filters": filters, "kernel": 3}, {"type": "relu"},
            {"type": "maxpool", "size": 2}, {"type": "flatten"},
            {"type": "dense", "units": classes}, {"type": "softmax"}]},
        "inputs": {"x": [(np.array(_DRAWN_ZERO) / 16).round(4).tolist()],
                   "y": np.eye(classes, dtype=int)[0].tolist()},
        "parameters": {
            "K1": _round(rng.normal(0, np.sqrt(2 / 9), (filters, 1, 3, 3)), 3),
            "b1": [0.0] * filters,
            "W5": _round(rng.normal(0, np.sqrt(2 / (flat + classes)), (classes, flat)), 3),
            "b5": [0.0] * classes,
        },
        "optimizer": {"name": "adam", "learning_rate": 0.01},
    }


def _lstm_seq() -> dict:
    """An LSTM (hidden 16) over seven one-hot symbols, its last state into a dense softmax
    of four classes: the symbol that occurs most often
    (:func:`symbackprop.datasets.most_frequent`).

    Uniform initial weights drawn by a fixed seed, the forget gate's bias 1 (the usual
    start: the cell keeps its state until it learns otherwise), Adam at 0.02.
    """
    rng = np.random.default_rng(46)
    steps, symbols, hidden = 7, 4, 16
    bias = np.zeros(4 * hidden)
    bias[hidden:2 * hidden] = 1.0  # the forget gate's rows (PyTorch's order i, f, g, o)
    first = rng.integers(0, symbols, steps)
    return {
        "title": "An LSTM that finds the most frequent of seven symbols",
        "network": {"input": [steps, symbols], "loss": "cce", "layers": [
            {"type": "lstm", "hidden": hidden, "last": True},
            {"type": "dense", "units": symbols}, {"type": "softmax"}]},
        "inputs": {"x": np.eye(symbols, dtype=int)[first].tolist(),
                   "y": np.eye(symbols, dtype=int)[np.bincount(first, minlength=symbols).argmax()
                                                   ].tolist()},
        "parameters": {
            "W1": _round(rng.uniform(-0.5, 0.5, (4 * hidden, symbols)), 3),
            "U1": _round(rng.uniform(-0.3, 0.3, (4 * hidden, hidden)), 3),
            "b1": _round(bias, 1),
            "W2": _round(rng.uniform(-0.5, 0.5, (symbols, hidden)), 3),
            "b2": [0.0] * symbols,
        },
        "optimizer": {"name": "adam", "learning_rate": 0.02},
    }


EXAMPLES: dict[str, tuple[str, object]] = {
    "chain-xyz": ("f = (x + y)z at x = -2, y = 5, z = -4, staged as s0 = x + y, f = s0 z", "chain-xyz.toml"),
    "neuron": ("the sigmoid neuron 1/(1 + e^-(w0x0 + w1x1 + w2)) decomposed into gates", "neuron.toml"),
    "net-221": ("the 2-2-1 sigmoid network, x = (0.23, 0.82), eta = 0.7", "net-221.toml"),
    "net-322": ("the 3-2-2 sigmoid network with biases, x = (1, 4, 5), eta = 0.01", "net-322.toml"),
    "logreg": ("logistic regression with binary cross-entropy at (x, y) = (50, 1)", "logreg.toml"),
    "mlp-relu-bce": ("the 2-layer ReLU/sigmoid network in matrix form, learning rate 0.1",
                     "mlp-relu-bce.toml"),
    "rnn-bptt": ("a scalar tanh RNN over 3 steps, loss on the last output: backpropagation"
                 " through time", "rnn-bptt.toml"),
    "conv1d": ("a 1-D convolution (kernel width 3 over 5 inputs, stride 1), ReLU, a dense layer",
               "conv1d.toml"),
    "adam-steps": ("a sigmoid neuron trained by Adam: the first step by hand, three steps in a table",
                   "adam-steps.toml"),
    "minibatch": ("a sigmoid neuron on a mini-batch of two samples: the mean loss and gradients",
                  "minibatch.toml"),
    "conv-pool": ("a 2-filter convolution, ReLU and 2x2 max-pool on a 5x5 image, a dense softmax"
                  " layer", "conv-pool.toml"),
    "batchnorm": ("batch normalisation of a hidden layer over a mini-batch of three samples",
                  "batchnorm.toml"),
    "layernorm": ("layer normalisation of a hidden layer of three units, then softmax",
                  "layernorm.toml"),
    "dropout": ("dropout with a given mask (p = 0.5, inverted scaling) in a 3-4-1 network",
                "dropout.toml"),
    "lstm-2step": ("an LSTM cell (hidden size 2) over two time steps, then a sigmoid output",
                   "lstm-2step.toml"),
    "gru-2step": ("a GRU cell (hidden size 2) over two time steps of one feature, then a sigmoid output",
                  "gru-2step.toml"),
    "attention": ("scaled dot-product attention over three tokens, then a dense softmax layer",
                  "attention.toml"),
    "autoencoder-838": ("the 8-3-8 sigmoid autoencoder with its eight one-hot patterns as [data]",
                        _autoencoder),
    "four-pixel": ("2x2 images classed as solid, vertical, diagonal or horizontal, softmax output",
                   _four_pixel),
}

#: Built-ins that ``train`` fits to a data set a package ships (symbackprop.datasets):
#: networks too large to work by hand, so they have no handout in the gallery.
TRAINING_EXAMPLES: dict[str, tuple[str, object]] = {
    "digits-cnn": ("a small CNN (conv, ReLU, max-pool, dense softmax) that train fits to"
                   " scikit-learn's 8x8 digits (the [digits] extra)", _digits_cnn),
    "lstm-seq": ("an LSTM that train fits to generated sequences: the most frequent of seven"
                 " symbols", _lstm_seq),
}

#: Every built-in, by name.
ALL_EXAMPLES = {**EXAMPLES, **TRAINING_EXAMPLES}


def example_text(name: str) -> str:
    """The TOML text of a built-in problem."""
    _, origin = ALL_EXAMPLES[name]
    if callable(origin):
        return dump_toml(origin())
    return resources.files(__package__).joinpath(origin).read_text(encoding="utf-8")


def toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table (a layer of a network)
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def dump_toml(table: dict) -> str:
    """A problem table as TOML text: top-level keys first, then one section per table."""
    lines = [f"{k} = {toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for section, body in table.items():
        if isinstance(body, dict):
            lines.append(f"\n[{section}]")
            for k, v in body.items():
                key = k if k.replace("_", "").isalnum() else toml_value(k)
                lines.append(f"{key} = {toml_value(v)}")
    return "\n".join(lines) + "\n"
