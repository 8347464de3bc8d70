"""The notation printer, string for string: names as the lectures write them, and each
operation printed from the op table (expected strings are built from the table's own
templates, so these tests check the dispatch, not a copy of the table)."""

from __future__ import annotations

import pytest
import sympy as sp

from symbackprop import ops
from symbackprop.functions import relu, sigmoid, softmax
from symbackprop.notation import array_name, latex_name, statistic
from symbackprop.parse import parse_expression
from symbackprop.render.printer import latex, op_latex, partial, substituted

x, y, z = (sp.Symbol(n, real=True) for n in "xyz")


@pytest.mark.parametrize("name, expected", [
    ("w10", "w_{10}"), ("w1", "w_{1}"), ("z_a", "z_{a}"), ("h_b", "h_{b}"), ("y_t1", "y_{t1}"),
    ("y_hat", r"\hat{y}"), ("y_hat2", r"\hat{y}_{2}"), ("x", "x"), ("E", "E"), ("alpha", r"\alpha"), ("loss", r"\mathrm{loss}"),
    ("W1[0][1]", "W^{[1]}_{12}"), ("b2[0]", "b^{[2]}_{1}"), ("x[1]", "x_{2}"),
    ("W1[9][10]", "W^{[1]}_{10,11}"),
])
def test_names(name, expected):
    assert latex_name(name) == expected


def test_array_names():
    assert array_name("W1") == "W^{[1]}" and array_name("a2") == "a^{[2]}"
    assert array_name("x") == "x"


@pytest.mark.parametrize("name, expected", [
    # a layer's arrays and their elements: μ^{[2]}, (σ^{[2]})², x̂^{[2]}
    ("mu2[0]", r"\mu^{[2]}_{1}"), ("var2[0]", r"{(\sigma^{[2]}_{1})}^{2}"),
    ("xhat2[1][0]", r"\hat{x}^{[2]}_{21}"), ("var3[1][2]", r"{(\sigma^{[3]}_{23})}^{2}"),
    # one value (a layer norm of one sample; a graph's own names): digits as a subscript
    ("mu2", r"\mu_{2}"), ("var0", r"\sigma_{0}^{2}"), ("xhat10", r"\hat{x}_{10}"),
    # other names keep their letters
    ("variance", r"\mathrm{variance}"), ("var_a", r"\mathrm{var}_{a}"), ("xhat", r"\mathrm{xhat}"),
])
def test_normalisation_statistics_print_as_teachers_write_them(name, expected):
    assert latex_name(name) == expected


def test_normalisation_arrays_and_generic_symbols():
    assert array_name("mu2") == r"\mu^{[2]}" and array_name("var2") == r"{(\sigma^{[2]})}^{2}"
    assert array_name("xhat4") == r"\hat{x}^{[4]}" and array_name("xhat2", "1,2") == r"\hat{x}^{[2]}_{1,2}"
    assert statistic("var") == r"\sigma^{2}" and statistic("xhat", sub="i") == r"\hat{x}_{i}"
    assert statistic("mu") == r"\mu"


#: How the normalisation statistics would be spelled by hand: only the notation record
#: (symbackprop/notation.py) may write them; the layers' node names (mu2, var2, xhat2)
#: are keys, not spellings.
_STATISTIC_SPELLINGS = (r"\sigma^{2", r"\hat{x}", r"\mathrm{var}", r"\mathrm{xhat}",
                        r"\mu^{[", r"\mu_{", "σ²", "x\u0302", "x̂")


#: What any of them contains as typed in a source file (in an f-string \\mu^{{[ too).
_MARKS = ("\\sigma", "\\hat", "\\mu", "\\mathrm", "σ", "\u0302", "\\u0302")


def test_no_module_outside_the_notation_spells_a_normalisation_statistic():
    import ast
    from pathlib import Path

    import symbackprop

    package = Path(symbackprop.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name == "notation.py" or not any(m in text for m in _MARKS):
            continue  # (a file that cannot spell one is not parsed: the scan stays cheap)
        tree = ast.parse(text)
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found += [f"{path.relative_to(package)}:{node.lineno}: {s}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings
                  for s in _STATISTIC_SPELLINGS if s in node.value]
    for path in sorted((package.parent / "templates").rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"templates/{path.name}: {s}" for s in _STATISTIC_SPELLINGS if s in text]
    assert found == []


def test_partial():
    assert partial("E", "w5") == r"\frac{\partial E}{\partial w_{5}}"
    assert partial("y", "z_c") == r"\frac{\partial y}{\partial z_{c}}"


@pytest.mark.parametrize("op, expr", [
    ("sigmoid", sigmoid(x)), ("relu", relu(x)), ("exp", sp.exp(x, evaluate=False)),
    ("log", sp.log(x, evaluate=False)), ("tanh", sp.tanh(x, evaluate=False)),
    ("abs", sp.Abs(x, evaluate=False)), ("sqrt", sp.Pow(x, sp.S.Half, evaluate=False)),
])
def test_functions_print_from_the_op_table(op, expr):
    assert latex(expr) == op_latex(ops.OPS[op], ["x"])


def test_function_and_parenthesis_are_not_set_apart():
    assert latex(sigmoid(z)) == r"\sigma\!\left(z\right)"
    assert latex(relu(z)) == r"\operatorname{relu}\!\left(z\right)"


def test_max_and_min():
    # the expressions the engine builds for max(...) and min(...), in the order written
    assert latex(ops.build("max", y, x)) == op_latex(ops.OPS["max"], ["y", "x"])
    assert latex(ops.build("min", x, y)) == op_latex(ops.OPS["min"], ["x", "y"])


def test_softmax_prints_its_index_from_one():
    expected = op_latex(ops.OPS["softmax"], ["x", "y", "z"]) + "_{2}"
    assert latex(softmax(1, x, y, z)) == expected


def test_user_term_order_and_division():
    assert latex(parse_expression("x1*w1 + x2*w3")) == "x_{1} w_{1} + x_{2} w_{3}"
    assert latex(parse_expression("h_a*w5 + h_b*w6")) == "h_{a} w_{5} + h_{b} w_{6}"
    assert latex(parse_expression("x / y")) == r"\frac{x}{y}"
    assert latex(parse_expression("1/(1 + exp(-x))")) == r"\frac{1}{1 + e^{- x}}"


def test_negation_of_a_sum_keeps_its_parentheses():
    assert latex(ops.build("neg", ops.build("add", x, y))) == r"-\left(x + y\right)"


def test_a_negated_sum_factor_takes_the_sign():
    """SymPy's derivative of binary cross-entropy, written as the lectures write it
    (the L6 handout): -y/ŷ + (1 - y)/(1 - ŷ), not -y/ŷ - (-1 + y)/(1 - ŷ)."""
    import symbackprop as sb

    local = sb.load("logreg").solve().derivation.edges["L", "y_hat"].local
    assert latex(local) == r"- \frac{y}{\hat{y}} + \frac{1 - y}{1 - \hat{y}}"
    assert substituted(local, {"y": "1", "y_hat": "0.5"}) == (
        r"- \frac{1}{0.5} + \frac{1 - 1}{1 - 0.5}")
    assert latex(-(y - 1) * x) == r"x \left(1 - y\right)"
    nothing_to_flip = sp.Mul(-1, x, y + 1, 1 / z, evaluate=False)  # its sum reads well
    assert latex(nothing_to_flip) == r"- \frac{x \left(1 + y\right)}{z}"
    # a neg gate of a sum keeps its parentheses, whatever the sum's first sign
    assert latex(ops.build("neg", ops.build("add", -1, y))) == r"-\left(-1 + y\right)"


def test_substituted_numbers():
    expr = parse_expression("x1*w1 + x2*w3")
    numbers = {"x1": "0.23", "w1": "0.1", "x2": "0.82", "w3": "0.4"}
    assert substituted(expr, numbers) == r"0.23 \cdot 0.1 + 0.82 \cdot 0.4"
    assert substituted(parse_expression("y - y_t"), {"y": "-0.5", "y_t": "1"}) == "(-0.5) - 1"


# Constants as a teacher writes them (docs/worked-solutions.md, "How constants print"):
# the coefficient first, decimals as written, no 1*, never a digit beside a name.

@pytest.mark.parametrize("source, tex, text", [
    ("w*2", "2 w", "2*w"),
    ("x*2", "2 x", "2*x"),
    ("0.2*x", "0.2 x", "0.2*x"),
    ("x*0.2", "0.2 x", "0.2*x"),
    ("0.01*w**2", "0.01 w^{2}", "0.01*w**2"),
    ("-0.2*x", "-0.2 x", "-0.2*x"),
    ("a - 0.2*x", "a - 0.2 x", "a - 0.2*x"),
    ("a - b/2", r"a - \frac{b}{2}", "a - b/2"),
    ("-b/2", r"- \frac{b}{2}", "-b/2"),
    ("x*(-3)", "- 3 x", "-3*x"),
    ("a + x*(-3)", "a - 3 x", "a - 3*x"),
    ("0.5*(y - t)**2", r"0.5 \left(y - t\right)^{2}", "0.5*(y - t)**2"),
    ("x*0.2*(a + b)", r"0.2 x \left(a + b\right)", "0.2*x*(a + b)"),
    ("0.2/x", r"\frac{0.2}{x}", "0.2/x"),
    ("x/0.5", r"\frac{x}{0.5}", "x/0.5"),
    ("x - 0.5", "x - 0.5", "x - 0.5"),
    ("(y - t)**2/2", r"\frac{\left(y - t\right)^{2}}{2}", "(y - t)**2/2"),
    ("Wx*x1", r"W_{x} x_{1}", "Wx*x1"),
])
def test_constants_print_as_written(source, tex, text):
    from symbackprop.render.text import expression

    expr = parse_expression(source)
    assert latex(expr) == tex
    assert expression(expr) == text


@pytest.mark.parametrize("source", ["0.2*x", "x*2", "0.01*w**2", "x/0.5", "a - 0.2*x", "1e-3*w"])
def test_printed_constants_keep_their_value(source):
    """What the text printer writes reads back to the same exact expression."""
    from symbackprop.render.text import expression

    expr = parse_expression(source)
    assert sp.simplify(parse_expression(expression(expr)) - expr) == 0


@pytest.mark.parametrize("source, digits", [
    ("w*2", ["2", "w"]), ("0.2*x", ["0.2", "x"]), ("0.01*w**2", ["0.01", "w"]),
])
def test_mathml_coefficient_first(source, digits):
    """The number comes before the name in MathML too, written as the problem wrote it."""
    import re

    from symbackprop.render.mathml import expr_mathml

    tokens = re.findall(r"<m[ni][^>]*>([^<]+)</m[ni]>", expr_mathml(parse_expression(source)))
    assert tokens[:2] == digits


def test_mathml_negative_coefficient_is_the_sums_sign():
    """a + x*(-3) reads a − 3x in MathML too, not a + −3x."""
    import re

    from symbackprop.render.mathml import expr_mathml

    tokens = re.findall(r"<m[ino][^>]*>([^<]+)</m[ino]>", expr_mathml(parse_expression("a + x*(-3)")))
    assert tokens == ["a", "\u2212", "3", "&InvisibleTimes;", "x"]


def test_written_decimal_is_the_exact_rational():
    from symbackprop.parse import WrittenNumber

    c = parse_expression("0.2*x").args[0]
    assert isinstance(c, WrittenNumber) and c == sp.Rational(1, 5) and c.text == "0.2"
    assert (-c).text == "-0.2" and -c == sp.Rational(-1, 5)
    assert c * 5 == 1 and type(c * 5) is not WrittenNumber


@pytest.mark.parametrize("name, expected", [
    ("Wx", "W_{x}"), ("Wh", "W_{h}"), ("by", "b_{y}"), ("Wx1", "W_{x,1}"), ("Wx_a", "W_{x,a}"),
    ("eta", r"\eta"), ("loss", r"\mathrm{loss}"),
])
def test_two_letter_names_take_a_subscript(name, expected):
    assert latex_name(name) == expected


def test_a_local_derivative_keeps_the_problems_decimals():
    """d(0.01 w^2)/dw reads 0.02 w (not w/50), and is still exactly w/50."""
    import symbackprop as sb

    problem = sb.load_dict({"graph": {"z": "w*x - t", "E": "0.5*z**2 + 0.01*w**2"},
                            "inputs": {"x": 1.5, "t": 1}, "parameters": {"w": 0.5}})
    sol = problem.solve()
    locals_ = [e.local for e in sol.derivation.edges.values()]
    w = sp.Symbol("w", real=True)
    assert any(latex(d) == "0.02 w" and sp.simplify(d - w / 50) == 0 for d in locals_)
    from symbackprop.render.text import expression
    assert any(expression(d) == "0.02*w" for d in locals_)
    # the gradient is sympy.diff of the whole loss, substituted (an independent source)
    x, t = sp.Rational(3, 2), 1
    exact = sp.diff(sp.Rational(1, 2) * (w * x - t) ** 2 + w ** 2 / 100, w).subs(w, sp.Rational(1, 2))
    assert abs(sol.gradients["w"] - exact) < 1e-30


@pytest.mark.skipif(not __import__("shutil").which("pdftotext"), reason="needs pdftotext")
def test_constants_compile_and_read_as_written(tmp_path):
    """The LaTeX compiles, and the PDF's text has the coefficient before the name."""
    import subprocess

    from symbackprop.render.pdf import compile_pdf, tex_available

    if not tex_available():
        pytest.skip("needs TeX")
    sources = ["w*2 + 0.2*x", "0.01*w**2", "a - b/2", "x*(-3)", "Wx*x1", "x/0.5"]
    body = "\n".join(rf"\[{latex(parse_expression(s))}\]" for s in sources)
    tex = ("\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n"
           f"{body}\n\\end{{document}}\n")
    path = tmp_path / "c.pdf"
    path.write_bytes(compile_pdf(tex, "c"))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "2w + 0.2x" in lines
    assert "−3x" in lines
    assert not any("w2 " in line or "x5" in line for line in lines)
