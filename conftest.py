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


def _block(example) -> str:
    """The whole fenced block an example stands in: a doctest's lines are examples of
    their own, and a line that reads what an earlier line of its block made (``len(exam.
    papers)``) is as slow as that line."""
    text = example.document.text
    if text.startswith("```", example.start):  # a whole block is one example
        return text[example.start:example.end]
    start = text.rfind("```", 0, example.start)
    end = text.find("```", example.end)
    return text[max(start, 0):end if end >= 0 else len(text)]


def pytest_collection_modifyitems(items):
    # Python examples of one page share a namespace: after a slow one, the page's later
    # Python examples read what it made, so they are slow too.
    slow_python: set[str] = set()
    for item in items:
        example = getattr(item, "example", None)
        if example is None:
            continue
        python = not example.document.text.startswith("```console", example.start)
        if _SLOW.search(_block(example)) or (python and example.path in slow_python):
            item.add_marker(pytest.mark.slow)
            if python:
                slow_python.add(example.path)
