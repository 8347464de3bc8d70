"""Layout: no generated document has an overfull or underfull box.

Every built-in handout of the gallery, the marked sheet of every seed's claims in
tests/data, and the exam and solutions of every exam family are compiled by pdflatex;
the test reads the TeX log and fails on any ``Overfull \\hbox`` or ``Underfull \\hbox``
warning (a line that runs into the margin, or a paragraph TeX had to stretch).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import symbackprop as sb
from symbackprop import verify
from symbackprop.exam import FAMILIES, make_exam
from symbackprop.exam.document import exam_tex, key_tex, solutions_tex
from symbackprop.examples import EXAMPLES
from symbackprop.render import render_tex
from symbackprop.render.pdf import tex_available
from symbackprop.render.sheet import render_report
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not tex_available() or not shutil.which("pdflatex"),
                       reason="TeX is installed by the README's test command"),
]

DATA = ROOT / "tests" / "data"
#: The problem each claims file of tests/data answers.
SHEETS = {
    "net-221-slides.claims": "net-221",
    "net-322-table.claims": "net-322",
    "mlp-relu-bce-handout.claims": "mlp-relu-bce",
    "net-232-tanh-softmax.claims": str(DATA / "net-232-tanh-softmax.toml"),
}
_BAD_BOX = re.compile(r"^(Overfull|Underfull) \\[hv]box.*$", re.M)


def bad_boxes(tex: str, tmp: Path, name: str) -> list[str]:
    """The over- and underfull box warnings of one pdflatex run over ``tex``."""
    work = tmp / name
    work.mkdir()
    (work / f"{name}.tex").write_text(tex, encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "-draftmode",
                    f"{name}.tex"], cwd=work, capture_output=True, timeout=300,
                   stdin=subprocess.DEVNULL)
    log = (work / f"{name}.log").read_text(errors="replace")
    assert "Output written" in log or "No pages of output" not in log, log[-800:]
    return [f"{name}: {m.group(0)}" for m in _BAD_BOX.finditer(log)]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_gallery_handouts_have_no_bad_boxes(name, tmp_path):
    tex = render_tex(sb.load(name).solve())
    assert bad_boxes(tex, tmp_path, name) == []


def test_the_trimmed_handout_has_no_bad_boxes(tmp_path):
    solution = sb.load(DATA / "net-232-tanh-softmax.toml").solve()
    tex = render_tex(solution, show=["W2[0][0]", "W2[1][2]", "x[0]"])
    assert bad_boxes(tex, tmp_path, "trimmed") == []


@pytest.mark.parametrize("claims", list(SHEETS))
def test_marked_sheets_have_no_bad_boxes(claims, tmp_path):
    report = verify(SHEETS[claims], DATA / claims)
    tex = render_report(report, "tex")
    assert bad_boxes(tex, tmp_path, claims.removesuffix(".claims")) == []


@pytest.mark.parametrize("family", FAMILIES)
def test_exams_have_no_bad_boxes(family, tmp_path):
    exam = make_exam(family, 4, seed=3, jobs=1)
    found = bad_boxes(exam_tex(exam), tmp_path, f"{family}-exam")
    found += bad_boxes(solutions_tex(exam), tmp_path, f"{family}-solutions")
    found += bad_boxes(key_tex(exam), tmp_path, f"{family}-key")
    assert found == []


def test_a_long_title_and_many_questions_have_no_bad_boxes(tmp_path):
    """A title of two lines beside "Paper 1", long exercise titles beside their IDs, and
    an answer key wider than a portrait page (split into blocks of columns)."""
    exam = make_exam(["neuron", "mlp", "net221", "logreg"], 3, seed=5, jobs=1,
                     title="Neural Networks, Midterm Exam, Winter Term 2026/27"
                           " (Backpropagation and Gradient Descent by Hand)")
    found = bad_boxes(exam_tex(exam), tmp_path, "long-exam")
    found += bad_boxes(solutions_tex(exam), tmp_path, "long-solutions")
    found += bad_boxes(key_tex(exam), tmp_path, "long-key")
    assert found == []


def test_show_trims_the_2_3_2_handout(tmp_path):
    """The 17-parameter 2-3-2 tanh/softmax handout: 13 pages when every 0 · ... path of
    the one-hot target was printed; fewer now, and fewer again with --show."""
    from symbackprop.render.pdf import compile_pdf

    solution = sb.load(DATA / "net-232-tanh-softmax.toml").solve()

    def pages(**options) -> int:
        (tmp_path / "h.pdf").write_bytes(compile_pdf(render_tex(solution, **options), "h"))
        info = subprocess.run(["pdfinfo", str(tmp_path / "h.pdf")], capture_output=True,
                              text=True, check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", info).group(1))

    full = pages()
    trimmed = pages(show=[f"W2[{i}][{j}]" for i in range(2) for j in range(3)] + ["b2[0]", "b2[1]"])
    assert full < 13 and trimmed < full * 2 / 3, (full, trimmed)
