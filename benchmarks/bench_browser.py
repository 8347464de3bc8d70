"""Browser pages: size and time to write, against the solve they start from.

For each problem, each the best of several runs from a cold SymPy cache, with the
baseline measured in the same run:

* ``solve``: load + solve (what every output needs anyway);
* ``html``: solve + the worked solution as a page (``--format html``);
* ``practice``: solve + the practice page (``--format practice``: the generated
  JavaScript and the catalogue of mistakes for every field);
* the size of each page in kB. Targets (issue 17): net-221's pages under 1 MB, each
  written in under 1 s.

Run: python benchmarks/bench_browser.py [PROBLEM ...]   (default: net-221 net-322
mlp-relu-bce)
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cold import best_of  # noqa: E402

import symbackprop as sb  # noqa: E402
from symbackprop.render import render_format  # noqa: E402


def measure(name: str) -> tuple[list[float], list[int]]:
    def solve():
        return sb.load(name).solve()

    sizes = [len(render_format(solve(), fmt).encode("utf-8")) for fmt in ("html", "practice")]
    times = [best_of(solve), best_of(lambda: render_format(solve(), "html")),
             best_of(lambda: render_format(solve(), "practice"))]
    return times, sizes


def main(names: list[str]) -> None:
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'problem':<14}{'solve':>9}{'html':>9}{'practice':>10}{'html kB':>10}"
          f"{'practice kB':>13}")
    for name in names:
        (solve, html, practice), (html_size, practice_size) = measure(name)
        print(f"{name:<14}{solve:>8.3f}s{html:>8.3f}s{practice:>9.3f}s"
              f"{html_size / 1000:>10.1f}{practice_size / 1000:>13.1f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["net-221", "net-322", "mlp-relu-bce"])
