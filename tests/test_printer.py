"""The notation printer, string for string: names as the lectures write them, and each
operation printed from the op table (expected strings are built from the table's own
templates, so these tests check the dispatch, not a copy of the table)."""

from __future__ import annotations

import pytest
import sympy as sp

from symbackprop import ops
from symbackprop.functions import relu, sigmoid, softmax
from symbackprop.notation import array_name, latex_name
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
