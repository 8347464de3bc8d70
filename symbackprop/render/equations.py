"""Displayed equations that fit the page: ``lhs = side = side = ...`` broken into rows.

A worked solution writes most quantities as a chain of equal sides (the partials, the
local derivatives, the numbers, the result). :class:`Equation` holds one such chain and
lays it out as rows of an ``align*`` (or a Markdown ``aligned``) block: as many sides on
a row as fit, then one side per row, and a side that is still too wide (a long sum) is
split at its top-level ``+`` and ``-`` signs into continuation rows.

Widths are estimated from the LaTeX itself (:func:`width`, in "characters" of a
digit's width): a fraction is as wide as its wider part, a matrix as its columns, an
index counts less than a letter. The estimate errs on the wide side, so a row that it
accepts does not run into the margin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import ops

#: The mark of a transposed array (a long column written as a row).
TRANSPOSED = r"^{\mathsf{T}}"
#: Characters of a display line (A4, 2.2 cm margins, 11 pt), in digit widths.
LINE = 70
_BINARY = {"+": 2.6, "=": 2.8, "-": 2.0, "<": 2.6, ">": 2.6, ",": 1.0}
_COMMAND_WIDTH = {"cdot": 2.0, "quad": 2.0, "qquad": 4.0, "odot": 2.6, "times": 2.6,
                  "to": 2.6, "approx": 2.8, "ge": 2.6, "le": 2.6, "dots": 3.0,
                  "ldots": 3.0, "cdots": 3.0, "partial": 1.1,
                  # a function's name (\\log, \\tanh, \\max): its width in em from the op
                  # table, in digits (half an em), and a little room
                  **{name: 2 * em + 0.1 for name, em in ops.NAME_WIDTHS.items()}}
_ZERO = {"left", "right", "displaystyle", "textstyle", "mathsf", "mathrm", "operatorname",
         "text", "hat", "bar", "tilde", "dot", "overline", "big", "Big", "mathbf",
         "boldsymbol", "color", "phantom"}


def width(tex: str) -> float:
    """The estimated width of a piece of math, in digit widths."""
    return _Reader(tex).sequence()


class _Reader:
    def __init__(self, tex: str):
        self.tex = tex
        self.i = 0

    def sequence(self, stop: str | None = None) -> float:
        total = 0.0
        while self.i < len(self.tex):
            ch = self.tex[self.i]
            if stop is not None and ch == stop:
                self.i += 1
                return total
            total += self.token()
        return total

    def group(self) -> float:
        """One argument: a braced group or a single token."""
        while self.i < len(self.tex) and self.tex[self.i] == " ":
            self.i += 1
        if self.i < len(self.tex) and self.tex[self.i] == "{":
            self.i += 1
            return self.sequence("}")
        return self.token() if self.i < len(self.tex) else 0.0

    def token(self) -> float:
        tex = self.tex
        ch = tex[self.i]
        self.i += 1
        if ch == "{":
            return self.sequence("}")
        if ch in "^_":
            return 0.7 * self.group()
        if ch in " &\n":
            return 0.0
        if ch in _BINARY:
            return _BINARY[ch]
        if ch != "\\":
            return 1.0
        m = re.match(r"[A-Za-z]+", tex[self.i:])
        if not m:  # \, \; \! \{ \\
            nxt = tex[self.i:self.i + 1]
            self.i += 1
            return {",": 0.3, ";": 0.5, "!": -0.3, " ": 0.5}.get(nxt, 1.0)
        name = m.group(0)
        self.i += len(name)
        if name == "frac" or name == "tfrac":
            return max(self.group(), self.group()) + 0.6
        if name == "sqrt":
            return self.group() + 1.2
        if name == "begin":
            return self.environment()
        if name in ("left", "right"):
            if tex[self.i:self.i + 1] == "\\":  # \left\{ or \left\lVert
                self.i += 1
                m2 = re.match(r"[A-Za-z]+|.", tex[self.i:])
                self.i += len(m2.group(0)) if m2 else 0
            else:
                self.i += 1
            return 0.6
        if name in _ZERO:
            return 0.0
        return _COMMAND_WIDTH.get(name, 1.2)

    def environment(self) -> float:
        """``\\begin{bmatrix} ... \\end{bmatrix}``: the widest cell of each column."""
        body, self.i = environment_body(self.tex, self.i)
        columns: list[float] = []
        for row in body.split(r"\\"):
            for j, cell in enumerate(row.split("&")):
                w = width(cell)
                if j < len(columns):
                    columns[j] = max(columns[j], w)
                else:
                    columns.append(w)
        return sum(columns) + 1.6 * max(0, len(columns) - 1) + 2.0


def environment_body(tex: str, i: int) -> tuple[str, int]:
    """The body of the environment whose ``\\begin`` ends at ``i`` (``{bmatrix} a & b
    \\end{bmatrix}``: ``a & b``), and where its ``\\end{...}`` ends."""
    m = re.match(r"\{(\w+\*?)\}", tex[i:])
    env = m.group(1) if m else ""
    i += len(m.group(0)) if m else 0
    end = tex.find(rf"\end{{{env}}}", i)
    end = len(tex) if end < 0 else end
    return tex[i:end], end + len(rf"\end{{{env}}}")


def split_terms(tex: str) -> list[str]:
    """A sum split at its top-level ``+`` and ``-`` (each later term keeps its sign), and
    an element-wise product at its ``\\odot``."""
    terms, depth, start, i = [], 0, 0, 0
    while i < len(tex):
        if tex.startswith(r"\left", i) or tex.startswith(r"\begin", i):
            depth += 1
        elif tex.startswith(r"\right", i) or tex.startswith(r"\end", i):
            depth -= 1
        ch = tex[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and tex[i:i + 3] in (" + ", " - ") and i > start:
            terms.append(tex[start:i].strip())
            start = i + 1
        elif depth == 0 and tex.startswith(r" \odot ", i) and i > start:
            terms.append(tex[start:i].strip())  # an element-wise product of long vectors
            start = i + 1
        i += 1
    terms.append(tex[start:].strip())
    return [t for t in terms if t]


#: A side that begins with this is joined to the one before it by ≈ instead of =: the
#: numbers shown do not give its value within one unit of its last digit (see
#: :mod:`symbackprop.display`).
APPROX = "\\approx "


def approx(side: str, approximate: bool = True) -> str:
    """``side`` marked to follow ≈ (when ``approximate``)."""
    return APPROX + side if approximate else side


def _joined(group: list[str]) -> str:
    """Sides joined by their relations: ``a = b \\approx c``."""
    out = _bare(group[0])
    for side in group[1:]:
        out += (" \\approx " if side.startswith(APPROX) else " = ") + _bare(side)
    return out


def _bare(side: str) -> str:
    return side[len(APPROX):] if side.startswith(APPROX) else side


_POWER = re.compile(r"^(-?(?:[\d.]+ \\cdot )?)10\^\{(-?\d+)\}$")
_PLAIN = re.compile(r"^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$")


def shown_number(side: str) -> str | None:
    """The number a final side shows, as plain text a claims file takes (``-0.1331``,
    ``4.91e-8``); None when the side is no single number (a matrix, ``1 - 4.9e-55``)."""
    tex = _bare(side).strip()
    m = _POWER.match(tex)
    if m:  # 4.91 \cdot 10^{-8} is 4.91e-8; 10^{-8} is 1e-8
        mantissa = m.group(1).replace(r" \cdot ", "")
        tex = f"{mantissa if mantissa not in ('', '-') else mantissa + '1'}e{m.group(2)}"
    return tex if _PLAIN.match(tex) else None


_BMATRIX = re.compile(r"^\\begin\{bmatrix\}(.*)\\end\{bmatrix\}(.*)$", re.S)


def shown_array(side: str, transposed: str = "") -> str | None:
    """The numbers of a ``bmatrix`` side as a claims file writes an array
    (``[[0.1, 0.2], [0.3, 0.4]]``; a transposed row, ``transposed`` after it, as the
    flat vector it is); None for anything else (an array given by its shape)."""
    m = _BMATRIX.match(_bare(side).strip())
    if not m:
        return None
    rows = [[shown_number(cell) for cell in row.split("&")] for row in m.group(1).split(r"\\")]
    if any(cell is None for row in rows for cell in row):
        return None
    suffix = m.group(2).strip()
    if suffix and (suffix != transposed.strip() or len(rows) != 1):
        return None
    if suffix:
        return "[" + ", ".join(rows[0]) + "]"
    return "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"


@dataclass
class Equation:
    """``lhs = sides[0] = sides[1] = ...`` as rows of an alignment at the ``=``.

    ``key``: the claim key (docs/claim-keys.md) of the quantity the last side shows, so
    that every number a page shows can be checked by ``verify`` under its name."""

    lhs: str
    sides: list[str] = field(default_factory=list)
    #: The displayed computations (:class:`~symbackprop.display.Line`) whose numbers the
    #: sides show: the document's rounding note reads them (a refined factor, ≈).
    lines: tuple = ()
    #: The claim key (docs/claim-keys.md) of the quantity whose number the last side
    #: shows (``z_a``, ``dE/dw5``, ``w5_new``); None where no key names it yet. This is
    #: where a displayed number carries its key: a builder that writes a quantity sets it.
    key: str | None = None
    #: The claim keys of the elements an array side shows, ``[(key, number shown)]``
    #: (``a1[0][2][3]``, ``dL/dK1[0][0][1][1]``): set by a builder that writes a tensor.
    elements: list[tuple[str, str]] = field(default_factory=list)

    def claims(self) -> list[tuple[str, str]]:
        """``[(key, number shown)]`` for the result, when it has a key and is a number,
        and for each element of an array it shows."""
        last = self.sides[-1] if self.sides and self.key else ""
        shown = (shown_number(last) or shown_array(last, TRANSPOSED)) if last else None
        return ([(self.key, shown)] if shown is not None else []) + list(self.elements)

    def rows(self, limit: float = LINE) -> list[str]:
        """The rows of an ``align*``: ``lhs &= a = b``, then ``&= c``, ``&\\quad + d``.

        Sides are packed greedily; the result (the last side) is kept on the row of the
        side before it when it would otherwise stand alone, so that the numbers and
        their value read together.
        """
        sides = unique_sides(self.sides)
        if not sides:
            return [self.lhs]
        lead = width(self.lhs) + 2.8
        groups: list[list[str]] = []  # sides per row
        used = 0.0
        split_rows: dict[int, list[str]] = {}  # row index -> a side split over rows
        for side in sides:
            w = width(side)
            if groups and groups[-1] and len(groups) - 1 not in split_rows \
                    and used + 2.8 + w <= limit:
                groups[-1].append(side)
                used += 2.8 + w
                continue
            groups.append([side])
            used = lead + w
            if used > limit and len(split_terms(side)) > 1:
                split_rows[len(groups) - 1] = _pack(split_terms(side), limit - lead - 2.0)
        if (len(groups) > 1 and len(groups[-1]) == 1 and len(groups[-2]) > 1
                and len(groups) - 2 not in split_rows
                and lead + width(groups[-2][-1]) + 2.8 + width(groups[-1][0]) <= limit):
            groups[-1].insert(0, groups[-2].pop())
        rows = []
        for i, group in enumerate(groups):
            relation = r"\approx" if group[0].startswith(APPROX) else "="
            prefix = f"{self.lhs} &{relation} " if i == 0 else f"&{relation} "
            if i in split_rows:
                parts = split_rows[i]
                rows.append(prefix + _bare(parts[0]))
                rows.extend(r"&\quad " + p for p in parts[1:])
            else:
                rows.append(prefix + _joined(group))
        return rows


    def text_lines(self, plain, limit: int = 88) -> list[str]:
        """The equation in plain text (``plain``: LaTeX to text, :mod:`.plain`), for a
        terminal: ``lhs = a = b`` while the line fits ``limit`` characters, then each
        further side on a line of its own below the first ``=``."""
        lhs = plain(self.lhs)
        pad = " " * len(lhs)
        lines, line = [], lhs
        for side in unique_sides(self.sides):
            piece = f" {'≈' if side.startswith(APPROX) else '='} {plain(_bare(side))}"
            if line != lhs and len(line) + len(piece) > limit:
                lines.append(line)
                line = pad
            line += piece
        return lines + [line]


def _pack(terms: list[str], limit: float) -> list[str]:
    """Terms of a sum (later ones signed: ``+ b``, ``- c``) packed into lines."""
    lines: list[str] = []
    line, used = "", 0.0
    for term in terms:
        w = width(term)
        if line and used + w + 1 > limit:
            lines.append(line)
            line, used = term, w
        else:
            line, used = (f"{line} {term}", used + w + 1) if line else (term, w)
    lines.append(line)
    return lines


def unique_sides(sides: list[str]) -> list[str]:
    """Sides without consecutive repeats (x_1 = x_1 = 0.23 reads x_1 = 0.23)."""
    out: list[str] = []
    for s in sides:
        if s and (not out or out[-1] != s):
            out.append(s)
    return out
