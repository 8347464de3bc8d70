"""The whole worked solution as data: the scalar sections of :mod:`.document` or, for a
network-form problem, the matrix sections of :mod:`.matrices`, in one :class:`Document`.

It sits above both so that neither imports the other's caller.
"""

from __future__ import annotations

from ..display import Display
from ..solution import Solution
from .document import (
    Block,
    Document,
    Numbers,
    backward_blocks,
    figure_of,
    forward_equation,
    gate_notes,
    matrix_form,
    second_pass_rows,
    trend,
    update_equation,
    widened,
)
from .equations import Equation
from .lines import targets
from .matrices import network_sections
from .printer import latex, latex_name


def worked_solution(solution: Solution, places: int = 4, all_nodes: bool = False,
                    display: Display | None = None, show: list[str] | None = None) -> Document:
    """The whole worked solution of ``solution`` as a :class:`Document`, its numbers by
    one display policy (``display``, or the default one at ``places`` decimals), its
    backward pass for the gradients ``show`` names (scalar names; default: every
    parameter, and every node too with ``all_nodes``)."""
    problem, graph = solution.problem, solution.graph
    display = display or Display(places)
    places = display.places
    numbers = Numbers(solution, display)
    doc = Document(
        title=problem.title or problem.name, name=problem.name,
        network=matrix_form(solution), places=places,
        output=latex_name(solution.output), problem=[], inputs=[], parameters=[],
        learning_rate=(display.tex(solution.learning_rate, display.leaf_places)
                       if solution.learning_rate is not None else None),
        data_note="", figure=None, forward=[], backward=[],
        notes=gate_notes(solution), update=[], after=[], trend=None,
        warnings=list(solution.warnings), omitted=[],
    )
    picture = figure_of(solution, display)
    if picture is not None:
        doc.figure_kind, doc.figure = picture
    if problem.data is not None and "inputs" not in problem.raw:
        count = len(next(iter(problem.data.values())))
        doc.data_note = (f"The problem carries {count} training samples; this solution works "
                         "on the first of them.")
    if doc.network:
        network_sections(doc, solution, display, targets(solution, all_nodes, show), numbers,
                         show=show is not None)
    else:
        doc.problem = [Block(rows=[r for node in graph.nodes for r in
                                   Equation(latex_name(node.name), [latex(node.expr)]).rows()])]
        doc.inputs = [f"{latex_name(n)} = {numbers[n]}" for n in graph.inputs]
        doc.parameters = [f"{latex_name(n)} = {numbers[n]}" for n in graph.parameters]
        doc.forward = [Block(rows=[r for node in graph.nodes
                                   for r in forward_equation(node, numbers).rows()])]
        doc.backward = backward_blocks(solution, targets(solution, all_nodes, show), display, numbers)
        if solution.updated:
            updated = [p for p in graph.parameters if show is None or p in show]
            doc.update = [Block(rows=[r for p in updated
                                      for r in update_equation(solution, p, display).rows()])]
    if solution.updated:
        doc.trend = trend(solution, display)
        if not doc.network:
            doc.after = [Block(rows=second_pass_rows(solution, display))]
        doc.widened = places + display.more_places if widened(solution, display) else 0
    doc.rounding_note = display.note()
    return doc
