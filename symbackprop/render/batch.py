"""The mini-batch in the worked solution: each sample's loss and gradients, their mean.

The forward and backward passes are written out for the first sample (the others go
the same way); this section lists every sample's loss and gradients as a table and
writes each mean as the sum it is, ``dE/dw1 = 1/2 (a + b) = c``, because the loss of
a mini-batch is the mean of the samples' losses (docs/optimizers.md).
"""

from __future__ import annotations

from ..display import Display
from ..solution import Solution
from .document import Block
from .equations import Equation
from .printer import latex_name, partial

#: Means are written term by term up to this many samples.
MAX_TERMS = 8


def sample_name(name: str, i: int) -> str:
    """``E^{(2)}``: a quantity of sample 2."""
    tex = latex_name(name)
    return ("{" + tex + "}" if "^" in tex else tex) + f"^{{({i})}}"


def _mean(head: str, values: list, mean, display: Display) -> Equation:
    count = len(values)
    picked = values if count <= MAX_TERMS else values[:3] + [None] + values[-1:]
    total = ""
    for v in picked:
        if v is None:
            total += r" + \dots"
            continue
        text = display.tex(abs(v), display.decimals(v))
        negative = v < 0
        total += (("-" if negative else "") + text) if not total else (
            (" - " if negative else " + ") + text)
    return Equation(head, [rf"\frac{{1}}{{{count}}}\left({total}\right)",
                           display.tex(mean, display.decimals(mean))])


def batch_note(solution: Solution) -> str:
    """The sentence on which samples the solution works on."""
    count = len(solution.samples)
    inputs = solution.sample_solution(0).graph.inputs
    return (f"The loss is the mean over a mini-batch of the first {count} samples of [data]"
            f" (batch = {solution.problem.batch!r}). The forward and backward passes are"
            f" written out for sample 1 ({', '.join(inputs)} as in its row of [data]); the"
            " others go the same way, and every sample's loss and gradients, then their means,"
            " follow the backward pass.").replace("'", '"')


def batch_blocks(solution: Solution, display: Display) -> list[Block]:
    """The table of the samples' losses and gradients, then the means."""
    out = solution.output
    params = [p for p in solution.graph.parameters
              if p in solution.graph.upstream(out)][:MAX_TERMS]
    inputs = [n for n in solution.graph.inputs if n in solution.graph.upstream(out)][:4]
    header = ["s"] + [latex_name(n) for n in inputs] + [sample_name(out, "s")] + [
        rf"\partial {sample_name(out, 's')}/\partial {latex_name(p)}" for p in params]
    rows = []
    for i, ev in enumerate(solution.samples, 1):
        rows.append([str(i)] + [display.tex(ev.values[n], display.leaf_places) for n in inputs]
                    + [display.tex(ev.values[out], display.decimals(ev.values[out]))]
                    + [display.tex(ev.adjoints[p], display.decimals(ev.adjoints[p]))
                       for p in params])
    means = [_mean(latex_name(out), [ev.values[out] for ev in solution.samples],
                   solution.values[out], display)]
    means += [_mean(partial(out, p), [ev.adjoints[p] for ev in solution.samples],
                    solution.gradients[p], display) for p in params]
    count = len(solution.samples)
    return [
        Block(kind="table", text=f"Each sample s = 1, ..., {count}: its inputs, its loss and"
              " its gradients.", header=header, cells=rows),
        Block(text=f"The mini-batch's loss is the mean of the {count} losses, and each gradient"
              " the mean of theirs:", rows=[r for m in means for r in m.rows()]),
    ]


def after_rows(solution: Solution, display: Display) -> list[str]:
    """The loss after the update, as the mean of the samples' losses at the new values."""
    after = solution.steps[0].point.samples
    out = solution.output
    head = latex_name(out) + r"^{\text{new}}"
    return _mean(head, [ev.values[out] for ev in after], solution.values_after[out],
                 display).rows()
