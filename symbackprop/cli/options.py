"""Option values that several subcommands read the same way."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..errors import SymbackpropError, did_you_mean


def format_list(text: str, allowed) -> list[str]:
    """``--format tex,pdf``: the named formats, each checked, in order, without repeats."""
    formats = [f.strip() for f in text.split(",") if f.strip()]
    for f in formats:
        if f not in allowed:
            raise SymbackpropError(f"--format: unknown format '{f}'{did_you_mean(f, allowed)}"
                                   f" (formats: {', '.join(allowed)})")
    if not formats:
        raise SymbackpropError("--format: name at least one format")
    return list(dict.fromkeys(formats))


def decimal_option(text: str, option: str, low, high, rule: str) -> Decimal:
    """An option's number, exact, within [low, high]; else one error naming the option
    (``--band: 'x' is not a number``, ``--carried: RULE``)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SymbackpropError(f"{option}: '{text}' is not a number") from None
    if not value.is_finite() or not low <= value <= high:
        raise SymbackpropError(f"{option}: {rule}")
    return value
