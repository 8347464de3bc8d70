"""Sybil runs the documentation (README.md and docs/*.md) as tests: see
tests/docs_examples.py for what each kind of block must do."""

from __future__ import annotations

import re
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

import pytest

from tests.docs_examples import (
    evaluate_console,
    evaluate_json,
    evaluate_toml,
    setup_page,
    teardown_page,
)

try:
    from sybil import Sybil
    from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
except ImportError:  # an environment installed before sybil joined the test extra:
    Sybil = None      # tests/test_docs.py fails, saying to reinstall; the rest still runs

if Sybil is not None:
    pytest_collect_file = Sybil(
        parsers=[
            SkipParser(),
            PythonCodeBlockParser(doctest_optionflags=ELLIPSIS | NORMALIZE_WHITESPACE),
            CodeBlockParser("console", evaluate_console),
            CodeBlockParser("toml", evaluate_toml),
            CodeBlockParser("json", evaluate_json),
        ],
        patterns=["README.md", "docs/*.md"],
        setup=setup_page,
        teardown=teardown_page,
    ).pytest()

# Blocks that compile TeX, make exams or train, and blocks that say `slow:` (they read what
# such a block made): part of the whole suite, not of the fast one.
_SLOW = re.compile(r"slow:|pdf|gallery|\bexam\b[^\n]*--variants|\btrain\b|\bgrade\b|make_exam")


def pytest_collection_modifyitems(items):
    for item in items:
        example = getattr(item, "example", None)
        if example is not None and _SLOW.search(str(example.parsed)):
            item.add_marker(pytest.mark.slow)
