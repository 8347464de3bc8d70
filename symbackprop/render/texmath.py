"""The document's math for media without LaTeX: a terminal's text and the browser's MathML.

The worked solution's math is LaTeX (:mod:`.printer`, in the lectures' notation). This
module reads the part of LaTeX the document writes into a small tree (:func:`read`) and
prints the tree in two media:

* :class:`Plain`, for a terminal: ``\\frac{\\partial E}{\\partial w_{1}}`` as ``dE/dw1``
  (a derivative by its claim key), ``w_{1}^{\\text{new}}`` as ``w1_new``,
  ``\\sigma\\!\\left(z\\right)`` as ``σ(z)``, ``3.709 \\cdot 10^{-6}`` as ``3.709e-6`` (as
  the display policy writes a number in text), a matrix as a claims file writes an array
  (``[[0.1, 0.2], [0.3, 0.4]]``); a name of the problem as the problem file writes it
  (``W1[0][1]``), so every quantity reads as its key (docs/claim-keys.md);
* :class:`MathML`, for the HTML handout: presentation MathML the browser lays out, each
  name as :func:`.mathml.name_mathml` writes it.
"""

from __future__ import annotations

import re
import unicodedata
from html import escape

from .. import ops
from ..notation import latex_name
from .equations import environment_body
from .mathml import name_mathml

#: Commands that set one character (or a few), and what they set.
SYMBOLS = {
    **ops.COMMAND_WORDS,  # the ops' commands: \\times, \\sqrt, \\log, ...
    "cdot": "·", "odot": "⊙", "approx": "≈", "leftarrow": "←", "to": "→",
    "ge": "≥", "le": "≤", "geq": "≥", "leq": "≤", "ne": "≠", "dots": "...", "ldots": "...",
    "cdots": "...", "partial": "∂", "nabla": "∇", "sum": "Σ", "prod": "Π", "infty": "∞",
    "lVert": "‖", "rVert": "‖", "epsilon": "ε", "varepsilon": "ε", "{": "{", "}": "}",
    "_": "_", "%": "%", "&": "&", "#": "#", "|": "‖",
}
#: Commands that are space: their width in em (\, and \! are nothing in plain text).
SPACES = {"quad": 1.0, "qquad": 2.0, ",": 0.0, "!": 0.0, ";": 0.28, " ": 0.28, ":": 0.22}
#: Commands whose argument is a word set upright (\text{new}, \operatorname{relu}).
WORDS = {"text", "mathrm", "mathsf", "mathbf", "boldsymbol", "operatorname", "mathit"}
#: Commands that set nothing.
NOTHING = {"displaystyle", "textstyle", "big", "Big"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PRIVATE = 0xE000


# ---------------------------------------------------------------------- the tree
# ("tok", kind, text) with kind mi, mn, mo, mtext or space (text: the width in em);
# ("name", name); ("row", items); ("frac", top, bottom); ("scripts", base, sub, sup,
# whether the superscript came first);
# ("root", body); ("hat", base); ("fence", open, body, close); ("under", body, label);
# ("matrix", rows of cells); ("break",).


def read(tex: str, names: dict[str, str] | None = None) -> tuple:
    """The tree of ``tex``; each LaTeX name in ``names`` (LaTeX -> the problem's name)
    read as that name."""
    marks = {}
    for i, (latex, name) in enumerate(sorted((names or {}).items(), key=lambda kv: -len(kv[0]))):
        mark = chr(_PRIVATE + i)
        tex = _swap(tex, latex, mark)
        marks[mark] = name
    return ("row", _Reader(tex, marks).sequence())


def names_of(solution) -> dict[str, str]:
    """{LaTeX of a name: the name as the problem file writes it}, for every name of the
    solution whose LaTeX is not the name itself (``w_{1}``: ``w1``)."""
    return {tex: name for name in solution.graph.names if (tex := latex_name(name)) != name}


def _swap(tex: str, latex: str, mark: str) -> str:
    """``latex`` replaced by ``mark`` where it stands as a whole name (not inside a
    command's letters or a longer word)."""
    out, i = [], 0
    while True:
        j = tex.find(latex, i)
        if j < 0:
            out.append(tex[i:])
            return "".join(out)
        end = j + len(latex)
        before = tex[j - 1] if j else ""
        after = tex[end] if end < len(tex) else ""
        inside = latex[0].isalpha() and (before.isalpha() or before == "\\")
        if inside or latex[-1].isalnum() and after.isalnum():
            out.append(tex[i:j + 1])
            i = j + 1
            continue
        out.append(tex[i:j] + mark)
        i = end


class _Reader:
    def __init__(self, tex: str, marks: dict[str, str]):
        self.tex = tex
        self.marks = marks
        self.i = 0

    def sequence(self, stop: str | None = None) -> list:
        items: list = []
        while self.i < len(self.tex):
            if stop is not None and self.tex.startswith(stop, self.i):
                self.i += len(stop)
                break
            ch = self.tex[self.i]
            if ch in "^_" and items:
                self.i += 1
                base = items.pop()
                script = self.group()
                if base[0] == "scripts":
                    _, b, sub, sup, raised = base
                    items.append(("scripts", b, script if ch == "_" else sub,
                                  script if ch == "^" else sup, raised))
                else:  # raised: the superscript was written first (W^{[1]}_{new})
                    items.append(("scripts", base, script if ch == "_" else None,
                                  script if ch == "^" else None, ch == "^"))
                continue
            item = self.token()
            if item is not None:
                items.append(item)
        return items

    def group(self) -> tuple:
        """One argument: a braced group or a single token."""
        while self.tex.startswith(" ", self.i):
            self.i += 1
        if self.tex.startswith("{", self.i):
            self.i += 1
            return ("row", self.sequence("}"))
        item = self.token() if self.i < len(self.tex) else None
        return item if item is not None else ("row", [])

    def word(self) -> str:
        """A braced argument as its characters (\\text{since the target ...})."""
        if not self.tex.startswith("{", self.i):
            return ""
        depth, start = 0, self.i
        while self.i < len(self.tex):
            depth += {"{": 1, "}": -1}.get(self.tex[self.i], 0)
            self.i += 1
            if depth == 0:
                break
        return re.sub(r"\\(.)", r"\1", self.tex[start + 1:self.i - 1])

    def token(self):
        tex, ch = self.tex, self.tex[self.i]
        m = _NUMBER.match(tex, self.i)
        if m:
            self.i = m.end()
            return ("tok", "mn", m.group(0))
        self.i += 1
        if ch == "{":
            return ("row", self.sequence("}"))
        if ch in self.marks:
            return ("name", self.marks[ch])
        if ch == "&":
            if tex.startswith("&", self.i):  # && before a note: a wide space
                self.i += 1
                return ("tok", "space", 2.0)
            return None
        if ch == " ":
            return ("tok", "space", -1)  # a space as typed: kept in text, not in MathML
        if ch.isalpha():
            return ("tok", "mi", ch)
        if ch != "\\":
            return ("tok", "mo", ch)
        m = re.match(r"[A-Za-z]+", tex[self.i:])
        if not m:
            nxt = tex[self.i:self.i + 1]
            self.i += 1
            if nxt == "\\":
                return ("break",)
            if nxt in SPACES:
                return ("tok", "space", SPACES[nxt])
            return ("tok", "mo", SYMBOLS.get(nxt, nxt))
        self.i += len(m.group(0))
        return self.command(m.group(0))

    def command(self, name: str):
        if name in ("frac", "tfrac", "dfrac"):
            return ("frac", self.group(), self.group())
        if ops.COMMAND_WORDS.get(name) == "√":  # a root: its argument under it
            return ("root", self.group())
        if name == "hat":
            return ("hat", self.group())
        if name == "underbrace":
            body = self.group()
            label = None
            if self.tex.startswith("_", self.i):
                self.i += 1
                label = self.group()
            return ("under", body, label)
        if name == "begin":
            return self.matrix()
        if name == "left":
            opening = self.delimiter()
            body = ("row", self.sequence("\\right"))
            return ("fence", opening, body, self.delimiter())
        if name in WORDS:
            return ("tok", "mtext" if name == "text" else "mi", self.word())
        if name in NOTHING:
            return None
        if name in SPACES:
            return ("tok", "space", SPACES[name])
        if name in SYMBOLS:
            text = SYMBOLS[name]
            return ("tok", "mi" if text.isalpha() else "mo", text)
        try:
            letter = unicodedata.lookup(
                f"GREEK {'SMALL' if name.islower() else 'CAPITAL'} LETTER {name.upper()}")
            return ("tok", "mi", letter)
        except KeyError:
            return ("tok", "mi", name)  # a function's name: \log, \tanh, \max

    def delimiter(self) -> str:
        """The delimiter after \\left or \\right: ``(``, ``.`` (none), ``\\lVert`` ..."""
        ch = self.tex[self.i:self.i + 1]
        self.i += 1
        if ch == "\\":
            m = re.match(r"[A-Za-z]+|.", self.tex[self.i:])
            self.i += len(m.group(0))
            return SYMBOLS.get(m.group(0), m.group(0))
        return "" if ch == "." else ch

    def matrix(self) -> tuple:
        """``\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}``: its rows of cells."""
        body, self.i = environment_body(self.tex, self.i)
        return ("matrix", [[("row", _Reader(cell, self.marks).sequence())
                             for cell in row.split("&")]
                            for row in body.split(r"\\") if row.strip()])


# ---------------------------------------------------------------------- plain text

_POWER_OF_TEN = re.compile(r"(-?\d+(?:\.\d+)?) \\cdot 10\^\{(-?\d+)\}")
_BARE_POWER = re.compile(r"(?<![\w.^{])10\^\{(-?\d+)\}")
_ATOM = re.compile(r"[\w.\[\]'\u0302‖]+|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


class Plain:
    """The document's LaTeX as plain text, with the problem's names (:func:`names_of`)."""

    def __init__(self, names: dict[str, str] | None = None):
        self.names = names or {}

    def __call__(self, tex: str) -> str:
        tex = _POWER_OF_TEN.sub(  # numbers as the display policy spells them: 1.39e+65
            lambda m: f"{m.group(1)}e{'' if m.group(2).startswith('-') else '+'}{m.group(2)}",
            tex)
        tex = _BARE_POWER.sub(r"1e\1", tex)
        text = self.print(read(tex, self.names))
        # a derivative in running text (a table's head) as its key; a sample's as dE/dw@s
        text = re.sub(r"∂ ?([^\s/]+)/∂ ?([^\s/]+)", r"d\1/d\2", text)
        text = re.sub(r"d([^\s/]+)@(s\d*)/d(\S+)", r"d\1/d\3@\2", text)
        return re.sub(r" {2,}", lambda m: m.group(0) if len(m.group(0)) >= 4 else " ",
                      text).strip()

    def print(self, node) -> str:
        return getattr(self, f"_print_{node[0]}")(*node[1:])

    def _print_tok(self, kind: str, text) -> str:
        if kind == "space":
            return " " if text == -1 else " " * round(2 * text)
        return text

    def _print_name(self, name: str) -> str:
        return name

    def _print_row(self, items: list) -> str:
        # a fraction before a bracket stands apart from it: 1/2 (a + b)
        return "".join(self.print(item) + (" " if item[0] == "frac" and i + 1 < len(items)
                                           and items[i + 1][0] == "fence" else "")
                       for i, item in enumerate(items))

    def _print_frac(self, top, bottom) -> str:
        top, bottom = self.print(top).strip(), self.print(bottom).strip()
        if top.startswith("∂") and bottom.startswith("∂"):  # a derivative, as its key
            return f"d{top[1:].strip()}/d{bottom[1:].strip()}"
        return f"{_wrap(top)}/{_wrap(bottom)}"

    def _print_root(self, body) -> str:
        return "√" + _wrap(self.print(body))

    def _print_hat(self, base) -> str:
        return self.print(base) + "\u0302"

    def _print_fence(self, opening: str, body, closing: str) -> str:
        return opening + self.print(body) + closing

    def _print_under(self, body, label) -> str:
        text = self.print(body)
        return f"{text} [{self.print(label)}]" if label is not None else text

    def _print_matrix(self, rows) -> str:
        return "[" + ", ".join("[" + ", ".join(self.print(c).strip() for c in row) + "]"
                               for row in rows) + "]"

    def _print_break(self) -> str:
        return "\n"

    def _print_scripts(self, base, sub, sup, raised=False) -> str:
        text = self.print(base)
        if base[0] == "fence" and base[3] == "|" and sub is not None:  # dh3/dw|h2
            text, sub = text + self.print(sub), None
        elif base[0] == "frac" or base[0] == "fence" and sup is not None:
            text = text if _bracketed(text) else _wrap(text)
        lower = "" if sub is None else self.subscript(self.print(sub))
        upper = "" if sup is None else self.superscript(self.print(sup))
        return text + (upper + lower if raised else lower + upper)

    @staticmethod
    def subscript(s: str) -> str:
        if s == "new":
            return "_new"
        return f"_{s}" if _ATOM.fullmatch(s) else f"_({s})"

    @staticmethod
    def superscript(s: str) -> str:
        if s == "new":
            return "_new"
        if s == "T":
            return "ᵀ"
        if re.fullmatch(r"\((\d+|s)\)", s):  # after step t (w1@2), of sample s (E@s)
            return "@" + s[1:-1]
        return f"^{s}" if _ATOM.fullmatch(s) else f"^({s})"


def _wrap(text: str) -> str:
    """A fraction's part or a root: in parentheses when it is more than one atom."""
    return text if _ATOM.fullmatch(text) or _bracketed(text) else f"({text})"


def _bracketed(text: str) -> bool:
    """``(y - y_t)`` or ``(y - y_t)^2``: one group in parentheses, perhaps raised."""
    if not text.startswith("("):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            rest = text[i + 1:]
            return rest == "" or rest.startswith("^") and bool(_ATOM.fullmatch(rest[1:]))
    return False


# ---------------------------------------------------------------------- MathML

#: Operators as MathML sets them (a minus sign, a centred dot).
_OPERATORS = {"-": "\u2212", "·": "\u22c5", "*": "\u2217"}
_FORMS = {"(": "prefix", "[": "prefix", ")": "postfix", "]": "postfix"}


class MathML:
    """The document's LaTeX as presentation MathML (a fragment, no <math>)."""

    def __init__(self, names: dict[str, str] | None = None):
        self.names = names or {}

    def __call__(self, tex: str) -> str:
        return self.print(read(tex, self.names))

    def print(self, node) -> str:
        return getattr(self, f"_print_{node[0]}")(*node[1:])

    def _print_tok(self, kind: str, text) -> str:
        return self.token(kind, text)

    def _print_name(self, name: str) -> str:
        return name_mathml(name)

    def _print_row(self, items: list) -> str:
        out, previous = [], None
        for item in items:
            if item[:3] == ("tok", "mo", "-") and (previous is None or previous[:2] == (
                    "tok", "mo") and previous[2] in "([=≈,+·"):
                out.append('<mo form="prefix">\u2212</mo>')  # a sign, not a subtraction
            else:
                out.append(self.print(item))
            if item[:2] != ("tok", "space"):
                previous = item
        return "<mrow>" + "".join(out) + "</mrow>"

    def _print_frac(self, top, bottom) -> str:
        return f"<mfrac>{self.print(top)}{self.print(bottom)}</mfrac>"

    def _print_scripts(self, base, sub, sup, raised=False) -> str:
        base = self.print(base)
        if sub is not None and sup is not None:
            return f"<msubsup>{base}{self.print(sub)}{self.print(sup)}</msubsup>"
        if sub is not None:
            return f"<msub>{base}{self.print(sub)}</msub>"
        return f"<msup>{base}{self.print(sup)}</msup>"

    def _print_root(self, body) -> str:
        return f"<msqrt>{self.print(body)}</msqrt>"

    def _print_hat(self, base) -> str:
        return f'<mover accent="true">{self.print(base)}<mo>^</mo></mover>'

    def _print_fence(self, opening: str, body, closing: str) -> str:
        opening = self.token("mo", opening) if opening else ""
        closing = self.token("mo", closing) if closing else ""
        return f"<mrow>{opening}{self.print(body)}{closing}</mrow>"

    def _print_under(self, body, label) -> str:
        brace = f"<munder>{self.print(body)}<mo>\u23df</mo></munder>"
        return f"<munder>{brace}{self.print(label)}</munder>" if label is not None else brace

    def _print_matrix(self, rows) -> str:
        cells = "".join("<mtr>" + "".join(f"<mtd>{self.print(c)}</mtd>" for c in row)
                        + "</mtr>" for row in rows)
        return f"<mrow><mo>[</mo><mtable>{cells}</mtable><mo>]</mo></mrow>"

    def _print_break(self) -> str:
        return '<mspace linebreak="newline"/>'

    @staticmethod
    def token(kind: str, text) -> str:
        if kind == "space":
            return f'<mspace width="{text}em"/>' if text > 0 else ""
        if kind == "mo" and text in _FORMS:  # a bracket hugs what it encloses
            return f'<mo form="{_FORMS[text]}" stretchy="false">{escape(text)}</mo>'
        if kind == "mo" and text == "/":  # a slash between partials: no space around it
            return '<mo lspace="0" rspace="0">/</mo>'
        if kind == "mo":
            return f"<mo>{escape(_OPERATORS.get(text, text))}</mo>"
        if kind == "mi" and len(text) > 1:
            return f'<mi mathvariant="normal">{escape(text)}</mi>'
        return f"<{kind}>{escape(text)}</{kind}>"
