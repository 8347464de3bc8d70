"""Published numeric walk-throughs of the layers, worked again by symbackprop.

Each problem file in tests/data/walkthrough-*.toml encodes a published example's inputs;
the numbers below are the ones the example prints (the independent source), compared
with ours, and where the two differ ``verify`` names why (the example's slip):

* an LSTM over two steps: Aidan Gomez, "Backpropogating an LSTM: A Numerical Example"
  (https://blog.aidangomez.ca/2016/04/17/Backpropogating-an-LSTM-A-Numerical-Example/),
  its forward pass as reprinted in Jae Duk Seo's "Deriving Back Propagation on simple RNN
  LSTM" (2018), 5 decimals; two of its numbers carry a slip;
* a convolution's backward pass: kbrodt/tor4's conv2d tests
  (https://github.com/kbrodt/tor4/blob/master/tests/nn/conv2d_test.py), stride 1 and 2,
  hand-made integer examples of the output, the image's and the kernels' gradients;
* a batch norm's backward pass in training mode: thelukester92/nnlib's test
  (https://github.com/thelukester92/nnlib/blob/master/test/nn/test_batchnorm.h), the input
  gradient and gamma's and beta's, 5 decimals;
* a convolution's forward pass: CS417 Lab 9's numerical example
  (https://github.com/mesmatmm/CS417_Fall2025/blob/main/Lab09/Example_nums.md), whose
  printed 3x3 output repeats its first row in the other two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symbackprop as sb

DATA = Path(__file__).parent / "data"


def solved(name: str):
    return sb.load(str(DATA / f"walkthrough-{name}.toml")).solve()


# ------------------------------------------------------------------------ LSTM

#: Gomez's forward pass: a (the candidate, our g), i, f, o, the state (our c) and out (our h)
#: at t = 0 and t = 1, as printed.
GOMEZ = {"g1[0][0]": "0.81775", "i1[0][0]": "0.96083", "f1[0][0]": "0.85195",
         "o1[0][0]": "0.81757", "c1[0][0]": "0.78572", "h1[0][0]": "0.53631",
         "g1[1][0]": "0.84980", "i1[1][0]": "0.98118", "f1[1][0]": "0.87030",
         "o1[1][0]": "0.84993", "c1[1][0]": "1.5176", "h1[1][0]": "0.77197"}


def test_gomez_lstm_forward_pass_and_its_two_slips():
    """Ten of Gomez's twelve numbers are ours rounded. state_0 = 0.78572 is 0.785726
    truncated (rounded: 0.78573), and out_1 = 0.77197 follows from state_1 rounded early to
    1.5176 (tanh(1.517633) · 0.849933 is 0.771981): verify says both."""
    problem = sb.load(str(DATA / "walkthrough-lstm-gomez.toml"))
    solution = problem.solve()
    slips = {"c1[0][0]", "h1[1][0]"}
    for key, text in GOMEZ.items():
        ours = float(solution.lookup(key))
        places = len(text.split(".")[1])
        if key not in slips:
            assert ours == pytest.approx(float(text), abs=0.5 * 10**-places), key
    sheet = {k: GOMEZ[k] for k in ("c1[0][0]", "o1[1][0]", "c1[1][0]", "h1[1][0]")}
    verdicts = {v.key: v for v in sb.verify(problem, sheet).verdicts}
    assert [verdicts[k].status for k in ("o1[1][0]", "c1[1][0]")] == ["correct", "correct"]
    assert verdicts["c1[0][0]"].note == "truncated; rounded it is 0.78573"
    early = verdicts["h1[1][0]"]
    assert early.status == "rounding" and "c1[1][0] = 1.5176 (rounded early" in early.note


# ------------------------------------------------------------------------ convolution

TOR4 = {  # (file, the conv's output, the image's gradient, the kernels' gradient)
    "conv-tor4": ([[[7, 10], [16, 19]], [[5, 7], [11, 13]]],
                  [[[1, 1, 2], [3, 2, 1], [2, 2, 2]]],
                  [[[[8, 10], [14, 16]]], [[[3, 8], [18, 23]]]]),
    "conv-tor4-stride": ([[[7]], [[5]]],
                         [[[1, 2, 0], [1, 3, 0]]],
                         [[[[0, 1], [3, 4]]], [[[0, 2], [6, 8]]]]),
}


@pytest.mark.parametrize("name", TOR4)
def test_tor4_convolution_backward(name):
    """The output, dL/dx (the full convolution of the upstream gradient with the rotated
    kernels) and dL/dK1, exactly the test's integers."""
    out, grad_x, grad_k = TOR4[name]
    solution = solved(name)
    for key, published in (("a1", out), ("dL/dx", grad_x), ("dL/dK1", grad_k)):
        ours = np.array(solution.lookup(key), dtype=float)
        assert ours.tolist() == np.array(published, dtype=float).tolist(), key


CS417_PRINTED = [[-6, 12, 12], [-6, 12, 12], [-6, 12, 12]]


def test_cs417_convolution_output_repeats_its_first_row():
    """The lab works out O[0][0..2] = -6, 12, 12 (ours), then prints that row three times;
    rows 1 and 2 are -4, 12, 10 and -2, 10, 8 (the lab's own sum over each 3x3 block)."""
    solution = solved("conv-cs417")
    ours = np.array(solution.lookup("a1"), dtype=float)[0]
    image = np.array([[1, 2, 3, 0, 1], [4, 5, 6, 1, 2], [7, 8, 9, 2, 3], [1, 2, 1, 0, 1],
                      [2, 3, 2, 1, 0]], float)
    kernel = np.array([[1, 0, -1]] * 3, float)
    blocks = np.array([[np.sum(image[i:i + 3, j:j + 3] * kernel) for j in range(3)]
                       for i in range(3)])
    assert ours.tolist() == blocks.tolist()
    assert ours[0].tolist() == CS417_PRINTED[0]  # the worked row
    assert ours[1:].tolist() == [[-4, 12, 10], [-2, 10, 8]] != CS417_PRINTED[1:]


# ------------------------------------------------------------------------ batch norm

NNLIB_IN_GRAD = [[0.03596, 0.00000, 0], [-0.02489, -2.12132, 0], [-0.01106, 2.12132, 0]]
NNLIB_GAMMA, NNLIB_BETA = [14.9606, 2.82843, 0], [10, 5, 12]


def test_nnlib_batch_norm_backward_in_training_mode():
    """The input gradient through the batch's mean and variance, and dL/dgamma, dL/dbeta,
    each within half a unit of the test's last printed digit."""
    solution = solved("batchnorm-nnlib")
    for s in range(3):
        for k in range(3):
            assert float(solution.gradients[f"x{s}{k}"]) == pytest.approx(
                NNLIB_IN_GRAD[s][k], abs=0.5e-5), (s, k)
    for k in range(3):
        assert float(solution.gradients[f"gamma{k}"]) == pytest.approx(NNLIB_GAMMA[k], abs=0.5e-4)
        assert float(solution.gradients[f"beta{k}"]) == NNLIB_BETA[k]
