"""Worked solutions: real PDFs read back with pdftotext, Markdown, files and directories.

The numbers are checked against the lectures (tests/test_seeds.py says which of the
seeds' numbers are right to their digits) and against the solution itself; the PDFs are
compiled by a real TeX engine, a handful of them in parallel.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp

import symbackprop as sb
from symbackprop.examples import EXAMPLES
from symbackprop.numbers import format_number
from symbackprop.render import render_format, render_markdown, render_tex
from symbackprop.render.pdf import TexError, compile_many, compile_pdf, tex_available
from tests.conftest import ROOT, run_cli
from tests.test_seeds import NET_221

needs_tex = pytest.mark.skipif(not tex_available() or not shutil.which("pdftotext"),
                               reason="TeX and pdftotext are installed by the README's test command")

HOSTILE = r"\input{/etc/passwd} \write18{touch MARKER} 100% $5 #1 _x_"


def pdf_text(data: bytes, tmp: Path, name: str) -> str:
    """The text of a PDF, with TeX's math minus read as '-' and runs of space as one."""
    path = tmp / f"{name}.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return re.sub(r"[ \t]+", " ", text.replace("\u2212", "-"))


def hostile_problem(directory: Path) -> Path:
    path = directory / "hostile.toml"
    title = HOSTILE.replace("\\", "\\\\")
    path.write_text(f'title = "{title}"\n[graph]\nq = "x + y"\nf = "q*z"\n'
                    "[inputs]\nx = -2\ny = 5\n[parameters]\nz = -4\n", encoding="utf-8")
    return path


class Handouts(dict):
    """name -> (solution, the text of its compiled handout), each compiled once, when a
    test first asks for it (the quick run compiles net-221's alone)."""

    def __init__(self, tmp: Path):
        super().__init__()
        self.tmp = tmp

    def __missing__(self, name: str):
        if name == "mlp-staged":
            solution = sb.load("mlp-relu-bce", stage_gates=True).solve()
        else:
            solution = sb.load(name).solve()
        (pdf,) = compile_many([(name, render_tex(solution))])
        self[name] = (solution, pdf_text(pdf, self.tmp, name))
        return self[name]


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    return Handouts(tmp_path_factory.mktemp("pdf"))


def shown(value, places=4) -> str:
    return format_number(value, places)


# ------------------------------------------------------------------- the 2-2-1 network


@needs_tex
def test_net_221_shows_the_lectures_numbers_where_they_are_right(texts):
    solution, text = texts["net-221"]
    for key, (printed, right) in NET_221.items():
        ours = shown(solution.lookup(key))
        assert ours in text, key
        if right:
            assert float(ours) == float(printed), key  # the lecture's own digits
    # The lecture's slips are not repeated (it truncates h_a = 0.58686 to 0.5868).
    assert "0.5868" not in text and "-0.0533" not in text
    for needle in ("0.0739", "-0.3844", "0.1007", "0.2374", "0.0698"):
        assert needle in text


@needs_tex
def test_net_221_gradients_are_written_as_chains_with_numbers(texts):
    solution, text = texts["net-221"]
    flat = re.sub(r"\s+", " ", text)
    # dE/dw5 = dE/dy dy/dz_c dz_c/dw5 = (-0.3844) . 0.2366 . 0.5869 = -0.0534
    assert re.search(r"\(-0\.3844\) · 0\.2366 · 0\.5869 = -0\.0534", flat)
    assert re.search(r"\(-0\.3844\) · 0\.2366 · 0\.2 · 0\.2425 · 0\.23 = -0\.0010", flat)
    # the update in eta form, and the second forward pass says the error went down
    assert re.search(r"0\.1 - 0\.7 · \(-0\.0010\) = 0\.1007", flat)
    assert "The loss went down" in flat and "fell from 0.0739 to 0.0698" in flat
    # each local derivative explained once, with its formula in numbers
    assert flat.count("0.6156 · (1 - 0.6156) = 0.2366") == 1
    assert "rounded for display to 4 decimals" in flat


@needs_tex
def test_net_221_gate_notes_once_per_kind(texts):
    _, text = texts["net-221"]
    for gate in ("add gate", "mul gate", "sigmoid gate"):
        assert text.count(gate) == 1, gate
    assert "distributes" in text and "swaps" in text


# ------------------------------------------------------------------- the sigmoid neuron


@pytest.mark.slow
@needs_tex
def test_sigmoid_neuron_shows_its_gate_values(texts):
    solution, text = texts["neuron"]
    for needle in ("0.7311", "0.3679", "1.3679", "-0.5344", "-0.1966", "-0.3932", "0.1966"):
        assert needle in text, needle
    assert shown(solution.values["f"], 2) == "0.73"
    assert shown(solution.gradients["s6"], 2) == "-0.53"  # (1)(-0.53) through the 1/x gate
    assert "reciprocal gate" in text and "exp gate" in text


# ------------------------------------------------------------------- the L6 handout's MLP


@pytest.mark.slow
@needs_tex
def test_mlp_in_matrix_form_shows_its_gradients_and_updated_b2(texts):
    solution, text = texts["mlp-relu-bce"]
    # the L6 handout has sigma(1.38) = 0.7986 and carries it; the right value is 0.7990
    assert "0.7990" in text and "0.7986" not in text
    dW2 = solution.lookup("dL/dW2")[0]
    assert [shown(v) for v in dW2] == ["-0.1206", "-0.2613"]  # seed: -0.1210, -0.2621
    assert re.search(r"-0\.1206\s+-0\.2613", text)
    assert shown(solution.lookup("b2_new")[0]) == "0.3201"  # seed: 0.32016 from -0.2016
    assert "0.3201" in text
    for label in ("BP1", "BP2", "BP3", "BP4"):
        assert label in text
    assert "(1 × 2) = (1 × 1) (1 × 2)" in text  # the shapes of BP4 for W2


# ------------------------------------------------------------------- --stage


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_built_in_renders_staged(name):
    """--stage splits a network's layers into generated gates: the handout is then a
    graph-form document of those gates, not BP1-BP4 over edges that no longer exist."""
    solution = sb.load(name, stage_gates=True).solve()
    tex, md = render_tex(solution), render_markdown(solution)
    assert r"\end{document}" in tex and "## Backward pass" in md
    if solution.problem.network is not None:
        assert "BP1" not in tex and "BP1" not in md
        assert "one equation per node" in tex and "one equation per node" in md


def test_stage_cli_on_a_network(tmp_path):
    result = run_cli("solve", "mlp-relu-bce", "--stage", "--format", "md")
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr
    assert r"\frac{\partial L}{\partial W^{[2]}_{11}}" in result.stdout


@pytest.mark.slow
@needs_tex
def test_staged_network_compiles(texts):
    solution, text = texts["mlp-staged"]
    # the update of an element of W^{[1]} (a name with a superscript) sets in TeX
    assert "new" in text and shown(solution.updated["b2[0]"]) in text
    assert "-0.2010" in text  # dL/db2, the same number as in matrix form


# ------------------------------------------------------------------- hostile text


@needs_tex
def test_hostile_title_appears_literally_and_nothing_runs(tmp_path):
    problem = hostile_problem(tmp_path)
    run = run_cli("solve", problem, "--format", "pdf,tex,md", "-o", "out", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = pdf_text((tmp_path / "out" / "hostile.pdf").read_bytes(), tmp_path, "read")
    assert HOSTILE in re.sub(r"\s+", " ", text)
    assert "root:" not in text  # /etc/passwd was not read
    assert not (tmp_path / "MARKER").exists() and not (tmp_path / "out" / "MARKER").exists()
    md = (tmp_path / "out" / "hostile.md").read_text()
    assert md.startswith("# " + r"\\input\{/etc/passwd\} \\write18\{touch MARKER\} 100% \$5 #1 \_x\_")


def test_markdown_escapes_title():
    problem = sb.load_dict({"title": "<script>alert(1)</script> $x$ *b*",
                            "graph": {"f": "x*y"}, "inputs": {"x": 1, "y": 2}})
    md = render_markdown(problem.solve())
    assert "<script>" not in md and r"\$x\$" in md and r"\*b\*" in md


# ------------------------------------------------------------------- PDF errors


def test_pdf_without_tex_names_the_debian_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no latexmk, no pdflatex
    run = run_cli("solve", "net-221", "--format", "pdf", "-o", "out", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("error:") and "Traceback" not in run.stderr
    assert "texlive-latex-base" in run.stderr and "latexmk" in run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@needs_tex
def test_tex_error_quotes_the_log_lines_not_the_log():
    source = "\\documentclass{article}\n\\begin{document}\nfine\n\\nosuchcommand\n\\end{document}\n"
    with pytest.raises(TexError) as info:
        compile_pdf(source, "broken")
    message = str(info.value)
    assert "Undefined control sequence" in message and "l.4" in message
    assert len(message) < 600


# ------------------------------------------------------------------- Markdown, Jupyter


def test_md_alone_goes_to_stdout_and_writes_nothing(tmp_path):
    run = run_cli("solve", "net-221", "--format", "md", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# A 2-2-1 sigmoid network\n")
    assert "$$\n\\begin{aligned}" in run.stdout and "-0.0534" in run.stdout
    assert list(tmp_path.iterdir()) == []


def test_markdown_has_the_same_content_as_the_tex():
    solution = sb.load("net-322").solve()
    md, tex = render_markdown(solution), render_tex(solution)
    rows = [r for r in re.findall(r"^(.*&=.*?)(?: \\\\)?$", tex, re.M)]
    assert rows and all(r in md for r in rows)
    assert md.count("$$") % 2 == 0


def test_solution_renders_itself_in_a_notebook():
    solution = sb.load("chain-xyz").solve()
    assert solution._repr_markdown_() == render_format(solution, "md")
    assert "## Backward pass" in solution._repr_markdown_()


# ------------------------------------------------------------------- files


def test_default_directory_and_o(tmp_path):
    run = run_cli("solve", "net-221", "--format", "tex", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    tex = (tmp_path / "output" / "net-221" / "net-221.tex").read_text()
    assert tex.startswith("\\documentclass") and tex.endswith("\\end{document}\n")
    run = run_cli("solve", "net-221", "--format", "tex,md", "-o", "x/y", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "x" / "y").iterdir()) == ["net-221.md", "net-221.tex"]


def test_only_the_formats_asked_for_are_written(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "net-221.md").write_text("my notes\n")
    (out / "net-221.pdf").write_bytes(b"not a pdf")
    (out / "other.txt").write_text("keep\n")
    run = run_cli("solve", "net-221", "--format", "tex", "-o", out, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (out / "net-221.md").read_text() == "my notes\n"
    assert (out / "net-221.pdf").read_bytes() == b"not a pdf"
    assert (out / "other.txt").read_text() == "keep\n"
    assert sorted(p.name for p in out.iterdir()) == [
        "net-221.md", "net-221.pdf", "net-221.tex", "other.txt"]


def test_bad_format_changes_nothing(tmp_path):
    run = run_cli("solve", "net-221", "--format", "tex,docx", "-o", "out", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.startswith("error:")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------- large problems


@pytest.mark.parametrize("name", ["autoencoder-838", "four-pixel"])
def test_large_networks_stay_short(name):
    tex = render_tex(sb.load(name).solve())
    assert "BP4" in tex and "left out" in tex  # matrix form; element chains summarized
    assert tex.count(r"\begin{align*}") < 40 and len(tex) < 60_000


@pytest.mark.parametrize("name", ["net-322", "four-pixel", "net-221"])
def test_the_figure_stays_where_it_is_written(name):
    """Not a float: a float that does not fit goes to the top of the next page and
    splits the first chain ('h' float specifier changed to 'ht')."""
    tex = render_tex(sb.load(name).solve())
    assert r"\begin{figure}" not in tex and r"\begin{minipage}{\linewidth}" in tex
    assert tex.index("tikzpicture") < tex.index(r"\section*{Forward pass}")


@pytest.mark.parametrize("name, layered", [("autoencoder-838", True), ("four-pixel", True),
                                           ("net-221", False), ("mlp-relu-bce", False)])
def test_the_figure_caption_says_what_the_figure_shows(name, layered):
    tex = render_tex(sb.load(name).solve())
    gate_caption = "above the edges" in tex
    assert gate_caption is not layered  # the layer diagram has no values on its edges
    assert ("the network layer by layer" in tex) is layered


def test_all_nodes_adds_the_chain_of_every_node():
    solution = sb.load("net-221").solve()
    some, every = render_tex(solution), render_tex(solution, all_nodes=True)
    assert r"\frac{\partial E}{\partial h_{a}} &=" not in some
    assert r"\frac{\partial E}{\partial h_{a}} &=" in every


def test_a_chain_of_one_factor_is_written_once():
    md = render_markdown(sb.load("chain-xyz").solve())
    assert md.count(r"\frac{\partial f}{\partial z} &=") == 1
    assert r"\frac{\partial f}{\partial z} &= s_{0} = 3" in md
    md = render_markdown(sb.load("net-221").solve(), all_nodes=True)
    assert md.count(r"\frac{\partial E}{\partial y} &=") == 1
    assert r"\frac{\partial E}{\partial y} &= y - y_{t} = 0.6156 - 1 = -0.3844" in md


def test_an_exact_short_decimal_prints_as_itself():
    """four-pixel's z1[6] is -0.03 (float noise in the 40th digit): -0.03 among the
    other 2-decimal entries, not -0.0300; tanh of it, -0.029991, still shows 4 decimals."""
    from symbackprop.display import Display

    number = Display().tex
    solution = sb.load("four-pixel").solve()
    z1 = [number(solution.values[n], 4) for n in solution.graph.groups["z1"].names()]
    assert z1 == ["0.99", "1.22", "-0.17", "-0.08", "2.68", "0.88", "-0.03", "1.18"]
    assert number(solution.values["a1[6]"], 4) == "-0.0300"
    md = render_markdown(solution)
    assert r"2.68 & 0.88 & -0.03 & 1.18 \end{bmatrix}" in md
    # an exact value is left as it is: net-221's z_a = 0.351 under --exact
    assert number(sp.Rational(351, 1000), 4) == "0.351"


def test_places_changes_the_rounding():
    md = render_markdown(sb.load("net-221").solve(), places=2)
    assert "-0.05" in md and "-0.0534" not in md and "to 2 decimals" in md


def test_an_update_that_rounding_would_hide_shows_more_decimals():
    """net-322's w1 moves from 0.1 to 0.09998: not written 0.1000 as if it had not moved,
    and its small gradient keeps its significant digits (0.001984, not 0.0020)."""
    md = render_markdown(sb.load("net-322").solve())
    assert r"= 0.1 - 0.01 \cdot 0.001984 = 0.09998 \\" in md
    assert r"= 0.2 - 0.01 \cdot 0.0004043 = 0.199996 \\" in md
    assert r"= 0.3 - 0.01 \cdot 0.0079 = 0.2999 \\" in md  # visible: as before
    assert r"1 \cdot 0.09998 + 4 \cdot 0.2999" in md  # the second pass uses the same
    assert "as many more decimals as make the change visible (up to 8)" in md
    # The lecture's 4-decimal style stays where the change shows (net-221's w1).
    md = render_markdown(sb.load("net-221").solve())
    assert r"0.1 - 0.7 \cdot (-0.0010) = 0.1007" in md
    assert "more decimals" not in md


def test_a_loss_change_that_rounding_would_hide_shows_more_decimals():
    import tomllib

    raw = tomllib.loads((ROOT / "symbackprop/examples/mlp-relu-bce.toml").read_text())
    raw["learning_rate"] = 0.0001
    md = render_markdown(sb.load_dict(raw, "small-step").solve())
    assert r"\begin{bmatrix} 0.50001 & 0.60003 \end{bmatrix}" in md  # W2 in matrix form
    assert "fell from $0.22441$ to $0.22438$ (by $0.00002711$" in md
    assert r"L_{\text{new}} &= 0.22438" in md


def test_a_saturated_value_is_not_shown_as_a_bare_one():
    """After logistic regression's update ŷ = σ(125.05) rounds to 1; the handout writes
    1 - δ so that log(1 - ŷ) does not read as log 0. δ from mpmath, not the engine."""
    import mpmath

    tail = mpmath.exp(-mpmath.mpf("125.05"))
    gap = tail / (1 + tail)  # 1 - σ(z), in the form that does not cancel
    mantissa, exponent = f"{float(gap):.3e}".split("e")
    tex = render_tex(sb.load("logreg").solve())
    assert rf"= 1 - {mantissa} \cdot 10^{{{int(exponent)}}}" in tex
    assert rf"\log\!\left(1 - {mantissa}" in tex  # ŷ itself, without doubled brackets


def test_all_nodes_shows_the_input_gradients_too():
    """CS231n's neuron asks for df/dx0 and df/dx1; the problem has parameters, and
    --all-nodes showed every node and parameter but no input. Independent value:
    sympy.diff of the neuron 1/(1 + e^-(w0 x0 + w1 x1 + w2)) at its point."""
    import sympy as sp

    from symbackprop.render.text import render_text

    solution = sb.load("neuron").solve()
    x0, x1, w0, w1, w2 = sp.symbols("x0 x1 w0 w1 w2")
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    point = {x0: -1, x1: -2, w0: 2, w1: -3, w2: -3}
    text = render_text(solution, all_nodes=True)
    md = render_markdown(solution, all_nodes=True)
    for x in (x0, x1):
        truth = float(sp.diff(f, x).subs(point))
        assert f"df/d{x} = " in text
        assert f"= {truth:.4f}\n" in (text.split(f"df/d{x} = ")[1].split("\n  d")[0] + "\n")
        assert rf"\frac{{\partial f}}{{\partial x_{{{str(x)[1]}}}}} &=" in md
    assert "df/dx0 = " not in render_text(solution)  # without it, the parameters alone
