"""The worked solution as one HTML page (``--format html``): the graph to point at.

The page shows the forward pass (each equation with its value), the local derivatives,
the backward pass (each gradient as upstream × local summed over the uses of a value,
the lectures' "gradients add at branches"), and the update; above them the computational
graph as SVG. Pointing at a node, clicking it or reaching it by keyboard shows its
value, its gradient and the chain-rule product it came from.

Every number is the document's display policy's (:class:`~symbackprop.display.Display`,
as in the text and the LaTeX/Markdown worked solution): a value shows the same digits
here as there, and each gradient's and update's numbers are the policy's line
(:func:`.lines.sweep_line`, :func:`.lines.update_line`), whose factors give the result
shown within one unit of its last digit (else the line is written with ≈).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..display import Display, Line
from .lines import sweep_line, update_line
from .mathml import expr_mathml, math, name_mathml, number_mathml, partial_mathml
from .optimizer import step_numbers
from .practice import lecture_sweep
from .svg import graph_svg
from .web import render_page, script

EQ = "<mo>=</mo>"


@dataclass
class Row:
    """One line of the page: a MathML equation chain, and the name it is about."""

    name: str
    math: Markup


def factor(text: str) -> str:
    """A displayed number as a factor of a product: negative ones in parentheses."""
    mn = number_mathml(text)
    return f"<mrow><mo>(</mo>{mn}<mo>)</mo></mrow>" if text.startswith("-") else mn


def _join(parts: list[str], op: str) -> str:
    return f"<mo>{op}</mo>".join(parts)


def _relation(line: Line) -> str:
    return "<mo>≈</mo>" if line.approx else EQ


def gradient_chain(solution, name: str, edges, display: Display) -> list[str]:
    """The sides of ∂out/∂name = Σ ∂out/∂u ∂u/∂name = Σ (upstream)(local) = value,
    each a MathML fragment (a result side after ≈ starts with ``<mo>≈</mo>``)."""
    out = solution.output
    head = partial_mathml(out, name)
    if name == out:
        return [head, "<mn>1</mn>"]
    line = sweep_line(solution, name, edges, display)
    symbolic = _join([partial_mathml(out, e.upper) + "<mo>&#x2062;</mo>"
                      + partial_mathml(e.upper, e.lower) for e in edges], "+")
    pairs = zip(line.operands[::2], line.operands[1::2], strict=True)
    numeric = _join([factor(g) + "<mo>&#x22C5;</mo>" + factor(v) for g, v in pairs], "+")
    result = number_mathml(line.result)
    return [head, symbolic, numeric, f"<mo>≈</mo>{result}" if line.approx else result]


def _chain_math(sides: list[str]) -> str:
    """Sides joined by = (or by the ≈ a side starts with)."""
    out = sides[0]
    for side in sides[1:]:
        out += side if side.startswith("<mo>≈</mo>") else EQ + side
    return out


def handout_context(solution, places: Display | int) -> dict:
    """Everything the handout template shows, as MathML strings and numbers, by the one
    display policy (``places``: a :class:`Display`, or its places)."""
    display = Display.of(places)
    notes = list(solution.warnings)
    full = solution
    if solution.samples:  # as the worked solution does: sample 1 in full (no product of means)
        notes.append(f"The loss is the mean over {len(solution.samples)} samples; this page "
                     "works out sample 1 (the worked solution, --format md or pdf, lists "
                     "every sample and the means).")
        solution = solution.sample_solution(0)
    graph = solution.graph
    derivation = solution.derivation
    out = solution.output
    forward = []
    for node in graph.nodes:
        value = number_mathml(display.text(solution.values[node.name]))
        forward.append(Row(node.name, Markup(math(
            f"<mrow>{name_mathml(node.name)}{EQ}{expr_mathml(node.expr)}{EQ}{value}</mrow>"))))
    sweep = [(out, [])] + lecture_sweep(derivation, out)
    locals_, backward, chains = [], [], {}
    for name, edges in sweep:
        for e in edges:
            value = number_mathml(display.text(solution.evaluation.locals[e.upper, e.lower]))
            locals_.append(Row(name, Markup(math(
                f"<mrow>{partial_mathml(e.upper, e.lower)}{EQ}{expr_mathml(e.local)}"
                f"{EQ}{value}</mrow>"))))
        chains[name] = gradient_chain(solution, name, edges, display)
        if graph.is_node(name) or graph.leaves[name].kind == "parameter":
            backward.append(Row(name, Markup(math(f"<mrow>{_chain_math(chains[name])}</mrow>"))))
    # An optimizer's step is its own rule (not w - η g): its numbers as the text and the
    # worked solution show them, each parameter's intermediates and the later steps.
    # (A mini-batch's step, by the mean gradient, is written the same way.)
    optimizer = (step_numbers(full, display)
                 if (full.problem.optimizer is not None or full.samples) and full.steps else None)
    after = (display.text(full.values_after[out],
                          display.change(full.values[out], full.values_after[out]))
             if full.values_after else None)
    update = []
    if solution.updated and optimizer is None:
        for p in graph.parameters:
            line = update_line(solution, p, display)
            old, rate, grad = line.operands
            new = f"<msup>{name_mathml(p)}<mi mathvariant=\"normal\">new</mi></msup>"
            step = (f"{name_mathml(p)}<mo>-</mo><mi>η</mi><mo>&#x2062;</mo>"
                    f"{partial_mathml(out, p)}")
            numbers = (f"{factor(old)}<mo>-</mo>{number_mathml(rate)}<mo>&#x22C5;</mo>"
                       f"{factor(grad)}")
            update.append(Row(p, Markup(math(
                f"<mrow>{new}{EQ}{step}{EQ}{numbers}{_relation(line)}"
                f"{number_mathml(line.result)}</mrow>"))))
    details = []
    for name in graph.names:
        chain = chains.get(name)
        details.append({
            "name": name,
            "title": Markup(math(name_mathml(name))),
            "equation": (Markup(math(f"<mrow>{name_mathml(name)}{EQ}"
                                     f"{expr_mathml(graph.node(name).expr)}</mrow>"))
                         if graph.is_node(name) else None),
            "value": (display.given(solution.values[name]) if graph.is_leaf(name)
                      else display.text(solution.values[name])),
            "gradient": display.text(solution.gradients[name]),
            # one line per side, so that a narrow panel (a phone) need not scroll
            "chain": ([Markup(math(f"<mrow>{chain[0]}{EQ}{chain[1]}</mrow>"))]
                      + [Markup(math(f"<mrow>{side if side.startswith('<mo>≈</mo>') else EQ + side}"
                                     "</mrow>")) for side in chain[2:]]
                      if chain else []),
        })
    return {
        "title": solution.problem.title or solution.problem.name,
        "problem": solution.problem.name,
        "output": Markup(math(name_mathml(out))),
        "output_after": after,
        "svg": graph_svg(solution, display),
        "forward": forward,
        "locals": locals_,
        "backward": backward,
        "update": update,
        "optimizer": optimizer,
        "details": details,
        "rate": (display.given(solution.learning_rate)
                 if solution.learning_rate is not None else None),
        "warnings": notes,
        "script": script("handout.js"),
    }


def render_html(solution, places: Display | int) -> str:
    """The worked solution as one self-contained HTML page (docs/browser.md)."""
    return render_page("html/solution.html.j2", **handout_context(solution, places))
