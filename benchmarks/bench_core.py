"""Core speed, as ratios against baselines measured in the same run.

1. Loading and solving the 2-2-1 network (target: well under a second), against the
   naive route: sympy.diff of the fully substituted loss for each weight, then evalf.
2. Derivation of the scalar sigmoid MLP [4, 8, 8, 2] (130 parameters): the engine's
   local derivatives + one reverse sweep, against naive sympy.diff of the fully expanded
   loss with respect to each weight (target: at least 100 times faster), and the engine's
   cost per parameter from [4, 8, 8, 2] to [8, 16, 16, 4] (target: does not grow).

Run: python benchmarks/bench_core.py   (add --quick to skip the slow naive baseline)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sympy as sp  # noqa: E402
from cold import best_of, cold_start  # noqa: E402
from scalar_mlp import scalar_mlp_table  # noqa: E402

import symbackprop as sb  # noqa: E402
from symbackprop.derive import Derivation, adjoint_equations  # noqa: E402
from symbackprop.functions import sigmoid  # noqa: E402


def naive_gradients(problem, evaluate=True):
    """The route the engine avoids: substitute every node into the output, expand it
    into one expression of the leaves, and sympy.diff it once per parameter."""
    full = {}
    for node in problem.graph.nodes:
        full[node.symbol] = node.expr.xreplace(full).doit()
    loss = full[problem.graph.node(problem.graph.output).symbol].rewrite(sp.exp)
    point = {leaf.symbol: leaf.value for leaf in problem.graph.leaves.values()}
    grads = {}
    for p in problem.graph.parameters:
        d = sp.diff(loss, sp.Symbol(p, real=True))
        grads[p] = sp.N(d.xreplace(point), 30) if evaluate else d
    return grads


def derive(problem):
    derivation = Derivation(problem.graph)
    return adjoint_equations(derivation, problem.graph.output)


def main(quick=False):
    print(f"{'measurement':58} {'time':>10} {'baseline':>10} {'ratio':>8}")
    engine = best_of(lambda: sb.load("net-221").solve(), repeat=5)
    naive = best_of(lambda: naive_gradients(sb.load("net-221")), repeat=3)
    print(f"{'load + solve net-221 (vs naive sympy.diff per weight)':58} "
          f"{engine:10.4f} {naive:10.4f} {naive / engine:7.1f}x")

    per_param = {}
    for sizes in ([4, 8, 8, 2], [8, 16, 16, 4]):
        problem = sb.load_dict(scalar_mlp_table(sizes))
        n = len(problem.graph.parameters)
        t = best_of(lambda problem=problem: derive(problem), repeat=3)
        per_param[tuple(sizes)] = t / n
        label = f"derive MLP {sizes} ({n} params)"
        if sizes == [4, 8, 8, 2] and not quick:
            cold_start()
            start = time.perf_counter()
            naive_gradients(problem, evaluate=False)
            base = time.perf_counter() - start
            print(f"{label + ' vs naive sympy.diff':58} {t:10.4f} {base:10.4f} {base / t:7.1f}x")
        else:
            print(f"{label:58} {t:10.4f} {'':>10} {'':>8}")
    small, large = per_param[(4, 8, 8, 2)], per_param[(8, 16, 16, 4)]
    print(f"{'cost per parameter, [8,16,16,4] / [4,8,8,2]':58} {large:10.6f} {small:10.6f} "
          f"{large / small:7.2f}x")
    _ = sigmoid  # the naive route rewrites sigmoid as exponentials


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
