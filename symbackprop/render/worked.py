"""The whole worked solution as data: the scalar sections of :mod:`.document` or, for a
network-form problem, the matrix sections of :mod:`.matrices`, in one :class:`Document`.

It sits above both so that neither imports the other's caller.
"""

from __future__ import annotations

from ..solution import Solution
from .document import (
    LEAF_PLACES,
    MORE_PLACES,
    Block,
    Document,
    Numbers,
    backward_blocks,
    figure_of,
    forward_equation,
    gate_notes,
    matrix_form,
    number,
    second_pass_rows,
    targets,
    trend,
    update_equation,
    widened,
)
from .equations import Equation
from .matrices import network_sections
from .printer import latex, latex_name


def worked_solution(solution: Solution, places: int = 4, all_nodes: bool = False) -> Document:
    """The whole worked solution of ``solution`` as a :class:`Document`."""
    problem, graph = solution.problem, solution.graph
    numbers = Numbers(solution, places)
    doc = Document(
        title=problem.title or problem.name, name=problem.name,
        network=matrix_form(solution), places=places,
        output=latex_name(solution.output), problem=[], inputs=[], parameters=[],
        learning_rate=(number(solution.learning_rate, LEAF_PLACES)
                       if solution.learning_rate is not None else None),
        data_note="", figure=None, forward=[], backward=[],
        notes=gate_notes(solution), update=[], after=[], trend=None,
        warnings=list(solution.warnings), omitted=[],
    )
    picture = figure_of(solution, places)
    if picture is not None:
        doc.figure_kind, doc.figure = picture
    if problem.data is not None and "inputs" not in problem.raw:
        count = len(next(iter(problem.data.values())))
        doc.data_note = (f"The problem carries {count} training samples; this solution works "
                         "on the first of them.")
    if doc.network:
        network_sections(doc, solution, places, all_nodes, numbers)
    else:
        doc.problem = [Block(rows=[r for node in graph.nodes for r in
                                   Equation(latex_name(node.name), [latex(node.expr)]).rows()])]
        doc.inputs = [f"{latex_name(n)} = {numbers[n]}" for n in graph.inputs]
        doc.parameters = [f"{latex_name(n)} = {numbers[n]}" for n in graph.parameters]
        doc.forward = [Block(rows=[r for node in graph.nodes
                                   for r in forward_equation(node, numbers).rows()])]
        doc.backward = backward_blocks(solution, targets(solution, all_nodes), places, numbers)
        if solution.updated:
            doc.update = [Block(rows=[r for p in graph.parameters
                                      for r in update_equation(solution, p, places).rows()])]
    if solution.updated:
        doc.trend = trend(solution, places)
        if not doc.network:
            doc.after = [Block(rows=second_pass_rows(solution, places))]
        doc.widened = places + MORE_PLACES if widened(solution, places) else 0
    return doc
