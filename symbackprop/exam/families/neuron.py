"""A sigmoid neuron as gates (seeds 000 and 001): f = 1/(1 + e^-(w0 x0 + w1 x1 + w2))
staged into mul, add, ·(−1), exp, +1 and 1/x gates; the value flowing back through
the 1/x gate and a gradient at an input or weight."""

from __future__ import annotations

from ..model import Ask
from ..wellposed import check_saturation

NAME = "neuron"
TITLE = "A sigmoid neuron as gates"
DESCRIPTION = "1/(1 + e^-(w0x0 + w1x1 + w2)) as gates: the gradient through the 1/x gate, at a weight or input"
TEMPLATE = "neuron.tex.j2"

FORMULA = "1/(1 + exp(-(w0*x0 + w1*x1 + w2)))"
CHAIN = ("sign-flipped", "local-dropped", "mul-not-swapped")


def draw(d) -> dict:
    return {"title": TITLE, "graph": {"f": FORMULA},
            "inputs": {"x0": d.number(-3, 3, 0), "x1": d.number(-3, 3, 0)},
            "parameters": {"w0": d.number(-2, 2, 1), "w1": d.number(-2, 2, 1),
                           "w2": d.number(-2, 2, 1)}}


def _names(problem):
    """The staged gates: the 1/x gate's input and the weighted sum z."""
    top = problem.graph.node("f")
    denominator = top.inputs[0]
    z = next(n.name for n in problem.graph.nodes if "w2" in n.inputs)
    return denominator, z


def screen(problem, values) -> None:
    _, z = _names(problem)
    check_saturation(float(values[z]), z)


def asks(d, problem, solution) -> list[Ask]:
    denominator, _ = _names(problem)
    leaf = d.choice(("w0", "w1", "x0", "x1"))
    sub = leaf[1]
    letter = leaf[0]
    return [
        Ask("f", r"Compute the output \(f\) of the neuron.", decimals=4),
        Ask(f"df/d{denominator}",
            rf"What gradient flows back through the reciprocal gate \(f = 1/{_tex(denominator)}\),"
            rf" that is \(\partial f/\partial {_tex(denominator)}\)?", decimals=4),
        Ask(f"df/d{leaf}", rf"Compute \(\partial f/\partial {letter}_{sub}\).", decimals=4,
            choice=True, mistakes=CHAIN),
    ]


def _tex(name: str) -> str:
    return f"{name[0]}_{{{name[1:]}}}" if len(name) > 1 else name


def context(table, problem, solution) -> dict:
    from ..statement import gate_lines

    return {"gates": gate_lines(problem)}
