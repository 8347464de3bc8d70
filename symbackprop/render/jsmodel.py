"""A problem as JavaScript: the arithmetic a practice page judges entries with.

Every formula the page evaluates is printed here by SymPy's JavaScript printer
(:func:`sympy.printing.jscode.jscode`) from the engine's own expressions: each node's
equation, each edge's local derivative as :mod:`symbackprop.derive` read it from the op
table (σ' = y(1 − y) from the node's own output), and the learning rate of the update.
The page holds no second copy of any rule; its small judging module
(``symbackprop/render/js/judge.js``) only walks the graph, as
:mod:`symbackprop.verify.recompute` does, and calls these functions. What the judge says
and counts comes from here too: its constants, statuses and note templates
(:func:`symbackprop.judging.page_rules`), the claim key of every quantity, and the
catalogue of mistakes with each sentence's numbers as exact decimals, which the page
prints at the claim's precision as ``verify`` does.

The package's functions are printed through their definitions in SymPy's own
functions: σ and softmax by their rewriting as exponentials (:mod:`symbackprop.functions`),
relu as max(z, 0), the step [z > 0] as a conditional, max and min as JavaScript's.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import sympy as sp
from sympy.printing.jscode import jscode

from .. import ops
from ..functions import sigmoid
from ..judging import page_rules
from ..keys import Key, Kind, parse_key
from ..mistakes import MISTAKES, wrong_values
from ..mistakes import _quantities as other_quantities
from ..numbers import format_number, to_decimal, to_float
from ..optimizers import step, zero_state
from ..parse import symbol

#: The package's functions in SymPy builtins JavaScript knows, from the op table (values
#: only: derivatives come from the op table through the derivation's edges).
_AS_BUILTINS = {op.sympy: op.numerics.elementary for op in ops.OPS.values()
                if op.numerics.elementary is not None}


def js_function(expr: sp.Expr, index: dict[str, int], data: dict | None = None) -> str:
    """``expr`` as the body of ``function (v) {...}``, each name read as ``v[i]``.

    ``data`` (symbol -> exact value) are the inputs, constants of every computation a
    page makes (a sheet gives no input): written in as numbers, so that SymPy drops what
    they cancel exactly, as the verifier's arithmetic does. A target y = 1 makes the
    (1 - y) log(1 - ŷ) term of cross-entropy 0 even where a sheet's ŷ > 1 makes the log
    undefined (in doubles, 0 times NaN is NaN)."""
    if data:
        expr = expr.xreplace(data)
    rule = {s: sp.Symbol(f"v[{index[s.name]}]") for s in expr.free_symbols}
    for cls, builtin in _AS_BUILTINS.items():
        expr = expr.replace(lambda e, cls=cls: isinstance(e, cls),
                            lambda e, builtin=builtin: builtin(*e.args))
    code = jscode(expr.xreplace(rule))
    return "function (v) { return " + " ".join(code.split()) + "; }"


def exact_table(solution, extra=()) -> dict[str, str]:
    """The engine's values of every quantity a page judges by (the answer key), by
    quantity id: ``value|n``, ``after|n``, ``local|u|l``, ``deriv|out|n`` and the
    derivatives ``extra`` names as (top, bottom); each as an exact decimal of 40 digits,
    the number ``verify`` compares and prints. Doubles computed in the page lose what
    the engine's checked precision keeps (log(1 - σ(z)) at σ(z) = 1 - 5e-55); the page
    recomputes only from a sheet's numbers, which have few digits."""
    graph = solution.graph
    out = solution.output
    table: dict[str, str] = {}
    for name in graph.names:
        table[f"value|{name}"] = _exact(solution.values[name])
        table[f"deriv|{out}|{name}"] = _exact(solution.gradients[name])
        if solution.values_after:
            table[f"after|{name}"] = _exact(solution.values_after[name])
    for (upper, lower), value in solution.evaluation.locals.items():
        table[f"local|{upper}|{lower}"] = _exact(value)
    for top, bottom in extra:
        table[f"deriv|{top}|{bottom}"] = _exact(solution.derivative(top, bottom))
    return table


def _exact(value) -> str:
    return str(to_decimal(value, 40))


def key_table(solution, extra=()) -> dict[str, str]:
    """The claim key of every quantity the page names or recomputes, by quantity id (the
    grammar of claim keys is :mod:`symbackprop.keys`'s, never the page's)."""
    graph = solution.graph
    out = solution.output
    pairs = [(out, n) for n in graph.names] + list(solution.derivation.edges) + list(extra)
    table = {}
    for name in graph.names:
        table[f"value|{name}"] = str(Key(Kind.VALUE, name))
        table[f"after|{name}"] = str(Key(Kind.AFTER, name))
    for top, bottom in pairs:
        table[f"deriv|{top}|{bottom}"] = str(Key(Kind.DERIVATIVE, top, bottom))
    return table


def js_model(solution, places: int, derivatives=()) -> dict:
    """The graph as the page's judge needs it, and its JavaScript functions.

    Returns ``{"data": ..., "functions": ...}``: ``data`` is plain JSON (names, leaves,
    the inputs and users of every node, the edges, the learning rate), ``functions``
    JavaScript source of an object with ``node[name]``, ``local["upper|lower"]`` and
    ``update[parameter]`` (reading the gradient at ``v[gradient]``).
    ``derivatives``: (top, bottom) pairs whose exact value the page needs beyond the
    gradients of the output and the local derivatives (see :func:`exact_table`).
    """
    graph = solution.graph
    derivation = solution.derivation
    names = graph.names
    index = {n: i for i, n in enumerate(names)}
    leaves = {n: {"kind": leaf.kind, "value": float(leaf.value)}
              for n, leaf in graph.leaves.items()}
    edges = []
    node_code, local_code = [], []
    data = {symbol(n): leaf.value for n, leaf in graph.leaves.items() if leaf.kind == "input"}
    for node in graph.nodes:
        node_code.append(f"{json.dumps(node.name)}: {js_function(node.expr, index, data)}")
    for (upper, lower), edge in derivation.edges.items():
        local_code.append(f"{json.dumps(upper + '|' + lower)}: "
                          f"{js_function(edge.local, index, data)}")
        edges.append({
            "upper": upper, "lower": lower,
            "uses": sorted(s.name for s in edge.local.free_symbols),
            "sigmoid": isinstance(graph.node(upper).expr, sigmoid)
                       and graph.node(upper).expr.args[0] == symbol(lower),
            "single": derivation.count_paths(upper, lower) == 1,
        })
    data = {
        "names": names,
        "index": index,
        "leaves": leaves,
        "nodes": [{"name": n.name, "inputs": list(n.inputs)} for n in graph.nodes],
        "users": {n: graph.users[n] for n in names},
        "edges": edges,
        "output": graph.output,
        "rate": float(solution.learning_rate) if solution.learning_rate is not None else None,
        "rateText": (format_number(solution.learning_rate)
                     if solution.learning_rate is not None else None),
        "exact": exact_table(solution, derivatives),
        "keys": key_table(solution, derivatives),
        "samples": bool(solution.samples),
        "rules": page_rules(),
        "places": places,
    }
    update_code = []
    if solution.learning_rate is not None:  # the optimizer's first step, gradient as g
        gradient = sp.Symbol("g")
        index_g = {**index, "g": len(names)}
        for p in graph.parameters:
            w = symbol(p)
            rule = step(solution.optimizer, w, gradient, zero_state(solution.optimizer, w), 1).new
            update_code.append(f"{json.dumps(p)}: {js_function(rule, index_g)}")
    functions = ("{node: {" + ", ".join(node_code) + "}, local: {" + ", ".join(local_code)
                 + "}, update: {" + ", ".join(update_code) + "}, gradient: "
                 + str(len(names)) + "}")
    return {"data": data, "functions": functions}


#: The two mistakes whose wrong values depend on the sheet: the page adds those.
UPDATE_ADDED, OTHER_QUANTITY = "update-added", "other-quantity"
#: A number no sheet holds, put on a pretend sheet to find where the catalogue's
#: sentences quote a sheet's number, so that the page can write in the student's.
_SENTINEL = Decimal("987654.321")


def mistake_table(solution, keys: list[Key]) -> dict:
    """The catalogue of mistakes (:mod:`symbackprop.mistakes`) for each key of a page.

    ``byKey[key]``: ``[id, wrong value, sentence]`` in the catalogue's
    order, computed from the exact derivation as ``verify`` tries them; each number a
    sentence quotes is an exact decimal in a slot (:data:`symbackprop.judging.NUMBER_SLOT`),
    which the page prints at the precision of the claim the sentence explains. The values of
    other quantities (the one coincidental mistake) are listed once, in ``quantities``
    (``[key, kind, value]``), ranked by the page as the catalogue ranks them, same kind
    first. Two mistakes quote the student's sheet; their sentences are templates
    (``{given}``, ``{other}``) and ``sheetUpdate`` gives, per updated parameter, the
    numbers of w + η·(the gradient the sheet gives).
    """
    own = [i for i, m in MISTAKES.items() if not m.coincidental]
    by_key, sheet_update = {}, {}
    for key in keys:
        tries = [[w.mistake, _finite(w.value), w.sentence]
                 for w in wrong_values(solution, key, own, places=None)]
        by_key[str(key)] = [t for t in tries if t[1] is not None]  # diagnose skips the others
        gradient = Key(Kind.DERIVATIVE, solution.output, key.name)
        if key.kind == Kind.AFTER and solution.graph.is_leaf(key.name):
            pretend = wrong_values(solution, key, [UPDATE_ADDED], sheet={gradient: _SENTINEL})
            if len(pretend) > 1:
                sheet_update[str(key)] = {
                    "gradient": str(gradient), "w": to_float(solution.values[key.name]),
                    "rate": to_float(solution.learning_rate),
                    "sentence": pretend[1].sentence.replace(str(_SENTINEL), "{given}")}
    quantities = [[str(k), str(k.kind), float(v)] for k, v in other_quantities(solution)]
    templates = {}
    if quantities and keys:
        probe = Key(Kind.VALUE, solution.output)
        other = parse_key(quantities[0][0], solution.key_names)
        for w in wrong_values(solution, probe, [OTHER_QUANTITY],
                              sheet={other: _SENTINEL}):
            if w.value == _SENTINEL:  # the number copied from the pretend sheet
                templates["copied"] = w.sentence.replace(str(other), "{other}")
            elif "quantity" not in templates:
                first = w.sentence
                named = next(q[0] for q in quantities if q[0] in first)
                templates["quantity"] = first.replace(named, "{other}")
    return {"byKey": by_key, "sheetUpdate": sheet_update, "quantities": quantities,
            "templates": templates, "ids": {"update": UPDATE_ADDED, "other": OTHER_QUANTITY}}


def _finite(value) -> float | None:
    """A wrong value as a double, or None where it is not a finite real number."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
