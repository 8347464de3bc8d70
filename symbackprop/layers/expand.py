"""Typed layers written out as scalar equations: one node per element.

As for the dense network form, a network of typed layers becomes a scalar
:class:`~symbackprop.graph.Graph` built from the op table's gates, so that the chain-rule
sweep, exact values, claim keys, ``verify`` and the exams work on it unchanged: every
element of every layer's output is a node (``a1[0][2][3]``), every parameter element a
leaf (``K1[1][0][0][1]``). Each layer type has one function here that writes its
equations, in the form a course writes them:

* ``conv2d``: a cross-correlation, a[f][i][j] = Σ_{c,u,v} K[f][c][u][v] x[c][i·s+u−p][j·s+v−p]
  + b[f]; terms that fall on the zero padding are left out;
* ``maxpool``: max(max(max(x0, x1), x2), x3) over the window in row-major order, so a tie
  sends the gradient to the first maximum, as PyTorch does; ``avgpool`` the window's mean;
* ``batchnorm``: the batch's mean ``mu{pos}[c]`` and biased variance ``var{pos}[c]`` (over the
  batch, and over height and width for images), ``xhat{pos} = (x − mu)/√(var + eps)``, then
  ``gamma·xhat + beta``: the backward pass goes through the mean and the variance;
* ``layernorm``: the same over the last axis of each sample;
* ``dropout``: x · mask/(1 − p), the mask given in the file;
* ``rnn``, ``lstm``, ``gru``: the hidden states ``h{pos}[t][j]`` (and the LSTM's gates
  ``i f g o`` and cell ``c{pos}``, the GRU's ``r z n``) step by step from zero states, with
  PyTorch's gate order and stacked weights; ``a{pos}`` is every step's state, or the last's;
* ``attention``: ``q{pos}``, ``k{pos}``, ``v{pos}`` (X Wᵀ), the scores ``s{pos}[t][u]`` = q_t·k_u/√d
  (u ≤ t when causal), their row softmax ``p{pos}[t][u]``, and a[t][i] = Σ_u p[t][u] v[u][i].

With a mini-batch (``batch`` at the top level) every node carries the sample as its first
index (``a1[0][...]`` is sample 0), batchnorm reads the whole batch, and the loss ``L`` is
the mean of the samples' losses.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod

import numpy as np
import sympy as sp

from .. import ops
from ..errors import ProblemError
from ..graph import Graph, Group, Leaf, Node
from ..limits import MAX_KEY_EDGES, MAX_KEY_EQUATIONS, LimitError
from ..losses import loss_expression
from ..network import LINEAR, LOSS_NAME
from ..parse import indexed_name, symbol
from .spec import ACTIVATION_TYPES, GATES, Layer, LayerStack


def _sum(terms: list) -> sp.Expr:
    return terms[0] if len(terms) == 1 else ops.build("add", *terms)


def _mul(*factors) -> sp.Expr:
    return ops.build("mul", *factors)


class Builder:
    """Collects the nodes and groups while the layers are written out."""

    def __init__(self, leaves: dict[str, Leaf], groups: dict[str, Group], bounded: bool = False):
        self.leaves = leaves
        self.groups = dict(groups)
        self.nodes: list[Node] = []
        self.indices: dict[str, list[tuple]] = {}  # base -> the indices written
        self.bounded = bounded
        self.edges = 0

    def leaf_array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            out[index] = symbol(indexed_name(name, *index))
        return out

    def put(self, base: str, index: tuple, expr) -> sp.Symbol:
        name = indexed_name(base, *index)
        self.nodes.append(Node(name, expr))
        if self.bounded:
            self._check_size(expr)
        self.indices.setdefault(base, []).append(index)
        return symbol(name)

    def _check_size(self, expr) -> None:
        """A key's problem (:data:`~symbackprop.limits.MAX_KEY_EQUATIONS`,
        :data:`~symbackprop.limits.MAX_KEY_EDGES`): refused as soon as it is beyond them."""
        self.edges += len(expr.free_symbols)
        if len(self.nodes) > MAX_KEY_EQUATIONS or self.edges > MAX_KEY_EDGES:
            what = (f"more than {MAX_KEY_EQUATIONS} equations" if len(self.nodes) > MAX_KEY_EQUATIONS
                    else f"equations reading more than {MAX_KEY_EDGES} values in all")
            raise LimitError(f"the layers write out {what}: an exam's key takes at most that"
                             " (the limit; docs/limits.md)").at(field="layers")

    def array(self, base: str, prefix: tuple, shape: tuple[int, ...],
              element: Callable[[tuple], sp.Expr]) -> np.ndarray:
        """Nodes ``base[prefix][index]`` for every index of ``shape``."""
        out = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            out[index] = self.put(base, prefix + index, element(index))
        return out

    def group_arrays(self) -> None:
        """Every array written in full becomes a group, so that reports nest it; the
        scores of a causal attention (no upper triangle) stay single elements."""
        for base, indices in self.indices.items():
            if not indices[0]:
                continue
            shape = tuple(max(i[d] for i in indices) + 1 for d in range(len(indices[0])))
            if len(indices) == prod(shape):
                self.groups[base] = Group(base, shape)


# -- one function per layer type: (layer, the input of one sample, builder, prefix) ------


def _dense(layer: Layer, x, b: Builder, prefix):
    W, bias = b.leaf_array(f"W{layer.position}", layer.parameters[f"W{layer.position}"]), \
        b.leaf_array(f"b{layer.position}", layer.parameters[f"b{layer.position}"])

    def element(index):
        *lead, i = index
        row = x[tuple(lead)]
        return _sum([*(_mul(W[i, j], row[j]) for j in range(row.shape[0])), bias[i]])
    return b.array(layer.output, prefix, layer.out_shape, element)


def _conv2d(layer: Layer, x, b: Builder, prefix):
    pos = layer.position
    K, bias = b.leaf_array(f"K{pos}", layer.parameters[f"K{pos}"]), b.leaf_array(f"b{pos}", (layer["filters"],))
    (kh, kw), stride, pad = layer["kernel"], layer["stride"], layer["padding"]
    channels, height, width = x.shape

    def element(index):
        f, i, j = index
        terms = [_mul(K[f, c, u, v], x[c, r, s])
                 for c in range(channels) for u in range(kh) for v in range(kw)
                 for r, s in [(i * stride + u - pad, j * stride + v - pad)]
                 if 0 <= r < height and 0 <= s < width]
        return _sum([*terms, bias[f]])
    return b.array(layer.output, prefix, layer.out_shape, element)


def _window(layer: Layer, x, c, i, j) -> list:
    size, stride = layer["size"], layer["stride"]
    return [x[c, i * stride + u, j * stride + v] for u in range(size) for v in range(size)]


def _maxpool(layer: Layer, x, b: Builder, prefix):
    def element(index):
        values = _window(layer, x, *index)
        out = values[0]
        for value in values[1:]:  # a tie keeps the earlier one: the first maximum
            out = ops.build("max", out, value)
        return out
    return b.array(layer.output, prefix, layer.out_shape, element)


def _avgpool(layer: Layer, x, b: Builder, prefix):
    share = sp.Rational(1, layer["size"] ** 2)
    return b.array(layer.output, prefix, layer.out_shape,
                   lambda index: _mul(share, _sum(_window(layer, x, *index))))


def _flatten(layer: Layer, x, b: Builder, prefix):
    flat = x.reshape(-1)
    return b.array(layer.output, prefix, layer.out_shape, lambda index: flat[index[0]])


def _layernorm(layer: Layer, x, b: Builder, prefix):
    pos = layer.position
    gamma, beta = b.leaf_array(f"gamma{pos}", layer.parameters[f"gamma{pos}"]), \
        b.leaf_array(f"beta{pos}", layer.parameters[f"beta{pos}"])
    eps, n = layer["eps"], x.shape[-1]
    rows = x.shape[:-1]
    mu = b.array(f"mu{pos}", prefix, rows, lambda r: _mul(sp.Rational(1, n), _sum(list(x[r]))))
    var = b.array(f"var{pos}", prefix, rows, lambda r: _mul(sp.Rational(1, n), _sum(
        [ops.build("pow", ops.build("add", e, ops.build("neg", mu[r])), 2) for e in x[r]])))
    xhat = b.array(f"xhat{pos}", prefix, x.shape, lambda i: _mul(
        ops.build("add", x[i], ops.build("neg", mu[i[:-1]])),
        ops.build("inv", ops.build("sqrt", ops.build("add", var[i[:-1]], eps)))))
    return b.array(layer.output, prefix, x.shape,
                   lambda i: ops.build("add", _mul(gamma[i[-1]], xhat[i]), beta[i[-1]]))


def _dropout_mask(layer: Layer, b: Builder, shape) -> np.ndarray:
    mask = np.array(layer["mask"], dtype=object) if isinstance(layer["mask"], list) else None
    ok = (mask is not None and mask.shape == shape
          and all(type(m) is int and m in (0, 1) for m in mask.flat))
    if not ok:
        raise ProblemError(f"mask must be an array of 0s and 1s of shape {shape}"
                           " (the shape of the dropout's input)").at(
            field=f"layers[{layer.position - 1}] mask")
    return mask


def _dropout(layer: Layer, x, b: Builder, prefix, mask):
    keep = 1 / (1 - layer["p"])
    return b.array(layer.output, prefix, x.shape,
                   lambda i: _mul(keep * mask[prefix + i], x[i]))


def _gate_rows(layer: Layer, b: Builder):
    pos = layer.position
    return (b.leaf_array(f"W{pos}", layer.parameters[f"W{pos}"]),
            b.leaf_array(f"U{pos}", layer.parameters[f"U{pos}"]),
            b.leaf_array(f"b{pos}", layer.parameters[f"b{pos}"]))


def _sigmoid(z):
    return ops.build("sigmoid", z)


def _tanh(z):
    return ops.build("tanh", z)


#: Each LSTM gate's activation: the input, forget and output gates are sigmoids, the
#: candidate g a tanh.
LSTM_GATES = {"i": _sigmoid, "f": _sigmoid, "g": _tanh, "o": _sigmoid}


def _affine(W, U, bias, row, x_t, h_prev, with_u=True) -> sp.Expr:
    """W[row]·x_t + U[row]·h_(t-1) + b[row]; the U terms vanish at the first step."""
    terms = [_mul(W[row, k], x_t[k]) for k in range(x_t.shape[0])]
    if h_prev is not None and with_u:
        terms += [_mul(U[row, m], h_prev[m]) for m in range(h_prev.shape[0])]
    return _sum([*terms, bias[row]])


def _recurrent(layer: Layer, x, b: Builder, prefix):
    pos, hidden, kind = layer.position, layer["hidden"], layer.type
    W, U, bias = _gate_rows(layer, b)
    gates = GATES[kind]
    h_prev = c_prev = None
    states = []
    for t in range(x.shape[0]):
        x_t = x[t]

        def pre(gate, j, with_u=True, x_t=x_t, h_prev=h_prev):
            return _affine(W, U, bias, gates.index(gate) * hidden + j, x_t, h_prev, with_u)
        if kind == "rnn":
            h = b.array(f"h{pos}", prefix + (t,), (hidden,), lambda j: _tanh(pre("h", j[0])))
        elif kind == "lstm":
            g = {name: b.array(f"{name}{pos}", prefix + (t,), (hidden,),
                               lambda j, name=name: LSTM_GATES[name](pre(name, j[0])))
                 for name in gates}

            def cell(j, g=g, c_prev=c_prev):
                new = _mul(g["i"][j], g["g"][j])
                return new if c_prev is None else ops.build("add", _mul(g["f"][j], c_prev[j]), new)
            c = b.array(f"c{pos}", prefix + (t,), (hidden,), cell)
            h = b.array(f"h{pos}", prefix + (t,), (hidden,),
                        lambda j, g=g, c=c: _mul(g["o"][j], ops.build("tanh", c[j])))
            c_prev = c
        else:  # gru: r, z, n; n = tanh(W_n x + b_n + r ⊙ (U_n h)), h' = (1 − z) n + z h
            r = b.array(f"r{pos}", prefix + (t,), (hidden,), lambda j: _sigmoid(pre("r", j[0])))
            z = b.array(f"z{pos}", prefix + (t,), (hidden,), lambda j: _sigmoid(pre("z", j[0])))

            def candidate(j, r=r, x_t=x_t, h_prev=h_prev):
                j = j[0]
                inner = pre("n", j, with_u=False)
                if h_prev is None:
                    return ops.build("tanh", inner)
                row = 2 * hidden + j
                recurrent = _sum([_mul(U[row, m], h_prev[m]) for m in range(hidden)])
                return ops.build("tanh", ops.build("add", inner, _mul(r[j], recurrent)))
            n = b.array(f"n{pos}", prefix + (t,), (hidden,), candidate)

            def update(j, z=z, n=n, h_prev=h_prev):
                j = j[0]
                kept = _mul(ops.build("add", sp.S.One, ops.build("neg", z[j])), n[j])
                return kept if h_prev is None else ops.build("add", kept, _mul(z[j], h_prev[j]))
            h = b.array(f"h{pos}", prefix + (t,), (hidden,), update)
        states.append(h)
        h_prev = h
    if layer["last"]:
        return b.array(layer.output, prefix, (hidden,), lambda j: states[-1][j[0]])
    return b.array(layer.output, prefix, (len(states), hidden), lambda i: states[i[0]][i[1]])


def _attention(layer: Layer, x, b: Builder, prefix):
    pos, d = layer.position, layer["d"]
    time, features = x.shape
    weights = {w: b.leaf_array(f"W{w}{pos}", (d, features)) for w in "qkv"}
    proj = {w: b.array(f"{w}{pos}", prefix, (time, d), lambda i, w=w: _sum(
        [_mul(weights[w][i[1], j], x[i[0], j]) for j in range(features)])) for w in "qkv"}
    scale = 1 / sp.sqrt(d)
    allowed = [[u for u in range(time) if not layer["causal"] or u <= t] for t in range(time)]
    scores = {}
    for t in range(time):
        for u in allowed[t]:
            scores[t, u] = b.put(f"s{pos}", prefix + (t, u), _mul(scale, _sum(
                [_mul(proj["q"][t, i], proj["k"][u, i]) for i in range(d)])))
    probs = {}
    for t in range(time):
        row = [scores[t, u] for u in allowed[t]]
        for k, u in enumerate(allowed[t]):
            probs[t, u] = b.put(f"p{pos}", prefix + (t, u), ops.activate("softmax", row, k))
    return b.array(layer.output, prefix, (time, d), lambda i: _sum(
        [_mul(probs[i[0], u], proj["v"][u, i[1]]) for u in allowed[i[0]]]))


def _activation(layer: Layer, x, b: Builder, prefix):
    """An activation element by element, or over the last axis (softmax)."""
    if layer.type == LINEAR:
        return b.array(layer.output, prefix, x.shape, lambda i: x[i])
    return b.array(layer.output, prefix, x.shape,
                   lambda i: ops.activate(layer.type, list(x[i[:-1]]), i[-1]))


PER_SAMPLE = {
    "dense": _dense, "conv2d": _conv2d, "maxpool": _maxpool, "avgpool": _avgpool,
    "flatten": _flatten, "layernorm": _layernorm, "rnn": _recurrent, "lstm": _recurrent,
    "gru": _recurrent, "attention": _attention,
    **{name: _activation for name in ACTIVATION_TYPES},
}


def _batchnorm(layer: Layer, xs: list, b: Builder, prefixes: list) -> list:
    """Batch normalisation in training mode: statistics over the batch (and over height
    and width for images), per channel or feature."""
    pos = layer.position
    gamma, beta = b.leaf_array(f"gamma{pos}", layer.parameters[f"gamma{pos}"]), \
        b.leaf_array(f"beta{pos}", layer.parameters[f"beta{pos}"])
    eps, channels = layer["eps"], layer.in_shape[0]
    members = [[x[index] for x in xs for index in np.ndindex(*x.shape) if index[0] == c]
               for c in range(channels)]
    if len(members[0]) < 2:
        raise ProblemError("batchnorm needs more than one value per channel: give a"
                           " mini-batch (batch = \"all\" or K with [data])").at(
            field=f"layers[{pos - 1}]")
    n = sp.Rational(1, len(members[0]))
    mu = b.array(f"mu{pos}", (), (channels,), lambda c: _mul(n, _sum(members[c[0]])))
    var = b.array(f"var{pos}", (), (channels,), lambda c: _mul(n, _sum(
        [ops.build("pow", ops.build("add", e, ops.build("neg", mu[c])), 2) for e in members[c[0]]])))
    outs = []
    for x, prefix in zip(xs, prefixes, strict=True):
        xhat = b.array(f"xhat{pos}", prefix, x.shape, lambda i, x=x: _mul(
            ops.build("add", x[i], ops.build("neg", mu[i[0]])),
            ops.build("inv", ops.build("sqrt", ops.build("add", var[i[0]], eps)))))
        outs.append(b.array(layer.output, prefix, x.shape, lambda i, xhat=xhat: ops.build(
            "add", _mul(gamma[i[0]], xhat[i]), beta[i[0]])))
    return outs


def build_stack_graph(stack: LayerStack, leaves: dict[str, Leaf], groups: dict[str, Group],
                      batch: int | None, bounded: bool = False) -> Graph:
    """The scalar graph of a network of typed layers over one sample, or over ``batch``
    samples whose index comes first in every name; ``bounded``: within the limits of an
    exam's key (:meth:`Builder._check_size`)."""
    b = Builder(leaves, groups, bounded)
    lead = () if batch is None else (batch,)
    x_all = b.leaf_array("x", lead + stack.input)
    prefixes = [()] if batch is None else [(s,) for s in range(batch)]
    xs = [x_all] if batch is None else [x_all[s] for s in range(batch)]
    for layer in stack.layers:
        if layer.type == "batchnorm":
            xs = _batchnorm(layer, xs, b, prefixes)
        elif layer.type == "dropout":
            mask = _dropout_mask(layer, b, lead + layer.in_shape)
            xs = [_dropout(layer, x, b, p, mask) for x, p in zip(xs, prefixes, strict=True)]
        else:
            xs = [PER_SAMPLE[layer.type](layer, x, b, p) for x, p in zip(xs, prefixes, strict=True)]
    y_all = b.leaf_array("y", lead + stack.target_shape)
    losses = []
    for s, x in enumerate(xs):
        y = y_all if batch is None else y_all[s]
        y_class = _hinge_class(stack, leaves, y) if stack.loss == "hinge" else None
        losses.append(loss_expression(stack.loss, list(x), list(y), y_class))
    total = losses[0] if batch is None else _mul(sp.Rational(1, batch), _sum(losses))
    b.nodes.append(Node(LOSS_NAME, total))
    b.group_arrays()
    return Graph(dict(leaves), b.nodes, LOSS_NAME, b.groups)


def _hinge_class(stack: LayerStack, leaves: dict, y) -> int:
    value = leaves[y[0].name].value
    classes = stack.output_shape[0]
    if value != int(value) or not 0 <= int(value) < classes:
        raise ProblemError(f"for the hinge loss, y is the class index: a whole number from 0"
                           f" to {classes - 1}").at(section="inputs", field="y")
    return int(value)


def parameter_count(stack: LayerStack) -> int:
    return sum(prod(shape) for shape in stack.parameters.values())
