"""The words of an exam: each variant's statement, its questions and its worked solution.

Statements come from the exercise file's ``statement`` with its ``{{name}}``
placeholders filled in here (values escaped, never executed), and are written in a small
subset of LaTeX that reads the same in a printed exam and, through
MathJax, in Moodle: plain text in paragraphs, math in ``\\( \\)`` and ``\\[ \\]``.
The worked solution of a question is the engine's own chain for it
(:meth:`Solution.chain`): every local derivative with its value, the product, the sum
over paths.
"""

from __future__ import annotations

import html
import re

from ..answerkey import shown
from ..display import Display
from ..keys import Kind, parse_key
from ..numbers import format_number
from ..parse import parse_expression
from ..render.environment import environment as render_environment
from ..render.environment import escape_tex
from ..render.optimizer import parameter_equations
from ..render.printer import derivatives_in_math, key_tex, latex, latex_name, partial
from ..stepping import batch_inputs
from .exercise import PLACEHOLDER
from .factors import displayed_terms
from .precision import precision_text

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


def ask_tex(key: str, solution) -> str:
    """An asked claim key as LaTeX, resolved against the variant's names."""
    return key_tex(parse_key(key, solution.key_names), solution.graph.parameters)


def statement(variant, exercise) -> str:
    """The variant's statement: the exercise's paragraph with its placeholders filled in
    (numbers as given, arrays as matrices, nodes as formulas), or, when the file has
    none, the graph and its given values."""
    text = exercise.statement if exercise.statement is not None else default_statement(variant)
    return PLACEHOLDER.sub(lambda m: placeholder(variant, m.group(1)), text).strip()


def default_statement(variant) -> str:
    """What a file without a statement shows: the equations and every given value."""
    graph = variant.problem.graph
    samples = batch_inputs(variant.problem)
    given = [n for n in graph.groups if graph.is_leaf(graph.groups[n].names()[0])]
    given += [n for n in graph.leaves if graph.group_of(n) is None]
    if samples:  # the samples' inputs are the batch's, not one sample's
        given = [n for n in given if n not in samples[0]]
    values = ", ".join(rf"\({name_tex(n)} = {{{{{n}}}}}\)" for n in given)
    rate = r" and the learning rate \(\eta = {{eta}}\)" if variant.problem.learning_rate else ""
    text = f"Consider the computational graph\n{{{{equations}}}}\nwith {values}{rate}."
    if samples:
        names = [n for n in samples[0] if graph.group_of(n) is None]
        rows = "; ".join(", ".join(f"{name_tex(n)}^{{({i})}} = {num(one[n], 6)}" for n in names)
                         for i, one in enumerate(samples, 1))
        text += (f" The loss \\({name_tex(graph.output)}\\) is the mean of the losses of a"
                 f" mini-batch of {len(samples)} samples: \\({rows}\\).")
    return text


def placeholder(variant, word: str) -> str:
    """The text of one ``{{word}}`` of a statement (checked when the file was read)."""
    problem = variant.problem
    graph = problem.graph
    if word in variant.free:
        return escape(str(variant.free[word]))
    if word == "eta":
        return num(problem.learning_rate, 6)
    if word == "equations":
        return r"\[ \begin{aligned}" + r"\\ ".join(gate_lines(problem)) + r"\end{aligned} \]"
    if word in graph.groups and graph.is_leaf(graph.groups[word].names()[0]):
        group = graph.groups[word]
        return _matrix([num(graph.leaves[n].value, 6) for n in group.names()], group.shape)
    if graph.is_leaf(word):
        return num(graph.leaves[word].value, 6)
    drawn = variant.drawn.get("graph", {})
    if word in drawn:
        return expr_tex(parse_expression(drawn[word]))
    if graph.is_node(word):
        return expr_tex(graph.node(word).expr)
    return escape(word)


def _matrix(cells: list[str], shape: tuple[int, ...]) -> str:
    """A vector as a column, a matrix row by row (bmatrix)."""
    columns = shape[1] if len(shape) == 2 else 1
    rows = [" & ".join(cells[i:i + columns]) for i in range(0, len(cells), columns)]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


class Line(str):
    """A line of a worked solution (LaTeX), and ``key``: the claim key of the number it
    ends with (docs/claim-keys.md), None for a line that ends in none (a chain's first
    rows); ``verify`` accepts that number under that key."""

    key: str | None = None


def keyed(text: str, key: str | None) -> Line:
    line = Line(text)
    line.key = key
    return line


def equation_line(eq) -> Line:
    """An :class:`~symbackprop.render.equations.Equation` as one line, its relations
    (= or ≈) as the equation has them, keyed as the equation is."""
    row = eq.rows(limit=10**9)[0]
    return keyed(row.replace(" &= ", " = ").replace(r" &\approx ", r" \approx "), eq.key)


def worked_steps(variant, question) -> list[str]:
    """The worked solution of one question as display-math lines (LaTeX), each a
    :class:`Line` keyed by the quantity whose number it ends with."""
    sol = variant.solution
    parsed = parse_key(question.ask, sol.key_names)
    d = question.decimals
    if sol.samples:
        return batch_steps(sol, parsed, d)
    if parsed.kind == Kind.PARTIAL:
        return partial_steps(sol, parsed, d)
    if parsed.kind == Kind.DERIVATIVE:
        return chain_steps(sol, parsed.name, parsed.wrt, d)
    later = parsed.kind == Kind.AFTER and (parsed.step or 1) > 1  # w1@2, E@2
    if parsed.kind == Kind.STATE or (parsed.kind == Kind.AFTER and parsed.name in
                                     sol.graph.parameters and (_by_optimizer(sol) or later)):
        return optimizer_steps(sol, parsed, d)
    if parsed.kind == Kind.AFTER and parsed.name in sol.graph.parameters:
        p = parsed.name
        g = sol.gradients[p]
        lines = chain_steps(sol, sol.output, p, d + 2)
        terms, exact = displayed_terms([(1, [sol.values[p]]), (-1, [sol.learning_rate, g])], d)
        (w,), (rate, grad) = terms
        eq = "=" if exact else r"\approx"
        lines.append(keyed(
            rf"{{{name_tex(p)}}}^{{\mathrm{{new}}}} = {name_tex(p)} - \eta\,{partial_tex(sol.output, p)}"
            rf" = {w} - {rate} \cdot {_paren(grad)} {eq} {shown(sol.updated[p], d)}", f"{p}_new"))
        return lines
    if later:  # a value after step k: the forward pass at that step's parameters
        values = sol.steps[parsed.step - 1].point.evaluation.values
        return forward_steps(sol, parsed.name, d, values, suffix=f"@{parsed.step}")
    if parsed.kind == Kind.AFTER:
        return forward_steps(sol, parsed.name, d, sol.values_after, suffix="_new")
    return forward_steps(sol, parsed.name, d, sol.values)


def partial_steps(sol, key, places: int) -> list[str]:
    """A derivative with names held fixed: the local rule of the edge when it is one
    (``∂h3/∂w|_{h2} = h2 (1 - h3^2) = ...``), else its value."""
    edge = sol.derivation.edges.get((key.name, key.wrt))
    value = shown(sol.lookup(key), places)
    if edge is not None and sol.local_key(key.name, key.wrt) == key:
        return [keyed(f"{ask_tex(str(key), sol)} = {expr_tex(edge.local)} = {value}", str(key))]
    return [keyed(f"{ask_tex(str(key), sol)} = {value}", str(key))]


def batch_steps(sol, key, places: int) -> list[str]:
    """A question on a mini-batch as the handout works it: each sample's derivation
    (its forward pass or its chain, marked with the sample's index), then the mean of
    the samples' numbers, never a product of means (docs/optimizers.md); an update
    then steps with that mean gradient."""
    if key.kind == Kind.SAMPLE:
        one = sol.sample_solution(key.sample - 1)
        if key.wrt is None:
            return forward_steps(one, key.name, places, one.values, sample=key.sample)
        if key.held:
            return [keyed(f"{ask_tex(str(key), sol)} = {shown(sol.lookup(key), places)}",
                          str(key))]
        return chain_steps(one, key.name, key.wrt, places, sample=key.sample)
    if key.kind == Kind.DERIVATIVE or key.kind == Kind.VALUE:
        return _per_sample_then_mean(sol, key.name, key.wrt, places)
    if key.kind == Kind.AFTER and key.name in sol.graph.parameters and key.step is None:
        p = key.name
        lines = _per_sample_then_mean(sol, sol.output, p, places + 2)
        if _by_optimizer(sol):
            lines += [equation_line(eq) for eq in parameter_equations(sol, p, Display(places))]
            return lines
        terms, exact = displayed_terms([(1, [sol.values[p]]), (-1, [sol.learning_rate,
                                                                    sol.gradients[p]])], places)
        (w,), (rate, grad) = terms
        eq = "=" if exact else r"\approx"
        lines.append(keyed(
            rf"{{{name_tex(p)}}}^{{\mathrm{{new}}}} = {name_tex(p)} - \eta\,"
            rf"{partial_tex(sol.output, p)} = {w} - {rate} \cdot {_paren(grad)}"
            rf" {eq} {shown(sol.updated[p], places)}", f"{p}_new"))
        return lines
    if key.kind == Kind.AFTER and key.step is None:  # E_new: each sample at the new values
        after = sol.steps[0].point.samples
        head = rf"{{{name_tex(key.name)}}}^{{\mathrm{{new}}}}"
        return [_mean_line(head, [ev.values[key.name] for ev in after],
                           sol.values_after[key.name], places, f"{key.name}_new")]
    return [keyed(rf"{ask_tex(str(key), sol)} = {shown(sol.lookup(key), places)}", str(key))]


def _per_sample_then_mean(sol, top: str, bottom: str | None, places: int) -> list[str]:
    """Each sample's value of ``top`` (or d top / d bottom) worked out, then their mean."""
    lines, values = [], []
    for i in range(len(sol.samples)):
        one = sol.sample_solution(i)
        if bottom is None:
            lines += forward_steps(one, top, places + 2, one.values, sample=i + 1)
            values.append(one.values[top])
        else:
            lines += chain_steps(one, top, bottom, places + 2, sample=i + 1)
            values.append(one.derivative(top, bottom))
    head = name_tex(top) if bottom is None else partial_tex(top, bottom)
    mean = sol.values[top] if bottom is None else sol.derivative(top, bottom)
    key = top if bottom is None else f"d{top}/d{bottom}"
    return lines + [_mean_line(head, values, mean, places, key)]


def _mean_line(head: str, values: list, mean, places: int, key: str) -> Line:
    """``head = 1/n (a + b) = mean``: the samples' numbers as shown (two more decimals
    than the mean, so that they give it within one unit) and their mean."""
    terms = ""
    for v in values:
        text = num(abs(v), places + 2)
        sign = "-" if v < 0 else "+"
        terms += (f"-{text}" if sign == "-" else text) if not terms else f" {sign} {text}"
    return keyed(rf"{head} = \frac{{1}}{{{len(values)}}}\left({terms}\right)"
                 rf" = {shown(mean, places)}", key)


def _sample_mark(tex: str, mark: str | None) -> str:
    if not mark:
        return tex
    return ("{" + tex + "}" if "^" in tex else tex) + f"^{{{mark}}}"


def _by_optimizer(sol) -> bool:
    """Whether the update is an optimizer's rule rather than plain w − η·g."""
    return sol.problem.optimizer is not None and sol.optimizer.name != "sgd" \
        or sol.problem.optimizer is not None and bool(sol.optimizer.weight_decay)


def optimizer_steps(sol, key, places: int) -> list[str]:
    """The gradient's chain, then the optimizer's lines for the parameter up to the
    asked quantity (its state ``m``, ``v``, ``b``, or the new value; for ``w1@2`` every
    step up to the second, each step's gradient at the point the step before left), as
    the handout writes them (:func:`symbackprop.render.optimizer.parameter_equations`)."""
    p = key.name
    lines = chain_steps(sol, sol.output, p, places + 2)
    upto = key.slot if key.kind == Kind.STATE else None
    last = key.step if key.kind == Kind.AFTER and key.step else 1  # w1@2: both steps
    for t in range(1, last + 1):
        lines += [equation_line(eq) for eq in
                  parameter_equations(sol, p, Display(places), upto=upto, step=t)]
    return lines


def forward_steps(sol, name: str, places: int, values: dict, sample: int | None = None,
                  suffix: str = "") -> list[str]:
    """The forward pass up to ``name``: each node's value, in evaluation order, keyed
    by the node's name and ``suffix`` (``_new`` for the values after the update);
    ``sample``: a sample of a mini-batch, its index written on each node's name."""
    needed = sol.graph.upstream(name) | {name}
    mark = f"({sample})" if sample else None
    suffix = f"@s{sample}" if sample else suffix
    lines = []
    for node in sol.graph.nodes:
        if node.name in needed:
            value = values[node.name]
            lines.append(keyed(
                rf"{_sample_mark(name_tex(node.name), mark)} = {expr_tex(node.expr)} = "
                + (shown(value, places) if node.name == name else num(value, places + 2)),
                node.name + suffix))
    return lines


def chain_steps(sol, top: str, bottom: str, places: int, sample: int | None = None) -> list[str]:
    """d top / d bottom as the sum over paths of products of local derivatives, the
    factors shown so that they give the result shown (:mod:`.factors`); ``sample``: a
    sample of a mini-batch, its index written on the names of its quantities."""
    chain = sol.chain(bottom, top)
    mark = f"({sample})" if sample else None
    key = f"d{top}/d{bottom}" + (f"@s{sample}" if sample else "")

    def d(upper: str, lower: str) -> str:  # a sample's quantities carry its index
        if not mark:
            return partial_tex(upper, lower)
        u, lo = (n if n in sol.graph.parameters else _sample_mark(name_tex(n), mark)
                 for n in (upper, lower))
        u = name_tex(u) if u == upper else u
        lo = name_tex(lo) if lo == lower else lo
        return rf"\frac{{\partial {u}}}{{\partial {lo}}}"

    head = d(top, bottom)
    symbolic = " + ".join(r" \cdot ".join(d(f.edge.upper, f.edge.lower) for f in path)
                          for path in chain.paths)
    texts, exact = displayed_terms([(1, [f.value for f in path]) for path in chain.paths], places)
    numeric = " + ".join(r" \cdot ".join(_paren(t) for t in path) for path in texts)
    result = shown(chain.value, places)
    if len(chain.paths) == 1 and len(chain.paths[0]) == 1:
        # One edge: the local derivative itself, by its rule from the op table.
        return [keyed(f"{head} = {expr_tex(chain.paths[0][0].edge.local)} = {result}", key)]
    eq = "=" if exact else r"\approx"
    return [f"{head} = {symbolic}", f"= {numeric}", keyed(f"{eq} {result}", key)]


def prompt(question, solution=None, lms: bool = False) -> str:
    """The question as asked: its prompt (``{{ask}}`` the asked quantity in math), or
    "Compute KEY." by default, and, for a number to write, the precision wanted and the
    tolerance accepted (:mod:`.precision`; in Moodle and Canvas, ``lms``, with a decimal
    point asked for)."""
    asked = rf"\({ask_tex(question.ask, solution)}\)" if solution is not None else question.ask
    text = question.asked.prompt.replace("{{ask}}", asked) if question.asked.prompt else f"Compute {asked}."
    if question.choices is not None:
        return f"{text} Choose one."
    return f"{text} {precision_text(question.decimals, lms)}"


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
