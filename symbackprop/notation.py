"""Names in the lectures' notation: the one spelling of a leaf or node name in LaTeX.

:func:`latex_name` turns a name into the lectures' symbol (``w10`` -> w_{10}, ``z_a`` ->
z_{a}, ``y_hat`` -> \\hat{y}, ``W1`` -> W^{[1]}, ``W1[0][1]`` -> W^{[1]}_{12}). It is
core notation: the loader reads it (two names that print alike are an error), and every
printer (LaTeX, MathML, the figure, the marked sheet, the exams) prints names with it.
Element indices are shown from 1, as on paper: the claim key ``W1[0][1]`` is
W^{[1]}_{12}. The normalisation layers' mean, variance and normalised value (nodes
``mu2``, ``var2``, ``xhat2``) are μ^{[2]}, (σ^{[2]})² and x̂^{[2]} (:data:`STATISTICS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .parse import split_indexed

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}
#: Decorations written as a suffix: ``y_hat`` is ŷ.
ACCENTS = {"hat": r"\hat", "bar": r"\bar", "tilde": r"\tilde", "dot": r"\dot"}



@dataclass(frozen=True)
class Statistic:
    """A normalisation layer's intermediate as teachers write it: its letter in LaTeX, a
    power written outside the layer and element indices (σ² of feature 1 is
    (σ^{[2]}_{1})²), and the same symbol in plain text."""

    letter: str
    text: str
    power: str = ""


#: The batch and layer norm's intermediates by the node names the layers give them
#: (``mu{l}``, ``var{l}``, ``xhat{l}``; their claim keys keep those names): the mean μ, the
#: biased variance σ² and the normalised value x̂. Every format prints them from here.
STATISTICS = {
    "mu": Statistic(r"\mu", "μ"),
    "var": Statistic(r"\sigma", "σ²", power="2"),
    "xhat": Statistic(r"\hat{x}", "x\u0302"),
}


def statistic(kind: str, layer: str = "", sub: str = "") -> str:
    """The LaTeX of a normalisation intermediate (a key of :data:`STATISTICS`): the array
    of a layer (``layer = "2"``: μ^{[2]}, (σ^{[2]})²), one element of it (``sub``:
    (σ^{[2]}_{1})²), a single one (``sub`` alone: σ_{2}^{2}, as any name's digits are a
    subscript: a layer norm's statistics of one sample), or the generic symbol of a
    rule (σ², x̂_{i})."""
    s = STATISTICS[kind]
    head = s.letter + (f"^{{[{layer}]}}" if layer else "") + (f"_{{{sub}}}" if sub else "")
    if not s.power:
        return head
    return f"{{({head})}}^{{{s.power}}}" if layer else f"{head}^{{{s.power}}}"


_LAYERED = re.compile(r"([A-Za-z]+?)(\d+)")  # W1, z12: a layer number after the letters
_HEAD = re.compile(r"([A-Za-z]+?)(\d*)(?:_(.+))?")


def _letters(word: str) -> str:
    """A run of letters: Greek by name, one letter italic, a word upright."""
    if word in GREEK:
        return "\\" + word
    if len(word) == 1:
        return word
    return rf"\mathrm{{{word}}}"


def _two_letters(letters: str) -> bool:
    """``Wx``, ``Wh``, ``by``: two letters name one quantity, set as the first with the
    second as its subscript (W_x, as the lectures write an RNN's weights), never as the
    upright pair "Wx" that reads as a product with its neighbour (W x x_1)."""
    return len(letters) == 2 and letters not in GREEK


def _subscript(text: str) -> str:
    parts = [p for p in text.split("_") if p]
    return ",".join(_letters(p) if p.isalpha() and p in GREEK else p for p in parts)


@lru_cache(maxsize=4096)
def latex_name(name: str) -> str:
    """A leaf or node name in the lectures' notation (see the module docstring)."""
    if name.startswith("\\bar{") and name.endswith("}"):  # an adjoint placeholder
        return rf"\overline{{{latex_name(name[5:-1])}}}"
    indexed = split_indexed(name)
    if indexed is not None:
        base, index = indexed
        shown = [str(i + 1) for i in index]
        sub = ("," if any(len(s) > 1 for s in shown) else "").join(shown)
        return array_name(base, sub)
    for suffix, accent in ACCENTS.items():
        m = re.fullmatch(rf"(.+)_{suffix}(\d*)", name)  # y_hat, y_hat2
        if m:
            head = rf"{accent}{{{latex_name(m.group(1))}}}"
            return f"{head}_{{{m.group(2)}}}" if m.group(2) else head
    m = _HEAD.fullmatch(name)
    if m is None:  # not a name this tool produces; keep it readable and safe
        return rf"\mathrm{{{re.sub(r'[^A-Za-z0-9]', '', name)}}}"
    letters, digits, rest = m.groups()
    if letters in STATISTICS and digits and not rest:  # a single statistic: σ_{2}^{2}
        return statistic(letters, sub=digits)
    head = _letters(letters)
    sub = ",".join(p for p in (digits, _subscript(rest or "")) if p)
    if _two_letters(letters):
        head, sub = letters[0], ",".join(p for p in (letters[1], sub) if p)
    return f"{head}_{{{sub}}}" if sub else head


def array_name(name: str, sub: str = "") -> str:
    """A vector or matrix of the network form: ``W1`` -> W^{[1]}, ``x`` -> x; with ``sub``
    one element or slice of it (``"12"``: W^{[1]}_{12}; var2 with ``"1"``: (σ^{[2]}_{1})²)."""
    m = _LAYERED.fullmatch(name)
    if m and m.group(1) in STATISTICS:
        return statistic(m.group(1), m.group(2), sub)
    head = f"{_letters(m.group(1))}^{{[{m.group(2)}]}}" if m else latex_name(name)
    return f"{head}_{{{sub}}}" if sub else head
