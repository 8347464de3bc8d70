"""The 2-2-1 sigmoid network of seed 001 with half squared error: the forward value,
a chain-rule gradient at a hidden weight, an updated output weight."""

from __future__ import annotations

from ..model import Ask

NAME = "net221"
TITLE = "A 2-2-1 sigmoid network"
DESCRIPTION = "the 2-2-1 sigmoid network with half squared error: output, dE/dw (hidden), updated weight"
TEMPLATE = "net221.tex.j2"

GRAPH = {
    "z_a": "x1*w1 + x2*w3",
    "z_b": "x1*w2 + x2*w4",
    "h_a": "sigmoid(z_a)",
    "h_b": "sigmoid(z_b)",
    "z_c": "h_a*w5 + h_b*w6",
    "y": "sigmoid(z_c)",
    "E": "(y_t - y)**2 / 2",
}
CHAIN = ("sign-flipped", "local-dropped", "mul-not-swapped", "half-dropped")


def draw(d) -> dict:
    return {
        "title": TITLE, "output": "E",
        "learning_rate": d.choice((0.1, 0.5, 0.7, 1)),
        "graph": dict(GRAPH),
        "inputs": {"x1": d.number(0.05, 1, 2), "x2": d.number(0.05, 1, 2), "y_t": d.choice((0, 1))},
        "parameters": {f"w{i}": d.number(-1, 1, 1) for i in range(1, 7)},
    }


def asks(d, problem, solution) -> list[Ask]:
    hidden = d.choice((1, 2, 3, 4))
    out = d.choice((5, 6))
    return [
        Ask("y", r"Compute the network's output \(y\).", decimals=4),
        Ask(f"dE/dw{hidden}", rf"Compute \(\partial E/\partial w_{hidden}\) by the chain rule.",
            decimals=5, choice=True, mistakes=CHAIN),
        Ask(f"w{out}_new", rf"Compute \(w_{out}\) after one gradient-descent step.",
            decimals=4, choice=True, mistakes=("update-added", "rate-forgotten", "half-dropped", "local-dropped")),
    ]
