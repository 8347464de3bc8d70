"""Data sets that a package ships, for the built-ins that train on real data.

A problem file holds at most 20,000 numbers (docs/limits.md), so a built-in such as
``digits-cnn`` carries its network, its initial parameters and one sample, and
``train`` reads its samples from here: scikit-learn's 8×8 handwritten digits
(``sklearn.datasets.load_digits``, 1,797 images, shipped inside scikit-learn; nothing is
downloaded). scikit-learn is an optional extra (``pip install 'symbackprop[digits]'``);
without it, training ``digits-cnn`` stops with one ``error:`` line that names the extra.

``lstm-seq`` trains on sequences generated here (:func:`most_frequent`), too many for a file.

A data set is split once, by a fixed seed, into the samples trained on and the samples
held out, on which ``train`` reports the accuracy of the trained network.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import SymbackpropError

DIGITS_EXTRA = "pip install 'symbackprop[digits]'"


@dataclass(frozen=True)
class Split:
    """Samples to train on and samples held out, with the run's defaults."""

    name: str
    x: np.ndarray
    y: np.ndarray
    held_out_x: np.ndarray
    held_out_y: np.ndarray
    epochs: int  # the default number of epochs of ``train``
    batch: int  # the default batch size


def digits(held_out: int = 360, seed: int = 0) -> Split:
    """scikit-learn's 8×8 digits as (1, 8, 8) images scaled to [0, 1] (the pixels are
    counts from 0 to 16), one-hot targets; ``held_out`` samples drawn by ``seed`` are kept
    apart."""
    try:
        sk = importlib.import_module("sklearn.datasets")
    except ImportError:
        raise SymbackpropError("digits-cnn trains on scikit-learn's digits, and scikit-learn is"
                               f" not installed: {DIGITS_EXTRA}") from None
    bunch = sk.load_digits()
    x = (np.asarray(bunch.images, dtype=float) / 16.0)[:, None, :, :]
    y = np.eye(10)[np.asarray(bunch.target)]
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:held_out], order[held_out:]
    return Split("scikit-learn's 8x8 digits", x[train], y[train], x[test], y[test],
                 epochs=15, batch=64)


#: lstm-seq's task: sequences of this many symbols, each one of this many.
SEQUENCE_STEPS, SEQUENCE_SYMBOLS = 7, 4


def most_frequent(count: int = 4000, held_out: int = 800, seed: int = 0) -> Split:
    """Generated sequences of ``SEQUENCE_STEPS`` symbols from 0 to 3 (one-hot), each
    labelled by the symbol that occurs most often in it (sequences where two symbols tie
    are not drawn): the network must count every symbol through every step, since no
    step alone tells the class. ``held_out`` of them are kept apart."""
    rng = np.random.default_rng(seed)
    symbols = rng.integers(0, SEQUENCE_SYMBOLS, (3 * count, SEQUENCE_STEPS))
    counts = (symbols[:, :, None] == np.arange(SEQUENCE_SYMBOLS)).sum(axis=1)
    top = np.sort(counts, axis=1)
    symbols, counts = symbols[top[:, -1] > top[:, -2]][:count], counts[top[:, -1] > top[:, -2]][:count]
    x = np.eye(SEQUENCE_SYMBOLS)[symbols]
    y = np.eye(SEQUENCE_SYMBOLS)[counts.argmax(axis=1)]
    return Split(f"{count} generated sequences (the most frequent of {SEQUENCE_STEPS}"
                 " symbols)", x[held_out:], y[held_out:], x[:held_out], y[:held_out],
                 epochs=10, batch=32)


#: The built-ins that train on a shipped or generated data set: name -> its loader.
DATASETS: dict[str, Callable[[], Split]] = {"digits-cnn": digits, "lstm-seq": most_frequent}


def for_problem(problem) -> Split | None:
    """The data set a built-in problem trains on, or None (a user's file trains on its
    own ``[data]``)."""
    loader = DATASETS.get(problem.name)
    if loader is None or problem.source != f"{problem.name} (built-in)":
        return None
    return loader()
