"""Every ``solve`` accepted is bounded: the limits of docs/limits.md for --exact over
several optimizer steps, functions nested within one equation, and mini-batches. Each
input one past its limit is refused before any work with one located line; the inputs
at the limit are those docs/limits.md times (``neuron_steps``, ``batch``, ``nested``).
"""

from __future__ import annotations

import pytest

from symbackprop.cli import main
from symbackprop.limits import MAX_EXACT_DEPTH, MAX_EXACT_STEP_DEPTH, MAX_WORKED_BATCH


def neuron_steps(steps: int) -> str:
    return ('learning_rate = 0.5\n[graph]\nz = "w*x"\ny = "sigmoid(z)"\nE = "(y - t)**2/2"\n'
            '[inputs]\nx = 1.5\nt = 1\n[parameters]\nw = 0.5\n'
            f'[optimizer]\nname = "sgd"\nsteps = {steps}\n')


def batch(samples: int) -> str:
    xs = ", ".join(str(round(0.1 + (i % 17) / 10, 1)) for i in range(samples))
    ts = ", ".join(str(i % 2) for i in range(samples))
    return ('learning_rate = 0.5\nbatch = "all"\n[graph]\nz = "w*x"\ny = "sigmoid(z)"\n'
            'E = "(y - t)**2/2"\n[inputs]\nx = 1.5\nt = 1\n[parameters]\nw = 0.5\n'
            f"[data]\nx = [{xs}]\nt = [{ts}]\n")


def nested(depth: int) -> str:
    expr = "x"
    for _ in range(depth):
        expr = f"sigmoid({expr})"
    return (f'[graph]\ny = "{expr}"\nE = "(y - t)**2/2"\n[inputs]\nx = 0.5\nt = 1\n'
            "[parameters]\nw = 0.3\n")


def refused(tmp_path, capsys, text: str, *options) -> str:
    path = tmp_path / "p.toml"
    path.write_text(text)
    assert main(["solve", str(path), "--format", "json", *options]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}"), err
    return err[0]


def test_exact_steps_past_the_limit_are_refused(tmp_path, capsys):
    line = refused(tmp_path, capsys, neuron_steps(MAX_EXACT_STEP_DEPTH + 1), "--exact")
    assert "[optimizer] steps" in line and f"at most {MAX_EXACT_STEP_DEPTH}" in line


def test_a_graph_of_fractions_takes_many_exact_steps(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text('learning_rate = 0.1\n[graph]\ny = "w*x"\nE = "(y - t)**2/2"\n[inputs]\n'
                    'x = 1.5\nt = 1\n[parameters]\nw = 0.5\n[optimizer]\nname = "sgd"\n'
                    "steps = 10\n")
    assert main(["solve", str(path), "--exact", "--format", "json"]) == 0


def test_functions_nested_in_one_equation_count_for_exact(tmp_path, capsys):
    line = refused(tmp_path, capsys, nested(MAX_EXACT_DEPTH + 1), "--exact")
    assert "[graph] y" in line and f"more than {MAX_EXACT_DEPTH} deep" in line


def test_a_batch_past_the_limit_is_refused(tmp_path, capsys):
    line = refused(tmp_path, capsys, batch(MAX_WORKED_BATCH + 1))
    assert "batch" in line and f"at most {MAX_WORKED_BATCH}" in line


@pytest.mark.slow
def test_deeply_nested_sigmoids_solve_in_bounded_time(tmp_path, capsys):
    """39 nested sigmoids spent minutes in sympy.simplify deciding a tiny gradient."""
    path = tmp_path / "p.toml"
    path.write_text(nested(39))
    assert main(["solve", str(path), "--format", "json"]) == 0
