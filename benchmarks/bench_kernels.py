"""Kernel speed, as ratios against baselines measured in the same run.

1. 784-16-16-10 sigmoid/softmax network, cross-entropy, batch 100, loss and gradient:
   the network-form kernel against hand-written numpy backprop (target: at most 1.2x)
   and PyTorch eager on the CPU, float64 as well (when torch is installed).
2. The 2-2-1 network in graph form over a batch of 4096: the fused kernel against the
   same network written by hand in numpy (target: at most 1.5x).
3. Compiling the 784-16-16-10 kernel from a loaded problem (target: under 2 s).
4. Derivation + compile of the scalar sigmoid MLP [4, 8, 8, 2] in graph form (130
   parameters) against naive sympy.diff of the expanded loss per weight + lambdify
   (target: at least 100x faster), and the cost per parameter up to [8, 16, 16, 4].

Timings alternate between the sides (in reversed order every other round, each timed
block after one untimed call) and keep each side's best round, so a busy machine slows
both alike; the kernel-vs-numpy line also gives the spread of the ratio round by round. BLAS threads are pinned (default 1, ``--threads N``) before
numpy loads, and PyTorch gets the same number.

Run: python benchmarks/bench_kernels.py [--threads N] [--quick]
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
from bench_core import naive_gradients  # noqa: E402
from cold import cold_start  # noqa: E402
from numpy_backprop import (  # noqa: E402
    mlp_loss_and_grad,
    net221_loss_and_grad,
    network_table,
    random_batch,
    random_params,
)
from scalar_mlp import scalar_mlp_table  # noqa: E402

import symbackprop as sb  # noqa: E402
from symbackprop.kernels import available  # noqa: E402


def compare(functions: dict, number: int, rounds: int = 25) -> dict:
    """Time per call of each function in every round, the functions taking turns.

    Each side's timed calls start after one untimed call, and the order of the sides is
    reversed every other round, so neither side always runs on the caches the other
    left.
    """
    times = {name: [] for name in functions}
    order = list(functions.items())
    for _ in range(rounds):
        for name, fn in order:
            fn()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - start) / number)
        order.reverse()
    return times


def best(times: dict) -> dict:
    """Each side's best round."""
    return {name: min(t) for name, t in times.items()}


def spread(ours: list, base: list) -> str:
    """The ratio round by round (the two sides of one round ran next to each other):
    its median and its 10th to 90th percentile."""
    ratios = sorted(a / b for a, b in zip(ours, base, strict=True))
    pick = lambda q: ratios[round(q * (len(ratios) - 1))]  # noqa: E731
    return f"  (per round: median {pick(0.5):.2f}x, {pick(0.1):.2f}-{pick(0.9):.2f}x)"


def row(label, ours, base, note=""):
    ratio = ours / base if base else float("nan")
    print(f"{label:62} {ours * 1e6:10.1f} {base * 1e6:10.1f} {ratio:7.2f}x{note}")


def torch_step(params, x, y):
    """PyTorch eager: the same network, loss and gradient with autograd (float64)."""
    import torch

    torch.set_num_threads(THREADS)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, labels = torch.tensor(x), torch.tensor(y.argmax(axis=1))

    def step():
        for t in tp.values():
            t.grad = None
        h = torch.sigmoid(tx @ tp["W1"].T + tp["b1"])
        h = torch.sigmoid(h @ tp["W2"].T + tp["b2"])
        loss = torch.nn.functional.cross_entropy(h @ tp["W3"].T + tp["b3"], labels)
        loss.backward()
        return loss.item(), {k: t.grad for k, t in tp.items()}

    return step


def bench_mlp():
    layers = [784, 16, 16, 10]
    start = time.perf_counter()
    problem = sb.load_dict(network_table(layers, ["sigmoid", "sigmoid", "softmax"], "cce"))
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    kernel = problem.compile()
    compiled = time.perf_counter() - start
    params = random_params(layers, seed=3)
    x, y = random_batch(layers, 100, seed=4)
    data = {"x": x, "y": y}
    step = lambda: kernel.loss_and_grad(params, data)  # noqa: E731
    # numpy first, on its own: a side that runs after PyTorch finds the caches full of
    # PyTorch's data (5-10 % slower), so PyTorch gets a comparison of its own.
    times = compare({"kernel": step, "numpy": lambda: mlp_loss_and_grad(params, x, y)},
                    number=20, rounds=60)
    fastest = best(times)
    row("784-16-16-10 cce, batch 100: kernel vs hand-written numpy", fastest["kernel"],
        fastest["numpy"], spread(times["kernel"], times["numpy"]))
    if available("torch"):
        times = compare({"kernel": step, "torch": torch_step(params, x, y)}, number=20)
        fastest = best(times)
        row("784-16-16-10 cce, batch 100: kernel vs PyTorch eager", fastest["kernel"],
            fastest["torch"], spread(times["kernel"], times["torch"]))
    print(f"{'compile the 784-16-16-10 kernel (s; loading the problem: ' + f'{loaded:.2f} s)':62}"
          f" {compiled:10.3f}")


def bench_net221():
    kernel = sb.load("net-221").compile()
    rng = np.random.default_rng(0)
    data = {"x1": rng.random(4096), "x2": rng.random(4096), "y_t": rng.random(4096)}
    params = kernel.parameters()
    plain = {k: float(v) for k, v in params.items()}
    times = compare({"kernel": lambda: kernel.loss_and_grad(params, data),
                     "numpy": lambda: net221_loss_and_grad(plain, data["x1"], data["x2"],
                                                           data["y_t"])}, number=50)
    fastest = best(times)
    row("2-2-1 graph form, batch 4096: kernel vs hand-written numpy", fastest["kernel"],
        fastest["numpy"], spread(times["kernel"], times["numpy"]))


def derive_and_compile(table):
    problem = sb.load_dict(table)
    return problem.compile(form="graph")


def naive_derive_and_compile(table):
    problem = sb.load_dict(table)
    grads = naive_gradients(problem, evaluate=False)
    leaves = [leaf.symbol for leaf in problem.graph.leaves.values()]
    return sp.lambdify(leaves, list(grads.values()), modules="numpy")


def bench_scalar_mlp(quick: bool):
    per_param = {}
    for sizes in ([4, 8, 8, 2], [8, 16, 16, 4]):
        table = scalar_mlp_table(sizes)
        n = len(sb.load_dict(table).graph.parameters)
        times = []
        for _ in range(3):
            cold_start()
            start = time.perf_counter()
            derive_and_compile(table)
            times.append(time.perf_counter() - start)
        t = min(times)
        per_param[n] = t / n
        label = f"derive + compile scalar MLP {sizes} ({n} params)"
        if sizes == [4, 8, 8, 2] and not quick:
            cold_start()
            start = time.perf_counter()
            naive_derive_and_compile(table)
            base = time.perf_counter() - start
            print(f"{label + ' (s) vs naive':62} {t:10.3f} {base:10.3f} {t / base:7.4f}x"
                  f"  ({base / t:.0f} times faster)")
        else:
            print(f"{label + ' (s)':62} {t:10.3f}")
    small, large = per_param.values()
    print(f"{'cost per parameter, [8,16,16,4] / [4,8,8,2]':62} {'':>10} {'':>10} {large / small:7.2f}x")


def main():
    quick = "--quick" in sys.argv
    print(f"BLAS threads {THREADS}; numpy {np.__version__}, sympy {sp.__version__}"
          + (f", torch {__import__('torch').__version__}" if available("torch") else ""))
    print(f"{'measurement':62} {'ours':>10} {'baseline':>10} {'ratio':>8}")
    bench_mlp()
    bench_net221()
    bench_scalar_mlp(quick)


if __name__ == "__main__":
    main()
