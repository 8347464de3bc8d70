"""``symbackprop verify PROBLEM CLAIMS``: check hand-computed answers.

PROBLEM may be an exam (its folder, or its key.json) with ``--variant ID``: the claims
are checked against that variant, the quantities the exam asks judged by its acceptance
rule, as ``grade`` judges them (:mod:`symbackprop.grade.onkey`).

Prints a table (claim, given, expected, status, note) and a summary line, or the JSON
of docs/json.md with ``--json``; ``--format tex,pdf`` also writes the marked sheet
(every number marked, with its correction) to ``-o DIR`` or ``output/<problem name>/``. Exit status 0 when every claim is accepted
(``correct`` or ``rounding``; only ``correct`` with ``--strict``), 1 when any is not,
2 on bad input.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from .. import jsonout
from ..defaults import DEFAULT_BAND
from ..errors import SymbackpropError
from ..files import plain_name, target_directory, write_files
from ..printable import printable, printable_lines
from .options import decimal_option, format_list

FORMATS = ("text", "json", "tex", "pdf")
FILE_FORMATS = ("tex", "pdf")


def register(sub):
    p = sub.add_parser(
        "verify", help="check hand-computed answers: correct, rounding, carried or wrong",
        description="Check the numbers of a claims file (one 'KEY = NUMBER' per line, e.g. "
                    "'dE/dw5 = -0.0533') against a problem: correct, rounding, carried "
                    "(error carried forward) or wrong, with a diagnosis.")
    p.add_argument("problem", metavar="PROBLEM",
                   help="a problem .toml file or a built-in name; or an exam (its folder or "
                        "key.json) with --variant")
    p.add_argument("claims", metavar="CLAIMS",
                   help="the claims file, one 'KEY = NUMBER' per line ('-': standard input)")
    p.add_argument("--variant", metavar="ID",
                   help="with an exam as PROBLEM: the variant the claims answer (needed when "
                        "the key has several); the questions the exam asks are judged by its "
                        "acceptance rule, as 'symbackprop grade' judges them")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--format", default=None, metavar="FORMATS",
                   help="comma-separated: " + ",".join(FORMATS) + " (default: text on stdout);"
                        " tex and pdf are the marked sheet, written to -o DIR or "
                        "output/<problem name>/")
    p.add_argument("-o", "--output", metavar="DIR", help="write the tex/pdf files to DIR")
    p.add_argument("--strict", action="store_true",
                   help="accept only 'correct' numbers (exit 1 on 'rounding' too)")
    p.add_argument("--band", default=str(DEFAULT_BAND), metavar="UNITS",
                   help="how many units of the last digit shown a number may be off and "
                        f"still count as rounding (default {DEFAULT_BAND}; 0: none)")
    return p


def parse_band(text: str) -> Decimal:
    return decimal_option(text, "--band", 0, 1000, "must be a number of units between 0 and 1000")


def parse_formats(text: str | None, as_json: bool) -> list[str]:
    formats = format_list(text, FORMATS) if text is not None else []
    if as_json:
        formats.append("json")
    if "json" in formats and "text" in formats:
        raise SymbackpropError("--format: text and json both go to stdout; choose one")
    return list(dict.fromkeys(formats)) or ["text"]


def is_exam(problem: str) -> bool:
    """Whether PROBLEM names an exam: a folder holding key.json, or a .json file."""
    path = Path(problem)
    return (path / "key.json").is_file() if path.is_dir() else path.suffix.lower() == ".json"


def run(args) -> int:
    from ..loader import load
    from ..verify import verify

    band = parse_band(args.band)
    formats = parse_formats(args.format, args.json)
    if is_exam(args.problem):
        from ..grade.onkey import verify_on_key

        report = verify_on_key(args.problem, args.claims, args.variant, band=band,
                               strict=args.strict)
    elif args.variant is not None:
        raise SymbackpropError(f"--variant: {args.problem} is not an exam (a folder with "
                               "key.json, or a key.json)")
    else:
        report = verify(load(args.problem), args.claims, band=band, strict=args.strict)
    for warning in report.solution.warnings:
        sys.stderr.write(f"warning: {printable(str(warning))}\n")
    files = [f for f in formats if f in FILE_FORMATS]
    outputs = {}
    source = "claims" if args.claims == "-" else Path(args.claims).name.rsplit(".", 1)[0]
    stem = plain_name(f"{source}-marked")
    directory = target_directory(args.output, report.problem.name) if files else None
    if files:  # everything is rendered before anything is written
        from ..render.sheet import render_report

        outputs = {f"{stem}.{fmt}": render_report(report, fmt) for fmt in files}
    if "json" in formats:
        sys.stdout.write(jsonout.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(printable_lines(report.to_text()))
    if outputs:
        for path in write_files(directory, outputs):
            sys.stderr.write(f"wrote {printable(str(path))}\n")
    return report.exit_status
