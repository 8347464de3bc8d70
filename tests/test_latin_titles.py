"""Titles in any Latin script build a PDF: every printable character of Latin-1 and
Latin Extended-A, set by real TeX, with no error and no overfull line."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata

import pytest

from symbackprop.render.pdf import tex_available
from tests.conftest import run_cli

LATIN = [chr(c) for c in range(0xA0, 0x180) if chr(c).isprintable() and c != 0xAD]


@pytest.mark.slow
@pytest.mark.skipif(not tex_available() or not shutil.which("pdftotext"),
                    reason="needs latexmk, pdflatex and pdftotext")
@pytest.mark.parametrize("half", [0, 1])  # a title holds at most 200 characters
def test_every_latin_1_and_extended_a_letter_in_a_title_builds(tmp_path, half):
    letters = LATIN[half * len(LATIN) // 2:(half + 1) * len(LATIN) // 2]
    title = "«Déjà vu» " + " ".join("".join(letters[i:i + 8]) for i in range(0, len(letters), 8))
    problem = tmp_path / "latin.toml"
    problem.write_text(f'title = "{title}"\n[graph]\nf = "w*x"\n[inputs]\nx = 1\n'
                       "[parameters]\nw = 2\n", encoding="utf-8")
    result = run_cli("solve", problem, "--format", "tex,pdf", "-o", tmp_path / "out", timeout=600)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "out" / "latin.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    text = unicodedata.normalize("NFC", text)
    assert "Déjà vu" in text
    # Letters the Type 1 body font has whole (the T1 letters such as Ð or « come from
    # bitmap fonts, which carry no text for pdftotext; the page shows them)
    whole = "ÆæØøß£§¶¿¡"
    for letter in (c for c in whole if c in letters):
        assert letter in text, letter
