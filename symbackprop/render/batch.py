"""The mini-batch in the worked solution: each sample's loss and gradients, their mean.

The forward and backward passes are written out for the first sample (the others go
the same way); this section lists every sample's loss and gradients as a table and
writes each mean as the sum it is, ``dE/dw1 = 1/2 (a + b) = c``, because the loss of
a mini-batch is the mean of the samples' losses (docs/optimizers.md).
"""

from __future__ import annotations

from ..display import Display
from ..solution import Solution
from .document import Block, math_block
from .equations import Equation, shown_number
from .printer import latex_name, partial

#: Means are written term by term up to this many samples.
MAX_TERMS = 8


def sample_name(name: str, i: int) -> str:
    """``E^{(2)}``: a quantity of sample 2."""
    tex = latex_name(name)
    return ("{" + tex + "}" if "^" in tex else tex) + f"^{{({i})}}"


def _mean(head: str, values: list, mean, display: Display, key: str,
          term_keys: list[str | None]) -> Equation:
    """``head = 1/n (v1 + v2 + ...) = mean``, each term the quantity ``term_keys`` names
    (shown with its digits on the page)."""
    count = len(values)
    indices = list(range(count)) if count <= MAX_TERMS else [0, 1, 2, None, count - 1]
    total = ""
    for i in indices:
        if i is None:
            total += r" + \dots"
            continue
        v = values[i]
        text = display.tex(abs(v), display.at(term_keys[i], display.decimals(v)))
        negative = v < 0
        total += (("-" if negative else "") + text) if not total else (
            (" - " if negative else " + ") + text)
    return Equation(head, [rf"\frac{{1}}{{{count}}}\left({total}\right)",
                           display.tex(mean, display.at(key, display.decimals(mean)))], key=key)


def batch_note(solution: Solution) -> str:
    """The sentence on which samples the solution works on."""
    count = len(solution.samples)
    inputs = solution.sample_solution(0).graph.inputs
    batch = solution.problem.batch
    batch = f'"{batch}"' if isinstance(batch, str) else batch
    return (f"The loss is the mean over a mini-batch of the first {count} samples of [data]"
            f" (batch = {batch}). The forward and backward passes are"
            f" written out for sample 1 ({', '.join(inputs)} as in its row of [data]); the"
            " others go the same way, and every sample's loss and gradients, then their means,"
            " follow the backward pass.")


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
        def cell(value, key):
            return display.tex(value, display.at(key, display.decimals(value)))
        rows.append([str(i)] + [display.tex(ev.values[n], display.leaf_places) for n in inputs]
                    + [cell(ev.values[out], f"{out}@s{i}")]
                    + [cell(ev.adjoints[p], f"d{out}/d{p}@s{i}") for p in params])
    claims = []
    for i in range(1, len(solution.samples) + 1):
        keys = [f"{n}@s{i}" for n in inputs] + [f"{out}@s{i}"] + [
            f"d{out}/d{p}@s{i}" for p in params]
        claims += [(k, shown) for k, cell in zip(keys, rows[i - 1][1:], strict=True)
                   if (shown := shown_number(cell)) is not None]
    count = len(solution.samples)
    means = [_mean(latex_name(out), [ev.values[out] for ev in solution.samples],
                   solution.values[out], display, out,
                   [f"{out}@s{i}" for i in range(1, count + 1)])]
    means += [_mean(partial(out, p), [ev.adjoints[p] for ev in solution.samples],
                    solution.gradients[p], display, f"d{out}/d{p}",
                    [f"d{out}/d{p}@s{i}" for i in range(1, count + 1)]) for p in params]
    return [
        Block(kind="table", text=f"Each sample s = {sample_range(count)}: its inputs, its loss"
              " and its gradients.", header=header, cells=rows, claims=claims),
        math_block(means, text=f"The mini-batch's loss is the mean of the {count} losses, and"
                   " each gradient the mean of theirs:"),
    ]


def sample_range(count: int) -> str:
    """``1, 2`` or ``1, 2, 3`` written out; ``1, 2, ..., 8`` for more."""
    if count <= 3:
        return ", ".join(str(i) for i in range(1, count + 1))
    return f"1, 2, ..., {count}"


def after_equation(solution: Solution, display: Display) -> Equation:
    """The loss after the update, as the mean of the samples' losses at the new values."""
    after = solution.steps[0].point.samples
    out = solution.output
    head = latex_name(out) + r"^{\text{new}}"
    return _mean(head, [ev.values[out] for ev in after], solution.values_after[out],
                 display, f"{out}_new", [None] * len(after))
