"""Distractors from the mistakes students really make, computed by the engine.

Nothing here adds random jitter to the answer. Each mistake is one of

* a **mistaken chain**: the engine's own chain-rule product for the asked derivative
  (:meth:`Solution.chain`), with one local derivative dropped, one path missing, a mul
  gate's local derivative taken as its own input instead of the other one, or the sign
  flipped;
* a **mistaken update**: the update added instead of subtracted, or the learning rate
  forgotten, applied to the right gradient or to a mistaken one;
* a **mistaken problem**: a family rewrites the problem the way a student misreads it
  (the ½ of the squared error forgotten, max routing to the smaller input, the minus of
  the cross-entropy dropped) and the engine solves that problem.

:func:`distractors` returns (value, note) pairs in order of preference; the generator
keeps the first three that differ from the answer and from each other at the precision
asked.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .. import load_dict
from ..keys import Key, parse_key
from ..parse import indexed_name, split_indexed

Candidate = tuple[object, str]

#: Mistakes a question may name; a family adds its own rewritten problems.
CHAIN_MISTAKES = ("sign", "drop_local", "missing_path", "not_swapped")
OTHER_MISTAKES = ("transposed",)
UPDATE_MISTAKES = ("update_added", "no_rate")


def _product(factors) -> sp.Expr:
    result = sp.S.One
    for f in factors:
        result = result * f
    return result


def chain_candidates(solution, top: str, bottom: str, names) -> list[Candidate]:
    """Mistaken versions of d top / d bottom, from the engine's chain."""
    chain = solution.chain(bottom, top)
    value = chain.value
    out: list[Candidate] = []
    for name in names:
        if name == "sign":
            out.append((-value, "a flipped sign"))
        elif name == "drop_local":
            for p, path in enumerate(chain.paths):
                for i, factor in enumerate(path):
                    dropped = [f.value for j, f in enumerate(path) if j != i]
                    rest = sum((_product(f.value for f in q) for k, q in enumerate(chain.paths)
                                if k != p), sp.S.Zero)
                    e = factor.edge
                    out.append((rest + _product(dropped),
                                f"the local derivative d{e.upper}/d{e.lower} dropped"))
        elif name == "missing_path" and len(chain.paths) > 1:
            for p, path in enumerate(chain.paths):
                kept = sum((_product(f.value for f in q) for k, q in enumerate(chain.paths)
                            if k != p), sp.S.Zero)
                via = " -> ".join(f.edge.upper for f in path)
                out.append((kept, f"a missing path (the one through {via})"))
        elif name == "not_swapped":
            for p, path in enumerate(chain.paths):
                for i, factor in enumerate(path):
                    e = factor.edge
                    node = solution.graph.node(e.upper) if solution.graph.is_node(e.upper) else None
                    op = node.op if node is not None else None
                    if op is None or op.name != "mul":
                        continue
                    swapped = [f.value if j != i else solution.values[e.lower]
                               for j, f in enumerate(path)]
                    rest = sum((_product(f.value for f in q) for k, q in enumerate(chain.paths)
                                if k != p), sp.S.Zero)
                    out.append((rest + _product(swapped),
                                f"the mul gate at {e.upper} not swapped ({e.lower} times itself)"))
    return out


def update_candidates(solution, parameter: str, gradient_mistakes: list[Candidate],
                      names) -> list[Candidate]:
    """Mistaken values of ``parameter`` after the update step."""
    rate = solution.learning_rate
    w = solution.values[parameter]
    g = solution.gradients[parameter]
    out: list[Candidate] = []
    for name in names:
        if name == "update_added":
            out.append((w + rate * g, "the update added instead of subtracted"))
        elif name == "no_rate":
            out.append((w - g, "the learning rate forgotten"))
    for value, note in gradient_mistakes:
        out.append((w - rate * value, f"the update with {note}"))
    return out


def distractors(solution, key: str, names, rewrites: dict[str, tuple[str, Callable]],
                table: dict, solved: dict | None = None) -> list[Candidate]:
    """Every mistaken value of ``key`` the named mistakes give, in order of preference.

    ``rewrites`` maps a mistake name to (note, function rewriting the graph-form table);
    the rewritten table is loaded by the public loader and solved by the engine (once
    per variant: ``solved`` caches the mistaken solutions by name).
    """
    solved = {} if solved is None else solved
    parsed: Key = parse_key(key, solution.key_names)
    out: list[Candidate] = []
    for name in names:
        if parsed.kind == "derivative" and name in CHAIN_MISTAKES:
            out += chain_candidates(solution, parsed.name, parsed.wrt, [name])
        elif parsed.kind == "after" and parsed.name in solution.graph.parameters:
            if name in CHAIN_MISTAKES:
                wrong = chain_candidates(solution, solution.output, parsed.name, [name])
                out += update_candidates(solution, parsed.name, wrong, [])
            elif name in UPDATE_MISTAKES:
                out += update_candidates(solution, parsed.name, [], [name])
        elif name == "sign" and parsed.kind != "after":
            out.append((-solution.lookup(parsed), "a flipped sign"))
        elif name == "transposed" and parsed.kind == "derivative":
            out += transposed(solution, parsed)
        if name in rewrites:
            out.append((_misread(solution, parsed, key, name, rewrites, table, solved),
                        rewrites[name][0]))
    if "sign" in names and parsed.kind == "derivative":
        # Two mistakes at once, the last resort: a mistaken chain with its sign flipped too.
        out += [(-v, f"{n}, and a flipped sign") for v, n in list(out) if n != "a flipped sign"]
    return out


def transposed(solution, parsed: Key) -> list[Candidate]:
    """d top / d W[j][i] given for d top / d W[i][j]: row and column swapped."""
    parts = split_indexed(parsed.wrt)
    if not parts or len(parts[1]) != 2 or parts[1][0] == parts[1][1]:
        return []
    other = indexed_name(parts[0], parts[1][1], parts[1][0])
    if other not in solution.graph:
        return []
    return [(solution.derivative(parsed.name, other),
             f"row and column swapped (d{parsed.name}/d{other})")]


def _misread(solution, parsed: Key, key: str, name: str, rewrites, table: dict, solved: dict):
    """The value of ``key`` in the problem as a student misreads it.

    The rewritten problem is solved without its learning rate (one forward and one
    backward pass: its update is computed here from its gradient, as the student would),
    once per variant.
    """
    own_update = parsed.kind == "after" and parsed.name in solution.graph.parameters
    needs_rate = parsed.kind == "after" and not own_update  # E_new: the second forward pass
    if (name, needs_rate) not in solved:
        rewritten = rewrites[name][1](table)
        if not needs_rate:
            rewritten = {k: v for k, v in rewritten.items() if k != "learning_rate"}
        solved[name, needs_rate] = load_dict(rewritten, name=f"mistake {name}").solve()
    wrong = solved[name, needs_rate]
    if own_update:
        return solution.values[parsed.name] - solution.learning_rate * wrong.gradients[parsed.name]
    return wrong.lookup(key)
