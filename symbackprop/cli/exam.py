"""``symbackprop exam FAMILY --variants N --seed S [-o DIR]``: randomized exercises with
an answer key, a printable exam, worked solutions and a Moodle XML quiz.

``symbackprop exam --list`` prints the families, one per line: name, then description.
"""

from __future__ import annotations

import sys

from ..errors import SymbackpropError
from ..exam import all_families, make_exam
from ..exam.outputs import DEFAULT_FORMATS, FORMATS, outputs, write_outputs
from ..files import target_directory
from .options import format_list


def register(sub):
    p = sub.add_parser(
        "exam", help="randomized exam exercises with answer key, worked solutions and Moodle XML",
        description="Draw N variants of an exercise family (see 'symbackprop exam --list').")
    p.add_argument("family", metavar="FAMILY", nargs="?", help="an exercise family")
    p.add_argument("--list", action="store_true", help="list the exercise families")
    p.add_argument("--variants", type=int, metavar="N", help="how many variants (one per student)")
    p.add_argument("--seed", type=int, metavar="S", help="the seed: the same seed gives the same exam")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write files to DIR (default: output/exam-FAMILY-SEED)")
    p.add_argument("--format", default=",".join(DEFAULT_FORMATS), metavar="FORMATS",
                   help="comma-separated: " + ",".join(FORMATS)
                   + " (default: " + ",".join(DEFAULT_FORMATS) + "; practice: a page per variant)")
    p.add_argument("--jobs", type=int, default=None, metavar="J",
                   help="worker processes (default: the number of cores)")
    return p


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rdrawing variants: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run(args) -> int:
    if args.list:
        for fam in all_families():
            sys.stdout.write(f"{fam.NAME:<8}  {fam.DESCRIPTION}\n")
        return 0
    if args.family is None:
        raise SymbackpropError("name an exercise family (`symbackprop exam --list` lists them)")
    for option in ("variants", "seed"):
        if getattr(args, option) is None:
            raise SymbackpropError(f"--{option}: required")
    if args.jobs is not None and args.jobs < 1:
        raise SymbackpropError("--jobs: must be at least 1")
    formats = format_list(args.format, FORMATS)
    directory = target_directory(args.output, f"exam-{args.family}-{args.seed}")
    show = sys.stderr.isatty()
    exam = make_exam(args.family, args.variants, args.seed, jobs=args.jobs,
                     progress=_progress if show else None)
    files = outputs(exam, formats, log=lambda m: sys.stderr.write(m + "\n") if show else None)
    for path in write_outputs(files, directory):
        sys.stderr.write(f"wrote {path}\n")
    return 0
