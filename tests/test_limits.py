"""Every size limit is refused with exit 2 and one ``error:`` line, before the work, and
hostile values that crashed (exit 70) are located errors or right answers.

The limits themselves (symbackprop/limits.py) are stated, with the time and memory at
each, in docs/limits.md.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import symbackprop as sb
from symbackprop import limits
from symbackprop.errors import SymbackpropError
from tests.conftest import run_cli


def one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def chain_text(n: int, function: str = "sigmoid") -> str:
    lines, previous = ["[graph]"], "x"
    for i in range(n):
        lines.append(f'z{i} = "{function}({previous}*w)"')
        previous = f"z{i}"
    return "\n".join(lines + ["[inputs]", "x = 0.5", "[parameters]", "w = 0.9", ""])


def network_text(layers: list[int]) -> str:
    acts = ["sigmoid"] * (len(layers) - 1)
    lines = [f"[network]\nlayers = {layers}\nactivations = {acts}\nloss = \"mse\"", "[parameters]"]
    for i, (a, b) in enumerate(zip(layers, layers[1:], strict=False), start=1):
        lines.append(f"W{i} = {[[0.1] * a for _ in range(b)]}\nb{i} = {[0.0] * b}")
    lines.append(f"[inputs]\nx = {[0.5] * layers[0]}\ny = {[0.5] * layers[-1]}")
    return "\n".join(lines) + "\n"


def test_elements_beyond_the_limit_are_refused_before_reading_them(tmp_path):
    zeros = ", ".join(["0"] * (limits.MAX_ELEMENTS + 1))
    path = tmp_path / "big.toml"
    path.write_text(f'[graph]\nf = "w*x"\n[inputs]\nx = 1\nunused = [{zeros}]\n'
                    "[parameters]\nw = 2\n")
    start = time.monotonic()
    result = run_cli("solve", path)
    line = one_error_line(result)
    assert "[inputs] unused" in line and str(limits.MAX_ELEMENTS) in line
    assert time.monotonic() - start < 60


def test_a_network_beyond_the_limit_is_refused(tmp_path):
    path = tmp_path / "wide.toml"
    path.write_text(network_text([300, 300, 1]))
    line = one_error_line(run_cli("solve", path))
    assert "[network] layers" in line and "weights and biases" in line


def test_a_network_beyond_the_worked_solution_limit_is_refused_by_solve_and_verify(tmp_path):
    path = tmp_path / "wide.toml"
    path.write_text(network_text([50, 50, 1]))  # 2,601 weights and biases
    claims = tmp_path / "c.txt"
    claims.write_text("L = 0.1\n")
    for command in (["solve", path], ["verify", path, claims]):
        line = one_error_line(run_cli(*command))
        assert "[network] layers" in line and "worked solution" in line


def test_claims_beyond_the_limit_are_refused(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("dE/dw5 = -0.0534\n" * (limits.MAX_CLAIMS + 1))
    line = one_error_line(run_cli("verify", "net-221", path))
    assert str(limits.MAX_CLAIMS) in line


def test_exact_on_deeply_nested_functions_is_refused(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(chain_text(limits.MAX_EXACT_DEPTH + 2))
    line = one_error_line(run_cli("solve", path, "--exact"))
    assert "--exact" in line and f"z{limits.MAX_EXACT_DEPTH}" in line


@pytest.mark.slow
def test_exact_at_the_nesting_limit_is_solved(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(chain_text(limits.MAX_EXACT_DEPTH))
    assert run_cli("solve", path, "--exact", "--format", "json").returncode == 0


def test_exact_on_powers_of_powers_is_refused_not_an_internal_error(tmp_path):
    path = tmp_path / "p64.toml"
    path.write_text('[graph]\na = "x**64"\nb = "a**64"\nc = "b**64"\n[inputs]\nx = 1.001\n')
    line = one_error_line(run_cli("solve", path, "--exact"))
    assert "--exact" in line and "digits" in line


def test_jobs_are_capped_at_the_cores():
    assert limits.capped_jobs(1000) == limits.cores()
    assert limits.capped_jobs(None) == limits.cores()
    assert limits.capped_jobs(1) == 1


def test_epochs_beyond_the_limit_are_refused_at_once():
    start = time.monotonic()
    line = one_error_line(run_cli("train", "net-221", "--epochs", "1000000000"))
    assert "--epochs" in line and str(limits.MAX_EPOCHS) in line
    assert time.monotonic() - start < 60


def test_training_a_graph_beyond_the_equation_limit_is_refused(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(chain_text(limits.MAX_TRAIN_EQUATIONS + 1, function=""))
    line = one_error_line(run_cli("train", path, "--epochs", "1"))
    assert str(limits.MAX_TRAIN_EQUATIONS) in line


# --- values that crashed -------------------------------------------------------------

FAR_TAIL = '[graph]\nf = "sigmoid(x)*w"\n[inputs]\nx = -1e30\n[parameters]\nw = 2\n'


@pytest.mark.parametrize("command", [["solve", "{p}"], ["solve", "{p}", "--format", "tex", "-o", "{o}"],
                                     ["verify", "{p}", "{c}"]])
def test_a_value_far_out_on_a_sigmoid_tail_is_a_located_error(tmp_path, command):
    problem, claims = tmp_path / "tail.toml", tmp_path / "c.txt"
    problem.write_text(FAR_TAIL)
    claims.write_text("df/dw = 0\n")
    args = [a.format(p=problem, c=claims, o=tmp_path / "out") for a in command]
    line = one_error_line(run_cli(*args))
    assert "[graph] f" in line and "cannot be written down" in line


def test_a_loss_given_as_a_list_is_a_located_error(tmp_path):
    path = tmp_path / "loss.toml"
    path.write_text(network_text([1, 1]).replace('loss = "mse"', 'loss = ["bce"]'))
    assert "[network] loss" in one_error_line(run_cli("solve", path))


# --- names --------------------------------------------------------------------------


def test_two_spellings_of_one_element_are_an_error(tmp_path):
    path = tmp_path / "alias.toml"
    path.write_text('[graph]\n"z[00]" = "x*2"\n"z[0]" = "x*3"\nf = "z[0] + z[00]*2"\n'
                    "[inputs]\nx = 1\n")
    line = one_error_line(run_cli("solve", path))
    assert "z[00]" in line and "z[0]" in line


@pytest.mark.parametrize("letter", ["\U0001d431", "\uff58"])  # mathematical bold x, full-width x
def test_look_alike_letters_are_refused(tmp_path, letter):
    path = tmp_path / "look.toml"
    path.write_text(f'[graph]\nf = "{letter} * w"\n[inputs]\nx = 1\n[parameters]\nw = 2\n',
                    encoding="utf-8")
    line = one_error_line(run_cli("solve", path))
    assert "[graph] f" in line and "read as 'x'" in line


@pytest.mark.parametrize("name", ["r" + "_hat" * 300, "a" * 3000])
def test_very_long_names_are_refused_at_load(tmp_path, name):
    path = tmp_path / "long.toml"
    path.write_text(f'[graph]\n{name} = "w*x"\n[inputs]\nx = 1\n[parameters]\nw = 2\n')
    assert "at most" in one_error_line(run_cli("solve", path))


def test_data_naming_a_parameter_says_so(tmp_path):
    path = tmp_path / "data.toml"
    path.write_text('[graph]\nf = "x * w"\n[inputs]\nx = 1\n[parameters]\nw = 2\n[data]\nw = [1, 2]\n')
    line = one_error_line(run_cli("solve", path))
    assert "[data] w" in line and "parameter" in line and "twice" not in line


def test_a_control_character_in_a_key_is_quoted_in_one_line(tmp_path):
    path = tmp_path / "esc.toml"
    path.write_text('[graph]\n"a\\nb\\u001b[31m" = "x"\n[inputs]\nx = 1\n')
    line = one_error_line(run_cli("solve", path))
    assert "\x1b" not in line and "\\x1b" in line and "\\n" in line


def test_a_title_with_control_characters_is_quoted_in_text_output(tmp_path):
    path = tmp_path / "title.toml"
    path.write_text('title = "ring\\u0007 \\u001b[2J"\n[graph]\nf = "w*x"\n[inputs]\nx = 1\n'
                    "[parameters]\nw = 2\n")
    result = run_cli("solve", path)
    assert result.returncode == 0
    assert "\x07" not in result.stdout and "\x1b" not in result.stdout
    assert "ring\\x07 \\x1b[2J" in result.stdout


# --- claims -------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["-\u0660\u066b\u0660\u0665\u0663\u0664",  # Arabic-Indic
                                     "\uff0d\uff10\uff0e\uff10\uff15\uff13\uff14"])  # full width
def test_digits_of_other_scripts_are_read_and_printed_as_ascii(tmp_path, written):
    claims = tmp_path / "c.txt"
    claims.write_text(f"dE/dw5 = {written}\n", encoding="utf-8")
    result = run_cli("verify", "net-221", claims)
    assert result.returncode == 0, result.stderr
    assert "-0.0534" in result.stdout and written not in result.stdout


# --- the Python API -----------------------------------------------------------------


def test_load_dict_accepts_numpy_numbers():
    table = {"graph": {"f": "w*x + v[0]*v[1]"}, "inputs": {"x": np.float64(1.5)},
             "parameters": {"w": np.float32(0.1), "v": np.array([2, 3])}}
    solution = sb.load_dict(table).solve()
    assert float(solution.derivative("f", "w")) == 1.5
    assert float(solution.derivative("f", "v[0]")) == 3.0
    assert solution.graph.leaves["w"].value == sb.load_dict(  # 1/10, not float32's 0.1000000015
        {"graph": {"f": "w"}, "parameters": {"w": "0.1"}} | {"parameters": {"w": 0.1}}
    ).graph.leaves["w"].value


def test_verify_accepts_numpy_claims():
    report = sb.verify("net-221", {"dE/dw5": np.float64(-0.0534)})
    assert report.exit_status == 0


def test_a_claim_value_with_a_line_break_is_one_error():
    with pytest.raises(SymbackpropError, match="line break"):
        sb.verify("net-221", {"dE/dw5": "-0.0534\nw1 = 0.15"})


def test_chain_of_an_unknown_name_raises_the_library_error():
    solution = sb.load("net-221").solve()
    with pytest.raises(SymbackpropError, match="'nope'"):
        solution.chain("nope")
    with pytest.raises(SymbackpropError):
        solution.derivative("E", "nope")


def test_a_title_with_a_line_break_is_one_line_of_text_underlined_to_its_width(tmp_path):
    """A title holding a newline, tab or ESC heads the text account as one quoted line,
    and the ===== under it is as wide as what is shown (it was two lines, and the
    rule as long as the raw title)."""
    path = tmp_path / "title.toml"
    path.write_text('title = "one\\ntwo\\t\\u001b[1m"\n[graph]\nf = "w*x"\n[inputs]\nx = 1\n'
                    "[parameters]\nw = 2\n")
    result = run_cli("solve", path)
    assert result.returncode == 0, result.stderr
    first, rule = result.stdout.splitlines()[:2]
    assert first == "one\\ntwo\\t\\x1b[1m"
    assert rule == "=" * len(first)


@pytest.mark.parametrize("first, second", [("z1", "z_1"), ("z1", "z[0]"), ("x1", "x_1")])
def test_two_names_that_print_the_same_are_an_error(tmp_path, first, second):
    """z1 and z_1 (or z[0], the first element of z) are all z_1 in the handout: the
    equation f = z1 + 2 z_1 would read z_1 + 2 z_1. Like z[00] beside z[0], refused."""
    path = tmp_path / "same.toml"
    path.write_text(f'[graph]\n"{first}" = "x*w"\n"{second}" = "x*2"\n'
                    f'f = "{first} + {second}*2"\n[inputs]\nx = 1\n[parameters]\nw = 2\n')
    line = one_error_line(run_cli("solve", path))
    assert "[graph]" in line and first in line and second in line and "same" in line
