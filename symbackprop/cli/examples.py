"""``symbackprop examples``: list the built-in problems, or print one as TOML."""

from __future__ import annotations

import sys

from ..errors import ProblemError, did_you_mean


def register(sub):
    p = sub.add_parser("examples", help="list the built-in problems",
                       description="List the built-in problems: name, then description.")
    p.add_argument("--show", metavar="NAME", help="print one built-in problem as a TOML file")
    return p


def run(args) -> int:
    from .. import examples

    if args.show:
        if args.show not in examples.ALL_EXAMPLES:
            raise ProblemError(f"no built-in example '{args.show}'"
                               f"{did_you_mean(args.show, examples.ALL_EXAMPLES)}")
        sys.stdout.write(examples.example_text(args.show))
        return 0
    width = max(map(len, examples.ALL_EXAMPLES))
    for name, (description, _) in examples.ALL_EXAMPLES.items():
        print(f"{name:<{width}}  {description}")
    return 0
