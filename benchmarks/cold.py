"""Timing from a cold start, shared by the benchmarks.

SymPy caches every expression it builds and symbackprop memoizes values and derivations
by shape; a warm cache would remember the previous run and flatter every measurement.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sympy.core.cache import clear_cache  # noqa: E402

from symbackprop.evaluate import clear_memos  # noqa: E402


def cold_start() -> None:
    """Forget SymPy's cache and symbackprop's memos."""
    clear_cache()
    clear_memos()


def best_of(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs of ``fn``, each from a cold start."""
    times = []
    for _ in range(repeat):
        cold_start()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
