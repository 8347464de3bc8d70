"""The plain-text account of a solution: what ``symbackprop solve`` prints by default.

Forward values, every local derivative, each gradient as its chain-rule product
(dE/dw5 = dE/dy · dy/dz_c · dz_c/dw5 = −0.3844 · 0.2366 · 0.5869 = −0.0534), the update
and the loss before and after. Numbers are rounded only here, for display.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from .. import ops
from ..display import Display, Used
from ..numbers import DEFAULT_PLACES, to_decimal
from ..parse import SourcePrinter, WrittenNumber
from ..printable import printable
from ..solution import Chain, Solution
from .document import widened
from .lines import (
    MAX_PATHS_SHOWN,
    chain_numbers,
    needed_edges,
    sweep_line,
    targets,
    update_line,
    vanishing,
)
from .optimizer import step_numbers
from .printer import coefficient_first, split_fraction


class _TextPrinter(SourcePrinter):
    """The source printer (the user's term order, max/min), with each function written
    as the op table's plain text gives it for reading (σ(z), |x|, [z > 0])."""

    # For reading, sums and products are flat: ((a + b) + c) is a + b + c. (Only here:
    # the source printer keeps the nesting, which staging and answer keys rely on.)

    def _print_Add(self, expr, order=None):
        flat = ops.flat_args(expr)
        return super()._print_Add(sp.Add(*flat, evaluate=False) if len(flat) != len(expr.args) else expr, order)

    # A product reads as a teacher writes it: the coefficient first (2*w, 0.2*x, -b/2),
    # never "w*2", "x/5" or "- 1*b/2".

    def _print_Mul(self, expr):
        if not isinstance(expr, sp.Mul):
            return super()._print_Mul(expr)
        flat = coefficient_first(ops.flat_args(expr))
        head = flat[0]
        if len(flat) > 1 and head.is_Number:
            top, bottom = split_fraction(flat[1:])
            if head == -1 and top:
                return f"-{self._factors(top, bottom)}"  # -b/2, never "- 1*b/2"
            if isinstance(head, WrittenNumber) or head.is_Integer and head != -1:
                return self._factors([head, *top], bottom)  # 2*w, 0.2*x, 0.2/x
        top, bottom = split_fraction(flat)
        if any(isinstance(b, WrittenNumber) for b in bottom):
            return self._factors(top, bottom)  # x/0.5, not x/(1/2)
        if flat == list(expr.args):
            return super()._print_Mul(expr)
        return super()._print_Mul(sp.Mul(*flat, evaluate=False))

    def _factors(self, top: list, bottom: list) -> str:
        """top[0]*top[1]*.../(bottom[0]*...), each factor parenthesized as needed."""
        def product(items):
            return "*".join(self._print(f) if f.is_Number and i == 0 else
                            self.parenthesize(f, PRECEDENCE["Mul"]) for i, f in enumerate(items))
        text = product(top) if top else "1"
        if not bottom:
            return text
        under = "*".join(self._print(f) if f.is_Number else self.parenthesize(f, PRECEDENCE["Mul"])
                         for f in bottom)
        return f"{text}/({under})" if len(bottom) > 1 else f"{text}/{under}"


def _text_printer(template: str):
    def _print(self, expr):
        return ops.fill(template, [self._print(a) for a in ops.classify(expr)[1]])
    return _print


for _cls, _name in ops.FUNCTION_CLASSES.items():
    if ops.OPS[_name].notation.text is not None:
        setattr(_TextPrinter, f"_print_{_cls.__name__}", _text_printer(ops.OPS[_name].notation.text))

_PRINTER = _TextPrinter()


def expression(expr) -> str:
    return _PRINTER.doprint(expr)


def partial(top: str, bottom: str) -> str:
    return f"d{top}/d{bottom}"


def _factor(text: str) -> str:
    """A displayed number as a factor: a negative or compound one in parentheses."""
    return f"({text})" if text.startswith("-") or " " in text else text


def _rel(approx: bool) -> str:
    return "≈" if approx else "="


def edge_text(solution: Solution, edge) -> str:
    """An edge's local derivative by its claim key: ``dh3/dh2``, or ``dh3/dw|h2`` where
    the edge is not the only path (the immediate partial, h2 held fixed)."""
    return str(solution.local_key(edge.upper, edge.lower))


def chain_lines(chain: Chain, display: Display, used: list | None = None,
                solution: Solution | None = None) -> list[str]:
    """``dE/dw1 = dE/dy · ... = -0.3844 · ... = -0.0010`` (a sum where paths are many),
    with the numbers of :func:`.lines.chain_numbers`: the same as the worked solution's.
    The displayed computations are appended to ``used`` (for the rounding note)."""
    used = [] if used is None else used
    head = partial(chain.top, chain.bottom)
    if len(chain.paths) == 1 and len(chain.paths[0]) == 1:  # one edge: its local rule
        local = chain.paths[0][0].edge.local
        rule = "" if local.is_Number else f"{expression(local)} = "
        return [f"{head} = {rule}{display.text(chain.value)}"]
    symbolic = " + ".join(" · ".join(edge_text(solution, f.edge) if solution is not None
                                     else partial(f.edge.upper, f.edge.lower) for f in path)
                          for path in chain.paths)
    numbers = chain_numbers(chain, display)
    used += [*numbers.products, *([numbers.total] if numbers.total is not None else [])]
    numeric = " + ".join(" · ".join(_factor(t) for t in line.operands) for line in numbers.products)
    pad = " " * len(head)
    lines = [f"{head} = {symbolic}", f"{pad} = {numeric}"]
    if numbers.total is not None:
        terms = " + ".join(numbers.total.operands).replace("+ -", "- ")
        lines.append(f"{pad} {_rel(any(p.approx for p in numbers.products))} {terms}")
        lines.append(f"{pad} {_rel(numbers.total.approx)} {numbers.result}")
    else:
        lines.append(f"{pad} {_rel(numbers.approx)} {numbers.result}")
    return lines


def _value(value, display: Display) -> str:
    """``= value`` for display; an exact value (``--exact``) also in its exact form, as in
    ``= σ(351/1000) ≈ 0.5869`` when that form is short, else ``≈ 0.5932``."""
    shown = display.text(value)
    if isinstance(value, sp.Float) or (isinstance(value, sp.Rational) and " " not in shown
                                       and sp.Rational(shown) == value):
        return f"= {shown}"
    exact = expression(value)
    if len(exact) > 60:
        return f"≈ {shown}"
    return f"= {exact} ≈ {shown}"


def sweep_lines(solution: Solution, name: str, display: Display,
                used: list | None = None) -> list[str]:
    """One step of the sweep: dE/dname = Σ over uses of dE/duser · duser/dname."""
    out = solution.output
    uses = [e for e in solution.derivation.uses(name)
            if e.upper == out or e.upper in solution.graph.upstream(out)]
    head = partial(out, name)
    symbolic = " + ".join(f"{partial(out, e.upper)} · {edge_text(solution, e)}" for e in uses)
    line = sweep_line(solution, name, uses, display)
    if used is not None:
        used.append(line)
    pairs = zip(line.operands[::2], line.operands[1::2], strict=True)
    numeric = " + ".join(f"{_factor(g)} · {_factor(v)}" for g, v in pairs)
    pad = " " * len(head)
    return [f"{head} = {symbolic}", f"{pad} = {numeric}", f"{pad} {line.relation} {line.result}"]


def render_text(solution: Solution, places: Display | int = DEFAULT_PLACES,
                all_nodes: bool = False, show: list[str] | None = None) -> str:
    """The whole plain-text account: the same document as the worked solution (the
    same gradients, chosen by ``all_nodes`` and ``show``, the same numbers by the one
    display policy), in plain text."""
    if solution.samples:
        return batch_text(solution, places)
    display = Display.of(places)
    problem, graph = solution.problem, solution.graph
    out = solution.output
    title = printable(problem.title or problem.name)  # one line, control characters quoted
    lines = [title, "=" * len(title), ""]
    lines.append("Given")
    for name, leaf in graph.leaves.items():
        lines.append(f"  {name} = {display.given(leaf.value)}   ({leaf.kind})")
    if solution.learning_rate is not None:
        lines.append(f"  learning rate = {display.given(solution.learning_rate)}")

    lines += ["", "Forward pass"]
    for node in graph.nodes:
        lines.append(f"  {node.name} = {expression(node.expr)} "
                     f"{_value(solution.values[node.name], display)}")

    names = targets(solution, all_nodes, show)
    needed = needed_edges(solution, names)
    lines += ["", "Local derivatives (one per edge)"]
    for node in graph.nodes:
        for edge in solution.derivation.inputs_of(node.name):
            if (edge.upper, edge.lower) not in needed:
                continue
            value = solution.evaluation.locals[edge.upper, edge.lower]
            rule = "" if edge.local.is_Number else f"{expression(edge.local)} = "
            lines.append(f"  {edge_text(solution, edge)} = {rule}{display.text(value)}")

    lines += ["", f"Backward pass (gradients of {out}, by the chain rule)"]
    said: set[str] = set()
    used: list = []  # the displayed computations, for the rounding note
    for name in names:
        if solution.derivation.count_paths(out, name) <= MAX_PATHS_SHOWN:
            chain, vanished = vanishing(solution, solution.chain(name))
            block = chain_lines(chain, display, used, solution)
            fresh = [v for v in vanished if v not in said]
            if fresh:  # said once, for this chain and every later one
                said.update(fresh)
                block.insert(0, f"(the terms with {', '.join(v + ' = 0' for v in fresh)} "
                                "vanish: their paths are left out here and below)")
        else:
            block = sweep_lines(solution, name, display, used)
        lines += ["  " + line for line in block]

    if solution.updated and solution.problem.optimizer is not None:
        lines += ["", *optimizer_lines(solution, display)]
    elif solution.updated:
        rate = display.given(solution.learning_rate)
        lines += ["", f"Update (w_new = w - {rate} · d{out}/dw)"]
        for p in [p for p in graph.parameters if show is None or p in show]:
            line = update_line(solution, p, display)
            used.append(line)
            old, rate_shown, grad = line.operands
            lines.append(f"  {p}_new = {old} - {rate_shown} · {_factor(grad)} "
                         f"{line.relation} {line.result}")
        before, after = solution.values[out], solution.values_after[out]
        shown = display.change(before, after)
        trend = "went down" if to_decimal(after) < to_decimal(before) else "did not go down"
        lines += ["", "Second forward pass",
                  f"  {out} before = {display.text(before, shown)}",
                  f"  {out} after  = {display.text(after, shown)}   ({out} {trend})"]

    if solution.sample_note:
        lines += ["", f"Note: {solution.sample_note}"]
    if solution.warnings:
        lines += ["", "Warnings"] + [f"  {w}" for w in solution.warnings]
    lines += ["", display.note(Used.of_lines(
        used, widened=display.widened_to() if widened(solution, display) else 0))]
    return "\n".join(lines) + "\n"


def optimizer_lines(solution: Solution, display: Display | int) -> list[str]:
    """The optimizer's first step, each parameter's intermediates, and the later steps:
    the numbers of :func:`.optimizer.step_numbers`, which the HTML handout prints too."""
    n = step_numbers(solution, Display.of(display))
    settings = ", ".join(f"{k} = {v}" for k, v in n.settings)
    lines = [f"Update ({n.name}, {settings}; {n.convention})"]
    for p, terms, new in n.first:
        lines.append(f"  {p}: " + ", ".join(f"{k} = {v}" for k, v in terms) + f", {p}_new = {new}")
    lines += ["", "After each step", "  " + "  ".join(
        [f"{n.header[0]:>3}"] + [f"{h:>12}" for h in n.header[1:]])]
    for row in n.rows:
        lines.append("  " + "  ".join([f"{row[0]:>3}"] + [f"{c:>12}" for c in row[1:]]))
    return lines


def batch_text(solution: Solution, places: Display | int) -> str:
    """A mini-batch: sample 1 in full, every sample's loss and gradients, their means,
    then the update with the means (digits as in the worked solution's table)."""
    display = Display.of(places)
    out, params = solution.output, solution.graph.parameters
    first = render_text(solution.sample_solution(0), display).rstrip("\n").split("\n")
    count = len(solution.samples)

    def shown(value) -> str:
        return display.text(value, display.decimals(value))

    lines = first[:-1] + [
        f"Mini-batch: the loss {out} is the mean over {count} samples (sample 1 is worked"
        " out above); each sample's loss and gradients:",
        "  " + "  ".join(f"{h:>12}" for h in ["sample", out] + [f"d{out}/d{p}" for p in params])]
    for i, ev in enumerate(solution.samples, 1):
        lines.append("  " + "  ".join(f"{c:>12}" for c in [str(i), shown(ev.values[out])]
                                      + [shown(ev.adjoints[p]) for p in params]))
    lines.append("  " + "  ".join(f"{c:>12}" for c in ["mean", shown(solution.values[out])]
                                  + [shown(solution.gradients[p]) for p in params]))
    if solution.updated:
        lines += ["", *optimizer_lines(solution, display)]
    return "\n".join(lines + ["", first[-1]]) + "\n"
