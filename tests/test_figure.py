"""The TikZ figure of the computational graph: it compiles, it shows the solution's
numbers, and its layout is sound (one node per name, one edge per use, data flowing
left to right, no two boxes overlapping)."""

from __future__ import annotations

import re
import shutil
import subprocess
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.numbers import format_number
from symbackprop.render.environment import environment
from symbackprop.render.figure import MAX_WIDTH, MIN_SCALE, figure_tex, graph_figure
from symbackprop.render.pdf import compile_pdf, tex_available

BUILTINS = ["chain-xyz", "neuron", "net-221", "net-322", "logreg", "mlp-relu-bce",
            "autoencoder-838", "four-pixel"]
SCALAR = BUILTINS[:6]  # drawn node by node; the other two layer by layer


@pytest.fixture(scope="module")
def solutions():
    return {name: sb.load(name).solve() for name in BUILTINS}


def _document(pictures: list[str]) -> str:
    preamble = environment().get_template("preamble.tex.j2").render()
    body = "\n\\newpage\n".join(pictures)
    return f"\\documentclass{{article}}\n{preamble}\\begin{{document}}\n{body}\n\\end{{document}}\n"


def _pages_text(pdf: bytes, pages: int, tmp_path) -> list[str]:
    path = tmp_path / "figures.pdf"
    path.write_bytes(pdf)
    out = []
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
                              capture_output=True, text=True, check=True).stdout
        out.append(text.replace("\u2212", "-"))  # the math minus sign
    return out


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"-?\d+(?:\.\d+)?", text))


# ------------------------------------------------------------------------ compiled by TeX


@pytest.mark.skipif(not tex_available() or not shutil.which("pdftotext"), reason="needs TeX")
@pytest.mark.slow
def test_every_builtin_compiles_and_shows_its_numbers(solutions, tmp_path):
    """One document, one page per built-in (a single TeX run keeps the suite fast)."""
    places = {"neuron": 2}
    pictures = [figure_tex(solutions[n], places.get(n, 4)) for n in BUILTINS]
    assert all(p is not None and p.startswith("\\begin{tikzpicture}") for p in pictures)
    assert all(p.rstrip().endswith("\\end{tikzpicture}") for p in pictures)
    pages = _pages_text(compile_pdf(_document(pictures), "figures"), len(BUILTINS), tmp_path)
    for name, text in zip(BUILTINS, pages, strict=True):
        s = solutions[name]
        shown = _numbers(text)
        p = places.get(name, 4)
        assert format_number(s.values[s.output], p) in shown, name
        if name in SCALAR:
            # every wire's two numbers: the value and the gradient of the output
            for leaf_or_node in s.graph.names:
                assert format_number(s.values[leaf_or_node], p) in shown, (name, leaf_or_node)
                assert format_number(s.gradients[leaf_or_node], p) in shown, (name, leaf_or_node)


def test_neuron_matches_the_lecture(solutions):
    """From Error to Learning: the sigmoid neuron's output is 0.73 and -0.53 flows through the 1/x gate."""
    s = solutions["neuron"]
    reciprocal = next(n for n in s.graph.nodes if n.op is not None and n.op.name == "inv")
    (into,) = reciprocal.inputs
    assert format_number(s.values[reciprocal.name], 2) == "0.73"
    assert format_number(s.gradients[into], 2) == "-0.53"
    tex = figure_tex(s, places=2)
    assert "{$0.73$}" in tex and "{$-0.53$}" in tex and r"{$1/x$}" in tex


# ------------------------------------------------------------------------ structure


def check_structure(solution) -> None:
    graph = solution.graph
    tex = figure_tex(solution)
    figure = graph_figure(solution)
    if figure is None:  # only when it would not fit the page at a readable size
        assert tex is None
        unreadable = graph_figure(solution, min_scale=0)
        assert unreadable is not None and unreadable.scale < MIN_SCALE
        return
    # one TikZ node per name, one edge per (node, input) pair
    assert len(re.findall(r"\\node\[(?:leaf|gate|var),", tex)) == len(graph.names)
    uses = sum(len(node.inputs) for node in graph.nodes)
    assert len(re.findall(r"\\draw\[edge\] ", tex)) == uses
    assert sorted((e.tail, e.head) for e in figure.edges) == sorted(
        (m, node.name) for node in graph.nodes for m in node.inputs)
    items = figure.layout.items
    # data flows left to right: every edge leaves its tail's box before its head's box
    for e in figure.edges:
        assert items[e.tail].right < items[e.head].left, (e.tail, e.head)
    # the output is the rightmost node (unless the problem names a used node as output)
    if not graph.users[graph.output]:
        assert items[graph.output].x == max(it.x for it in items.values())
    # no two boxes (with the labels above and below their wires) overlap
    for a, b in combinations(items.values(), 2):
        apart_x = a.right <= b.left or b.right <= a.left
        apart_y = a.y - a.down >= b.y + b.up or b.y - b.down >= a.y + a.up
        assert apart_x or apart_y, (a.name, b.name)
    # wires' labels fit between a column's boxes and the next column
    for it in items.values():
        assert figure.layout.stub_end(it.name) >= it.right + it.stub - 1e-9
    assert figure.layout.width * figure.scale <= MAX_WIDTH + 1e-6


@pytest.mark.parametrize("name", SCALAR)
def test_builtin_layout(solutions, name):
    check_structure(solutions[name])


def test_large_graphs():
    """A large network gets a layer-level diagram; a large graph-form problem gets none."""
    auto = sb.load("autoencoder-838").solve()
    assert graph_figure(auto) is None
    tex = figure_tex(auto)
    assert "W^{[1]}" in tex and r"3 \times 8" in tex and "a^{[2]}" in tex
    chain = {f"n{i}": f"n{i - 1} * a + b" for i in range(1, 40)}
    big = sb.load_dict({"graph": {"n0": "a + b", **chain}, "inputs": {"a": 1},
                        "parameters": {"b": 0.5}}).solve()
    assert figure_tex(big) is None


@st.composite
def small_graphs(draw):
    leaves = ["a", "b", "c", "w"][: draw(st.integers(1, 4))]
    names = list(leaves)
    graph = {}
    for i in range(draw(st.integers(1, 6))):
        args = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        form = draw(st.sampled_from(["add", "mul", "sigmoid", "tanh", "const"]))
        if form == "add" or (form == "mul" and len(args) > 1):
            expr = (" + " if form == "add" else " * ").join(args)
        elif form == "const":
            expr = f"2 * {args[0]} + 1"
        else:
            expr = f"{'sigmoid' if form != 'tanh' else 'tanh'}({' + '.join(args)})"
        graph[f"v{i}"] = expr
        names.append(f"v{i}")
    values = draw(st.lists(st.sampled_from([-2, -1, 0.5, 1, 3]), min_size=len(leaves),
                           max_size=len(leaves)))
    table = {"graph": graph, "inputs": dict(zip(leaves[:1], values, strict=False)),
             "parameters": dict(zip(leaves[1:], values[1:], strict=False))}
    return sb.load_dict(table, stage_gates=draw(st.booleans()))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_graphs())
def test_random_graph_layout(problem):
    check_structure(problem.solve())


def test_random_graphs_mostly_get_a_figure():
    """The fallback is rare: small graphs of up to six equations are drawn."""
    drawn = []

    @settings(max_examples=30, deadline=None, database=None)
    @given(small_graphs())
    def count(problem):
        drawn.append(graph_figure(problem.solve()) is not None)

    count()
    assert sum(drawn) >= 0.9 * len(drawn)


def test_wide_gate_labels_get_boxes(monkeypatch):
    """A gate whose label is a word is drawn as a rounded box, and the layout holds."""
    import symbackprop.render.figure as figure

    monkeypatch.setattr(figure, "WIDE_GATE", 0.5)
    problem = sb.load_dict({"graph": {"z": "relu(a*b) + sqrt(a)*c", "L": "max(z, 1) + log(z)"},
                            "inputs": {"a": 1, "b": 2}, "parameters": {"c": 0.5}},
                           stage_gates=True)
    tex = figure.figure_tex(problem.solve())
    assert tex.count("rounded corners=0.3cm") == 2  # relu and max; the others stay circles
    check_structure(problem.solve())
