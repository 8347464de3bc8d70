"""The update by an optimizer, and the later steps, as sections of the worked solution.

The rules and their LaTeX live in :mod:`symbackprop.optimizers` (:data:`~symbackprop.
optimizers.RULES`), beside the arithmetic; this module fills each rule's fields with the
numbers of one parameter's step (:class:`~symbackprop.optimizers.Step` keeps every
intermediate), so each line reads ``m_w1 = beta1 m + (1 - beta1) g = 0.9 · 0 + ... = ...``.
The later steps are one table: the loss and every parameter after each step.
"""

from __future__ import annotations

import re

from ..display import Display
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
    """The loss and every parameter before the first step and after each step."""
    if len(solution.steps) < 2:
        return None
    out = solution.output
    shown = solution.graph.parameters[:MAX_TABLE_PARAMETERS]
    points = [(0, {p: solution.values[p] for p in shown}, solution.values[out])]
    points += [(r.t, r.parameters, r.point.evaluation.values[out]) for r in solution.steps]
    rows = []
    previous = None
    for t, params, loss in points:
        cells = [str(t)]
        if previous is None:
            cells.append(display.tex(loss))
            cells += [display.tex(params[p], display.leaf_places) for p in shown]
        else:
            cells.append(display.tex(loss, display.change(previous[1], loss)))
            cells += [display.tex(params[p], display.change(previous[0][p], params[p]))
                      for p in shown]
        previous = (params, loss)
        rows.append(cells)
    losses = [loss for _, _, loss in points]
    return {"header": ["t", latex_name(out)] + [latex_name(p) for p in shown],
            "rows": rows, "omitted": len(solution.graph.parameters) - len(shown),
            "down": all(b < a for a, b in zip(losses, losses[1:], strict=False)),
            "first": display.tex(losses[0]), "last": rows[-1][1]}
