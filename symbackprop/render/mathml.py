"""Notation for the browser: names and expressions as presentation MathML.

Browsers render MathML natively (Chromium since version 109), so a page needs no math
library and no network. Expressions are printed by SymPy's presentation MathML printer,
taught the lectures' notation the way :class:`~.printer.NotationPrinter` teaches the
LaTeX printer: the same names (:func:`~symbackprop.notation.latex_name`, read here from its small
LaTeX subset), the user's term order, and every function from the op table (σ, relu).
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from string import Formatter
from xml.dom import minidom

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from .. import ops
from ..notation import latex_name
from ..parse import WrittenNumber
from .printer import coefficient_first

#: The LaTeX commands the names and gate labels use, as the characters they set.
SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "cdot": "·", "partial": "∂",
    **ops.COMMAND_WORDS,  # the ops' commands: \\log, \\tanh, \\times, ...
}
ACCENT_MARKS = {"hat": "^", "bar": "¯", "tilde": "~", "dot": "˙", "overline": "¯"}
_TOKEN = re.compile(r"\\([A-Za-z]+)|([{}_^])|(.)", re.S)


def _tex_to_mathml(tex: str) -> str:
    """MathML of the small LaTeX subset that names and gate labels are written in:
    letters, digits, ``\\greek``, ``\\mathrm{..}``, accents, ``_{..}`` and ``^{..}``."""
    tokens = _TOKEN.findall(tex)
    pos = 0

    def group() -> str:
        nonlocal pos
        if pos < len(tokens) and tokens[pos][1] == "{":
            pos += 1
            return row("}")
        return atom()

    def atom() -> str:
        nonlocal pos
        command, special, char = tokens[pos]
        pos += 1
        if command in ("mathrm", "operatorname", "mathsf"):
            inner = group()
            words = re.sub(r"<[^>]+>", "", inner)
            return f'<mi mathvariant="normal">{words}</mi>'
        if command in ACCENT_MARKS:
            return f"<mover>{group()}<mo>{ACCENT_MARKS[command]}</mo></mover>"
        if special == "{":  # a braced group, one base for a script: {(\sigma_{1})}^{2}
            return _row(row("}"))
        if command:
            text = SYMBOLS.get(command, command)
            return f"<mi>{text}</mi>" if len(text) == 1 else f'<mi mathvariant="normal">{text}</mi>'
        if char.isdigit():
            return f"<mn>{char}</mn>"
        if char.isalpha():
            return f"<mi>{escape(char)}</mi>"
        if char.isspace():
            return ""
        if char in "()":  # a name's brackets, as tall as its letters: (σ^{[2]}_{1})²
            return f'<mo stretchy="false">{char}</mo>'
        return f"<mo>{escape(char)}</mo>"

    def row(end: str | None) -> str:
        nonlocal pos
        items: list = []  # MathML strings, or (base, superscript) awaiting a subscript
        while pos < len(tokens) and tokens[pos][1] != end:
            special = tokens[pos][1]
            if special in ("_", "^") and items:
                pos += 1
                script = _row(group())
                base = items.pop()
                if isinstance(base, tuple):  # W^{[1]}_{12}
                    items.append(f"<msubsup>{base[0]}{script}{base[1]}</msubsup>")
                elif special == "^":
                    items.append((base, script))
                else:
                    items.append(f"<msub>{base}{script}</msub>")
                continue
            items.append(atom())
        pos += 1
        out = [f"<msup>{i[0]}{i[1]}</msup>" if isinstance(i, tuple) else i for i in items]
        return _merge_digits("".join(out))

    return _row(row(None))


def _row(content: str) -> str:
    return content if content.count("<m") <= 1 or content.startswith("<mrow>") else f"<mrow>{content}</mrow>"


def _merge_digits(text: str) -> str:
    """Adjacent digits as one number: <mn>1</mn><mn>2</mn> -> <mn>12</mn>."""
    return re.sub(r"</mn><mn>", "", text)


@lru_cache(maxsize=4096)
def name_mathml(name: str) -> str:
    """A leaf or node name in the lectures' notation, as a MathML fragment (no <math>)."""
    return _tex_to_mathml(latex_name(name))


def tex_label_mathml(tex: str) -> str:
    """A short LaTeX label (a gate's symbol from the op table) as a MathML fragment."""
    return _tex_to_mathml(tex)


def tex_label_text(tex: str) -> str:
    """A short LaTeX label as plain text with Unicode symbols, for SVG text."""
    text = re.sub(r"\\(mathrm|operatorname|mathsf)", "", tex)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: SYMBOLS.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\^\{?(\d)\}?", lambda m: "⁰¹²³⁴⁵⁶⁷⁸⁹"[int(m.group(1))], text)
    return text.replace("^{n}", "ⁿ").replace("^n", "ⁿ").replace("{", "").replace("}", "")


def _element(fragment: str):
    """A MathML fragment as a DOM element for the printer (one element, or an mrow)."""
    root = minidom.parseString(f"<mrow>{fragment}</mrow>").documentElement
    children = [c for c in root.childNodes if c.nodeType == c.ELEMENT_NODE]
    return children[0] if len(children) == 1 else root


class NotationMathML(MathMLPresentationPrinter):
    """SymPy's presentation MathML printer with the lectures' names, the user's term
    order, and functions printed by their op's name (σ(z_a), not sigmoid(z_a))."""

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_Symbol(self, sym, style="plain"):
        return _element(name_mathml(sym.name))

    def _print_WrittenNumber(self, expr):
        return _element(number_mathml(expr.text))

    def _print_Mul(self, expr):
        if not isinstance(expr, sp.Mul):
            return super()._print_Mul(expr)
        flat = coefficient_first(ops.flat_args(expr))  # 2w, 0.2x: never "w2"
        if isinstance(flat[0], WrittenNumber) and len(flat) > 1:
            mrow = self.dom.createElement("mrow")
            mrow.appendChild(self._print(flat[0]))
            mrow.appendChild(_element("<mo>&#x2062;</mo>"))  # invisible times
            rest = flat[1:]
            body = rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
            if isinstance(body, sp.Add):
                mrow.appendChild(self._paren_comma_separated(body))
            else:
                mrow.appendChild(self._print(body))
            return mrow
        if flat != list(expr.args):
            expr = sp.Mul(*flat, evaluate=False)
        saved = self._settings["order"]
        self._settings["order"] = "old"  # keep the factors in the order written
        try:
            return super()._print_Mul(expr)
        finally:
            self._settings["order"] = saved

    def _print_Add(self, expr, order=None):
        flat = ops.flat_args(expr)
        # a term's coefficient first, so that its sign is the sum's: a − 3x, not a + −3x
        terms = [sp.Mul(*coefficient_first(ops.flat_args(t)), evaluate=False)
                 if isinstance(t, sp.Mul) and coefficient_first(ops.flat_args(t)) != list(t.args)
                 else t for t in flat]
        if terms != list(expr.args):
            expr = sp.Add(*terms, evaluate=False)
        return super()._print_Add(expr, order="none")

    def _function(self, word: str, args):
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(_element(_word_mathml(word)))
        mrow.appendChild(self._paren_comma_separated(*args))
        return mrow

    def _template(self, template: str, args):
        """An op's plain-text template as MathML: its characters as operators and
        numbers, its arguments printed ([z > 0])."""
        mrow = self.dom.createElement("mrow")
        for literal, field, _, _ in Formatter().parse(template):
            for char in literal.replace(" ", ""):
                tag = "mn" if char.isdigit() else "mo"
                mrow.appendChild(_element(f"<{tag}>{escape(char)}</{tag}>"))
            if field is not None:
                mrow.appendChild(self._print(args[int(field)]))
        return mrow


def _word_mathml(word: str) -> str:
    """A function's name: one letter italic (σ), a word upright (relu, leaky_relu)."""
    return f"<mi>{escape(word)}</mi>" if len(word) == 1 else \
        f'<mi mathvariant="normal">{escape(word)}</mi>'


def _function_printer(op: ops.Op):
    """How the op's SymPy class prints: its name then its arguments in brackets (and
    softmax's index), or its plain-text template ([z > 0])."""

    def _print(self, e):
        args = ops.classify(e)[1]
        if not op.notation.brackets:
            return self._template(op.notation.text, args)
        mrow = self._function(op.notation.word, args)
        if op.notation.subscript is None:
            return mrow
        sub = self.dom.createElement("msub")
        sub.appendChild(mrow)
        sub.appendChild(_element(f"<mn>{escape(op.notation.subscript(e))}</mn>"))
        return sub
    return _print


# One printing method per function class of the op table, generated from it, except
# where SymPy's MathML printer has its own (e^x, |x|).
for _cls, _name in ops.FUNCTION_CLASSES.items():
    _op = ops.OPS[_name]
    _own = _cls.__mro__[:_cls.__mro__.index(sp.Function)]
    if _op.notation.brackets or not any(hasattr(MathMLPresentationPrinter, f"_print_{c.__name__}")
                                        for c in _own):
        setattr(NotationMathML, f"_print_{_cls.__name__}", _function_printer(_op))


_PRINTER = NotationMathML()


def expr_mathml(expr) -> str:
    """An expression as a MathML fragment in the lectures' notation (a true minus sign)."""
    expr = sp.sympify(expr) if not isinstance(expr, sp.Basic) else expr
    return _PRINTER.doprint(expr).replace("<mo>-</mo>", "<mo>\u2212</mo>")


def math(fragment: str, display: bool = False) -> str:
    """A fragment wrapped in its <math> element (block when ``display``)."""
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{fragment}</math>'


def partial_mathml(top: str, bottom: str) -> str:
    """∂top/∂bottom as a MathML fraction."""
    return (f"<mfrac><mrow><mo>∂</mo>{name_mathml(top)}</mrow>"
            f"<mrow><mo>∂</mo>{name_mathml(bottom)}</mrow></mfrac>")


def number_mathml(text: str) -> str:
    """A formatted number (``-0.0533``, ``1.4e-05``) as MathML, with a true minus sign."""
    if text.startswith("-"):
        return f"<mrow><mo>\u2212</mo>{number_mathml(text[1:])}</mrow>"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return (f"<mrow><mn>{mantissa}</mn><mo>×</mo><msup><mn>10</mn>"
                f"<mn>{int(exponent)}</mn></msup></mrow>")
    return f"<mn>{text}</mn>"
