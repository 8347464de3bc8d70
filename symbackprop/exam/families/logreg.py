"""Logistic regression with binary cross-entropy (seed 004): dL/dw, dL/db, updated
parameters."""

from __future__ import annotations

from ..model import Ask

NAME = "logreg"
TITLE = "Logistic regression with binary cross-entropy"
DESCRIPTION = "logistic regression with binary cross-entropy: dL/dw, dL/db, updated w and b"
TEMPLATE = "logreg.tex.j2"

GRAPH = {
    "z": "w*x + b",
    "y_hat": "sigmoid(z)",
    "L": "-y*log(y_hat) - (1 - y)*log(1 - y_hat)",
}
REWRITES = {
    "minus": ("the minus sign of the cross-entropy dropped",
              lambda t: {**t, "graph": {**t["graph"], "L": "y*log(y_hat) + (1 - y)*log(1 - y_hat)"}}),
}
CHAIN = ("minus", "local-dropped", "mul-not-swapped", "sign-flipped")


def draw(d) -> dict:
    return {
        "title": TITLE, "output": "L",
        "learning_rate": d.choice((0.1, 0.2, 0.5)),
        "graph": dict(GRAPH),
        "inputs": {"x": d.number(-3, 3, 1), "y": d.choice((0, 1))},
        "parameters": {"w": d.number(-1.5, 1.5, 1), "b": d.number(-1, 1, 1)},
    }


def asks(d, problem, solution) -> list[Ask]:
    return [
        Ask("dL/dw", r"Compute \(\partial L/\partial w\).", decimals=4, choice=True, mistakes=CHAIN),
        Ask("dL/db", r"Compute \(\partial L/\partial b\).", decimals=4),
        Ask("w_new", r"Compute \(w\) after one gradient-descent step.", decimals=4),
        Ask("b_new", r"Compute \(b\) after one gradient-descent step.", decimals=4, choice=True,
            mistakes=("update-added", "rate-forgotten", "local-dropped", "minus")),
    ]
