"""The documentation a newcomer reaches: every page of docs/ is linked from README.md's
table and from docs/README.md, every link there names a page that exists, and no page
sends the reader to files a clone of the repository does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md")


def _links(text: str, prefix: str) -> set[str]:
    return set(re.findall(rf"\]\({re.escape(prefix)}([\w.-]+\.md)(?:#[\w-]*)?\)", text))


def test_readme_links_every_docs_page():
    linked = _links((ROOT / "README.md").read_text(encoding="utf-8"), "docs/")
    assert sorted(set(PAGES) - linked) == []
    assert sorted(linked - set(PAGES) - {"README.md"}) == []


def test_docs_index_links_every_page():
    linked = _links((DOCS / "README.md").read_text(encoding="utf-8"), "")
    assert sorted(set(PAGES) - linked) == []
    assert sorted(linked - set(PAGES)) == []


def test_docs_point_at_nothing_outside_the_repository():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\.\./shared|CONTRACT\.md|\bseeds? 00\d", text, re.I), page.name


def test_sybil_runs_the_documentation():
    """README.md and docs/ are run by Sybil (conftest.py); without it they would be skipped
    silently. `pip install -e '.[test]'` brings it."""
    import sybil  # noqa: F401


def _help(capsys, *argv) -> str:
    from symbackprop.cli import main

    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][\w-]*|-[a-zA-Z])\b", help_text)) - {"-h", "--help"}


def _section(page: str, heading: str) -> str:
    """The text of one `## heading` section of a page (up to the next `## `)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


COMMANDS = ("examples", "solve", "verify", "exam", "grade", "train")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_of_a_command_is_documented(capsys, command):
    """docs/command-line.md describes every option `symbackprop COMMAND --help` shows, in
    that command's section (the synopsis at the top alone is not enough)."""
    options = _options(_help(capsys, command))
    section = _section("command-line.md", command)
    assert sorted(o for o in options if o not in section) == []


def test_the_top_level_options_are_documented(capsys):
    options = _options(_help(capsys))
    text = (DOCS / "command-line.md").read_text(encoding="utf-8")
    assert sorted(o for o in options if o not in text) == []


def test_every_built_in_problem_is_listed():
    from symbackprop.examples import EXAMPLES

    table = _section("problem-files.md", "Built-in problems")
    assert sorted(name for name in EXAMPLES if f"`{name}`" not in table) == []
