"""A network of typed layers: the ``[network]`` table whose ``layers`` is a list of tables.

    [network]
    input = [1, 4, 4]              # features; [channels, height, width]; or [time, features]
    loss = "cce"
    layers = [{ type = "conv2d", filters = 2, kernel = 2 }, { type = "relu" }, ...]

Each layer is read into a :class:`Layer`: its type, its settings (defaults filled in),
the shape it takes and the shape it gives (per sample), and the parameters it owns with
their shapes. Everything a user can get wrong is an error naming ``layers[i]`` and the
field. The shapes follow PyTorch: a convolution is a cross-correlation over (C, H, W), a
dense layer acts on the last axis, recurrent layers and attention take (time, features).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from math import prod

import sympy as sp

from ..errors import ProblemError, did_you_mean
from ..limits import MAX_NETWORK_PARAMETERS, LimitError
from ..losses import LOSSES
from ..network import ACTIVATIONS

#: Activations as layers of their own: the network form's (softmax acts on the last axis).
ACTIVATION_TYPES = ACTIVATIONS
#: Every layer type with its settings: name -> (required, optional with defaults).
SETTINGS: dict[str, tuple[tuple[str, ...], dict]] = {
    "dense": (("units",), {}),
    "conv2d": (("filters", "kernel"), {"stride": 1, "padding": 0}),
    "maxpool": (("size",), {"stride": None}),
    "avgpool": (("size",), {"stride": None}),
    "flatten": ((), {}),
    "batchnorm": ((), {"eps": Decimal("1e-5")}),
    "layernorm": ((), {"eps": Decimal("1e-5")}),
    "dropout": (("p", "mask"), {}),
    "rnn": (("hidden",), {"last": False}),
    "lstm": (("hidden",), {"last": False}),
    "gru": (("hidden",), {"last": False}),
    "attention": (("d",), {"causal": False}),
    **{name: ((), {}) for name in ACTIVATION_TYPES},
}
#: Gates stacked in a recurrent layer's W, U and b (PyTorch's order).
GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
MAX_LAYERS = 32
MAX_SIZE = 64  # any one dimension: units, filters, channels, height, width, time, hidden


@dataclass(frozen=True)
class Layer:
    """One layer: ``position`` counts from 1 (the l of ``a{l}`` and ``W{l}``)."""

    type: str
    position: int
    settings: dict
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    parameters: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return f"a{self.position}"

    def __getitem__(self, key):
        return self.settings[key]


@dataclass(frozen=True)
class LayerStack:
    """The typed layers of a network, its input shape (per sample) and its loss."""

    input: tuple[int, ...]
    layers: tuple[Layer, ...]
    loss: str

    @property
    def parameters(self) -> dict[str, tuple[int, ...]]:
        return {name: shape for layer in self.layers for name, shape in layer.parameters.items()}

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape

    @property
    def target_shape(self) -> tuple[int, ...]:
        return (1,) if self.loss == "hinge" else self.output_shape

    @property
    def normalises_over_batch(self) -> bool:
        return any(layer.type == "batchnorm" for layer in self.layers)


def is_layer_list(spec: dict) -> bool:
    """Whether a ``[network]`` table uses typed layers (a list of tables)."""
    layers = spec.get("layers")
    return isinstance(layers, list) and bool(layers) and all(isinstance(x, dict) for x in layers)


def read_stack(spec: dict) -> LayerStack:
    """Read and check a ``[network]`` table of typed layers."""
    allowed = ("input", "layers", "loss")
    for key in spec:
        if key not in allowed:
            raise ProblemError(f"unknown key{did_you_mean(str(key), allowed)}"
                               f" (keys of a network of typed layers: {', '.join(allowed)})"
                               ).at(field=str(key))
    shape = first = _shape(spec.get("input"))
    tables = spec["layers"]
    if len(tables) > MAX_LAYERS:
        raise LimitError(f"more than {MAX_LAYERS} layers (the limit; docs/limits.md)").at(
            field="layers")
    layers = []
    for position, table in enumerate(tables, 1):
        try:
            layer = _layer(table, position, shape)
        except ProblemError as exc:
            raise exc.at(field=f"layers[{position - 1}]") from None
        layers.append(layer)
        shape = layer.out_shape
    loss = spec.get("loss")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ProblemError(f"unknown loss '{loss}'{did_you_mean(str(loss), LOSSES)}"
                           f" (one of {', '.join(LOSSES)})").at(field="loss")
    if len(shape) != 1:
        raise ProblemError(f"the last layer gives shape {shape}; a loss needs a vector "
                           "(end with flatten, dense, or a recurrent layer with last = true)"
                           ).at(field="layers")
    stack = LayerStack(first, tuple(layers), loss)
    count = sum(prod(s) for s in stack.parameters.values())
    if count > MAX_NETWORK_PARAMETERS:
        raise LimitError(f"{count} parameters: more than {MAX_NETWORK_PARAMETERS} (the limit;"
                         " docs/limits.md)").at(field="layers")
    return stack


def _shape_of(value) -> tuple[int, ...]:
    return (value,) if type(value) is int else tuple(value)


def _shape(value) -> tuple[int, ...]:
    ok = (type(value) is int or isinstance(value, list) and 1 <= len(value) <= 3
          and all(type(n) is int for n in value))
    shape = _shape_of(value) if ok else ()
    if not ok or not all(1 <= n <= MAX_SIZE for n in shape):
        raise ProblemError(f"input must be a feature count, [channels, height, width] or "
                           f"[time, features], each from 1 to {MAX_SIZE}").at(field="input")
    return shape


def _whole(value, name: str, low: int = 1, high: int = MAX_SIZE) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ProblemError(f"{name} must be a whole number from {low} to {high}")
    return value


def _layer(table: dict, position: int, shape: tuple[int, ...]) -> Layer:
    kind = table.get("type")
    if not isinstance(kind, str) or kind not in SETTINGS:
        raise ProblemError(f"unknown layer type '{kind}'{did_you_mean(str(kind), SETTINGS)}"
                           f" (types: {', '.join(SETTINGS)})")
    required, optional = SETTINGS[kind]
    for key in table:
        if key != "type" and key not in required and key not in optional:
            known = (*required, *optional)
            raise ProblemError(f"{kind} has no setting '{key}'"
                               f"{did_you_mean(str(key), known) if known else ''}"
                               f" (settings: {', '.join(known) or 'none'})")
    for key in required:
        if key not in table:
            raise ProblemError(f"{kind} needs {key}")
    settings = {**optional, **{k: v for k, v in table.items() if k != "type"}}
    out, params = SHAPES[kind](settings, shape, position)
    return Layer(kind, position, settings, shape, out, params)


def _needs(shape, rank: int, what: str, kind: str) -> None:
    if len(shape) != rank:
        raise ProblemError(f"{kind} takes {what}, but its input has shape {shape}")


def _dense(s, shape, pos):
    units = _whole(s["units"], "units")
    return (*shape[:-1], units), {f"W{pos}": (units, shape[-1]), f"b{pos}": (units,)}


def _pair(value, name: str) -> tuple[int, int]:
    if type(value) is int:
        return (_whole(value, name), value)
    if isinstance(value, list) and len(value) == 2:
        return (_whole(value[0], name), _whole(value[1], name))
    raise ProblemError(f"{name} must be a whole number or [height, width]")


def _conv2d(s, shape, pos):
    _needs(shape, 3, "[channels, height, width]", "conv2d")
    filters = _whole(s["filters"], "filters")
    kh, kw = _pair(s["kernel"], "kernel")
    stride = _whole(s["stride"], "stride")
    padding = _whole(s["padding"], "padding", 0, 8)
    c, h, w = shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    if oh < 1 or ow < 1:
        raise ProblemError(f"a {kh}×{kw} kernel does not fit a {h}×{w} input"
                           f" with padding {padding}")
    s["kernel"] = (kh, kw)
    return (filters, oh, ow), {f"K{pos}": (filters, c, kh, kw), f"b{pos}": (filters,)}


def _pool(s, shape, pos):
    _needs(shape, 3, "[channels, height, width]", "a pooling layer")
    size = _whole(s["size"], "size")
    stride = size if s["stride"] is None else _whole(s["stride"], "stride")
    s["stride"] = stride
    c, h, w = shape
    if size > h or size > w:
        raise ProblemError(f"a {size}×{size} window does not fit a {h}×{w} input")
    return (c, (h - size) // stride + 1, (w - size) // stride + 1), {}


def _flatten(s, shape, pos):
    return (prod(shape),), {}


def _batchnorm(s, shape, pos):
    if len(shape) == 2:
        raise ProblemError("batchnorm takes features or [channels, height, width]; for"
                           " [time, features] use layernorm")
    return _norm(s, shape, pos)


def _fraction(value, name: str, low, high, *, low_open: bool, high_open: bool) -> sp.Rational:
    """A setting written as a number (TOML gives a Decimal), as the exact fraction it reads
    as: eps = 1e-5 is 1/100000, p = 0.5 is 1/2."""
    ok = not isinstance(value, bool) and isinstance(value, int | float | Decimal)
    number = sp.Rational(str(value)) if ok and Decimal(str(value)).is_finite() else None
    ok = number is not None and (low < number if low_open else low <= number) and (
        number < high if high_open else number <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ProblemError(f"{name} must be a number in {interval}")
    return number


def _norm(s, shape, pos):
    s["eps"] = _fraction(s["eps"], "eps", 0, 1, low_open=True, high_open=False)
    features = shape[0] if len(shape) == 3 else shape[-1]  # channels of an image
    return shape, {f"gamma{pos}": (features,), f"beta{pos}": (features,)}


def _layernorm(s, shape, pos):
    out, _ = _norm(s, shape, pos)
    return out, {f"gamma{pos}": (shape[-1],), f"beta{pos}": (shape[-1],)}


def _dropout(s, shape, pos):
    s["p"] = _fraction(s["p"], "p", 0, 1, low_open=False, high_open=True)
    return shape, {}


def _recurrent(kind):
    def shapes(s, shape, pos):
        _needs(shape, 2, "[time, features]", kind)
        hidden = _whole(s["hidden"], "hidden")
        if not isinstance(s["last"], bool):
            raise ProblemError("last must be true or false")
        k = len(GATES[kind])
        out = (hidden,) if s["last"] else (shape[0], hidden)
        return out, {f"W{pos}": (k * hidden, shape[1]), f"U{pos}": (k * hidden, hidden),
                     f"b{pos}": (k * hidden,)}
    return shapes


def _attention(s, shape, pos):
    _needs(shape, 2, "[time, features]", "attention")
    d = _whole(s["d"], "d")
    if not isinstance(s["causal"], bool):
        raise ProblemError("causal must be true or false")
    return (shape[0], d), {f"Wq{pos}": (d, shape[1]), f"Wk{pos}": (d, shape[1]),
                           f"Wv{pos}": (d, shape[1])}


def _activation(s, shape, pos):
    return shape, {}


SHAPES = {
    "dense": _dense, "conv2d": _conv2d, "maxpool": _pool, "avgpool": _pool,
    "flatten": _flatten, "batchnorm": _batchnorm, "layernorm": _layernorm, "dropout": _dropout,
    "rnn": _recurrent("rnn"), "lstm": _recurrent("lstm"), "gru": _recurrent("gru"),
    "attention": _attention, **{name: _activation for name in ACTIVATION_TYPES},
}
