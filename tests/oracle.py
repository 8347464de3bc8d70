"""An independent oracle: ``sympy.diff`` of the fully substituted expression.

It shares no code path with the engine: equations are read with SymPy's own
``parse_expr`` (test-controlled text, never user input), sigmoid and relu are written out
as 1/(1 + e^-z) and Max(0, z), every node is substituted into the output until only
leaves remain, and SymPy differentiates the whole thing, the naive way the engine avoids.
Network-form problems are rebuilt here with SymPy matrices.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

_z = sp.Symbol("z")
FUNCTIONS = {
    "sigmoid": sp.Lambda(_z, 1 / (1 + sp.exp(-_z))),
    "relu": sp.Lambda(_z, sp.Max(0, _z)),
    "tanh": sp.tanh, "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt,
    "abs": sp.Abs, "max": sp.Max, "min": sp.Min,
}
DIGITS = 50


def _rational(v) -> sp.Rational:
    return sp.Rational(str(v))


def _leaf_symbols(table: dict) -> dict[str, sp.Expr]:
    """Leaf name -> exact value; arrays flattened to W1[0][1] names."""
    values = {}
    for section in ("inputs", "parameters"):
        for name, v in table.get(section, {}).items():
            if isinstance(v, list):
                rows = v if isinstance(v[0], list) else [[x] for x in v]
                for i, row in enumerate(rows):
                    for j, x in enumerate(row):
                        key = f"{name}[{i}][{j}]" if isinstance(v[0], list) else f"{name}[{i}]"
                        values[key] = _rational(x)
            else:
                values[name] = _rational(v)
    return values


def _parse(text: str, names: dict[str, sp.Symbol]) -> sp.Expr:
    # Indexed names are not Python identifiers: swap them for placeholders first.
    local = dict(FUNCTIONS)
    for i, (name, sym) in enumerate(sorted(names.items(), key=lambda kv: -len(kv[0]))):
        if "[" in name:
            placeholder = f"_idx{i}_"
            text = text.replace(name, placeholder)
            local[placeholder] = sym
        else:
            local[name] = sym
    return parse_expr(text, local_dict=local)


def graph_oracle(table: dict):
    """(output value, {leaf: d output / d leaf}, full expression, leaf values) for a
    graph-form problem table."""
    leaves = _leaf_symbols(table)
    symbols = {name: sp.Symbol(f"L_{i}", real=True) for i, name in enumerate(leaves)}
    graph = table["graph"]
    node_symbols = {name: sp.Symbol(f"N_{i}", real=True) for i, name in enumerate(graph)}
    exprs = {name: _parse(text, {**symbols, **node_symbols}) for name, text in graph.items()}
    output = table.get("output") or list(graph)[-1]

    full_cache: dict[str, sp.Expr] = {}

    def full(name):
        if name not in full_cache:
            e = exprs[name]
            subs = {node_symbols[n]: full(n) for n in exprs if node_symbols[n] in e.free_symbols}
            full_cache[name] = e.xreplace(subs)
        return full_cache[name]

    expr = full(output)
    point = {symbols[n]: v for n, v in leaves.items()}
    value = sp.N(expr.xreplace(point), DIGITS)
    grads = {n: sp.N(sp.diff(expr, symbols[n]).xreplace(point), DIGITS) for n in leaves}
    return value, grads, {n: full(n) for n in exprs}, symbols, point


def graph_oracle_after(table: dict, rate) -> sp.Expr:
    """The output after one gradient step on the parameters, by the oracle."""
    value, grads, _, _, _ = graph_oracle(table)
    moved = {k: dict(v) for k, v in table.items() if isinstance(v, dict)}
    moved.update({k: v for k, v in table.items() if not isinstance(v, dict)})
    rate = _rational(rate)
    for name, v in table["parameters"].items():
        moved["parameters"][name] = Decimal(str(sp.N(_rational(v) - rate * grads[name], 60)))
    return graph_oracle(moved)[0]


def network_oracle(table: dict):
    """(loss, {array name: gradient as a SymPy Matrix}) for a network-form table."""
    net = table["network"]
    params = table["parameters"]
    inputs = table["inputs"]
    sym = {}
    mats = {}
    for name, v in params.items():
        rows = v if isinstance(v[0], list) else [[x] for x in v]
        m = sp.Matrix(len(rows), len(rows[0]),
                      lambda i, j, name=name: sp.Symbol(f"{name}_{i}_{j}", real=True))
        mats[name] = m
        for i, row in enumerate(rows):
            for j, x in enumerate(row):
                sym[m[i, j]] = _rational(x)
    a = sp.Matrix([_rational(v) for v in inputs["x"]])
    y = inputs["y"] if isinstance(inputs["y"], list) else [inputs["y"]]
    y = [_rational(v) for v in y]
    acts = {
        "sigmoid": lambda z: z.applyfunc(lambda t: 1 / (1 + sp.exp(-t))),
        "tanh": lambda z: z.applyfunc(sp.tanh),
        "relu": lambda z: z.applyfunc(lambda t: sp.Max(0, t)),
        "linear": lambda z: z,
        "softmax": lambda z: sp.Matrix([sp.exp(t) for t in z]) / sum(sp.exp(t) for t in z),
    }
    for layer, act in enumerate(net["activations"], start=1):
        z = mats[f"W{layer}"] * a + mats[f"b{layer}"]
        a = acts[act](z)
    n = len(a)
    loss = net["loss"]
    if loss in ("half_sse", "sse", "mse"):
        sq = sum((y[j] - a[j]) ** 2 for j in range(n))
        L = {"half_sse": sq / 2, "sse": sq, "mse": sq / n}[loss]
    elif loss == "bce":
        L = -sum(y[j] * sp.log(a[j]) + (1 - y[j]) * sp.log(1 - a[j]) for j in range(n))
    elif loss == "cce":
        L = -sum(y[j] * sp.log(a[j]) for j in range(n))
    else:
        k = int(y[0])
        L = sum(sp.Max(0, a[j] - a[k] + 1) for j in range(n) if j != k)
    value = sp.N(L.xreplace(sym), DIGITS)
    grads = {name: m.applyfunc(lambda s: sp.N(sp.diff(L, s).xreplace(sym), DIGITS))
             for name, m in mats.items()}
    return value, grads


def load_toml(text: str) -> dict:
    return tomllib.loads(text, parse_float=Decimal)


def close(a, b, rel=1e-7, abs_=1e-12) -> bool:
    a, b = float(a), float(b)
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)
