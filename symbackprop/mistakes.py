"""The catalogue of mistakes: the slips of a backpropagation done by hand.

One table serves three readers: ``verify`` names the mistake behind a wrong number
(:mod:`symbackprop.verify.diagnose`), the exams draw their distractors from it
(:mod:`symbackprop.exam.distractors`), and a class report counts them. Each
:class:`Mistake` has an id, a line for the documentation, and a function that applies
the mistake to the *exact* derivation of a claim key: it yields the wrong number(s) a
student who made that mistake writes down, each as a :class:`Wrong` with a sentence a
student understands ("dropped the path through y1, z_c") and the short label the exam
key uses. Nothing here looks at a student's number: a diagnosis is a fact the reader
can check.

The one function most callers need::

    wrong_values(solution, "dE/dw5")   # -> [Wrong(mistake, value, sentence, label), ...]

An update ``w_new`` inherits every mistake that changes a gradient: the update done with
that wrong gradient (``through_gradient``). ``docs/verify.md`` lists the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import NamedTuple
from weakref import WeakKeyDictionary

import sympy as sp

from . import ops
from .evaluate import Floating, adjoints, forward, local_values
from .judging import NUMBER_SLOT
from .keys import Key, Kind, parse_key
from .layers import slips
from .numbers import format_number, to_decimal
from .parse import indexed_name, split_indexed, symbol

MAX_PATHS = 8  # subsets of paths tried for missing paths: 2^8 sums at most
MAX_BIASES = 16  # biases tried beyond their own node: one forward and backward pass each
DIGITS = 30


class Wrong(NamedTuple):
    """One wrong number a mistake produces, and how to say what happened."""

    mistake: str  # the catalogue id
    value: object  # a SymPy number (or Decimal)
    sentence: str  # what the student did, as a clause: "dropped the path through y1"
    label: str  # the short noun phrase of an exam key: "a missing path (the one through ...)"


@dataclass(frozen=True)
class Situation:
    """What a mistake is applied to: a claim key of a solved problem.

    ``sheet``: the other numbers written on the same sheet, by key (for a student who
    copied one of them, or updated with the gradient written beside the update);
    ``places``: the decimals numbers are quoted with in sentences; None puts each number
    in a slot (its exact decimal between :data:`symbackprop.judging.NUMBER_SLOT`'s marks)
    that the practice page prints at the precision of the claim it explains.
    """

    solution: object
    key: Key
    places: int | None = 4
    sheet: Mapping[Key, Decimal] | None = None

    @property
    def exact(self):
        return self.solution.lookup(self.key)

    def num(self, value) -> str:
        if self.places is None:
            return NUMBER_SLOT[0] + str(to_decimal(value)) + NUMBER_SLOT[1]
        return format_number(value, self.places)

    @property
    def updates_parameter(self) -> bool:
        """Whether the key is a parameter after the update step (``w5_new``)."""
        s, k = self.solution, self.key
        return (k.kind == Kind.AFTER and s.learning_rate is not None and s.graph.is_leaf(k.name)
                and s.graph.leaves[k.name].kind == "parameter")

    @property
    def gradient(self) -> Situation:
        """The same situation for the gradient the update of this parameter uses."""
        return Situation(self.solution, Key(Kind.DERIVATIVE, self.solution.output, self.key.name),
                         self.places, self.sheet)


@dataclass(frozen=True)
class Mistake:
    id: str
    title: str  # what docs/verify.md lists
    produce: Callable[[Situation], Iterator[Wrong]]
    through_gradient: bool = False  # an update made with the gradient this mistake spoils
    coincidental: bool = False  # may match by chance: only for numbers with 2+ digits
    layers: tuple[str, ...] = ()  # the typed layers it is about (none: any graph)


# ------------------------------------------------------------------------ the updates


def _update_parts(s: Situation):
    sol, name = s.solution, s.key.name
    return sol.values[name], sol.gradients[name], sp.Float(sol.learning_rate, DIGITS), name, sol.output


def _update_added(s: Situation) -> Iterator[Wrong]:
    if not s.updates_parameter:
        return
    w, g, rate, name, out = _update_parts(s)
    label = "the update added instead of subtracted"
    yield Wrong("update-added", w + rate * g,
                f"added η·d{out}/d{name} to {name} instead of subtracting it", label)
    given = (s.sheet or {}).get(Key(Kind.DERIVATIVE, out, name))
    if given is not None:
        yield Wrong("update-added", w + rate * sp.Float(str(given), DIGITS),
                    f"added η·(the given d{out}/d{name} = {given}) to {name} instead of "
                    "subtracting it", label)


def _adam_step(s: Situation):
    """The Adam step that made an asked parameter after step t (``w1@2``, ``w1_new``):
    (its Step, the optimizer), or None for any other key or optimizer."""
    sol, k = s.solution, s.key
    if k.kind != Kind.AFTER or not sol.steps or not s.updates_parameter:
        return None
    optimizer = sol.optimizer
    t = k.step or 1
    if optimizer is None or optimizer.name != "adam" or t > len(sol.steps):
        return None
    step = sol.steps[t - 1].updates.get(k.name)
    return None if step is None else (step, optimizer, t)


def _bias_uncorrected(s: Situation) -> Iterator[Wrong]:
    found = _adam_step(s)
    if found is None:
        return
    step, o, t = found
    terms = {k: sp.Float(v, DIGITS) if isinstance(v, sp.Basic) else v for k, v in step.terms.items()}
    lr, eps = sp.Float(o.learning_rate, DIGITS), sp.Float(o.eps, DIGITS)
    wrong = terms["w_old"] - lr * terms["m"] / (sp.sqrt(terms["v"]) + eps)
    yield Wrong("bias-uncorrected", wrong,
                f"used Adam's moments m and v of step {t} without their bias correction"
                f" (m/(1 − β₁^{t}), v/(1 − β₂^{t}))", "the bias correction forgotten")


def _steps_miscounted(s: Situation) -> Iterator[Wrong]:
    """The value after one step fewer than asked (w1 after step 1 for w1@2)."""
    k = s.key
    if k.kind != Kind.AFTER or not k.step or k.step < 2 or k.step - 1 > len(s.solution.steps):
        return
    earlier = Key(Kind.AFTER, k.name, step=k.step - 1)
    yield Wrong("steps-miscounted", s.solution.lookup(earlier),
                f"stopped after step {k.step - 1}, one step before the asked step {k.step}",
                "one step too few")


def _rate(s: Situation) -> str:
    return format_number(s.solution.learning_rate)


def _rate_forgotten(s: Situation) -> Iterator[Wrong]:
    if not s.updates_parameter:
        return
    w, g, rate, name, out = _update_parts(s)
    yield Wrong("rate-forgotten", w - g, f"forgot the learning rate η = {_rate(s)}: "
                f"{name} − d{out}/d{name}", "the learning rate forgotten")


def _rate_twice(s: Situation) -> Iterator[Wrong]:
    if not s.updates_parameter:
        return
    w, g, rate, name, out = _update_parts(s)
    label = "the learning rate applied twice"
    yield Wrong("rate-twice", w - 2 * rate * g, f"applied η twice: {name} − 2η·d{out}/d{name}", label)
    yield Wrong("rate-twice", w - rate**2 * g, f"applied η twice: {name} − η²·d{out}/d{name}", label)


def _rate_in_gradient(s: Situation) -> Iterator[Wrong]:
    sol = s.solution
    if s.key.kind == Kind.DERIVATIVE and sol.learning_rate is not None and s.key.name == sol.output:
        yield Wrong("rate-in-gradient", sp.Float(sol.learning_rate, DIGITS) * s.exact,
                    f"multiplied the gradient by the learning rate η = {_rate(s)}",
                    "the gradient times the learning rate")


# ------------------------------------------------------------------------ whole values


def _sign_flipped(s: Situation) -> Iterator[Wrong]:
    yield Wrong("sign-flipped", -s.exact, "flipped the sign", "a flipped sign")


def _half_term(graph, name: str):
    """The ½ of an output like (y_t − y)²/2, and whether it halves a square."""
    if not graph.is_node(name):
        return None
    half = sp.Rational(1, 2)
    expr = graph.node(name).expr
    found = [a for a in sp.preorder_traversal(expr)
             if a == half or (a.is_Pow and a.base == 2 and a.exp == -1)]
    if not found:
        return None
    return "squared error" if any(a.is_Pow and a.exp == 2 for a in sp.preorder_traversal(expr)) else "loss"


def _half_dropped(s: Situation) -> Iterator[Wrong]:
    sol, key = s.solution, s.key
    what = _half_term(sol.graph, sol.output)
    if what is None:
        return
    label = f"the 1/2 of the {what} forgotten"
    sentence = f"dropped the ½ of the {what} {sol.output}"
    if key.name == sol.output and key.kind == Kind.VALUE:
        yield Wrong("half-dropped", 2 * s.exact, sentence, label)
    elif key.name == sol.output and key.kind == Kind.DERIVATIVE:
        yield Wrong("half-dropped", 2 * s.exact, f"{sentence}, which doubles its derivatives", label)
    elif s.updates_parameter:
        w, g, rate, name, out = _update_parts(s)
        yield Wrong("half-dropped", w - rate * 2 * g, f"{sentence} (twice d{out}/d{name} in the update)",
                    label)


def _factor_two(s: Situation) -> Iterator[Wrong]:
    sol = s.solution
    if _half_term(sol.graph, sol.output) is None or s.key.name != sol.output:
        yield Wrong("factor-two", 2 * s.exact, "doubled the value", "twice the value")
    yield Wrong("factor-two", s.exact / 2, "halved the value", "half the value")


# ------------------------------------------------------------------------ the chain rule


def _chain(s: Situation):
    key = s.key
    if key.kind != Kind.DERIVATIVE or key.name == key.wrt:
        return None
    try:
        chain = s.solution.chain(key.wrt, key.name, limit=MAX_PATHS)
    except ValueError:  # more paths than MAX_PATHS
        return None
    return chain if chain.paths else None


def _product(values) -> sp.Expr:
    result = sp.S.One
    for v in values:
        result = result * v
    return result


def _terms(chain) -> list[sp.Expr]:
    return [_product(f.value for f in path) for path in chain.paths]


def _others(terms: list, p: int) -> sp.Expr:
    return sum((t for k, t in enumerate(terms) if k != p), sp.S.Zero)


def _through(chain, i: int) -> str:
    """A path named by the nodes only it passes (``through y1, z_c``)."""
    shared = set.intersection(*[{f.edge.lower for f in path[:-1]} for path in chain.paths])
    own = [f.edge.lower for f in chain.paths[i][:-1] if f.edge.lower not in shared]
    return "through " + ", ".join(own) if own else "direct"


def _path_missing(s: Situation) -> Iterator[Wrong]:
    """One path left out of the sum first (as the exams ask), then several."""
    chain = _chain(s)
    if chain is None or len(chain.paths) < 2:
        return
    terms = _terms(chain)
    n = len(terms)
    for p, path in enumerate(chain.paths):
        via = " -> ".join(f.edge.upper for f in path)
        yield Wrong("path-missing", _others(terms, p),
                    f"dropped the path {_through(chain, p)} ({s.num(terms[p])})",
                    f"a missing path (the one through {via})")
    for size in range(n - 2, 0, -1):
        for kept in combinations(range(n), size):
            missing = [i for i in range(n) if i not in kept]
            gone = sum(terms[i] for i in missing)
            yield Wrong("path-missing", sum(terms[i] for i in kept),
                        f"dropped the paths {'; '.join(_through(chain, i) for i in missing)} "
                        f"({s.num(gone)}), summing only {'; '.join(_through(chain, i) for i in kept)}",
                        "missing paths")


def _local_dropped(s: Situation) -> Iterator[Wrong]:
    """A factor left out of one path's product, then out of every path through its edge."""
    chain = _chain(s)
    if chain is None:
        return
    terms = _terms(chain)
    several = len(terms) > 1
    for p, path in enumerate(chain.paths):
        for i, factor in enumerate(path):
            e = factor.edge
            value = _others(terms, p) + _product(f.value for j, f in enumerate(path) if j != i)
            on = f" on the path {_through(chain, p)}" if several else ""
            yield Wrong("local-dropped", value,
                        f"left out the factor d{e.upper}/d{e.lower} = {s.num(factor.value)}{on}",
                        f"the local derivative d{e.upper}/d{e.lower} dropped")
    if several:
        for (upper, lower), local in _edges(chain).items():
            yield Wrong("local-dropped", _replaced(chain, upper, lower, sp.S.One),
                        f"left out the factor d{upper}/d{lower} = {s.num(local)}",
                        f"the local derivative d{upper}/d{lower} dropped")


def _edges(chain) -> dict:
    edges: dict = {}
    for path in chain.paths:
        for f in path:
            edges.setdefault((f.edge.upper, f.edge.lower), f.value)
    return edges


def _replaced(chain, upper: str, lower: str, wrong) -> sp.Expr:
    """The chain's sum with the local derivative on one edge replaced by ``wrong``."""
    return sum((_product(wrong if (f.edge.upper, f.edge.lower) == (upper, lower) else f.value
                         for f in path) for path in chain.paths), sp.S.Zero)


def _mul_not_swapped(s: Situation) -> Iterator[Wrong]:
    """A mul gate's local derivative taken as the input itself instead of the other one."""
    chain = _chain(s)
    if chain is None:
        return
    sol = s.solution
    terms = _terms(chain)
    for p, path in enumerate(chain.paths):
        for i, factor in enumerate(path):
            e = factor.edge
            node = sol.graph.node(e.upper) if sol.graph.is_node(e.upper) else None
            if node is None or node.op is not ops.OPS["mul"]:
                continue
            own = sol.values[e.lower]
            value = _others(terms, p) + _product(own if j == i else f.value for j, f in enumerate(path))
            yield Wrong("mul-not-swapped", value,
                        f"took d{e.upper}/d{e.lower} as {e.lower} = {s.num(own)} itself, not the "
                        "other input of the mul gate",
                        f"the mul gate at {e.upper} not swapped ({e.lower} times itself)")


def _activation_edges(s: Situation):
    """(chain, y, z, op, rule) for each edge y = f(z) of the key's chain whose local rule
    reads the gate's own output y (σ' = y(1 − y), tanh' = 1 − y²)."""
    chain = _chain(s)
    if chain is None:
        return
    graph = s.solution.graph
    for upper, lower in _edges(chain):
        node = graph.node(upper) if graph.is_node(upper) else None
        op = node.op if node is not None else None
        if op is None or op.arity != 1 or node.expr.args[0] != symbol(lower):
            continue
        z, y = sp.Symbol(lower), sp.Symbol(upper)
        right = op.rule.local((z,), y)[0]
        if y in right.free_symbols:
            yield chain, upper, lower, op, right


def _from_input(s: Situation) -> Iterator[Wrong]:
    """σ' as z(1 − z) or tanh' as 1 − z²: the output's rule applied to the input."""
    values = s.solution.values
    for chain, upper, lower, op, right in _activation_edges(s):
        z = sp.Symbol(lower)
        wrong = op.rule.local((z,), z)[0]
        number = wrong.subs(z, values[lower])
        yield Wrong("derivative-from-input", _replaced(chain, upper, lower, number),
                    f"took d{upper}/d{lower} from the input {lower} = {s.num(values[lower])} as "
                    f"{_formula(wrong)}, not {_formula(right)}",
                    f"d{upper}/d{lower} taken from the input {lower}")


def _function_for_derivative(s: Situation) -> Iterator[Wrong]:
    """σ itself (y) written for σ'."""
    values = s.solution.values
    for chain, upper, lower, op, _right in _activation_edges(s):
        yield Wrong("function-for-derivative", _replaced(chain, upper, lower, values[upper]),
                    f"took d{upper}/d{lower} as {op.name}({lower}) itself, {upper} = "
                    f"{s.num(values[upper])}",
                    f"d{upper}/d{lower} taken as {upper} itself")


def _formula(expr: sp.Expr) -> str:
    text = sp.sstr(expr).replace("**2", "²").replace("*(", "(").replace("*", "·").replace("-", "−")
    return text


def _transposed(s: Situation) -> Iterator[Wrong]:
    """d top / d W[j][i] given for d top / d W[i][j]: row and column swapped."""
    key = s.key
    if key.kind != Kind.DERIVATIVE:
        return
    parts = split_indexed(key.wrt)
    if not parts or len(parts[1]) != 2 or parts[1][0] == parts[1][1]:
        return
    other = indexed_name(parts[0], parts[1][1], parts[1][0])
    if other not in s.solution.graph:
        return
    yield Wrong("transposed", s.solution.derivative(key.name, other),
                f"gave d{key.name}/d{other}: the matrix transposed",
                f"row and column swapped (d{key.name}/d{other})")


# ------------------------------------------------------------------------ the forward pass


_BIASES: WeakKeyDictionary = WeakKeyDictionary()


def _biases(solution) -> list[tuple[str, str]]:
    """(node, bias): a parameter added on its own into a sum (z = w·x + b)."""
    graph = solution.graph
    if solution not in _BIASES:
        found = []
        for node in graph.nodes:
            if isinstance(node.expr, sp.Add):
                for term in node.expr.args:
                    if term.is_Symbol and graph.is_leaf(term.name) \
                            and graph.leaves[term.name].kind == "parameter":
                        found.append((node.name, term.name))
        _BIASES[solution] = found
    return _BIASES[solution]


_WITHOUT: WeakKeyDictionary = WeakKeyDictionary()


def _without(solution, bias: str) -> dict:
    """Values, gradients and values after the update with ``bias`` taken as 0."""
    cache = _WITHOUT.setdefault(solution, {})
    if bias not in cache:
        arithmetic = Floating(DIGITS)
        graph = solution.graph.with_values({bias: sp.S.Zero})
        values = forward(graph, arithmetic)
        locals_ = local_values(solution.derivation, values, arithmetic)
        grads = adjoints(solution.derivation, graph.output, locals_, arithmetic.number(0))
        after = {}
        if solution.learning_rate is not None:
            rate = sp.Float(solution.learning_rate, DIGITS)
            moved = {p: values[p] - rate * grads[p] for p in graph.parameters}
            after = forward(graph.with_values(moved), arithmetic)
        cache[bias] = {"values": values, "locals": locals_, "grads": grads, "after": after,
                       "derivation": solution.derivation, "zero": arithmetic.number(0)}
    return cache[bias]


def _bias_forgotten(s: Situation) -> Iterator[Wrong]:
    """z without its own b; and anything else computed from a z without its b, solved
    again with that bias 0 (for at most MAX_BIASES biases: a forward pass each)."""
    sol, key = s.solution, s.key
    biases = _biases(sol)
    for node, bias in biases:
        if key.kind == Kind.VALUE and key.name == node:
            yield Wrong("bias-forgotten", sol.values[node] - sol.values[bias],
                        f"forgot the bias {bias} in {node}", f"the bias {bias} forgotten")
    if len(biases) > MAX_BIASES:
        return
    for node, bias in biases:
        if key.kind == Kind.VALUE and (key.name == node or node not in sol.graph.upstream(key.name)):
            continue
        w = _without(sol, bias)
        if key.kind == Kind.VALUE:
            value = w["values"][key.name]
        elif key.kind == Kind.AFTER:
            value = w["after"].get(key.name)
            if value is None:
                continue
        elif key.kind != Kind.DERIVATIVE:  # an optimizer's state: not recomputed here
            continue
        elif key.name == sol.output:
            value = w["grads"][key.wrt]
        else:
            value = adjoints(w["derivation"], key.name, w["locals"], w["zero"])[key.wrt]
        yield Wrong("bias-forgotten", value, f"forgot the bias {bias} in {node}",
                    f"the bias {bias} forgotten")


# ------------------------------------------------------------------------ typed layers


_SLIPS: WeakKeyDictionary = WeakKeyDictionary()


def _slipped(s: Situation, name: str, make) -> list:
    """(pass, words) of a layer slip (:mod:`symbackprop.layers.slips`), worked out once
    per solution; [] where the problem has no such layer."""
    cache = _SLIPS.setdefault(s.solution, {})
    if name not in cache:
        found = make(s.solution)
        cache[name] = [] if found is None else [found]
    return cache[name]


#: A slipped number this close to the true one (relative to it) is the true one: the
#: slip does not reach the key (the pass is worked in floats of DIGITS digits).
_SAME = 10.0 ** (3 - DIGITS)


def _same(value, exact) -> bool:
    """Whether a slipped number is the true one."""
    try:
        return abs(float(value - exact)) <= _SAME * (1 + abs(float(exact)))
    except TypeError:
        return False


def _layer_wrongs(s: Situation, mistake: str, name: str, make, sentence, label: str,
                  backward_only: bool = False) -> Iterator[Wrong]:
    """The student's number for the key from the slipped pass, where it differs."""
    if s.key.kind not in (Kind.VALUE, Kind.DERIVATIVE, Kind.AFTER) or s.key.sample is not None:
        return
    if backward_only and s.key.kind == Kind.VALUE:
        return
    for slipped, what in _slipped(s, name, make):
        value = slipped.lookup(s.key)
        if value is not None and not _same(value, s.exact):
            yield Wrong(mistake, value, sentence(what), label)


def _names(items) -> str:
    items = [getattr(i, "output", i) if not isinstance(i, str) else i for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _conv_flipped(s: Situation) -> Iterator[Wrong]:
    yield from _layer_wrongs(
        s, "conv-flipped", "flipped", slips.flipped_kernels,
        lambda k: f"computed a true convolution ({_names(k)} flipped by 180°) instead of the"
                  " cross-correlation a conv2d layer computes",
        "a convolution instead of a cross-correlation")


def _kernel_unflipped(s: Situation) -> Iterator[Wrong]:
    yield from _layer_wrongs(
        s, "kernel-unflipped", "unflipped", slips.unflipped_input_gradient,
        lambda k: f"did not flip {_names(k)} in the gradient of the convolution's input (the"
                  " full convolution of δ needs the kernel rotated by 180°)",
        "the kernel not flipped in the input gradient", backward_only=True)


def _pool_every_max(s: Situation) -> Iterator[Wrong]:
    yield from _layer_wrongs(
        s, "pool-every-max", "every max", slips.every_max,
        lambda a: f"sent the gradient of {_names(a)} to every maximum of a tied pooling window,"
                  " not to the first one only",
        "the gradient to every tied maximum", backward_only=True)


#: What is held constant: (the words, the pronoun, the exam key's label).
_HELD = {("mu", "var"): ("mean {mu} and variance {var}", "them",
                         "the mean and variance held constant in the backward pass"),
         ("mu",): ("mean {mu}", "it", "the mean held constant in the backward pass"),
         ("var",): ("variance {var}", "it", "the variance held constant in the backward pass")}


def _stats_constant(s: Situation) -> Iterator[Wrong]:
    def sentence(layers, held):
        words, them, _ = _HELD[held]
        batch = "batch " if all(layer.type == "batchnorm" for layer in layers) else ""
        mu = _names([f"mu{layer.position}" for layer in layers])
        var = _names([f"var{layer.position}" for layer in layers])
        return (f"held the {batch}{words.format(mu=mu, var=var)} constant in the backward"
                f" pass (no path through {them} to the inputs)")
    for held in _HELD:
        yield from _layer_wrongs(
            s, "stats-constant", f"constant {held}",
            lambda sol, held=held: slips.constant_statistics(sol, held),
            lambda layers, held=held: sentence(layers, held), _HELD[held][2], backward_only=True)


def _dropout_unscaled(s: Situation) -> Iterator[Wrong]:
    def sentence(layers):
        scales = ", ".join(f"1/(1 − p) = {format_number(1 / (1 - layer['p']))}" for layer in layers)
        return f"left out dropout's scale {scales} in {_names(layers)} (the mask alone)"
    yield from _layer_wrongs(s, "dropout-unscaled", "dropout-unscaled", slips.unscaled_dropout,
                             sentence, "dropout without its 1/(1 − p) scale")


def _forget_dropped(s: Situation) -> Iterator[Wrong]:
    yield from _layer_wrongs(
        s, "forget-dropped", "without f", lambda sol: slips.forget_dropped(sol, 1),
        lambda c: f"took d{c[0]}[t]/d{c[0]}[t−1] as 1, leaving out the forget gate"
                  f" f{c[0][1:]}[t] of the cell state's gradient",
        "the forget gate left out of the cell state's gradient", backward_only=True)
    yield from _layer_wrongs(
        s, "forget-dropped", "no carry", lambda sol: slips.forget_dropped(sol, 0),
        lambda c: f"dropped the cell state's path {c[0]}[t] → {c[0]}[t−1] (through the forget"
                  f" gate f{c[0][1:]}[t])",
        "the cell state's path through the forget gate dropped", backward_only=True)


def _attention_unscaled(s: Situation) -> Iterator[Wrong]:
    yield from _layer_wrongs(
        s, "attention-unscaled", "attention-unscaled", slips.unscaled_attention,
        lambda layers: "left out the scale " + ", ".join(
            f"1/√{layer['d']} of the scores s{layer.position}" for layer in layers),
        "attention without its 1/√d scale")


# ------------------------------------------------------------------------ coincidences


_CANDIDATES: WeakKeyDictionary = WeakKeyDictionary()


def _quantities(solution) -> list[tuple[Key, Decimal]]:
    if solution not in _CANDIDATES:
        out = solution.output
        candidates: list[tuple[Key, object]] = []
        for name in solution.graph.names:
            candidates.append((Key(Kind.DERIVATIVE, out, name), solution.gradients[name]))
        for upper, lower in solution.derivation.edges:
            candidates.append((Key(Kind.DERIVATIVE, upper, lower), solution.evaluation.locals[upper, lower]))
        for name in solution.graph.names:
            candidates.append((Key(Kind.VALUE, name), solution.values[name]))
        for name in solution.values_after:
            candidates.append((Key(Kind.AFTER, name), solution.values_after[name]))
        unique = {k: to_decimal(v, DIGITS) for k, v in candidates}  # once per solution
        _CANDIDATES[solution] = [(k, v) for k, v in unique.items() if v.is_finite() and v != 0]
    return _CANDIDATES[solution]


def _other_quantity(s: Situation) -> Iterator[Wrong]:
    """The value of another quantity (same kind first), or a number copied on the sheet."""
    ranked = sorted(_quantities(s.solution), key=lambda kv: kv[0].kind != s.key.kind)
    for other, value in ranked:
        if other != s.key:
            yield Wrong("other-quantity", value, f"gave the value of {other}, another quantity",
                        f"the value of {other}")
    for other, number in (s.sheet or {}).items():
        if other != s.key:
            yield Wrong("other-quantity", number, f"copied the number given for {other}",
                        f"the number of {other}")


# ------------------------------------------------------------------------ the catalogue


CATALOGUE: tuple[Mistake, ...] = (
    Mistake("update-added", "the update added instead of subtracted (w + η·g)", _update_added),
    Mistake("rate-forgotten", "the learning rate forgotten (w − g)", _rate_forgotten),
    Mistake("sign-flipped", "the sign flipped", _sign_flipped, through_gradient=True),
    Mistake("half-dropped", "the ½ of a loss like (y − t)²/2 dropped: twice its derivatives",
            _half_dropped),
    Mistake("rate-twice", "the learning rate applied twice (w − 2η·g or w − η²·g)", _rate_twice),
    Mistake("conv-flipped", "a convolution instead of the cross-correlation of a conv2d layer "
            "(the kernel flipped in the forward pass)", _conv_flipped, layers=("conv2d",)),
    Mistake("kernel-unflipped", "the kernel not flipped in the gradient of a convolution's "
            "input", _kernel_unflipped, layers=("conv2d",)),
    Mistake("pool-every-max", "a max-pool window's gradient sent to every tied maximum, not "
            "to the first only", _pool_every_max, layers=("maxpool",)),
    Mistake("stats-constant", "a batch norm's (or layer norm's) backward pass with the mean "
            "and variance held constant", _stats_constant,
            layers=("batchnorm", "layernorm")),
    Mistake("dropout-unscaled", "dropout without its 1/(1 − p) scale", _dropout_unscaled,
            layers=("dropout",)),
    Mistake("forget-dropped", "an LSTM's cell-state gradient without the forget gate",
            _forget_dropped, layers=("lstm",)),
    Mistake("attention-unscaled", "attention's scores without the 1/√d scale",
            _attention_unscaled, layers=("attention",)),
    Mistake("path-missing", "a path missing from a sum over paths", _path_missing,
            through_gradient=True),
    Mistake("local-dropped", "a local derivative left out of a chain-rule product",
            _local_dropped, through_gradient=True),
    Mistake("mul-not-swapped", "a mul gate's local derivative taken as the input itself, not the "
            "other input", _mul_not_swapped, through_gradient=True),
    Mistake("derivative-from-input", "an activation's derivative computed from its input: σ' as "
            "z(1 − z), tanh' as 1 − z²", _from_input, through_gradient=True),
    Mistake("function-for-derivative", "an activation written for its derivative (σ for σ')",
            _function_for_derivative, through_gradient=True),
    Mistake("bias-forgotten", "a bias left out of its sum (z = w·x without + b)", _bias_forgotten),
    Mistake("transposed", "a weight matrix's gradient transposed (row and column swapped)",
            _transposed, through_gradient=True),
    Mistake("bias-uncorrected", "Adam's step made with its moments m and v as they are, "
            "without the bias correction m/(1 − β₁ᵗ), v/(1 − β₂ᵗ)", _bias_uncorrected),
    Mistake("steps-miscounted", "the value after one optimizer step fewer than asked",
            _steps_miscounted),
    Mistake("factor-two", "twice or half the value", _factor_two),
    Mistake("rate-in-gradient", "the gradient multiplied by the learning rate", _rate_in_gradient),
    Mistake("other-quantity", "the value of another quantity, or a number copied from another "
            "line of the sheet", _other_quantity, coincidental=True),
)
MISTAKES: dict[str, Mistake] = {m.id: m for m in CATALOGUE}


def wrong_values(solution, key: Key | str, ids=None, *, sheet: Mapping[Key, Decimal] | None = None,
                 places: int = 4) -> list[Wrong]:
    """Every wrong number the catalogue's mistakes (``ids``, default all, in that order)
    give for ``key``, with what happened.

    For an updated parameter, a mistake that spoils the gradient yields the update made
    with the spoilt gradient (``w − η·wrong``).
    """
    return list(iter_wrong_values(solution, key, ids, sheet=sheet, places=places))


def iter_wrong_values(solution, key: Key | str, ids=None, *,
                      sheet: Mapping[Key, Decimal] | None = None, places: int = 4) -> Iterator[Wrong]:
    """:func:`wrong_values` one at a time, for a reader that stops at the first that fits."""
    if isinstance(key, str):
        key = parse_key(key, solution.key_names)
    situation = Situation(solution, key, places, sheet)
    for mistake_id in (ids if ids is not None else MISTAKES):
        mistake = MISTAKES[mistake_id]
        yield from mistake.produce(situation)
        if mistake.through_gradient and situation.updates_parameter:
            yield from _updated_with(situation, mistake)


def _updated_with(s: Situation, mistake: Mistake) -> Iterator[Wrong]:
    w, _g, rate, name, out = _update_parts(s)
    for wrong in mistake.produce(s.gradient):
        yield Wrong(wrong.mistake, w - rate * wrong.value,
                    f"{wrong.sentence} in d{out}/d{name} and updated {name} with it",
                    f"the update with {wrong.label}")
