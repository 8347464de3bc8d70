"""The whole worked solution as data: the scalar sections of :mod:`.document` or, for a
network-form problem, the matrix sections of :mod:`.matrices`, in one :class:`Document`.

It sits above both so that neither imports the other's caller.
"""

from __future__ import annotations

import weakref

from ..display import Display
from ..solution import Solution
from .batch import after_equation, batch_blocks, batch_note
from .document import (
    Block,
    Document,
    Numbers,
    backward_blocks,
    document_claims,
    figure_of,
    forward_equation,
    gate_notes,
    math_block,
    matrix_form,
    rounding_note,
    second_pass_equations,
    trend,
    update_equation,
    widened,
)
from .equations import Equation
from .layerwise import layer_sections, layered_form
from .lines import targets
from .matrices import network_sections
from .optimizer import optimizer_intro, steps_table, update_blocks
from .printer import latex, latex_name
from .shared import shared_uses, with_shared_weights


def worked_solution(solution: Solution, places: int = 4, all_nodes: bool = False,
                    display: Display | None = None, show: list[str] | None = None) -> Document:
    """The whole worked solution of ``solution`` as a :class:`Document` (see
    :func:`build`), each quantity with one precision on the whole page: where two
    sections would show one quantity (one claim key) with different digits, the
    document is built again with that quantity at the most decimals either showed
    (:meth:`Display.with_keyed`), until every key shows one number."""
    display = display or Display(places)
    cache = _BUILT.setdefault(solution, {})
    key = (display, all_nodes, tuple(show) if show is not None else None)
    if key not in cache:
        cache[key] = _settled(solution, all_nodes, display, show)
    return cache[key]


#: The documents built of each solution (by policy and choice of gradients), so that the
#: pages of one solution (text, Markdown, LaTeX, HTML, practice) print one document built
#: once; a solution's entry goes with it. The document is read, never changed, by them.
_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _settled(solution: Solution, all_nodes: bool, display: Display,
             show: list[str] | None) -> Document:
    """The document built until every quantity shows one number of digits."""
    for _ in range(4):
        doc = build(solution, all_nodes, display, show)
        uneven = uneven_keys(doc)
        if not uneven:
            break
        display = display.with_keyed(uneven)
    doc.display = display
    return doc


def page_display(solution: Solution, places: Display | int) -> Display:
    """The display policy of ``solution``'s worked solution, with the digits it gives
    each quantity it shows (for a page that shows the same quantities)."""
    return worked_solution(solution, display=Display.of(places)).display


def uneven_keys(doc: Document) -> dict[str, int]:
    """The claim keys the document shows with different digits in different places,
    each with the most decimals it is shown with."""
    shown: dict[str, set[str]] = {}
    for key, text in document_claims(doc):
        shown.setdefault(key, set()).add(text)
    return {key: max(decimals(t) for t in texts)
            for key, texts in shown.items() if len(texts) > 1}


def decimals(text: str) -> int:
    """The decimals a displayed number shows: 4 for -0.0609, 8 for 0.00001484; for
    one with a power of ten, the decimals of its value (3.709e-6: 9)."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        return max(0, decimals(mantissa) - int(exponent))
    return len(text.split(".")[1]) if "." in text else 0


def build(solution: Solution, all_nodes: bool, display: Display,
          show: list[str] | None) -> Document:
    """The whole worked solution of ``solution`` as a :class:`Document`, its numbers by
    one display policy (``display``, or the default one at ``places`` decimals), its
    backward pass for the gradients ``show`` names (scalar names; default: every
    parameter, and every node too with ``all_nodes``).

    A mini-batch is written out for its first sample, then the samples' table and means
    (:mod:`.batch`); an update by an [optimizer], or over a mini-batch, line by line of
    the rule (:mod:`.optimizer`); a shared weight as the sum over its uses (:mod:`.shared`).
    """
    problem = solution.problem
    shown = solution.sample_solution(0) if solution.samples else solution
    graph = shown.graph
    places = display.places
    # The passes of a mini-batch are sample 1's, written with the problem's own names.
    passes = display.of_sample(1) if solution.samples else display
    numbers = Numbers(shown, passes)
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
    picture = figure_of(shown, passes)
    if picture is not None:
        doc.figure_kind, doc.figure = picture
    if solution.samples:
        doc.data_note = batch_note(solution)
        doc.batch = batch_blocks(solution, display)
    elif problem.data is not None and "inputs" not in problem.raw:
        count = len(next(iter(problem.data.values())))
        doc.data_note = (f"The problem carries {count} training samples; this solution works "
                         "on the first of them.")
    doc.layered = layered_form(solution, all_nodes, show) and not solution.samples
    if doc.layered:
        layer_sections(doc, shown, passes, numbers)
    elif doc.network:
        network_sections(doc, shown, passes, targets(shown, all_nodes, show), numbers,
                         show=show is not None)
    else:
        doc.problem = [Block(rows=[r for node in graph.nodes for r in
                                   Equation(latex_name(node.name), [latex(node.expr)]).rows()])]
        doc.inputs = [f"{latex_name(n)} = {numbers[n]}" for n in graph.inputs]
        doc.parameters = [f"{latex_name(n)} = {numbers[n]}" for n in graph.parameters]
        doc.forward = [math_block([forward_equation(node, numbers) for node in graph.nodes])]
        names = targets(shown, all_nodes, show)
        shared = {n for n in names if shared_uses(shown, n)}
        doc.backward = with_shared_weights(
            shown, backward_blocks(shown, names, passes, numbers, shared), names, passes)
        if solution.updated:
            updated = [p for p in graph.parameters if show is None or p in show]
            doc.update = [math_block([update_equation(solution, p, display) for p in updated])]
    if (problem.optimizer is not None or solution.samples) and solution.steps:
        doc.optimizer = optimizer_intro(solution, display)
        doc.update = update_blocks(solution, display)
        doc.steps = steps_table(solution, display)
    if solution.updated:
        doc.trend = trend(solution, display)
        if solution.samples:
            doc.after = [math_block([after_equation(solution, display)], text=(
                "The loss of each sample at the updated parameters, and their mean:"))]
        elif not doc.network and not doc.layered:
            doc.after = [math_block(second_pass_equations(solution, display))]
        doc.widened = display.widened_to() if widened(solution, display) else 0
    if solution.samples:  # the passes written out are sample 1's: its keys say so
        for block in doc.forward + doc.backward:
            block.claims = [(f"{key}@s1", text) for key, text in block.claims]
    doc.rounding_note = rounding_note(doc, solution, display)
    return doc
