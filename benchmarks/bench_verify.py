"""Verification speed, as ratios against solving the same problem in the same run.

For each problem, three timings from a cold SymPy cache:

* ``solve``: load + solve (the baseline: verify has to do this anyway);
* ``honest sheet``: verify every value, gradient and update, rounded to 4 decimals
  (every number ``correct``: no recomputation);
* ``every number off``: the same sheet with every value and gradient moved by 3 units of
  the last digit (the worst case: every number goes through the rounding and carried
  recomputations and the diagnoses).

Target: a sheet of a few hundred numbers is checked in about a second, a few times the
cost of solving. Run: python benchmarks/bench_verify.py
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cold import best_of  # noqa: E402

import symbackprop as sb  # noqa: E402
from symbackprop.numbers import format_number  # noqa: E402


def sheet(name: str, off: Decimal) -> dict[str, str]:
    s = sb.load(name).solve()
    claims = {}
    for n in s.graph.names:
        claims[n] = str(Decimal(format_number(s.values[n], 4)) + off)
        claims[f"d{s.output}/d{n}"] = str(Decimal(format_number(s.gradients[n], 4)) + off)
    for n in s.graph.parameters:
        claims[f"{n}_new"] = format_number(s.updated[n], 4)
    return claims


def main():
    print(f"{'problem':<16} {'claims':>6} {'solve':>8} {'honest':>8} {'ratio':>6} "
          f"{'all off':>8} {'ratio':>6}")
    for name in ("net-221", "net-322", "mlp-relu-bce", "autoencoder-838"):
        honest, off = sheet(name, Decimal(0)), sheet(name, Decimal("0.0003"))
        t_solve = best_of(lambda name=name: sb.load(name).solve())
        t_honest = best_of(lambda name=name, c=honest: sb.verify(name, c))
        t_off = best_of(lambda name=name, c=off: sb.verify(name, c))
        print(f"{name:<16} {len(honest):>6} {t_solve:>7.3f}s {t_honest:>7.3f}s "
              f"{t_honest / t_solve:>5.1f}x {t_off:>7.3f}s {t_off / t_solve:>5.1f}x")


if __name__ == "__main__":
    main()
