"""Gate patterns (seed 000): the add gate distributes, the max gate routes, the mul gate
swaps. Which inputs receive gradient, and how much."""

from __future__ import annotations

from ..model import Ask

NAME = "gates"
TITLE = "Gate patterns: add, max and mul"
DESCRIPTION = "add distributes, max routes, mul swaps: which inputs receive gradient, and how much"
TEMPLATE = "gates.tex.j2"

FORMS = {
    "A": {"q": "x*y", "m": "max(z, w)", "s": "q + m", "f": "{c}*s"},
    "B": {"a": "x + y", "m": "max(a, z)", "f": "m*w"},
}
MAX_ARGS = {"A": ("z", "w"), "B": ("a", "z")}


def _rewrite(form_of_max):
    def rewrite(t):
        graph = dict(t["graph"])
        graph["m"] = form_of_max.format(*_max_args(graph))
        return {**t, "graph": graph}
    return rewrite


def _max_args(graph):
    return MAX_ARGS["A"] if "q" in graph else MAX_ARGS["B"]


REWRITES = {
    "max_as_add": ("the max gate taken for an add gate (gradient to both inputs)",
                   _rewrite("{0} + {1}")),
    "max_to_min": ("the max gate routing to the smaller input", _rewrite("min({0}, {1})")),
    "max_as_mul": ("the max gate taken for a mul gate (gradient times the other input)",
                   _rewrite("{0}*{1}")),
}
MISTAKES = ("max_as_add", "max_to_min", "max_as_mul", "local-dropped", "sign-flipped", "mul-not-swapped")


def draw(d) -> dict:
    form = d.choice(("A", "B"))
    graph = {k: v.format(c=d.choice((2, 3))) for k, v in FORMS[form].items()}
    return {"title": TITLE, "output": "f", "graph": graph,
            "inputs": {v: d.number(-5, 5, 0) for v in ("x", "y", "z", "w")}}


def asks(d, problem, solution) -> list[Ask]:
    if "q" in problem.graph:  # f = c (x y + max(z, w))
        mul = d.choice(("x", "y"))
        first, second = "z", "w"
    else:  # f = max(x + y, z) w
        mul = "w"
        first, second = d.choice(("x", "y")), "z"
    return [
        Ask(f"df/d{mul}", rf"How much gradient reaches \({mul}\), that is \(\partial f/\partial {mul}\)?",
            decimals=1),
        Ask(f"df/d{first}", rf"How much gradient reaches \({first}\)?", decimals=1, choice=True,
            mistakes=MISTAKES, zero_ok=True),
        Ask(f"df/d{second}", rf"How much gradient reaches \({second}\)?", decimals=1, choice=True,
            mistakes=MISTAKES, zero_ok=True),
    ]


def context(table, problem, solution) -> dict:
    from ..statement import gate_lines

    if "q" in problem.graph:
        c = table["graph"]["f"].split("*")[0]
        formula = rf"{c}\,\bigl(x y + \max(z, w)\bigr)"
    else:
        formula = r"\max(x + y, z)\, w"
    return {"formula": formula, "gates": gate_lines(problem)}
