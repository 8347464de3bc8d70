"""The display policy: every number right, and displayed lines that add up.

Independent sources: the exact value of a problem built from decimals (Python's
``fractions``), the arithmetic of the displayed numbers redone with ``Fraction`` (not
the policy's Decimal code), and, for every built-in handout, the displayed equations
parsed back from the Markdown and recomputed from their own digits.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.display import Display, Used
from symbackprop.examples import EXAMPLES
from symbackprop.render import render_markdown
from symbackprop.render.text import render_text

#: W1 x + b1 = 0.3·1 − 0.2·2 + 0.1 = 0 exactly (the issue's teacher's example).
ZERO_NET = {
    "title": "Exact zero", "learning_rate": 0.5,
    "network": {"layers": [2, 1, 1], "activations": ["sigmoid", "sigmoid"], "loss": "mse"},
    "inputs": {"x": [1, 2], "y": [1]},
    "parameters": {"W1": [[0.3, -0.2]], "b1": [0.1], "W2": [[0.5]], "b2": [0.2]},
}


def unit(text: str) -> Fraction:
    """One unit of the last digit of a displayed number ("0.0534" -> 1/10000)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Fraction(1, 10 ** decimals) * Fraction(10) ** int(exponent or 0)


# ----------------------------------------------------------------------------- zeros


def test_an_exact_zero_is_zero_in_every_output():
    """z = 0.3·1 − 0.2·2 + 0.1 is 0: the value, the JSON, the text, the handout and
    verify's expected value say 0 (before: 8.93e-103 and 2.605e-103)."""
    s = sb.load_dict(ZERO_NET, "zero").solve()
    assert Fraction("0.3") * 1 - Fraction("0.2") * 2 + Fraction("0.1") == 0
    assert s.values["z1[0]"] == 0
    assert json.loads(json.dumps(s.to_json()))["values"]["z1"] == [0]
    text = render_text(s)
    assert re.search(r"z\^\[1\] = .* = \[\[0\]\]\n", text) and "e-1" not in text
    md = render_markdown(s)
    assert "10^{-10" not in md and "e-10" not in md
    # dL/dW2 = δ2 · a1 with a1 = σ(0) = 1/2 exactly: no noise anywhere in its digits
    exact = s.lookup("dL/dW2")[0][0]
    a2 = 1 / (1 + sp.exp(-sp.Rational(45, 100)))
    truth = sp.N(2 * (a2 - 1) * a2 * (1 - a2) * sp.Rational(1, 2), 30)
    assert abs(exact - truth) < sp.Float("1e-25")


def test_verify_expects_zero(cli, tmp_path):
    problem = tmp_path / "zero.toml"
    problem.write_text(
        'title = "Exact zero"\nlearning_rate = 0.5\n[network]\nlayers = [2, 1, 1]\n'
        'activations = ["sigmoid", "sigmoid"]\nloss = "mse"\n[inputs]\nx = [1, 2]\ny = [1]\n'
        '[parameters]\nW1 = [[0.3, -0.2]]\nb1 = [0.1]\nW2 = [[0.5]]\nb2 = [0.2]\n')
    claims = tmp_path / "zero.claims"
    claims.write_text("z1[0] = 0.001\n")
    r = cli("verify", problem, claims, "--json")
    assert r.returncode in (0, 1), r.stderr
    verdicts = json.loads(r.stdout)["claims"]
    assert verdicts[0]["expected"] == 0
    r = cli("verify", problem, claims)
    assert "e-10" not in r.stdout and re.search(r"z1\[0\]\s+0.001\s+0\s", r.stdout), r.stdout


decimal = st.integers(-20, 20).map(lambda k: Fraction(k, 10)).filter(lambda v: v != 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(decimal, decimal), min_size=1, max_size=3))
def test_random_exact_cancellations_are_exact_zeros(pairs):
    """z = Σ w_i x_i + b with b chosen (in fractions) to cancel the sum exactly: z is 0,
    σ(z) is 1/2, and the gradient through z's weights is an exact σ'(0) = 1/4 times x."""
    b = -sum(w * x for w, x in pairs)
    names = [f"w{i}*x{i}" for i in range(len(pairs))]
    problem = {
        "graph": {"z": " + ".join(names) + " + b", "h": "sigmoid(z)", "L": "h*h"},
        "output": "L",
        "inputs": {f"x{i}": float(x) for i, (_, x) in enumerate(pairs)},
        "parameters": {**{f"w{i}": float(w) for i, (w, _) in enumerate(pairs)}, "b": float(b)},
    }
    s = sb.load_dict(problem, "cancel").solve()
    assert s.values["z"] == 0
    assert abs(s.values["h"] - sp.Rational(1, 2)) < sp.Float("1e-30")
    for i, (_, x) in enumerate(pairs):  # dL/dw_i = 2h · h(1-h) · x_i = x_i / 4
        assert abs(s.gradients[f"w{i}"] - sp.Rational(x.numerator, x.denominator) / 4) \
            < sp.Float("1e-30")
    assert "e-" not in render_text(s).split("Forward pass")[1].split("\n")[1]


#: Pairs of equal expressions whose difference floats leave as noise.
IDENTITIES = [("exp(x)*exp(-x)", "1"), ("tanh(x)", "(exp(2*x) - 1)/(exp(2*x) + 1)"),
              ("sigmoid(x)", "1/(1 + exp(-x))"), ("log(exp(x))", "x"),
              ("sqrt(x*x)", "abs(x)")]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(IDENTITIES), decimal, decimal)
def test_transcendental_cancellations_are_exact_zeros(identity, x, w):
    """d = lhs − rhs of an identity is 0 at every x, so d, dL/dw = d and dL/dx = w d′
    are exactly 0 (floats alone leave 1e-41 or 1e-103 of noise)."""
    left, right = identity
    problem = {"graph": {"p": left, "q": right, "d": "p - q", "L": "d*w"}, "output": "L",
               "inputs": {"x": float(x)}, "parameters": {"w": float(w)}}
    s = sb.load_dict(problem, "identity").solve()
    assert s.values["d"] == 0 and s.gradients["w"] == 0 and s.gradients["x"] == 0
    assert json.loads(json.dumps(s.to_json()))["gradients"]["x"] == 0


# ----------------------------------------------------------------------------- lines


def _check_line(line, combine):
    values = [Fraction(t) for t in line.operands]
    assert abs(combine(values) - Fraction(line.result)) <= unit(line.result), line


def _product(values):
    out = Fraction(1)
    for v in values:
        out *= v
    return out


positive = st.fractions(min_value=Fraction(1, 10**6), max_value=Fraction(100))


@settings(max_examples=200, deadline=None)
@given(st.lists(positive, min_size=2, max_size=4), st.integers(2, 5))
def test_a_product_of_the_factors_shown_gives_the_result_shown(factors, places):
    """Either the factors as shown multiply to the result as shown within one unit of
    its last digit, or the line is marked ≈ (and the note says why)."""
    display = Display(places)
    values = [sp.Float(sp.Rational(f.numerator, f.denominator), 40) for f in factors]
    exact = sp.Mul(*values)
    line = display.product(values, exact)
    if line.approx:  # the note of a document that shows this line
        assert "≈" in display.note(Used.of_lines([line]))
    else:
        _check_line(line, _product)


def test_the_issue_s_exam_line_adds_up():
    """55.5982 · 0.0177 · 3 = 2.94604 was printed ≈ 2.9460 (the factors give 2.9523):
    now the small factor gets the digits the product needs."""
    a, b = sp.Float("55.59823", 40), sp.Float("0.01766301", 40)
    line = Display(4).product([a, b, sp.Integer(3)], a * b * 3)
    assert not line.approx
    _check_line(line, _product)
    assert line.operands[1] != "0.0177"


def test_an_update_widens_the_small_gradient():
    """Text follows Markdown (before: w1_new = 0.15 - 0.5 · 0.00044 = 0.15 at 2 places)."""
    raw = {"graph": {"L": "w*x"}, "output": "L", "inputs": {"x": 0.00044},
           "parameters": {"w": 0.15}, "learning_rate": 0.5}
    s = sb.load_dict(raw, "small").solve()
    text = render_text(s, 2)
    md = render_markdown(s, places=2)
    assert "w_new = w - η dL/dw = 0.15 - 0.5 · 0.00044 = 0.1498" in text, text
    assert r"0.15 - 0.5 \cdot 0.00044 = 0.1498" in md


# ------------------------------------------------------------- the built-in handouts

_NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def _plain(tex: str) -> str:
    """A displayed side in plain arithmetic: powers of ten as e-notation, \\cdot as *."""
    tex = re.sub(r"(\d(?:\.\d+)?) \\cdot 10\^\{(-?\d+)\}", r"\1e\2", tex)
    tex = tex.replace(r"\left(", "(").replace(r"\right)", ")").replace(r"\cdot", "*")
    return tex.strip()


def _equations(md: str):
    """Each displayed equation of a Markdown document as its list of (relation, side)."""
    for block in re.findall(r"\\begin\{aligned\}(.*?)\\end\{aligned\}", md, re.S):
        equation = None
        for row in block.split("\\\\"):
            row = row.strip()
            if not row:
                continue
            m = re.match(r"^(.*?)&(=|\\approx|\\quad)(.*)$", row, re.S)
            if not m:
                continue
            lhs, relation, rest = m.groups()
            if lhs.strip():
                if equation:
                    yield equation
                equation = []
            if equation is None:
                continue
            if relation == r"\quad":
                equation[-1] = (equation[-1][0], equation[-1][1] + " " + rest)
                continue
            parts = re.split(r" (=|\\approx) ", rest)
            equation.append((relation, parts[0]))
            for k in range(1, len(parts), 2):
                equation.append((parts[k], parts[k + 1]))
        if equation:
            yield equation


def _arithmetic(side: str) -> Fraction | None:
    text = _plain(side)
    if not re.fullmatch(r"[\d.e+\-*() ]+", text) or not re.search(r"\d", text):
        return None
    if not re.search(r"[*+]| - ", text):
        return None  # a bare number: nothing to compute
    try:
        return eval(re.sub(_NUMBER.replace("-?", ""), lambda m: f'F("{m.group(0)}")', text),
                    {"F": Fraction})
    except (SyntaxError, ZeroDivisionError, ValueError):
        return None


def displayed_lines(md: str):
    """(computed from the displayed numbers, the result shown, relation) for every side
    that is arithmetic on displayed numbers followed by a displayed number."""
    for equation in _equations(md):
        for (_, side), (relation, result) in zip(equation, equation[1:], strict=False):
            result = _plain(result)
            if not re.fullmatch(_NUMBER, result):
                continue
            value = _arithmetic(side)
            if value is not None:
                yield value, result, relation, side


HANDOUTS = [(name, places, all_nodes) for name in EXAMPLES
            for places, all_nodes in ((4, False), (2, True))]


@pytest.mark.parametrize(("name", "places", "all_nodes"), HANDOUTS)
def test_every_displayed_product_and_sum_adds_up(name, places, all_nodes):
    """Every product or sum of displayed numbers in a built-in handout gives the
    displayed result within one unit of its last digit, unless written with ≈."""
    md = render_markdown(sb.load(name).solve(), places=places, all_nodes=all_nodes)
    checked = 0
    for value, result, relation, side in displayed_lines(md):
        checked += 1
        if relation == "=":
            assert abs(value - Fraction(result)) <= unit(result), f"{side} = {result}"
    assert checked > 0 or "chains of the" in md  # (large networks: BP1-BP4 only)


# ------------------------------------------------------------------ what is shown

DATA = __import__("pathlib").Path(__file__).parent / "data"


def test_show_gives_the_input_gradients_cs231n_asks_for(cli):
    """CS231n's neuron (w = [2, -3, -3], x = [-1, -2]): dx = [0.3932, -0.5898] as the
    course notes print them; only the asked gradients and their local derivatives."""
    r = cli("solve", "neuron", "--show", "df/dx0,df/dx1")
    assert r.returncode == 0, r.stderr
    backward = r.stdout.split("Backward pass")[1].split("\n\n")[0]
    assert re.search(r"df/dx0 = .*(\n\s+= .*)*= 0.3932\n", backward + "\n")
    assert re.search(r"df/dx1 = .*(\n\s+= .*)*= -0.5898\n", backward + "\n")
    assert "df/dw0" not in backward and "ds0/dw0" not in r.stdout
    md = cli("solve", "neuron", "--show", "df/dx0", "--format", "md").stdout
    assert r"\frac{\partial f}{\partial x_{0}}" in md and r"\partial w_{0}}" not in md


@pytest.mark.parametrize(("keys", "words"), [
    ("dq/dx", "'q' names nothing"), ("s3", "not a gradient of the output"),
    ("ds3/dx0", "not a gradient of the output"), (",", "no claim keys")])
def test_show_bad_keys_are_one_line_errors(cli, keys, words):
    r = cli("solve", "neuron", "--show", keys)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
    assert r.stderr.startswith("error: --show:")


def test_show_on_a_network_keeps_what_the_gradients_need():
    """dL/dW2 needs BP1 and BP4 of layer 2 only: no BP2, no layer-1 BP3/BP4, and the
    element chains and the update of W2 alone."""
    solution = sb.load(DATA / "net-232-tanh-softmax.toml").solve()
    full = render_markdown(solution)
    md = render_markdown(solution, show=[f"W2[{i}][{j}]" for i in range(2) for j in range(3)])
    assert "**BP2" in full and "**BP2" not in md and "**BP3" not in md
    assert md.count("**BP4") == 1 and r"W^{[1]}_{\text{new}}" not in md
    assert r"W^{[2]}_{\text{new}}" in md
    assert len(md) < len(full) / 2


def test_text_takes_all_nodes_and_the_same_numbers_as_markdown():
    """--all-nodes works in text; each gradient's value agrees with sympy.diff."""
    solution = sb.load("net-221").solve()
    text = render_text(solution, all_nodes=True)
    for name in ("h_a", "z_b", "y"):
        assert f"dE/d{name} = " in text
    # dE/dh_a = (y - t) y (1 - y) w5, from the substituted expression
    h = sp.Symbol("h")
    y = 1 / (1 + sp.exp(-(h * sp.Rational(2, 10) + solution.values["h_b"] * sp.Rational(6, 10))))
    e = (y - 1) ** 2 / 2
    truth = sp.N(sp.diff(e, h).subs(h, solution.values["h_a"]), 20)
    assert f"= {float(truth):.4f}\n" in text.split("dE/dh_a = ")[1]


def test_a_fused_softmax_cross_entropy_states_delta_a_minus_y():
    """δ = a − y with the why; its numbers are a2 − y computed here from the values."""
    solution = sb.load("four-pixel").solve()
    md = render_markdown(solution)
    assert "Softmax with cross-entropy: the error is the output minus the target" in md
    assert "the target sums to 1" in md
    line = next(r for r in md.splitlines() if r.startswith(r"\delta^{[2]} &= a^{[2]} - y"))
    shown = re.findall(_NUMBER, line.split(" = ")[-1])
    for k, text in enumerate(shown):
        a, t = solution.values[f"a2[{k}]"], solution.values[f"y[{k}]"]
        assert abs(Fraction(text) - Fraction(str(float(a - t)))) <= unit(text) / 2


def test_one_hot_zeros_are_summarised_not_printed():
    """The terms with y_1 = 0 vanish: said once; no chain shows a 0 · ... path."""
    solution = sb.load(DATA / "net-232-tanh-softmax.toml").solve()
    md = render_markdown(solution)
    assert md.count("The terms with $y_{1} = 0$ vanish") == 1
    chains = md.split("Element by element")[1]
    assert not re.search(r"(&= |\+ )0 \\cdot", chains)
    text = render_text(solution)
    assert text.count("the terms with y[0] = 0 vanish") == 1 and " 0 · " not in text


SOFTMAX_GRAPH = {
    "title": "Softmax in graph form", "output": "L",
    "graph": {"z1": "w11*x1 + w12*x2", "z2": "w21*x1 + w22*x2", "s": "exp(z1) + exp(z2)",
              "a1": "exp(z1) / s", "a2": "exp(z2) / s", "L": "-(y1*log(a1) + y2*log(a2))"},
    "inputs": {"x1": 1, "x2": 0.5, "y1": 0, "y2": 1},
    "parameters": {"w11": 0.2, "w12": -0.4, "w21": 0.7, "w22": 0.1},
}


def test_no_noise_term_in_a_softmax_written_as_a_graph():
    """∂L/∂w21 = 0.6792 − 1 = −0.3208: the second path is exactly −1 (a whole number
    prints as one) and there is no third term of float noise."""
    solution = sb.load_dict(SOFTMAX_GRAPH, "softmax-graph").solve()
    md = render_markdown(solution)
    assert "10^{-" not in md and "e-" not in md
    assert "&= 0.6792 - 1 = -0.3208" in md
    # the independent value: a2 - 1 times x1, softmax from fractions of exp
    e1, e2 = sp.exp(sp.Rational(1, 5) - sp.Rational(2, 10)), sp.exp(sp.Rational(7, 10) + sp.Rational(1, 20))
    assert abs(solution.gradients["w21"] - sp.N(e2 / (e1 + e2) - 1, 30)) < sp.Float("1e-25")
    assert "e-" not in render_text(solution)


def test_a_marked_sheet_summarises_one_hot_zeros_too():
    """The marked sheet's correction of dL/dW1[2][1] printed four paths, two of them
    0 · 0.20543 · ...: it says the terms with y_1 = 0 vanish and shows the other two,
    whose displayed products add up to the result; the value agrees with numpy's
    backpropagation of the same network (tanh, softmax, cross-entropy: δ2 = a2 − y)."""
    import numpy as np

    from symbackprop.render.sheet import report_context

    problem = sb.load(DATA / "net-232-tanh-softmax.toml")
    report = sb.verify(problem, {"dL/dW1[2][1]": "-1.23456"})
    (row,) = report_context(report)["rows"]
    tex = "\n".join(row["correction"])
    assert not re.search(r"(= |\+ )0 \\cdot", tex), tex
    assert row["vanish"] == "y_{1} = 0"
    W1 = np.array([[0.4, -0.3], [0.2, 0.6], [-0.5, 0.1]])
    W2 = np.array([[0.3, -0.6, 0.8], [-0.2, 0.5, 0.7]])
    x, y = np.array([0.5, -1.2]), np.array([0.0, 1.0])
    a1 = np.tanh(W1 @ x + np.array([0.1, -0.2, 0.05]))
    z2 = W2 @ a1 + np.array([0.0, 0.1])
    a2 = np.exp(z2) / np.exp(z2).sum()
    truth = ((W2.T @ (a2 - y)) * (1 - a1 ** 2))[2] * x[1]
    numeric = " ".join(r for r in row["correction"] if r"\cdot" in r)
    terms = [t.replace("&=", "").replace(r"&\quad", "").strip()
             for t in re.split(r"\s\+\s", numeric)]
    shown = sum(_product_tex(t) for t in terms)
    result = re.findall(_NUMBER, row["correction"][-1])[-1]
    assert len(terms) == 2 and abs(shown - Fraction(result)) <= unit(result)
    assert abs(Fraction(result) - Fraction(str(truth))) <= unit(result) / 2


def _product_tex(term: str) -> Fraction:
    out = Fraction(1)
    for factor in term.split(r"\cdot"):
        out *= Fraction(factor.strip().strip("()"))
    return out


def _graph(equations: dict, inputs: dict) -> dict:
    return {"title": "Cancellations", "learning_rate": 0.1, "output": "E",
            "graph": equations, "inputs": inputs, "parameters": {"p": 1.0}}


def test_a_cancellation_is_zero_and_a_true_tiny_value_keeps_its_digits():
    """An unsure tiny value is evaluated again with 200 more digits: a nested root and a
    tanh identity that SymPy does not write as 0 fall with the precision and are 0; the
    Taylor remainder e^h − 1 − h − h²/2 − h³/6 − h⁴/24 at h = 10^-30 (8.3e-153, its
    terms near 1) stays and gets the digits of its series Σ_{k≥5} h^k/k!."""
    s = sb.load_dict(_graph({
        "z": "sqrt(5 + 2*sqrt(u)) - sqrt(v) - sqrt(w)",
        "t": "tanh(x) - (exp(2*x) - 1)/(exp(2*x) + 1)",
        "r": "exp(h) - 1 - h - h**2/2 - h**3/6 - h**4/24",
        "E": "(z + t + r)*p"}, {"u": 6, "v": 2, "w": 3, "x": 0.3, "h": 1e-30})).solve()
    nested = sp.sqrt(5 + 2 * sp.sqrt(6)) - sp.sqrt(2) - sp.sqrt(3)
    x = sp.Rational(3, 10)
    identity = sp.tanh(x) - (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1)
    assert sp.N(nested, 400) == 0 or abs(sp.N(nested, 400)) < sp.Float("1e-390")
    assert abs(sp.N(identity, 400)) < sp.Float("1e-390")
    assert s.values["z"] == 0 and s.values["t"] == 0
    h = sp.Rational(1, 10**30)
    truth = sum(h**k / sp.factorial(k) for k in range(5, 12))  # the series' rest, exact
    assert s.values["r"] != 0
    assert abs(s.values["r"] - truth) <= abs(truth) * sp.Float("1e-25")
    assert abs(s.gradients["p"] - truth) <= abs(truth) * sp.Float("1e-25")
