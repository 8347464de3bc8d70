"""One document, four media: every built-in problem's text, Markdown, LaTeX and HTML
(the handout and the practice page) show the same digits for the same quantity.

Each format is read as a reader reads it, by its own syntax (the text account's lines,
the LaTeX rows of the Markdown and of the .tex file, the handout's MathML rows and
panels, the practice page's answers), into {quantity: number as shown}; a quantity is a
value of a node, a derivative d top / d bottom, or a parameter after the update. Every
quantity that two formats show must show the same number, digit for digit (compared in
one spelling: :func:`symbackprop.display.tex_number` of the plain text).
"""

from __future__ import annotations

import re
from html import unescape

import pytest

import symbackprop as sb
from symbackprop.display import Display, tex_number
from symbackprop.examples import EXAMPLES
from symbackprop.notation import latex_name
from symbackprop.render import render_markdown, render_tex
from symbackprop.render.document import document_claims, matrix_form
from symbackprop.render.handout import render_html
from symbackprop.render.layerwise import layered_form
from symbackprop.render.practice import render_practice
from symbackprop.render.printer import partial
from symbackprop.render.text import render_text
from symbackprop.render.worked import build, page_display, uneven_keys, worked_solution

#: A number in LaTeX as the display policy writes it (the whole side, nothing else).
_TEX_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?: \\cdot 10\^\{-?\d+\})?"
                         r"(?: [-+] \d+(?:\.\d+)?(?: \\cdot 10\^\{-?\d+\})?)?")
_RELATION = re.compile(r" = | \\approx |&= |&\\approx ")


def _result(side: str) -> str | None:
    side = side.strip()
    return side if _TEX_NUMBER.fullmatch(side) else None


def _record(found: dict, quantity, shown: str | None) -> None:
    if quantity is not None and shown is not None:
        found.setdefault(quantity, set()).add(shown)


# ---------------------------------------------------------------------- LaTeX rows


def tex_quantities(source: str, heads: dict[str, tuple]) -> dict:
    """{quantity: {numbers}} from the rows of every alignment: an equation starts at a
    row with a left-hand side, and its number is the last side of its last row."""
    found: dict = {}
    rows = []
    for block in re.findall(r"\\begin\{align\*?\}(.*?)\\end\{align\*?\}|"
                            r"\\begin\{aligned\}(.*?)\\end\{aligned\}", source, re.S):
        body = block[0] or block[1]
        rows += [r.strip() for r in re.split(r"\\\\\s*\n", body) if r.strip()]
        rows.append(None)  # the end of an alignment ends its equation
    lhs, last = None, None
    for row in rows + [None]:
        if row is None or not row.startswith("&"):
            if lhs is not None and last is not None:
                _record(found, heads.get(lhs), _result(_RELATION.split(last)[-1]))
            lhs, last = (row.split("&", 1)[0].strip(), row) if row and "&" in row else (None, None)
        else:
            last = row
    return found


# ---------------------------------------------------------------------- text


def text_quantities(text: str, names=None) -> dict:
    """{quantity: {numbers}} from the text account: ``name = ... = value`` lines, and the
    chains ``dE/dw = ...`` whose last continuation line holds the value (a value only of
    ``names``, the graph's nodes, when given: an optimizer's ``g`` is no node)."""
    found: dict = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"  ([A-Za-z][\w\[\]]*(?:/d[A-Za-z][\w\[\]]*)?) (?:= |≈ )(.*)$", line)
        if not m or line.startswith("   "):
            i += 1
            continue
        head, last = m.group(1), line
        while i + 1 < len(lines) and re.match(r"\s+[=≈] ", lines[i + 1]):
            i += 1
            last = lines[i]
        i += 1
        value = re.split(r" = | ≈ ", last)[-1].strip()
        if "   (" in value or not re.fullmatch(r"-?[\d.]+(?:e-?\d+)?(?: [-+] [\d.]+(?:e-\d+)?)?", value):
            continue  # a given value "(input)", or a side that is not a number
        quantity = _text_quantity(head)
        if names is None or quantity[0] != "value" or quantity[1] in names:
            _record(found, quantity, tex_number(value))
    return found


def _text_quantity(head: str):
    if head.startswith("d") and "/d" in head:
        top, bottom = head[1:].split("/d", 1)
        return ("d", top, bottom)
    if head.endswith("_new"):
        return ("new", head[:-4])
    return ("value", head)


# ---------------------------------------------------------------------- HTML


def _mathml_number(fragment: str) -> str | None:
    """The number a MathML fragment ends with, as plain text then LaTeX."""
    tail = re.split(r"<mo>=</mo>|<mo>≈</mo>", fragment)[-1]
    tail = re.sub(r"<mo>[×⋅]</mo><msup><mn>10</mn><mrow>(.*?)</mrow></msup>", r"e\1", tail)
    tail = re.sub(r"<mo[^>]*>\u2212</mo>", "-", tail)
    plain = re.sub(r"<[^>]+>", "", tail).strip()
    return tex_number(plain) if re.fullmatch(r"-?[\d.]+(?:e-?\d+)?", plain) else None


def html_quantities(page: str, solution) -> dict:
    """{quantity: {numbers}} from the handout: each equation row (``data-row``, the
    claim key of the number it ends with) and the graph's panels."""
    found: dict = {}
    out = solution.output
    page = unescape(page)
    for part in page.split('<ul class="rows"')[1:]:
        part = part.split("</ul>", 1)[0]
        for key, math in re.findall(r'<li[^>]* data-row="([^"]+)">(.*?)</li>', part, re.S):
            if "@" not in key and not solution.samples:  # (a batch's are its means)
                _record(found, _text_quantity(key), _mathml_number(math))
            elif key.endswith("@s1"):  # sample 1's quantities, compared by their names
                _record(found, _text_quantity(key[:-3]), _mathml_number(math))
    for name, body in re.findall(r'data-detail-for="([^"]+)"(.*?)</section>', page, re.S):
        value = re.search(r"data-value>([^<]*)<", body).group(1)
        gradient = re.search(r"data-gradient>([^<]*)<", body).group(1)
        if not solution.graph.is_leaf(name):
            _record(found, ("value", name), tex_number(value))
        _record(found, ("d", out, name), tex_number(gradient))
    return found


def practice_quantities(page: str) -> dict:
    found: dict = {}
    for key, answer in re.findall(r'data-answer-for="([^"]+)" hidden>([^<]*)<', unescape(page)):
        _record(found, _text_quantity(key), tex_number(answer))
    return found


# ---------------------------------------------------------------------- the test


def without_batch_means(source: str) -> str:
    """The document without its mini-batch section, whose rows name the batch means
    with the same symbols as sample 1's values above them (dE/dw there is the mean):
    those means are compared with the JSON in tests/test_batch.py, and their own claim
    keys are docs/claim-keys.md's."""
    source = re.sub(r"\nThe mini-batch: every sample, and the means\n.*?(?=\nUpdate\n)", "",
                    source, flags=re.S)  # the text account
    return re.sub(r"(### |\\subsection\*\{)The mini-batch: every sample, and the means.*?"
                  r"(?=(### |\\subsection\*\{)How each gate)", "", source, flags=re.S)


def _heads(solution) -> dict[str, tuple]:
    """The LaTeX left-hand side of each scalar quantity."""
    graph, out = solution.graph, solution.output
    heads = {latex_name(n.name): ("value", n.name) for n in graph.nodes}
    for name in graph.names:
        heads[partial(out, name)] = ("d", out, name)
    for edge in solution.derivation.edges.values():
        heads.setdefault(partial(edge.upper, edge.lower), ("d", edge.upper, edge.lower))
    for p in graph.parameters:
        heads[rf"{latex_name(p)}^{{\text{{new}}}}"] = ("new", p)
    return heads


#: Every format against the others in the quick run: a scalar graph, networks in element
#: and matrix form, through time, an optimizer, a mini-batch and a typed layer. The
#: whole suite tries every built-in.
QUICK_FORMATS = ("chain-xyz", "net-221", "mlp-relu-bce", "rnn-bptt", "adam-steps",
                 "minibatch", "dropout")


@pytest.mark.parametrize("name", [n if n in QUICK_FORMATS else pytest.param(n, marks=pytest.mark.slow)
                                  for n in sorted(EXAMPLES)])
def test_every_format_shows_the_same_digits(name):
    solution = sb.load(name).solve()
    shown = solution.sample_solution(0) if solution.samples else solution
    heads = _heads(shown)
    formats = {
        "text": text_quantities(without_batch_means(render_text(solution)),
                                set(shown.graph.names)),
        "md": tex_quantities(without_batch_means(render_markdown(solution)), heads),
        "tex": tex_quantities(without_batch_means(render_tex(solution)), heads),
        "html": html_quantities(render_html(solution, 4), solution),
        # sample 1 of a mini-batch by the digits its batch's worked solution gives it
        "practice": practice_quantities(render_practice(shown, page_display(solution, 4).of_sample(1)
                                                        if solution.samples else 4)),
    }
    # One quantity, one precision on a page: every claim key the document shows (in the
    # passes, the batch's table and means, the optimizer's lines, the steps, the loss's
    # sentence) shows one text (the document is the one the formats above printed).
    texts: dict[str, set[str]] = {}
    for key, text in document_claims(worked_solution(solution)):
        texts.setdefault(key, set()).add(text)
    assert {k: v for k, v in texts.items() if len(v) > 1} == {}
    if solution.samples or solution.problem.optimizer is not None:
        # The update of a mini-batch or an optimizer is written by its own rule; the
        # handout's and the practice page's "new" fields are the plain step's.
        for found in formats.values():
            for q in [q for q in found if q[0] == "new"]:
                del found[q]
    disagreements = []
    compared = 0
    quantities = set().union(*formats.values())
    for q in sorted(quantities):
        seen = {f: found[q] for f, found in formats.items() if q in found}
        numbers = set().union(*seen.values())
        if len(seen) > 1:
            compared += 1
        if len(numbers) > 1:
            disagreements.append((q, seen))
    assert disagreements == []
    # Not vacuous: every parameter's gradient is read from at least two formats (of a
    # network in matrix form, or of typed layers written layer by layer, whose elements'
    # gradients are written in arrays, not one line each: some quantities are).
    if matrix_form(shown) or layered_form(shown, False, None):
        assert compared >= 2
        return
    for p in shown.graph.parameters[:6]:
        q = ("d", shown.output, p)
        assert sum(q in found for found in formats.values()) >= 2, (q, formats["md"].keys())
    assert compared >= len(shown.graph.parameters[:6])


def test_the_reader_of_each_format_can_find_a_disagreement():
    """The readers find a number that differs (a planted one) in each format."""
    solution = sb.load("net-221").solve()
    text = render_text(solution).replace("= -0.0534\n", "= -0.0533\n", 1)
    assert text_quantities(text)[("d", "E", "w5")] == {"-0.0533"}
    md = render_markdown(solution).replace("= -0.0534", "= -0.0533", 1)
    assert tex_quantities(md, _heads(solution))[("d", "E", "w5")] == {"-0.0533"}
    assert tex_quantities(render_tex(solution), _heads(solution))[("d", "E", "w5")] == {"-0.0534"}
    batch = sb.load("minibatch").solve()
    assert "The mini-batch" in render_markdown(batch)
    assert "The mini-batch" not in without_batch_means(render_markdown(batch))
    assert "The mini-batch" not in without_batch_means(render_tex(batch))
    page = render_html(solution, 4)
    assert html_quantities(page, solution)[("d", "E", "w5")] == {"-0.0534"}
    assert practice_quantities(render_practice(solution, 4))[("new", "w5")] == {"0.2374"}


@pytest.mark.parametrize("name", ["adam-steps", "minibatch"])
def test_the_steps_read_alike_in_every_format(name):
    """The optimizer's (or the mini-batch's) step: each parameter's first step and the
    table of the later steps, read from the text, the Markdown and the handout."""
    solution = sb.load(name).solve()
    text = render_text(solution)
    first = dict(re.findall(r"^  (\w+)_new = .* = (\S+)$", text.split("\nUpdate\n")[1].split("\nSecond forward pass\n")[0],
                            re.M))
    table = (text.split("\nSteps 1 to ", 1)[1].split("\n")[2:] if len(solution.steps) > 1
             else [])
    text_rows = [tex_number_row(line.split()) for line in table if line.startswith("    ")]
    page = render_html(solution, 4)
    html_first = {key[:-4]: numbers.pop() for key, numbers in [
        (k, {_mathml_number(m)}) for k, m in re.findall(
            r'<li[^>]* data-row="(\w+_new)">(.*?)</li>', unescape(page.split('id="update"')[1]
                                                                   .split("</ul>")[0]), re.S)]}
    html_first = {p: tex_number(v).replace(r" \cdot 10^", "e") for p, v in html_first.items()}
    html_rows = [tex_number_row(re.findall(r"<td>([^<]*)</td>", row))
                 for row in re.findall(r"<tr>(<td>.*?)</tr>", unescape(page).split('id="steps"')[-1])]
    assert first and first == html_first
    if len(solution.steps) > 1:  # the worked solution's table of steps
        assert text_rows and text_rows == html_rows
        md = render_markdown(solution).split("after each step", 1)[1]
        md_rows = [[c.strip().strip("$") for c in row.split("|")[1:-1]]
                   for row in re.findall(r"^\| \$\d+\$ .*\| ?$", md, re.M)]
        assert md_rows == text_rows


def tex_number_row(cells: list[str]) -> list[str]:
    return [tex_number(c) for c in cells]


def test_a_quantity_shown_twice_is_found_and_evened():
    """Built once by the plain policy, adam-steps shows dE/dw1 as -0.0609 in its chain
    and as -0.06090 as the optimizer's g; the finished document shows -0.06090 in both."""
    solution = sb.load("adam-steps").solve()
    first = build(solution, False, Display(4), None)
    assert uneven_keys(first) == {"dE/dw1": 5}
    texts = {t for k, t in document_claims(worked_solution(solution)) if k == "dE/dw1"}
    assert texts == {"-0.06090"}
