"""The exercise families: one small module each, in the shape R/exams uses.

A family module holds

* ``NAME``, ``TITLE``, ``DESCRIPTION`` (``symbackprop exam --list`` prints the first and
  the last) and ``TEMPLATE``, its statement in ``templates/exam/``;
* ``draw(draw) -> dict``: a problem table (contract section 1, graph or network form)
  with nice numbers from the :class:`~symbackprop.exam.draw.Draw`; it is loaded by the
  public loader and solved by the core like any user's file;
* ``asks(draw, problem, solution) -> list[Ask]``: the questions, as claim keys;
* optionally ``screen(problem, values)`` (rules beyond the generic ones, on a quick
  forward pass, raising :class:`~symbackprop.exam.wellposed.Rejected`), ``REWRITES`` (the problem as a student
  misreads it, for distractors) and ``context(table, problem, solution)`` (what the
  template shows beyond the problem itself).

Adding a family is adding a module here, its name to :data:`NAMES`, and its template.
"""

from __future__ import annotations

import importlib

from ...errors import SymbackpropError, did_you_mean

#: The families in the order ``--list`` shows them.
NAMES = ("chain", "neuron", "net221", "logreg", "mlp", "gates", "hinge")


def family(name: str):
    """The module of a family, by name."""
    if name not in NAMES:
        raise SymbackpropError(f"unknown exam family '{name}'{did_you_mean(name, NAMES)}"
                               f" (`symbackprop exam --list` lists them)")
    return importlib.import_module(f"{__package__}.{name}")


def all_families():
    return [family(n) for n in NAMES]
