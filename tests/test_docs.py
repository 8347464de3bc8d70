"""The documentation a newcomer reaches: every page of docs/ is linked from README.md's
table and from docs/README.md, every link there names a page that exists, and no page
sends the reader to files a clone of the repository does not have."""

from __future__ import annotations

import re
from pathlib import Path

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
