"""Option values that several subcommands read the same way."""

from __future__ import annotations

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
