"""The worked solution of a network of typed layers, layer by layer: every line that shows
numbers gives the result it shows (re-read here from the document's LaTeX, every digit as
written, with an evaluator of its own), max-pool's routing is where a numpy forward pass
puts each window's maximum, the batch norm's steps follow the textbook formulas, and the
handout stays a few pages. (That every number shown verifies under its claim key is
tests/test_one_meaning.py's check, run on every built-in.)"""

from __future__ import annotations

import re
import subprocess
import tomllib
from decimal import Decimal, localcontext
from fractions import Fraction

import layer_reference as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_layers import image_stacks, sequence_stacks
from test_one_meaning import _holds, _verify_all

import symbackprop as sb
from symbackprop.examples import example_text
from symbackprop.render.document import document_claims
from symbackprop.render.equations import APPROX
from symbackprop.render.worked import worked_solution
from tests.conftest import ROOT

NAMES = ("conv-pool", "batchnorm", "layernorm", "attention")


@pytest.fixture(scope="module")
def docs():
    out = {}
    for name in NAMES:
        solution = sb.load(name).solve()
        out[name] = (solution, worked_solution(solution))
    return out


# ------------------------------------------------------------- reading the LaTeX back

_NUMBER = r"-?\d+(?:\.\d+)?(?: \\cdot 10\^\{-?\d+\})?"


def _number(tex: str) -> Fraction:
    tex = tex.strip()
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?) \\cdot 10\^\{(-?\d+)\}", tex)
    if m:
        return Fraction(m.group(1)) * Fraction(10) ** int(m.group(2))
    return Fraction(tex)


def _unit(tex: str) -> Fraction:
    tex = tex.strip()
    m = re.fullmatch(r"-?\d+(?:\.(\d+))?(?: \\cdot 10\^\{(-?\d+)\})?", tex)
    assert m, tex
    return Fraction(10) ** (int(m.group(2) or 0) - len(m.group(1) or ""))


_MATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}(\^\{\\mathsf\{T\}\})?")


def _matrices(side: str, single: bool = False):
    """A side made only of matrices and the operators between them (juxtaposition is the
    matrix product, \\odot the element-wise one, \\star the cross-correlation): its
    operands as arrays of Fractions and its operators; None for anything else (and for a
    lone matrix, unless ``single``: a term of a sum)."""
    operands, operators, rest = [], [], side.strip()
    scale = re.match(r"\\frac\{1\}\{\\sqrt\{(\d+)\}\}\s*", rest)  # attention's 1/√d
    if scale:
        with localcontext() as ctx:
            ctx.prec = 50
            operands.append(Fraction(1) / Fraction(Decimal(int(scale.group(1))).sqrt()))
        operators.append("scale")
        rest = rest[scale.end():]
    while rest:
        m = _MATRIX.match(rest)
        if not m:
            return None
        cells = [[c.strip() for c in row.split("&")] for row in m.group(1).split(r"\\")]
        if not all(re.fullmatch(_NUMBER, c) for row in cells for c in row):
            return None
        array = np.array([[_number(c) for c in row] for row in cells], dtype=object)
        operands.append(array.T if m.group(2) else array)
        rest = rest[m.end():].strip()
        if rest.startswith(r"\odot"):
            operators.append("odot")
            rest = rest[len(r"\odot"):].strip()
        elif rest.startswith(r"\star"):
            operators.append("star")
            rest = rest[len(r"\star"):].strip()
        elif rest:
            operators.append("matmul")
    return (operands, operators) if len(operands) > (0 if single else 1) + bool(scale) else None


def _terms(side: str):
    """A side that is a sum of such products (``[a] + [U]^T [d] + [h] \\odot [z]``, each
    product first): its terms, each as :func:`_matrices` reads it; None for anything else."""
    parts = side.split(" + ")
    if len(parts) == 1:
        parsed = _matrices(side)
        return None if parsed is None else [parsed]
    terms = [_matrices(part, single=True) for part in parts]
    return None if any(t is None for t in terms) else terms


def _correlate(x, k):
    kh, kw = k.shape
    return np.array([[sum(k[i, j] * x[u + i, v + j] for i in range(kh) for j in range(kw))
                      for v in range(x.shape[1] - kw + 1)] for u in range(x.shape[0] - kh + 1)],
                    dtype=object)


def _apply(operands, operators):
    scale = 1
    if operators and operators[0] == "scale":
        scale, operands, operators = operands[0], operands[1:], operators[1:]
    out = operands[0]
    for op, b in zip(operators, operands[1:], strict=True):
        out = out * b if op == "odot" else _correlate(out, b) if op == "star" else out.dot(b)
    return out * scale


def _split_sides(text: str) -> list[str]:
    """An equation's sides at its top-level = and \\approx (the ≈ kept on its side)."""
    sides, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith(r"\left", i) or text.startswith(r"\begin", i) or text[i] == "{":
            depth += 1
        elif text.startswith(r"\right", i) or text.startswith(r"\end", i) or text[i] == "}":
            depth -= 1
        elif depth == 0 and text.startswith(" = ", i):
            sides.append(text[start:i])
            start = i + 3
        elif depth == 0 and text.startswith(r" \approx ", i):
            sides.append(text[start:i])
            start = i + 1
        i += 1
    sides.append(text[start:])
    return [s.strip() for s in sides]


def _equations(doc) -> list[str]:
    """Every equation of the forward and backward passes as one line of text."""
    out = []
    for block in doc.forward + doc.backward:
        for row in block.rows:
            if row.startswith(r"&\quad "):
                out[-1] += " " + row[len(r"&\quad "):]
            elif row.startswith("&=") or row.startswith(r"&\approx"):
                out[-1] += " " + row[1:]
            elif " &= " in row or r" &\approx " in row:
                out.append(row.replace(" &= ", " = ").replace(r" &\approx ", r" \approx "))
    return out


def _scalar(side: str) -> str:
    """A numeric side as the one-meaning test's evaluator reads it: a number or a closing
    parenthesis before an opening one, or before a root, is a product."""
    text = (side.replace(r"\tfrac", r"\frac").replace(r"\big(", "(").replace(r"\big)", ")")
            .replace(r"\left(", "(").replace(r"\right)", ")"))
    return re.sub(r"([\d)])\s*(\(|\\sqrt)", r"\1 \\cdot \2", text)


@pytest.mark.parametrize("name", NAMES)
def test_every_line_with_numbers_gives_its_result(docs, name):
    """Each side that computes with shown numbers, and the side after it: every element
    within one unit of its last digit (unless the line says ≈)."""
    assert _check_lines(docs[name][1]) >= 5


def _check_lines(doc) -> int:
    checked = 0
    for equation in _equations(doc):
        sides = _split_sides(equation)
        for side, result in zip(sides[1:], sides[2:], strict=False):
            if result.startswith(r"\approx"):
                continue
            parsed = _terms(side)
            shown = _MATRIX.fullmatch(result)
            if parsed is not None and shown is not None:
                got = sum((_apply(*term) for term in parsed[1:]), _apply(*parsed[0]))
                cells = [[c.strip() for c in row.split("&")]
                         for row in shown.group(1).split(r"\\")]
                want = np.array(cells, dtype=object)
                if shown.group(2):
                    want = want.T
                assert got.shape == want.shape, (equation, got.shape, want.shape)
                for index in np.ndindex(*got.shape):
                    assert abs(got[index] - _number(want[index])) <= _unit(want[index]), (
                        equation, index)
                checked += 1
            elif re.fullmatch(_NUMBER, result) and re.search(r"\d", side) and not re.search(
                    r"[a-zA-Z]", _scalar(side).replace(r"\frac", "").replace(r"\sqrt", "")
                    .replace(r"\cdot", "")):
                assert _holds(_scalar(side), result), equation
                checked += 1
    return checked


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(image_stacks(), sequence_stacks()))
def test_random_stacks_get_a_layer_handout_whose_numbers_hold(table):
    """Any kernel, stride, padding, pool, recurrent cell or attention (causal or not):
    the layer-by-layer handout is written, every number it shows verifies under its key,
    and every line with numbers gives its result."""
    solution = sb.load_dict(table).solve()
    doc = worked_solution(solution)
    assert doc.layered
    assert _verify_all(solution, document_claims(doc)) == []
    _check_lines(doc)


LINEAR = """
learning_rate = 0.1
[network]
input = 3
loss = "half_sse"
layers = [{ type = "dense", units = 2 }, { type = "linear" },
          { type = "dropout", p = 0.25, mask = [1, 0] }, { type = "dense", units = 1 }]
[inputs]
x = [0.5, -1.0, 0.8]
y = [1]
[parameters]
W1 = [[0.4, 0.1, -0.3], [-0.2, 0.5, 0.3]]
b1 = [0.1, 0.0]
W4 = [[0.5, -0.4]]
b4 = [0.0]
"""


def test_a_linear_layer_and_dropout_pass_the_gradient(tmp_path):
    """The identity passes ∂L/∂a unchanged; dropout scales the kept element by
    1/(1 − 0.25) and zeroes the dropped one (by sympy-free arithmetic: W4 δ)."""
    path = tmp_path / "lin.toml"
    path.write_text(LINEAR)
    solution = sb.load(str(path)).solve()
    doc = worked_solution(solution)
    claims = dict(document_claims(doc))
    delta = float(solution.values["a4[0]"]) - 1  # half squared error: a − y
    assert float(claims["dL/da4[0]"]) == pytest.approx(delta, abs=1e-4)
    assert float(claims["dL/da2[0]"]) == pytest.approx(0.5 * delta / 0.75, abs=1e-4)
    assert claims["dL/da2[1]"] == "0"
    assert claims["dL/da1[0]"] == claims["dL/da2[0]"]  # the identity
    assert _verify_all(solution, document_claims(doc)) == []
    _check_lines(doc)


def test_a_line_that_does_not_add_up_says_approx():
    """The reader of the test itself: a shown product one unit and a half off is caught."""
    parsed = _matrices(r"\begin{bmatrix} 0.5 \\ 0.25 \end{bmatrix} \odot "
                       r"\begin{bmatrix} 0.3 \\ 0.3 \end{bmatrix}")
    got = _apply(*parsed)
    assert got[0, 0] == Fraction(15, 100) and abs(got[1, 0] - Fraction("0.0765")) > _unit("0.0765")
    assert APPROX.strip() == r"\approx"


def test_max_pool_routing_is_each_windows_first_maximum(docs):
    """The boxed elements (forward) and the routed gradients (backward) sit where a numpy
    forward pass finds each 2×2 window's first maximum."""
    solution, doc = docs["conv-pool"]
    table = tomllib.loads(example_text("conv-pool"))
    _, outputs = ref.forward(table, ref.parameters(table))
    relu = outputs["a2"]
    expected = np.zeros(relu.shape, dtype=bool)
    for c, i, j in np.ndindex(relu.shape[0], relu.shape[1] // 2, relu.shape[2] // 2):
        window = relu[c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        u, v = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
        expected[c, 2 * i + u, 2 * j + v] = True
    boxed = [r for b in doc.forward for r in b.rows if r"\boxed" in r]
    assert boxed, "the forward pass marks each window's maximum"
    marked = []
    for row in boxed:
        for m in _MATRIX.finditer(row):
            marked.append([[r"\boxed" in cell for cell in line.split("&")]
                           for line in m.group(1).split(r"\\")])
    assert np.array_equal(np.array(marked), expected)
    routed = dict(document_claims(doc))
    for index in np.ndindex(*relu.shape):
        key = "dL/da2" + "".join(f"[{i}]" for i in index)
        if not expected[index]:
            assert routed[key] == "0", key
    assert any(routed["dL/da2" + "".join(f"[{i}]" for i in idx)] != "0"
               for idx in zip(*np.nonzero(expected), strict=True))


def test_batch_norm_steps_follow_the_textbook_formulas(docs):
    """∂L/∂σ², ∂L/∂μ and ∂L/∂x of the handout, against the classic formulas evaluated in
    numpy on the reference forward pass's batch and the handout's own ∂L/∂y."""
    solution, doc = docs["batchnorm"]
    claims = dict(document_claims(doc))
    table = tomllib.loads(example_text("batchnorm"))
    _, outputs = ref.forward(table, ref.parameters(table))
    x = outputs["a1"]  # (batch, features): the batch norm's input
    gamma = np.array(table["parameters"]["gamma2"])
    dy = np.array([[float(solution.gradients[f"a2[{s}][{j}]"]) for j in range(2)]
                   for s in range(3)])
    mu, var, eps, n = x.mean(0), x.var(0), 1e-5, x.shape[0]
    dxhat = dy * gamma
    dvar = (dxhat * (x - mu)).sum(0) * -0.5 * (var + eps) ** -1.5
    dmu = -dxhat.sum(0) / np.sqrt(var + eps)
    dx = dxhat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / n + dmu / n
    for j in range(2):
        assert float(claims[f"dL/dvar2[{j}]"]) == pytest.approx(dvar[j], abs=1e-4)
        assert float(claims[f"dL/dmu2[{j}]"]) == pytest.approx(dmu[j], abs=1e-4)
        for s in range(3):
            assert float(claims[f"dL/da1[{s}][{j}]"]) == pytest.approx(dx[s, j], abs=1e-4)


def test_the_conv_pool_handout_is_a_few_pages():
    """The committed handout (tests/test_gallery.py keeps it current): a few pages, with
    the layer-level rules, where the element-by-element one took 37."""
    pdf = ROOT / "output" / "conv-pool" / "conv-pool.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages <= 12
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for phrase in ("rot180", "Max-pool routes", "One number end to end"):
        assert phrase in text


# ------------------------------------------ recurrent layers and causal attention, by rule

RNN = """
learning_rate = 0.1
[network]
input = [3, 2]
loss = "half_sse"
layers = [{ type = "dense", units = 2 }, { type = "rnn", hidden = 2 }, { type = "flatten" },
          { type = "dense", units = 1 }]
[inputs]
x = [[0.5, -0.2], [-0.8, 0.4], [0.3, 0.9]]
y = [2.0]
[parameters]
W1 = [[0.7, -0.1], [0.2, 0.6]]
b1 = [0.1, -0.2]
W2 = [[0.4, -0.3], [0.2, 0.5]]
U2 = [[0.1, -0.4], [0.3, 0.2]]
b2 = [0.05, -0.1]
W4 = [[0.6, -0.2, 0.3, 0.5, -0.4, 0.7]]
b4 = [0.1]
"""

GRU = """
learning_rate = 0.1
[network]
input = [3, 2]
loss = "half_sse"
layers = [{ type = "gru", hidden = 2 }, { type = "flatten" }, { type = "dense", units = 1 }]
[inputs]
x = [[0.5, -0.2], [-0.8, 0.4], [0.3, 0.9]]
y = [1.5]
[parameters]
W1 = [[0.2, 0.1], [0.4, -0.3], [0.1, 0.5], [-0.3, 0.2], [0.6, -0.4], [0.3, 0.7]]
U1 = [[0.1, 0.2], [-0.3, 0.1], [0.2, -0.2], [0.4, 0.1], [-0.1, 0.3], [0.2, 0.5]]
b1 = [0.0, 0.1, -0.1, 0.2, 0.1, 0.3]
W3 = [[0.8, -0.6, 0.5, 0.4, -0.7, 0.9]]
b3 = [0.1]
"""

CAUSAL = example_text("attention").replace('{ type = "attention", d = 2 }',
                                           '{ type = "attention", d = 2, causal = true }')
TABLES = {"rnn-3": RNN, "gru-3": GRU, "causal": CAUSAL}


@pytest.fixture(scope="module")
def rules():
    out = {}
    for name in ("gru-2step", *TABLES):
        table = tomllib.loads(TABLES[name] if name in TABLES else example_text(name))
        solution = sb.load_dict(table).solve()
        out[name] = (table, solution, worked_solution(solution))
    return out


def _shown(doc) -> dict:
    """Each displayed equation's last side, an array of its numbers as written, by its
    left side."""
    out = {}
    for equation in _equations(doc):
        sides = _split_sides(equation)
        m = _MATRIX.fullmatch(sides[-1].removeprefix(r"\approx").strip())
        if m and len(sides) > 1:
            cells = [[c.strip() for c in row.split("&")] for row in m.group(1).split(r"\\")]
            array = np.array(cells, dtype=object)
            out[sides[0]] = array.T if m.group(2) else array
    return out


@pytest.mark.parametrize("name", ["gru-2step", *TABLES])
def test_recurrent_and_causal_rules_hold_line_by_line(rules, name):
    """Every line of the new rules gives its result from the numbers it shows (sums of
    products included), and every number shown verifies under its key."""
    _, solution, doc = rules[name]
    assert _check_lines(doc) >= 8
    assert _verify_all(solution, document_claims(doc)) == []


@pytest.mark.parametrize(("name", "pos", "parts"), [
    ("rnn-3", 2, {"pre": r"\delta_{{{t}}}"}),
    ("gru-3", 1, {"r": r"\delta^{{r}}_{{{t}}}", "z": r"\delta^{{z}}_{{{t}}}",
                  "n": r"\delta^{{n}}_{{{t}}}", "hn": r"\delta^{{hn}}_{{{t}}}"}),
    ("gru-2step", 1, {"z": r"\delta^{{z}}_{{{t}}}", "n": r"\delta^{{n}}_{{{t}}}"})])
def test_each_delta_is_its_pre_activations_gradient(rules, name, pos, parts):
    """δ of each step (and each GRU gate), as shown, against central differences of the
    loss for a nudge of that pre-activation in a numpy forward pass written from PyTorch's
    formulas (tests/layer_reference.py): within one unit of the last digit shown."""
    table, _, doc = rules[name]
    shown = _shown(doc)
    steps = len(table["inputs"]["x"])
    checked = 0
    for part, lhs in parts.items():
        for t in range(steps):
            key = lhs.format(t=t + 1)
            if key not in shown:
                assert part in ("r", "hn") and t == 0, key  # r_1 multiplies h_0 = 0
                continue
            for j, text in enumerate(shown[key].flat):
                want = ref.inner_gradient(table, pos, part, t, j)
                assert abs(float(_number(text)) - want) <= float(_unit(text)) + 1e-6, (
                    key, j, text, want)
                checked += 1
    assert checked >= steps * len(parts) - 2


def test_causal_attention_shows_the_mask_and_a_row_jacobian_over_kept_entries(rules):
    """−∞ above the diagonal in S and exact 0s in P (as a numpy causal forward pass has
    them: step t reads u ≤ t); row 2's Jacobian is 2 × 2 (its unmasked entries); the
    scores' gradients are central differences of the loss for a nudged score, and 0 where
    masked."""
    table, _, doc = rules["causal"]
    rows = [r for b in doc.forward for r in b.rows if r"s^{[1]} = \begin{bmatrix}" in r]
    assert len(rows) == 1
    s_tex, p_tex = _MATRIX.findall(rows[0])[:2]
    mask = [[c.strip() == r"-\infty" for c in row.split("&")] for row in s_tex[0].split(r"\\")]
    assert np.array_equal(np.array(mask), np.triu(np.ones((3, 3), dtype=bool), 1))
    zeros = [[c.strip() == "0" for c in row.split("&")] for row in p_tex[0].split(r"\\")]
    assert np.array_equal(np.array(zeros), np.array(mask))
    jacobian = [e for e in _equations(doc) if r"\partial s^{[1]}_{2}}" in e.split(" = ")[0]]
    assert len(jacobian) == 1
    j = _MATRIX.search(jacobian[0])
    assert len(j.group(1).split(r"\\")) == 2
    packed = [r for b in doc.backward for r in b.rows
              if r.startswith(r"&\frac{\partial L}{\partial s^{[1]}} = ")]
    assert len(packed) == 1
    ds = np.array([[c.strip() for c in row.split("&")]
                   for row in _MATRIX.search(packed[0]).group(1).split(r"\\")], dtype=object)
    for t, u in np.ndindex(3, 3):
        if u > t:
            assert ds[t, u] == "0"
        else:
            want = ref.inner_gradient(table, 1, "s", t, u)
            assert abs(float(_number(ds[t, u])) - want) <= float(_unit(ds[t, u])) + 1e-6, (t, u)


def test_the_html_page_keeps_a_matrix_in_columns(rules):
    """A row of packed arrays (the problem's given x, causal attention's S and P) reaches
    the HTML page's MathML with one cell per column: the row's alignment marks are
    dropped, a matrix's column separators kept (x's first row once read "10.5")."""
    from symbackprop.render.handout import render_html

    _, solution, _ = rules["causal"]
    html = render_html(solution, 4)
    tables = re.findall(r"<mtable>(.*?)</mtable>", html)
    widths = [len(re.findall(r"<mtd>", row)) for t in tables
              for row in re.findall(r"<mtr>(.*?)</mtr>", t)]
    assert widths.count(3) >= 6  # the 3 × 3 S and P, each row in three cells
    assert "<mn>1</mn><mn>0.5</mn>" not in html and "<mn>1</mn></mrow></mtd><mtd>" in html
