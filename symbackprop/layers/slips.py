"""The slips of a layer worked by hand, as passes over the network's own graph.

Each function here works a network of typed layers out again as a student who made one
slip would, from the exact problem (never from a student's number): the forward pass,
the local derivatives and the reverse sweep of the problem's own derivation, with the
slip applied where the student applies it. The catalogue of mistakes
(:mod:`symbackprop.mistakes`) reads the student's number for a claim key from the pass
(:meth:`Pass.lookup`). The slips:

* :func:`flipped_kernels`: a true convolution instead of the cross-correlation (every
  kernel flipped by 180° in the forward pass; the student's K[u][v] is the pass's
  K[kh−1−u][kw−1−v]);
* :func:`unflipped_input_gradient`: the input gradient of a convolution, the full
  convolution of δ, made with the kernel as it is instead of rotated (the local
  derivative d a[f][i][j] / d x[c][r][s] taken as K[kh−1−u][kw−1−v] instead of K[u][v]);
* :func:`every_max`: a pooling window with a tied maximum sending its gradient to each
  tied element, not to the first only (PyTorch's rule);
* :func:`constant_statistics`: a normalisation's mean and variance held constant in the
  backward pass (no path through them), or only one of them;
* :func:`unscaled_dropout`: dropout's mask without the 1/(1 − p) scale, forward and back;
* :func:`forget_dropped`: an LSTM's cell-state gradient carried back without the forget
  gate (dc_t/dc_(t−1) taken as 1), or not carried back at all;
* :func:`unscaled_attention`: attention's scores without the 1/√d scale, forward and back.

Each returns None where the problem has no such layer, or where the slip changes no
number (a pooling window without a tie).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..evaluate import Floating, adjoints, local_values
from ..keys import Kind
from ..parse import indexed_name, split_indexed, symbol

DIGITS = 30


@dataclass
class Pass:
    """The numbers of one slipped working: values, local derivatives and gradients of the
    output by name, and the values after the update (SGD's first step, empty without a
    learning rate or with another optimizer)."""

    values: dict
    locals: dict
    grads: dict
    after: dict
    derivation: object
    output: str
    #: A leaf as the student names it -> the leaf of the pass holding its number.
    rename: dict = field(default_factory=dict)
    _sweeps: dict = field(default_factory=dict)

    def lookup(self, key):
        """The student's number for a claim key, or None where the pass has none (an
        optimizer's state, a later step)."""
        name = self.rename.get(key.name, key.name)
        if key.kind == Kind.VALUE:
            return self.values.get(name)
        if key.kind == Kind.AFTER:
            return self.after.get(name) if key.step in (None, 1) else None
        if key.kind != Kind.DERIVATIVE:
            return None
        wrt = self.rename.get(key.wrt, key.wrt)
        if name == self.output:
            return self.grads.get(wrt)
        if not self.derivation.graph.is_node(name):
            return None
        if name not in self._sweeps:
            zero = Floating(DIGITS).number(0)
            self._sweeps[name] = adjoints(self.derivation, name, self.locals, zero)
        return self._sweeps[name].get(wrt)


def _layers(solution, *types):
    stack = getattr(solution.problem, "layers", None)
    return [] if stack is None else [layer for layer in stack.layers if layer.type in types]


def _base(name: str) -> str:
    parts = split_indexed(name)
    return parts[0] if parts else name


def _run(solution, *, leaf_values=None, scale=None, local=None, rename=None) -> Pass:
    """The network worked out with ``leaf_values`` (name -> exact value) in place of the
    given ones, the nodes of ``scale`` (name -> factor) multiplied by their factor (their
    local derivatives too), and the local derivatives of ``local`` (edge -> expression
    in node symbols) in place of the derivation's."""
    leaf_values, scale, local = leaf_values or {}, scale or {}, local or {}
    graph, derivation = solution.graph, solution.derivation
    arithmetic = Floating(DIGITS)

    def forward(numbers: dict) -> dict:
        values, env = {}, {}
        for name, leaf in graph.leaves.items():
            values[name] = arithmetic.number(numbers.get(name, leaf.value))
            env[leaf.symbol] = values[name]
        for node in graph.nodes:
            factor = scale.get(node.name)
            expr = node.expr if factor is None else factor * node.expr
            values[node.name] = arithmetic.apply(expr, env)
            env[node.symbol] = values[node.name]
        return values

    values = forward(leaf_values)
    locals_ = local_values(derivation, values, arithmetic)
    env = {symbol(n): v for n, v in values.items()}
    for (upper, lower), edge in derivation.edges.items():
        if upper in scale:
            locals_[upper, lower] = arithmetic.apply(scale[upper] * edge.local, env)
    for edge, expr in local.items():
        locals_[edge] = arithmetic.apply(sp.sympify(expr), env)
    grads = adjoints(derivation, graph.output, locals_, arithmetic.number(0))
    after = {}
    optimizer = solution.optimizer
    plain = optimizer is None or (optimizer.name == "sgd" and not optimizer.weight_decay)
    if solution.learning_rate is not None and plain:
        rate = sp.Float(solution.learning_rate, DIGITS)
        moved = {**leaf_values, **{p: values[p] - rate * grads[p] for p in graph.parameters}}
        after = forward(moved)
    return Pass(values, locals_, grads, after, derivation, graph.output, rename or {})


# ------------------------------------------------------------------------ convolution


def _flip(name: str, kernels: dict) -> str | None:
    """K1[f][c][u][v] -> K1[f][c][kh−1−u][kw−1−v] for a kernel of ``kernels`` (base ->
    (kh, kw)), else None."""
    parts = split_indexed(name)
    if not parts or parts[0] not in kernels or len(parts[1]) != 4:
        return None
    (kh, kw), (f, c, u, v) = kernels[parts[0]], parts[1]
    return indexed_name(parts[0], f, c, kh - 1 - u, kw - 1 - v)


def _kernels(solution) -> dict:
    return {f"K{layer.position}": layer["kernel"] for layer in _layers(solution, "conv2d")}


def flipped_kernels(solution) -> tuple[Pass, list[str]] | None:
    """Every conv2d layer as a true convolution: the pass's kernels flipped by 180°."""
    kernels = _kernels(solution)
    leaves = solution.graph.leaves
    flips = {n: _flip(n, kernels) for n in leaves}
    flips = {n: m for n, m in flips.items() if m is not None}
    if not any(leaves[n].value != leaves[m].value for n, m in flips.items()):
        return None  # 1x1 kernels, or kernels that read alike flipped
    swapped = {n: leaves[m].value for n, m in flips.items()}
    return _run(solution, leaf_values=swapped, rename=flips), list(kernels)


def unflipped_input_gradient(solution) -> tuple[Pass, list[str]] | None:
    """The gradient of each conv2d layer's input with its kernel not rotated: the local
    derivative d a[f][i][j] / d x[c][r][s] (the kernel element K[f][c][u][v] that meets
    x there) taken as K[f][c][kh−1−u][kw−1−v]."""
    kernels = _kernels(solution)
    outputs = {f"a{layer.position}" for layer in _layers(solution, "conv2d")}
    local = {}
    for (upper, lower), edge in solution.derivation.edges.items():
        if _base(upper) in outputs and isinstance(edge.local, sp.Symbol):
            flipped = _flip(edge.local.name, kernels)
            if flipped is not None and flipped != edge.local.name:
                local[upper, lower] = symbol(flipped)
    if not local:
        return None
    return _run(solution, local=local), list(kernels)


# ------------------------------------------------------------------------ pooling


#: Two values of a pooling window within this share of their size are a tie.
_TIE = sp.Float(10) ** -25


def every_max(solution) -> tuple[Pass, list[str]] | None:
    """Each max-pool window's gradient to every element equal to its maximum."""
    outputs = {layer.output for layer in _layers(solution, "maxpool")}
    values = solution.values
    local, tied = {}, False
    for (upper, lower) in solution.derivation.edges:
        if _base(upper) not in outputs:
            continue
        top, here = values[upper], values[lower]
        is_max = abs(top - here) <= _TIE * (1 + abs(top))
        local[upper, lower] = sp.S.One if is_max else sp.S.Zero
        tied |= is_max and solution.evaluation.locals[upper, lower] == 0
    if not tied:
        return None
    return _run(solution, local=local), sorted(outputs)


# ------------------------------------------------------------------------ normalisation


def constant_statistics(solution, held=("mu", "var")) -> tuple[Pass, list] | None:
    """A batchnorm or layernorm layer's backward pass with its statistics ``held``
    (``mu``, ``var`` or both) taken as constants: no edge from them down to the inputs."""
    layers = _layers(solution, "batchnorm", "layernorm")
    stats = {f"{s}{layer.position}" for layer in layers for s in held}
    local = {edge: sp.S.Zero for edge in solution.derivation.edges if _base(edge[0]) in stats}
    if not local:
        return None
    return _run(solution, local=local), layers


# ------------------------------------------------------------------------ dropout


def unscaled_dropout(solution) -> tuple[Pass, list] | None:
    """Each dropout layer as x · mask, without the 1/(1 − p) of inverted dropout."""
    layers = [layer for layer in _layers(solution, "dropout") if layer["p"] != 0]
    outputs = {layer.output: 1 - layer["p"] for layer in layers}
    scale = {node.name: outputs[_base(node.name)] for node in solution.graph.nodes
             if _base(node.name) in outputs}
    if not scale:
        return None
    return _run(solution, scale=scale), layers


# ------------------------------------------------------------------------ recurrent cells


def forget_dropped(solution, carry) -> tuple[Pass, list[str]] | None:
    """Each LSTM's cell-state gradient carried from c_t back to c_(t−1) with the local
    derivative ``carry`` (1: the forget gate f_t left out; 0: the path dropped) in place
    of f_t."""
    cells = {f"c{layer.position}" for layer in _layers(solution, "lstm")}
    local = {edge: sp.sympify(carry) for edge in solution.derivation.edges
             if _base(edge[0]) in cells and _base(edge[1]) == _base(edge[0])}
    if not local:
        return None
    return _run(solution, local=local), sorted(cells)


# ------------------------------------------------------------------------ attention


def unscaled_attention(solution) -> tuple[Pass, list] | None:
    """Each attention layer's scores q·k without the 1/√d."""
    layers = _layers(solution, "attention")
    scores = {f"s{layer.position}": sp.sqrt(layer["d"]) for layer in layers if layer["d"] > 1}
    scale = {node.name: scores[_base(node.name)] for node in solution.graph.nodes
             if _base(node.name) in scores}
    if not scale:
        return None
    return _run(solution, scale=scale), layers
