"""Exercise files: a problem file plus what to draw, what to ask and what to say.

An exercise file (docs/exams.md) is a problem file of either form with more tables:

* ``[random]``: how given values (and a ``[graph]`` node's expression, from a choice of
  expressions) are drawn afresh for every variant (:mod:`.randomspec`); a name that is
  no value of the problem is a *placeholder variable* (``k = "choice(1, 2)"``) for
  ``{{k}}`` in asks, prompts, constraints, misreadings and the statement;
* ``[[questions]]``: ``ask`` (a claim key), ``prompt``, ``decimals`` or
  ``significant``, ``type`` (numeric or multichoice), ``points``, ``mistakes`` (the
  catalogue's names the distractors come from; default: all that apply), ``zero_ok``;
* ``[constraints]``: ``name = "abs(z_a) < 3"``, conditions on the variant's values in
  the whitelisted expression syntax, each comparison read by :mod:`symbackprop.parse`;
* ``[mistakes.NAME]``: a misreading of the problem (``note`` and ``graph`` entries that
  replace the problem's), solved by the engine for distractors;
* ``statement``: the paragraph students read, with ``{{name}}`` placeholders
  (:mod:`.statement`); ``description``: the line ``exam --list`` prints.

Everything is checked when the file is read, so a mistake is reported once, with its
file, table and field, before anything is drawn. The built-in families are exercise
files too (``families/*.toml``), read by the same code.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sympy as sp

from ..answerkey import DEFAULT_DECIMALS, MAX_DECIMALS, MAX_POINTS, points_ok
from ..derive import Derivations
from ..errors import ProblemError, SymbackpropError, did_you_mean
from ..examples import toml_value
from ..limits import check_worked_size
from ..loader import EXERCISE_KEYS, load_dict, parse_toml, read_toml
from ..markup import NOT_XML
from ..mistakes import MISTAKES
from ..parse import is_name, parse_expression, split_indexed, symbol
from ..render.environment import escape_tex
from ..texsafe import check_tex
from . import families
from .model import Ask
from .randomspec import Spec, parse_spec

TYPES = ("numeric", "multichoice")
#: The catalogue's mistakes a question may name (symbackprop/mistakes.py); by default a
#: question's distractors come from all of them that are not mere coincidences.
CATALOGUE = tuple(MISTAKES)
DEFAULT_MISTAKES = tuple(m.id for m in MISTAKES.values() if not m.coincidental)
MAX_QUESTIONS = 50
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
COMPARISON = re.compile(r"(<=|>=|==|!=|<|>)")
STATEMENT_WORDS = ("eta", "equations")
#: The tables whose values [random] may draw (a [data] list is drawn sample by sample).
VALUE_SECTIONS = ("inputs", "parameters", "data")


@dataclass(frozen=True)
class Constraint:
    name: str
    text: str  # "lhs OP rhs", placeholders not yet filled in


@dataclass
class Exercise:
    """An exercise as read from its file; :meth:`draw` makes one variant's table."""

    name: str
    source: str  # the file as errors name it
    text: str  # the file's TOML text (``exam --show``)
    base: dict  # the problem table, exercise tables removed
    random: dict[str, Spec]
    questions: list[Ask]
    constraints: list[Constraint] = field(default_factory=list)
    mistakes: dict[str, tuple[str, dict]] = field(default_factory=dict)
    statement: str | None = None
    title: str = ""
    description: str = ""
    #: The derivations of the draws, by graph shape: the draws differ only in their
    #: numbers, so each shape is derived once per exercise (owned here, not global).
    derivations: Derivations = field(default_factory=Derivations, repr=False, compare=False)

    @property
    def variables(self) -> list[str]:
        """The placeholder variables: [random] names that are no value of the problem."""
        return [n for n in self.random if not self._is_value(n)]

    def _is_value(self, name: str) -> bool:
        return name == "learning_rate" or name in self.base.get("graph", {}) or any(
            name in (self.base.get(s) or {}) for s in VALUE_SECTIONS)

    def draw(self, rng) -> tuple[dict, dict[str, object]]:
        """(problem table, placeholder values) of one variant, from ``rng``: every value
        of ``[random]`` drawn in the file's order (the graph itself holds no placeholder)."""
        table = copy.deepcopy(self.base)
        free: dict[str, object] = {}
        for name, spec in self.random.items():
            if name == "learning_rate":
                table[name] = spec.draw(rng)
            elif name in table.get("graph", {}):
                table["graph"][name] = spec.draw(rng)
            else:
                section = next((s for s in VALUE_SECTIONS if name in (table.get(s) or {})), None)
                if section is None:
                    free[name] = spec.draw(rng)
                else:
                    table[section][name] = _draw_like(table[section][name], spec, rng)
        return table, free

    def asks(self, free: dict) -> list[Ask]:
        """The questions of a variant, placeholders filled in."""
        shown = {k: escape_tex(v) for k, v in free.items()}  # a value is text, never TeX
        return [Ask(fill(a.key, free), fill(a.prompt, shown), a.decimals, a.choice, a.mistakes,
                    a.zero_ok, a.significant, a.points) for a in self.questions]

    def rewrites(self, free: dict) -> dict:
        """The file's misreadings as the distractor code takes them: name -> (note, rewrite)."""
        out = {}
        for name, (note, graph) in self.mistakes.items():
            replaced = {k: fill(v, free) for k, v in graph.items()}
            out[name] = (note, lambda t, r=replaced: {**t, "graph": {**t["graph"], **r}})
        return out

    def check_constraints(self, free: dict, values: dict) -> str | None:
        """The name of the first constraint the variant breaks, or None."""
        for c in self.constraints:
            if not holds(fill(c.text, free), values):
                return c.name
        return None


def fill(text: str, free: dict) -> str:
    """``text`` with every ``{{name}}`` of a placeholder variable replaced by its value."""
    if "{{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: str(free[m.group(1)]) if m.group(1) in free else m.group(0),
                           text)


def _draw_like(given, spec: Spec, rng):
    """A value drawn for every element of ``given`` (a number, vector or matrix)."""
    if isinstance(given, list):
        return [_draw_like(g, spec, rng) for g in given]
    return spec.draw(rng)


def comparison(text: str) -> tuple[sp.Expr, str, sp.Expr]:
    """``"abs(z_a) < 3"`` as (left, operator, right); each side by the whitelist parser."""
    if not isinstance(text, str):
        raise ProblemError('expected a condition in quotes, e.g. "abs(z_a) < 3"')
    parts = COMPARISON.split(text)
    if len(parts) != 3:
        raise ProblemError("write one comparison: left < right (or <=, >, >=, ==, !=)")
    return parse_expression(parts[0]), parts[1], parse_expression(parts[2])


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def holds(text: str, values: dict) -> bool:
    """Whether the condition holds at the variant's values (by name)."""
    left, op, right = comparison(text)
    env = {symbol(n): v for n, v in values.items()}
    a, b = (complex(sp.N(side.xreplace(env), 20)) for side in (left, right))
    if a.imag or b.imag:
        return False
    return _COMPARE[op](a.real, b.real)


# Reading -------------------------------------------------------------------------------


def read_exercise(ref: str) -> Exercise:
    """An exercise by built-in family name or file path; errors name the file."""
    if ref in families.NAMES:
        source = f"{ref} (built-in)"
        text = families.text(ref)
        raw = parse_toml(text)
        name = ref
    else:
        path = Path(ref)
        source = str(path)
        try:
            if not path.exists() and path.suffix != ".toml":
                raise ProblemError(f"no such file, and not a built-in exercise"
                                   f"{did_you_mean(ref, families.NAMES)}"
                                   " (`symbackprop exam --list` lists them)")
            raw = read_toml(path)
            text = path.read_text(encoding="utf-8")
        except SymbackpropError as exc:
            raise exc.at(file=source) from None
        name = path.stem
    try:
        return _read(raw, name=name, source=source, text=text)
    except SymbackpropError as exc:
        raise exc.at(file=source) from None


def _check_characters(value, path: tuple = ()) -> None:
    """Refuse, naming the field, a character the exports cannot carry (NUL, a control
    character other than tab and newline, U+FFFE): Moodle XML and QTI are XML 1.0,
    which has no way to write one, and a file holding one is refused whole by the LMS."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_characters(k, path)
            _check_characters(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value, start=1):
            _check_characters(v, (*path, f"#{i}"))
    elif isinstance(value, str):
        bad = NOT_XML.search(value.replace("\r", ""))
        if bad:
            where = {"section": ".".join(str(p) for p in path[:-1]) or "",
                     "field": str(path[-1]) if path else None}
            raise ProblemError(f"control character U+{ord(bad.group()):04X} at character"
                               f" {bad.start() + 1}: the Moodle and Canvas exports (XML)"
                               " cannot carry it").at(**where)


def _read(raw: dict, *, name: str, source: str, text: str) -> Exercise:
    _check_characters(raw)
    random = _read_random(raw.get("random", {}))
    base = {k: v for k, v in raw.items() if k not in EXERCISE_KEYS}
    graph = base.get("graph", {}) if isinstance(base.get("graph"), dict) else {}
    variables = [n for n in random if not (n == "learning_rate" or n in graph or any(
        n in (base.get(s) or {}) for s in VALUE_SECTIONS if isinstance(base.get(s), dict)))]
    for n, spec in random.items():
        where = ProblemError("").at(section="random", field=n).where
        if n in graph and not spec.strings:
            raise ProblemError("a [graph] node is drawn from expressions in quotes:"
                               ' choice("x*y", "x + y")', where)
        if n in graph:
            for expr in spec.args:
                try:
                    parse_expression(expr)
                except SymbackpropError as exc:
                    raise exc.at(section="random", field=n) from None
        elif n not in variables and spec.strings:
            raise ProblemError("a given value is drawn from numbers, not strings", where)
    first = {n: _first(random[n]) for n in variables}
    for node, expr in graph.items():
        if isinstance(expr, str) and PLACEHOLDER.search(expr):
            raise ProblemError("a [graph] expression holds no placeholder, so that the file stays"
                               ' a problem to solve: make the number an input, or draw the node'
                               ' with choice("...", "...") in [random]').at(section="graph", field=node)
    for n, spec in random.items():
        if n in graph and any(PLACEHOLDER.search(a) for a in spec.args):
            raise ProblemError("a drawn expression holds no placeholder").at(section="random", field=n)
    problem = load_dict(base, name=name, source=source, key=True)  # key.json must take it
    check_worked_size(problem)  # each variant is a worked solution: solve's limits hold
    solution = problem.solve()
    names = solution.key_names
    questions = _read_questions(raw.get("questions"), solution, first, random)
    constraints = _read_constraints(raw.get("constraints", {}), names, first)
    mistakes = _read_mistakes(raw.get("mistakes", {}), graph, first)
    for q_index, q in enumerate(questions, start=1):
        for m in (q.mistakes if q.mistakes != ALL else ()):
            if m not in CATALOGUE and m not in mistakes:
                raise ProblemError(f"unknown mistake '{m}'{did_you_mean(m, CATALOGUE + tuple(mistakes))}"
                                   f" (the catalogue: {', '.join(CATALOGUE)}; or a [mistakes.NAME]"
                                   " table of this file)").at(section="questions",
                                                              field=f"#{q_index} mistakes")
    statement = raw.get("statement")
    leaf_names = set(problem.graph.groups) | set(problem.graph.names)
    if statement is not None:
        _check_statement(statement, leaf_names | set(variables))
    used = " ".join([q.key + " " + q.prompt for q in questions] + [c.text for c in constraints]
                    + [statement or ""] + [v for g in ([graph] + [m[1] for m in mistakes.values()])
                                           for v in g.values() if isinstance(v, str)]
                    + [a for s in random.values() if s.strings for a in s.args])
    placeholders = set(PLACEHOLDER.findall(used))
    for n in variables:
        if n not in placeholders:
            raise ProblemError(f"names no value of the problem{did_you_mean(n, leaf_names)},"
                               " and no {{" + n + "}} placeholder uses it").at(section="random", field=n)
    for n, spec in random.items():
        if n in variables or spec.strings:
            continue
        if n != "learning_rate" and n not in leaf_names:
            raise ProblemError("a value of [inputs], [parameters] or [data] is drawn, not a node").at(
                section="random", field=n)
    for text_field in ("title", "description"):
        if not isinstance(raw.get(text_field, ""), str):
            raise ProblemError("expected a string").at(field=text_field)
    return Exercise(name=name, source=source, text=text, base=base, random=random,
                    questions=questions, constraints=constraints, mistakes=mistakes,
                    statement=statement, title=raw.get("title") or name,
                    description=raw.get("description") or raw.get("title") or "")


def _first(spec: Spec):
    """The value a placeholder takes for checking the file: the first it can take."""
    value = spec.args[0]
    return value if isinstance(value, str) else (int(value) if value == int(value) else value)


def _read_random(table) -> dict[str, Spec]:
    if not isinstance(table, dict):
        raise ProblemError('[random] must be a table of name = "spec"').at(section="random")
    out = {}
    for name, text in table.items():
        if not (is_name(name) or name == "learning_rate"):
            raise ProblemError("not a valid name").at(section="random", field=name)
        try:
            out[name] = parse_spec(text)
        except SymbackpropError as exc:
            raise exc.at(section="random", field=name) from None
    return out


@dataclass(frozen=True)
class FieldSpec:
    """One field of a ``[[questions]]`` table, said once: what it must be (``accepts``),
    how an error words it (``what``), and an example of it, which the error shows and
    which ``accepts`` itself takes (tests/test_exercises.py checks every example)."""

    name: str
    what: str
    example: object
    accepts: Callable[[object], bool]

    def check(self, value, where: dict) -> None:
        if not self.accepts(value):
            raise ProblemError(f"expected {self.what}, e.g. {self.name} = {toml_value(self.example)}"
                               ).at(**where)


def _whole(low: int, high: int) -> Callable[[object], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _number(v) -> bool:
    return isinstance(v, int | Decimal) and not isinstance(v, bool) and Decimal(v).is_finite()


#: The fields of a ``[[questions]]`` table, in the order docs/exams.md lists them; the
#: bounds are key.json's (:mod:`symbackprop.answerkey`), so what a file may ask the key
#: may hold.
QUESTION_SPECS = (
    FieldSpec("ask", "a claim key in quotes", "dE/dw1", lambda v: isinstance(v, str) and bool(v.strip())),
    FieldSpec("prompt", "a string", "What is {{ask}}?", lambda v: isinstance(v, str)),
    FieldSpec("decimals", f"a whole number from 0 to {MAX_DECIMALS}", 4, _whole(0, MAX_DECIMALS)),
    FieldSpec("significant", f"a whole number from 1 to {MAX_DECIMALS}", 3, _whole(1, MAX_DECIMALS)),
    FieldSpec("type", "numeric or multichoice", "multichoice", lambda v: v in TYPES),
    FieldSpec("points", f"a number more than 0, at most {MAX_POINTS}", 2,
              lambda v: _number(v) and points_ok(v)),
    FieldSpec("mistakes", "a list of mistake names", ["sign-flipped", "local-dropped"],
              lambda v: isinstance(v, list) and all(isinstance(m, str) for m in v)),
    FieldSpec("zero_ok", "true or false", True, lambda v: isinstance(v, bool)),
)
QUESTION_FIELDS = tuple(f.name for f in QUESTION_SPECS)


def _read_questions(table, solution, first: dict, random) -> list[Ask]:
    if table is None:
        raise ProblemError("an exercise needs at least one [[questions]] entry with an ask"
                           ).at(section="questions")
    if not isinstance(table, list) or not all(isinstance(q, dict) for q in table) or not table:
        raise ProblemError("write each question as a [[questions]] table").at(section="questions")
    if len(table) > MAX_QUESTIONS:
        raise ProblemError(f"more than {MAX_QUESTIONS} questions").at(section="questions")
    out = []
    for index, q in enumerate(table, start=1):
        def where(f, index=index):
            return {"section": "questions", "field": f"#{index} {f}"}
        for k in q:
            if k not in QUESTION_FIELDS:
                raise ProblemError(f"unknown field{did_you_mean(k, QUESTION_FIELDS)}"
                                   f" (fields: {', '.join(QUESTION_FIELDS)})").at(**where(k))
        if "ask" not in q:
            raise ProblemError('every question needs ask = "a claim key" (like dE/dw1)').at(**where("ask"))
        for spec in QUESTION_SPECS:
            if spec.name == "type" and q.get("type", "numeric") not in TYPES:
                kind = str(q["type"])
                raise ProblemError(f"unknown type '{kind}'{did_you_mean(kind, TYPES)}"
                                   " (numeric or multichoice)").at(**where("type"))
            if spec.name in q:
                spec.check(q[spec.name], where(spec.name))
        key = q["ask"]
        try:
            value = solution.lookup(fill(key, first))
        except SymbackpropError as exc:
            raise ProblemError(exc.message).at(**where("ask")) from None
        if isinstance(value, list):
            raise ProblemError(f"'{key}' is a vector or matrix: ask for one element"
                               f" ({key}[0]...)").at(**where("ask"))
        decimals, significant = q.get("decimals"), q.get("significant")
        if decimals is not None and significant is not None:
            raise ProblemError("give decimals or significant, not both").at(**where("significant"))
        if "prompt" in q:
            check_tex(q["prompt"], where("prompt"))
        mistakes = q.get("mistakes")
        out.append(Ask(key, q.get("prompt", ""),
                       DEFAULT_DECIMALS if decimals is None and significant is None else (decimals or 0),
                       q.get("type", "numeric") == "multichoice",
                       tuple(mistakes) if mistakes is not None else ALL,
                       q.get("zero_ok", False), significant, Decimal(q.get("points", 1))))
    return out


#: The default ``mistakes`` of a question: every mistake of the catalogue and the file.
ALL = ("*",)


def _read_constraints(table, names: set, first: dict) -> list[Constraint]:
    if not isinstance(table, dict):
        raise ProblemError('[constraints] must be a table of name = "condition"').at(section="constraints")
    out = []
    for name, text in table.items():
        try:
            left, _, right = comparison(fill(text, first) if isinstance(text, str) else text)
        except SymbackpropError as exc:
            raise exc.at(section="constraints", field=name) from None
        for s in (left.free_symbols | right.free_symbols):
            if s.name not in names:
                raise ProblemError(f"'{s.name}' names nothing in the problem"
                                   f"{did_you_mean(s.name, names)}").at(section="constraints", field=name)
        out.append(Constraint(name, text))
    return out


def _read_mistakes(table, graph: dict, first: dict) -> dict[str, tuple[str, dict]]:
    if not isinstance(table, dict):
        raise ProblemError("[mistakes.NAME] tables hold note and graph").at(section="mistakes")
    out = {}
    for name, spec in table.items():
        section = f"mistakes.{name}"
        if not isinstance(spec, dict) or not isinstance(spec.get("note"), str) \
                or not isinstance(spec.get("graph"), dict) or set(spec) - {"note", "graph"}:
            raise ProblemError('expected note = "what the student did" and graph = {node ='
                               ' "expression as misread"}').at(section=section)
        if name in CATALOGUE:
            raise ProblemError("the catalogue already has a mistake of this name").at(section=section)
        for node, expr in spec["graph"].items():
            if node not in graph:
                raise ProblemError(f"no such [graph] node{did_you_mean(node, graph)}").at(
                    section=section, field=node)
            try:
                parse_expression(fill(expr, first) if isinstance(expr, str) else expr)
            except SymbackpropError as exc:
                raise exc.at(section=section, field=node) from None
        out[name] = (spec["note"], dict(spec["graph"]))
    return out


def _check_statement(statement, names: set) -> None:
    if not isinstance(statement, str):
        raise ProblemError("expected a string").at(field="statement")
    check_tex(statement, {"field": "statement"})
    allowed = names | set(STATEMENT_WORDS)
    for m in PLACEHOLDER.finditer(statement):
        word = m.group(1)
        base = split_indexed(word)[0] if split_indexed(word) else word
        if word not in allowed and base not in allowed:
            raise ProblemError(f"unknown placeholder {{{{{word}}}}}{did_you_mean(word, allowed)}"
                               f" (placeholders: the problem's names, {', '.join(STATEMENT_WORDS)}"
                               " and the [random] variables)").at(field="statement")
