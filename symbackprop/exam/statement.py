"""The words of an exam: each variant's statement, its questions and its worked solution.

Statements come from the family's template (``templates/exam/<family>.tex.j2``) and are
written in a small subset of LaTeX that reads the same in a printed exam and, through
MathJax, in Moodle: plain text in paragraphs, math in ``\\( \\)`` and ``\\[ \\]``.
The worked solution of a question is the engine's own chain for it
(:meth:`Solution.chain`): every local derivative with its value, the product, the sum
over paths.
"""

from __future__ import annotations

import html
import re

from ..keys import Kind, parse_key
from ..numbers import format_number
from ..render.environment import environment as render_environment
from ..render.environment import escape_tex
from ..render.printer import derivatives_in_math, latex, latex_name, partial

PLACES = 4


#: The shared document helpers, under the names the exam's modules use.
environment = render_environment
escape = escape_tex
name_tex = latex_name
expr_tex = latex
partial_tex = partial


def num(value, places: int = PLACES) -> str:
    """A number for display, negative numbers in parentheses inside products."""
    return format_number(value, places)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def key_tex(key: str, solution) -> str:
    """A claim key as LaTeX: dE/dw1 as a fraction of partials, w1_new as w_1'."""
    parsed = parse_key(key, solution.key_names)
    if parsed.kind == Kind.DERIVATIVE:
        return partial_tex(parsed.name, parsed.wrt)
    if parsed.kind == Kind.AFTER:
        return "{" + name_tex(parsed.name) + r"}^{\mathrm{new}}"
    return name_tex(parsed.name)


def statement(variant) -> str:
    """The variant's statement, from its family's template."""
    from .families import family

    fam = family(variant.family)
    template = environment().get_template(f"exam/{fam.TEMPLATE}")
    return template.render(variant=variant, table=variant.problem.raw, v=_given(variant),
                           **variant.context).strip()


def _given(variant) -> dict[str, str]:
    """Every given number of the variant, as displayed, by name (arrays by element)."""
    shown = {}
    for name, leaf in variant.problem.graph.leaves.items():
        shown[name] = format_number(leaf.value, 6)
    if variant.problem.learning_rate is not None:
        shown["eta"] = format_number(variant.problem.learning_rate, 6)
    return shown


def worked_steps(variant, question) -> list[str]:
    """The worked solution of one question as display-math lines (LaTeX)."""
    sol = variant.solution
    parsed = parse_key(question.ask.key, sol.key_names)
    d = question.ask.decimals
    if parsed.kind == Kind.DERIVATIVE:
        return chain_steps(sol, parsed.name, parsed.wrt, d)
    if parsed.kind == Kind.AFTER:
        p = parsed.name
        g = sol.gradients[p]
        lines = chain_steps(sol, sol.output, p, d)
        lines.append(
            rf"{{{name_tex(p)}}}^{{\mathrm{{new}}}} = {name_tex(p)} - \eta\,{partial_tex(sol.output, p)}"
            rf" = {num(sol.values[p])} - {num(sol.learning_rate)} \cdot {_paren(num(g, d + 2))}"
            rf" = {num(sol.updated[p], d)}")
        return lines
    return forward_steps(sol, parsed.name, d)


def forward_steps(sol, name: str, places: int) -> list[str]:
    """The forward pass up to ``name``: each node's value, in evaluation order."""
    needed = sol.graph.upstream(name) | {name}
    lines = []
    for node in sol.graph.nodes:
        if node.name in needed:
            lines.append(rf"{name_tex(node.name)} = {expr_tex(node.expr)} = "
                         rf"{num(sol.values[node.name], places + 2 if node.name != name else places)}")
    return lines


def chain_steps(sol, top: str, bottom: str, places: int) -> list[str]:
    """d top / d bottom as the sum over paths of products of local derivatives."""
    chain = sol.chain(bottom, top)
    head = partial_tex(top, bottom)
    symbolic = " + ".join(r" \cdot ".join(partial_tex(f.edge.upper, f.edge.lower) for f in path)
                          for path in chain.paths)
    numeric = " + ".join(r" \cdot ".join(_paren(num(f.value)) for f in path) for path in chain.paths)
    if len(chain.paths) == 1 and len(chain.paths[0]) == 1:
        # One edge: the local derivative itself, by its rule from the op table.
        lines = [f"{head} = {expr_tex(chain.paths[0][0].edge.local)}"]
    else:
        lines = [f"{head} = {symbolic}", f"= {numeric}"]
    lines.append(f"= {num(chain.value, places + 1)} \\approx {num(chain.value, places)}"
                 if num(chain.value, places + 1) != num(chain.value, places)
                 else f"= {num(chain.value, places)}")
    return lines


def prompt(question) -> str:
    """The question as asked, with the precision wanted."""
    d = question.ask.decimals
    places = "a whole number" if d == 0 else f"{d} decimal place{'s' if d > 1 else ''}"
    return f"{question.ask.prompt} Give {places}."


_PARAGRAPH = re.compile(r"\n\s*\n")


def to_html(fragment: str) -> str:
    """The LaTeX subset of statements as HTML for Moodle: paragraphs become ``<p>``,
    math stays in ``\\( \\)`` / ``\\[ \\]`` for MathJax, text is escaped."""
    parts = [p.strip() for p in _PARAGRAPH.split(fragment) if p.strip()]
    return "".join(f"<p>{html.escape(p.replace('~', ' '), quote=False)}</p>" for p in parts)


def note_tex(note: str, text=escape) -> str:
    """A mistake's description with its derivatives in math; ``text`` escapes the rest
    (for LaTeX by default; for Moodle's HTML, :func:`to_html` escapes it afterwards)."""
    return derivatives_in_math(note, text)


def gate_lines(problem) -> list[str]:
    """The graph's equations as aligned LaTeX lines (``s_0 &= w_0 x_0``)."""
    return [f"{name_tex(n.name)} &= {expr_tex(n.expr)}" for n in problem.graph.nodes]
