"""One name, one number: every number a worked solution shows carries its claim key, and
``verify`` calls each one correct under that key; the keys of one sample of a mini-batch
(``y@s1``) and of a derivative with names held fixed (``dh3/dw|h2``) mean what
docs/claim-keys.md says, checked against ``sympy.diff`` of the substituted expressions;
the sentences about the numbers are decided from them."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symbackprop as sb
from symbackprop.display import Display
from symbackprop.errors import ClaimError
from symbackprop.examples import EXAMPLES
from symbackprop.keys import Kind, parse_key
from symbackprop.render.document import document_claims
from symbackprop.render.shared import terms_sentence, through_time_sentence
from symbackprop.render.worked import worked_solution
from symbackprop.verify.claims import parse_claims
from symbackprop.verify.judge import judge


def _built_ins() -> list[str]:
    return list(EXAMPLES)


def _verify_all(solution, claims) -> list:
    """Judge every (key, shown) pair once per key; the same key shown twice must show
    numbers that both verify."""
    lines, seen = [], set()
    for key, shown in claims:
        if (key, shown) not in seen:
            seen.add((key, shown))
            lines.append((key, shown))
    wrong = []
    for key, shown in lines:  # one claim at a time: a key may be shown at two precisions
        for verdict in judge(solution, parse_claims(f"{key} = {shown}", solution)):
            if verdict.status != "correct":  # an array claim is judged element by element
                wrong.append((key, shown, verdict.status, verdict.note))
    return wrong


@pytest.mark.parametrize("name", _built_ins())
def test_every_number_a_handout_shows_verifies_under_its_key(name):
    solution = sb.load(name).solve()
    claims = document_claims(worked_solution(solution))
    assert claims, "a worked solution shows numbers, so it has claims"
    if solution.problem.network is not None:  # the matrix form claims whole arrays
        assert any(text.startswith("[") for _, text in claims)
    assert _verify_all(solution, claims) == []


def test_the_minibatch_handout_gives_sample_one_its_own_keys():
    solution = sb.load("minibatch").solve()
    claims = dict(document_claims(worked_solution(solution)))
    # sample 1's forward and backward pass, as written out, under @s1 keys
    assert "y@s1" in claims and "dE/dy@s1" in claims and "dE/dw@s1" in claims
    # the batch means under the plain keys, as verify and the exam read them
    assert "dE/dw" in claims and "E" in claims
    assert "y" not in claims  # the mean of y is never shown, so never claimed


def _sample_by_sympy(s: int):
    """Sample s of the built-in minibatch by sympy.diff of its own loss."""
    problem = sb.load("minibatch")
    w, b = sp.symbols("w b")
    x = sp.nsimplify(problem.data["x"][s - 1])
    t = sp.nsimplify(problem.data["t"][s - 1])
    y = 1 / (1 + sp.exp(-(w * x + b)))
    loss = (y - t) ** 2 / 2
    at = {w: sp.nsimplify(problem.graph.leaves["w"].value),
          b: sp.nsimplify(problem.graph.leaves["b"].value)}
    return {"y": y.subs(at), "E": loss.subs(at), "dE/dw": sp.diff(loss, w).subs(at),
            "dE/db": sp.diff(loss, b).subs(at)}


@pytest.mark.parametrize("s", [1, 2])
def test_sample_keys_are_that_samples_numbers(s):
    solution = sb.load("minibatch").solve()
    expected = _sample_by_sympy(s)
    for key, value in expected.items():
        assert float(solution.lookup(f"{key}@s{s}")) == pytest.approx(float(value), rel=1e-12)
    assert float(solution.lookup("dE/dw")) == pytest.approx(
        (float(_sample_by_sympy(1)["dE/dw"]) + float(_sample_by_sympy(2)["dE/dw"])) / 2)


def test_held_key_is_the_immediate_partial_and_plain_key_the_total():
    solution = sb.load("rnn-bptt").solve()
    v = {n: sp.nsimplify(solution.graph.leaves[n].value) for n in solution.graph.leaves}
    w, h2 = sp.symbols("w h2")
    h1 = sp.tanh(w * v["h0"] + v["u"] * v["x1"])
    h2_of_w = sp.tanh(w * h1 + v["u"] * v["x2"])
    h3_held = sp.tanh(w * h2 + v["u"] * v["x3"])  # h2 a symbol of its own: held fixed
    immediate = sp.diff(h3_held, w).subs(h2, h2_of_w.subs(w, v["w"])).subs(w, v["w"])
    total = sp.diff(h3_held.subs(h2, h2_of_w), w).subs(w, v["w"])
    assert float(solution.lookup("dh3/dw|h2")) == pytest.approx(float(immediate), rel=1e-12)
    assert float(solution.lookup("dh3/dw")) == pytest.approx(float(total), rel=1e-12)
    assert abs(float(immediate) - float(total)) > 0.1  # two different numbers, two keys


def test_the_rnn_handout_writes_the_immediate_partial_with_h2_held():
    doc = worked_solution(sb.load("rnn-bptt").solve())
    claims = dict(document_claims(doc))
    assert claims["dh3/dw|h2"] == "0.0073" and "dh3/dw" not in claims
    rows = " ".join(r for b in doc.backward for r in b.rows)
    assert r"\left.\frac{\partial h_{3}}{\partial w}\right|_{h_{2}}" in rows


@pytest.mark.parametrize("text, kind, back", [
    ("y@s1", Kind.SAMPLE, "y@s1"), ("dE/dy @ s2", Kind.SAMPLE, "dE/dy@s2"),
    ("dh3/dw|h2", Kind.PARTIAL, "dh3/dw|h2"), ("dh3/dw|h2@s1", Kind.SAMPLE, "dh3/dw|h2@s1"),
    ("w@2", Kind.AFTER, "w@2"),  # a step stays a step: @ then digits
])
def test_sample_and_held_keys_are_not_steps(text, kind, back):
    key = parse_key(text, {"y", "E", "h3", "h2", "w"})
    assert key.kind == kind and str(key) == back


@pytest.mark.parametrize("text", ["w_new@s1", "m_w@s1", "y|h2", "dh3/dw|w", "dh3/dw|nope",
                                  "y@s0"])
def test_bad_sample_and_held_keys_are_refused(text):
    with pytest.raises(ClaimError):
        parse_key(text, {"y", "h3", "h2", "w"})


def test_a_sample_key_on_a_problem_without_a_batch_says_so(tmp_path):
    solution = sb.load("net-221").solve()
    with pytest.raises(ClaimError, match="mini-batch"):
        solution.lookup("z_a@s1")


def test_the_rnn_sentences_follow_its_numbers():
    solution = sb.load("rnn-bptt").solve()
    doc = worked_solution(solution)
    text = " ".join(b.text for b in doc.backward)
    terms = [solution.gradients[h] * solution.lookup(k) for h, k in
             [("h1", "dh1/dw"), ("h2", "dh2/dw|h1"), ("h3", "dh3/dw|h2")]]
    sizes = [abs(float(t)) for t in terms]
    assert sizes[1] > sizes[0] and sizes[1] > sizes[2]  # t = 2 is the largest
    assert "the term of t = 2 is the largest" in text
    assert "count less and less" not in text.split("shared w is")[1].split("shared u")[0]


@given(st.lists(st.floats(-5, 5, allow_nan=False).filter(lambda f: abs(f) > 1e-6),
                min_size=2, max_size=6))
def test_sentences_about_terms_are_true_of_the_terms(terms):
    labels = [f"t = {i}" for i in range(1, len(terms) + 1)]
    said = terms_sentence(terms, labels, recurrent_=True)
    sizes = [abs(t) for t in terms]
    if "less and less" in said:
        assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    elif "more and more" in said:
        assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)
    elif "largest" in said:
        largest = said.split("term of ")[1].split(" is")[0]
        assert sizes[labels.index(largest)] == max(sizes)


@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=5))
def test_sentence_about_factors_through_time_is_true_of_them(factors):
    said = through_time_sentence(factors)
    if "vanishes" in said:
        assert all(abs(f) < 1 for f in factors)
    elif "explodes" in said:
        assert all(abs(f) > 1 for f in factors)


# ------------------------------------------------------------- displayed arithmetic


def _evaluate_tex(tex: str) -> sp.Expr:
    """A displayed numeric side (LaTeX of numbers, + - \\cdot \\frac \\sqrt ^) as SymPy,
    read independently of the renderer: every digit as written."""
    text = tex.replace(r"\left(", "(").replace(r"\right)", ")").replace(r"\cdot", "*")
    text = re.sub(r"\\underbrace\{(.*?)\}_\{\\text\{[^}]*\}\}", r"(\1)", text)
    for _ in range(4):
        text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", text)
        text = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", text)
        text = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", text)
    text = text.replace("^", "**")
    text = re.sub(r"\)\s*\(", ")*(", text)  # 1/2 (a + b): a product
    assert re.fullmatch(r"[0-9.+\-*/() sqrt]*", text), text
    return sp.sympify(text, rational=True)


def _holds(numeric: str, result: str) -> bool:
    from symbackprop.render.equations import APPROX, shown_number
    if result.startswith(APPROX):
        return True  # written with ≈: not claimed to add up
    shown = shown_number(result)
    value = sp.Rational(shown.split("e")[0]) * (sp.Rational(10) ** int(shown.split("e")[1])
                                                if "e" in shown else 1)
    unit = sp.Rational(10) ** sp.Integer(-len(shown.split(".")[1]) if "." in shown else 0)
    if "e" in shown:
        mantissa, exponent = shown.split("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        unit = sp.Rational(10) ** (int(exponent) - decimals)
    return abs(sp.N(_evaluate_tex(numeric) - value, 60)) <= unit * (1 + sp.Rational(1, 10**20))


OPTIMIZED = """
[graph]
z = "w1*x1 + w2*x2 + b"
y = "sigmoid(z)"
E = "(y - t)**2 / 2"
[inputs]
x1 = {x1}
x2 = -1.0
t = 1
[parameters]
w1 = {w1}
w2 = 0.2
b = 0.1
[optimizer]
name = "{name}"
learning_rate = {lr}
beta1 = {beta1}
momentum = 0.9
weight_decay = {wd}
"""


def _check_optimizer_lines(name, beta1, lr, x1, w1, wd, tmp: Path) -> None:
    from symbackprop.render.optimizer import parameter_equations
    path = tmp / f"{name}.toml"
    path.write_text(OPTIMIZED.format(name=name, beta1=beta1, lr=lr, x1=x1, w1=w1, wd=wd))
    solution = sb.load(str(path)).solve()
    for p in solution.graph.parameters:
        for eq in parameter_equations(solution, p, Display(4)):
            if len(eq.sides) == 3:
                assert _holds(eq.sides[1], eq.sides[2]), (name, p, eq.lhs, eq.sides)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["sgd", "momentum", "nesterov", "rmsprop", "adam"]),
       st.sampled_from([0.1, 0.5, 0.8, 0.9]), st.sampled_from([0.01, 0.1, 0.5]),
       st.integers(-9, 9), st.integers(-9, 9), st.sampled_from([0, 0.01]))
def test_every_optimizer_line_gives_its_result_within_one_unit(name, beta1, lr, x1, w1, wd):
    with tempfile.TemporaryDirectory() as d:
        _check_optimizer_lines(name, beta1, lr, x1 / 10, w1 / 10, wd, Path(d))


def test_the_adam_bias_correction_line_adds_up(tmp_path):
    """(-0.1271)/(1 - 0.8^1) = -0.6353 was 2 units off: m now shows the digits it needs."""
    for x1 in range(-9, 10):
        _check_optimizer_lines("adam", 0.8, 0.1, x1 / 10, 0.5, 0, tmp_path)


# ------------------------------------------------------------- regularisation

REGULARISED = """
learning_rate = 0.5
[graph]
z = "w*x + b"
y = "sigmoid(z)"
E = "(y - t)**2/2 + 0.01*w**2"
[inputs]
x = 1.5
t = 1
[parameters]
w = 0.4
b = -0.1
"""


def test_a_regularisation_term_in_the_loss_is_its_own_labelled_term(tmp_path):
    path = tmp_path / "reg.toml"
    path.write_text(REGULARISED)
    solution = sb.load(str(path)).solve()
    doc = worked_solution(solution)
    rows = " ".join(r for b in doc.backward for r in b.rows)
    text = " ".join(b.text for b in doc.backward)
    assert r"\frac{\partial E}{\partial E}" not in rows  # no circular dE/dE term
    assert r"\text{regularisation}" in rows
    assert "shared weight" not in text and "regularisation term" in text
    # the regulariser's gradient 0.02 w, and the data term through z, by sympy.diff
    w, b = sp.symbols("w b")
    y = 1 / (1 + sp.exp(-(w * sp.Rational(3, 2) + b)))
    at = {w: sp.Rational(2, 5), b: sp.Rational(-1, 10)}
    loss = (y - 1) ** 2 / 2 + sp.Rational(1, 100) * w**2
    assert float(solution.lookup("dE/dw|y")) == pytest.approx(float((sp.Rational(2, 100) * w).subs(at)))
    assert float(solution.lookup("dE/dw")) == pytest.approx(float(sp.diff(loss, w).subs(at)))
    assert _verify_all(solution, document_claims(doc)) == []


def test_a_weight_used_in_several_places_is_still_shared():
    text = " ".join(b.text for b in worked_solution(sb.load("rnn-bptt").solve()).backward)
    assert "w is used 3 times in the network (a shared weight)" in text


def test_weight_decay_is_a_labelled_term_of_g(tmp_path):
    from symbackprop.render.optimizer import parameter_equations
    path = tmp_path / "wd.toml"
    path.write_text(OPTIMIZED.format(name="sgd", beta1=0.9, lr=0.1, x1=0.5, w1=-0.3, wd=0.01))
    solution = sb.load(str(path)).solve()
    first = parameter_equations(solution, "w1", Display(4))[0]
    assert first.lhs == "g" and r"\text{weight decay}" in first.sides[0] + first.sides[1]
    assert r"0.01 \cdot (-0.3)" in first.sides[1]  # a negative factor in parentheses
    assert r"\partial E}{\partial E" not in " ".join(first.sides)


# ------------------------------------------------------------- mini-batch exams

BATCH_EXERCISE = """
title = "A mini-batch of two samples"
output = "E"
learning_rate = 0.5
batch = "all"
[graph]
z = "w*x + b"
y = "sigmoid(z)"
E = "(y - t)**2 / 2"
[parameters]
w = 0.4
b = -0.1
[data]
x = [1.5, -0.5]
t = [1, 0]
[random]
w = "uniform(-1, 1, 0.1)"
[[questions]]
ask = "dE/dw"
[[questions]]
ask = "y"
[[questions]]
ask = "w_new"
[[questions]]
ask = "dE/dw@s2"
"""


def test_batch_exam_solutions_work_each_sample_then_the_mean(tmp_path):
    from symbackprop.exam.exercise import read_exercise
    from symbackprop.exam.generate import make_exam
    from symbackprop.exam.statement import worked_steps
    path = tmp_path / "batch.toml"
    path.write_text(BATCH_EXERCISE)
    exam = make_exam(read_exercise(path), 5, seed=3)
    for variant in exam.variants:
        sol = variant.solution
        for q in variant.questions:
            lines = worked_steps(variant, q)
            joined = "\n".join(lines)
            if q.ask == "dE/dw@s2":
                assert "E^{(2)}" in joined and "E^{(1)}" not in joined
                continue
            assert "E^{(1)}" in joined or "y^{(1)}" in joined, joined
            assert "E^{(2)}" in joined or "y^{(2)}" in joined, joined
            mean = [line for line in lines if r"\frac{1}{2}\left(" in line]
            assert mean, joined
            head, numbers, result = mean[0].split(" = ")[:3]
            assert _holds(numbers, result)
            inside = numbers[len(r"\frac{1}{2}\left("):-len(r"\right)")]
            samples = [float(sol.lookup(f"{q.ask if q.ask != 'w_new' else 'dE/dw'}@s{i}"))
                       for i in (1, 2)]
            assert _evaluate_tex(inside) == pytest.approx(sum(samples), abs=1e-4)


# ------------------------------------------------------------- exam solutions

def _shipped_exercises():
    from symbackprop.exam import FAMILIES
    folder = Path(sb.__file__).parent / "examples" / "exercises"
    return list(FAMILIES) + sorted(str(p) for p in folder.glob("*.toml"))


@pytest.mark.parametrize("ref", _shipped_exercises(), ids=lambda r: Path(r).stem)
def test_every_keyed_number_of_an_exam_solution_verifies(ref):
    """Each line of a worked exam solution that ends in a number names it by a claim key;
    verify accepts that number under that key, on the variant's own problem."""
    from symbackprop.exam import make_exam, read_exercise
    from symbackprop.exam.statement import worked_steps
    from symbackprop.render.equations import shown_number
    checked = 0
    for variant in make_exam(read_exercise(ref), 3, seed=11).variants:
        sol = variant.solution
        for q in variant.questions:
            lines = worked_steps(variant, q)
            assert parse_key(lines[-1].key, sol.key_names) == \
                parse_key(q.ask, sol.key_names), (q.ask, lines[-1])
            for line in lines:
                key = getattr(line, "key", None)
                if key is None:
                    continue
                last = re.split(r"(?:^|\s)(?:=|\\approx)\s", line)[-1]
                number = shown_number(last)
                assert number is not None, line
                verdict, = judge(sol, parse_claims(f"{key} = {number}", sol))
                assert verdict.status == "correct", (variant.id, key, number, verdict.note, line)
                checked += 1
    assert checked > 0


# ------------------------------------------------------------- the loss's trend

DEAD_RELU = """
learning_rate = 0.1
[graph]
z = "w*x"
y = "relu(z)"
E = "(y - t)**2/2"
[inputs]
x = 1.0
t = 0.5
[parameters]
w = -0.3
"""


def test_the_sentence_on_the_loss_follows_its_numbers(tmp_path):
    from symbackprop.render import render_markdown
    path = tmp_path / "dead.toml"
    path.write_text(DEAD_RELU)
    dead = sb.load(str(path)).solve()
    assert dead.values_after["E"] == dead.values["E"]  # relu at z < 0: no gradient, no step
    text = render_markdown(dead)
    assert "did not change" in text and "went down" not in text and "overshot" not in text
    net = sb.load("net-221").solve()
    assert float(net.values_after["E"]) < float(net.values["E"])
    assert "The loss went down" in render_markdown(net)


def test_the_text_names_optimizer_state_by_its_key_and_eps_as_a_power():
    from symbackprop.render.text import render_text
    text = render_text(sb.load("adam-steps").solve())
    assert "ε = 1e-8" in text and "0.00000001" not in text
    assert "\n  m_b = " in text and "\n  m = " not in text


def test_the_text_writes_the_immediate_partial_with_its_held_name():
    from symbackprop.render.text import render_text
    text = render_text(sb.load("rnn-bptt").solve())
    assert "dh3/dw|h2 = h2 (1 - h3^2) = 0.0119 · (1 - 0.6213^2) = 0.0073" in text
    assert "dh3/dw = " not in text
