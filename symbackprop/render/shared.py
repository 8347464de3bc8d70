"""A weight used in several places (shared), written as the sum over its uses.

An RNN's recurrent weight is used at every time step, a convolution's kernel at every
position. Its gradient is the sum of one term per use: the gradient of the node that
uses it times the local derivative there. Each term is labelled by its use, ``t = 1,
t = 2, ...`` when the uses feed one another (time steps: each later node depends on the
earlier one) and ``i = 1, 2, ...`` when they are side by side (positions), the number
taken from the using node's name (h1, h2, h3). When the uses feed one another, the
gradient reaching an earlier use is a product of the local derivatives through time
(d h3/d h1 = d h3/d h2 · d h2/d h1), which the handout writes out: factors below 1 in
size make early uses count less and less (a vanishing gradient), above 1 more and more
(an exploding one).
"""

from __future__ import annotations

import re

from ..display import Display, tex_number
from ..solution import Solution
from .document import Block, chain_equation, factor_tex
from .equations import Equation, approx
from .lines import MAX_PATHS_SHOWN, _sum_of_pairs
from .printer import latex_name, partial

_INDEX = re.compile(r"^(.*?)(\d+)$")


def shared_uses(solution: Solution, name: str) -> list:
    """The edges of ``name``'s uses on the way to the output, when there are several."""
    out = solution.output
    upstream = solution.graph.upstream(out) | {out}
    uses = [e for e in solution.derivation.uses(name) if e.upper in upstream]
    return uses if len(uses) > 1 else []


def recurrent(solution: Solution, users: list[str]) -> bool:
    """Whether each use depends on the one before it (time steps, not positions)."""
    return all(a in solution.graph.upstream(b) for a, b in zip(users, users[1:], strict=False))


def labels(solution: Solution, users: list[str]) -> list[str]:
    """``t = 1`` (time steps) or ``i = 1`` (positions) from the users' trailing numbers,
    else the user's name."""
    found = [_INDEX.match(u) for u in users]
    if all(found) and len({m.group(1) for m in found}) == 1:
        word = "t" if recurrent(solution, users) else "i"
        return [f"{word} = {int(m.group(2))}" for m in found]
    return [rf"\text{{use in }} {latex_name(u)}" for u in users]


def shared_equation(solution: Solution, name: str, display: Display) -> Equation:
    """dE/dw = the sum over the uses of dE/du · du/dw, each term labelled by its use."""
    out = solution.output
    uses = shared_uses(solution, name)
    users = [e.upper for e in uses]
    symbolic = " + ".join(f"{partial(out, e.upper)} {partial(e.upper, name)}" for e in uses)
    total = solution.gradients[name]
    # The numbers by the display policy: the pairs shown multiply and add to the result
    # shown, and so do the terms shown (or the side is marked ≈).
    pairs = display.fit([v for e in uses for v in (solution.gradients[e.upper],
                                                   solution.evaluation.locals[e.upper, name])],
                        total, _sum_of_pairs)
    products = display.total([solution.gradients[e.upper] * solution.evaluation.locals[e.upper, name]
                              for e in uses], total)
    terms = [rf"\underbrace{{{factor_tex(g)} \cdot {factor_tex(local)}}}_{{{label}}}"
             for g, local, label in zip(pairs.operands[::2], pairs.operands[1::2],
                                        labels(solution, users), strict=True)]
    values = " + ".join(factor_tex(v) for v in products.operands)
    return Equation(partial(out, name), [symbolic, " + ".join(terms),
                                         approx(values, pairs.approx),
                                         approx(tex_number(pairs.result),
                                                pairs.approx or products.approx)])


def through_time(solution: Solution, users: list[str], display: Display) -> list[str]:
    """d u_T / d u_t for each earlier use t: the product of the steps between."""
    last = users[-1]
    steps = [(b, a, solution.derivative(b, a)) for a, b in zip(users, users[1:], strict=False)]
    rows = []
    for k in range(len(users) - 2, -1, -1):
        factors = steps[k:]
        value = solution.derivative(last, users[k])
        symbolic = " ".join(partial(b, a) for b, a, _ in reversed(factors))
        line = display.product([v for _, _, v in reversed(factors)], value,
                               result_places=display.decimals(value))
        numeric = r" \cdot ".join(factor_tex(v) for v in line.operands)
        sides = [symbolic, numeric] if len(factors) > 1 else []
        rows += Equation(partial(last, users[k]),
                         sides + [approx(tex_number(line.result), line.approx)]).rows()
    return rows


def use_gradients(solution: Solution, users: list[str], display: Display) -> list[Equation]:
    """dE/du at each use u, latest first, each as its chain of local derivatives (for
    time steps: the product through time)."""
    equations = []
    for u in reversed(users):
        if solution.derivation.count_paths(solution.output, u) <= MAX_PATHS_SHOWN:
            equations.append(chain_equation(solution.chain(u, limit=MAX_PATHS_SHOWN), display))
        else:
            equations.append(Equation(partial(solution.output, u),
                                      [display.tex(solution.gradients[u])]))
    return equations


def shared_blocks(solution: Solution, name: str, display: Display, shown: set[str]) -> list[Block]:
    """The gradient at each use (unless ``shown`` already), the products through time
    and what they do to the early terms, then the labelled sum."""
    uses = shared_uses(solution, name)
    users = [e.upper for e in uses]
    blocks = []
    fresh = [u for u in users if u not in shown]
    if fresh:
        shown.update(fresh)
        gradients = use_gradients(solution, fresh, display)
        blocks.append(Block(kind="plain", text=(
            f"{name} is used {len(uses)} times (a shared weight). First the gradient of"
            f" {solution.output} at each of its uses:"),
            rows=[r for e in gradients for r in e.rows()],
            lines=[line for e in gradients for line in e.lines]))
        if recurrent(solution, users) and len(users) > 2:
            steps = [abs(solution.derivative(b, a)) for a, b in zip(users, users[1:], strict=False)]
            trend = ("each factor is below 1 in size, so the earlier uses count less and less:"
                     " the gradient vanishes through time" if all(s < 1 for s in steps) else
                     "each factor is above 1 in size, so the earlier uses count more and more:"
                     " the gradient explodes through time" if all(s > 1 for s in steps) else
                     "the factors are of mixed size, some shrinking the gradient, some growing it")
            blocks.append(Block(kind="plain", text=(
                "The gradient reaches an earlier step only through every later one, as a"
                f" product of local derivatives through time ({trend}):"),
                rows=through_time(solution, users, display)))
    blocks.append(Block(kind="plain", text=(
        f"The gradient of the shared {name} is the sum over its uses, each use's gradient"
        " times the local derivative there:"), rows=shared_equation(solution, name, display).rows()))
    return blocks


def with_shared_weights(solution: Solution, blocks: list[Block], names: list[str],
                        display: Display) -> list[Block]:
    """The backward pass with each shared weight's gradient written as its sum of uses."""
    out = solution.output
    result: list[Block] = []
    shown: set[str] = set()
    for block in blocks:
        shared = [n for n in names if block.kind in ("gradient", "sweep")
                  and block.math == partial(out, n) and shared_uses(solution, n)]
        result += shared_blocks(solution, shared[0], display, shown) if shared else [block]
    return result
