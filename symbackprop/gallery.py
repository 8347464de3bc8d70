"""The gallery: the worked solution of every built-in example, as LaTeX, PDF and Markdown.

    python -m symbackprop.gallery [DIR]        (default: output)

writes ``DIR/<example>/<example>.{tex,pdf,md}`` for each built-in problem and
``DIR/README.md``, an index of them. It writes nothing outside DIR, each file atomically;
the PDFs are compiled in parallel and are reproducible (``SOURCE_DATE_EPOCH``). The
repository's ``output/`` directory is this command's output, committed so that a visitor
sees what the tool makes without installing it; ``tests/test_gallery.py`` checks that it
is up to date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import load
from .errors import SymbackpropError
from .examples import EXAMPLES
from .files import write_file
from .render import render_markdown, render_tex
from .render.pdf import compile_many

FORMATS = ("tex", "pdf", "md")


def index(names: list[str]) -> str:
    """DIR/README.md: one line per example with links to its three files."""
    lines = ["# Worked solutions of the built-in examples", "",
             "Made by `python -m symbackprop.gallery output` (see the README, "
             "\"Worked solutions\"); do not edit by hand.", "",
             "| example | what | files |", "| --- | --- | --- |"]
    for name in names:
        what = EXAMPLES[name][0].replace("|", "/")
        files = ", ".join(f"[{fmt}]({name}/{name}.{fmt})" for fmt in FORMATS)
        lines.append(f"| `{name}` | {what} | {files} |")
    return "\n".join(lines) + "\n"


def build(directory: Path, names: list[str] | None = None, pdf: bool = True) -> list[Path]:
    """Render the examples into ``directory``; returns the files written."""
    names = list(names or EXAMPLES)
    documents = {}
    for name in names:
        solution = load(name).solve()
        documents[name] = {"tex": render_tex(solution), "md": render_markdown(solution)}
    if pdf:
        pdfs = compile_many([(name, documents[name]["tex"]) for name in names])
        for name, data in zip(names, pdfs, strict=True):
            documents[name]["pdf"] = data
    written = []
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).mkdir(exist_ok=True)
        for fmt, content in documents[name].items():
            written.append(write_file(directory / name / f"{name}.{fmt}", content))
    written.append(write_file(directory / "README.md", index(names)))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m symbackprop.gallery",
        description="Write the worked solution (tex, pdf, md) of every built-in example.")
    parser.add_argument("directory", nargs="?", default="output", metavar="DIR",
                        help="where to write (default: output)")
    args = parser.parse_args(argv)
    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        sys.stderr.write(f"error: {directory}: exists and is not a directory\n")
        return 2
    try:
        for path in build(directory):
            sys.stderr.write(f"wrote {path}\n")
    except SymbackpropError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
