"""The document's LaTeX read once and printed for a terminal and for the browser
(symbackprop/render/texmath.py): the spellings a reader relies on, pinned as strings, and
every row of representative built-ins' documents printed without a LaTeX command left
over (text) and as well-formed MathML."""

from __future__ import annotations

import re
from xml.dom import minidom

import pytest

import symbackprop as sb
from symbackprop.render.texmath import MathML, Plain, names_of
from symbackprop.render.worked import worked_solution

NAMES = {"w_{1}": "w1", "h_{2}": "h2", "h_{3}": "h3", "W^{[1]}_{12}": "W1[0][1]"}


@pytest.mark.parametrize(("tex", "text"), [
    (r"\frac{\partial E}{\partial w_{1}}", "dE/dw1"),
    (r"\left.\frac{\partial h_{3}}{\partial w}\right|_{h_{2}}", "dh3/dw|h2"),
    (r"{w_{1}}^{\text{new}}", "w1_new"),
    (r"{w_{1}}^{(2)}", "w1@2"),
    (r"\partial E^{(s)}/\partial w", "dE/dw@s"),
    (r"\frac{\left(y - y_{t}\right)^{2}}{2}", "(y - y_t)^2/2"),
    (r"\sigma\!\left(0.05\right)", "σ(0.05)"),
    (r"3.709 \cdot 10^{-6} + 10^{-8}", "3.709e-6 + 1e-8"),
    (r"\begin{bmatrix} 0.1 & 0.2 \\ 0.3 & 0.4 \end{bmatrix}", "[[0.1, 0.2], [0.3, 0.4]]"),
    (r"\frac{\hat{m}_{w_{1}}}{\sqrt{\hat{v}_{w_{1}}} + \epsilon}", "m̂_w1/(√v̂_w1 + ε)"),
    (r"\frac{\partial L}{\partial W^{[1]}_{12}}", "dL/dW1[0][1]"),
    (r"\underbrace{0.2 \cdot 0.5}_{t = 1}", "0.2 · 0.5 [t = 1]"),
])
def test_plain_spells_each_quantity_by_its_key(tex, text):
    assert Plain(NAMES)(tex) == text


def test_mathml_sets_a_sign_apart_from_a_minus():
    out = MathML()(r"(-0.3844) \cdot 0.2366 - 1")
    assert out.count('<mo form="prefix">\u2212</mo>') == 1 and out.count("\u2212") == 2


@pytest.mark.parametrize("name", ["net-221", "rnn-bptt", "adam-steps", "mlp-relu-bce"])
def test_every_row_of_a_document_prints_in_both_media(name):
    solution = sb.load(name).solve()
    doc = worked_solution(solution)
    plain, mathml = Plain(names_of(solution)), MathML()
    blocks = doc.problem + doc.forward + doc.backward + doc.update + doc.after
    rows = [r for b in blocks for r in b.rows] + [c for b in blocks for row in b.cells
                                                  for c in row]
    assert len(rows) > 10
    for row in rows:
        text = plain(row)
        assert not re.search(r"\\[A-Za-z]", text), (row, text)
        minidom.parseString(f'<math xmlns="http://www.w3.org/1998/Math/MathML">'
                            f"{mathml(row)}</math>")
