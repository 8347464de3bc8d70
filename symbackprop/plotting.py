"""The loss curve of a training run as a PNG, with matplotlib (an optional extra).

matplotlib is imported only here and only when a plot is asked for; the figure is drawn
on the Agg canvas directly, so pyplot's global state (and a user's own backend) is
never touched. The bytes are written by the caller, atomically.
"""

from __future__ import annotations

import io

from .errors import SymbackpropError

INSTALL = "pip install 'symbackprop[plot]'"


def require_matplotlib(what: str = "--plot") -> None:
    """Fail early, before any training, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SymbackpropError(f"{what} needs matplotlib, which is not installed: {INSTALL}") from None


def loss_curve_png(result, title: str | None = None) -> bytes:
    """The loss per epoch (log scale); a second panel with each layer's gradient norm
    per epoch when the run recorded them."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = 2 if result.grad_norms else 1
    figure = Figure(figsize=(7, 3.6 * panels), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(panels, 1, squeeze=False)[:, 0]
    epochs = range(0, len(result.losses) + 1)
    loss_axis = axes[0]
    loss_axis.plot(epochs, [result.initial_loss, *result.losses], color="C0")
    loss_axis.set_yscale("log")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("loss (mean over the data)")
    loss_axis.set_title(title or f"{result.problem}: loss per epoch")
    loss_axis.grid(True, which="both", alpha=0.3)
    if result.grad_norms:
        norm_axis = axes[1]
        for layer, norms in result.grad_norms.items():
            norm_axis.plot(range(1, len(norms) + 1), norms, label=layer)
        norm_axis.set_yscale("log")
        norm_axis.set_xlabel("epoch")
        norm_axis.set_ylabel("gradient norm")
        norm_axis.set_title("gradient norm per layer")
        norm_axis.legend(loc="best", fontsize="small")
        norm_axis.grid(True, which="both", alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
