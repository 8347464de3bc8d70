"""Layer form: a network of typed layers as a short Wengert list over whole arrays.

Each layer type has one rule here that writes its forward equations over arrays with a
leading batch axis (a convolution as ``unfold`` then a contraction with the kernel,
max-pooling as its routing ``window_argmax`` then ``window_take``, batch normalisation as
the batch's sums, mean, centred values, variance and scale, an LSTM step by step, ...).
Nothing else is written per layer: the backward sweep is derived from those equations,
as for every graph of the package: each equation's adjoints are upstream × local, the
local rule of an array operation its vector-Jacobian product (:mod:`.array_rules`), the
local derivative of elementwise arithmetic and activations the op table's
(:func:`symbackprop.derive.local_partials`), and a value broadcast into a larger array
receives the gradient summed over the broadcast axes. The last layer and the loss are
the network form's (:mod:`.losses`: softmax with cross-entropy fused, δ = a − y).

The equations are lambdified into one function (:mod:`.codegen`), as the other forms
are, so ``kernel.source`` is the code that trains. The element-by-element graph of
:mod:`symbackprop.layers.expand` gives the worked solution's numbers; this form gives
the same numbers, to rounding, over a whole batch at the speed of array code.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from math import prod

import numpy as np
import sympy as sp

from .. import ops
from ..derive import local_partials
from ..errors import SymbackpropError
from ..graph import Node
from ..layers.expand import LSTM_GATES
from ..layers.spec import ACTIVATION_TYPES, GATES, Layer, LayerStack
from ..network import LINEAR, LOSS_NAME
from .array_rules import call, einsum_name, library_namespace, numpy_namespace, rule_of
from .backends import Backend
from .codegen import lambdify_list
from .kernel import Kernel
from .losses import output_layer

B = "B"  # the batch axis of a shape
batch_mean = sp.Function("batch_mean")
DTYPES = ("float64", "float32")


def _symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


class Tape:
    """The forward equations of a network as they are written, with each array's shape
    (the batch axis as ``B``) and which arrays depend on a parameter."""

    def __init__(self, batch: sp.Symbol):
        self.equations: list[tuple[sp.Symbol, sp.Expr]] = []
        self.shapes: dict[sp.Symbol, tuple] = {}
        self.trainable: set[sp.Symbol] = set()
        self.batch = batch
        self._names: set[str] = set()

    def leaf(self, name: str, shape: tuple, trainable: bool = False) -> sp.Symbol:
        s = _symbol(name)
        self.shapes[s] = shape
        if trainable:
            self.trainable.add(s)
        self._names.add(name)
        return s

    def put(self, name: str, expr: sp.Expr, shape: tuple) -> sp.Symbol:
        """A new equation ``name = expr``: an array operation, or elementwise algebra."""
        base, k = name, 1
        while name in self._names:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        s = _symbol(name)
        self.equations.append((s, expr))
        self.shapes[s] = shape
        if expr.free_symbols & self.trainable:
            self.trainable.add(s)
        return s


# -- one rule per layer type: (layer, its input, the tape, the layer's parameters) -> output


def _letters(rank: int) -> str:
    return "bpqrs"[:rank]


def _dense(layer: Layer, x, tape: Tape, p):
    pos, shape = layer.position, tape.shapes[x]
    lead = _letters(len(shape) - 1)
    product = tape.put(f"xw{pos}", call(einsum_name(f"{lead}i,ji->{lead}j"), x, p[f"W{pos}"]),
                       (*shape[:-1], layer["units"]))
    return tape.put(f"a{pos}", product + p[f"b{pos}"], tape.shapes[product])


def _conv2d(layer: Layer, x, tape: Tape, p):
    pos = layer.position
    (kh, kw), stride, pad = layer["kernel"], layer["stride"], layer["padding"]
    channels = layer.in_shape[0]
    filters, oh, ow = layer.out_shape
    cols = tape.put(f"cols{pos}", call("unfold", x, kh, kw, stride, pad),
                    (B, oh, ow, channels, kh, kw))
    product = tape.put(f"xk{pos}", call(einsum_name("bijcuv,fcuv->bfij"), cols, p[f"K{pos}"]),
                       (B, filters, oh, ow))
    bias = tape.put(f"bias{pos}", call("reshape", p[f"b{pos}"], (filters, 1, 1)), (filters, 1, 1))
    return tape.put(f"a{pos}", product + bias, (B, filters, oh, ow))


def _maxpool(layer: Layer, x, tape: Tape, p):
    pos, size, stride = layer.position, layer["size"], layer["stride"]
    routes = tape.put(f"route{pos}", call("window_argmax", x, size, stride), (B, *layer.out_shape))
    return tape.put(f"a{pos}", call("window_take", x, routes, size, stride), (B, *layer.out_shape))


def _avgpool(layer: Layer, x, tape: Tape, p):
    pos, size, stride = layer.position, layer["size"], layer["stride"]
    c, oh, ow = layer.out_shape
    windows = tape.put(f"win{pos}", call("unfold", x, size, size, stride, 0),
                       (B, oh, ow, c, size, size))
    total = tape.put(f"sum{pos}", call("sum_axes", windows, (4, 5)), (B, oh, ow, c, 1, 1))
    mean = tape.put(f"mean{pos}", total * sp.Rational(1, size * size), (B, oh, ow, c, 1, 1))
    mean = tape.put(f"meant{pos}", call("permute", mean, (0, 3, 1, 2, 4, 5)), (B, c, oh, ow, 1, 1))
    return tape.put(f"a{pos}", call("reshape", mean, (-1, c, oh, ow)), (B, c, oh, ow))


def _flatten(layer: Layer, x, tape: Tape, p):
    n = layer.out_shape[0]
    return tape.put(f"a{layer.position}", call("reshape", x, (-1, n)), (B, n))


def _normalise(layer: Layer, x, tape: Tape, p, axes: tuple, count, per_channel: bool):
    """(x − mean)/√(var + eps), the mean and biased variance over ``axes`` (``count``
    values each), then gamma · xhat + beta: the batch norm and the layer norm alike."""
    pos, shape = layer.position, tape.shapes[x]
    kept = tuple(1 if i in axes or i - len(shape) in axes else n for i, n in enumerate(shape))
    total = tape.put(f"sum{pos}", call("sum_axes", x, axes), kept)
    mu = tape.put(f"mu{pos}", total / count, kept)
    centred = tape.put(f"xc{pos}", x - mu, shape)
    square = tape.put(f"sq{pos}", centred ** 2, shape)
    spread = tape.put(f"ssq{pos}", call("sum_axes", square, axes), kept)
    var = tape.put(f"var{pos}", spread / count, kept)
    scale = tape.put(f"rstd{pos}", ops.build("inv", ops.build("sqrt", var + layer["eps"])), kept)
    xhat = tape.put(f"xhat{pos}", centred * scale, shape)
    gamma, beta = p[f"gamma{pos}"], p[f"beta{pos}"]
    if per_channel:  # an image: one gamma per channel, along axis 1
        c = layer.in_shape[0]
        gamma = tape.put(f"gamma_c{pos}", call("reshape", gamma, (c, 1, 1)), (c, 1, 1))
        beta = tape.put(f"beta_c{pos}", call("reshape", beta, (c, 1, 1)), (c, 1, 1))
    return tape.put(f"a{pos}", gamma * xhat + beta, shape)


def _batchnorm(layer: Layer, x, tape: Tape, p):
    if len(layer.in_shape) == 3:
        h, w = layer.in_shape[1:]
        return _normalise(layer, x, tape, p, (0, 2, 3), tape.batch * (h * w), True)
    return _normalise(layer, x, tape, p, (0,), tape.batch, False)


def _layernorm(layer: Layer, x, tape: Tape, p):
    return _normalise(layer, x, tape, p, (-1,), layer.in_shape[-1], False)


def _dropout(layer: Layer, x, tape: Tape, p):
    pos = layer.position
    keep = 1 / (1 - layer["p"])
    mask = tape.leaf(f"mask{pos}", (B, *layer.in_shape))
    return tape.put(f"a{pos}", x * mask * keep, tape.shapes[x])


def _recurrent(layer: Layer, x, tape: Tape, p):
    """h_t step by step from zero states, PyTorch's gate order; the gates of a step are
    the columns of one pre-activation W x_t + U h_(t−1) + b."""
    pos, hidden, kind = layer.position, layer["hidden"], layer.type
    W, U, bias = p[f"W{pos}"], p[f"U{pos}"], p[f"b{pos}"]
    gates = GATES[kind]
    width = len(gates) * hidden
    steps, features = layer.in_shape
    h = c = None
    states = []

    def part(array, gate, name):
        k = gates.index(gate)
        return tape.put(f"{name}{pos}_{t}", call("cols", array, k * hidden, (k + 1) * hidden),
                        (B, hidden))

    for t in range(steps):
        x_t = tape.put(f"x{pos}_{t}", call("time_step", x, t), (B, features))
        wx = tape.put(f"wx{pos}_{t}", call(einsum_name("bf,gf->bg"), x_t, W), (B, width))
        wx = tape.put(f"wxb{pos}_{t}", wx + bias, (B, width))
        uh = None if h is None else tape.put(
            f"uh{pos}_{t}", call(einsum_name("bh,gh->bg"), h, U), (B, width))
        if kind == "gru":  # r and z from both; n = tanh(W_n x + b_n + r ⊙ (U_n h))
            xs = {g: part(wx, g, f"wx{g}") for g in gates}
            hs = {g: part(uh, g, f"uh{g}") for g in gates} if uh is not None else None
            r = tape.put(f"r{pos}_{t}", ops.build("sigmoid", xs["r"] + (hs["r"] if hs else 0)),
                         (B, hidden))
            z = tape.put(f"z{pos}_{t}", ops.build("sigmoid", xs["z"] + (hs["z"] if hs else 0)),
                         (B, hidden))
            n = tape.put(f"n{pos}_{t}", ops.build("tanh", xs["n"] + (r * hs["n"] if hs else 0)),
                         (B, hidden))
            h = tape.put(f"h{pos}_{t}", (1 - z) * n + (z * h if h is not None else 0), (B, hidden))
        else:
            pre = wx if uh is None else tape.put(f"pre{pos}_{t}", wx + uh, (B, width))
            if kind == "rnn":
                h = tape.put(f"h{pos}_{t}", ops.build("tanh", pre), (B, hidden))
            else:
                g = {name: tape.put(f"{name}{pos}_{t}", LSTM_GATES[name](part(pre, name, f"z{name}")),
                                    (B, hidden)) for name in gates}
                c = tape.put(f"c{pos}_{t}", g["i"] * g["g"] + (g["f"] * c if c is not None else 0),
                             (B, hidden))
                h = tape.put(f"h{pos}_{t}", g["o"] * ops.build("tanh", c), (B, hidden))
        states.append(h)
    if layer["last"]:
        return states[-1]
    return tape.put(f"a{pos}", call("stack_time", *states), (B, steps, hidden))


def _attention(layer: Layer, x, tape: Tape, p):
    pos, d = layer.position, layer["d"]
    steps = layer.in_shape[0]
    proj = {w: tape.put(f"{w}{pos}", call(einsum_name("btf,df->btd"), x, p[f"W{w}{pos}"]),
                        (B, steps, d)) for w in "qkv"}
    product = tape.put(f"qk{pos}", call(einsum_name("btd,bud->btu"), proj["q"], proj["k"]),
                       (B, steps, steps))
    # 1/√d as a double (every library multiplies by a number; PyTorch's sqrt takes tensors)
    scores = tape.put(f"s{pos}", product * sp.Float(1 / math.sqrt(d), 17), (B, steps, steps))
    if layer["causal"]:  # −∞ above the diagonal: those weights are 0
        scores = tape.put(f"sm{pos}", scores + tape.leaf(f"causal{pos}", (steps, steps)),
                          (B, steps, steps))
    weights = tape.put(f"p{pos}", call("softmax_last", scores), (B, steps, steps))
    return tape.put(f"a{pos}", call(einsum_name("btu,bud->btd"), weights, proj["v"]),
                    (B, steps, d))


def _activation(layer: Layer, x, tape: Tape, p):
    if layer.type == LINEAR:
        return x
    if ops.ACTIVATIONS[layer.type].layer.acts == ops.WHOLE_LAYER:
        return tape.put(f"a{layer.position}", call("softmax_last", x), tape.shapes[x])
    return tape.put(f"a{layer.position}", ops.build(layer.type, x), tape.shapes[x])


RULES = {
    "dense": _dense, "conv2d": _conv2d, "maxpool": _maxpool, "avgpool": _avgpool,
    "flatten": _flatten, "batchnorm": _batchnorm, "layernorm": _layernorm,
    "dropout": _dropout, "rnn": _recurrent, "lstm": _recurrent, "gru": _recurrent,
    "attention": _attention, **{name: _activation for name in ACTIVATION_TYPES},
}


# ------------------------------------------------------------------ the backward sweep


def backward_equations(tape: Tape, start: dict) -> tuple[list, dict]:
    """The reverse sweep over the tape: each equation's adjoint is the sum of what its
    users sent it; it sends each argument that depends on a parameter upstream × local.
    ``start`` gives the first adjoints (the loss's). Returns the equations and the
    adjoint symbol of every trainable leaf."""
    sent: dict[sp.Symbol, list] = {s: [e] for s, e in start.items()}
    out_equations = []
    adjoint = {}

    def send(target, contribution, shape):
        if target not in tape.trainable:
            return
        if tape.shapes.get(target) != shape:  # broadcast forward: summed back
            contribution = call("sum_to", contribution, target)
        sent.setdefault(target, []).append(contribution)

    for out, expr in reversed(tape.equations):
        if out not in sent:
            continue
        g = _symbol(f"g_{out.name}")
        out_equations.append((g, sp.Add(*sent.pop(out))))
        adjoint[out] = g
        rule = rule_of(expr)
        if rule is not None:
            for arg, adj in zip(expr.args, rule.vjp(expr.args, out, g), strict=True):
                if adj is not None:
                    send(arg, adj, tape.shapes.get(arg))
            continue
        for name, local in local_partials(Node(out.name, expr)).items():
            send(_symbol(name), g * local, tape.shapes[out])
    for leaf, contributions in sent.items():  # the parameters: nothing computes them
        g = _symbol(f"g_{leaf.name}")
        out_equations.append((g, sp.Add(*contributions)))
        adjoint[leaf] = g
    return out_equations, adjoint


# ------------------------------------------------------------------------- the kernel


def _float32_overrides() -> dict:
    """The op table's sigmoid and step keep float32 arrays float32 (their numpy forms
    compute in float64): σ(z) = (1 + tanh(z/2))/2, the same function without overflow."""
    return {ops.OPS["sigmoid"].numerics.kernel.call: lambda z: 0.5 * (1 + np.tanh(0.5 * z)),
            ops.OPS["step"].numerics.kernel.call: lambda z: (z > 0).astype(z.dtype)}


class LayerKernel(Kernel):
    """Kernels of a network of typed layers over whole arrays (see the module doc)."""

    form = "layers"

    def __init__(self, problem, backend: Backend, cse: bool = True, dtype: str = "float64"):
        if dtype not in DTYPES or (dtype != "float64" and backend.name != "numpy"):
            raise SymbackpropError(f"dtype must be one of {', '.join(DTYPES)} (float64 on"
                                   f" {backend.name}), got {dtype}")
        super().__init__(problem, backend)
        self.dtype = np.dtype(dtype)
        stack: LayerStack = problem.layers
        self.stack = stack
        self.parameter_shapes = dict(stack.parameters)
        self.input_shapes = {"x": stack.input, "y": stack.target_shape}
        self._param_names = tuple(self.parameter_shapes)
        self.output_name = stack.layers[-1].output
        self._compile(cse)

    def _compile(self, cse: bool) -> None:
        stack = self.stack
        batch = _symbol("batch")
        tape = Tape(batch)
        params = {n: tape.leaf(n, shape, trainable=True) for n, shape in stack.parameters.items()}
        x = tape.leaf("x", (B, *stack.input))
        y = tape.leaf("y", (B, *stack.target_shape))
        last = stack.layers[-1]
        act = last.type if last.type in ACTIVATION_TYPES else LINEAR
        body = stack.layers[:-1] if act != LINEAR else stack.layers
        values = []
        for layer in body:
            x = RULES[layer.type](layer, x, tape, params)
            values.append((layer.output, x))
        z, a = x, _symbol(last.output)
        n = stack.output_shape[0]
        out = output_layer(stack.loss, act, n, a, z, y)
        loss_equations = list(out.extra)
        if act != LINEAR:
            value = out.activation if out.activation is not None else (
                ops.build(act, z) if not ops.ACTIVATIONS[act].layer.acts == ops.WHOLE_LAYER
                else call("softmax_last", z))
            loss_equations.append((a, value))
            values.append((last.output, a))
        per_sample = _symbol("L_sample")
        loss_equations.append((per_sample, out.per_sample))
        self.note = out.note
        back, adjoint = backward_equations(tape, {z: out.delta / batch})
        grads = [adjoint.get(params[name], sp.S.Zero) for name in self._param_names]
        self._constants = [s for s in tape.shapes if s.name.startswith(("mask", "causal"))
                           and s not in tape.trainable and s not in (x, y)]
        args = [*params.values(), _symbol("x"), y, *self._constants, batch]
        forward = tape.equations + loss_equations
        everything = forward + back
        names = {type(f).__name__ for _, e in everything for f in e.atoms(sp.Function)}
        if self.backend.name != "numpy":
            self._library = importlib.import_module(self.backend.name)
            namespace = {**self.backend.primitives,
                         **library_namespace(names, self.backend.name, self._library)}
        else:
            namespace = {**self.backend.primitives, **numpy_namespace(names)}
            if self.dtype == np.float32:
                namespace.update(_float32_overrides())
        backend = dataclasses.replace(self.backend, primitives=namespace)
        mean = batch_mean(per_sample)
        self._grad_fn, self.source = lambdify_list(args, everything, [mean, *grads], backend, cse)
        self._loss_fn, _ = lambdify_list(args, forward, [mean], backend, cse)
        self._value_names = [name for name, _ in values]
        self._forward_fn, _ = lambdify_list(args, forward, [s for _, s in values] + [per_sample],
                                            backend, cse)
        self.equations = len(everything)

    # the problem's own values ---------------------------------------------------------

    def _input_values(self) -> dict:
        """x and y of the problem: its mini-batch when the graph holds one, else its
        [data], else its one sample."""
        graph = self.problem.graph
        if self._batch_in_graph:
            out = {}
            for name in ("x", "y"):
                group = graph.groups[name]
                out[name] = np.array([float(graph.leaves[n].value) for n in group.names()]
                                     ).reshape(group.shape)
            return out
        if self.problem.data:
            return {n: np.asarray(v, dtype=float).reshape(len(v), *self.input_shapes[n])
                    for n, v in self.problem.data.items() if n in self.input_shapes}
        return {n: self._leaf_values(n, shape)[None, ...] for n, shape in self.input_shapes.items()}

    def data(self) -> dict:
        return {k: self._array(v) for k, v in self._input_values().items()}

    def _array(self, value):
        """An array of the kernel's float type, in its backend's library."""
        value = np.asarray(self.backend.to_numpy(value), dtype=self.dtype)
        return self.backend.asarray(value) if self.backend.name != "numpy" else value

    def inputs(self) -> dict:
        return self.data() if self._batch_in_graph else {n: v[:1] for n, v in self.data().items()}

    @property
    def _batch_in_graph(self) -> bool:
        """Whether the problem's graph holds a mini-batch (``batch`` in the file)."""
        return len(self.problem.graph.groups["x"].shape) == len(self.input_shapes["x"]) + 1

    def parameters(self) -> dict:
        return {k: self._array(v) for k, v in super().parameters().items()}

    # evaluation -----------------------------------------------------------------------

    def _constant(self, name: str, count: int) -> np.ndarray:
        kind, pos = ("mask", int(name[4:])) if name.startswith("mask") else ("causal", int(name[6:]))
        layer = self.stack.layers[pos - 1]
        if kind == "causal":
            steps = layer.in_shape[0]
            return np.where(np.tril(np.ones((steps, steps))) > 0, 0.0, -np.inf).astype(self.dtype)
        mask = np.asarray(layer["mask"], dtype=self.dtype)
        if mask.shape == layer.in_shape:
            return mask[None, ...]
        if mask.shape[0] != count:
            raise SymbackpropError(f"layers[{pos - 1}] (dropout): its mask is for {mask.shape[0]}"
                                   f" samples, the batch has {count}")
        return mask

    def _args(self, params: dict, data: dict) -> list:
        self._check_params(params)
        x = np.asarray(data["x"], dtype=self.dtype)
        y = np.asarray(data["y"], dtype=self.dtype)
        count = x.shape[0] if x.ndim else 0
        if x.shape[1:] != self.input_shapes["x"] or y.shape != (count, *self.input_shapes["y"]):
            self._batch_size({"x": x, "y": y})  # names what is wrong
            raise SymbackpropError(f"data: x has shape {x.shape} and y {y.shape}: expected"
                                   f" (batch, {', '.join(map(str, self.input_shapes['x']))})"
                                   f" and (batch, {', '.join(map(str, self.input_shapes['y']))})")
        constants = [np.asarray(data[s.name], dtype=self.dtype) if s.name in data
                     else self._constant(s.name, count) for s in self._constants]
        arrays = [*(np.asarray(params[n], dtype=self.dtype) for n in self._param_names),
                  x, y, *constants]
        if self.backend.name == "torch":  # the batch size too: torch's pow takes tensors
            return [*(self._library.as_tensor(a) for a in arrays),
                    self._library.tensor(float(count), dtype=self._library.float64)]
        if self.backend.name == "jax":
            return [*(self.backend.asarray(a) for a in arrays), float(count)]
        return [*arrays, float(count)]

    def loss_and_grad(self, params: dict, data: dict) -> tuple[float, dict]:
        loss, *grads = self._grad_fn(*self._args(params, data))
        shaped = {n: np.broadcast_to(g, self.parameter_shapes[n]) if np.shape(g) == ()
                  else g for n, g in zip(self._param_names, grads, strict=True)}
        return float(loss), shaped

    def loss(self, params: dict, data: dict) -> float:
        return float(self._loss_fn(*self._args(params, data))[0])

    def forward(self, params: dict, data: dict) -> dict:
        """Every layer's output ``a1`` ... (batch first) and the loss per sample ``L``."""
        *values, per_sample = self._forward_fn(*self._args(params, data))
        out = dict(zip(self._value_names, values, strict=True))
        out[LOSS_NAME] = np.reshape(per_sample, -1)
        return out

    def layer_of(self) -> dict[str, list[str]]:
        """Parameters grouped by the layer that owns them."""
        return {f"layer {layer.position} ({layer.type})": list(layer.parameters)
                for layer in self.stack.layers if layer.parameters}


def parameter_count(stack: LayerStack) -> int:
    return sum(prod(s) for s in stack.parameters.values())
