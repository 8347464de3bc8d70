"""Distractors from the mistakes students really make, computed by the engine.

Nothing here adds random jitter to the answer. Each distractor is either

* a mistake of the catalogue (:mod:`symbackprop.mistakes`: a flipped sign, a local
  derivative dropped, a path missing, a mul gate not swapped, the update added, the
  learning rate forgotten, ...) applied to the exact derivation of the asked key, or
* a **misread problem**: a family rewrites the problem the way a student misreads it
  (max routing to the smaller input, the minus of the cross-entropy dropped) and the
  engine solves that problem.

:func:`distractors` returns (value, note) pairs in order of preference; the generator
keeps the first three that differ from the answer and from each other at the precision
asked.
"""

from __future__ import annotations

from collections.abc import Callable

from ..keys import Key, Kind, parse_key
from ..loader import load_dict
from ..mistakes import MISTAKES, wrong_values

Candidate = tuple[object, str]
SIGN = "sign-flipped"


def distractors(solution, key: str, names, rewrites: dict[str, tuple[str, Callable]],
                table: dict, solved: dict | None = None) -> list[Candidate]:
    """Every mistaken value of ``key`` the named mistakes give, in order of preference.

    ``names`` are catalogue ids or the names of the family's ``rewrites``, which map a
    name to (note, function rewriting the graph-form table); the rewritten table is
    loaded by the public loader and solved by the engine (once per variant: ``solved``
    caches the mistaken solutions by name).
    """
    solved = {} if solved is None else solved
    parsed: Key = parse_key(key, solution.key_names)
    out: list[Candidate] = []
    for name in names:
        if name in MISTAKES:
            out += [(w.value, w.label) for w in wrong_values(solution, parsed, [name])]
        if name in rewrites:
            out.append((_misread(solution, parsed, key, name, rewrites, table, solved),
                        rewrites[name][0]))
    if SIGN in names and parsed.kind == Kind.DERIVATIVE:
        # Two mistakes at once, the last resort: a mistaken chain with its sign flipped too.
        out += [(-v, f"{n}, and a flipped sign") for v, n in list(out) if n != "a flipped sign"]
    return out


def _misread(solution, parsed: Key, key: str, name: str, rewrites, table: dict, solved: dict):
    """The value of ``key`` in the problem as a student misreads it.

    The rewritten problem is solved without its learning rate (one forward and one
    backward pass: its update is computed here from its gradient, as the student would),
    once per variant.
    """
    own_update = parsed.kind == Kind.AFTER and parsed.name in solution.graph.parameters
    needs_rate = parsed.kind == Kind.AFTER and not own_update  # E_new: the second forward pass
    if (name, needs_rate) not in solved:
        rewritten = rewrites[name][1](table)
        if not needs_rate:
            rewritten = {k: v for k, v in rewritten.items() if k != "learning_rate"}
        # The misread graph has one shape in every variant: derived once, in the
        # variant's exercise's cache (its problem's), when it has one.
        solved[name, needs_rate] = load_dict(
            rewritten, name=f"mistake {name}", source=f"mistake {name}",
            derivations=solution.problem.derivations).solve()
    wrong = solved[name, needs_rate]
    if own_update:
        return solution.values[parsed.name] - solution.learning_rate * wrong.gradients[parsed.name]
    return wrong.lookup(key)
