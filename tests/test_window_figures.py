"""The figures of a convolution's window and of the pooling windows in the layer-by-layer
handout: the highlighted cells are where an independent numpy computation puts the window
(the padding drawn as padding, the next window one stride on), the shaded window times
the kernel plus the bias gives the shaded output element within one unit, each pooling
frame holds its window's cells and the circled maximum is numpy's argmax (the first
maximum in row-major order at a tie), the figure compiles with real TeX without a bad
box and pdftotext finds its numbers, the HTML page draws it as SVG, and a grid too large
gets a sentence instead."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from decimal import Decimal
from xml.dom import minidom

import layer_reference as ref
import numpy as np
import pytest

import symbackprop as sb
from symbackprop.render.environment import environment
from symbackprop.render.handout import render_html
from symbackprop.render.layerwise.windows import MAX_GRID, svg_figure
from symbackprop.render.pdf import tex_available
from symbackprop.render.worked import worked_solution
from tests.conftest import ROOT

#: An overlapping max-pool straight on the input (with a tie in its first window: 0.9 at
#: x[0][0][1] and at x[0][1][0]), then a padded, strided convolution of its output.
PROBLEM = """
title = "Max-pool with a tie, then a padded strided convolution"
learning_rate = 0.1
[network]
input = [1, 5, 5]
loss = "half_sse"
layers = [
  { type = "maxpool", size = 2, stride = 1 },
  { type = "conv2d", filters = 1, kernel = 3, stride = 2, padding = 1 },
  { type = "flatten" },
  { type = "dense", units = 1 },
]
[inputs]
x = [[[0.2, 0.9, 0.1, 0.4, 0.3], [0.9, -0.5, -0.6, 0.2, 0.8], [0.3, 0.1, 0.4, -0.7, 0.6],
      [0.8, -0.6, 0.2, 0.95, 0.1], [0.4, 0.3, 0.5, 0.2, -0.7]]]
y = [0.5]
[parameters]
K2 = [[[[0.3, -0.2, 0.1], [0.5, 0.1, -0.4], [0.2, 0.3, -0.1]]]]
b2 = [0.05]
W4 = [[0.2, -0.3, 0.1, 0.4]]
b4 = [0.0]
"""


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    path = tmp_path_factory.mktemp("windows") / "tie.toml"
    path.write_text(PROBLEM)
    out = {}
    for name in ("conv-pool", path):
        solution = sb.load(name).solve()
        doc = worked_solution(solution)
        figures = {b.figure.kind: b for b in doc.forward if b.kind == "figure"}
        table = tomllib.loads(PROBLEM if name == path else
                              (ROOT / "symbackprop" / "examples" / "conv-pool.toml").read_text())
        out["tie" if name == path else name] = (solution, figures, table)
    return out


def _inside(cell, frame) -> bool:
    return frame.x0 < cell.x < frame.x1 and frame.y0 < cell.y < frame.y1


def _grid(cells, count):
    """The first ``count`` cells drawn (one grid, row-major) as rows and columns."""
    grid = cells[:count]
    xs = sorted({round(c.x, 3) for c in grid})
    ys = sorted({round(c.y, 3) for c in grid}, reverse=True)
    return {(ys.index(round(c.y, 3)), xs.index(round(c.x, 3))): c for c in grid}


def _unit(text: str) -> Decimal:
    return Decimal(1).scaleb(Decimal(text).as_tuple().exponent)


@pytest.mark.parametrize("name, conv", [("conv-pool", 1), ("tie", 2)])
def test_the_window_is_where_numpy_puts_it_and_gives_the_output_shown(solved, name, conv):
    solution, figures, table = solved[name]
    layer = table["network"]["layers"][conv - 1]
    stride, pad = layer.get("stride", 1), layer.get("padding", 0)
    _, outputs = ref.forward(table, ref.parameters(table))
    x = np.array(table["inputs"]["x"], float) if conv == 1 else outputs[f"a{conv - 1}"]
    padded = np.pad(x[0], pad)
    K = np.array(table["parameters"][f"K{conv}"], float)[0, 0]
    kh, kw = K.shape
    figure = figures["conv"].figure
    cells = _grid(figure.cells, padded.size)
    hit = sorted(rc for rc, c in cells.items() if c.fill == "hit")
    # the document's element is the first: the window at the top left corner
    assert hit == [(r, s) for r in range(kh) for s in range(kw)]
    (window,) = [f for f in figure.frames if f.style == "window"]
    assert {rc for rc, c in cells.items() if _inside(c, window)} == set(hit)
    assert all(abs(float(cells[rc].plain) - padded[rc]) < 5e-3 for rc in hit)
    pads = {rc for rc, c in cells.items() if c.pad}
    assert pads == {(r, s) for r in range(padded.shape[0]) for s in range(padded.shape[1])
                    if not (pad <= r < padded.shape[0] - pad and pad <= s < padded.shape[1] - pad)}
    assert all(cells[rc].plain == "0" for rc in pads)
    (nxt,) = [f for f in figure.frames if f.style == "next"]  # one stride to the right
    side = figure.cells[0].side
    assert nxt.x0 - window.x0 == pytest.approx(stride * side + 0.07, abs=1e-6)
    # the shaded window times the kernel, plus the bias, is the shaded output element
    rest = figure.cells[padded.size:]
    kernel = [c for c in rest[:K.size]]
    bias = rest[K.size]
    (out,) = [c for c in rest[K.size + 1:] if c.fill == "hit"]
    shown = [Decimal(cells[rc].plain) for rc in hit]
    total = sum((a * Decimal(k.plain) for a, k in zip(shown, kernel, strict=True)),
                Decimal(bias.plain))
    assert abs(total - Decimal(out.plain)) <= _unit(out.plain)
    assert [float(k.plain) for k in kernel] == list(K.ravel())
    assert float(out.plain) == pytest.approx(outputs[f"a{conv}"][0, 0, 0], abs=5e-4)


@pytest.mark.parametrize("name, pool", [("conv-pool", 3), ("tie", 1)])
def test_each_frame_holds_its_window_and_the_circle_is_numpys_argmax(solved, name, pool):
    solution, figures, table = solved[name]
    layer = table["network"]["layers"][pool - 1]
    size = layer["size"]
    stride = layer.get("stride", size)
    _, outputs = ref.forward(table, ref.parameters(table))
    x = np.array(table["inputs"]["x"], float) if pool == 1 else outputs[f"a{pool - 1}"]
    grid = x[0]
    figure = figures["pool"].figure
    cells = _grid(figure.cells, grid.size)
    frames = [f for f in figure.frames]
    oh, ow = (grid.shape[0] - size) // stride + 1, (grid.shape[1] - size) // stride + 1
    assert len(frames) == oh * ow
    circled = set()
    for (i, j), frame in zip(np.ndindex(oh, ow), frames, strict=True):
        rows, cols = range(i * stride, i * stride + size), range(j * stride, j * stride + size)
        assert {rc for rc, c in cells.items() if _inside(c, frame)} == {
            (r, s) for r in rows for s in cols}
        window = grid[i * stride:i * stride + size, j * stride:j * stride + size]
        u, v = np.unravel_index(np.argmax(window), window.shape)  # numpy: the first maximum
        circled.add((i * stride + u, j * stride + v))
    assert {rc for rc, c in cells.items() if c.mark} == circled
    if name == "tie":  # the first window's tie goes to x[0][0][1], not to x[0][1][0]
        assert figure.marked["a1[0][0][0]"] == ["x[0][0][1]"]
    outs = figure.cells[grid.size:]
    assert [float(c.plain) for c in outs] == pytest.approx(
        list(outputs[f"a{pool}"][0].ravel()), abs=5e-4)


def _document(blocks) -> str:
    preamble = environment().get_template("preamble.tex.j2").render()
    body = environment().from_string(
        '\\BLOCK{from "windows.tex.j2" import windows}\n%% for b in blocks\n'
        '\\begin{center}\n\\VAR{windows(b.figure)}\\par\\smallskip\n'
        '{\\small Figure: \\VAR{b.figure.caption|tex}\\par}\n\\end{center}\n\\newpage\n'
        '%% endfor\n').render(blocks=blocks)
    return ("\\documentclass[11pt,a4paper]{article}\n" + preamble + "\\begin{document}\n"
            + body + "\\end{document}\n")


@pytest.mark.skipif(not tex_available() or not shutil.which("pdftotext"), reason="needs TeX")
def test_the_figures_compile_without_a_bad_box_and_show_their_numbers(solved, tmp_path):
    blocks = [b for name in ("conv-pool", "tie") for b in solved[name][1].values()]
    (tmp_path / "f.tex").write_text(_document(blocks), encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "f.tex"],
                   cwd=tmp_path, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    log = (tmp_path / "f.log").read_text(errors="replace")
    assert not re.findall(r"^(?:!|Overfull|Underfull).*$", log, re.M)
    for page, block in enumerate(blocks, 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page),
                               str(tmp_path / "f.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout.replace("\u2212", "-")
        found = re.findall(r"-?\d+(?:\.\d+)?", text)
        for cell in block.figure.cells:  # as many times as the figure draws it, at least
            assert found.count(cell.plain) >= sum(
                c.plain == cell.plain for c in block.figure.cells), (page, cell.plain)


def test_the_html_page_draws_the_figures_as_svg(solved):
    solution, figures, _ = solved["tie"]
    page = render_html(solution, 4)
    svgs = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="windows".*?</svg>', page,
                      re.S)
    assert len(svgs) == 2
    for svg, block in zip(svgs, [figures["pool"], figures["conv"]], strict=True):
        root = minidom.parseString(svg).documentElement
        numbers = [t.firstChild.data for t in root.getElementsByTagName("text")
                   if "w-num" in t.getAttribute("class")]
        assert numbers == [c.plain for c in block.figure.cells]
        assert len(root.getElementsByTagName("ellipse")) == sum(
            c.mark for c in block.figure.cells)
        assert svg_figure(block.figure).width == float(root.getAttribute("width"))


def test_a_grid_larger_than_the_limit_gets_a_sentence(tmp_path):
    n = MAX_GRID - 1  # with a padding of 1: MAX_GRID + 1 cells a side
    rng = np.random.default_rng(0)
    path = tmp_path / "big.toml"
    path.write_text(f"""
[network]
input = [1, {n}, {n}]
loss = "half_sse"
layers = [{{ type = "conv2d", filters = 1, kernel = 3, stride = 3, padding = 1 }},
          {{ type = "flatten" }}]
[inputs]
x = {np.round(rng.uniform(-1, 1, (1, n, n)), 1).tolist()}
y = {[0.0] * (((n + 2 - 3) // 3 + 1) ** 2)}
[parameters]
K1 = {np.round(rng.uniform(-1, 1, (1, 1, 3, 3)), 1).tolist()}
b1 = [0.1]
""")
    doc = worked_solution(sb.load(path).solve())
    (block,) = [b for b in doc.forward if b.kind == "figure"]
    assert block.figure is None
    assert f"{MAX_GRID + 1} × {MAX_GRID + 1} with its padding" in block.text
