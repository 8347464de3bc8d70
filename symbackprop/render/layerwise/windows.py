"""The figures of a convolution's window and of a pooling layer's windows, drawn where
the grids are small enough to read.

* The convolution: the first channel of its input, its padding drawn as padding (dashed
  cells holding 0), the kernel's window at the element the forward pass works out
  (shaded, in a thick frame), the window one stride on (dashed), the kernel and the bias
  beside it, and the output with the element the window produces (shaded).
* The pooling: the first channel of its input with each window outlined, the windows
  shaded in turn (white and grey, so that neighbours differ in greyscale print too;
  overlapping windows are told apart by their frames, solid, dashed, dotted, dash-dotted),
  each max-pool window's chosen maximum circled (the element the engine's local
  derivative routes the gradient to: the first maximum in row-major order at a tie, as
  PyTorch), and the pooled output, each element shaded or framed as its window.

A figure is drawn when its input has at most :data:`MAX_GRID` rows and columns (padding
included) and it fits the text width at :data:`MIN_SCALE` of its size or more; otherwise
the block says in a sentence why there is none. Python computes every position, style and
string here; ``templates/windows.tex.j2`` (TikZ) and ``templates/html/windows.svg.j2``
(the HTML handout's inline SVG, :func:`svg_figure`) lay them out. Every number is the
document's: as the arrays of the same section show it (:meth:`.tensors.Net.text`), and
claimed under its key, so that one quantity shows one text in every place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ...display import tex_number
from .. import document as d
from ..figure import MAX_WIDTH, math_width
from .tensors import Net, sub

#: Rows or columns of the drawn input (its padding included) beyond which no figure.
MAX_GRID = 8
#: Below this scale the numbers would be too small to read: no figure.
MIN_SCALE = 0.75
#: The cells' numbers are set in \footnotesize (8 pt); a cell is at least this wide (cm).
NUMBER_PT = 8.0
NAME_PT = 10.0  # \small: the grids' names, the pooling's name over its arrow
MIN_CELL = 0.85
#: The room between two grids (cm), for the operator or the arrow there.
GAP = 1.0
#: The frames of overlapping pooling windows, in turn (the template's styles), each
#: drawn this far inside its window's edge (cm), so that no two frames run on one line.
FRAMES = ("frame0", "frame1", "frame2", "frame3")
INSETS = (0.04, 0.1, 0.16, 0.22)


@dataclass
class Cell:
    """One square of a grid: its centre and side (cm, y up), its number, how it is drawn."""

    x: float
    y: float
    side: float
    text: str  # LaTeX math of the number
    plain: str  # the number as text (the SVG's)
    fill: str = "plain"  # "plain", "hit" (the window), "odd" (every other pooling window)
    pad: bool = False  # a padding cell: dashed, its 0 in grey
    mark: bool = False  # a pooling window's chosen maximum: circled
    frame: str = ""  # an overlapping window's output element: framed as its window

    @property
    def at(self) -> str:
        return _pt(self.x, self.y)

    @property
    def box(self) -> str:
        h = self.side / 2
        return f"{_pt(self.x - h, self.y - h)} rectangle {_pt(self.x + h, self.y + h)}"

    @property
    def inner(self) -> str:
        """The cell's box drawn a little inside it (an output element framed as its window)."""
        h = self.side / 2 - 0.07
        return f"{_pt(self.x - h, self.y - h)} rectangle {_pt(self.x + h, self.y + h)}"

    @property
    def rx(self) -> str:  # the circle around a maximum: an ellipse around its number
        return f"{math_width(self.text, NUMBER_PT) / 2 + 0.13:.3f}"

    @property
    def ry(self) -> str:
        return "0.250"


@dataclass
class Frame:
    """A rectangle drawn around cells: a window (its style names how)."""

    x0: float
    y0: float
    x1: float
    y1: float
    style: str  # "window", "next", or one of FRAMES

    @property
    def box(self) -> str:
        return f"{_pt(self.x0, self.y0)} rectangle {_pt(self.x1, self.y1)}"


@dataclass
class Label:
    """Text at a point: math (``tex``, with ``runs`` for the SVG) or a plain note."""

    x: float
    y: float
    tex: str = ""
    runs: list = field(default_factory=list)  # [(text, "base" | "sub" | "sup")]
    note: str = ""  # plain text (escaped by the template)
    anchor: str = "north"  # "north" (below the point), "south", "east", "center"

    @property
    def at(self) -> str:
        return _pt(self.x, self.y)


@dataclass
class Arrow:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def path(self) -> str:
        return f"{_pt(self.x0, self.y0)} -- {_pt(self.x1, self.y1)}"


@dataclass
class WindowFigure:
    """A computed figure: ``kind`` "conv" or "pool", everything in cm with y up."""

    kind: str
    cells: list[Cell]
    frames: list[Frame]
    labels: list[Label]
    arrows: list[Arrow]
    left: float
    right: float
    bottom: float
    top: float
    scale: float
    caption: str
    #: The input cell of each window as (window's output element, input element) names,
    #: and the circled maxima: what the figure says, for the tests to check.
    window: dict = field(default_factory=dict)
    marked: dict = field(default_factory=dict)
    #: The names of the numbers drawn (each claimed under its key).
    shown: list = field(default_factory=list)


# ----------------------------------------------------------------------------- blocks


def conv_block(c: Net, layer, element: str) -> d.Block:
    """The convolution's figure at the output element ``element`` (the one the forward
    pass works out), or a sentence saying why there is none."""
    figure = conv_figure(c, layer, element)
    if isinstance(figure, str):
        return d.Block(kind="figure", text=figure)
    return d.Block(kind="figure", figure=figure, claims=_claims(c, figure))


def pool_block(c: Net, layer) -> d.Block:
    figure = pool_figure(c, layer)
    if isinstance(figure, str):
        return d.Block(kind="figure", text=figure)
    return d.Block(kind="figure", figure=figure, claims=_claims(c, figure))


def _claims(c: Net, figure: WindowFigure) -> list[tuple[str, str]]:
    return [(name, c.text(name, c.vals)) for name in figure.shown]


# ----------------------------------------------------------------------------- convolution


def conv_figure(c: Net, layer, element: str) -> WindowFigure | str:
    pos = layer.position
    (kh, kw), stride, pad = layer["kernel"], layer["stride"], layer["padding"]
    xn, an = c.names(c.input_of(layer)), c.names(layer.output)
    kn, bn = c.names(f"K{pos}"), c.names(f"b{pos}")
    *lead, f, i, j = (int(k) for k in np.argwhere(an == element)[0])
    lead = tuple(lead)
    grid, out, kernel = xn[lead + (0,)], an[lead + (f,)], kn[f, 0]
    h, w = grid.shape
    hp, wp = h + 2 * pad, w + 2 * pad
    channels = xn.shape[len(lead)]
    if max(hp, wp, *out.shape) > MAX_GRID:
        return (f"No figure of the kernel's window: the input is {hp} × {wp} with its padding, "
                f"more than the {MAX_GRID} × {MAX_GRID} cells drawn.")
    texts = _texts(c, [grid, out, kernel, bn])
    side = _side(list(texts.values()) + ["0"])
    drawing = _Drawing(side)
    # The input with its padding: padded cell (r, s) is input (r - pad, s - pad).
    top_window = (i * stride, j * stride)
    window_names = {}
    x0 = 0.0
    for r in range(hp):
        for s in range(wp):
            inside = pad <= r < pad + h and pad <= s < pad + w
            name = grid[r - pad, s - pad] if inside else None
            hit = (top_window[0] <= r < top_window[0] + kh
                   and top_window[1] <= s < top_window[1] + kw)
            if hit:
                window_names[(r - top_window[0], s - top_window[1])] = name
            drawing.cell(x0, hp, r, s, texts.get(name, "0"),
                         fill="hit" if hit else "plain" if inside else "pad",
                         pad=not inside, name=name)
    drawing.frame(x0, hp, top_window, (kh, kw), "window")
    nxt = _next_window(i, j, out.shape)
    if nxt is not None:
        corner = (nxt[0] * stride, nxt[1] * stride)
        drawing.frame(x0, hp, corner, (kh, kw), "next", inset=0.07)
        drawing.stride_arrow(x0, hp, top_window, corner, (kh, kw), stride)
    drawing.label(x0, wp, sub(c.input_of(layer), lead + (0,)), hp)
    drawing.note(x0, wp, f"padding {pad}, stride {stride}", hp)
    x0 += wp * side + GAP
    drawing.operator(x0 - GAP / 2, r"\star")
    for r in range(kh):
        for s in range(kw):
            drawing.cell(x0, kh, r, s, texts[kernel[r, s]], fill="hit", name=kernel[r, s])
    drawing.label(x0, kw, sub(f"K{pos}", (f, 0)), kh)
    x0 += kw * side + GAP
    if channels > 1:  # the other channels' sums, then the bias
        drawing.operator(x0 - GAP / 2, r"+")
        drawing.operator(x0 + 0.2, r"\cdots")
        x0 += 0.4 + GAP
    drawing.operator(x0 - GAP / 2, "+")
    drawing.cell(x0, 1, 0, 0, texts[bn[f]], fill="hit", name=bn[f])
    drawing.label(x0, 1, sub(f"b{pos}", (f,)), 1)
    x0 += side + GAP
    drawing.operator(x0 - GAP / 2, "=")
    oh, ow = out.shape
    for r in range(oh):
        for s in range(ow):
            drawing.cell(x0, oh, r, s, texts[out[r, s]],
                         fill="hit" if (r, s) == (i, j) else "plain", name=out[r, s])
    drawing.label(x0, ow, sub(layer.output, lead + (f,)), oh)
    others = ("" if channels == 1 else
              ", plus the same sum over the other input channel (with its own slice of the "
              "kernel)" if channels == 2 else
              f", plus the same sum over each of the other {channels - 1} input channels "
              "(with its own slice of the kernel)")
    moved = ("The dashed frame is the window one stride on." if nxt is not None else "")
    padded = " The dashed cells are the padding, each 0." if pad else ""
    caption = (f"The {kh} × {kw} kernel of filter {f + 1} over "
               f"{'channel 1 of ' if channels > 1 else ''}the input{' of sample 1' if lead else ''}, at "
               f"the element worked out above: the shaded window's numbers times the kernel's, "
               f"summed{others}, plus the bias, give the shaded output element. "
               f"{moved}{padded}").strip()
    figure = drawing.figure("conv", caption)
    if figure is None:
        return ("No figure of the kernel's window: its grids do not fit the page at a "
                "readable size.")
    figure.window = {element: window_names}
    return figure


def _next_window(i: int, j: int, shape) -> tuple[int, int] | None:
    """The window one stride on: to the right, or else one row down."""
    if j + 1 < shape[1]:
        return i, j + 1
    if i + 1 < shape[0]:
        return i + 1, j
    return None


# ----------------------------------------------------------------------------- pooling


def pool_figure(c: Net, layer) -> WindowFigure | str:
    size, stride = layer["size"], layer["stride"]
    xn, an = c.names(c.input_of(layer)), c.names(layer.output)
    lead = (0,) * (xn.ndim - 2)
    grid, out = xn[lead], an[lead]
    h, w = grid.shape
    oh, ow = out.shape
    if max(h, w) > MAX_GRID:
        return (f"No figure of the pooling windows: the input is {h} × {w}, more than the "
                f"{MAX_GRID} × {MAX_GRID} cells drawn.")
    texts = _texts(c, [grid, out])
    overlap = stride < size
    is_max = layer.type == "maxpool"
    # room for the frames drawn inside the cells, or for the circles around the maxima
    side = _side(list(texts.values()), 2 * INSETS[-1] if overlap else 0.1 if is_max else 0.0)
    locals_ = c.solution.evaluation.locals
    fills, frames, windows, chosen = {}, {}, {}, {}
    for i in range(oh):
        for j in range(ow):
            o = out[i, j]
            members = [grid[i * stride + u, j * stride + v]
                       for u in range(size) for v in range(size)]
            windows[o] = members
            if is_max:  # where the engine routes the window's gradient
                chosen[o] = [m for m in members if locals_.get((o, m), 0) != 0]
            turn = (i % 2) * 2 + j % 2
            frames[(i, j)] = (FRAMES[turn], INSETS[turn]) if overlap else ("window", 0.0)
            if not overlap:
                for m in members:
                    fills[m] = "odd" if (i + j) % 2 else "plain"
    circled = {m for ms in chosen.values() for m in ms}
    drawing = _Drawing(side)
    for r in range(h):
        for s in range(w):
            name = grid[r, s]
            drawing.cell(0.0, h, r, s, texts[name], fill=fills.get(name, "plain"),
                         mark=name in circled, name=name)
    for (i, j), (style, inset) in frames.items():
        drawing.frame(0.0, h, (i * stride, j * stride), (size, size), style, inset=inset)
    drawing.label(0.0, w, sub(c.input_of(layer), lead), h)
    # the layer as the problem's model writes it (maxpool_{2×2}) over the arrow
    over = rf"\operatorname{{{layer.type}}}_{{{size} \times {size}}}"
    x0 = w * side + max(2 * GAP, math_width(over, NAME_PT) + 0.5)
    drawing.arrow(w * side + 0.15, x0 - 0.15, over, f"stride {stride}")
    for i in range(oh):
        for j in range(ow):
            drawing.cell(x0, oh, i, j, texts[out[i, j]],
                         fill="plain" if overlap else ("odd" if (i + j) % 2 else "plain"),
                         frame=frames[(i, j)][0] if overlap else "", name=out[i, j])
    drawing.label(x0, ow, sub(layer.output, lead), oh)
    covered = {m for ms in windows.values() for m in ms}
    left_out = " Cells in no window are not read." if len(covered) < h * w else ""
    told = ("framed in turn solid, dashed, dotted and dash-dotted (they overlap), each output "
            "element framed as its window" if overlap else
            "shaded in turn, each output element shaded as its window")
    channel = "channel 1 of " if xn.ndim >= 3 and xn.shape[-3] > 1 else ""
    rule = (" Circled: each window's maximum, the first in row-major order at a tie; it "
            "alone receives the window's gradient." if is_max else
            " Each output element is the mean of its window's numbers.")
    sample = " (sample 1)" if xn.ndim == 4 else ""
    caption = (f"The {size} × {size} windows (stride {stride}) over {channel}the "
               f"{'max-pool' if is_max else 'average pool'}'s input{sample}, {told}."
               f"{rule}{left_out}")
    figure = drawing.figure("pool", caption)
    if figure is None:
        return ("No figure of the pooling windows: its grids do not fit the page at a "
                "readable size.")
    figure.window = windows
    figure.marked = chosen
    return figure


# ----------------------------------------------------------------------------- drawing


class _Drawing:
    """Grids placed left to right, centred on y = 0, with cells of one side."""

    def __init__(self, side: float):
        self.side = side
        self.cells: list[Cell] = []
        self.frames: list[Frame] = []
        self.labels: list[Label] = []
        self.arrows: list[Arrow] = []
        self.shown: list[str] = []  # the names of the numbers drawn, in order
        self.right = 0.0
        self.top = 0.0
        self.bottom = 0.0

    def _corner(self, x0: float, rows: int) -> tuple[float, float]:
        """The top left corner of a grid of ``rows`` starting at ``x0``."""
        return x0, rows * self.side / 2

    def cell(self, x0: float, rows: int, r: int, s: int, text: str, *, fill: str = "plain",
             pad: bool = False, mark: bool = False, frame: str = "", name=None) -> None:
        left, top = self._corner(x0, rows)
        x, y = left + (s + 0.5) * self.side, top - (r + 0.5) * self.side
        self.cells.append(Cell(x, y, self.side, tex_number(text), text, fill, pad, mark, frame))
        if name is not None:
            self.shown.append(name)
        self.right = max(self.right, x + self.side / 2)
        self.top = max(self.top, top)
        self.bottom = min(self.bottom, -top)

    def frame(self, x0: float, rows: int, corner, size, style: str, inset: float = 0.0) -> None:
        left, top = self._corner(x0, rows)
        (r, s), (kh, kw) = corner, size
        self.frames.append(Frame(left + s * self.side + inset, top - (r + kh) * self.side + inset,
                                 left + (s + kw) * self.side - inset, top - r * self.side - inset,
                                 style))

    def stride_arrow(self, x0: float, rows: int, first, second, size, stride: int) -> None:
        """An arrow from a window's centre line to the next one's, outside the grid."""
        left, top = self._corner(x0, rows)
        (r0, s0), (r1, s1), (kh, kw) = first, second, size
        if r0 == r1:  # one stride to the right: above the grid
            y = top + 0.22
            xa, xb = (left + (s + kw / 2) * self.side for s in (s0, s1))
            self.arrows.append(Arrow(xa, y, xb, y))
            self.labels.append(Label((xa + xb) / 2, y + 0.05, note=f"stride {stride}",
                                     anchor="south"))
            self.top = max(self.top, y + 0.45)
        else:  # one stride down: left of the grid
            x = left - 0.22
            ya, yb = (top - (r + kh / 2) * self.side for r in (r0, r1))
            self.arrows.append(Arrow(x, ya, x, yb))
            self.labels.append(Label(x - 0.05, (ya + yb) / 2, note=f"stride {stride}",
                                     anchor="east"))

    def label(self, x0: float, cols: int, tex: str, rows: int) -> None:
        """The name of a grid of ``rows`` under it."""
        y = -rows * self.side / 2 - 0.12
        self.labels.append(Label(x0 + cols * self.side / 2, y, tex=tex, runs=_runs(tex)))
        self.bottom = min(self.bottom, y - 0.5)

    def note(self, x0: float, cols: int, text: str, rows: int) -> None:
        y = -rows * self.side / 2 - 0.62
        self.labels.append(Label(x0 + cols * self.side / 2, y, note=text))
        self.bottom = min(self.bottom, y - 0.4)

    def operator(self, x: float, tex: str) -> None:
        self.labels.append(Label(x, 0.0, tex=tex, runs=_runs(tex), anchor="center"))

    def arrow(self, xa: float, xb: float, over: str, under: str) -> None:
        self.arrows.append(Arrow(xa, 0.0, xb, 0.0))
        self.labels.append(Label((xa + xb) / 2, 0.08, tex=over, runs=_runs(over),
                                 anchor="south"))
        self.labels.append(Label((xa + xb) / 2, -0.08, note=under))

    def figure(self, kind: str, caption: str) -> WindowFigure | None:
        left = min([0.0] + [a.x0 - 1.3 for a in self.arrows if a.x0 == a.x1])
        width = self.right - left
        scale = min(1.0, MAX_WIDTH / width)
        if scale < MIN_SCALE:
            return None
        return WindowFigure(kind, self.cells, self.frames, self.labels, self.arrows, left,
                            self.right, self.bottom, self.top, int(scale * 1000) / 1000,
                            caption, shown=self.shown)


def _texts(c: Net, arrays) -> dict[str, str]:
    """Each element's number as the section's arrays show it."""
    return {name: c.text(name, c.vals) for a in arrays for name in np.asarray(a).flat}


def _side(texts: list[str], frames: float = 0.0) -> float:
    """One side for every cell: the widest number, some air, and the room the frames
    drawn inside the cells take."""
    widest = max(math_width(tex_number(t), NUMBER_PT) for t in texts)
    return round(max(MIN_CELL, widest + 0.24 + frames), 3)


def _pt(x: float, y: float) -> str:
    return f"({x:.3f},{y:.3f})"


_SYMBOLS = {r"\star": "⋆", r"\cdots": "⋯", "+": "+", "=": "="}


def _runs(tex: str) -> list[tuple[str, str]]:
    """A label's LaTeX as SVG text runs: ``K^{[1]}_{1,1}`` as K, [1] raised, 1,1 lowered;
    ``\\operatorname{max}_{2 \\times 2}`` as max, 2×2 lowered."""
    if tex in _SYMBOLS:
        return [(_SYMBOLS[tex], "base")]
    m = re.fullmatch(r"\\operatorname\{(\w+)\}_\{(\d+) \\times (\d+)\}", tex)
    if m:
        return [(m.group(1), "base"), (f"{m.group(2)}×{m.group(3)}", "sub")]
    m = re.fullmatch(r"(\w+)(?:\^\{([^{}]*)\})?(?:_\{([^{}]*)\})?", tex)
    if not m:
        return [(tex, "base")]
    runs = [(m.group(1), "base")]
    if m.group(2):
        runs.append((m.group(2), "sup"))
    if m.group(3):
        runs.append((m.group(3), "sub"))
    return runs


# ----------------------------------------------------------------------------- SVG

#: Pixels per centimetre of the figure, and the margin around it (cm): as the graph's SVG.
PX = 44.0
MARGIN = 0.2


@dataclass
class SvgWindows:
    """A figure in SVG pixels (y down), for ``templates/html/windows.svg.j2``."""

    width: float
    height: float
    rects: list[dict]  # x, y, w, h, cls: the cells, the windows' frames
    ellipses: list[dict]  # cx, cy, rx, ry: the circled maxima
    texts: list[dict]  # x, y, text, cls: the numbers and the notes
    labels: list[dict]  # x, y, runs, anchor: the grids' names, the operators
    arrows: list[dict]  # x1, y1, x2, y2
    caption: str


def svg_figure(figure: WindowFigure) -> SvgWindows:
    """The figure's positions converted to SVG pixels: the same cells, frames, numbers."""

    def X(x: float) -> float:
        return round((x - figure.left + MARGIN) * PX, 1)

    def Y(y: float) -> float:
        return round((figure.top - y + MARGIN) * PX, 1)

    def rect(x0, y0, x1, y1, cls) -> dict:
        return {"x": X(x0), "y": Y(y1), "w": round((x1 - x0) * PX, 1),
                "h": round((y1 - y0) * PX, 1), "cls": cls}

    rects, ellipses, texts, labels = [], [], [], []
    for c in figure.cells:
        h = c.side / 2
        rects.append(rect(c.x - h, c.y - h, c.x + h, c.y + h,
                          f"w-cell {c.fill}" + (" padding" if c.pad else "")))
    for c in figure.cells:
        if c.frame:
            h = c.side / 2 - 0.07
            rects.append(rect(c.x - h, c.y - h, c.x + h, c.y + h, f"w-frame {c.frame}"))
        if c.mark:
            # a browser's sans-serif digits are wider than Computer Modern's
            ellipses.append({"cx": X(c.x), "cy": Y(c.y), "rx": round(float(c.rx) * PX * 1.2, 1),
                             "ry": round(float(c.ry) * PX, 1)})
        texts.append({"x": X(c.x), "y": Y(c.y) + 4.5, "text": c.plain, "anchor": "middle",
                      "cls": "w-num" + (" pad" if c.pad else "")})
    for f in figure.frames:
        rects.append(rect(f.x0, f.y0, f.x1, f.y1, f"w-frame {f.style}"))
    baseline = {"north": 13.0, "south": -4.0, "east": 4.0, "center": 5.0}
    for label in figure.labels:
        at = {"x": X(label.x), "y": Y(label.y) + baseline[label.anchor],
              "anchor": {"east": "end"}.get(label.anchor, "middle")}
        if label.note:
            texts.append({**at, "text": label.note, "cls": "w-note"})
        else:
            word = label.tex.startswith(r"\operatorname")  # upright, as in the PDF
            labels.append({**at, "runs": label.runs, "cls": "w-word" if word else "w-name"})
    arrows = [{"x1": X(a.x0), "y1": Y(a.y0), "x2": X(a.x1), "y2": Y(a.y1)}
              for a in figure.arrows]
    return SvgWindows(round((figure.right - figure.left + 2 * MARGIN) * PX, 1),
                      round((figure.top - figure.bottom + 2 * MARGIN) * PX, 1),
                      rects, ellipses, texts, labels, arrows, figure.caption)
