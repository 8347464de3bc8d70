"""No hidden coupling: the display policy records nothing, so the rounding note is read
from the finished document whatever order its sections were built in; the cache of
derivations by graph shape belongs to its caller, not to the package."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
import sympy as sp

import symbackprop as sb
from symbackprop.derive import Derivations
from symbackprop.display import Display, Used
from symbackprop.exam.exercise import read_exercise
from symbackprop.exam.generate import draw_variant
from symbackprop.loader import load_dict
from symbackprop.render.document import rounding_note
from symbackprop.render.worked import worked_solution


def test_reading_numbers_through_the_policy_changes_nothing():
    display = Display(4)
    before = dataclasses.asdict(display)
    # A line that cannot add up, a formula that does not hold, a hidden change.
    display.product([sp.Float("0.33333", 40)] * 3, sp.Float("0.037", 40))
    display.holds(sp.Symbol("y") * 2, {sp.Symbol("y"): "0.1234"}, "0.2500")
    display.change(sp.Float("0.1", 40), sp.Float("0.10001", 40))
    assert dataclasses.asdict(display) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        display.places = 2


def test_the_note_says_what_the_lines_used():
    display = Display(4)
    plain = display.note()
    assert "≈" not in plain and "more significant digits" not in plain
    a, b = sp.Float("55.59823", 40), sp.Float("0.01766301", 40)
    refined = display.product([a, b, sp.Integer(3)], a * b * 3)
    assert refined.refined and not refined.approx  # the exam line, independently:
    assert abs(float(refined.operands[0]) * float(refined.operands[1]) * 3
               - float(refined.result)) <= 1e-4
    assert "more significant digits" in display.note(Used.of_lines([refined]))
    assert "≈" in display.note(Used(approximated=True))
    assert "up to 8" in display.note(Used(widened=8))


@pytest.mark.parametrize("name", ["net-221", "adam-steps", "rnn-bptt", "minibatch"])
def test_the_rounding_note_is_read_from_the_document(name):
    """The note of a document equals the note computed again from the finished document
    after building more sections with the same policy (nothing built later changes it),
    and it says ≈ exactly when a row of the document shows one."""
    solution = sb.load(name).solve()
    display = Display(4)
    doc = worked_solution(solution, display=display)
    first = doc.rounding_note
    worked_solution(solution, display=display, all_nodes=True)  # more sections, same policy
    assert rounding_note(doc, solution, display) == first
    blocks = [*doc.problem, *doc.forward, *doc.backward, *doc.update, *doc.after, *doc.batch]
    shows_approx = any(r"\approx" in row for b in blocks for row in b.rows)
    assert ("≈" in first) == shows_approx


def test_a_problem_is_derived_on_its_own_without_a_cache():
    a, b = sb.load("net-221"), sb.load("net-221")
    assert a.derivation.edges is not b.derivation.edges


def test_a_caller_s_cache_shares_the_derivation_of_one_shape():
    cache = Derivations()
    table = sb.load("net-221").graph_form()
    other = {**table, "inputs": {k: v + 1 for k, v in table["inputs"].items()}}
    a = load_dict(table, name="a", source="a", derivations=cache)
    b = load_dict(other, name="b", source="b", derivations=cache)
    assert a.derivation.edges is b.derivation.edges and len(cache) == 1
    assert b.derivation.graph is b.graph  # each copy has its own graph
    # The values still come from each problem's own numbers (checked against the
    # uncached problem's, computed independently).
    fresh = load_dict(other, name="c", source="c")
    assert b.solve().gradients == fresh.solve().gradients


def test_an_exercise_owns_the_derivations_of_its_draws():
    exercise = read_exercise(str(Path(__file__).parent / "data" / "exercise_tanh.toml"))
    for index in range(3):
        draw_variant(exercise, 1, index, 0, Counter())
    # One shape for the draws, one per misread problem its distractors solve.
    shapes = len(exercise.derivations)
    assert 1 <= shapes <= 1 + len(exercise.mistakes)
    draw_variant(exercise, 1, 3, 0, Counter())
    assert len(exercise.derivations) == shapes  # a fourth draw derives nothing new
    assert len(Derivations()) == 0  # nothing global was filled
