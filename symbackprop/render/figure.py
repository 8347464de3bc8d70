"""The TikZ figure of a solution's computational graph, as the lectures draw gate diagrams.

One node per leaf and per equation, leaves at the left and the output at the right, laid
out by layer (:mod:`symbackprop.render.layout`). On the way out of every node runs a
short horizontal wire carrying the node's value ABOVE it in green and the gradient of the
output with respect to that value BELOW it in red, the two numbers of the lectures'
diagrams (0.73 over -0.53 through the 1/x gate of the sigmoid neuron). Where a value is
used twice the wire splits at a dot after its labels: the numbers are written once, and
the red one is the sum of what comes back along the branches ("gradients add at
branches").

Staged graphs (every node one gate) draw each gate as a circle labelled by its op's
``symbol`` from the op table, with the node's name small below it; graphs written at the
user's granularity draw each equation as a box with its name. Networks too large for a
readable scalar figure (the 8-3-8 autoencoder) get a layer-level diagram instead, one box
per array with its shape; a large graph-form problem gets no figure (None).

Python computes every position and every LaTeX string here; ``templates/figure.tex.j2``
only lays them out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import sympy as sp

from .. import ops
from ..display import Display
from ..graph import Graph, is_atomic
from ..notation import array_name, latex_name
from ..numbers import DEFAULT_PLACES
from .environment import environment
from .layout import Item, Layout, layered_layout
from .printer import latex

#: The text width of an A4 page with 2.2 cm margins is 16.6 cm; keep a little air.
MAX_WIDTH = 16.2
MAX_HEIGHT = 21.0
#: Below this scale the numbers would be too small to read: draw no scalar figure.
MIN_SCALE = 0.7
#: Gate labels wider than this (cm) are drawn in a rounded box rather than a circle.
WIDE_GATE = 0.8
#: More names than this and a scalar figure is no longer readable.
MAX_NAMES = 40

# Font sizes (pt) of the template's styles, for estimating text widths.
NAME_PT = 9.0  # \small: leaves, boxes, gate symbols
NUMBER_PT = 7.0  # \scriptsize: the numbers on the wires, gate names


@dataclass
class FigureNode:
    """One drawn node: its TikZ id, style, LaTeX text, caption and box."""

    name: str
    id: str
    style: str  # "leaf", "gate" or "var"
    text: str
    caption: str
    item: Item
    value: str
    gradient: str
    box_w: float = 0.0  # the drawn shape (the item may be wider, for a caption)
    box_h: float = 0.0
    fanout: bool = False
    # Filled in once the layout is known: ready TikZ for the template.
    at: str = ""  # the node's centre
    wire_end: str = ""  # where the wire leaving it ends (the branch point if used twice)
    wire: str = "wire"  # its style: "result" for the output's arrow out of the figure
    size: str = ""  # minimum width and height
    shape: str = ""  # a different shape than the style's


@dataclass
class FigureEdge:
    tail: str
    head: str
    start: str
    path: list[tuple[str, str]] = field(default_factory=list)  # (connector, target)


@dataclass
class GraphFigure:
    """The computed figure of a graph: nodes, edges, the layout and the scale to fit."""

    nodes: list[FigureNode]
    edges: list[FigureEdge]
    layout: Layout
    scale: float
    output: str


# ----------------------------------------------------------------------------- public


def figure_tex(solution, places: Display | int = DEFAULT_PLACES) -> str | None:
    """The computational graph of ``solution`` as a ``tikzpicture`` (no preamble).

    Forward values above the wires in green (``fwd``), gradients of the output below them
    in red (``bwd``), numbers by the document's display policy (``places``: a
    :class:`~symbackprop.display.Display` or the decimals of the default one). A network too large for a scalar figure is drawn layer by layer; a large
    graph-form problem returns None.
    """
    picture = figure_picture(solution, places)
    return picture[1] if picture is not None else None


def figure_picture(solution, places: Display | int = DEFAULT_PLACES) -> tuple[str, str] | None:
    """:func:`figure_tex` with the kind of figure it drew: ``("graph", tex)`` for the
    scalar gate diagram (values on the wires), ``("network", tex)`` for the layer-level
    diagram (arrays and shapes, no values on the edges), so that a caption can say which."""
    figure = graph_figure(solution, places)
    template = environment().get_template("figure.tex.j2")
    if figure is not None:
        return "graph", template.render(kind="graph", figure=figure)
    network = getattr(solution.problem, "network", None)
    if network is None:
        return None
    return "network", template.render(kind="network", figure=network_figure(solution, places))


def graph_figure(solution, places: Display | int = DEFAULT_PLACES,
                 min_scale: float = MIN_SCALE) -> GraphFigure | None:
    """The scalar figure of the graph, or None when it would not be readable: more than
    :data:`MAX_NAMES` names, or shrunk below ``min_scale`` to fit the page."""
    graph: Graph = solution.graph
    display = Display.of(places)
    if len(graph.names) > MAX_NAMES:
        return None
    gates = is_atomic(graph)
    layers = _layers(graph)
    nodes: dict[str, FigureNode] = {}
    for i, name in enumerate(graph.names):
        value = display.text(solution.values[name])
        gradient = display.text(solution.gradients.get(name, 0))
        nodes[name] = _figure_node(graph, name, f"n{i}", layers[name], gates, value, gradient)
    edges = [(m, node.name) for node in graph.nodes for m in node.inputs]
    for name, users in graph.users.items():
        nodes[name].fanout = len(users) > 1
    layout = layered_layout([n.item for n in nodes.values()], edges)
    scale = min(1.0, MAX_WIDTH / layout.width, MAX_HEIGHT / max(layout.height, 1e-9))
    if scale < min_scale:
        return None
    routes = [_edge(layout, nodes, route) for route in layout.routes]
    for n in nodes.values():
        n.at = _pt(n.item.x, n.item.y)
        n.wire_end = _pt(layout.stub_end(n.name), n.item.y)
        n.wire = "result" if n.name == graph.output else "wire"
        n.size = f"minimum width={n.box_w:.3f}cm, minimum height={n.box_h:.3f}cm{n.shape}"
    return GraphFigure(list(nodes.values()), routes, layout, _floor(scale), graph.output)


# ----------------------------------------------------------------------------- layers


def _layers(graph: Graph) -> dict[str, int]:
    """Nodes by longest path from the leaves; each leaf one layer before its first user,
    so that a bias or a target enters where it is used instead of across the figure."""
    layer: dict[str, int] = {}
    for node in graph.nodes:
        layer[node.name] = 1 + max((layer.get(m, 0) for m in node.inputs), default=-1)
    for name in graph.leaves:
        users = graph.users[name]
        layer[name] = min(layer[u] for u in users) - 1 if users else 0
    if not graph.users[graph.output]:  # the output at the right, even past side branches
        layer[graph.output] = max(layer.values())
    return layer


# ----------------------------------------------------------------------------- nodes


def _figure_node(graph: Graph, name: str, tid: str, layer: int, gates: bool,
                 value: str, gradient: str) -> FigureNode:
    stub = max(_number_width(value), _number_width(gradient)) + 0.3
    label_half = 0.42  # the numbers above and below the wire
    if graph.is_leaf(name):
        text = latex_name(name)
        w = math_width(text, NAME_PT) + 0.15
        item = Item(name, layer, w, max(0.25, label_half), max(0.25, label_half), stub,
                    align="right")
        return FigureNode(name, tid, "leaf", text, "", item, value, gradient, w, 0.5)
    node = graph.node(name)
    k = len(node.inputs)
    if gates and node.op is not None:
        text = _gate_label(node.expr)
        tw = math_width(text, NAME_PT)
        d = max(0.72, math.hypot(tw, 0.32) + 0.1, 0.16 * k)
        w = d
        if tw > WIDE_GATE:  # a word such as softmax: a rounded box, not a huge circle
            w, d = tw + 0.3, max(0.72, 0.16 * k)
        caption = latex_name(name)
        below = d / 2 + 0.34  # the name under the gate
        item = Item(name, layer, max(w, math_width(caption, NUMBER_PT) + 0.1),
                    max(d / 2, label_half), max(below, label_half), stub)
        node = FigureNode(name, tid, "gate", text, caption, item, value, gradient, w, d)
        if w != d:
            node.shape = ", rectangle, rounded corners=0.3cm"
        return node
    text = latex_name(name)
    h = max(0.62, 0.14 * k)
    w = math_width(text, NAME_PT) + 0.4
    item = Item(name, layer, w, max(h / 2, label_half), max(h / 2, label_half), stub)
    return FigureNode(name, tid, "var", text, "", item, value, gradient, w, h)


def _gate_label(expr: sp.Expr) -> str:
    """A gate's label: its op's symbol, with a constant argument written in (+1, ×2, x²),
    as the lectures label the +1 gate of the sigmoid neuron."""
    op, args = ops.classify(expr)
    constants = [a for a in args if not a.free_symbols]
    if op.notation.constant and len(constants) == 1 and len(args) == 2:
        label = op.notation.constant(args, constants[0], latex)
        if label is not None:
            return label
    return op.notation.symbol


# ----------------------------------------------------------------------------- edges


def _edge(layout: Layout, nodes: dict[str, FigureNode], route) -> FigureEdge:
    tail = layout.items[route.tail]
    start = _pt(layout.stub_end(route.tail), tail.y)
    path = []
    for x_in, x_out, y in route.waypoints:
        path.append(("to[flow]", _pt(x_in, y)))
        path.append(("--", _pt(x_out, y)))
    target = nodes[route.head]
    path.append(_entry(layout, target, route))
    return FigureEdge(route.tail, route.head, start, path)


def _entry(layout: Layout, target: FigureNode, route) -> tuple[str, str]:
    """Where an edge enters its head, as TikZ (see :func:`entry_side`)."""
    side, amount = entry_side(layout, target, route)
    if side == "angle":
        return (f"to[out=0,in={amount}]", f"({target.id}.{amount})")
    return ("to[flow]", f"([yshift={amount:.3f}cm]{target.id}.west)")


def entry_side(layout: Layout, target: FigureNode, route) -> tuple[str, float]:
    """Where an edge enters its head: spread over the west side, top input on top.

    ``("angle", degrees)`` on a gate's circle, or ``("west", dy)``: the shift in cm
    from the middle of a box's west side. The SVG figure reads the same answer.
    """
    incoming = [r for r in layout.routes if r.head == route.head]

    def approach(r):
        return r.waypoints[-1][2] if r.waypoints else layout.items[r.tail].y

    incoming.sort(key=lambda r: (-approach(r), r.tail))
    k, i = len(incoming), incoming.index(route)
    rel = i - (k - 1) / 2
    if target.style == "gate":
        return "angle", round(180 + min(28, 110 / k) * rel)
    item = target.item
    half = min(item.up, item.down)
    h = min(half, max(0.31, 0.07 * k)) - 0.1
    return "west", 0 if k == 1 else -2 * h * rel / (k - 1)


def _pt(x: float, y: float) -> str:
    return f"({x:.3f},{y:.3f})"


def _floor(scale: float) -> float:
    """A scale rounded down to 3 decimals, so that the figure still fits."""
    return math.floor(scale * 1000) / 1000


# ----------------------------------------------------------------------------- widths

_COMMAND = re.compile(r"\\([A-Za-z]+)")
#: Commands that set a word (width in em), and those that set nothing by themselves.
_WORDS = {"cdot": 0.28, "partial": 0.6, **ops.COMMAND_WIDTHS}  # \\log, \\tanh, \\times, ...
_NO_WIDTH = {"mathrm", "hat", "bar", "tilde", "dot", "overline", "operatorname", "frac", "left",
             "right", "tfrac", "mathsf"}
#: Widths (em) of Computer Modern math glyphs, rounded up.
_GLYPH = {**dict.fromkeys("0123456789", 0.5), **dict.fromkeys("()[]|", 0.39),
          **dict.fromkeys("+-=<>", 0.78), ",": 0.28, ".": 0.28, "/": 0.5, " ": 0.0}


def math_width(tex: str, pt: float) -> float:
    """A generous estimate (cm) of the width of math ``tex`` set at ``pt`` points:
    letters 0.6 em, digits 0.5 em, sub- and superscripts at 70 %."""
    em = 0.0
    for m in _COMMAND.finditer(tex):
        word = m.group(1)
        em += _WORDS.get(word, 0.0 if word in _NO_WIDTH else 0.8)
    depth, script = 0, []  # brace depth; the depths at which a script began
    after_script = False
    for ch in _COMMAND.sub("", tex):
        if ch in "_^":
            after_script = True
            continue
        if ch == "{":
            depth += 1
            if after_script:
                script.append(depth)
            after_script = False
            continue
        if ch == "}":
            if script and script[-1] == depth:
                script.pop()
            depth -= 1
            continue
        small = bool(script) or after_script
        after_script = False
        em += _GLYPH.get(ch, 0.6) * (0.7 if small else 1.0)
    return em * pt * 0.03515  # 1 pt = 0.03515 cm


def _number_width(text: str) -> float:
    """Width (cm) of a formatted number at the wires' size: digits are 0.5 em."""
    minus = 0.9 if text.startswith("-") else 0.0
    return (len(text.lstrip("-")) * 0.5 + minus) * NUMBER_PT * 0.03515


# ----------------------------------------------------------------------------- networks

LOSS_LATEX = {
    "half_sse": r"\tfrac{1}{2}\lVert y - a\rVert^{2}", "sse": r"\lVert y - a\rVert^{2}",
    "mse": r"\tfrac{1}{n}\lVert y - a\rVert^{2}", "bce": r"\mathrm{BCE}",
    "cce": r"\mathrm{CE}", "hinge": r"\mathrm{hinge}",
}


@dataclass
class Box:
    id: str
    text: str
    shape: str
    x: float
    y: float
    style: str = "array"

    @property
    def at(self) -> str:
        return _pt(self.x, self.y)


@dataclass
class Arrow:
    tail: str
    head: str
    label: str = ""


@dataclass
class NetworkFigure:
    boxes: list[Box]
    arrows: list[Arrow]
    note: str
    scale: float


def network_figure(solution, places: Display | int = DEFAULT_PLACES) -> NetworkFigure:
    """A layer-level diagram of a network-form problem: x, z1, a1, ..., L in a row, each
    array with its shape, the weights and biases above the pre-activations they feed."""
    net = solution.problem.network
    shapes = net.shapes()
    step = 2.6
    boxes = [Box("x", array_name("x"), _shape(shapes["x"]), 0.0, 0.0)]
    arrows: list[Arrow] = []
    previous = "x"
    x = 0.0
    for layer in range(1, net.depth + 1):
        z, a, w, b = f"z{layer}", f"a{layer}", f"W{layer}", f"b{layer}"
        x += step
        boxes.append(Box(z, array_name(z), _shape(shapes[z]), x, 0.0))
        boxes.append(Box(w, array_name(w), _shape(shapes[w]), x - 0.75, 1.8, "param"))
        boxes.append(Box(b, array_name(b), _shape(shapes[b]), x + 0.75, 1.8, "param"))
        arrows += [Arrow(previous, z), Arrow(w, z), Arrow(b, z)]
        x += step
        act = net.activations[layer - 1]
        symbol = ops.OPS[act].notation.symbol if act in ops.OPS else r"\mathrm{id}"
        boxes.append(Box(a, array_name(a), _shape(shapes[a]), x, 0.0))
        arrows.append(Arrow(z, a, symbol))
        previous = a
    x += step + 0.9  # room for the loss's formula over the arrow
    out = solution.graph.output
    boxes.append(Box("L", latex_name(out), _shape(()), x, 0.0, "loss"))
    boxes.append(Box("y", array_name("y"), _shape(shapes["y"]), x, 1.8, "param"))
    arrows += [Arrow(previous, "L", LOSS_LATEX.get(net.loss, "")), Arrow("y", "L")]
    note = f"{latex_name(out)} = {Display.of(places).tex(solution.values[out])}"
    scale = min(1.0, MAX_WIDTH / (x + 1.6))
    return NetworkFigure(boxes, arrows, note, _floor(scale))


def _shape(shape: tuple[int, ...]) -> str:
    if not shape:
        return r"1 \times 1"
    rows, cols = (shape + (1,))[:2]
    return rf"{rows} \times {cols}"
