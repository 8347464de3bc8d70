"""TeX from exercise files is read as TeX reads it and kept to an allow-list.

The cases are the ways round a deny-list (``^^5cinput`` is ``\\input``; ``\\loop`` and a
self-calling ``\\providecommand`` kept pdflatex busy for its whole time limit) and the
first round's commands. Every built-in exercise passes, placeholder values reach the
prompt as text, and what passes compiles with pdflatex within seconds.
"""

from __future__ import annotations

import re

import pytest

from symbackprop.cli import main
from symbackprop.errors import ProblemError
from symbackprop.exam import families
from symbackprop.exam.exercise import read_exercise
from symbackprop.render.pdf import tex_available
from symbackprop.texsafe import COMMANDS, check_tex

EXERCISE = '''
statement = {statement}
[graph]
y = "w*x"
E = "(y - t)**2 / 2"
[inputs]
x = 0.5
t = 1
[parameters]
w = 0.3
[random]
first = 'choice("w", "x")'
[[questions]]
ask = "dE/dw"
prompt = {prompt}
'''

HOSTILE = [
    r"\input{/etc/passwd}", r"^^5cinput{/etc/passwd}", r"\loop\iftrue\repeat",
    r"\providecommand\x{\x}\x", r"\def\x{\x}\x", r"\csname input\endcsname{/etc/passwd}",
    r"\catcode`\^=7", r"\write18{ls}", r"\openin5=/etc/passwd", r"\read5 to\x",
    r"\directlua{os.exit()}", r"\newcommand\x{}", r"\include{x}", r"\immediate",
    r"\begin{document}", r"\end{document}", r"\expandafter", r"\string", r"\lowercase{}",
    r"\begin{verbatim}", r"\verb|x|", r"\href{javascript:alert(1)}{x}", r"\unicode{x}",
    r"\class{x}{y}", "a } b", "{ open", "#1", "a\x00b", "a\x1bb", "\ufffe",
    "x" * 20_001, r"\^^5cinput",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_tex_is_refused(text):
    with pytest.raises(ProblemError) as caught:
        check_tex(text, {"field": "statement"})
    assert str(caught.value).startswith("statement: ")


@pytest.mark.parametrize("field", ["statement", "prompt"])
@pytest.mark.parametrize("text", [r"\input{/etc/passwd}", r"^^5cinput{/etc/passwd}",
                                  r"\loop\iftrue\repeat"])
def test_an_exercise_file_with_hostile_tex_is_exit_2_naming_the_field(tmp_path, capsys,
                                                                      field, text):
    values = {"statement": "'Hello.'", "prompt": "'Compute {{ask}} at {{first}}.'"}
    values[field] = "'''" + text + "'''"
    path = tmp_path / "ex.toml"
    path.write_text(EXERCISE.format(**values))
    assert main(["exam", str(path), "--variants", "1", "--seed", "1", "--format", "key",
                 "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}"), err
    assert field in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", families.NAMES)
def test_every_built_in_exercise_keeps_to_the_allow_list(name):
    read_exercise(name)  # raises when its statement or a prompt uses another command


def test_the_allow_list_covers_the_commands_of_the_shipped_exercises():
    for name in families.NAMES:
        text = families.text(name)
        for word in re.findall(r"\\([A-Za-z]+)", text):
            assert word in COMMANDS or word == "n", (name, word)


def test_a_placeholder_value_reaches_the_prompt_as_text(tmp_path):
    path = tmp_path / "ex.toml"
    path.write_text(EXERCISE.format(statement="'Hello {{first}}.'",
                                    prompt="'Compute {{ask}} at {{first}}.'")
                    .replace('choice("w", "x")', r'choice("\\input{/etc/passwd}", "\\def")'))
    exercise = read_exercise(str(path))
    for value in (r"\input{/etc/passwd}", r"\def"):
        prompt = exercise.asks({"first": value})[0].prompt
        assert "\\input{" not in prompt and "\\def" not in prompt
        assert "char92" in prompt  # the backslash printed as a character


@pytest.mark.slow
@pytest.mark.skipif(not tex_available(), reason="needs latexmk and pdflatex")
def test_allowed_tex_compiles(tmp_path):
    """Every allowed command and environment in one statement compiles with pdflatex."""
    text = set("ss ae AE o O oe OE aa AA l L i j S P dag ddag copyright pounds textendash"
               " textemdash textquoteleft textquoteright textbackslash text textrm textbf"
               " textit textsf texttt emph underline par newline noindent".split())
    skip = set("begin end left right middle bigl bigr Bigl Bigr biggl biggr big Big bigg"
               " Bigg".split())
    words = " ".join(rf"\({{\{w}{{x}}{{y}}}}\)" for w in sorted(COMMANDS - text - skip))
    words += " " + " ".join(rf"{{\{w}{{x}}}}" for w in sorted(text))
    statement = words + r" \[ \begin{aligned} a &= b \\ c &= \left( d \right) \end{aligned} \]"
    check_tex(statement, {"field": "statement"})
    path = tmp_path / "ex.toml"
    path.write_text(EXERCISE.format(statement="'''" + statement + "'''",
                                    prompt="'Compute {{ask}} at {{first}}.'"))
    status = main(["exam", str(path), "--variants", "1", "--seed", "1", "--format", "pdf",
                   "-o", str(tmp_path / "out")])
    assert status == 0
