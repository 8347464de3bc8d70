"""The worked solution as one HTML page (``--format html``): the graph to point at.

The page shows the forward pass (each equation with its value), the local derivatives,
the backward pass (each gradient as upstream × local summed over the uses of a value,
the lectures' "gradients add at branches"), and the update; above them the computational
graph as SVG. Pointing at a node, clicking it or reaching it by keyboard shows its
value, its gradient and the chain-rule product it came from.

In a product the factors are shown with two decimals more than the result, so that the
displayed result follows from the displayed factors to within a unit of its last digit.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..numbers import format_number
from .mathml import expr_mathml, math, name_mathml, number_mathml, partial_mathml
from .practice import lecture_sweep
from .svg import graph_svg
from .web import render_page, script

EQ = "<mo>=</mo>"


@dataclass
class Row:
    """One line of the page: a MathML equation chain, and the name it is about."""

    name: str
    math: Markup


def factor(value, places: int) -> str:
    """A number as a factor of a displayed product: negative ones in parentheses."""
    text = format_number(value, places)
    mn = number_mathml(text)
    return f"<mrow><mo>(</mo>{mn}<mo>)</mo></mrow>" if text.startswith("-") else mn


def _join(parts: list[str], op: str) -> str:
    return f"<mo>{op}</mo>".join(parts)


def gradient_chain(solution, name: str, edges, places: int) -> list[str]:
    """The sides of ∂out/∂name = Σ ∂out/∂u ∂u/∂name = Σ (upstream)(local) = value,
    each a MathML fragment."""
    out = solution.output
    head = partial_mathml(out, name)
    result = number_mathml(format_number(solution.gradients[name], places))
    if name == out:
        return [head, "<mn>1</mn>"]
    locals_ = solution.evaluation.locals
    symbolic = _join([partial_mathml(out, e.upper) + "<mo>&#x2062;</mo>"
                      + partial_mathml(e.upper, e.lower) for e in edges], "+")
    wide = places + 2
    numeric = _join([factor(solution.gradients[e.upper], wide) + "<mo>&#x22C5;</mo>"
                     + factor(locals_[e.upper, e.lower], wide) for e in edges], "+")
    return [head, symbolic, numeric, result]


def handout_context(solution, places: int) -> dict:
    """Everything the handout template shows, as MathML strings and numbers."""
    graph = solution.graph
    derivation = solution.derivation
    out = solution.output
    forward = []
    for node in graph.nodes:
        value = number_mathml(format_number(solution.values[node.name], places))
        forward.append(Row(node.name, Markup(math(
            f"<mrow>{name_mathml(node.name)}{EQ}{expr_mathml(node.expr)}{EQ}{value}</mrow>"))))
    sweep = [(out, [])] + lecture_sweep(derivation, out)
    locals_, backward, chains = [], [], {}
    for name, edges in sweep:
        for e in edges:
            value = number_mathml(format_number(solution.evaluation.locals[e.upper, e.lower],
                                                places))
            locals_.append(Row(name, Markup(math(
                f"<mrow>{partial_mathml(e.upper, e.lower)}{EQ}{expr_mathml(e.local)}"
                f"{EQ}{value}</mrow>"))))
        chains[name] = gradient_chain(solution, name, edges, places)
        if graph.is_node(name) or graph.leaves[name].kind == "parameter":
            backward.append(Row(name, Markup(math(f"<mrow>{EQ.join(chains[name])}</mrow>"))))
    update = []
    if solution.updated:
        eta = number_mathml(format_number(solution.learning_rate, places))
        for p in graph.parameters:
            new = f"<msup>{name_mathml(p)}<mi mathvariant=\"normal\">new</mi></msup>"
            step = (f"{name_mathml(p)}<mo>-</mo><mi>η</mi><mo>&#x2062;</mo>"
                    f"{partial_mathml(out, p)}")
            numbers = (f"{factor(solution.values[p], places + 2)}<mo>-</mo>{eta}<mo>&#x22C5;</mo>"
                       f"{factor(solution.gradients[p], places + 2)}")
            value = number_mathml(format_number(solution.updated[p], places))
            update.append(Row(p, Markup(math(
                f"<mrow>{new}{EQ}{step}{EQ}{numbers}{EQ}{value}</mrow>"))))
    details = []
    for name in graph.names:
        chain = chains.get(name)
        details.append({
            "name": name,
            "title": Markup(math(name_mathml(name))),
            "equation": (Markup(math(f"<mrow>{name_mathml(name)}{EQ}"
                                     f"{expr_mathml(graph.node(name).expr)}</mrow>"))
                         if graph.is_node(name) else None),
            "value": format_number(solution.values[name], places),
            "gradient": format_number(solution.gradients[name], places),
            # one line per side, so that a narrow panel (a phone) need not scroll
            "chain": ([Markup(math(f"<mrow>{chain[0]}{EQ}{chain[1]}</mrow>"))]
                      + [Markup(math(f"<mrow>{EQ}{side}</mrow>")) for side in chain[2:]]
                      if chain else []),
        })
    after = (format_number(solution.values_after[out], places)
             if solution.values_after else None)
    return {
        "title": solution.problem.title or solution.problem.name,
        "problem": solution.problem.name,
        "output": Markup(math(name_mathml(out))),
        "output_after": after,
        "svg": graph_svg(solution, places),
        "forward": forward,
        "locals": locals_,
        "backward": backward,
        "update": update,
        "details": details,
        "rate": format_number(solution.learning_rate) if solution.learning_rate is not None else None,
        "warnings": solution.warnings,
        "script": script("handout.js"),
    }


def render_html(solution, places: int) -> str:
    """The worked solution as one self-contained HTML page (docs/browser.md)."""
    return render_page("html/solution.html.j2", **handout_context(solution, places))
