"""The command line and the JSON of docs/command-line.md and docs/json.md."""

from __future__ import annotations

import json
import re

import pytest

from symbackprop.examples import EXAMPLES
from tests.oracle import close, graph_oracle, load_toml


def test_examples_lists_every_builtin(cli):
    result = cli("examples")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    for required in ("chain-xyz", "neuron", "net-221", "net-322", "logreg", "mlp-relu-bce",
                     "autoencoder-838", "four-pixel"):
        assert required in names
    assert all(len(line.split(None, 1)) == 2 for line in result.stdout.splitlines())


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_examples_show_prints_a_loadable_file(name, cli, tmp_path):
    shown = cli("examples", "--show", name)
    assert shown.returncode == 0
    path = tmp_path / f"{name}.toml"
    path.write_text(shown.stdout)
    a = json.loads(cli("solve", path, "--format", "json").stdout)
    b = json.loads(cli("solve", name, "--format", "json").stdout)
    assert a == b


def test_solve_json_follows_the_contract(cli):
    result = cli("solve", "net-221", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["output"] == "E"
    every = ["x1", "x2", "y_t", "w1", "w2", "w3", "w4", "w5", "w6",
             "z_a", "z_b", "h_a", "h_b", "z_c", "y", "E"]
    assert set(data["values"]) == set(every) and set(data["gradients"]) == set(every)
    assert set(data["updated"]) == {"w1", "w2", "w3", "w4", "w5", "w6"}
    assert "E" in data["values_after"] and data["values_after"]["E"] < data["values"]["E"]
    from symbackprop.examples import example_text

    value, grads, *_ = graph_oracle(load_toml(example_text("net-221")))
    assert close(data["values"]["E"], value)
    for leaf, g in grads.items():
        assert close(data["gradients"][leaf], g), leaf
    assert data["gradients"]["E"] == 1.0
    # full precision, not rounded
    assert len(repr(data["values"]["h_a"])) > 12


def test_solve_json_nests_arrays(cli):
    data = json.loads(cli("solve", "mlp-relu-bce", "--format", "json").stdout)
    assert data["output"] == "L"
    assert len(data["values"]["W1"]) == 2 and len(data["values"]["W1"][0]) == 2
    assert len(data["gradients"]["W2"]) == 1 and len(data["gradients"]["W2"][0]) == 2
    assert isinstance(data["values"]["z1"], list) and isinstance(data["values"]["L"], float)
    assert set(data["updated"]) == {"W1", "b1", "W2", "b2"}


def test_json_without_learning_rate_has_no_update(cli):
    data = json.loads(cli("solve", "chain-xyz", "--format", "json").stdout)
    assert "updated" not in data and "values_after" not in data


def test_output_directory_option(cli, tmp_path):
    result = cli("solve", "net-221", "--format", "json,text", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "net-221.json").read_text())["output"] == "E"
    assert "dE/dw5" in (tmp_path / "out" / "net-221.txt").read_text()


def test_default_directory_is_output_problem_name(cli, tmp_path):
    result = cli("solve", "chain-xyz", "--format", "json,text", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "output" / "chain-xyz" / "chain-xyz.json").exists()


def test_text_account_shows_chain_products(cli):
    out = cli("solve", "net-221").stdout
    assert "dE/dw5 = dE/dy dy/dz_c dz_c/dw5" in out
    assert "= (-0.3844) · 0.2366 · 0.5869 = -0.0534" in out
    assert "E fell from 0.0739 to 0.0698" in out


def test_stage_flag_splits_compound_equations(cli):
    data = json.loads(cli("solve", "net-221", "--format", "json", "--stage").stdout)
    assert any(name.startswith("s") and name[1:].isdigit() for name in data["values"])


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("symbackprop ")
    assert cli("solve", "--help").returncode == 0


def test_written_files_get_the_mode_of_any_new_file(tmp_path):
    """Atomic writes go through a private temporary file; the result must not stay 0600."""
    import os

    from symbackprop.files import write_file

    old = os.umask(0o022)
    try:
        path = write_file(tmp_path / "a.txt", "x")
        reference = tmp_path / "b.txt"
        reference.write_text("x")  # what the system gives a plain new file
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777 == 0o644


def test_large_values_are_written_with_a_power_of_ten(cli, tmp_path):
    """e^150 has 66 digits; it is shown as a mantissa and a power of ten in every format
    (math.exp is the independent value)."""
    import math

    path = tmp_path / "big.toml"
    path.write_text('[graph]\nz = "x*w"\nE = "exp(z)"\n[inputs]\nx = 100\n[parameters]\nw = 1.5\n')
    mantissa, exponent = f"{math.exp(150):.4e}".split("e")
    result = cli("solve", path)
    assert result.returncode == 0, result.stderr
    assert f"E = e^z = e^150 = {mantissa}e+{int(exponent)}\n" in result.stdout
    assert cli("solve", path, "--format", "md,tex", "-o", tmp_path / "out").returncode == 0


def test_tiny_values_are_written_with_a_power_of_ten(cli, tmp_path):
    """σ'(250) is e^-250 to 100 digits (mpmath, independent of the engine); after the
    update σ of about -10^8 is about 10^-43429340, below what Decimal arithmetic allows:
    every format still writes both, with a power of ten."""
    import mpmath

    path = tmp_path / "tiny.toml"
    path.write_text('learning_rate = 0.01\n[graph]\nz = "w*x + b"\ny = "sigmoid(z)"\n'
                    'E = "-(t*log(y) + (1-t)*log(1-y))"\n[inputs]\nx = 1e5\nt = 0\n'
                    '[parameters]\nw = 2.5e-3\nb = 1e-7\n')
    tail = mpmath.exp(-mpmath.mpf("250.0000001"))
    mantissa, exponent = mpmath.nstr(tail / (1 + tail) ** 2, 4, min_fixed=1, max_fixed=0).split("e")
    result = cli("solve", path)
    assert result.returncode == 0, result.stderr
    assert re.search(rf"dy/dz = y \(1 - y\) = .* = {mantissa}e{int(exponent)}\n", result.stdout)
    out = cli("solve", path, "--format", "md,tex", "-o", tmp_path / "out")
    assert out.returncode == 0, out.stderr
    assert r"\cdot 10^{-43429340}" in (tmp_path / "out" / "tiny.md").read_text()


def test_text_account_reads_flat_and_says_a_one_edge_chain_once(cli):
    text = cli("solve", "net-322").stdout
    assert "z_a = x1 w1 + x2 w3 + x3 w5 + b1 = " in text  # not ((x1 w1 + x2 w3) + ...)
    chain = cli("solve", "chain-xyz").stdout
    assert "  df/dz = s0 = 3\n" in chain and "df/dz = df/dz" not in chain
