"""Control characters written so that a terminal shows them instead of obeying them.

A name or title from a file may hold a newline, an escape sequence (``\\x1b[31m``), a bell
or a right-to-left override. Echoed raw, they split one ``error:`` line into two, recolour
the terminal or reorder what is shown. Every message and every line of text output goes
through :func:`printable`, which writes them as Python escapes (``\\n``, ``\\x1b``).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as an escape."""
    return _CONTROL.sub(_escape, text)


def printable_lines(text: str) -> str:
    """Like :func:`printable`, but keeping line breaks (and tabs) of multi-line output."""
    return _IN_LINES.sub(_escape, text)


def quoted(text: str) -> str:
    """``'text'`` with its control characters escaped."""
    return f"'{printable(text)}'"
