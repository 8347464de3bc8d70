"""From a Wengert list to one Python function, with ``sympy.lambdify``.

The forward pass and the backward pass are both lists of named equations, each using
names defined earlier. They are *already* the shared subexpressions of the gradient:
substituting them into one big expression and asking SymPy to find them again would
cost time growing with the number of paths, not the number of edges. So the list is
handed to ``lambdify`` as its common-subexpression table (``lambdify(cse=callable)``),
after ``sympy.cse`` has found what repeats *across* equations (``1 - y`` in a loss and
in its derivative, ``h (1 - h)`` where two edges share a sigmoid). One function comes
out: every equation as one assignment, in order, over whole arrays.

Names become Python identifiers here (``W1[0][1]`` is not one): values are prefixed
``v_``, adjoints ``g_``, SymPy's temporaries ``c``, so no user name can shadow a
function of the namespace.
"""

from __future__ import annotations

import keyword
import re

import sympy as sp

from .backends import Backend

Equation = tuple[sp.Symbol, sp.Expr]


class Names:
    """Python identifiers for the names of a graph, unique and readable."""

    def __init__(self):
        self._taken: set[str] = set()
        self.symbols: dict[tuple[str, str], sp.Symbol] = {}

    def get(self, name: str, prefix: str = "v") -> sp.Symbol:
        key = (prefix, name)
        if key not in self.symbols:
            base = f"{prefix}_" + re.sub(r"\W", "_", name.replace("][", "_")).strip("_")
            ident, k = base, 1
            while ident in self._taken or keyword.iskeyword(ident):
                ident, k = f"{base}_{k}", k + 1
            self._taken.add(ident)
            self.symbols[key] = sp.Symbol(ident, real=True)
        return self.symbols[key]


def schedule_cse(equations: list[Equation]) -> list[Equation]:
    """The equations with subexpressions that repeat across them computed once.

    ``sympy.cse`` runs over all right-hand sides together; each temporary it makes is
    placed just before the first equation that needs it. That is always legal: a
    subexpression shared by two right-hand sides uses only names both can see, all
    defined before the earlier of the two.
    """
    if not equations:
        return []
    temporaries = sp.numbered_symbols("c", real=True)
    replacements, reduced = sp.cse([e for _, e in equations], symbols=temporaries,
                                   order="none", list=True)
    definition = dict(replacements)
    placed: set[sp.Symbol] = set()
    out: list[Equation] = []

    def place(expr: sp.Expr) -> None:
        for s in sorted(expr.free_symbols & definition.keys() - placed, key=str):
            place(definition[s])  # a temporary may use earlier temporaries
            if s not in placed:
                placed.add(s)
                out.append((s, definition[s]))

    for (name, _), expr in zip(equations, reduced, strict=True):
        place(expr)
        out.append((name, expr))
    return out


def lambdify_list(args: list[sp.Symbol], equations: list[Equation], outputs: list,
                  backend: Backend, cse: bool = True):
    """One function ``f(*args)`` that runs ``equations`` in order and returns ``outputs``.

    Returns the function and its source text (for reading, and for the docs).
    """
    if cse:
        equations = schedule_cse(equations)
    fn = sp.lambdify(args, outputs, modules=backend.modules, printer=backend.make_printer(),
                     cse=lambda _exprs: (equations, outputs), dummify=False,
                     docstring_limit=0)
    return fn, _source(fn)


def _source(fn) -> str:
    import inspect

    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # pragma: no cover - linecache entry gone
        return ""
