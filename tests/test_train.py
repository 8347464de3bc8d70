"""``symbackprop train`` and :func:`symbackprop.train`: the built-ins learn with the
defaults, the JSON is docs/json.md's, the plot is a real PNG, bad input is one
``error:`` line with exit status 2."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.errors import SymbackpropError
from symbackprop.training import accuracy, train
from tests.conftest import run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def autoencoder_json():
    result = run_cli("train", "autoencoder-838", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_autoencoder_reconstructs_every_pattern(autoencoder_json):
    out = autoencoder_json
    assert set(out) >= {"losses", "final_loss", "accuracy", "parameters"}
    assert out["accuracy"] == 1.0
    assert len(out["losses"]) == 2000 and out["final_loss"] == out["losses"][-1]
    assert out["final_loss"] < out["initial_loss"] / 10
    # the trained parameters, read back independently, reconstruct all eight patterns
    p = {k: np.array(v) for k, v in out["parameters"].items()}
    assert p["W1"].shape == (3, 8) and p["b2"].shape == (8,)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    outputs = sigmoid(sigmoid(np.eye(8) @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"])
    assert (outputs.argmax(axis=1) == np.arange(8)).all()
    assert outputs[np.arange(8), np.arange(8)].min() > 0.8


def test_four_pixel_learns_its_classes():
    result = run_cli("train", "four-pixel", "--json", "--seed", "3")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["accuracy"] >= 0.95
    assert out["losses"][-1] <= out["initial_loss"] / 5
    assert out["final_loss"] == out["losses"][-1]


def test_text_summary_lists_patterns():
    result = run_cli("train", "autoencoder-838", "--epochs", "300")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "accuracy" in text and "pattern" in text and "reconstruction" in text
    assert "10000000" in text and "00000001" in text
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_plot_writes_a_png_with_gradient_norms(tmp_path):
    path = tmp_path / "loss.png"
    result = run_cli("train", "four-pixel", "--epochs", "50", "--plot", path, "--grad-norms",
                     "--json")
    assert result.returncode == 0, result.stderr
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 700 and height == 720  # two panels
    out = json.loads(result.stdout)
    assert set(out["grad_norms"]) == {"layer 1", "layer 2"}
    assert all(len(v) == 50 for v in out["grad_norms"].values())
    assert not list(tmp_path.glob(".tmp-*"))


def test_api_grad_norms_show_the_vanishing_gradient():
    """Lesson 5: in a deep sigmoid network the first layer's gradient is the smallest."""
    table = {
        "network": {"layers": [4, 4, 4, 4, 4, 4, 1], "activations": ["sigmoid"] * 6, "loss": "half_sse"},
        "parameters": {}, "data": {"x": np.eye(4).tolist(), "y": [[0], [1], [1], [0]]},
        "learning_rate": 0.5,
    }
    rng = np.random.default_rng(0)
    for layer in range(1, 7):
        n, m = table["network"]["layers"][layer], table["network"]["layers"][layer - 1]
        table["parameters"][f"W{layer}"] = np.round(rng.normal(0, 1, (n, m)), 2).tolist()
        table["parameters"][f"b{layer}"] = [0.0] * n
    result = sb.train(sb.load_dict(table), epochs=5, grad_norms=True)
    first = [norms[0] for norms in result.grad_norms.values()]
    assert first[0] < first[-1] / 10


def test_problem_without_data_trains_on_its_inputs():
    result = train(sb.load("net-221"), epochs=50)
    assert result.samples == 1 and result.accuracy is None and result.form == "graph"
    assert result.final_loss < result.initial_loss
    # the first step is the worked solution's update
    one = train(sb.load("net-221"), epochs=1)
    updated = sb.load("net-221").solve().to_json()["updated"]
    for name, value in one.parameters.items():
        assert float(value) == pytest.approx(float(updated[name]), rel=1e-12)


def test_accuracy_as_the_contract_defines_it():
    one_hot = np.eye(3)[[0, 1, 2, 1]]
    outputs = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4], [0, 1, 0]])
    assert accuracy(outputs, one_hot, "cce") == 0.75
    assert accuracy(np.array([[0.7], [0.2]]), np.array([[1.0], [1.0]]), "bce") == 0.5
    assert accuracy(outputs, np.array([[0.0], [1], [2], [1]]), "hinge") == 0.75
    assert accuracy(outputs, outputs, "half_sse") is None  # targets that are not classes


def test_diverging_training_stops_with_a_warning(tmp_path):
    path = tmp_path / "line.toml"
    path.write_text('[graph]\nE = "(w*x - y)**2"\n[inputs]\nx = 3\ny = 1\n[parameters]\nw = 1\n')
    result = run_cli("train", path, "--lr", "10", "--epochs", "500", "--json")
    assert result.returncode == 0
    assert "warning:" in result.stderr and "--lr" in result.stderr
    out = json.loads(result.stdout)  # still valid JSON: no NaN
    assert out["final_loss"] is None or np.isfinite(out["final_loss"])


BAD = [
    (["four-pixel", "--epochs", "0"], "--epochs"),
    (["four-pixel", "--epochs", "-3"], "--epochs"),
    (["four-pixel", "--batch", "0"], "--batch"),
    (["four-pixel", "--lr", "0"], "--lr"),
    (["four-pixel", "--lr", "-1"], "--lr"),
    (["four-pixel", "--lr", "nan"], "--lr"),
    (["four-pixel", "--epochs", "ten"], "--epochs"),
    (["no-such-problem"], "no-such-problem"),
    (["four-pixel", "--plot", "/nonexistent-dir/x.png"], "does not exist"),
    (["four-pixel", "--seed", "-1"], "--seed"),
    (["four-pixel", "--seed", "x"], "--seed"),
]


@pytest.mark.parametrize("args,word", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_error_line(args, word):
    result = run_cli("train", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and word in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_plot_to_a_directory_or_unwritable_place_changes_nothing(tmp_path):
    result = run_cli("train", "four-pixel", "--plot", tmp_path)
    assert result.returncode == 2 and "is a directory" in result.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    existing = locked / "old.png"
    existing.write_bytes(b"keep")
    locked.chmod(0o500)
    try:
        result = run_cli("train", "four-pixel", "--epochs", "5", "--plot", existing)
        import os

        if os.geteuid() != 0:  # root may write anywhere
            assert result.returncode == 2 and result.stderr.startswith("error:")
        assert existing.read_bytes() == b"keep" or result.returncode == 0
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("where", ["/proc", "/sys"])
def test_plot_where_no_file_can_be_created_fails_before_training(where):
    """Even root cannot create files in /proc or /sys, though os.access says it may:
    the check creates a temporary file there, before any training (exit 2, no output)."""
    if not os.path.isdir(where):
        pytest.skip(f"{where} is not a directory on this system")
    result = run_cli("train", "four-pixel", "--epochs", "100000", "--plot", f"{where}/x.png")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --plot {where}/x.png: "), result.stderr
    assert result.stdout == "" and not os.path.exists(f"{where}/x.png")


def test_plot_inside_a_regular_file_fails_before_training(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("not a directory")
    result = run_cli("train", "four-pixel", "--epochs", "100000", "--plot", regular / "x.png")
    assert result.returncode == 2 and result.stderr.startswith(f"error: --plot {regular}/x.png")
    assert result.stdout == ""


def test_seed_must_not_be_negative():
    with pytest.raises(SymbackpropError, match="^seed: "):
        train(sb.load("four-pixel"), epochs=1, seed=-1)
    assert train(sb.load("four-pixel"), epochs=1, seed=2**70).epochs == 1


def test_problem_without_inputs_or_data(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[graph]\nE = "w*w"\n[parameters]\nw = 1\n')
    result = run_cli("train", path)
    assert result.returncode == 2 and "neither [data] nor [inputs]" in result.stderr
    with pytest.raises(SymbackpropError):
        train(sb.load(path))


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    """With matplotlib hidden, --plot fails before training and names the pip command."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    result = run_cli("train", "four-pixel", "--plot", tmp_path / "x.png")
    assert result.returncode == 2
    assert "pip install 'symbackprop[plot]'" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_logreg_trains_with_the_defaults():
    """The L6 handout's logistic regression: σ(w·50) saturates after one step; the loss stays
    finite (exactly, about 4.9e-55) and never goes up."""
    result = run_cli("train", "logreg", "--json")
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    out = json.loads(result.stdout)
    losses = out["losses"]
    assert len(losses) == 2000 and "stopped" not in out
    assert all(v is not None and np.isfinite(v) for v in losses)
    assert losses[-1] < out["initial_loss"] / 1e50
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False))


def test_non_finite_values_are_named_not_blamed_on_the_rate(tmp_path):
    """A loss that leaves double precision with moderate parameters says so; a step
    whose gradient is not finite is not taken."""
    path = tmp_path / "log.toml"
    path.write_text('[graph]\nE = "log(w*x)"\n[inputs]\nx = 1\n[parameters]\nw = 1\n')
    result = run_cli("train", path, "--epochs", "50")
    assert result.returncode == 0
    assert "outside double precision" in result.stderr and "epoch 6" in result.stderr
    assert "learning rate is probably too large" not in result.stderr
    path.write_text('[graph]\nE = "exp(w*x)"\n[inputs]\nx = 1000\n[parameters]\nw = 1\n')
    result = train(sb.load(path), epochs=5)
    assert "gradient of w" in result.stopped and "outside double precision" in result.stopped
    assert result.parameters["w"] == 1.0
