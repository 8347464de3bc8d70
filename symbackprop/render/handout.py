"""The worked solution as one HTML page (``--format html``): the graph to point at.

The page is a printer of the one worked solution (:func:`.worked.worked_solution`, the
document the text, Markdown and LaTeX formats print): the same sections, equations and
numbers, each equation's LaTeX set as MathML by :class:`.texmath.MathML` (browsers lay
MathML out natively; the page needs no network). Above them the computational graph as
SVG: pointing at a node, clicking it or reaching it by keyboard shows its value, its
gradient and, where the document works it out, the chain-rule equation it came from
(the document's own equation, keyed by its claim key).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from markupsafe import Markup

from ..display import Display
from .document import Block, Document, document_claims
from .equations import APPROX, Equation, unique_sides
from .layerwise.windows import svg_figure
from .mathml import expr_mathml, math, name_mathml
from .svg import graph_svg
from .texmath import MathML, Plain, names_of
from .web import render_page, script
from .worked import worked_solution

EQ = "<mo>=</mo>"


@dataclass
class Row:
    """One equation of the page: its MathML, and the claim key of the quantity it shows."""

    key: str
    math: Markup


def equation_tex(eq: Equation) -> str:
    """An equation on one line: ``lhs = a = b \\approx c``."""
    tex = eq.lhs
    for side in unique_sides(eq.sides):
        tex += r" \approx " + side[len(APPROX):] if side.startswith(APPROX) else " = " + side
    return tex


class _Page:
    """The document's pieces as the page shows them."""

    def __init__(self, doc: Document, sample: bool):
        self.doc = doc
        self.mathml = MathML()
        self.sample = sample

    def inline(self, tex: str) -> Markup:
        return Markup(math(self.mathml(tex))) if tex else Markup("")

    def key(self, eq: Equation, section: str) -> str:
        key = eq.key or ""
        return f"{key}@s1" if key and self.sample and section in ("forward", "backward") else key

    def block(self, block: Block, section: str) -> dict:
        """A block as the template shows it: its sentence, inline math, rows, table."""
        rows = ([Row(self.key(eq, section), self.inline(equation_tex(eq)))
                 for eq in block.equations]
                if block.equations else [Row("", self.inline(_unaligned(r)))
                                         for r in block.rows])
        return {"kind": block.kind, "text": block.text, "math": self.inline(block.math),
                "rows": rows, "header": [self.inline(h) for h in block.header],
                "cells": [[self.inline(c) for c in row] for row in block.cells],
                "figure": svg_figure(block.figure) if block.figure is not None else None}

    def blocks(self, blocks: list[Block], section: str) -> list[dict]:
        return [self.block(b, section) for b in blocks]


def _unaligned(row: str) -> str:
    """A row of an alignment without its alignment marks: each ``&`` outside an
    environment, so that a matrix keeps the ``&`` between its columns."""
    out, depth = [], 0
    for i, ch in enumerate(row):
        if row.startswith(r"\begin{", i):
            depth += 1
        elif row.startswith(r"\end{", i):
            depth -= 1
        if ch == "&" and depth == 0 and not row[:i].endswith("\\"):
            continue
        out.append(ch)
    return "".join(out)


def panel_details(solution, doc: Document, page: _Page, display: Display) -> list[dict]:
    """What the graph's panel shows of each name: its equation, its value and gradient
    (the document's numbers, where it shows them), the chain it came from."""
    out = solution.output
    graph = solution.graph
    claims = dict(document_claims(doc))
    equations = {eq.key: eq for b in doc.backward for eq in b.equations if eq.key}
    mark = "@s1" if page.sample else ""
    details = []
    for name in graph.names:
        gradient_key = f"d{out}/d{name}"
        chain = equations.get(gradient_key)
        value = claims.get(name + mark) or (
            display.given(solution.values[name]) if graph.is_leaf(name)
            else display.text(solution.values[name], display.at(name)))
        gradient = claims.get(gradient_key + mark) or display.text(
            solution.gradients[name], display.at(gradient_key))
        lines = []
        if chain is not None:  # one side a line, so that a narrow panel need not scroll
            lines = [page.inline(equation_tex(Equation(chain.lhs, chain.sides[:1])))]
            lines += [page.inline(("\\approx " if s.startswith(APPROX) else "= ")
                                  + s.removeprefix(APPROX)) for s in chain.sides[1:]]
        details.append({
            "name": name,
            "title": Markup(math(name_mathml(name))),
            "equation": (Markup(math(f"<mrow>{name_mathml(name)}{EQ}"
                                     f"{expr_mathml(graph.node(name).expr)}</mrow>"))
                         if graph.is_node(name) else None),
            "value": value, "gradient": gradient, "chain": lines,
        })
    return details


def handout_context(solution, places: Display | int) -> dict:
    """Everything the handout template shows: the worked solution's document in MathML
    (``places``: a :class:`Display`, or its places)."""
    doc = worked_solution(solution, display=Display.of(places))
    shown = solution.sample_solution(0) if solution.samples else solution
    display = doc.display.of_sample(1) if solution.samples else doc.display
    page = _Page(doc, bool(solution.samples))
    plain = Plain(names_of(shown))
    steps = None
    if doc.steps:
        steps = {**doc.steps, "header": [page.inline(h) for h in doc.steps["header"]],
                 "rows": [[plain(c) for c in row] for row in doc.steps["rows"]],
                 "first": plain(doc.steps["first"]), "last": plain(doc.steps["last"])}
    return {
        "doc": doc,
        "title": doc.title,
        "problem": doc.name,
        "output": page.inline(doc.output),
        "m": page.inline,
        "sections": SimpleNamespace(**{
            name: page.blocks(getattr(doc, name), name)
            for name in ("problem", "forward", "backward", "batch", "update", "after")}),
        "inputs": [page.inline(g) for g in doc.inputs],
        "parameters": [page.inline(g) for g in doc.parameters],
        "rules": [page.inline(_unaligned(r)) for r in (doc.optimizer or {}).get("rules", [])],
        "steps": steps,
        "svg": graph_svg(shown, display),
        "details": panel_details(shown, doc, page, display),
        "script": script("handout.js"),
    }


def render_html(solution, places: Display | int) -> str:
    """The worked solution as one self-contained HTML page (docs/browser.md)."""
    return render_page("html/solution.html.j2", **handout_context(solution, places))
