"""``symbackprop exam EXERCISE [EXERCISE ...] --variants N --seed S [-o DIR]``: randomized
exams from exercise files and built-in families, with an answer key, printable papers,
worked solutions, a Moodle XML question bank and a Canvas QTI package.

``symbackprop exam --list`` prints the built-in exercises, one per line: name, then
description; ``symbackprop exam --show NAME`` prints one as an exercise file to copy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..defaults import EXAM_DEFAULT_FORMATS as DEFAULT_FORMATS
from ..defaults import EXAM_FORMATS as FORMATS
from ..errors import SymbackpropError, did_you_mean
from ..files import target_directory
from .options import format_list


def register(sub):
    p = sub.add_parser(
        "exam", help="randomized exams from exercise files, with answer key, solutions, Moodle and Canvas files",
        description="Draw N papers, each with one variant of every exercise named (exercise files"
                    " or built-in names; see 'symbackprop exam --list').")
    p.add_argument("exercises", metavar="EXERCISE", nargs="*",
                   help="an exercise file (.toml) or a built-in exercise name")
    p.add_argument("--list", action="store_true", help="list the built-in exercises")
    p.add_argument("--show", metavar="NAME", help="print a built-in exercise as an exercise file")
    p.add_argument("--variants", type=int, metavar="N", help="how many papers (one per student)")
    p.add_argument("--seed", type=int, metavar="S", help="the seed: the same seed gives the same exam")
    p.add_argument("--title", metavar="TEXT",
                   help="the title heading every paper (default: the exercise's title, or"
                        " 'Exam' for several exercises)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write files to DIR (default: output/exam-NAMES-SEED)")
    p.add_argument("--format", default=",".join(DEFAULT_FORMATS), metavar="FORMATS",
                   help="comma-separated: " + ",".join(FORMATS) + " (default: "
                        + ",".join(DEFAULT_FORMATS) + "; cloze adds moodle-cloze.xml, practice a page per"
                        " variant)")
    p.add_argument("--jobs", type=int, default=None, metavar="J",
                   help="worker processes (default: the number of cores)")
    return p


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rdrawing variants: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run(args) -> int:
    from ..exam import FAMILIES, make_exam, read_exercise
    from ..exam.families import text as family_text
    from ..exam.outputs import outputs, write_outputs

    if args.list:
        for name in FAMILIES:
            sys.stdout.write(f"{name:<8}  {read_exercise(name).description}\n")
        return 0
    if args.show is not None:
        if args.show not in FAMILIES:
            raise SymbackpropError(f"--show: unknown built-in exercise '{args.show}'"
                                   f"{did_you_mean(args.show, FAMILIES)}"
                                   " (`symbackprop exam --list` lists them)")
        sys.stdout.write(family_text(args.show))
        return 0
    if not args.exercises:
        raise SymbackpropError("name an exercise file or a built-in exercise"
                               " (`symbackprop exam --list` lists them)")
    for option in ("variants", "seed"):
        if getattr(args, option) is None:
            raise SymbackpropError(f"--{option}: required")
    if args.jobs is not None and args.jobs < 1:
        raise SymbackpropError("--jobs: must be at least 1")
    formats = format_list(args.format, FORMATS)
    names = "+".join(Path(e).stem for e in args.exercises)
    directory = target_directory(args.output, f"exam-{names}-{args.seed}")
    show = sys.stderr.isatty()
    exam = make_exam(args.exercises, args.variants, args.seed, jobs=args.jobs,
                     progress=_progress if show else None, title=args.title)
    files = outputs(exam, formats, log=lambda m: sys.stderr.write(m + "\n") if show else None)
    for path in write_outputs(files, directory):
        sys.stderr.write(f"wrote {path}\n")
    return 0
