"""``symbackprop grade EXAM_DIR RESPONSES``: grade a class against an exam's answer key.

Writes ``gradebook.csv``, ``gradebook.json``, ``moodle-grades.csv`` and the class report
(``report.md`` with its two PNG charts, ``report.pdf``; ``--report markdown`` leaves out
the PDF, ``--report none`` the whole report) to ``-o DIR`` (default ``EXAM_DIR/grades``),
with ``--sheets`` also every student's marked sheet and ``sheets.pdf``, all together or
none; ``--json`` prints the gradebook's JSON
(docs/grading.md). Every answer that could not be graded (a bad number, an
unknown variant or question) is listed on stderr as ``invalid: WHERE: STUDENT: REASON``.
Exit status 0 when graded, however the students did; 2 on a bad key or responses file.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from ..defaults import DEFAULT_BAND, DEFAULT_CARRIED
from ..errors import SymbackpropError, UnsupportedError
from ..files import target_directory, write_files
from ..limits import capped_jobs
from ..printable import printable
from ..status import Status
from .options import decimal_option
from .verify import parse_band

#: What --report may ask for, the fullest first.
REPORTS = ("pdf", "markdown", "none")


def register(sub):
    p = sub.add_parser(
        "grade", help="grade a class's answers against an exam's key, with a gradebook",
        description="Judge every student's answers against their own variant of an exam "
                    "(the key.json of 'symbackprop exam'), with partial credit for errors "
                    "carried forward; write the gradebook, the Moodle grade-import CSV and "
                    "the class report.")
    p.add_argument("exam", metavar="EXAM_DIR", help="the exam's directory (with key.json)")
    p.add_argument("responses", metavar="RESPONSES",
                   help="a CSV with the header student,variant,ask,answer; a Moodle quiz "
                        "Responses report (CSV); or a folder of claims files, one per student")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="write the files to DIR (default: EXAM_DIR/grades)")
    p.add_argument("--json", action="store_true", help="print the gradebook as JSON")
    p.add_argument("--carried", default=str(DEFAULT_CARRIED), metavar="F",
                   help="share of the points for an error carried forward (default "
                        f"{DEFAULT_CARRIED})")
    p.add_argument("--band", default=str(DEFAULT_BAND), metavar="UNITS",
                   help=f"the judge's rounding band in units of the last digit written "
                        f"(default {DEFAULT_BAND}), for explaining answers beyond the stated "
                        "tolerance; full points always follow the tolerance the question states")
    p.add_argument("--report", choices=REPORTS, default="pdf",
                   help="the class report: pdf writes report.md, its charts and report.pdf "
                        "(default; Markdown only where TeX is missing), markdown leaves out "
                        "the PDF, none leaves out the whole report (gradebook and Moodle CSV "
                        "only, in a fraction of the time)")
    p.add_argument("--sheets", action="store_true",
                   help="also write each student's marked sheet (sheet-NAME.pdf) and all of "
                        "them in one PDF for printing (sheets.pdf)")
    p.add_argument("--jobs", type=int, default=None, metavar="J",
                   help="worker processes for grading and TeX processes for the sheets "
                        "(default: the cores)")
    return p


def parse_share(text: str) -> Decimal:
    return decimal_option(text, "--carried", 0, 1, "the share must be a number from 0 to 1")


def report_invalid(book) -> None:
    for note in book.roster.notes:
        sys.stderr.write(f"note: {note}\n")
    for student in book.students:
        for m in student.marks:
            if m.status == Status.INVALID:
                where = m.where or book.roster.source
                sys.stderr.write(f"invalid: {where}: {student.student}: {m.note}\n")


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rcompiling sheets: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def default_output(exam_dir: str) -> Path:
    """``EXAM_DIR/grades``, never followed through a symbolic link: grades written there
    would land in whatever folder the link points at (give ``-o`` for that)."""
    exam = Path(exam_dir)
    default = (exam if exam.is_dir() else exam.parent) / "grades"
    if default.is_symlink():
        raise SymbackpropError(f"{printable(str(default))}: the default output folder is a "
                               "symbolic link, which grade does not write through; remove it "
                               "or give -o DIR")
    return default


def run(args) -> int:
    from ..grade import grade
    from ..grade.document import left_out, report_files
    from ..grade.gradebook import gradebook_csv, gradebook_json, moodle_grades_csv
    from ..render.pdf import tex_available

    if args.jobs is not None and args.jobs < 1:
        raise SymbackpropError("--jobs: must be at least 1")
    # check the output folder before any work
    target_directory(args.output or str(default_output(args.exam)), "grades")
    args.jobs = capped_jobs(args.jobs)  # never more processes than cores, like exam's
    share = parse_share(args.carried)
    band = parse_band(args.band)
    book = grade(args.exam, args.responses, carried=share, band=band, jobs=args.jobs)
    report_invalid(book)
    files = {"gradebook.csv": gradebook_csv(book), "gradebook.json": gradebook_json(book),
             "moodle-grades.csv": moodle_grades_csv(book)}
    tex = tex_available()
    if args.report != "none":
        pdf = args.report == "pdf" and tex
        if args.report == "pdf" and not tex:
            sys.stderr.write("note: no TeX (latexmk, pdflatex): the class report is written "
                             "as Markdown only\n")
        files.update(report_files(book, pdf=pdf))
        if note := left_out():
            sys.stderr.write(note + "\n")
    if args.sheets:
        if not tex:
            raise UnsupportedError("--sheets needs TeX (latexmk and pdflatex)")
        from ..grade.sheets import sheet_files

        show = sys.stderr.isatty()
        files.update(sheet_files(book, jobs=args.jobs, progress=_progress if show else None))
    directory = target_directory(args.output or str(default_output(args.exam)), "grades")
    written = write_files(directory, files)
    if args.json:
        sys.stdout.write(files["gradebook.json"])
    s = book.summary()
    plural = "" if s["students"] == 1 else "s"
    sys.stderr.write(f"graded {s['students']} student{plural}: mean {s['mean']} of "
                     f"{s['max_points']} points\n")
    sheets = [p for p in written if p.name.startswith("sheet-")]
    for path in written:
        if path not in sheets:
            sys.stderr.write(f"wrote {path}\n")
    if sheets:
        sys.stderr.write(f"wrote {len(sheets)} marked sheets ({directory}/sheet-*.pdf)\n")
    return 0
