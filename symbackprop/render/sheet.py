"""The marked sheet: a verification report as LaTeX (and PDF), to hand back to a student.

Every claimed number is listed with its mark (correct, rounded, carried forward, wrong)
and, where it is not correct, the exact value and the note; each wrong number gets its
correction worked out the way the worked solution shows it: the chain-rule product path
by path with the numbers at the problem's point, the update, or the forward formula.

The layout is ``templates/verify.tex.j2`` on the shared preamble; this module only
prepares ready LaTeX strings (names in the lectures' notation, escaped notes). It lives in
the render package beside the worked solution it shares its corrections with, and reads
a report (:class:`symbackprop.verify.Report`: its problem, solution and verdicts) without
importing the verify package: render and verify are siblings (docs/architecture.md).
"""

from __future__ import annotations

import re
from pathlib import PurePath

from ..display import Display, Used, tex_number
from ..errors import ClaimError
from ..keys import Kind, parse_key
from ..numbers import format_number
from ..status import Status
from .document import factor_tex, vanish_tex
from .environment import environment, escape_tex
from .equations import Equation, approx
from .lines import MAX_PATHS_SHOWN, chain_numbers, update_line, vanishing
from .pdf import compile_many
from .printer import (
    derivatives_in_math,
    key_tex,
    latex,
    latex_name,
    number_tex,
    partial,
    partial_inline,
)

#: ``KEY = NUMBER`` inside a note: "follows from the given a2[0] = 0.7986".
_ASSIGNMENT = re.compile(
    r"(?<![\w\[\]/])([A-Za-z][\w]*(?:\[\d+\])*(?:/d[A-Za-z]\w*(?:\[\d+\])*)?)"
    r" = (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)")


def note_tex(note: str, names=()) -> str:
    """A note as LaTeX text: escaped (the Unicode it uses, σ, −, ½, set as math), its
    derivatives as math, and each ``KEY = NUMBER`` it quotes in the notation of the
    table beside it (a^{[2]}_{1} = 0.7986, not a2[0] = 0.7986), so that a student
    reads one notation. ``names`` are the problem's names (claim keys are read against
    them); a token that is not a key stays text."""
    out, last = [], 0
    for m in _ASSIGNMENT.finditer(note):
        try:
            key = parse_key(m.group(1), names)
        except ClaimError:
            continue
        out.append(derivatives_in_math(note[last:m.start()], escape_tex))
        out.append(rf"\({key_inline_tex(key)} = {number_tex(m.group(2))}\)")
        last = m.end()
    out.append(derivatives_in_math(note[last:], escape_tex))
    return "".join(out)


def key_inline_tex(key) -> str:
    """A claim key for a table row: \\partial E / \\partial w_1 rather than a fraction."""
    if key.kind == Kind.DERIVATIVE:
        return partial_inline(key.name, key.wrt)
    return key_tex(key)


def correction_tex(solution, key, display: Display,
                   vanished: list[str] | None = None, used: list | None = None) -> list[str] | None:
    """The right computation of a quantity as the sides of an equation chain
    ``[head, step, ..., value]`` in LaTeX, or None when there is nothing to work out.
    The numbers are the display policy's, as in the worked solution: the factors shown
    give the value shown (a side marked :data:`~symbackprop.render.equations.APPROX`
    where they cannot). As in the worked solution, paths through a local derivative
    that is exactly 0 (a one-hot target's y_j = 0) are left out, and what makes them 0
    is appended to ``vanished`` (in math) for the sheet to say once; the displayed
    computations to ``used`` (for the rounding note)."""
    used = [] if used is None else used
    if key.kind in (Kind.SAMPLE, Kind.PARTIAL):  # one sample's number, a held partial
        return [key_tex(key, solution.graph.parameters), display.tex(solution.lookup(key))]
    if key.kind == Kind.DERIVATIVE:
        if key.name == key.wrt:
            return None
        head = partial(key.name, key.wrt)
        try:
            chain = solution.chain(key.wrt, key.name, limit=MAX_PATHS_SHOWN)
        except ValueError:
            return [head, display.tex(solution.derivative(key.name, key.wrt))]
        if not chain.paths:
            return [head, "0"]
        chain, zeros = vanishing(solution, chain)
        if vanished is not None:
            vanished += [vanish_tex(solution, z) for z in zeros]
        symbolic = " + ".join(r" \, ".join(partial(f.edge.upper, f.edge.lower)
                                           for f in path) for path in chain.paths)
        numbers = chain_numbers(chain, display)
        used += [*numbers.products, *([numbers.total] if numbers.total is not None else [])]
        numeric = " + ".join(r" \cdot ".join(factor_tex(t) for t in line.operands)
                             for line in numbers.products)
        steps = [symbolic, numeric] if len(chain.paths) > 1 or len(chain.paths[0]) > 1 else []
        return [head, *steps, approx(tex_number(numbers.result), numbers.approx)]
    name = key.name
    graph = solution.graph
    if key.kind == Kind.AFTER and graph.is_leaf(name):
        if graph.leaves[name].kind != "parameter":
            return None
        line = update_line(solution, name, display)
        used.append(line)
        old, rate, grad = line.operands
        return [f"{{{latex_name(name)}}}^{{\\mathrm{{new}}}}",
                f"{latex_name(name)} - \\eta\\, {partial(solution.output, name)}",
                f"{factor_tex(old)} - {factor_tex(rate)} \\cdot {factor_tex(grad)}",
                approx(tex_number(line.result), line.approx)]
    if not graph.is_node(name):
        return None
    values = solution.values_after if key.kind == Kind.AFTER else solution.values
    head = key_tex(key)
    return [head, latex(graph.node(name).expr), display.tex(values[name])]


def _rows(sides: list[str] | None) -> list[str] | None:
    """A correction's sides as the rows of an alignment that fit the page."""
    return Equation(sides[0], sides[1:]).rows() if sides else None


def report_context(report) -> dict:
    """Everything the template shows, as ready LaTeX strings and plain numbers."""
    problem, solution = report.problem, report.solution
    rows = []
    displays: dict[int, Display] = {}
    used: dict[int, list] = {}  # the displayed computations of each display, for its note
    for v in report.verdicts:
        places = max(v.claim.given.decimals + 2, 4)
        shown = max(v.claim.given.decimals, 4)  # corrections at the sheet's precision
        display = displays.setdefault(shown, Display(shown))
        vanished: list[str] = []
        correction = (_rows(correction_tex(solution, v.claim.key, display, vanished,
                                           used.setdefault(shown, [])))
                      if v.status == Status.WRONG else None)
        rows.append({
            "claim": key_inline_tex(v.claim.key),
            "name": key_tex(v.claim.key),
            "key": escape_tex(v.key),
            "given": number_tex(v.claim.given.text),
            "expected": format_number(v.expected, places),
            "status": v.status,
            "note": note_tex(v.note, solution.key_names) if v.status != Status.CORRECT else "",
            "correction": correction,
            "vanish": ", ".join(vanished),
            "shown": shown,
        })
    return {
        "title": escape_tex(problem.title or problem.name),
        "problem": escape_tex(problem.name),
        # The claims file by its name: a sheet handed back need not show the marker's
        # folders (and a long path in \texttt ran into the margin).
        "source": escape_tex(PurePath(report.source).name if report.source else "claims"),
        "rows": rows,
        "summary": report.summary,
        "total": len(report.verdicts),
        "band": format(report.band.normalize(), "f"),
        "strict": report.strict,
        "accepted": report.accepted,
        # Read from the corrections as shown: an ≈ row, a refined factor.
        "rounding_note": " ".join(
            d.note(Used.of_lines(used.get(p, []), approximated=any(
                r"\approx" in row for r in rows if r["shown"] == p for row in r["correction"] or [])))
            for p, d in displays.items() if any(r["correction"] for r in rows)),
    }


def render_report(report, fmt: str) -> str | bytes:
    """The report as LaTeX source (``tex``) or a compiled PDF (``pdf``)."""
    tex = environment().get_template("verify.tex.j2").render(**report_context(report))
    if fmt == "tex":
        return tex
    return compile_many([("verify", tex)])[0]
