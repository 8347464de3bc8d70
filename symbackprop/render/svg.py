"""The computational graph as inline SVG, laid out as the TikZ figure is.

The positions are the figure's (:func:`~.figure.graph_figure`, on the layered layout of
:mod:`.layout`): the same columns, the same wires with the value above in green and the
gradient below in red, the same branch dots. This module only converts centimetres with
y up into SVG pixels with y down and writes the edges as cubic curves with horizontal
tangents, as TikZ's ``out=0, in=180`` draws them. ``templates/html/graph.svg.j2`` lays
the result out; each node is a focusable group with an accessible label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.dom import minidom

from ..display import Display
from ..numbers import DEFAULT_PLACES
from .figure import entry_side, graph_figure
from .mathml import name_mathml, tex_label_text

PX = 40.0  # pixels per centimetre of the TikZ figure
MARGIN = 0.3  # cm around the drawing


@dataclass
class SvgNode:
    index: int
    name: str
    style: str  # "leaf", "gate" or "var"
    label: list  # [(text, "base" | "sub" | "sup")]
    caption: list  # the name under a gate, same form
    x: float
    y: float
    w: float
    h: float
    round: bool  # a circle (a gate) rather than a box
    wire: tuple  # (x0, x1, y) of the wire leaving it
    fanout: bool
    value: str
    gradient: str
    output: bool
    aria: str


@dataclass
class SvgGraph:
    width: float
    height: float
    nodes: list[SvgNode]
    edges: list[str]  # path data


def name_parts(mathml: str) -> list[tuple[str, str]]:
    """A MathML name (from :func:`~.mathml.name_mathml`) as SVG text runs: (text, where)."""
    root = minidom.parseString(f"<mrow>{mathml}</mrow>").documentElement
    runs: list[tuple[str, str]] = []

    def walk(node, where: str) -> None:
        if node.nodeType == node.TEXT_NODE:
            if node.data.strip():
                runs.append((node.data, where))
            return
        tag = node.tagName
        kids = [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE]
        if tag in ("msub", "msup"):
            walk(kids[0], where)
            walk(kids[1], "sub" if tag == "msub" else "sup")
        elif tag == "msubsup":
            walk(kids[0], where)
            walk(kids[2], "sup")
            walk(kids[1], "sub")
        elif tag == "mover":  # an accent: the combining mark after the letter
            walk(kids[0], where)
            runs.append(("\u0302" if "^" in kids[1].toxml() else "\u0304", where))
        else:
            for c in node.childNodes:
                walk(c, where)

    walk(root, "base")
    merged: list[tuple[str, str]] = []
    for text, where in runs:
        if merged and merged[-1][1] == where:
            merged[-1] = (merged[-1][0] + text, where)
        else:
            merged.append((text, where))
    return merged


def plain_name(name: str) -> str:
    """A name as plain text for screen readers: z_a, W^[1]_12 read as written."""
    return "".join(t if w == "base" else ("_" if w == "sub" else "^") + t
                   for t, w in name_parts(name_mathml(name)))


def graph_svg(solution, places: Display | int = DEFAULT_PLACES,
              values: bool = True) -> SvgGraph | None:
    """The figure of ``solution`` in pixels, or None where the TikZ figure has none
    (more than 40 names); ``values=False`` leaves the numbers off (a practice page)."""
    figure = graph_figure(solution, places, min_scale=0.0)
    if figure is None:
        return None
    layout = figure.layout
    top = max(it.y + it.up for it in layout.items.values())
    bottom = min(it.y - it.down for it in layout.items.values())

    def X(x: float) -> float:
        return round((x + MARGIN) * PX, 1)

    def Y(y: float) -> float:
        return round((top - y + MARGIN) * PX, 1)

    nodes = []
    for i, n in enumerate(figure.nodes):
        it = n.item
        gate_label = tex_label_text(n.text) if n.style == "gate" else None
        label = [(gate_label, "base")] if gate_label else name_parts(name_mathml(n.name))
        caption = name_parts(name_mathml(n.name)) if n.style == "gate" else []
        right = it.x + n.box_w / 2
        name = plain_name(n.name)
        aria = (f"{name}: value {n.value}, gradient {n.gradient}" if values
                else f"{name}")
        nodes.append(SvgNode(
            i, n.name, n.style, label, caption, X(it.x), Y(it.y), round(n.box_w * PX, 1),
            round(n.box_h * PX, 1), n.style == "gate" and not n.shape,
            (X(right), X(layout.stub_end(n.name)), Y(it.y)), n.fanout,
            n.value if values else "", n.gradient if values else "",
            n.name == figure.output, aria))
    by_name = {n.name: n for n in figure.nodes}
    edges = [_edge_path(layout, by_name, route, X, Y) for route in layout.routes]
    return SvgGraph(X(layout.width) + MARGIN * PX, round((top - bottom + 2 * MARGIN) * PX, 1),
                    nodes, edges)


def _edge_path(layout, nodes, route, X, Y) -> str:
    """An edge from its tail's wire end through its dummy points into its head."""
    tail = layout.items[route.tail]
    points = [(layout.stub_end(route.tail), tail.y)]
    for x_in, x_out, y in route.waypoints:
        points += [(x_in, y), (x_out, y)]
    points.append(_entry(layout, nodes[route.head], route))
    d = f"M{X(points[0][0])},{Y(points[0][1])}"
    for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
        if i % 2 == 1 and route.waypoints and i < len(points) - 2:  # along a dummy: straight
            d += f" L{X(b[0])},{Y(b[1])}"
            continue
        mid = (X(a[0]) + X(b[0])) / 2
        d += f" C{mid:.1f},{Y(a[1])} {mid:.1f},{Y(b[1])} {X(b[0])},{Y(b[1])}"
    return d


def _entry(layout, target, route) -> tuple[float, float]:
    """Where an edge enters its head (cm), as the TikZ figure has it."""
    side, amount = entry_side(layout, target, route)
    item = target.item
    if side == "angle":
        r = target.box_w / 2 if not target.shape else target.box_h / 2
        if target.shape:  # a rounded box: its west side
            return item.x - target.box_w / 2, item.y + r * math.sin(math.radians(amount))
        return (item.x + r * math.cos(math.radians(amount)),
                item.y + r * math.sin(math.radians(amount)))
    return item.x - target.box_w / 2, item.y + amount
