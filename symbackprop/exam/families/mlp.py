"""The 2-layer ReLU/sigmoid network in matrix form with binary cross-entropy, as in
seed 004's worked example and its exercise 5: the prediction, an element of dL/dW1,
updated biases."""

from __future__ import annotations

from ..model import Ask
from ..wellposed import Rejected

NAME = "mlp"
TITLE = "A 2-layer ReLU/sigmoid network in matrix form"
DESCRIPTION = "the 2-layer ReLU/sigmoid network with binary cross-entropy: an element of dL/dW1, updated biases"
TEMPLATE = "mlp.tex.j2"
CHAIN = ("sign-flipped", "local-dropped", "transposed", "mul-not-swapped")


def draw(d) -> dict:
    return {
        "title": TITLE,
        "learning_rate": d.choice((0.1, 0.5)),
        "network": {"layers": [2, 2, 1], "activations": ["relu", "sigmoid"], "loss": "bce"},
        "parameters": {
            "W1": [d.numbers(2, -1, 1, 1), d.numbers(2, -1, 1, 1)],
            "b1": d.numbers(2, -0.5, 0.5, 1, nonzero=False),
            "W2": [d.numbers(2, -1, 1, 1)],
            "b2": [d.number(-0.5, 0.5, 1, nonzero=False)],
        },
        "inputs": {"x": d.numbers(2, -2, 2, 0), "y": [d.choice((0, 1))]},
    }


def screen(problem, values) -> None:
    if all(values[f"z1[{i}]"] <= 0 for i in (0, 1)):
        raise Rejected("zero", "both hidden units are off: every gradient of W1 is 0")


def asks(d, problem, solution) -> list[Ask]:
    active = [i for i in (0, 1) if solution.values[f"z1[{i}]"] > 0]
    i, j = d.choice(active), d.choice((0, 1))
    k = d.choice((0, 1))
    return [
        Ask("a2[0]", r"Compute the prediction \(\hat{y} = a^{[2]}\).", decimals=4),
        Ask(f"dL/dW1[{i}][{j}]",
            rf"Compute \(\partial L/\partial W^{{[1]}}_{{{i + 1}{j + 1}}}\), the element in row"
            rf" {i + 1}, column {j + 1} of \(\partial L/\partial W^{{[1]}}\).",
            decimals=4, choice=True, mistakes=CHAIN),
        Ask("b2_new[0]", r"Compute \(b^{[2]}\) after one gradient-descent step.", decimals=4,
            choice=True, mistakes=("update-added", "rate-forgotten", "local-dropped", "sign-flipped")),
        Ask(f"b1_new[{k}]", rf"Compute \(b^{{[1]}}_{k + 1}\) after one gradient-descent step.",
            decimals=4, zero_ok=True),
    ]
