"""The op table is the only list of ops: the kernel backends bind exactly its array
forms, each of which computes the op's value; docs/operations.md lists exactly its
functions; no module outside it spells an op."""

from __future__ import annotations

import ast
import random
import re
import sys

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
    """Each op of the table with a SymPy class (arithmetic included), printed by the
    backend's printer and run in its namespace, gives SymPy's own value (50 digits) at a
    few points."""
    backend = _need(name)
    op = ops.OPS[op_name]
    rng = random.Random(op_name)
    arrays = _sample(op, rng)
    xs = sp.symbols(f"x0:{len(arrays)}", real=True)
    fixed = (sp.Integer(1),) if op.parameters else ()
    expr = ops.build(op_name, *fixed, *xs)
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
                                     if op.notation.function and (op.kinks.distance or op.kinks.saturation)])
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
    rule = "kink" if op.kinks.distance else "saturated"
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
        if op.notation.function is None or op.sympy is None or \
                not op.sympy.__module__.startswith("symbackprop"):
            continue
        assert op.numerics.elementary is not None, op.name
        arity = op.arity if isinstance(op.arity, int) else (op.arity[0] if op.arity else 1)
        for point in ((-1.3, 0.4), (0.7, -0.2), (2.5, 1.1)):
            args = [sp.Rational(str(x)) for x in point[:arity]]
            want = op.sympy(*args) if op.sympy is not None else None
            if want is None:
                continue
            got = op.numerics.elementary(*args)
            assert abs(float(sp.N(got - want, 30))) < 1e-25, (op.name, point)


# --------------------------------------------------------------- no op named outside

PACKAGE = ROOT / "symbackprop"
#: Modules that may spell ops: the table itself.
TABLE_MODULES = {"ops.py"}
#: Table lookups by an op's name are references, not spellings: ``OPS["exp"]``,
#: ``build("add", a, b)``, ``activate("softmax", ...)``.
LOOKUPS = {"OPS", "ACTIVATIONS", "FUNCTIONS", "MATRIX_VJP"}
LOOKUP_CALLS = {"build", "activate"}
#: Where a string that equals an op's spelling is not one (file, string): each justified.
ALLOWED = {
    # the built-in problems are data: a network's activations are named as a problem
    # file names them
    ("examples/__init__.py", "sigmoid"), ("examples/__init__.py", "tanh"),
    ("examples/__init__.py", "softmax"), ("examples/__init__.py", "relu"),
    # a loss names the output activation it is canonical with by its table key
    ("losses.py", "sigmoid"), ("losses.py", "softmax"),
    # matplotlib's logarithmic axis, not the log op
    ("plotting.py", "log"),
    # the widths of LaTeX's radical sign and binary ×, which also set numbers (√2, 2 × 3)
    ("render/equations.py", "sqrt"), ("render/equations.py", "times"),
    # the Greek letter as a name (sigma_1 is σ₁), not the sigmoid
    ("render/mathml.py", "sigma"), ("notation.py", "sigma"),
    # σ as the letter of a batch or layer norm's variance σ² (notation.STATISTICS)
    ("notation.py", "\\sigma"),
    # an optimizer's step number (JSON key, claim-key part), not relu's derivative
    ("solution.py", "step"), ("keys.py", "step"),
    # softmax has no name a problem file may call: the source printer writes it out in
    # exponentials, exp(z_j)/(exp(z_0) + ...), as a file would
    ("parse.py", "def _print_softmax"),
    # the page's judge reads this field to name the sigmoid-derivative mistake of the
    # catalogue (mistakes.py), which belongs to σ' = σ(1 − σ) alone
    ("render/jsmodel.py", "sigmoid"),
}


def _spellings() -> set[str]:
    """Every op's name and each of its spellings: the name users call it by, its plain
    word, its LaTeX command, figure label and kernel names (not one-character signs)."""
    found = set()
    for op in ops.OPS.values():
        n = op.notation
        found |= {op.name, n.function, n.word, n.head, n.head.lstrip("\\"), n.symbol}
        for form in (op.numerics.kernel, op.layer.kernel if op.layer else None):
            if form is not None:
                found.add(form.call)
    return {s for s in found if s and len(s) > 1}


def _lookup_keys(tree) -> set[int]:
    """ids of the string constants that are table lookups by name."""
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            base = node.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            if name in LOOKUPS:
                keys.add(id(node.slice))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in LOOKUP_CALLS:
                first = node.args[0]  # build("add" if adding else "mul", ...)
                keys |= {id(first), *(id(getattr(first, side, None)) for side in ("body", "orelse"))}
    return keys


def spelled_outside_the_table() -> list[str]:
    """``file:line: what`` for each string that spells an op, and each printing method of
    an op's SymPy class, outside the table."""
    spellings = _spellings()
    classes = {cls.__name__ for cls in ops.FUNCTION_CLASSES}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in TABLE_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = _lookup_keys(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value in spellings and id(node) not in keys
                    and (rel, node.value) not in ALLOWED):
                found.append(f"{rel}:{node.lineno}: {node.value!r}")
            elif (isinstance(node, ast.FunctionDef) and node.name.startswith("_print_")
                  and node.name[len("_print_"):] in classes
                  and (rel, f"def {node.name}") not in ALLOWED):
                found.append(f"{rel}:{node.lineno}: def {node.name}")
            elif isinstance(node, ast.Attribute) and node.value.__class__ is ast.Name \
                    and node.value.id == "ops" and node.attr in spellings:
                found.append(f"{rel}:{node.lineno}: ops.{node.attr}")
    return found


def test_no_module_outside_the_table_spells_an_op():
    """Every spelling of an op (its parse name, text, LaTeX, MathML, figure label and
    widths, JavaScript and kernel names) is read from its record in ops.py: no other
    module types one again, nor prints an op's SymPy class by hand."""
    assert spelled_outside_the_table() == []


def test_the_spelling_scan_finds_a_spelling(tmp_path, monkeypatch):
    """The scan can fail: a module that types relu's LaTeX name, or prints sigmoid by
    hand, is found."""
    planted = tmp_path / "symbackprop"
    planted.mkdir()
    (planted / "ops.py").write_text("", encoding="utf-8")
    (planted / "bad.py").write_text(
        'NAMES = {"relu": 1}\n\n\nclass P:\n    def _print_sigmoid(self, e):\n'
        '        return "σ"\n', encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", planted)
    assert sorted(spelled_outside_the_table()) == ["bad.py:1: 'relu'", "bad.py:5: def _print_sigmoid"]


@pytest.mark.parametrize("op_name", [n for n, op in ops.OPS.items() if op.notation.brackets])
def test_every_format_writes_a_function_by_the_same_name(op_name):
    """A function written name(args) is named alike in plain text, LaTeX and MathML, by
    its record: leaky_relu is leaky_relu in MathML too (it was "leaky", its figure label)."""
    from xml.dom import minidom

    from symbackprop.render.mathml import expr_mathml
    from symbackprop.render.printer import latex
    from symbackprop.render.text import expression

    op = ops.OPS[op_name]
    z, a = sp.symbols("z a", real=True)
    args = (z, a)[: 2 if op.takes(2) and not op.takes(1) else 1]
    fixed = (sp.Integer(0),) if op.parameters else ()
    expr = ops.build(op_name, *fixed, *args)
    word = op.notation.word
    if op.notation.text is not None:
        assert expression(expr).startswith(f"{word}(z"), expression(expr)
    assert latex(expr).startswith(op.notation.head), latex(expr)
    dom = minidom.parseString(f"<math>{expr_mathml(expr)}</math>")
    names = [n.firstChild.data for n in dom.getElementsByTagName("mi")]
    assert names[0] == word and "z" in names, names
