"""The update by an optimizer, and the later steps, as sections of the worked solution.

The rules and their LaTeX live in :mod:`symbackprop.optimizers` (:data:`~symbackprop.
optimizers.RULES`), beside the arithmetic; this module fills each rule's fields with the
numbers of one parameter's step (:class:`~symbackprop.optimizers.Step` keeps every
intermediate), so each line reads ``m_w1 = beta1 m + (1 - beta1) g = 0.9 · 0 + ... = ...``.
The later steps are one table: the loss and every parameter after each step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..display import Display, tex_number
from ..optimizers import DECAY, SETTING_SYMBOLS
from ..solution import Solution
from .document import Block, factor_tex, new_name
from .equations import Equation
from .printer import latex_name, partial

#: The steps table lists at most this many parameters (the JSON has them all).
MAX_TABLE_PARAMETERS = 8
_FIELD = re.compile(r"\{(\w+)\}")


def _fill(template: str, values: dict) -> str:
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def settings_text(solution: Solution, display: Display) -> str:
    """``\\eta = 0.1, \\beta_1 = 0.9, ...``: the settings the rule reads."""
    o = solution.optimizer
    return ", ".join(f"{SETTING_SYMBOLS[k]} = {display.tex(v, display.leaf_places)}"
                     for k, v in o.settings().items() if k != "weight_decay" or v)


def rule_rows(solution: Solution) -> list[str]:
    """The rule in symbols, for a parameter w with gradient g (state starting at zero)."""
    o = solution.optimizer
    lines = ([DECAY] if o.weight_decay else []) + list(o.rule.lines)
    rows = []
    for line in lines:
        head = _fill(line.symbol, {"p": "w"})
        arrow = r" \leftarrow " if line.target in o.state_names else " = "
        rows.append(f"{head} &{arrow}{_fill(line.symbolic, {'p': 'w'})}".replace(
            r"\frac{\partial E}{\partial w}", partial(solution.output, "w")))
    return rows


def parameter_equations(solution: Solution, p: str, display: Display,
                        upto: str | None = None) -> list[Equation]:
    """Each line of the first step of ``p`` as an equation: symbols, numbers, value.

    ``upto``: stop after the line that computes that target (``m``, ``v``, ``b``: an
    optimizer's state, as an exam question asks for it).
    """
    o = solution.optimizer
    s = solution.steps[0].updates[p]
    fill = {k: display.tex(v, display.leaf_places) for k, v in o.settings().items()}
    fill["t"] = "1"
    fill["w_old"] = display.tex(s.terms["w_old"], display.leaf_places)  # first in its line: no parentheses
    for name, value in s.terms.items():
        if name not in ("w_old", "w"):
            fill[name] = factor_tex(display.text(value, display.decimals(value)))
    tex = {"p": latex_name(p)}
    lines = ([DECAY] if o.weight_decay else []) + list(o.rule.lines)
    equations = []
    if not o.weight_decay:  # g is the gradient itself
        equations.append(Equation("g", [partial(solution.output, p),
                                        display.tex(s.terms["g"], display.decimals(s.terms["g"]))]))
    for line in lines:
        value = s.terms[line.target]
        if line.target == "w":
            shown = display.tex(value, display.change(s.terms["w_old"], value))
            head = new_name(p)
        else:
            shown = display.tex(value, display.decimals(value))
            head = _fill(line.symbol, tex)
        symbolic = _fill(line.symbolic, tex).replace(
            r"\frac{\partial E}{\partial " + latex_name(p) + "}", partial(solution.output, p))
        equations.append(Equation(head, [symbolic, _fill(line.numeric, fill), shown]))
        if line.target == upto:
            break
    return equations


def parameter_rows(solution: Solution, p: str, display: Display) -> list[str]:
    """Each line of the first step of ``p`` as rows of an ``align*``."""
    return [row for eq in parameter_equations(solution, p, display) for row in eq.rows()]


def update_blocks(solution: Solution, display: Display) -> list[Block]:
    """The first step of every parameter, one block each."""
    return [Block(text=f"The parameter {p}:" if len(solution.graph.parameters) > 1 else "",
                  rows=parameter_rows(solution, p, display))
            for p in solution.graph.parameters]


def optimizer_intro(solution: Solution, display: Display) -> dict:
    """What the template says before the update: the rule, its convention, settings."""
    o = solution.optimizer
    return {"name": o.name, "convention": o.rule.convention, "settings": settings_text(solution, display),
            "rules": rule_rows(solution), "decay": bool(o.weight_decay),
            "state": ", ".join(o.state_names)}


def steps_table(solution: Solution, display: Display) -> dict | None:
    """The loss and every parameter before the first step and after each step: the
    numbers of :func:`step_numbers` (as the text and the HTML handout show them), in LaTeX."""
    if len(solution.steps) < 2:
        return None
    out = solution.output
    shown = solution.graph.parameters[:MAX_TABLE_PARAMETERS]
    rows = [[row[0]] + [tex_number(c) for c in row[1:2 + len(shown)]]
            for row in step_numbers(solution, display).rows]
    losses = [solution.values[out]] + [r.point.evaluation.values[out] for r in solution.steps]
    return {"header": ["t", latex_name(out)] + [latex_name(p) for p in shown],
            "rows": rows, "omitted": len(solution.graph.parameters) - len(shown),
            "down": all(b < a for a, b in zip(losses, losses[1:], strict=False)),
            "first": rows[0][1], "last": rows[-1][1]}


@dataclass
class StepNumbers:
    """The numbers of an optimizer's run as every format shows them (by the one display
    policy): the settings as given, each parameter's first step (intermediates at the
    policy's decimals, the new value with the decimals that show its change), and the
    loss and parameters after each step. The text account and the HTML handout print it;
    the LaTeX/Markdown document writes the same numbers line by line (:func:`parameter_equations`)."""

    name: str
    convention: str
    settings: list[tuple[str, str]]
    first: list[tuple[str, list[tuple[str, str]], str]]  # (parameter, [(term, number)], new)
    header: list[str]
    rows: list[list[str]]  # t, loss, parameters


def step_numbers(solution: Solution, display: Display) -> StepNumbers:
    o, out = solution.optimizer, solution.output
    params = solution.graph.parameters
    first = []
    for p in params:
        terms = solution.steps[0].updates[p].terms
        shown = [(k, display.text(v, display.decimals(v))) for k, v in terms.items()
                 if k not in ("w_old", "grad", "w") and not k.endswith("_old")]
        first.append((p, shown, display.text(terms["w"], display.change(terms["w_old"], terms["w"]))))
    points = [(0, solution.values)] + [(r.t, r.point.evaluation.values) for r in solution.steps]
    rows, previous = [], None
    for t, values in points:
        if previous is None:  # as given, and the loss at the policy's decimals
            cells = [display.text(values[out])] + [display.given(values[p]) for p in params]
        else:  # each with the decimals that show its change from the step before
            cells = [display.text(values[n], display.change(previous[n], values[n]))
                     for n in [out, *params]]
        previous = values
        rows.append([str(t), *cells])
    return StepNumbers(o.name, o.rule.convention,
                       [(k, display.given(v)) for k, v in o.settings().items()],
                       first, ["t", out, *params], rows)
