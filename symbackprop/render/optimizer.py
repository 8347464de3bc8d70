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

import sympy as sp

from ..display import Display, Line, tex_number
from ..optimizers import DECAY, SETTING_SYMBOLS
from ..solution import Solution
from .document import Block, factor_tex, math_block, new_name
from .equations import Equation, approx, shown_number
from .printer import latex_name, partial

#: The steps table lists at most this many parameters (the JSON has them all).
MAX_TABLE_PARAMETERS = 8
_FIELD = re.compile(r"\{(\w+)\}")


def _fill(template: str, values: dict) -> str:
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def settings_text(solution: Solution, display: Display) -> list[str]:
    """``["\\eta = 0.1", "\\beta_1 = 0.9", ...]``: the settings the rule reads, each its
    own formula (so that a line may break between them)."""
    o = solution.optimizer
    return [f"{SETTING_SYMBOLS[k]} = {display.tex(v, display.leaf_places)}"
            for k, v in o.settings().items() if k != "weight_decay" or v]


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


def step_places(solution: Solution, p: str, display: Display, lines=None, step: int = 1):
    """The decimals of every quantity of ``p``'s step ``step`` (one number of decimals
    per quantity, in every line and format that shows it), the targets of the lines
    written with ≈, and the quantities widened so that their lines add up."""
    o = solution.optimizer
    if lines is None:
        lines = ([DECAY] if o.weight_decay else []) + list(o.rule.lines)
    terms = solution.steps[step - 1].updates[p].terms
    places = {name: display.decimals(value) for name, value in terms.items()}
    places["w_old"] = display.leaf_places if step == 1 else _shown_places(solution, p, step - 1,
                                                                            display)
    places["w"] = _shown_places(solution, p, step, display)
    if step == 1:  # a quantity with a claim key shows the digits it has on the whole page
        gradient = "grad" if o.weight_decay else "g"
        for name in places:
            key = (f"d{solution.output}/d{p}" if name == gradient
                   else line_key(name, p, o) if name != "w_old" else None)
            places[name] = display.at(key, places[name])
    fixed = {"w_old"}
    if step > 1:  # the state carried in reads as the step before showed it
        before, _, _ = step_places(solution, p, display, None, step - 1)
        for k in o.state_names:
            places[f"{k}_old"] = before[k]
            fixed.add(f"{k}_old")
    start = dict(places)
    places, rough = display.fit_formulas(
        [(line.target, line.formula) for line in lines], terms, places,
        fixed=fixed, constants={**o.settings(), "t": step})
    return places, rough, {name for name in places if places[name] > start[name]}


def _shown_places(solution: Solution, p: str, step: int, display: Display) -> int:
    """The decimals of ``p`` after ``step``: those that show its change by that step."""
    s = solution.steps[step - 1].updates[p].terms
    return display.change(s["w_old"], s["w"])


def parameter_equations(solution: Solution, p: str, display: Display,
                        upto: str | None = None, step: int = 1) -> list[Equation]:
    """Each line of step ``step`` (the first by default) of ``p`` as an equation:
    symbols, numbers, value; after the first step each quantity is marked with its step
    (m_w^{(2)}, w^{(2)}), and keyed only where a claim key names it (``w1@2``).

    Every quantity is shown with one number of digits in all the lines that show it,
    chosen (:meth:`Display.fit_formulas`) so that each line with its numbers as shown
    gives its result as shown within one unit; a line that cannot is written with ≈.
    ``upto``: stop after the line that computes that target (``m``, ``v``, ``b``: an
    optimizer's state, as an exam question asks for it).
    """
    o = solution.optimizer
    s = solution.steps[step - 1].updates[p]
    lines = ([DECAY] if o.weight_decay else []) + list(o.rule.lines)
    if upto is not None:
        lines = lines[:[line.target for line in lines].index(upto) + 1]
    terms = dict(s.terms)
    places, rough, more = step_places(solution, p, display, lines, step)
    fill = {k: display.tex(v, display.leaf_places) for k, v in o.settings().items()}
    fill["t"] = str(step)
    fill["w_old"] = display.tex(terms["w_old"], places["w_old"])  # first in its line
    fill["w_factor"] = factor_tex(display.text(terms["w_old"], places["w_old"]))  # (-0.3)

    def marked(head: str) -> str:  # a quantity of a later step carries its step
        return head if step == 1 else f"{{{head}}}^{{({step})}}"
    for name, value in terms.items():
        if name not in ("w_old", "w"):
            fill[name] = factor_tex(display.text(value, places[name]))
    tex = {"p": latex_name(p)}
    equations = []
    if not o.weight_decay:  # g is the gradient itself
        equations.append(Equation(marked("g"), [partial(solution.output, p),
                                                display.tex(terms["g"], places["g"])],
                                  key=f"d{solution.output}/d{p}" if step == 1 else None))
    for line in lines:
        value = terms[line.target]
        shown = approx(display.tex(value, places[line.target]), line.target in rough)
        if line.target == "w":
            head = new_name(p) if step == 1 else f"{{{latex_name(p)}}}^{{({step})}}"
        else:
            head = marked(_fill(line.symbol, tex))
        symbolic = _fill(line.symbolic, tex).replace(
            r"\frac{\partial E}{\partial " + latex_name(p) + "}", partial(solution.output, p))
        operands = sorted(sym.name for sym in line.formula.free_symbols if sym.name in terms)
        record = Line(tuple(display.text(terms[n], places[n]) for n in operands),
                      display.text(value, places[line.target]), line.target in rough,
                      tuple(places[n] for n in operands),
                      bool(more & set(operands)) and line.target not in rough)
        key = line_key(line.target, p, o) if step == 1 else (
            f"{p}@{step}" if line.target == "w" else None)
        equations.append(Equation(head, [symbolic, _fill(line.numeric, fill), shown], (record,),
                                  key=key))
    return equations


def line_key(target: str, p: str, optimizer) -> str | None:
    """The claim key of what a rule's line computes for ``p``: its new value ``p_new``,
    or its state after the first step (``m_p``); None for an intermediate (m_hat)."""
    if target == "w":
        return f"{p}_new"
    return f"{target}_{p}" if target in optimizer.state_names else None


def parameter_rows(solution: Solution, p: str, display: Display) -> list[str]:
    """Each line of the first step of ``p`` as rows of an ``align*``."""
    return [row for eq in parameter_equations(solution, p, display) for row in eq.rows()]


def update_blocks(solution: Solution, display: Display) -> list[Block]:
    """The first step of every parameter, one block each."""
    return [math_block(parameter_equations(solution, p, display),
                       text=f"The parameter {p}:" if len(solution.graph.parameters) > 1 else "")
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
    claims = [(key, number) for row in rows
              for key, cell in zip([f"{out}@{row[0]}"] + [f"{p}@{row[0]}" for p in shown],
                                   row[1:], strict=True)
              if (number := shown_number(cell)) is not None]
    losses = [solution.values[out]] + [r.point.evaluation.values[out] for r in solution.steps]
    return {"header": ["t", latex_name(out)] + [latex_name(p) for p in shown],
            "rows": rows, "omitted": len(solution.graph.parameters) - len(shown),
            "down": all(b < a for a, b in zip(losses, losses[1:], strict=False)),
            "first": rows[0][1], "last": rows[-1][1], "claims": claims}


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
        places, _, _ = step_places(solution, p, display)  # the worked solution's digits
        # a state by its claim key (b_b: the momentum buffer of b, never a bare b)
        shown = [(f"{k}_{p}" if k in o.state_names else k, display.text(v, places[k]))
                 for k, v in terms.items()
                 if k not in ("w_old", "grad", "w") and not k.endswith("_old")]
        first.append((p, shown, display.text(terms["w"], places["w"])))
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
                       [(k, setting_text(v, display)) for k, v in o.settings().items()],
                       first, ["t", out, *params], rows)


def setting_text(value, display: Display) -> str:
    """A setting as given, a tiny one (eps) as 1e-8 rather than 0.00000001."""
    if value != 0 and abs(value) < sp.Rational(1, 10**4):
        mantissa, exponent = f"{float(value):.12g}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return display.given(value)
