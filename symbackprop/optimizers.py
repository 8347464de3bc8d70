"""The update rules of the optimizers, written once for exact numbers and for arrays.

Each rule follows PyTorch's ``torch.optim`` (docs/optimizers.md): weight decay is added
to the gradient as ``weight_decay * w``; the state starts at zero; SGD with momentum
keeps ``b = mu b + g`` (no dampening, so the first step's buffer is ``g``) and nesterov
steps along ``g + mu b``; RMSprop divides by ``sqrt(v) + eps``; Adam corrects both
moments for their start at zero and adds ``eps`` after the square root of ``v_hat``.

One function, :func:`step`, is used by the worked solutions (SymPy numbers: exact
rationals, or floats whose digits the engine checks) and by ``train`` (numpy arrays),
so the handout and the kernels can never disagree on a rule. Every intermediate the
rule computes is returned by name (:class:`Step`), because the handout writes each of
them with its numbers; the symbols and their LaTeX are in :data:`RULES`, beside the
arithmetic they describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import sympy as sp

from .defaults import OPTIMIZERS
from .errors import ProblemError, did_you_mean

NAMES = OPTIMIZERS
MAX_STEPS = 50  # a handout table of more steps is no handout; keeps a hostile file cheap


@dataclass(frozen=True)
class Optimizer:
    """The ``[optimizer]`` table: which rule and its settings (PyTorch's defaults)."""

    name: str = "sgd"
    learning_rate: object = sp.Rational(1, 10)
    beta1: object = sp.Rational(9, 10)
    beta2: object = sp.Rational(999, 1000)
    eps: object = sp.Rational(1, 10**8)
    momentum: object = sp.Rational(9, 10)
    alpha: object = sp.Rational(99, 100)
    weight_decay: object = sp.Integer(0)
    steps: int = 1

    @property
    def rule(self) -> Rule:
        return RULES[self.name]

    @property
    def state_names(self) -> tuple[str, ...]:
        """The state a parameter carries between steps: ``("m", "v")`` for Adam."""
        return self.rule.state

    def as_floats(self) -> Optimizer:
        """The same settings as Python floats, for numpy arrays."""
        return replace(self, **{f.name: float(getattr(self, f.name)) for f in fields(self)
                                if f.name not in ("name", "steps")})

    def settings(self) -> dict:
        """The settings this rule reads, by name (for the handout and the JSON)."""
        return {name: getattr(self, name) for name in self.rule.settings}


@dataclass(frozen=True)
class Line:
    """One line of a rule as the handout writes it: ``target = formula``.

    ``numeric`` is LaTeX with ``{name}`` fields for the numbers (``{beta1}``, ``{g}``,
    ``{m}`` the previous state, ...); :mod:`symbackprop.render.optimizer` fills them.
    """

    target: str  # the name of the quantity in :attr:`Step.terms`
    symbol: str  # its LaTeX, with {p} for the parameter's name
    symbolic: str  # the rule in symbols, {p} for the parameter's name
    numeric: str  # the rule with {name} fields for the numbers
    #: the same line as a SymPy expression in the terms' and settings' names (``m_old``,
    #: ``g``, ``beta1``, ``t``): the display checks that each line, with its numbers as
    #: shown, gives its result as shown; a test checks it against :func:`step`
    formula: sp.Expr = sp.S.Zero


@dataclass(frozen=True)
class Rule:
    """An optimizer: its state, the settings it reads, its lines, and which convention."""

    name: str
    state: tuple[str, ...]
    settings: tuple[str, ...]
    lines: tuple[Line, ...]
    convention: str


@dataclass
class Step:
    """One update of one parameter: the new value, the new state and every intermediate
    (``g`` the gradient with weight decay, ``m``, ``v``, ``m_hat``, ``v_hat``, ``b``,
    ``w`` the new value), plus the values that went in (``w_old``, ``grad``, and the
    previous state as ``m_old`` ...)."""

    new: object
    state: dict
    terms: dict = field(default_factory=dict)


def _sqrt(x):
    return sp.sqrt(x) if isinstance(x, sp.Basic) else np.sqrt(x)


def zero_state(optimizer: Optimizer, like=0) -> dict:
    """The state before the first step: zero, shaped like ``like``."""
    return {name: like * 0 for name in optimizer.state_names}


def step(optimizer: Optimizer, w, grad, state: dict, t: int) -> Step:
    """Step ``t`` (from 1) of ``w`` with gradient ``grad`` and the previous ``state``.

    Works on SymPy numbers and on numpy arrays alike; the arithmetic is written once.
    """
    o = optimizer
    terms = {"w_old": w, "grad": grad}
    terms.update({f"{k}_old": v for k, v in state.items()})
    g = grad + o.weight_decay * w if o.weight_decay else grad
    terms["g"] = g
    new_state = {}
    if o.name == "sgd":
        direction = g
    elif o.name in ("momentum", "nesterov"):
        b = o.momentum * state["b"] + g
        new_state["b"] = terms["b"] = b
        if o.name == "nesterov":
            direction = terms["d"] = g + o.momentum * b
        else:
            direction = b
    elif o.name == "rmsprop":
        v = o.alpha * state["v"] + (1 - o.alpha) * g**2
        new_state["v"] = terms["v"] = v
        direction = g / (_sqrt(v) + o.eps)
    else:  # adam
        m = o.beta1 * state["m"] + (1 - o.beta1) * g
        v = o.beta2 * state["v"] + (1 - o.beta2) * g**2
        new_state["m"], new_state["v"] = m, v
        terms["m"], terms["v"] = m, v
        terms["m_hat"] = m_hat = m / (1 - o.beta1**t)
        terms["v_hat"] = v_hat = v / (1 - o.beta2**t)
        direction = m_hat / (_sqrt(v_hat) + o.eps)
    new = w - o.learning_rate * direction
    terms["w"] = new
    return Step(new, new_state, terms)


# ------------------------------------------------------------------ the rules as written

_t, _g, _grad, _w_old = sp.symbols("t g grad w_old")
_m_old, _v_old, _b_old, _m, _v, _b, _d, _m_hat, _v_hat = sp.symbols(
    "m_old v_old b_old m v b d m_hat v_hat")
_lr, _beta1, _beta2, _eps, _mu, _alpha, _wd = sp.symbols(
    "learning_rate beta1 beta2 eps momentum alpha weight_decay")

RULES: dict[str, Rule] = {
    "sgd": Rule(
        "sgd", (), ("learning_rate", "weight_decay"),
        (Line("w", r"{p}^{\text{new}}", r"{p} - \eta\, g", r"{w_old} - {learning_rate} \cdot {g}",
              _w_old - _lr * _g),),
        "plain gradient descent, as torch.optim.SGD without momentum"),
    "momentum": Rule(
        "momentum", ("b",), ("learning_rate", "momentum", "weight_decay"),
        (Line("b", r"b_{{p}}", r"\mu\, b_{{p}} + g", r"{momentum} \cdot {b_old} + {g}", _mu * _b_old + _g),
         Line("w", r"{p}^{\text{new}}", r"{p} - \eta\, b_{{p}}", r"{w_old} - {learning_rate} \cdot {b}", _w_old - _lr * _b)),
        "torch.optim.SGD with momentum and no dampening: the buffer (momentum times the"
        " buffer, plus the gradient) starts at zero, so after the first step it is the"
        " gradient itself"),
    "nesterov": Rule(
        "nesterov", ("b",), ("learning_rate", "momentum", "weight_decay"),
        (Line("b", r"b_{{p}}", r"\mu\, b_{{p}} + g", r"{momentum} \cdot {b_old} + {g}", _mu * _b_old + _g),
         Line("d", r"d_{{p}}", r"g + \mu\, b_{{p}}", r"{g} + {momentum} \cdot {b}", _g + _mu * _b),
         Line("w", r"{p}^{\text{new}}", r"{p} - \eta\, d_{{p}}", r"{w_old} - {learning_rate} \cdot {d}", _w_old - _lr * _d)),
        "torch.optim.SGD with nesterov=True: the buffer (momentum times the buffer, plus"
        " the gradient) starts at zero, and the step goes along the gradient plus momentum"
        " times the buffer"),
    "rmsprop": Rule(
        "rmsprop", ("v",), ("learning_rate", "alpha", "eps", "weight_decay"),
        (Line("v", r"v_{{p}}", r"\alpha\, v_{{p}} + (1 - \alpha)\, g^2",
              r"{alpha} \cdot {v_old} + (1 - {alpha}) \cdot {g}^2",
              _alpha * _v_old + (1 - _alpha) * _g**2),
         Line("w", r"{p}^{\text{new}}", r"{p} - \eta\, \frac{g}{\sqrt{v_{{p}}} + \epsilon}",
              r"{w_old} - {learning_rate} \cdot \frac{{g}}{\sqrt{{v}} + {eps}}",
              _w_old - _lr * _g / (sp.sqrt(_v) + _eps))),
        "torch.optim.RMSprop (not centered, no momentum): v starts at zero and eps is added"
        " after the square root"),
    "adam": Rule(
        "adam", ("m", "v"), ("learning_rate", "beta1", "beta2", "eps", "weight_decay"),
        (Line("m", r"m_{{p}}", r"\beta_1 m_{{p}} + (1 - \beta_1)\, g",
              r"{beta1} \cdot {m_old} + (1 - {beta1}) \cdot {g}",
              _beta1 * _m_old + (1 - _beta1) * _g),
         Line("v", r"v_{{p}}", r"\beta_2 v_{{p}} + (1 - \beta_2)\, g^2",
              r"{beta2} \cdot {v_old} + (1 - {beta2}) \cdot {g}^2",
              _beta2 * _v_old + (1 - _beta2) * _g**2),
         Line("m_hat", r"\hat{m}_{{p}}", r"\frac{m_{{p}}}{1 - \beta_1^{t}}",
              r"\frac{{m}}{1 - {beta1}^{{t}}}", _m / (1 - _beta1**_t)),
         Line("v_hat", r"\hat{v}_{{p}}", r"\frac{v_{{p}}}{1 - \beta_2^{t}}",
              r"\frac{{v}}{1 - {beta2}^{{t}}}", _v / (1 - _beta2**_t)),
         Line("w", r"{p}^{\text{new}}", r"{p} - \eta\, \frac{\hat{m}_{{p}}}{\sqrt{\hat{v}_{{p}}} + \epsilon}",
              r"{w_old} - {learning_rate} \cdot \frac{{m_hat}}{\sqrt{{v_hat}} + {eps}}",
              _w_old - _lr * _m_hat / (sp.sqrt(_v_hat) + _eps))),
        "torch.optim.Adam: both moments start at zero and are bias-corrected (divided by"
        " one minus their beta to the power of the step); eps is added after the square"
        " root of the corrected second moment; weight decay, if any, is added to the"
        " gradient (L2, not AdamW)"),
}

#: The line of the gradient with weight decay, written before a rule's own lines.
DECAY = Line("g", "g", r"\frac{\partial E}{\partial {p}}"
             r" + \underbrace{\lambda\, {p}}_{\text{weight decay}}",
             r"{grad} + \underbrace{{weight_decay} \cdot {w_factor}}_{\text{weight decay}}",
             _grad + _wd * _w_old)

#: The settings' symbols in the handout.
SETTING_SYMBOLS = {"learning_rate": r"\eta", "beta1": r"\beta_1", "beta2": r"\beta_2",
                   "eps": r"\epsilon", "momentum": r"\mu", "alpha": r"\alpha",
                   "weight_decay": r"\lambda"}


# ------------------------------------------------------------------ reading [optimizer]

_KEYS = ("name", "learning_rate", "beta1", "beta2", "eps", "momentum", "alpha",
         "weight_decay", "steps")


def read_optimizer(table, learning_rate, to_rational) -> Optimizer | None:
    """The ``[optimizer]`` table (or None), the top-level ``learning_rate`` its default.

    ``to_rational(value, field, section)`` is the loader's reader of exact numbers.
    Errors are located at ``[optimizer] FIELD``.
    """
    if table is None:
        return None
    where = {"section": "optimizer"}
    if not isinstance(table, dict):
        raise ProblemError("[optimizer] must be a table (name = \"adam\", ...)").at(**where)
    for key in table:
        if key not in _KEYS:
            raise ProblemError(f"unknown setting{did_you_mean(key, _KEYS)} (settings: "
                               f"{', '.join(_KEYS)})").at(field=key, **where)
    name = table.get("name", "sgd")
    if name not in NAMES:
        shown = name if isinstance(name, str) else repr(name)
        raise ProblemError(f"unknown optimizer '{shown}'"
                           f"{did_you_mean(str(name), NAMES)} (one of {', '.join(NAMES)})"
                           ).at(field="name", **where)
    values = {"name": name}
    if "learning_rate" in table:
        values["learning_rate"] = to_rational(table["learning_rate"], "learning_rate", "optimizer")
    elif learning_rate is not None:
        values["learning_rate"] = learning_rate
    else:
        raise ProblemError("the optimizer needs a learning_rate (here, or at the top level)"
                           ).at(field="learning_rate", **where)
    for key in ("learning_rate", "beta1", "beta2", "eps", "momentum", "alpha", "weight_decay"):
        if key in table and key != "learning_rate":
            values[key] = to_rational(table[key], key, "optimizer")
    limits = {"learning_rate": "positive", "eps": "positive", "beta1": "unit", "beta2": "unit",
              "alpha": "unit", "momentum": "unit", "weight_decay": "nonnegative"}
    for key, kind in limits.items():
        if key not in values:
            continue
        v = values[key]
        bad = {"positive": v <= 0, "unit": v < 0 or v >= 1, "nonnegative": v < 0}[kind]
        if bad:
            words = {"positive": "must be positive", "unit": "must be at least 0 and below 1",
                     "nonnegative": "must be 0 or positive"}[kind]
            raise ProblemError(words).at(field=key, **where)
    steps = table.get("steps", 1)
    if type(steps) is not int or not 1 <= steps <= MAX_STEPS:
        raise ProblemError(f"must be a whole number from 1 to {MAX_STEPS}").at(field="steps", **where)
    values["steps"] = steps
    return Optimizer(**values)
