"""The Jinja environment every LaTeX document of symbackprop is rendered with.

Following Sphinx's LaTeX builder: delimiters that do not clash with TeX's braces
(``\\VAR{x}``, ``\\BLOCK{if ...}``, ``%%`` line statements, ``%#`` line comments), a
sandboxed environment (a template can read what it is handed, nothing else), strict
undefined variables (a typo is an error, not an empty string), and an escaping filter
for every piece of user text. Templates hold layout only: Python hands them ready LaTeX
strings and numbers.

The templates live in the top-level ``templates/`` directory of a checkout and ship
inside the wheel as ``symbackprop/templates`` (see ``pyproject.toml``), so a
non-editable install finds them from any working directory.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from ..numbers import format_number

_TEX_SPECIAL = {
    "&": r"\&", "%": r"\%", "$": r"$\$$", "#": r"\#", "{": r"\{", "}": r"\}",
    # The OT1 text fonts have no glyph for these: the typewriter font's, so that they
    # appear on the page (and in pdftotext) as the characters the user wrote.
    "_": r"{\ttfamily\char95}", "~": r"{\ttfamily\char126}", "^": r"{\ttfamily\char94}",
    "\\": r"{\ttfamily\char92}", "<": "$<$", ">": "$>$", "|": r"$|$",
}
#: Unicode that text in the lectures uses and pdflatex has no glyph for, as LaTeX.
_UNICODE = {
    "½": r"$\frac{1}{2}$", "−": "$-$", "·": r"$\cdot$", "×": r"$\times$", "≈": r"$\approx$",
    "→": r"$\rightarrow$", "←": r"$\leftarrow$", "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$",
    "∂": r"$\partial$", "Σ": r"$\Sigma$", "σ": r"$\sigma$", "η": r"$\eta$", "δ": r"$\delta$",
    "Δ": r"$\Delta$", "α": r"$\alpha$", "β": r"$\beta$", "λ": r"$\lambda$", "μ": r"$\mu$", "θ": r"$\theta$",
    "ŷ": r"$\hat{y}$", "ᵀ": r"$^{\mathsf{T}}$", "²": r"$^{2}$", "⊙": r"$\odot$", "⋆": r"$\star$",
    "∗": r"$\ast$", "ε": r"$\epsilon$", "γ": r"$\gamma$", "√": r"$\surd$", "∞": r"$\infty$",
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}",
}


def escape_tex(text) -> str:
    """Plain text made safe for LaTeX: every special character printed literally.

    ``\\input{/etc/passwd}`` comes out as those characters on the page, never as a
    command. Unicode beyond Latin-1 that pdflatex cannot set is mapped to LaTeX where
    the lectures use it (σ, −, ½, ...) and replaced by ``?`` otherwise, so that no
    title can make the TeX run fail.
    """
    out = []
    for ch in str(text):
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ch in "\t\n\r":
            out.append(" ")
        elif not ch.isprintable():
            continue
        elif ord(ch) < 0x180 and unicodedata.category(ch) != "Cc":
            out.append(ch)  # ASCII and the accented Latin letters inputenc composes (é, ß, ł)
        else:
            out.append("?")
    return "".join(out)


def template_dirs() -> list[Path]:
    """Where the templates are: inside the installed package, or the checkout's top level."""
    package = Path(__file__).resolve().parent.parent
    return [d for d in (package / "templates", package.parent / "templates") if d.is_dir()]


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one sandboxed environment for LaTeX templates (cached; treat as read-only)."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(d) for d in template_dirs()]),
        undefined=StrictUndefined, autoescape=False,
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["tex"] = escape_tex
    env.filters["num"] = format_number
    return env


_MD_SPECIAL = set("\\`*_{}[]|$~")


def escape_markdown(text) -> str:
    """Plain text made safe for Markdown: every character that Markdown or its math
    (``$``) would read is backslash-escaped, ``<`` and ``>`` are entities, so a title
    like ``<script>`` or ``$5`` shows as written."""
    out = []
    for ch in str(text):
        if ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch in "\t\n\r":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def markdown_environment() -> SandboxedEnvironment:
    """A sandboxed environment with Jinja's usual delimiters, for Markdown templates."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(d) for d in template_dirs()]),
        undefined=StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["num"] = format_number
    env.filters["md"] = escape_markdown
    return env
