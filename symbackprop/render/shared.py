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
from .document import Block, chain_equation, edge_partial, factor_tex, math_block
from .equations import Equation, approx
from .lines import MAX_PATHS_SHOWN, _sum_of_pairs
from .printer import latex_name, partial

_INDEX = re.compile(r"^(.*?)(\d+)$")


def shared_uses(solution: Solution, name: str) -> list:
    """The edges of ``name``'s uses on the way to the output, when its gradient is a
    sum over them: used several times in the network, or in the network and in a
    regularisation term (the network's uses first)."""
    out = solution.output
    upstream = solution.graph.upstream(out) | {out}
    uses = [e for e in solution.derivation.uses(name) if e.upper in upstream]
    network = [e for e in uses if not regularising(solution, e)]
    if len(uses) > 1 and network:
        return network + [e for e in uses if regularising(solution, e)]
    return []


def regularising(solution: Solution, edge) -> bool:
    """Whether a use of a parameter is a regularisation term (0.01*w**2 written in the
    loss, or a node of its own that no data reaches): its local derivative reads only
    parameters, and the node using it is the loss itself or depends on no input."""
    graph = solution.graph
    if edge.lower not in graph.parameters:
        return False
    params = set(graph.parameters)
    if any(s.name not in params for s in edge.local.free_symbols):
        return False
    return edge.upper == solution.output or not any(
        n in graph.upstream(edge.upper) for n in graph.inputs)


def uses_sentence(solution: Solution, name: str, uses: list) -> str:
    """``w is used 3 times (a shared weight)``, counting only the network's uses; a
    regularisation term is named as what it is."""
    network = [e for e in uses if not regularising(solution, e)]
    extra = len(uses) - len(network)
    out = solution.output
    if len(network) > 1:
        said = f"{name} is used {len(network)} times in the network (a shared weight)"
        if extra:
            said += f", and in the regularisation term of {out}"
    else:
        said = f"{name} is used in the network and in the regularisation term of {out}"
    return said


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


def term_labels(solution: Solution, uses: list) -> list[str]:
    """The label of each term of the sum: its use in the network (:func:`labels`), or
    ``regularisation``."""
    network = [e.upper for e in uses if not regularising(solution, e)]
    found = iter(labels(solution, network))
    return [r"\text{regularisation}" if regularising(solution, e) else next(found)
            for e in uses]


def shared_equation(solution: Solution, name: str, display: Display) -> Equation:
    """dE/dw = the sum over the uses of dE/du · du/dw, each term labelled by its use."""
    out = solution.output
    uses = shared_uses(solution, name)
    symbolic = " + ".join(edge_partial(solution, e) if e.upper == out else
                          f"{partial(out, e.upper)} {edge_partial(solution, e)}" for e in uses)
    total = solution.gradients[name]
    # The numbers by the display policy: the pairs shown multiply and add to the result
    # shown, and so do the terms shown (or the side is marked ≈). A regularisation term
    # in the loss itself is its local derivative alone (its dE/dE = 1 is no factor).
    pairs = display.fit([v for e in uses for v in (solution.gradients[e.upper],
                                                   solution.evaluation.locals[e.upper, name])],
                        total, _sum_of_pairs)
    products = display.total([solution.gradients[e.upper] * solution.evaluation.locals[e.upper, name]
                              for e in uses], total)
    terms = []
    for e, g, local, label in zip(uses, pairs.operands[::2], pairs.operands[1::2],
                                  term_labels(solution, uses), strict=True):
        shown = factor_tex(local) if e.upper == out else rf"{factor_tex(g)} \cdot {factor_tex(local)}"
        terms.append(rf"\underbrace{{{shown}}}_{{{label}}}")
    values = " + ".join(factor_tex(v) for v in products.operands)
    return Equation(partial(out, name), [symbolic, " + ".join(terms),
                                         approx(values, pairs.approx),
                                         approx(tex_number(pairs.result),
                                                pairs.approx or products.approx)],
                    (pairs, products), key=f"d{out}/d{name}")


def through_time(solution: Solution, users: list[str], display: Display) -> list[Equation]:
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
        rows.append(Equation(partial(last, users[k]),
                             sides + [approx(tex_number(line.result), line.approx)], (line,),
                             key=f"d{last}/d{users[k]}"))
    return rows


def use_gradients(solution: Solution, users: list[str], display: Display) -> list[Equation]:
    """dE/du at each use u, latest first, each as its chain of local derivatives (for
    time steps: the product through time)."""
    equations = []
    for u in reversed(users):
        if solution.derivation.count_paths(solution.output, u) <= MAX_PATHS_SHOWN:
            equations.append(chain_equation(solution.chain(u, limit=MAX_PATHS_SHOWN), display,
                                            solution))
        else:
            equations.append(Equation(partial(solution.output, u),
                                      [display.tex(solution.gradients[u])],
                                      key=f"d{solution.output}/d{u}"))
    return equations


def through_time_sentence(factors: list) -> str:
    """What the factors through time do to the gradient reaching an earlier step,
    decided from their sizes."""
    sizes = [abs(f) for f in factors]
    if all(s < 1 for s in sizes):
        return ("each factor is below 1 in size, so the gradient reaching an earlier step is"
                " smaller: it vanishes through time")
    if all(s > 1 for s in sizes):
        return ("each factor is above 1 in size, so the gradient reaching an earlier step is"
                " larger: it explodes through time")
    return "the factors are of mixed size, some shrinking the gradient, some growing it"


def terms_sentence(terms: list, labels_: list[str], recurrent_: bool) -> str:
    """What the terms of a sum over time steps say, decided from their sizes: the
    earlier uses count less and less (or more and more) only when the terms do; else
    which is largest. Nothing for uses side by side (positions)."""
    sizes = [abs(t) for t in terms]
    if not recurrent_:  # positions side by side: no order to speak of
        return ""
    if len(sizes) > 2:
        if all(a < b for a, b in zip(sizes, sizes[1:], strict=False)):
            return " (the earlier uses count less and less)"
        if all(a > b for a, b in zip(sizes, sizes[1:], strict=False)):
            return " (the earlier uses count more and more)"
    if len(sizes) > 2 and sizes.count(max(sizes)) == 1:
        largest = labels_[sizes.index(max(sizes))]
        return f" (the term of {largest} is the largest)".replace("\\text{use in } ", "")
    return ""


def shared_blocks(solution: Solution, name: str, display: Display, shown: set[str]) -> list[Block]:
    """The gradient at each use (unless ``shown`` already), the products through time
    and what they do to the gradient, then the labelled sum and what its terms do."""
    uses = shared_uses(solution, name)
    users = [e.upper for e in uses if not regularising(solution, e)]  # the network's
    blocks = []
    fresh = [u for u in users if u not in shown]
    is_recurrent = recurrent(solution, users)
    each = "each of its uses in the network" if len(users) > 1 else "its use in the network"
    if fresh:
        shown.update(fresh)
        blocks.append(math_block(use_gradients(solution, fresh, display), kind="plain", text=(
            f"{uses_sentence(solution, name, uses)}. First the gradient of"
            f" {solution.output} at {each}:")))
        if is_recurrent and len(users) > 2:
            factors = [solution.derivative(b, a) for a, b in zip(users, users[1:], strict=False)]
            blocks.append(math_block(through_time(solution, users, display), kind="plain", text=(
                "The gradient reaches an earlier step only through every later one, as a"
                f" product of local derivatives through time ({through_time_sentence(factors)}):")))
    network = [e for e in uses if not regularising(solution, e)]
    terms = [solution.gradients[e.upper] * solution.evaluation.locals[e.upper, name]
             for e in network]
    said = terms_sentence(terms, labels(solution, users), is_recurrent)
    if len(network) == len(uses):
        text = (f"The gradient of the shared {name} is the sum over its uses, each use's"
                f" gradient times the local derivative there{said}:")
    else:
        network_part = (f"the sum over its uses in the network, each use's gradient times the"
                        f" local derivative there{said}" if len(network) > 1 else
                        "the gradient at its use in the network times the local derivative"
                        " there")
        text = (f"The gradient of {name} is {network_part}, plus the regularisation"
                f" term's own gradient (the local derivative of {solution.output} with the"
                " network's values held fixed):")
    blocks.append(math_block([shared_equation(solution, name, display)], kind="plain",
                             text=text))
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
