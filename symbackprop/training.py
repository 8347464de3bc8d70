"""Training with the generated kernels: an optimizer's steps on shuffled mini-batches.

:func:`train` is the one function behind ``symbackprop train``. It compiles the
problem (:mod:`symbackprop.kernels`), runs the problem's optimizer (SGD unless it has an
``[optimizer]``; the rules of :mod:`symbackprop.optimizers`, the same as the worked
solutions use) over the problem's ``[data]`` (or its one
``[inputs]`` sample), and records after each epoch the loss over the whole data set,
and on request the gradient norm of each layer (Lesson 5: in a deep sigmoid network the
first layers' norms are orders of magnitude below the last's, the vanishing gradient).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from . import datasets
from .defaults import DEFAULT_BATCH, DEFAULT_EPOCHS
from .errors import SymbackpropError, did_you_mean
from .limits import MAX_EPOCHS, MAX_TRAIN_EQUATIONS, MAX_TRAIN_STEPS, LimitError
from .optimizers import NAMES, Optimizer, step, zero_state

DEFAULT_LEARNING_RATE = 0.1


@dataclass
class TrainResult:
    """What a training run gives: the loss per epoch, the final parameters, accuracy."""

    problem: str
    form: str
    epochs: int
    batch: int
    learning_rate: float
    learning_rate_given: bool  # False when the problem had none and the default was used
    seed: int
    samples: int
    initial_loss: float
    losses: list[float]
    parameters: dict[str, np.ndarray]
    accuracy: float | None = None
    grad_norms: dict[str, list[float]] | None = None
    outputs: np.ndarray | None = None  # the network's predictions on the data, after training
    targets: np.ndarray | None = None
    inputs: np.ndarray | None = None
    stopped: str | None = None  # why training stopped early (a loss or gradient not finite)
    optimizer: str = "sgd"
    notes: list[str] = field(default_factory=list)
    #: the data set a built-in trains on (symbackprop.datasets), and the accuracy on the
    #: samples it holds out
    dataset: str | None = None
    held_out_accuracy: float | None = None
    held_out_samples: int = 0
    seconds_per_epoch: float | None = None

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else self.initial_loss

    def to_json(self) -> dict:
        """The JSON of docs/json.md: losses, final_loss, accuracy, parameters (+ extras)."""
        out = {
            "losses": [_number(v) for v in self.losses],
            "final_loss": _number(self.final_loss),
            "accuracy": self.accuracy,
            "parameters": {k: np.asarray(v).tolist() for k, v in self.parameters.items()},
            "initial_loss": _number(self.initial_loss),
            "epochs": self.epochs, "batch": self.batch, "learning_rate": self.learning_rate,
            "seed": self.seed, "form": self.form, "optimizer": self.optimizer,
        }
        if self.grad_norms is not None:
            out["grad_norms"] = {k: [_number(v) for v in vs] for k, vs in self.grad_norms.items()}
        if self.stopped:
            out["stopped"] = self.stopped
        if self.dataset is not None:
            out.update(dataset=self.dataset, held_out_accuracy=self.held_out_accuracy,
                       held_out_samples=self.held_out_samples)
        return out


def _number(v: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return float(v) if np.isfinite(v) else None


def check_training_size(problem, epochs: int, samples: int | None = None,
                        form: str = "auto") -> None:
    """Refuse, before compiling anything, a run beyond the limits of docs/limits.md:
    epochs, epochs times samples (the kernel calls), and equations in one kernel (the
    scalar graph's, unless the layers form compiles a few equations per layer)."""
    if epochs > MAX_EPOCHS:
        raise LimitError(f"--epochs: at most {MAX_EPOCHS} (the limit; docs/limits.md), "
                         f"got {epochs}")
    if samples is None:
        samples = len(next(iter(problem.data.values()))) if problem.data else 1
    if epochs * samples > MAX_TRAIN_STEPS:
        raise LimitError(f"--epochs: {epochs} epochs of {samples} samples is more than "
                         f"{MAX_TRAIN_STEPS} sample passes (the limit; docs/limits.md)")
    by_layer = getattr(problem, "layers", None) is not None and form in ("auto", "layers")
    if not by_layer and len(problem.graph.nodes) > MAX_TRAIN_EQUATIONS:
        raise LimitError(f"{problem.source}: {len(problem.graph.nodes)} equations; training "
                         f"compiles at most {MAX_TRAIN_EQUATIONS} (the limit; docs/limits.md)")


class OptionError(SymbackpropError):
    """A training option out of range; ``option`` names it (the CLI maps it to its flag)."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option, self.reason = option, message


@dataclass(frozen=True)
class TrainOptions:
    """How to train: every option of :func:`train`, checked by :meth:`checked`.

    ``epochs`` passes over the data (default 2000, or the data set's for a built-in that
    trains on one); ``batch`` samples per step (default 32, or the data set's; all of them
    when fewer); ``learning_rate`` (default: the problem's, else 0.1);
    ``optimizer`` a name of :data:`symbackprop.optimizers.NAMES` (default: the problem's
    ``[optimizer]``, else sgd; docs/optimizers.md); ``seed`` fixes the shuffling;
    ``grad_norms`` records each layer's (network form) or parameter's (graph form)
    gradient norm after each epoch; ``backend`` and ``form`` choose the kernels.
    """

    epochs: int | None = None
    batch: int | None = None
    learning_rate: float | None = None
    optimizer: str | None = None
    seed: int = 0
    grad_norms: bool = False
    backend: str = "numpy"
    form: str = "auto"

    def checked(self) -> TrainOptions:
        """The options, or an :class:`OptionError` naming the first one out of range."""
        if self.epochs is not None and (type(self.epochs) is not int or self.epochs < 1):
            raise OptionError("epochs", f"must be a whole number of at least 1, got {self.epochs}")
        # numpy's generators take seeds >= 0 only; a negative one is refused rather than
        # silently folded onto another seed, so two different seeds never give the same run.
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise OptionError("seed", f"must be a whole number of at least 0, got {seed}")
        if self.batch is not None and (type(self.batch) is not int or self.batch < 1):
            raise OptionError("batch", f"must be a whole number of at least 1, got {self.batch}")
        rate = self.learning_rate
        if rate is not None and not (isinstance(rate, (int, float)) and np.isfinite(rate) and rate > 0):
            raise OptionError("learning_rate", f"must be a positive number, got {rate}")
        if self.optimizer is not None and self.optimizer not in NAMES:
            raise OptionError("optimizer", f"unknown optimizer '{self.optimizer}'"
                              f"{did_you_mean(str(self.optimizer), NAMES)} (one of {', '.join(NAMES)})")
        return self


def rule_for(problem, options: TrainOptions) -> Optimizer:
    """The optimizer of a training run, as floats: the problem's ``[optimizer]`` (its
    settings), renamed by ``options.optimizer``, its rate set by ``options.learning_rate``."""
    rule = problem.optimizer or Optimizer("sgd", learning_rate=problem.learning_rate
                                          or sp.Rational(str(DEFAULT_LEARNING_RATE)))
    if options.optimizer is not None:
        rule = replace(rule, name=options.optimizer)
    if options.learning_rate is not None:
        rule = replace(rule, learning_rate=options.learning_rate)
    return rule.as_floats()


def train(problem, options: TrainOptions | None = None,
          progress: Callable[[int, int, float], None] | None = None, **keywords) -> TrainResult:
    """Train a problem's parameters by its optimizer on shuffled mini-batches.

    ``options`` (a :class:`TrainOptions`), or its fields as keywords
    (``train(p, epochs=50)``). ``progress(epoch, epochs, loss)`` is called after each epoch.
    """
    options = (options or TrainOptions(**keywords)).checked()
    split = datasets.for_problem(problem)
    if options.epochs is None:
        options = replace(options, epochs=split.epochs if split else DEFAULT_EPOCHS)
    if options.batch is None and split is not None:
        options = replace(options, batch=split.batch)
    check_training_size(problem, options.epochs, len(split.x) if split else None, options.form)
    given = options.learning_rate is not None or problem.learning_rate is not None
    rule = rule_for(problem, options)
    if not problem.data and not problem.graph.inputs:
        raise SymbackpropError(f"{problem.source}: nothing to train on: the problem has neither"
                               " [data] nor [inputs]")
    if not problem.graph.parameters:
        raise SymbackpropError(f"{problem.source}: nothing to train: the problem has no [parameters]")

    kernel = problem.compile(backend=options.backend, form=options.form)
    params = {k: np.array(kernel.backend.to_numpy(v), dtype=float)
              for k, v in kernel.parameters().items()}
    if split is not None:
        data = {"x": split.x, "y": split.y}
    else:
        data = {k: np.asarray(kernel.backend.to_numpy(v), dtype=float)
                for k, v in kernel.data().items()}
    count = len(next(iter(data.values()))) if data else 1
    size = min(options.batch or DEFAULT_BATCH, count)
    began = time.perf_counter()
    losses, norms, stopped, initial = _run(kernel, params, data, rule, size, options, progress)
    elapsed = time.perf_counter() - began
    result = TrainResult(
        problem=problem.name, form=kernel.form, epochs=len(losses), batch=size,
        learning_rate=float(rule.learning_rate), learning_rate_given=given, seed=options.seed,
        samples=count, initial_loss=float(initial), losses=losses, parameters=params,
        grad_norms=norms, stopped=stopped, optimizer=rule.name,
        seconds_per_epoch=elapsed / max(1, len(losses)))
    if kernel.form in ("network", "layers"):
        net = problem.network or problem.layers
        name = f"a{net.depth}" if kernel.form == "network" else kernel.output_name
        with np.errstate(all="ignore"):
            outputs = kernel.forward(params, data)[name]
        result.outputs = np.asarray(kernel.backend.to_numpy(outputs))
        result.targets, result.inputs = data["y"], data["x"]
        result.accuracy = accuracy(result.outputs, data["y"], net.loss)
        if split is not None:
            with np.errstate(all="ignore"):
                held = kernel.forward(params, {"x": split.held_out_x, "y": split.held_out_y})[name]
            result.dataset, result.held_out_samples = split.name, len(split.held_out_x)
            result.held_out_accuracy = accuracy(np.asarray(held), split.held_out_y, net.loss)
    return result


def _run(kernel, params: dict, data: dict, rule: Optimizer, size: int, options: TrainOptions,
         progress):
    """The epochs: shuffled mini-batches, one optimizer step each (params change in
    place). Returns the losses, the gradient norms, why it stopped early, the first loss."""
    count = len(next(iter(data.values()))) if data else 1
    rng = np.random.default_rng(options.seed)
    layers = _layers(kernel)
    states = {name: zero_state(rule, value) for name, value in params.items()}
    t = 0

    def evaluate():
        if options.grad_norms:
            value, grads = kernel.loss_and_grad(params, data)
            for layer, names in layers.items():
                norms[layer].append(float(np.sqrt(sum(np.sum(np.square(grads[n])) for n in names))))
            return value
        return kernel.loss(params, data)

    norms = {layer: [] for layer in layers} if options.grad_norms else None
    start_scale = _largest(params)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        initial = evaluate()
        if norms is not None:
            norms = {layer: [] for layer in layers}  # the record starts after epoch 1
        losses: list[float] = []
        stopped = None
        for epoch in range(1, options.epochs + 1):
            order = rng.permutation(count) if size < count else None
            for start in range(0, count, size):
                if order is None:
                    chunk = data
                else:
                    rows = order[start:start + size]
                    chunk = {k: v[rows] for k, v in data.items()}
                _, grads = kernel.loss_and_grad(params, chunk)
                steps = {name: np.asarray(kernel.backend.to_numpy(g)) for name, g in grads.items()}
                if not np.isfinite(sum(float(np.sum(g)) for g in steps.values())):
                    stopped = _gradient_stop(steps, params, start_scale, epoch)
                    break
                t += 1
                for name, g in steps.items():
                    moved = step(rule, params[name], g, states[name], t)
                    params[name][...] = moved.new
                    states[name] = moved.state
            losses.append(float(evaluate()))
            if progress is not None:
                progress(epoch, options.epochs, losses[-1])
            if stopped is None and not np.isfinite(losses[-1]):
                stopped = _loss_stop(kernel, params, data, start_scale, epoch, losses[-1])
            if stopped is not None:
                break
    return losses, norms, stopped, initial


# Parameters this many times larger than at the start (and than 1) mean the steps
# diverged: then the learning rate is the likely cause, not the formulas.
DIVERGED = 1e6


def _largest(params: dict) -> float:
    return max((float(np.max(np.abs(v))) for v in params.values() if np.size(v)), default=0.0)


def _learning_rate_hint(params: dict, start_scale: float) -> str:
    largest = _largest(params)
    if not np.isfinite(largest) or largest > DIVERGED * max(1.0, start_scale):
        return (f"; the parameters grew from at most {start_scale:.3g} to {largest:.3g} in size:"
                " the learning rate is probably too large (try a smaller --lr)")
    return (f"; the parameters are still moderate (largest size {largest:.3g}): a smaller"
            " --lr may not help; look at the values the formulas reach")


def _gradient_stop(steps: dict, params: dict, start_scale: float, epoch: int) -> str:
    """Why training stops when a step's gradient is NaN or infinite (not applied)."""
    bad = [name for name, g in steps.items() if not np.isfinite(g).all()] or list(steps)
    return (f"the gradient of {', '.join(bad)} became infinite or NaN at epoch {epoch}: a value"
            " outside double precision in the backward pass (that step was not taken)"
            + _learning_rate_hint(params, start_scale))


def _loss_stop(kernel, params: dict, data: dict, start_scale: float, epoch: int,
               loss: float) -> str:
    """Why training stops when the loss is NaN or infinite: the first value of the
    forward pass outside double precision, and whether the parameters diverged."""
    where = ""
    try:
        with np.errstate(all="ignore"):
            values = kernel.forward(params, data)
        for name, value in values.items():
            if not np.isfinite(np.asarray(kernel.backend.to_numpy(value), dtype=float)).all():
                where = f", first at {name}"
                break
    except Exception:  # noqa: BLE001 - the diagnosis must never hide the warning
        pass
    return (f"the loss became {loss} at epoch {epoch}: a value outside double precision"
            f" (infinite or NaN) in the forward pass{where}"
            + _learning_rate_hint(params, start_scale))


def _layers(kernel) -> dict[str, list[str]]:
    """Parameters grouped by layer (W_l with b_l) for the network form, else one each."""
    if kernel.form == "network":
        depth = kernel.problem.network.depth
        return {f"layer {layer}": [f"W{layer}", f"b{layer}"] for layer in range(1, depth + 1)}
    if kernel.form == "layers":
        return kernel.layer_of()
    return {name: [name] for name in kernel.parameter_shapes}


def accuracy(outputs: np.ndarray, targets: np.ndarray, loss: str) -> float | None:
    """As docs/json.md says: the share of samples whose arg max output equals the arg max
    of the target; for one output, the output rounded equals the target. None when the
    targets are not classes or one-hot patterns."""
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if loss == "hinge":
        return float(np.mean(np.argmax(outputs, axis=1) == targets[:, 0]))
    if not np.isin(targets, (0.0, 1.0)).all():
        return None
    if targets.shape[1] == 1:
        return float(np.mean(np.round(outputs[:, 0]) == targets[:, 0]))
    if not (targets.sum(axis=1) == 1).all():
        return None
    return float(np.mean(np.argmax(outputs, axis=1) == np.argmax(targets, axis=1)))
