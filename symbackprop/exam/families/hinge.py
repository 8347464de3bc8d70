"""The multiclass SVM (hinge) loss of seed 000 on the scores of a linear classifier:
which scores receive gradient, and how much reaches a weight."""

from __future__ import annotations

from ..model import Ask

NAME = "hinge"
TITLE = "The multiclass SVM (hinge) loss"
DESCRIPTION = "hinge loss on linear scores: the loss, which scores receive gradient, a weight's gradient"
TEMPLATE = "hinge.tex.j2"
CLASSES = 3


def _graph(label: int) -> dict:
    graph = {f"s{k}": f"w{k}0*x0 + w{k}1*x1" for k in range(CLASSES)}
    others = [k for k in range(CLASSES) if k != label]
    for k in others:
        graph[f"m{k}"] = f"s{k} - s{label} + 1"
        graph[f"h{k}"] = f"max(0, m{k})"
    graph["L"] = " + ".join(f"h{k}" for k in others)
    return graph


def _forget_clamp(t):
    graph = {k: ("m" + k[1:] if k.startswith("h") else v) for k, v in t["graph"].items()}
    return {**t, "graph": graph}


REWRITES = {"clamp": ("the max(0, .) forgotten: every margin counted", _forget_clamp)}
MISTAKES = ("clamp", "sign-flipped", "path-missing", "local-dropped", "mul-not-swapped")


def draw(d) -> dict:
    label = d.choice(range(CLASSES))
    return {"title": TITLE, "output": "L", "graph": _graph(label),
            "inputs": {"x0": d.number(-2, 2, 1), "x1": d.number(-2, 2, 1)},
            "parameters": {f"w{k}{j}": d.number(-1, 1, 1) for k in range(CLASSES) for j in range(2)}}


def label_of(problem) -> int:
    """The correct class: the one score every margin is measured against."""
    return next(k for k in range(CLASSES) if f"m{k}" not in problem.graph)


def asks(d, problem, solution) -> list[Ask]:
    label = label_of(problem)
    other = d.choice([k for k in range(CLASSES) if k != label])
    j = d.choice((0, 1))
    return [
        Ask("L", r"Compute the loss \(L\).", decimals=2),
        Ask(f"dL/ds{other}", rf"How much gradient reaches the score \(s_{other}\)?", decimals=2,
            zero_ok=True),
        Ask(f"dL/ds{label}", rf"How much gradient reaches the score \(s_{label}\) of the correct class?",
            decimals=2, choice=True, mistakes=MISTAKES, zero_ok=True),
        Ask(f"dL/dw{label}{j}", rf"Compute \(\partial L/\partial w_{{{label}{j}}}\).", decimals=2,
            choice=True, mistakes=MISTAKES, zero_ok=True),
    ]


def context(table, problem, solution) -> dict:
    return {"label": label_of(problem)}
