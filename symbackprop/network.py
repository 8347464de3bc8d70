"""The network form: layered networks as matrix-level equations and their scalar graph.

A network ``layers = [n0, n1, ..., nN]`` is the matrix-level Wengert list

    z_l = W_l a_(l-1) + b_l,   a_l = act_l(z_l)   (l = 1..N, a_0 = x),   L = loss(a_N, y)

kept in :class:`Network` for the renderer (BP1-BP4 with shapes) and the kernels (a
handful of matrix products). For exact values, chains and claims it is expanded into a
scalar :class:`~symbackprop.graph.Graph` with one node per element (``z1[0]``, ``a1[0]``,
leaves ``W1[0][1]``, ``b1[0]``, ``x[0]``, ``y[0]``), built with the same op table; its
reverse sweep gives exactly the numbers of BP1-BP4 (δ_l is the adjoint of z_l).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ops
from .errors import ProblemError, did_you_mean
from .graph import Graph, Group, Leaf, Node
from .limits import MAX_NETWORK_PARAMETERS, LimitError
from .losses import LOSSES, loss_expression
from .parse import indexed_name, symbol

#: The activations a layer may use: the op table's (:data:`symbackprop.ops.ACTIVATIONS`),
#: the elementwise ones, then ``linear`` (no activation), then the whole-layer ones.
LINEAR = "linear"
ACTIVATIONS = (*(a for a, op in ops.ACTIVATIONS.items() if op.layer.acts == ops.ELEMENTWISE),
               LINEAR,
               *(a for a, op in ops.ACTIVATIONS.items() if op.layer.acts == ops.WHOLE_LAYER))
LOSS_NAME = "L"


@dataclass(frozen=True)
class Network:
    """The matrix-level description of a layered network."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of every array the network names: W_l, b_l, z_l, a_l, x, y."""
        shapes = {"x": (self.layers[0],), "y": self.target_shape}
        for layer in range(1, self.depth + 1):
            n, m = self.layers[layer], self.layers[layer - 1]
            shapes[f"W{layer}"] = (n, m)
            shapes[f"b{layer}"] = (n,)
            shapes[f"z{layer}"] = (n,)
            shapes[f"a{layer}"] = (n,)
        return shapes

    @property
    def target_shape(self) -> tuple[int, ...]:
        return (1,) if self.loss == "hinge" else (self.layers[-1],)

    @property
    def parameters(self) -> list[str]:
        return [f"{p}{layer}" for layer in range(1, self.depth + 1) for p in ("W", "b")]

    def equations(self) -> list[tuple[str, str, tuple]]:
        """The matrix-level Wengert list: (name, op, argument names)."""
        eqs = []
        previous = "x"
        for layer in range(1, self.depth + 1):
            eqs.append((f"z{layer}", "affine", (f"W{layer}", previous, f"b{layer}")))
            eqs.append((f"a{layer}", self.activations[layer - 1], (f"z{layer}",)))
            previous = f"a{layer}"
        eqs.append((LOSS_NAME, self.loss, (previous, "y")))
        return eqs


def whole_layer(act: str) -> bool:
    """Whether activation ``act`` computes each output from the whole layer (softmax):
    its local derivative is a Jacobian, not a diagonal, and it ends a network."""
    return act != LINEAR and ops.ACTIVATIONS[act].layer.acts == ops.WHOLE_LAYER


def check_spec(spec: dict) -> Network:
    """Read and check the ``[network]`` table."""
    allowed = {"layers", "activations", "loss"}
    for key in spec:
        if key not in allowed:
            raise ProblemError(f"unknown key{did_you_mean(key, allowed)}").at(field=key)
    layers = spec.get("layers")
    if (not isinstance(layers, list) or len(layers) < 2
            or not all(type(n) is int and 1 <= n <= 4096 for n in layers)):
        raise ProblemError(
            "layers must be a list of at least two layer sizes (whole numbers from 1 to 4096)"
        ).at(field="layers")
    acts = spec.get("activations")
    if not isinstance(acts, list) or len(acts) != len(layers) - 1:
        raise ProblemError(
            f"activations must list one activation per non-input layer ({len(layers) - 1})"
        ).at(field="activations")
    for i, act in enumerate(acts):
        if not isinstance(act, str) or act not in ACTIVATIONS:
            raise ProblemError(
                f"unknown activation '{act}'{did_you_mean(str(act), ACTIVATIONS)}"
                f" (one of {', '.join(ACTIVATIONS)})"
            ).at(field="activations")
        if whole_layer(act) and i != len(acts) - 1:
            raise ProblemError(f"{act} is allowed on the last layer only").at(field="activations")
    loss = spec.get("loss")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ProblemError(
            f"unknown loss '{loss}'{did_you_mean(str(loss), LOSSES)} (one of {', '.join(LOSSES)})"
        ).at(field="loss")
    weights = sum((a + 1) * b for a, b in zip(layers, layers[1:], strict=False))
    if weights > MAX_NETWORK_PARAMETERS:
        raise LimitError(f"{weights} weights and biases: more than {MAX_NETWORK_PARAMETERS} "
                         "(the limit; docs/limits.md)").at(field="layers")
    return Network(tuple(layers), tuple(acts), loss)


def build_network_graph(net: Network, leaves: dict[str, Leaf], groups: dict[str, Group]) -> Graph:
    """Expand the network into its scalar graph (one node per element).

    ``leaves`` already holds the scalar leaves ``W1[0][1]``, ``x[0]``, ``y[0]``.
    """
    nodes: list[Node] = []
    groups = dict(groups)
    previous = [symbol(indexed_name("x", i)) for i in range(net.layers[0])]
    for layer in range(1, net.depth + 1):
        act = net.activations[layer - 1]
        zs = []
        for i in range(net.layers[layer]):
            terms = [ops.build("mul", symbol(indexed_name(f"W{layer}", i, j)), previous[j])
                     for j in range(len(previous))]
            terms.append(symbol(indexed_name(f"b{layer}", i)))
            name = indexed_name(f"z{layer}", i)
            nodes.append(Node(name, ops.build("add", *terms)))  # one n-ary add: Σ_j W x + b
            zs.append(symbol(name))
        outs = []
        for i, z in enumerate(zs):
            expr = z if act == LINEAR else ops.activate(act, zs, i)
            name = indexed_name(f"a{layer}", i)
            nodes.append(Node(name, expr))
            outs.append(symbol(name))
        groups[f"z{layer}"] = Group(f"z{layer}", (net.layers[layer],))
        groups[f"a{layer}"] = Group(f"a{layer}", (net.layers[layer],))
        previous = outs
    y_class = None
    ys = [symbol(indexed_name("y", j)) for j in range(net.target_shape[0])]
    if net.loss == "hinge":
        y_class = int(leaves[indexed_name("y", 0)].value)
        if not 0 <= y_class < net.layers[-1] or leaves[indexed_name("y", 0)].value != y_class:
            raise ProblemError(
                f"for the hinge loss, y is the class index: a whole number from 0 to {net.layers[-1] - 1}"
            ).at(section="inputs", field="y")
    nodes.append(Node(LOSS_NAME, loss_expression(net.loss, previous, ys, y_class)))
    return Graph(dict(leaves), nodes, LOSS_NAME, groups)
