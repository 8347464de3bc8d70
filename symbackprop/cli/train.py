"""``symbackprop train PROBLEM``: SGD with the generated kernels, a loss per epoch.

Wraps :func:`symbackprop.training.train`. ``--json`` prints the object of docs/json.md;
otherwise a short account: the loss at a few epochs, the accuracy, and for a small data
set every sample with the trained network's output. ``--plot FILE`` writes the loss
curve (and, with ``--grad-norms``, each layer's gradient norm) as a PNG.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from .. import jsonout
from ..defaults import DEFAULT_BATCH, DEFAULT_EPOCHS
from ..defaults import OPTIMIZERS as NAMES
from ..errors import SymbackpropError
from ..files import check_target, write_file
from ..printable import printable, printable_lines

SHOW_SAMPLES = 16  # list every sample when there are at most this many
FLAGS = {"learning_rate": "--lr", "epochs": "--epochs", "batch": "--batch", "seed": "--seed",
         "optimizer": "--optimizer"}  # the command-line flag of each training option


def register(sub):
    p = sub.add_parser(
        "train", help="train a problem's parameters with the generated numpy kernels",
        description="Train with SGD on shuffled mini-batches of the problem's [data] "
                    "(or its one [inputs] sample), using kernels generated from its equations.")
    p.add_argument("problem", metavar="PROBLEM", help="a problem .toml file or a built-in name")
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help=f"passes over the data (default {DEFAULT_EPOCHS}; a built-in that trains"
                        " on a data set: its own)")
    p.add_argument("--batch", type=int, default=None, metavar="B",
                   help=f"samples per step (default {DEFAULT_BATCH}, or all when fewer; a"
                        " built-in that trains on a data set: its own)")
    p.add_argument("--lr", type=float, default=None, metavar="X",
                   help="learning rate (default: the problem's learning_rate, else 0.1)")
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"{' | '.join(NAMES)} (default: the problem's [optimizer], else sgd)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the shuffling, a whole number >= 0 (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", metavar="FILE", help="write the loss curve as a PNG")
    p.add_argument("--grad-norms", action="store_true",
                   help="record each layer's gradient norm per epoch (and plot it)")
    p.add_argument("--backend", default="numpy", choices=("numpy", "jax", "torch"),
                   help="array library for the kernels (default numpy)")
    return p


def run(args) -> int:
    from ..loader import load
    from ..training import OptionError, TrainOptions, train

    plot_path = _check_plot_path(args.plot) if args.plot is not None else None
    if plot_path is not None:
        from ..plotting import require_matplotlib

        require_matplotlib()
    problem = load(args.problem)
    bar = _Progress() if sys.stderr.isatty() else None
    options = TrainOptions(epochs=args.epochs, batch=args.batch, learning_rate=args.lr,
                           optimizer=args.optimizer, seed=args.seed, grad_norms=args.grad_norms,
                           backend=args.backend)
    try:
        result = train(problem, options, progress=bar.update if bar else None)
    except OptionError as exc:
        flag = FLAGS.get(exc.option, exc.option)
        raise SymbackpropError(f"{flag}: {exc.reason}") from None
    finally:
        if bar:
            bar.close()
    if plot_path is not None:
        from ..plotting import loss_curve_png

        png = loss_curve_png(result, title=problem.title)
        try:
            write_file(plot_path, png)
        except SymbackpropError as exc:  # the directory changed during training
            raise SymbackpropError(f"--plot {exc}") from None
    if result.stopped:
        sys.stderr.write(f"warning: {printable(str(result.stopped))}\n")
    if args.json:
        sys.stdout.write(jsonout.dumps(result.to_json()) + "\n")
    else:
        sys.stdout.write(printable_lines(summary(problem, result)))
    if plot_path is not None:
        sys.stderr.write(f"wrote {printable(str(plot_path))}\n")
    return 0


def _check_plot_path(text: str) -> Path:
    """A path the PNG can be written to, checked before any training.

    Permission bits are not enough (root passes ``os.access`` everywhere, yet cannot
    create files in ``/proc`` or ``/sys``), so the check does what the final write will
    do: create a temporary file in the target's directory, and remove it.
    """
    if not text.strip():
        raise SymbackpropError("--plot: give a file name (it is empty)")
    path = Path(text)
    try:
        check_target(path)  # a device, FIFO, socket or directory is never replaced
    except SymbackpropError as exc:
        raise SymbackpropError(f"--plot {exc}") from None
    parent = path.parent
    if not parent.is_dir():
        raise SymbackpropError(f"--plot {printable(text)}: the directory {printable(str(parent))} "
                               "does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise SymbackpropError(f"--plot {printable(text)}: cannot write there (permission denied)")
    try:
        with tempfile.NamedTemporaryFile(prefix=".tmp-", dir=parent):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SymbackpropError(f"--plot {printable(text)}: cannot create a file in "
                               f"{printable(str(parent))} ({reason})") from None
    return path


class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, width: int = 30):
        self.width, self.last = width, 0.0

    def update(self, epoch: int, epochs: int, loss: float) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and epoch < epochs:
            return
        self.last = now
        done = int(self.width * epoch / epochs)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (self.width - done)}] epoch {epoch}/{epochs}"
                         f"  loss {loss:.6g} ")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r" + " " * (self.width + 50) + "\r")
        sys.stderr.flush()


def _milestones(epochs: int, count: int = 8) -> list[int]:
    marks = {1, epochs}
    marks.update(round(epochs * k / count) for k in range(1, count))
    return sorted(m for m in marks if 1 <= m <= epochs)


def summary(problem, result) -> str:
    """The plain-text account of a training run."""
    import numpy as np

    net, stack = problem.network, problem.layers
    if net:
        what = (f"{'-'.join(map(str, net.layers))} network, {'/'.join(net.activations)}, "
                f"{net.loss} loss")
    elif stack:
        what = (f"{' > '.join(layer.type for layer in stack.layers)} network, "
                f"{stack.loss} loss")
    else:
        what = f"graph with output {problem.graph.output}"
    count = sum(int(np.prod(np.shape(v))) for v in result.parameters.values())
    rate = f"{result.learning_rate:g}" + ("" if result.learning_rate_given else " (default)")
    source = f" of {result.dataset}" if result.dataset else ""
    lines = [f"{problem.name}: {problem.title or what}",
             f"{what}; {count} parameters; {result.form} form kernels",
             f"{result.samples} samples{source}, batch {result.batch}, {result.optimizer}, learning rate {rate}, "
             f"{result.epochs} epochs, seed {result.seed}", "",
             f"{'epoch':>7}  {'loss':>12}", f"{0:>7}  {result.initial_loss:>12.6g}"]
    for epoch in _milestones(result.epochs):
        lines.append(f"{epoch:>7}  {result.losses[epoch - 1]:>12.6g}")
    lines.append("")
    final = result.final_loss
    ratio = result.initial_loss / final if final > 0 and np.isfinite(final) else float("inf")
    lines.append(f"loss {result.initial_loss:.6g} -> {final:.6g}"
                 + (f" ({ratio:.3g} times lower)" if np.isfinite(ratio) and ratio > 1 else ""))
    if result.accuracy is not None:
        right = round(result.accuracy * result.samples)
        lines.append(f"accuracy {result.accuracy:.3f} ({right} of {result.samples} samples right)")
    if result.held_out_accuracy is not None:
        right = round(result.held_out_accuracy * result.held_out_samples)
        lines.append(f"held-out accuracy {result.held_out_accuracy:.3f} ({right} of"
                     f" {result.held_out_samples} samples not trained on)")
    if result.dataset and result.seconds_per_epoch is not None:
        lines.append(f"{result.seconds_per_epoch:.3g} s per epoch")
    if result.grad_norms:
        lines += ["", "gradient norm per layer (epoch 1 -> last):"]
        for layer, norms in result.grad_norms.items():
            lines.append(f"  {layer}: {norms[0]:.3g} -> {norms[-1]:.3g}")
    if result.outputs is not None and result.samples <= SHOW_SAMPLES:
        lines += ["", *_samples(problem, result)]
    return "\n".join(lines) + "\n"


def _samples(problem, result) -> list[str]:
    """Each sample: input, target and the trained output (an autoencoder's pattern and
    its reconstruction), and whether the arg max (or the rounded output) is right."""
    import numpy as np

    same = np.array_equal(result.inputs, result.targets)
    loss = (problem.network or problem.layers).loss

    def row(v):
        v = np.asarray(v)
        v = v.reshape(-1)
        if np.all(np.isin(v, (0.0, 1.0))) and v.size > 1:
            return "".join(str(int(x)) for x in v)
        return " ".join(f"{x:.2f}" for x in v)

    header = ["pattern", "reconstruction"] if same else ["input", "target", "output"]
    rows = []
    for x, y, a in zip(result.inputs, result.targets, result.outputs, strict=True):
        if loss == "hinge":
            right = int(np.argmax(a)) == int(y[0])
        elif y.size == 1:
            right = round(float(a[0])) == y[0]
        else:
            right = int(np.argmax(a)) == int(np.argmax(y))
        cells = [row(x), " ".join(f"{v:.2f}" for v in a)] if same else [row(x), row(y), " ".join(
            f"{v:.2f}" for v in a)]
        rows.append(cells + ["right" if right else "wrong"])
    widths = [max(len(r[i]) for r in rows + [header + [""]]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths + [0], strict=False)).rstrip())
    return lines
