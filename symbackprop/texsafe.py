"""The TeX a teacher may write in an exercise's statement and prompts: an allow-list.

A statement is read by pdflatex (the exam PDF) and by MathJax (Moodle, Canvas). A
deny-list of dangerous spellings does not hold: ``^^5cinput`` is ``\\input`` to TeX, and
``\\loop`` or a self-calling ``\\providecommand`` keeps TeX busy for its whole time limit.
So the text is read the way TeX reads it, and every control sequence must be one of
:data:`COMMANDS` (text and math typesetting, nothing that defines, expands by name,
changes category codes, or reads and writes files):

* ``^^`` (TeX's escape for any character) is refused, and so are control characters
  other than tab and newline, and ``#`` (a macro parameter) unescaped;
* a control word is ``\\`` and a run of letters, a control symbol ``\\`` and one other
  character; each must be allowed;
* ``\\begin{NAME}`` and ``\\end{NAME}`` name one of :data:`ENVIRONMENTS`;
* braces balance (``\\{`` and ``\\}`` are characters), so that no text closes a group the
  document opened; the text has at most :data:`MAX_TEX_CHARS` characters.

docs/exams.md lists what is allowed.
"""

from __future__ import annotations

import re

from .errors import ProblemError

MAX_TEX_CHARS = 20_000

#: Control words a statement, prompt or placeholder value may use.
COMMANDS = frozenset("""
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
    Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
    frac dfrac tfrac sqrt sum prod int partial nabla cdot cdots ldots dots vdots ddots times
    div pm mp le leq ge geq neq ne approx equiv sim simeq propto to rightarrow leftarrow
    Rightarrow Leftarrow leftrightarrow iff implies mapsto gets infty in notin subset subseteq
    cup cap forall exists neg land lor ell prime ast star circ odot otimes oplus top
    intercal perp mid parallel lbrace rbrace langle rangle lvert rvert lVert rVert vert Vert
    lfloor rfloor lceil rceil colon
    exp log ln sin cos tan tanh sinh cosh max min arg sup inf lim det
    operatorname mathrm mathbf mathit mathsf mathtt mathcal mathbb boldsymbol
    text textrm textbf textit textsf texttt emph underline
    hat bar tilde vec dot ddot overline widehat widetilde underbrace overbrace
    left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr middle
    quad qquad displaystyle textstyle binom stackrel
    begin end newline par noindent
    ss ae AE o O oe OE aa AA l L i j S P dag ddag copyright pounds dots textendash textemdash
    textquoteleft textquoteright textbackslash
""".split())

#: Control symbols (backslash and one character that is not a letter).
SYMBOLS = frozenset("()[]{}\\,;:!> %$&#_'`\"^~=.|-\n\t")

ENVIRONMENTS = frozenset("aligned align* gathered cases bmatrix pmatrix matrix vmatrix Bmatrix"
                         " array itemize enumerate center".split())

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_WORD = re.compile(r"[A-Za-z]+")
_ENV_ARG = re.compile(r"\s*\{([^{}]*)\}")


def check_tex(text: str, where: dict) -> None:
    """Raise a located :class:`ProblemError` unless ``text`` keeps to the allowed TeX."""
    def fail(message: str):
        raise ProblemError(message + " (statements and prompts are text and math; the TeX"
                           " allowed is listed in docs/exams.md)").at(**where)

    if len(text) > MAX_TEX_CHARS:
        fail(f"{len(text)} characters: at most {MAX_TEX_CHARS}")
    control = _CONTROL.search(text)
    if control:
        fail(f"control character U+{ord(control.group()):04X} at character {control.start() + 1}")
    if "^^" in text:
        fail("'^^' is not allowed (TeX reads it as another character)")
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            word = _WORD.match(text, i + 1)
            if word:
                name = word.group()
                if name not in COMMANDS:
                    fail(f"\\{name} is not allowed")
                i = word.end()
                if name in ("begin", "end"):
                    env = _ENV_ARG.match(text, i)
                    if not env or env.group(1) not in ENVIRONMENTS:
                        fail(f"\\{name}{{{env.group(1) if env else ''}}}: the environments allowed"
                             f" are {', '.join(sorted(ENVIRONMENTS))}")
                    i = env.end()
                continue
            if i + 1 < len(text) and text[i + 1] not in SYMBOLS:
                fail(f"\\{text[i + 1]} is not allowed")
            i += 2
            continue
        if c == "#":
            fail("'#' is not allowed (write \\# for the character)")
        if c == "%":  # a comment runs to the end of the line; TeX ignores it
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                fail(f"a '}}' at character {i + 1} closes no '{{'")
        i += 1
    if depth:
        fail(f"{depth} '{{' never closed")
