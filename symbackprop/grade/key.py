"""An exam's answer key (``key.json``, written by ``symbackprop exam``) as the grader reads it.

The key is checked for shape when it is read, so a malformed key stops grading before
any student is judged (exit status 2, naming the file and the field). Each variant's
``problem`` is a problem table in graph form; a network of typed layers also carries its
layer stack as ``network_form`` (:meth:`~symbackprop.problem.Problem.network_form`), and
is loaded from that, so that ``grade`` names the layer slips as ``verify`` does on the
problem file. The problem is loaded, within the key's limits, and solved the first time a
student of that variant is graded, once per variant, however many students share it.

A *paper* is what one student answers: the variant of a one-exercise exam, or, when the
key's variants carry ``student`` numbers (an exam of several exercises), every variant
with the same number, in the key's order.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import islice
from pathlib import Path

from ..answerkey import KeyQuestion
from ..errors import ClaimError, SymbackpropError, Where, did_you_mean
from ..files import read_limited
from ..keys import Key, parse_key

MAX_KEY_BYTES = 50_000_000
#: Unknown variant ids of a class given a suggestion, and the key's ids each is compared with.
SUGGESTED = 1000
SUGGEST_FROM = 50


@dataclass
class KeyVariant:
    """A variant: its id, problem table and questions; solved on first use."""

    id: str
    table: dict
    questions: list[KeyQuestion]
    exercise: str | None = None
    student: int | None = None
    index: int = 0  # position in key.json, for error messages
    source: str = "key.json"
    network_form: dict | None = None  # a network of typed layers: its layer stack
    _solution: object = field(default=None, repr=False)
    _problem: object = field(default=None, repr=False)
    _keys: dict | None = field(default=None, repr=False)

    @property
    def solution(self):
        """The variant's problem, loaded and solved (once)."""
        if self._solution is None:
            from ..loader import load_dict

            form = "network_form" if self.network_form else "problem"
            where = f"variants[{self.index}].{form}"
            try:
                self._problem = load_dict(self.loadable, name=self.id, source=self.id,
                                          key=True)
                self._solution = self._problem.solve()
            except SymbackpropError as exc:
                inner = [p for p in (exc.where.section, exc.where.field) if p]
                where = ".".join([where, *inner])
                raise SymbackpropError(exc.message, Where(file=self.source, field=where)) from None
        return self._solution

    @property
    def loadable(self) -> dict:
        """The table the problem is loaded from, as for an exam's variant
        (:attr:`symbackprop.exam.model.Variant.loadable`): the layer stack where there is
        one, else the graph form."""
        return self.network_form or self.table

    @property
    def problem(self):
        """The variant's problem, loaded (with :attr:`solution`)."""
        self.solution  # noqa: B018 - loads both
        return self._problem

    def question_keys(self) -> dict[Key, int]:
        """Each question's parsed claim key -> its index among the variant's questions."""
        if self._keys is None:
            names = self.solution.key_names
            keys = {}
            for i, q in enumerate(self.questions):
                try:
                    keys[parse_key(q.ask, names)] = i
                except ClaimError as exc:
                    raise SymbackpropError(exc.message, Where(
                        file=self.source, field=f"variants[{self.index}].questions[{i}].ask")) from None
            self._keys = keys
        return self._keys

    def find(self, ask: str) -> int | None:
        """The index of the question a student's ``ask`` names, or None."""
        for i, q in enumerate(self.questions):
            if q.ask == ask.strip():
                return i
        try:
            return self.question_keys().get(parse_key(ask, self.solution.key_names))
        except ClaimError:
            return None

    @property
    def max_points(self) -> Decimal:
        return sum((q.points for q in self.questions), Decimal(0))


@dataclass
class ExamKey:
    """Every variant by id, and the papers they make up."""

    path: Path
    family: str
    seed: object
    variants: dict[str, KeyVariant]
    _papers: dict | None = field(default=None, repr=False, compare=False)
    suggestions: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def unsolved(self) -> ExamKey:
        """The key without its solved variants: small to send to a worker process."""
        variants = {i: replace(v, _solution=None, _problem=None, _keys=None)
                    for i, v in self.variants.items()}
        return replace(self, variants=variants, _papers=None)

    def paper(self, variant_id: str) -> list[KeyVariant]:
        """The variants on the paper that holds ``variant_id``, in the key's order."""
        variant = self.variants[variant_id]
        if variant.student is None:
            return [variant]
        if self._papers is None:  # each student's paper, found once (a key may hold 20,000)
            self._papers = {}
            for v in self.variants.values():
                self._papers.setdefault(v.student, []).append(v)
        return list(self._papers[variant.student])

    def paper_id(self, variant_id: str) -> str:
        """A paper's name for the gradebook: its variant ids joined by '+'."""
        return "+".join(v.id for v in self.paper(variant_id))

    def suggest(self, words) -> None:
        """Work out the ``(did you mean 'x'?)`` of the first :data:`SUGGESTED` of
        ``words`` (variant ids not in the key, in the class's order) into
        :attr:`suggestions`: each compared with at most :data:`SUGGEST_FROM` ids next to
        it in sorted order. A suggestion costs milliseconds (a key may hold 20,000 ids,
        a class 200,000 unknown ones), so it is bounded, and made once, before the class
        is split among processes: the same rows get it whatever ``--jobs`` is."""
        ids = sorted(self.variants)
        for word in islice(words, SUGGESTED):
            near = ids
            if len(ids) > SUGGEST_FROM:
                at = bisect_left(ids, word)
                near = ids[max(0, at - SUGGEST_FROM // 2):at + SUGGEST_FROM // 2]
            self.suggestions[word] = did_you_mean(word, near)

    def typical_paper(self) -> list[KeyVariant]:
        """The first paper of the key: its questions name the gradebook's columns."""
        first = next(iter(self.variants))
        return self.paper(first)


def _fail(source: str, where: str, message: str):
    raise SymbackpropError(message, Where(file=source, field=where))


#: The bounds of a key's numbers. An exam writes answers of at most 1000 in size
#: (exam/wellposed.py), 8 decimals and 4 choices; a key edited by hand may go further,
#: up to these, beyond which grading would compute with numbers it cannot print.
def _no_constant(name: str) -> float:
    """JSON's parser reads NaN, Infinity and -Infinity, which are not JSON; so does
    this key, as a number :func:`_number` refuses naming its field."""
    return float(name)


def read_key(exam_dir: str | Path) -> ExamKey:
    """The key of the exam in ``exam_dir`` (or a key.json file given directly)."""
    path = Path(exam_dir)
    folder = path.is_dir()
    if folder:
        path = path / "key.json"
    source = str(path)
    try:
        raw = json.loads(read_limited(path, MAX_KEY_BYTES, what="key.json").decode("utf-8-sig"),
                         parse_constant=_no_constant)
    except FileNotFoundError:
        what = "no key.json in the exam directory" if folder else "no such file"
        raise SymbackpropError(what, Where(file=source)) from None
    except SymbackpropError as exc:
        raise exc.at(file=source) from None
    except UnicodeDecodeError:
        raise SymbackpropError("is not UTF-8 text", Where(file=source)) from None
    except json.JSONDecodeError as exc:
        raise SymbackpropError(f"not JSON ({exc.msg}, line {exc.lineno})",
                               Where(file=source)) from None
    except OSError as exc:
        raise SymbackpropError(f"cannot be read: {exc.strerror}", Where(file=source)) from None
    except RecursionError:
        raise SymbackpropError("not a key: JSON nested too deeply", Where(file=source)) from None
    except ValueError:  # Python reads no integer of more than 4300 digits
        raise SymbackpropError("not a key: a number of more than 4300 digits",
                               Where(file=source)) from None
    if not isinstance(raw, dict):
        _fail(source, "", "expected a JSON object with 'variants'")
    variants_raw = raw.get("variants")
    if not isinstance(variants_raw, list) or not variants_raw:
        _fail(source, "variants", "expected a non-empty list of variants")
    variants: dict[str, KeyVariant] = {}
    for i, v in enumerate(variants_raw):
        here = f"variants[{i}]"
        if not isinstance(v, dict):
            _fail(source, here, "expected an object")
        vid = v.get("id")
        if not isinstance(vid, str) or not vid.strip():
            _fail(source, f"{here}.id", "expected the variant's id (a string)")
        if vid in variants:
            _fail(source, f"{here}.id", f"'{vid}' is the id of an earlier variant too")
        table = v.get("problem")
        if not isinstance(table, dict) or "graph" not in table or "network" in table:
            _fail(source, f"{here}.problem", "expected the problem in graph form (a table "
                  "with 'graph')")
        network = v.get("network_form")
        if network is not None and (not isinstance(network, dict) or "network" not in network):
            _fail(source, f"{here}.network_form", "expected the layer stack in network form "
                  "(a table with 'network')")
        questions_raw = v.get("questions")
        if not isinstance(questions_raw, list) or not questions_raw:
            _fail(source, f"{here}.questions", "expected a non-empty list of questions")
        student = v.get("student")
        if student is not None and (isinstance(student, bool) or not isinstance(student, int)):
            _fail(source, f"{here}.student", "expected the paper's number (an integer)")
        exercise = v.get("exercise")
        if exercise is not None and not isinstance(exercise, str):
            _fail(source, f"{here}.exercise", "expected the exercise's name (a string)")
        questions = [_question(q, source, f"{here}.questions[{j}]")
                     for j, q in enumerate(questions_raw)]
        variants[vid] = KeyVariant(vid, table, questions, exercise, student, i, source,
                                   network)
    return ExamKey(path, str(raw.get("family", "")), raw.get("seed"), variants)


def _question(raw, source: str, here: str) -> KeyQuestion:
    try:
        return KeyQuestion.from_json(raw, here)
    except SymbackpropError as exc:
        raise exc.at(file=source) from None
