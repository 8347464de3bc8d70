"""A layered (Sugiyama-style) layout for the computational-graph figure.

Pure geometry, in centimetres, with y pointing up as in TikZ. The caller hands over the
items (each with a box size and a layer) and the edges tail -> head; this module

1. splits every edge that spans more than one layer with dummy points, one per layer
   crossed, so that a long edge never runs through a node box;
2. orders the items within each layer by barycenter sweeps, keeping the order with the
   fewest crossings;
3. places each layer's items vertically as close as possible to the mean height of
   their neighbours, subject to the order and to a minimum gap between boxes (a small
   isotonic regression, solved exactly by pool-adjacent-violators), sweeping left and
   right a few times, so that chains come out straight;
4. places the layers left to right: a column for the boxes, a strip to their right for
   the labels of the values leaving them (the "stub"), then a routing strip as wide as
   the steepest edge in it needs.

Every box sits in its own layer's column and every edge goes from a layer to a later
one, so all edges run left to right and no two boxes overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

PAD = 0.18  # cm between the vertical extents of two neighbours in a column
DUMMY_HALF = 0.12  # half the height reserved for an edge passing through a column


@dataclass
class Item:
    """A box to place: ``width`` across, ``up``/``down`` above/below its centre line."""

    name: str
    layer: int
    width: float
    up: float
    down: float
    stub: float = 0.0  # length of the label strip to the right of the box
    align: str = "center"  # or "right": against the column's right side, by its wire
    x: float = 0.0
    y: float = 0.0

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2


@dataclass
class Route:
    """One edge: its points (after the tail's stub end) through dummies to the head."""

    tail: str
    head: str
    waypoints: list[tuple[float, float, float]] = field(default_factory=list)  # (x_in, x_out, y)


@dataclass
class Layout:
    items: dict[str, Item]
    routes: list[Route]
    columns: list[tuple[float, float, float]]  # per layer: (box column left, right, stub end)
    width: float
    height: float

    def stub_end(self, name: str) -> float:
        return self.columns[self.items[name].layer][2]


def layered_layout(items: list[Item], edges: list[tuple[str, str]],
                   min_route: float = 0.45, sweeps: int = 6) -> Layout:
    """Place ``items`` and route ``edges`` (tail, head); see the module docstring."""
    by_name = {it.name: it for it in items}
    n_layers = max(it.layer for it in items) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for it in items:
        layers[it.layer].append(it.name)
    succ, pred, chains = _dummies(by_name, layers, edges)  # 1.
    layers = _order(layers, succ, pred, sweeps)  # 2.
    sizes = _Sizes(by_name)
    v = _heights(layers, succ, pred, sizes, sweeps)  # 3.
    top = min(v[n] - sizes.up(n) for n in v)
    bottom = max(v[n] + sizes.down(n) for n in v)
    columns, x = _columns(layers, by_name, succ, v, min_route)  # 4.
    routes = []
    for tail, head, dummies in chains:
        points = []
        for d in dummies:
            layer = by_name[tail].layer + 1 + len(points)
            left, _, end = columns[layer]
            points.append((left, end, -v[d]))
        routes.append(Route(tail, head, points))
    return Layout(by_name, routes, columns, x, bottom - top)


def _dummies(by_name: dict, layers: list[list[str]], edges):
    """1. Dummies: an edge over k layers becomes k segments through k - 1 dummy points
    (added to ``layers``). Returns the successors and predecessors of every point and,
    per edge, (tail, head, its dummies)."""
    succ: dict[str, list[str]] = {name: [] for name in by_name}
    pred: dict[str, list[str]] = {name: [] for name in by_name}
    chains: list[tuple[str, str, list[str]]] = []
    for tail, head in edges:
        lt, lh = by_name[tail].layer, by_name[head].layer
        if lh <= lt:
            raise ValueError(f"edge {tail} -> {head} does not go to a later layer")
        chain = [tail]
        for layer in range(lt + 1, lh):
            dummy = f"\0{tail}\0{head}\0{layer}"
            succ[dummy], pred[dummy] = [], []
            layers[layer].append(dummy)
            chain.append(dummy)
        chain.append(head)
        for a, b in zip(chain, chain[1:], strict=False):
            succ[a].append(b)
            pred[b].append(a)
        chains.append((tail, head, chain[1:-1]))
    return succ, pred, chains


@dataclass
class _Sizes:
    """The extents above and below the centre line of items and dummy points."""

    by_name: dict

    def up(self, name: str) -> float:
        return self.by_name[name].up if name in self.by_name else DUMMY_HALF

    def down(self, name: str) -> float:
        return self.by_name[name].down if name in self.by_name else DUMMY_HALF


def _heights(layers: list[list[str]], succ: dict, pred: dict, sizes: _Sizes,
             sweeps: int) -> dict[str, float]:
    """3. Heights v (growing downwards; y = -v): each layer stacked and centred, then
    moved towards its neighbours' mean height, sweeping right and left."""
    up, down = sizes.up, sizes.down
    v: dict[str, float] = {}
    for layer in layers:
        pos = 0.0
        for i, name in enumerate(layer):
            if i:
                pos += down(layer[i - 1]) + up(name) + PAD
            v[name] = pos
        shift = pos / 2
        for name in layer:
            v[name] -= shift
    n_layers = len(layers)
    for sweep in range(2 * sweeps):
        order = range(1, n_layers) if sweep % 2 == 0 else range(n_layers - 2, -1, -1)
        for li in order:
            neighbours = pred if sweep % 2 == 0 else succ
            _place(layers[li], v, neighbours, up, down)
    for li in range(n_layers):  # a last pass towards both sides at once
        _place(layers[li], v, {n: pred[n] + succ[n] for n in pred}, up, down)
    return v


def _columns(layers: list[list[str]], by_name: dict, succ: dict, v: dict,
             min_route: float) -> tuple[list[tuple[float, float, float]], float]:
    """4. Columns left to right: each layer's boxes (their x and y set here), its stub,
    and a routing strip as wide as the steepest edge leaving it needs. Returns the
    columns and the total width."""
    columns = []
    x = 0.0
    for li, layer in enumerate(layers):
        real = [by_name[n] for n in layer if n in by_name]
        width = max((it.width for it in real), default=0.3)
        stub = max((it.stub for it in real), default=0.0)
        left = x
        for it in real:
            it.x = left + (width - it.width / 2 if it.align == "right" else width / 2)
            it.y = -v[it.name]
        columns.append((left, left + width, left + width + stub))
        x = left + width + stub
        if li + 1 < len(layers):
            rise = max((abs(v[a] - v[b]) for a in layer for b in succ[a]), default=0.0)
            x += max(min_route, min(0.3 * rise, 1.2))
    return columns, x


def _place(layer: list[str], v: dict, neighbours: dict, up, down) -> None:
    """Move a layer's items towards their neighbours' mean height, keeping order and gaps."""
    if not layer:
        return
    want = []
    for name in layer:
        ns = neighbours[name]
        want.append(sum(v[m] for m in ns) / len(ns) if ns else v[name])
    gaps = [0.0] + [down(a) + up(b) + PAD for a, b in zip(layer, layer[1:], strict=False)]
    offset, acc = [], 0.0
    for g in gaps:
        acc += g
        offset.append(acc)
    fitted = _isotonic([w - o for w, o in zip(want, offset, strict=True)])
    for name, f, o in zip(layer, fitted, offset, strict=True):
        v[name] = f + o


def _isotonic(values: list[float]) -> list[float]:
    """The nondecreasing sequence closest to ``values`` in least squares (PAV)."""
    blocks: list[list[float]] = []  # [mean, count]
    for val in values:
        blocks.append([val, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    out: list[float] = []
    for mean, count in blocks:
        out.extend([mean] * int(count))
    return out


def _order(layers: list[list[str]], succ: dict, pred: dict, sweeps: int) -> list[list[str]]:
    """Barycenter sweeps down and up; the order with the fewest crossings wins."""
    best = [list(layer) for layer in layers]
    best_crossings = crossings(best, succ)
    current = [list(layer) for layer in layers]
    for sweep in range(2 * sweeps):
        downwards = sweep % 2 == 0
        indices = range(1, len(current)) if downwards else range(len(current) - 2, -1, -1)
        for li in indices:
            ref = current[li - 1] if downwards else current[li + 1]
            pos = {n: i for i, n in enumerate(ref)}
            nbrs = pred if downwards else succ

            def key(item, nbrs=nbrs, pos=pos, layer=current[li]):
                ns = [pos[m] for m in nbrs[item] if m in pos]
                return (sum(ns) / len(ns)) if ns else layer.index(item)

            current[li] = sorted(current[li], key=key)
        c = crossings(current, succ)
        if c < best_crossings:
            best, best_crossings = [list(layer) for layer in current], c
    return best


def crossings(layers: list[list[str]], succ: dict) -> int:
    """Edge crossings between adjacent layers, for an order of every layer."""
    total = 0
    for upper, lower in zip(layers, layers[1:], strict=False):
        pos = {n: i for i, n in enumerate(lower)}
        segs = [(i, pos[m]) for i, n in enumerate(upper) for m in succ[n] if m in pos]
        total += sum(1 for (a, b), (c, d) in combinations(segs, 2) if (a - c) * (b - d) < 0)
    return total
