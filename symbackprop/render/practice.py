"""The practice page (``--format practice``): every number of the solution to fill in.

One field per forward value, local derivative, gradient and update, in the order of the
lecture: the forward pass node by node; then the backward sweep, for each value the
local derivatives of the edges leaving it and then its gradient; then the update of each
parameter and the output after it. Each field carries its claim key (``data-key``); the
page judges every entry as ``symbackprop verify`` judges a claims file with the same
numbers (``symbackprop/render/js/judge.js`` on the arithmetic of :mod:`.jsmodel`).

A local derivative has a field only where its claim key names it: d upper / d lower is
the derivative over every path, which is the local derivative when the edge is the only
path (as in the lectures' networks).

An exam's practice page (``symbackprop exam ... --format practice``) is given the
variant's questions (``asked``: claim key -> the answer as stated, the stated tolerance
and the asked decimals, as exact decimal strings the exam computed): those fields are
marked, show the answer as the question states it, and are judged by the exam's
acceptance rule, as ``grade`` judges them (:func:`symbackprop.judging.exam_verdict`).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..display import Display
from ..keys import Key, parse_key, quantity
from .jsmodel import js_model, mistake_table
from .mathml import expr_mathml, math, name_mathml, partial_mathml
from .svg import graph_svg
from .web import json_script, render_page, script
from .worked import page_display


@dataclass
class Entry:
    """One field: its claim key, the quantity it names, its label, hint and answer."""

    key: str
    quantity: list
    section: str
    label: Markup
    answer: str
    hint: Markup | None = None
    asked: dict | None = None  # an exam question's stated answer, tolerance and decimals


def key_mathml(key: Key) -> str:
    if key.kind == "derivative":
        return partial_mathml(key.name, key.wrt)
    if key.kind == "after":
        return f"<msup>{name_mathml(key.name)}<mi mathvariant=\"normal\">new</mi></msup>"
    return name_mathml(key.name)


def lecture_sweep(derivation, top: str) -> list:
    """The reverse sweep (name, edges) as the lectures walk it: each leaf right after
    the last node that uses it, so that dE/dw5 follows dE/dz_c (the output layer's
    weights first) instead of waiting for every hidden node."""
    sweep = list(derivation.sweep(top))
    graph = derivation.graph
    leaves = [(n, e) for n, e in sweep if graph.is_leaf(n)]
    order, done = [], {top}
    for name, edges in sweep:
        if graph.is_leaf(name):
            continue
        order.append((name, edges))
        done.add(name)
        for leaf in [item for item in leaves if all(e.upper in done for e in item[1])]:
            order.append(leaf)
            leaves.remove(leaf)
    return order + leaves


def practice_entries(solution, places: Display | int, asked=()) -> list[Entry]:
    """The fields of the page in lecture order (see the module docstring), each answer
    by the one display policy (as the worked solution shows it). ``asked``: the claim
    keys of an exam's questions, each given a field even where the lecture order has
    none (the gradient of an input, a derivative over several paths)."""
    display = Display.of(places)
    asked = set(asked)
    graph = solution.graph
    derivation = solution.derivation
    out = solution.output
    entries: list[Entry] = []
    seen: set[Key] = set()

    def add(key: Key, section: str, hint: str | None = None) -> None:
        if key in seen:
            return
        seen.add(key)
        entries.append(Entry(str(key), [str(p) for p in quantity(key) if p is not None], section,
                             Markup(math(key_mathml(key))),
                             _answer(solution, key, display),
                             Markup(math(hint)) if hint else None))

    for node in graph.nodes:
        add(Key("value", node.name), "forward")
    for name, edges in lecture_sweep(derivation, out):
        if graph.is_leaf(name) and graph.leaves[name].kind != "parameter":
            if Key("derivative", out, name) in asked:
                add(Key("derivative", out, name), "backward")
            continue
        for e in edges:
            if derivation.count_paths(e.upper, e.lower) == 1:
                add(Key("derivative", e.upper, e.lower), "backward",
                    f"<mrow>{partial_mathml(e.upper, e.lower)}<mo>=</mo>"
                    f"{expr_mathml(e.local)}</mrow>")
        add(Key("derivative", out, name), "backward")
    if solution.updated:
        for p in graph.parameters:
            add(Key("after", p), "update",
                f"<mrow>{key_mathml(Key('after', p))}<mo>=</mo>{name_mathml(p)}<mo>-</mo>"
                f"<mi>η</mi><mo>&#x2062;</mo>{partial_mathml(out, p)}</mrow>")
        add(Key("after", out), "update")
    for key in asked:  # an asked quantity the lecture order leaves out
        section = {"value": "forward", "after": "update"}.get(str(key.kind), "backward")
        add(key, section)
    order = list(SECTIONS)
    return sorted(entries, key=lambda e: order.index(e.section))  # stable: lecture order


def _answer(solution, key: Key, display: Display) -> str:
    """The answer as the worked solution shows it: a value after the update with the
    decimals that show its change (0.49998, not 0.5000 beside 0.5)."""
    value = solution.value_of(key)
    if key.kind == "after" and key.name in solution.values:
        return display.text(value, display.at(str(key), display.change(
            solution.values[key.name], value)))
    return display.text(value, display.at(str(key)))


SECTIONS = {"forward": "Forward pass", "backward": "Backward pass",
            "update": "Update and the second forward pass"}


def practice_context(solution, places: Display | int, asked: dict | None = None) -> dict:
    """Everything the practice template shows, with the page's model and scripts; the
    numbers it shows by the one display policy (``places``: a Display or its places), with
    the worked solution's digits (:func:`.worked.page_display`) on a problem's own page.
    ``asked``: an exam's questions, claim key -> ``{"stated", "tolerance",
    "toleranceText", "decimals", "precision"}`` (module docstring; ``precision`` is the
    question's sentence on precision, "Give 4 decimal places; within ±0.0002 accepted.")."""
    # the worked solution's digits (an exam's page states its answers from the key)
    display = Display.of(places) if asked else page_display(solution, places)
    places = display.places
    rules = {str(parse_key(k, solution.key_names)): dict(v) for k, v in (asked or {}).items()}
    entries = practice_entries(solution, display,
                               [parse_key(k, solution.key_names) for k in rules])
    for e in entries:
        if e.key in rules:
            e.asked = rules[e.key]
            e.answer = rules[e.key]["stated"]
    model = js_model(solution, places, [tuple(e.quantity[1:]) for e in entries
                                        if e.quantity[0] == "deriv"])
    sections = [(title, [e for e in entries if e.section == section])
                for section, title in SECTIONS.items()]
    given = [(Markup(math(name_mathml(n))), display.given(leaf.value))
             for n, leaf in solution.graph.leaves.items()]
    equations = [Markup(math(f"<mrow>{name_mathml(n.name)}<mo>=</mo>{expr_mathml(n.expr)}</mrow>"))
                 for n in solution.graph.nodes]
    return {
        "title": solution.problem.title or solution.problem.name,
        "problem": solution.problem.name,
        "given": given,
        "equations": equations,
        "rate": (display.given(solution.learning_rate)
                 if solution.learning_rate is not None else None),
        "svg": graph_svg(solution, places, values=False),
        "sections": [s for s in sections if s[1]],
        "asked": bool(rules),
        "model": json_script({"data": {**model["data"], "asked": rules, "mistakes": mistake_table(
                                  solution, [parse_key(e.key, solution.key_names) for e in entries])},
                              "entries": [{"key": e.key, "q": e.quantity} for e in entries]}),
        "functions": Markup(model["functions"].replace("</", "<\\/")),
        "judge": script("judge.js"),
        "script": script("practice.js"),
    }


def render_practice(solution, places: Display | int, asked: dict | None = None) -> str:
    """The practice page of a solved problem (docs/browser.md); ``asked``: an exam's
    questions (:func:`practice_context`)."""
    return render_page("html/practice.html.j2", **practice_context(solution, places, asked))
