"""JSON as written by every command: always JSON, never Python's ``NaN`` or ``Infinity``.

Python's ``json`` writes a float that is not finite as ``NaN``, ``Infinity`` or
``-Infinity``, which no JSON parser has to accept (``JSON.parse`` in a browser and
``jq`` refuse it). A number that is not finite (a training loss that overflowed) is
written as ``null`` instead, and ``allow_nan=False`` makes any other way for one to
reach the output an error rather than a file that is not JSON (docs/json.md).
"""

from __future__ import annotations

import json
import math


def finite(value):
    """``value`` with every float that is not finite replaced by None, at any depth."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(value, **options) -> str:
    """``json.dumps`` of ``value`` with non-finite numbers as ``null``."""
    return json.dumps(finite(value), allow_nan=False, **options)
