"""The class report's two charts, drawn with matplotlib (the ``plot`` extra) on the Agg
canvas directly, as :mod:`symbackprop.plotting` draws the loss curve: PNG for the
Markdown report, PDF (vector, no creation date: the same class gives the same bytes)
for the LaTeX one."""

from __future__ import annotations

import io
from collections import Counter

from ..plotting import require_matplotlib
from ..status import ACCEPTED, Status
from .gradebook import points_text

#: The statuses of a question's bar, in order, with their colours (the marked sheet's).
BANDS = ((Status.CORRECT, ACCEPTED, "#007828"),
         (Status.CARRIED, (Status.CARRIED,), "#c86e00"),
         (Status.WRONG, (Status.WRONG,), "#be0000"),
         (Status.INVALID, (Status.INVALID,), "#7a3e9d"),
         (Status.MISSING, (Status.MISSING,), "#9a9a9a"))


#: The charts the report draws (PNG for Markdown, PDF for LaTeX).
FIGURES = ("scores.png", "questions.png")


def figures_available() -> bool:
    """Whether matplotlib can be imported (the ``plot`` extra), so the charts can be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float):
    require_matplotlib("the class report")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def score_histogram(points, max_points, fmt: str = "png") -> bytes:
    """How many students got each score: one bar per score that occurs."""
    counts = Counter(float(p) for p in points)
    figure = _figure(6.4, 3.0)
    axis = figure.subplots()
    scores = sorted(counts)
    steps = [b - a for a, b in zip(scores, scores[1:], strict=False)]
    width = 0.8 * min(steps + [1.0])
    axis.bar(scores, [counts[s] for s in scores], width=width, color="#3b6ea8")
    axis.set_xlim(-0.5, float(max_points) + 0.5)
    axis.set_xlabel(f"points (of {points_text(max_points)})")
    axis.set_ylabel("students")
    axis.yaxis.get_major_locator().set_params(integer=True)
    axis.grid(True, axis="y", alpha=0.3)
    return _save(figure, fmt)


def question_chart(questions, fmt: str = "png") -> bytes:
    """Each question's marks as one stacked bar of shares of the class."""
    figure = _figure(6.4, 0.5 + 0.45 * max(len(questions), 2))
    axis = figure.subplots()
    labels = [f"q{q.slot}" for q in questions]
    left = [0.0] * len(questions)
    for name, statuses, colour in BANDS:
        shares = [100 * sum(q.counts[s] for s in statuses) / q.total if q.total else 0
                  for q in questions]
        axis.barh(labels, shares, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel("% of the class")
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=5, fontsize="small",
                frameon=False)
    return _save(figure, fmt)
