"""Training with the generated kernels: plain SGD on shuffled mini-batches.

:func:`train` is the one function behind ``symbackprop train``. It compiles the
problem (:mod:`symbackprop.kernels`), runs SGD over the problem's ``[data]`` (or its one
``[inputs]`` sample), and records after each epoch the loss over the whole data set,
and on request the gradient norm of each layer (seed 003: in a deep sigmoid network the
first layers' norms are orders of magnitude below the last's, the vanishing gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import SymbackpropError
from .limits import MAX_EPOCHS, MAX_TRAIN_EQUATIONS, MAX_TRAIN_STEPS, LimitError

DEFAULT_EPOCHS = 2000
DEFAULT_BATCH = 32
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
    notes: list[str] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else self.initial_loss

    def to_json(self) -> dict:
        """Contract section 4: losses, final_loss, accuracy, parameters (+ extras)."""
        out = {
            "losses": [_number(v) for v in self.losses],
            "final_loss": _number(self.final_loss),
            "accuracy": self.accuracy,
            "parameters": {k: np.asarray(v).tolist() for k, v in self.parameters.items()},
            "initial_loss": _number(self.initial_loss),
            "epochs": self.epochs, "batch": self.batch, "learning_rate": self.learning_rate,
            "seed": self.seed, "form": self.form,
        }
        if self.grad_norms is not None:
            out["grad_norms"] = {k: [_number(v) for v in vs] for k, vs in self.grad_norms.items()}
        if self.stopped:
            out["stopped"] = self.stopped
        return out


def _number(v: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return float(v) if np.isfinite(v) else None


def check_training_size(problem, epochs: int) -> None:
    """Refuse, before compiling anything, a run beyond the limits of docs/limits.md:
    epochs, epochs times samples (the kernel calls), and equations in one kernel."""
    if epochs > MAX_EPOCHS:
        raise LimitError(f"--epochs: at most {MAX_EPOCHS} (the limit; docs/limits.md), "
                         f"got {epochs}")
    samples = len(next(iter(problem.data.values()))) if problem.data else 1
    if epochs * samples > MAX_TRAIN_STEPS:
        raise LimitError(f"--epochs: {epochs} epochs of {samples} samples is more than "
                         f"{MAX_TRAIN_STEPS} sample passes (the limit; docs/limits.md)")
    if len(problem.graph.nodes) > MAX_TRAIN_EQUATIONS:
        raise LimitError(f"{problem.source}: {len(problem.graph.nodes)} equations; training "
                         f"compiles at most {MAX_TRAIN_EQUATIONS} (the limit; docs/limits.md)")


def train(problem, epochs: int | None = None, batch: int | None = None, lr: float | None = None,
          seed: int = 0, grad_norms: bool = False, backend: str = "numpy", form: str = "auto",
          progress: Callable[[int, int, float], None] | None = None) -> TrainResult:
    """Train a problem's parameters by SGD with shuffled mini-batches.

    ``epochs`` (default 2000) passes over the data; ``batch`` samples per step (default
    32, or all of them when fewer); ``lr`` the learning rate (default: the problem's
    ``learning_rate``, else 0.1); ``seed`` fixes the shuffling. ``grad_norms`` records
    the gradient norm of each layer (network form) or parameter (graph form) after each
    epoch. ``progress(epoch, epochs, loss)`` is called after each epoch.
    """
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    if type(epochs) is not int or epochs < 1:
        raise SymbackpropError(f"--epochs: must be a whole number of at least 1, got {epochs}")
    check_training_size(problem, epochs)
    # numpy's generators take seeds >= 0 only; a negative one is refused rather than
    # silently folded onto another seed, so two different --seed values never give the
    # same run.
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SymbackpropError(f"--seed: must be a whole number of at least 0, got {seed}")
    if batch is not None and (type(batch) is not int or batch < 1):
        raise SymbackpropError(f"--batch: must be a whole number of at least 1, got {batch}")
    given = lr is not None or problem.learning_rate is not None
    rate = float(lr if lr is not None else problem.learning_rate or DEFAULT_LEARNING_RATE)
    if not np.isfinite(rate) or rate <= 0:
        raise SymbackpropError(f"--lr: the learning rate must be a positive number, got {lr}")
    if not problem.data and not problem.graph.inputs:
        raise SymbackpropError(f"{problem.source}: nothing to train on: the problem has neither"
                               " [data] nor [inputs]")
    if not problem.graph.parameters:
        raise SymbackpropError(f"{problem.source}: nothing to train: the problem has no [parameters]")

    kernel = problem.compile(backend=backend, form=form)
    params = {k: np.array(kernel.backend.to_numpy(v), dtype=float)
              for k, v in kernel.parameters().items()}
    data = {k: np.asarray(kernel.backend.to_numpy(v), dtype=float) for k, v in kernel.data().items()}
    count = len(next(iter(data.values()))) if data else 1
    size = min(batch or DEFAULT_BATCH, count)
    rng = np.random.default_rng(seed)
    layers = _layers(kernel)

    def evaluate():
        if grad_norms:
            value, grads = kernel.loss_and_grad(params, data)
            for layer, names in layers.items():
                norms[layer].append(float(np.sqrt(sum(np.sum(np.square(grads[n])) for n in names))))
            return value
        return kernel.loss(params, data)

    norms = {layer: [] for layer in layers} if grad_norms else None
    start_scale = _largest(params)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        initial = evaluate()
        if norms is not None:
            norms = {layer: [] for layer in layers}  # the record starts after epoch 1
        losses: list[float] = []
        stopped = None
        for epoch in range(1, epochs + 1):
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
                for name, g in steps.items():
                    params[name] -= rate * g
            losses.append(float(evaluate()))
            if progress is not None:
                progress(epoch, epochs, losses[-1])
            if stopped is None and not np.isfinite(losses[-1]):
                stopped = _loss_stop(kernel, params, data, start_scale, epoch, losses[-1])
            if stopped is not None:
                break

    result = TrainResult(
        problem=problem.name, form=kernel.form, epochs=len(losses), batch=size,
        learning_rate=rate, learning_rate_given=given, seed=seed, samples=count,
        initial_loss=float(initial), losses=losses, parameters=params, grad_norms=norms,
        stopped=stopped)
    if kernel.form == "network":
        with np.errstate(all="ignore"):
            outputs = kernel.forward(params, data)[f"a{problem.network.depth}"]
        result.outputs = np.asarray(kernel.backend.to_numpy(outputs))
        result.targets, result.inputs = data["y"], data["x"]
        result.accuracy = accuracy(result.outputs, data["y"], problem.network.loss)
    return result


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
    return {name: [name] for name in kernel.parameter_shapes}


def accuracy(outputs: np.ndarray, targets: np.ndarray, loss: str) -> float | None:
    """Contract section 4: the share of samples whose arg max output equals the arg max
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
