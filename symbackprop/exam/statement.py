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
from functools import lru_cache

from ..keys import parse_key
from ..numbers import format_number
from ..parse import split_indexed

PLACES = 4


@lru_cache(maxsize=1)
def environment():
    """The sandboxed Jinja environment for LaTeX templates: the render package's
    (the one every document template uses), with the exam's filters added."""
    try:
        from ..render.environment import environment as render_environment
    except ImportError:  # the render package is not in this checkout yet
        env = _fallback_environment()
    else:
        env = render_environment()
    env.filters["num"] = num
    return env


def _fallback_environment():
    from pathlib import Path

    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    package = Path(__file__).resolve().parent.parent
    found = [d for d in (package / "templates", package.parent / "templates") if d.is_dir()]
    return SandboxedEnvironment(
        loader=FileSystemLoader([str(d) for d in found]), undefined=StrictUndefined,
        autoescape=False, block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "\\": r"\textbackslash{}"}


def escape(text: str) -> str:
    """Plain text made safe for LaTeX (the render package's escape_tex)."""
    try:
        from ..render.environment import escape_tex
    except ImportError:
        return "".join(_TEX_SPECIAL.get(c, c if c.isprintable() else " ") for c in str(text))
    return escape_tex(text)


def name_tex(name: str) -> str:
    """A node or leaf name in the lectures' notation: w1 -> w_{1}, z_a -> z_{a},
    y_hat -> \\hat{y}, W1[0][1] -> W^{[1]}_{12} (indices shown from 1, as on paper)."""
    try:
        from ..render.printer import latex_name
    except ImportError:
        return _fallback_name(name)
    return latex_name(name)


def _fallback_name(name: str) -> str:
    parts = split_indexed(name)
    if parts:
        base, index = parts
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", base)
        sub = "".join(str(i + 1) for i in index)
        if m:
            return f"{m.group(1)}^{{[{m.group(2)}]}}_{{{sub}}}"
        return f"{base}_{{{sub}}}"
    if name.endswith("_hat"):
        return rf"\hat{{{name[:-4]}}}"
    m = re.fullmatch(r"([A-Za-z]+)_?([A-Za-z0-9]+)", name)
    if m and len(name) > 1:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    return name


def expr_tex(expr) -> str:
    try:
        from ..render.printer import latex
    except ImportError:
        import sympy as sp

        names = {s: _fallback_name(s.name) for s in expr.free_symbols}
        return sp.latex(expr, symbol_names=names).replace(r"\operatorname{sigmoid}", r"\sigma")
    return latex(expr)


def num(value, places: int = PLACES) -> str:
    """A number for display, negative numbers in parentheses inside products."""
    return format_number(value, places)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def partial_tex(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {name_tex(top)}}}{{\partial {name_tex(bottom)}}}"


def key_tex(key: str, solution) -> str:
    """A claim key as LaTeX: dE/dw1 as a fraction of partials, w1_new as w_1'."""
    parsed = parse_key(key, solution.key_names)
    if parsed.kind == "derivative":
        return partial_tex(parsed.name, parsed.wrt)
    if parsed.kind == "after":
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
    if parsed.kind == "derivative":
        return chain_steps(sol, parsed.name, parsed.wrt, d)
    if parsed.kind == "after":
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
    lines = [f"{head} = {symbolic}"]
    if len(chain.paths) > 1 or len(chain.paths[0]) > 1:
        lines.append(f"= {numeric}")
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


_DERIVATIVE_IN_TEXT = re.compile(r"\bd([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*)/d([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*)")


def note_tex(note: str, text=escape) -> str:
    """A mistake's description with its derivatives in math: dy_hat/dz becomes
    \\(\\partial \\hat{y}/\\partial z\\); ``text`` escapes the rest (for LaTeX by default;
    for Moodle's HTML, :func:`to_html` escapes it afterwards)."""
    out, last = [], 0
    for m in _DERIVATIVE_IN_TEXT.finditer(note):
        out.append(text(note[last:m.start()]))
        out.append(rf"\(\partial {name_tex(m.group(1))}/\partial {name_tex(m.group(2))}\)")
        last = m.end()
    out.append(text(note[last:]))
    return "".join(out)


def gate_lines(problem) -> list[str]:
    """The graph's equations as aligned LaTeX lines (``s_0 &= w_0 x_0``)."""
    return [f"{name_tex(n.name)} &= {expr_tex(n.expr)}" for n in problem.graph.nodes]
