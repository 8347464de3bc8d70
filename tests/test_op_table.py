"""The op table is the only list of ops: the kernel backends bind exactly its array
forms, each of which computes the op's value; docs/operations.md lists exactly its
functions."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import sympy as sp

from symbackprop import ops
from symbackprop.kernels import backends
from symbackprop.kernels.backends import BACKENDS, available, get_backend
from tests.conftest import ROOT


def _need(name):
    if not available(name):
        pytest.skip(f"the {name} backend is not installed ({backends.INSTALL[name]})")
    return get_backend(name)


@pytest.mark.parametrize("name", BACKENDS)
def test_each_backend_binds_exactly_the_tables_ops(name):
    backend = _need(name)
    table = {form.call for form in ops.kernel_forms()}
    assert set(backend.primitives) == table | set(backends.ARRAY_PRIMITIVES)
    assert not table & set(backends.ARRAY_PRIMITIVES)  # no op is bound a second way


def _sample(op, rng, n=5):
    """Arguments away from kinks, poles and outside-domain points, n values each."""
    count = 3 if op.arity is None else (op.arity if isinstance(op.arity, int) else op.arity[-1])
    low = 0.2 if op.name in ("log", "sqrt", "pow", "div") else -3
    return [np.array([rng.choice([-1, 1]) * rng.uniform(0.1, 3) if low < 0 else rng.uniform(low, 3)
                      for _ in range(n)]) for _ in range(count)]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("op_name", [n for n, op in ops.OPS.items() if op.sympy is not None])
def test_generated_code_computes_every_function_of_the_table(name, op_name):
    """Each SymPy function of the table, printed by the backend's printer and run in its
    namespace, gives SymPy's own value (50 digits) at a few points."""
    backend = _need(name)
    op = ops.OPS[op_name]
    rng = random.Random(op_name)
    arrays = _sample(op, rng)
    xs = sp.symbols(f"x0:{len(arrays)}", real=True)
    fixed = (sp.Integer(1),) if op.parameters else ()
    expr = op.sympy(*fixed, *xs)
    fn = sp.lambdify(xs, expr, modules=backend.modules, printer=backend.make_printer())
    context = backend.float64() if backend.float64 else _nothing()
    with context:
        got = np.asarray(backend.to_numpy(fn(*(backend.asarray(a) for a in arrays))), dtype=float)
    for k in range(len(arrays[0])):
        point = {x: sp.Float(float(a[k]), 50) for x, a in zip(xs, arrays, strict=True)}
        expected = float(sp.N(expr.xreplace(point), 50))
        assert got[k] == pytest.approx(expected, rel=1e-12, abs=1e-14), (op_name, k)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _documented_functions() -> set[str]:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = text.split("<!-- functions -->")[1].split("<!-- /functions -->")[0]
    return set(re.findall(r"^\| `(\w+)\(", table, flags=re.M))


def test_docs_list_exactly_the_tables_functions():
    assert _documented_functions() == set(ops.FUNCTIONS)


def test_the_docs_table_is_the_generated_one():
    from symbackprop.ops_doc import operations_table

    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert operations_table() in text, "regenerate: python -m symbackprop.ops_doc"


def test_unknown_function_suggests_from_the_table():
    from symbackprop.errors import ExpressionError
    from symbackprop.parse import parse_expression

    for name in ops.FUNCTIONS:
        with pytest.raises(ExpressionError, match=f"did you mean '{name}'|functions: .*{name}"):
            parse_expression(f"{name}x(z)")


def test_the_docs_example_entry_is_the_tables():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    example = text.split("```python\n")[1].split("```")[0]
    assert example.startswith("register(Op(")
    assert example in (ROOT / "symbackprop" / "ops.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("op_name", [n for n, op in ops.OPS.items()
                                     if op.function and (op.kink or op.saturation)])
def test_exam_rules_and_stress_recheck_read_every_kink_from_the_table(op_name):
    """Near the kink (or deep in the flat tail) the rule fires, for every such op of the
    table (the stress re-check once forgot abs); far from it, it does not."""
    import symbackprop as sb
    from symbackprop.exam.wellposed import gate_problems

    op = ops.OPS[op_name]
    args = "x, 1" if op.takes(2) and not op.takes(1) else "x"
    graph = sb.load_dict({"graph": {"f": f"{op_name}({args})"}, "inputs": {"x": 0.5}}).graph
    # a tie of max(x, 1) is at x = 1; every other kink here is at 0
    near, far = (sp.Rational(99, 100), sp.Integer(3)) if args == "x, 1" else (sp.Rational(1, 100), sp.Rational(1, 2))
    rule = "kink" if op.kink else "saturated"
    if rule == "saturated":
        near, far = sp.Integer(9), sp.Rational(1, 2)
    assert [r for r, _ in gate_problems(graph, {"x": near})] == [rule]
    assert list(gate_problems(graph, {"x": far})) == []


def test_every_function_has_an_elementary_form_equal_to_it():
    """The practice page's JavaScript reads each function's elementary form from the table
    (exp, log, Max, Piecewise): every function of the package's own (not SymPy's exp, log,
    tanh, ...) has one, and it is the function."""
    import sympy as sp

    from symbackprop import ops

    for op in ops.OPS.values():
        if op.function is None or op.sympy is None or \
                not op.sympy.__module__.startswith("symbackprop"):
            continue
        assert op.elementary is not None, op.name
        arity = op.arity if isinstance(op.arity, int) else (op.arity[0] if op.arity else 1)
        for point in ((-1.3, 0.4), (0.7, -0.2), (2.5, 1.1)):
            args = [sp.Rational(str(x)) for x in point[:arity]]
            want = op.sympy(*args) if op.sympy is not None else None
            if want is None:
                continue
            got = op.elementary(*args)
            assert abs(float(sp.N(got - want, 30))) < 1e-25, (op.name, point)
