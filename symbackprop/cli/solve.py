"""``symbackprop solve PROBLEM``: forward pass, backward pass, update, second forward pass.

Without ``--format`` the plain-text account goes to stdout. ``json`` or ``md`` alone
print to stdout unless ``-o`` is given; other formats (tex, pdf, html, practice) are files,
in ``-o DIR`` or ``output/<problem name>/``: ``P.html`` is the worked solution as a page,
``P-practice.html`` the practice page (docs/browser.md).
"""

from __future__ import annotations

import sys

from .. import jsonout
from ..defaults import DEFAULT_PLACES
from ..errors import ClaimError, SymbackpropError, UnsupportedError
from ..files import check_targets, plain_name, target_directory, write_files
from ..printable import printable, printable_lines
from .options import format_list

FORMATS = ("text", "json", "md", "tex", "pdf", "html", "practice")
STDOUT_FORMATS = ("text", "json", "md")


def register(sub):
    p = sub.add_parser(
        "solve", help="forward pass, backward pass, update and worked solution",
        description="Solve a problem file or built-in example (see 'symbackprop examples').")
    p.add_argument("problem", metavar="PROBLEM", help="a problem .toml file or a built-in name")
    p.add_argument("--format", default=None, metavar="FORMATS",
                   help="comma-separated: " + ",".join(FORMATS) + " (default: text on stdout)")
    p.add_argument("-o", "--output", metavar="DIR", help="write files to DIR")
    p.add_argument("--stage", action="store_true",
                   help="split compound equations into atomic gates (s0, s1, ...)")
    p.add_argument("--exact", action="store_true",
                   help="exact SymPy arithmetic instead of checked high-precision floats")
    p.add_argument("--places", type=int, default=DEFAULT_PLACES, metavar="N",
                   help=f"decimals shown in worked solutions (default {DEFAULT_PLACES})")
    p.add_argument("--all-nodes", action="store_true",
                   help="show the chain for every node and input, not only parameters")
    p.add_argument("--show", metavar="KEYS",
                   help="comma-separated gradients of the output to work out (claim keys, "
                        "such as dE/dw1,dE/dx1 or dL/dW2); default: every parameter")
    return p


def parse_formats(text: str | None) -> list[str]:
    return ["text"] if text is None else format_list(text, FORMATS)


def render(solution, fmt: str, args) -> str | bytes:
    """One format of the worked solution, as text (or PDF bytes)."""
    if fmt == "text":
        from ..render.text import render_text

        return render_text(solution, args.places, args.all_nodes, args.shown)
    if fmt == "json":
        return jsonout.dumps(solution.to_json(), indent=1) + "\n"
    try:
        from ..render import render_format
    except ImportError:
        raise UnsupportedError(f"--format {fmt} is not available in this version") from None
    return render_format(solution, fmt, places=args.places, all_nodes=args.all_nodes,
                         show=args.shown)


def _shown(solution, text: str | None) -> list[str] | None:
    """The scalar names ``--show`` asks the gradients of (None: the default choice)."""
    if text is None:
        return None
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise SymbackpropError("--show: no claim keys (give some, such as "
                               f"d{solution.output}/d{next(iter(solution.graph.leaves))})")
    from ..render.lines import shown_names

    try:
        return shown_names(solution, keys)
    except ClaimError as e:
        raise SymbackpropError(f"--show: {e}") from None


def file_name(name: str, fmt: str) -> str:
    """The file a format is written to: P.txt, P.json, P.html, P-practice.html, ..."""
    return {"text": f"{name}.txt", "practice": f"{name}-practice.html"}.get(fmt, f"{name}.{fmt}")


def run(args) -> int:
    from ..limits import check_worked_size
    from ..loader import load

    formats = parse_formats(args.format)
    if args.places < 1 or args.places > 30:
        raise SymbackpropError("--places: must be between 1 and 30")
    problem = load(args.problem, stage_gates=True if args.stage else None)
    names = [file_name(problem.name, fmt) for fmt in formats]
    to_stdout = args.output is None and len(formats) == 1 and formats[0] in STDOUT_FORMATS
    if not to_stdout:  # where the files go is checked before the work
        plain_name(problem.name, "problem name")
        directory = target_directory(args.output, problem.name)
        check_targets(directory, names)
    check_worked_size(problem)
    solution = problem.solve(exact=args.exact)
    args.shown = _shown(solution, args.show)
    for warning in solution.warnings:
        sys.stderr.write(f"warning: {printable(str(warning))}\n")
    if solution.sample_note:
        sys.stderr.write(f"note: {printable(solution.sample_note)}\n")
    if to_stdout:
        sys.stdout.write(printable_lines(render(solution, formats[0], args)))
        return 0
    outputs = {name: render(solution, fmt, args)
               for name, fmt in zip(names, formats, strict=True)}  # all, then all written
    for path in write_files(directory, outputs):
        sys.stderr.write(f"wrote {printable(str(path))}\n")
    return 0
