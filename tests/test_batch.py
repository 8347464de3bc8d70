"""Mini-batches: the loss is the mean of the samples' losses, each gradient the mean of
theirs, checked against ``sympy.diff`` of each sample's loss written as one expression."""

from __future__ import annotations

import json

import pytest
import sympy as sp

import symbackprop as sb
from tests.conftest import run_cli

BATCH = """
learning_rate = 0.5
batch = {batch}
[graph]
z = "w*x + b"
y = "sigmoid(z)"
E = "(y - t)**2/2"
[parameters]
w = 0.4
b = -0.1
[data]
x = [1.5, -0.5, 2.0]
t = [1, 0, 0]
"""
XS, TS = [1.5, -0.5, 2.0], [1, 0, 0]


def _by_sympy(count: int):
    w, b = sp.symbols("w b")
    losses = [(1 / (1 + sp.exp(-(w * sp.nsimplify(x) + b))) - t) ** 2 / 2
              for x, t in zip(XS[:count], TS[:count], strict=True)]
    at = {w: sp.Rational(2, 5), b: sp.Rational(-1, 10)}
    mean = sum(losses) / count
    return (float(mean.subs(at)), float(sp.diff(mean, w).subs(at)), float(sp.diff(mean, b).subs(at)),
            [float(sp.diff(loss, w).subs(at)) for loss in losses])


@pytest.mark.parametrize(("batch", "count"), [('"all"', 3), ("2", 2), ("1", 1)])
def test_mean_loss_and_gradients(batch, count, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(BATCH.format(batch=batch))
    solution = sb.load(path).solve()
    loss, dw, db, per_sample = _by_sympy(count)
    assert float(solution.lookup("E")) == pytest.approx(loss, rel=1e-12)
    assert float(solution.lookup("dE/dw")) == pytest.approx(dw, rel=1e-12)
    assert float(solution.lookup("dE/db")) == pytest.approx(db, rel=1e-12)
    assert float(solution.lookup("w_new")) == pytest.approx(0.4 - 0.5 * dw, rel=1e-12)
    data = solution.to_json()
    assert [s["gradients"]["w"] for s in data["batch"]["samples"]] == pytest.approx(per_sample, rel=1e-12)
    assert data["gradients"]["w"] == pytest.approx(dw, rel=1e-12)


def test_verify_judges_the_means(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(BATCH.format(batch="2"))
    loss, dw, _, _ = _by_sympy(2)
    claims = tmp_path / "c.txt"
    claims.write_text(f"E = {loss:.4f}\ndE/dw = {dw:.4f}\ndE/db = 0.5\n")
    result = run_cli("verify", path, claims, "--json")
    statuses = [c["status"] for c in json.loads(result.stdout)["claims"]]
    assert statuses == ["correct", "correct", "wrong"]


def test_without_batch_solve_says_which_sample(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(BATCH.replace("batch = {batch}\n", ""))
    result = run_cli("solve", path, "--format", "json")
    data = json.loads(result.stdout)
    assert data["sample"] == 1 and any("first of them" in w for w in data["warnings"])
    assert "first of them" in result.stderr
    text = run_cli("solve", path, "--format", "text").stdout
    assert "works on the first of them" in text


def test_handout_shows_each_sample_and_the_mean(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(BATCH.format(batch="2"))
    md = run_cli("solve", path, "--format", "md").stdout
    _, dw, _, per_sample = _by_sympy(2)
    assert "mini-batch" in md
    line = next(row for row in md.splitlines()
                if row.startswith(r"\frac{\partial E}{\partial w} &= \frac{1}{2}"))
    assert f"{per_sample[0]:.4f}" in line and f"{dw:.5f}" in line


@pytest.mark.parametrize(("batch", "message"), [('"some"', "batch"), ("0", "batch"), ("9", "from 1 to 3")])
def test_bad_batch(batch, message, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(BATCH.format(batch=batch))
    result = run_cli("solve", path, "--format", "json")
    assert result.returncode == 2 and result.stderr.startswith("error:") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
