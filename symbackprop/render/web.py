"""Pages for the browser: the worked solution (``--format html``) and the practice page
(``--format practice``), each one self-contained HTML file.

Everything a page needs is inside it: the math as MathML (rendered by the browser), the
graph as inline SVG, the style sheet and the scripts, so that it opens from disk with no
network. The HTML templates (``templates/html/``) hold the layout; :mod:`.handout` and
:mod:`.practice` prepare ready MathML strings and numbers and render them; the scripts
(``symbackprop/render/js/``) are read from the package and inlined.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from .. import jsonout
from .environment import template_dirs

SCRIPTS = Path(__file__).resolve().parent / "js"


@lru_cache(maxsize=1)
def html_environment() -> SandboxedEnvironment:
    """A sandboxed environment with autoescaping: user text (a title) is text, never HTML."""
    return SandboxedEnvironment(
        loader=FileSystemLoader([str(d) for d in template_dirs()]),
        undefined=StrictUndefined, autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True, lstrip_blocks=True,
    )


@lru_cache(maxsize=8)
def script(name: str) -> Markup:
    """A script of the package, ready to inline in a <script> element."""
    return Markup(_inline((SCRIPTS / name).read_text(encoding="utf-8")))


def json_script(value) -> Markup:
    """JSON for a <script type="application/json"> element (no '</' can end it early)."""
    return Markup(_inline(jsonout.dumps(value, ensure_ascii=False, separators=(",", ":"))))


def _inline(text: str) -> str:
    return text.replace("</", "<\\/")


def render_page(template: str, **context) -> str:
    return html_environment().get_template(template).render(**context)
