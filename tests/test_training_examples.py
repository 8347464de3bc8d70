"""The built-ins that train on a data set: digits-cnn (scikit-learn's 8×8 digits) and
lstm-seq (generated sequences), fitted by ``train`` with the layer form's kernels, the
accuracy reported on the samples held out. One epoch of digits-cnn here (a smoke step);
the full runs are in docs/kernels.md and benchmarks/."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from symbackprop import datasets
from tests.conftest import run_cli


@pytest.mark.slow  # a data set's epoch: the layer kernels' own tests are quick
def test_one_epoch_of_digits_cnn_trains_with_the_layer_kernels():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (the [digits] extra)")
    result = run_cli("train", "digits-cnn", "--epochs", "1", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["form"] == "layers" and out["batch"] == 64 and out["optimizer"] == "adam"
    assert out["losses"][0] < out["initial_loss"] / 2  # from log 10 = 2.3 down
    assert out["held_out_samples"] == 360 and out["held_out_accuracy"] > 0.5
    assert np.shape(out["parameters"]["K1"]) == (8, 1, 3, 3)


def test_the_digits_split_holds_out_a_fixed_fifth():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (the [digits] extra)")
    split = datasets.digits()
    assert split.x.shape == (1437, 1, 8, 8) and split.held_out_x.shape == (360, 1, 8, 8)
    assert split.x.min() == 0 and split.x.max() == 1
    assert (split.y.sum(axis=1) == 1).all()
    # the same split every run: the seed's permutation
    order = np.random.default_rng(0).permutation(1797)
    assert np.array_equal(split.held_out_y.argmax(axis=1),
                          __import__("sklearn.datasets").datasets.load_digits().target[order[:360]])


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn: ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    result = run_cli("train", "digits-cnn")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "pip install 'symbackprop[digits]'" in lines[0]


def test_lstm_seq_labels_are_each_sequences_most_frequent_symbol():
    """The generated task, recounted: every label is the symbol that occurs most often,
    with no tie."""
    from collections import Counter

    split = datasets.most_frequent()
    assert split.x.shape == (3200, 7, 4) and split.held_out_x.shape == (800, 7, 4)
    for x, y in ((split.x, split.y), (split.held_out_x, split.held_out_y)):
        for sequence, label in zip(x.argmax(axis=-1), y.argmax(axis=-1), strict=True):
            (first, n), *rest = Counter(sequence.tolist()).most_common(2)
            assert first == label and (not rest or rest[0][1] < n)
    assert (split.x.sum(axis=-1) == 1).all()  # one-hot
