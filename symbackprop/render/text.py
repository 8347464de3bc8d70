"""The plain-text account of a solution: what ``symbackprop solve`` prints by default.

Forward values, every local derivative, each gradient as its chain-rule product
(dE/dw5 = dE/dy · dy/dz_c · dz_c/dw5 = −0.3844 · 0.2366 · 0.5869 = −0.0534), the update
and the loss before and after. Numbers are rounded only here, for display.
"""

from __future__ import annotations

import sympy as sp

from .. import ops
from ..numbers import DEFAULT_PLACES, format_number, to_decimal
from ..parse import SourcePrinter
from ..solution import Chain, Solution

#: Above this many paths a gradient is shown as one step of the sweep instead.
MAX_PATHS_SHOWN = 4


class _TextPrinter(SourcePrinter):
    """The source printer (the user's term order, max/min), with σ and |x| for reading."""

    def _print_sigmoid(self, expr):
        return f"σ({self._print(expr.args[0])})"

    def _print_step(self, expr):
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    # For reading, sums and products are flat: ((a + b) + c) is a + b + c. (Only here:
    # the source printer keeps the nesting, which staging and answer keys rely on.)

    def _print_Add(self, expr, order=None):
        flat = ops.flat_args(expr)
        return super()._print_Add(sp.Add(*flat, evaluate=False) if len(flat) != len(expr.args) else expr, order)

    def _print_Mul(self, expr):
        flat = ops.flat_args(expr)
        return super()._print_Mul(sp.Mul(*flat, evaluate=False) if len(flat) != len(expr.args) else expr)


_PRINTER = _TextPrinter()


def expression(expr) -> str:
    return _PRINTER.doprint(expr)


def partial(top: str, bottom: str) -> str:
    return f"d{top}/d{bottom}"


def _number(value, places):
    text = format_number(value, places)
    return f"({text})" if text.startswith("-") else text


def chain_lines(chain: Chain, places: int) -> list[str]:
    """``dE/dw1 = dE/dy · ... = -0.3844 · ... = -0.0010`` (a sum where paths are many)."""
    head = partial(chain.top, chain.bottom)
    symbolic = " + ".join(" · ".join(partial(f.edge.upper, f.edge.lower) for f in path)
                          for path in chain.paths)
    numeric = " + ".join(" · ".join(_number(f.value, places) for f in path)
                         for path in chain.paths)
    pad = " " * len(head)
    if len(chain.paths) == 1 and len(chain.paths[0]) == 1:  # one edge: its local rule
        local = chain.paths[0][0].edge.local
        rule = "" if local.is_Number else f"{expression(local)} = "
        return [f"{head} = {rule}{format_number(chain.value, places)}"]
    return [f"{head} = {symbolic}", f"{pad} = {numeric}",
            f"{pad} = {format_number(chain.value, places)}"]


def _value(value, places: int) -> str:
    """``= value`` for display; an exact value (``--exact``) also in its exact form, as in
    ``= σ(351/1000) ≈ 0.5869`` when that form is short, else ``≈ 0.5932``."""
    shown = format_number(value, places)
    if isinstance(value, sp.Float) or (isinstance(value, sp.Rational) and sp.Rational(shown) == value):
        return f"= {shown}"
    exact = expression(value)
    if len(exact) > 60:
        return f"≈ {shown}"
    return f"= {exact} ≈ {shown}"


def sweep_lines(solution: Solution, name: str, places: int) -> list[str]:
    """One step of the sweep: dE/dname = Σ over uses of dE/duser · duser/dname."""
    out = solution.output
    uses = [e for e in solution.derivation.uses(name)
            if e.upper == out or e.upper in solution.graph.upstream(out)]
    head = partial(out, name)
    symbolic = " + ".join(f"{partial(out, e.upper)} · {partial(e.upper, name)}" for e in uses)
    numeric = " + ".join(
        f"{_number(solution.gradients[e.upper], places)} · "
        f"{_number(solution.evaluation.locals[e.upper, name], places)}" for e in uses)
    pad = " " * len(head)
    return [f"{head} = {symbolic}", f"{pad} = {numeric}",
            f"{pad} = {format_number(solution.gradients[name], places)}"]


def render_text(solution: Solution, places: int = DEFAULT_PLACES) -> str:
    """The whole plain-text account."""
    problem, graph = solution.problem, solution.graph
    out = solution.output
    lines = [problem.title or problem.name, "=" * len(problem.title or problem.name), ""]
    lines.append("Given")
    for name, leaf in graph.leaves.items():
        lines.append(f"  {name} = {format_number(leaf.value, 12)}   ({leaf.kind})")
    if solution.learning_rate is not None:
        lines.append(f"  learning rate = {format_number(solution.learning_rate, 12)}")

    lines += ["", "Forward pass"]
    for node in graph.nodes:
        lines.append(f"  {node.name} = {expression(node.expr)} "
                     f"{_value(solution.values[node.name], places)}")

    lines += ["", "Local derivatives (one per edge)"]
    upstream = graph.upstream(out) | {out}
    for node in graph.nodes:
        if node.name not in upstream:
            continue
        for edge in solution.derivation.inputs_of(node.name):
            value = solution.evaluation.locals[edge.upper, edge.lower]
            rule = "" if edge.local.is_Number else f"{expression(edge.local)} = "
            lines.append(f"  {partial(edge.upper, edge.lower)} = {rule}{format_number(value, places)}")

    lines += ["", f"Backward pass (gradients of {out}, by the chain rule)"]
    targets = graph.parameters or [n for n in graph.leaves if n in upstream]
    for name in targets:
        if name not in upstream:
            continue
        if solution.derivation.count_paths(out, name) <= MAX_PATHS_SHOWN:
            block = chain_lines(solution.chain(name), places)
        else:
            block = sweep_lines(solution, name, places)
        lines += ["  " + line for line in block]

    if solution.updated:
        rate = format_number(solution.learning_rate, 12)
        lines += ["", f"Update (w_new = w - {rate} · d{out}/dw)"]
        for p in graph.parameters:
            lines.append(
                f"  {p}_new = {format_number(graph.leaves[p].value, 12)} - {rate} · "
                f"{_number(solution.gradients[p], places)} = {format_number(solution.updated[p], places)}")
        before, after = solution.values[out], solution.values_after[out]
        trend = "went down" if to_decimal(after) < to_decimal(before) else "did not go down"
        lines += ["", "Second forward pass",
                  f"  {out} before = {format_number(before, places)}",
                  f"  {out} after  = {format_number(after, places)}   ({out} {trend})"]

    if solution.warnings:
        lines += ["", "Warnings"] + [f"  {w}" for w in solution.warnings]
    lines += ["", f"Numbers are rounded to {places} decimals for display; every product is "
                  "computed from full-precision values."]
    return "\n".join(lines) + "\n"
