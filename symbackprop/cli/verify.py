"""``symbackprop verify PROBLEM CLAIMS``: check hand-computed answers.

Prints a table (claim, given, expected, status, note) and a summary line, or the JSON
of contract section 4 with ``--json``. Exit status 0 when every claim is accepted
(``correct`` or ``rounding``; only ``correct`` with ``--strict``), 1 when any is not,
2 on bad input.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation

from ..errors import SymbackpropError
from ..verifier import DEFAULT_BAND, verify


def register(sub):
    p = sub.add_parser(
        "verify", help="check hand-computed answers: correct, rounding, carried or wrong",
        description="Check the numbers of a claims file (one 'KEY = NUMBER' per line, e.g. "
                    "'dE/dw5 = -0.0533') against a problem: correct, rounding, carried "
                    "(error carried forward) or wrong, with a diagnosis.")
    p.add_argument("problem", metavar="PROBLEM", help="a problem .toml file or a built-in name")
    p.add_argument("claims", metavar="CLAIMS", help="the claims file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--strict", action="store_true",
                   help="accept only 'correct' numbers (exit 1 on 'rounding' too)")
    p.add_argument("--band", default=str(DEFAULT_BAND), metavar="UNITS",
                   help="how many units of the last digit shown a number may be off and "
                        f"still count as rounding (default {DEFAULT_BAND}; 0: none)")
    return p


def parse_band(text: str) -> Decimal:
    try:
        band = Decimal(text)
    except InvalidOperation:
        raise SymbackpropError(f"--band: '{text}' is not a number") from None
    if not band.is_finite() or band < 0 or band > 1000:
        raise SymbackpropError("--band: must be a number of units between 0 and 1000")
    return band


def run(args) -> int:
    band = parse_band(args.band)
    report = verify(args.problem, args.claims, band=band, strict=args.strict)
    for warning in report.solution.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.to_text())
    return report.exit_status
