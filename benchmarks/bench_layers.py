"""The layer form's speed, as ratios against baselines measured in the same run.

1. One training epoch of ``digits-cnn`` (conv 8×3×3, ReLU, 2×2 max-pool, dense softmax,
   cross-entropy) over scikit-learn's digits, batch 64: 23 steps of loss, gradient and an
   SGD update, the same shuffled batches on every side:
   the generated layer-form kernel (float64 and float32) against PyTorch eager on the CPU
   (float32, its default, and float64; target: within 1.5x) and against the same network
   written by hand in numpy (im2col, float64).
2. One batch of an LSTM sequence model (20 steps of 8 features, hidden 32, the last state
   into a dense softmax of 4 classes; batch 64): loss and gradient, the kernel against
   PyTorch eager's ``nn.LSTM``.

Before anything is timed, the gradients of every side are checked equal at the same
parameters and batch (float64: 1e-10 relative). Timings alternate between the sides
(the order reversed every other round) and keep each side's best round, so a busy
machine slows both alike. BLAS threads are pinned (default 1, ``--threads N``) before
numpy loads, and PyTorch gets the same number.

Run: python benchmarks/bench_layers.py [--threads N] [--rounds R]
Needs scikit-learn (the [digits] extra) and PyTorch (``pip install torch``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _pin_threads() -> int:
    threads = "1"
    if "--threads" in sys.argv:
        threads = sys.argv[sys.argv.index("--threads") + 1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    return int(threads)


THREADS = _pin_threads()
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 7
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402, N812

import symbackprop as sb  # noqa: E402
from symbackprop import datasets  # noqa: E402

torch.set_num_threads(THREADS)
RATE = 0.05


def compare(functions: dict, rounds: int) -> dict:
    """Each side's best time per call over ``rounds`` rounds, the sides taking turns."""
    times = {name: [] for name in functions}
    order = list(functions.items())
    for _ in range(rounds):
        for name, fn in order:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
        order.reverse()
    return {name: min(t) for name, t in times.items()}


# ------------------------------------------------------------------ hand-written numpy


def numpy_cnn(p, x, y):
    """The digits CNN by hand: im2col convolution, ReLU, 2×2 max-pool with its mask,
    dense, softmax with cross-entropy (mean over the batch); loss and gradients."""
    n = x.shape[0]
    K, b1, W, b5 = p["K1"], p["b1"], p["W5"], p["b5"]
    cols = np.lib.stride_tricks.sliding_window_view(x[:, 0], (3, 3), axis=(1, 2))  # n,6,6,3,3
    cols = cols.reshape(n * 36, 9)
    z1 = cols @ K.reshape(8, 9).T + b1  # (n·36, 8)
    a1 = np.maximum(z1, 0)
    tiles = a1.reshape(n, 3, 2, 3, 2, 8).transpose(0, 1, 3, 5, 2, 4).reshape(n, 3, 3, 8, 4)
    pooled = tiles.max(axis=-1)  # (n, 3, 3, 8)
    first = tiles.argmax(axis=-1)
    flat = pooled.transpose(0, 3, 1, 2).reshape(n, 72)  # channel-major, as flatten
    z5 = flat @ W.T + b5
    z5 = z5 - z5.max(axis=1, keepdims=True)
    e = np.exp(z5)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s)[:, 0] - (y * z5).sum(axis=1)))
    d5 = (e / s - y) / n
    gW, gb5 = d5.T @ flat, d5.sum(axis=0)
    dflat = (d5 @ W).reshape(n, 8, 3, 3).transpose(0, 2, 3, 1)  # (n, 3, 3, 8)
    dtiles = (first[..., None] == np.arange(4)) * dflat[..., None]
    da1 = dtiles.reshape(n, 3, 3, 8, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n * 36, 8)
    dz1 = da1 * (z1 > 0)
    gK = (dz1.T @ cols).reshape(8, 1, 3, 3)
    return loss, {"K1": gK, "b1": dz1.sum(axis=0), "W5": gW, "b5": gb5}


# --------------------------------------------------------------------- PyTorch eager


def torch_cnn(p, dtype):
    tp = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in p.items()}

    def step(x, labels):
        for t in tp.values():
            t.grad = None
        a = F.max_pool2d(F.relu(F.conv2d(x, tp["K1"], tp["b1"])), 2).flatten(1)
        loss = F.cross_entropy(F.linear(a, tp["W5"], tp["b5"]), labels)
        loss.backward()
        with torch.no_grad():
            for t in tp.values():
                t -= RATE * t.grad
        return float(loss), {k: t.grad for k, t in tp.items()}
    return tp, step


def epoch_runner(batches, step):
    def run():
        for batch in batches:
            step(*batch)
    return run


def bench_digits():
    problem = sb.load("digits-cnn")
    split = datasets.digits()
    order = np.random.default_rng(0).permutation(len(split.x))
    chunks = [order[s:s + 64] for s in range(0, len(order), 64)]
    start = problem.compile().parameters()

    # gradients checked equal before timing: the first batch, the problem's parameters
    x0, y0 = split.x[chunks[0]], split.y[chunks[0]]
    kernel = problem.compile()
    loss_k, g_k = kernel.loss_and_grad(start, {"x": x0, "y": y0})
    loss_n, g_n = numpy_cnn(start, x0, y0)
    tp, _ = torch_cnn(start, torch.float64)
    a = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x0), tp["K1"], tp["b1"])), 2).flatten(1)
    loss_t = F.cross_entropy(F.linear(a, tp["W5"], tp["b5"]), torch.tensor(y0.argmax(1)))
    loss_t.backward()
    for name in start:
        np.testing.assert_allclose(g_k[name], g_n[name], rtol=1e-10, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(g_k[name], tp[name].grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=name)
    assert abs(loss_k - loss_n) < 1e-12 and abs(loss_k - float(loss_t)) < 1e-12
    print("gradients at the first batch: kernel = hand-written numpy = PyTorch (1e-10)")

    sides = {}
    for dtype in ("float64", "float32"):
        k = problem.compile(dtype=dtype)
        params = k.parameters()
        batches = [({"x": split.x[c].astype(dtype), "y": split.y[c].astype(dtype)},) for c in chunks]

        def step(data, k=k, params=params):
            _, grads = k.loss_and_grad(params, data)
            for name, g in grads.items():
                params[name] -= RATE * g
        sides[f"symbackprop layer kernels, {dtype}"] = epoch_runner(batches, step)
    for dtype in (torch.float32, torch.float64):
        _, step = torch_cnn(start, dtype)
        batches = [(torch.tensor(split.x[c], dtype=dtype), torch.tensor(split.y[c].argmax(1)))
                   for c in chunks]
        sides[f"PyTorch eager CPU, {str(dtype)[6:]}"] = epoch_runner(batches, step)
    params_n = {k: np.array(v) for k, v in start.items()}
    batches = [(split.x[c], split.y[c]) for c in chunks]

    def numpy_step(x, y):
        _, grads = numpy_cnn(params_n, x, y)
        for name, g in grads.items():
            params_n[name] -= RATE * g
    sides["hand-written numpy, float64"] = epoch_runner(batches, numpy_step)
    best = compare(sides, ROUNDS)
    base = best["PyTorch eager CPU, float32"]
    print(f"\none epoch of digits-cnn: {len(split.x)} images, batch 64, {len(chunks)} SGD steps;"
          f" best of {ROUNDS} rounds")
    print(f"{'side':40} {'ms/epoch':>9} {'vs PyTorch f32':>15} {'vs numpy':>9}")
    for name, t in best.items():
        print(f"{name:40} {t * 1e3:9.1f} {t / base:14.2f}x {t / best['hand-written numpy, float64']:8.2f}x")


# ------------------------------------------------------------------------------ LSTM


LSTM_STEPS, LSTM_FEATURES, LSTM_HIDDEN, LSTM_CLASSES, LSTM_BATCH = 20, 8, 32, 4, 64


def lstm_table(rng) -> dict:
    h, f = LSTM_HIDDEN, LSTM_FEATURES

    def draw(*shape):
        return rng.uniform(-0.3, 0.3, shape).round(3).tolist()
    return {"network": {"input": [LSTM_STEPS, f], "loss": "cce", "layers": [
        {"type": "lstm", "hidden": h, "last": True}, {"type": "dense", "units": LSTM_CLASSES},
        {"type": "softmax"}]},
        "inputs": {"x": draw(LSTM_STEPS, f), "y": [1, 0, 0, 0]},
        "parameters": {"W1": draw(4 * h, f), "U1": draw(4 * h, h), "b1": draw(4 * h),
                       "W2": draw(LSTM_CLASSES, h), "b2": draw(LSTM_CLASSES)}}


def bench_lstm():
    rng = np.random.default_rng(7)
    start = time.perf_counter()
    kernel = sb.load_dict(lstm_table(rng)).compile()
    built = time.perf_counter() - start
    params = kernel.parameters()
    x = rng.standard_normal((LSTM_BATCH, LSTM_STEPS, LSTM_FEATURES))
    y = np.eye(LSTM_CLASSES)[rng.integers(0, LSTM_CLASSES, LSTM_BATCH)]
    model = torch.nn.LSTM(LSTM_FEATURES, LSTM_HIDDEN, batch_first=True).double()
    with torch.no_grad():
        model.weight_ih_l0.copy_(torch.tensor(params["W1"]))
        model.weight_hh_l0.copy_(torch.tensor(params["U1"]))
        model.bias_ih_l0.copy_(torch.tensor(params["b1"]))
        model.bias_hh_l0.zero_()
    W2 = torch.tensor(params["W2"], requires_grad=True)
    b2 = torch.tensor(params["b2"], requires_grad=True)
    tx, labels = torch.tensor(x), torch.tensor(y.argmax(1))

    def torch_step():
        model.zero_grad()
        W2.grad = b2.grad = None
        out, _ = model(tx)
        loss = F.cross_entropy(F.linear(out[:, -1], W2, b2), labels)
        loss.backward()
        return float(loss)

    loss, grads = kernel.loss_and_grad(params, {"x": x, "y": y})
    assert abs(loss - torch_step()) < 1e-12
    for ours, theirs in ((grads["W1"], model.weight_ih_l0.grad), (grads["U1"], model.weight_hh_l0.grad),
                         (grads["b1"], model.bias_ih_l0.grad), (grads["W2"], W2.grad), (grads["b2"], b2.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-14)
    print(f"\nLSTM ({LSTM_STEPS} steps, {LSTM_FEATURES} features, hidden {LSTM_HIDDEN}, batch"
          f" {LSTM_BATCH}), float64: gradients equal to nn.LSTM's (1e-10); kernel built in"
          f" {built:.1f} s")
    data = {"x": x, "y": y}
    best = compare({"kernel": lambda: [kernel.loss_and_grad(params, data) for _ in range(5)],
                    "torch": lambda: [torch_step() for _ in range(5)]}, ROUNDS * 3)
    print(f"{'one batch, loss and gradient':40} {'kernel ms':>9} {'torch ms':>9}")
    print(f"{'':40} {best['kernel'] / 5 * 1e3:9.2f} {best['torch'] / 5 * 1e3:9.2f}"
          f"   {best['kernel'] / best['torch']:.2f}x PyTorch eager")


def main():
    print(f"threads {THREADS}; numpy {np.__version__}, torch {torch.__version__}")
    bench_digits()
    bench_lstm()


if __name__ == "__main__":
    main()
