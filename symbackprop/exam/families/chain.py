"""The chain rule on a small expression (seeds 000 and 004): f = x²y + yz, f = (x + y)z,
f = (x + y)(y + z), a partial derivative at a point.

The formula is one compound expression; the loader stages it into atomic gates
(q = x + y, f = q z), so the chains behind the distractors are the lectures' chains.
"""

from __future__ import annotations

from ..model import Ask

NAME = "chain"
TITLE = "The chain rule on a small expression"
DESCRIPTION = "a partial derivative of f = x^2 y + yz, (x + y)z or (x + y)(y + z) at a point"
TEMPLATE = "chain.tex.j2"

#: (expression, its LaTeX, the variables whose partial has several factors or paths)
FORMS = (
    ("x**2*y + y*z", r"x^2 y + y z", ("x", "y")),
    ("(x + y)*z", r"(x + y)\,z", ("x", "y", "z")),
    ("(x + y)*(y + z)", r"(x + y)(y + z)", ("y", "x", "z")),
)
CHAIN = ("sign-flipped", "local-dropped", "path-missing", "mul-not-swapped")


def draw(d) -> dict:
    form = d.choice(range(len(FORMS)))
    values = {v: d.number(-3, 3, 0) if d.choice((True, False)) else d.number(-6, 6, 0) / 2
              for v in ("x", "y", "z")}
    return {"title": TITLE, "graph": {"f": FORMS[form][0]},
            "inputs": {k: (int(v) if float(v).is_integer() else v) for k, v in values.items()}}


def _form(table):
    return next(f for f in FORMS if f[0] == table["graph"]["f"])


def asks(d, problem, solution) -> list[Ask]:
    rich = _form(problem.raw)[2]
    first = rich[0]
    second = d.choice([v for v in ("x", "y", "z") if v != first])
    return [
        Ask(f"df/d{first}", rf"Compute \(\partial f/\partial {first}\) at the given point.",
            decimals=2, choice=True, mistakes=CHAIN),
        Ask(f"df/d{second}", rf"Compute \(\partial f/\partial {second}\) at the given point.",
            decimals=2),
        Ask("f", r"Compute the value of \(f\).", decimals=3),
    ]


def context(table, problem, solution) -> dict:
    return {"formula": _form(table)[1]}
