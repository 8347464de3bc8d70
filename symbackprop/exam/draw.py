"""Nice numbers from a seeded generator, so that students can compute by hand.

Every draw goes through :class:`Draw`, a thin wrapper around its own
``random.Random``: never the global generator, so a variant depends only on its
family, the exam's seed, its index and its attempt number. Numbers are drawn as
integers and divided (``k / 10``), so they are exactly the one- or two-decimal numbers
they print as, and the loader reads them back as exact rationals.
"""

from __future__ import annotations

import random


class Draw:
    """The random choices of one variant attempt."""

    def __init__(self, *parts):
        # A string seed is hashed with SHA-512 by random.Random: stable across runs
        # and platforms, unaffected by PYTHONHASHSEED.
        self.rng = random.Random("/".join(str(p) for p in parts))

    def number(self, low: float, high: float, decimals: int = 1, nonzero: bool = True) -> float | int:
        """A number in [low, high] with at most ``decimals`` decimals (0 excluded if asked)."""
        scale = 10 ** decimals
        lo, hi = round(low * scale), round(high * scale)
        while True:
            k = self.rng.randint(lo, hi)
            if k or not nonzero:
                break
        if decimals == 0 or k % scale == 0:
            return k // scale
        return k / scale

    def numbers(self, count: int, low: float, high: float, decimals: int = 1,
                nonzero: bool = True) -> list:
        return [self.number(low, high, decimals, nonzero) for _ in range(count)]

    def choice(self, options):
        return options[self.rng.randrange(len(options))]

    def shuffled(self, items: list) -> list:
        items = list(items)
        self.rng.shuffle(items)
        return items
