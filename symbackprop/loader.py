"""Reading problem files (TOML, docs/problem-files.md) into a :class:`~symbackprop.problem.Problem`.

TOML is read with the standard library, floats as decimals (``0.1`` is exactly 1/10).
Everything a user can get wrong raises :class:`~symbackprop.errors.ProblemError` naming
the file, the section and the field.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import numpy as np
import sympy as sp

from . import examples
from .errors import ProblemError, SymbackpropError, did_you_mean
from .files import read_limited
from .graph import Group, Leaf, build_graph, stage
from .layers import LayerStack, build_stack_graph, is_layer_list, read_stack
from .limits import (
    MAX_ELEMENTS,
    MAX_EQUATIONS,
    MAX_FILE_BYTES,
    MAX_NAME_LENGTH,
    MAX_RANK,
    MAX_TITLE_LENGTH,
    LimitError,
)
from .network import Network, build_network_graph, check_spec
from .notation import latex_name
from .optimizers import read_optimizer
from .parse import indexed_name, is_name, parse_expression, split_indexed
from .printable import printable
from .problem import TOP_KEYS, Problem

#: The tables an exercise file adds (docs/exams.md): a problem reader accepts and skips them,
#: so that an exercise file stays a valid problem for solve and verify.
EXERCISE_KEYS = ("random", "questions", "constraints", "mistakes", "statement", "description")


def read_toml(path: Path) -> dict:
    """The TOML table of a file, floats as Decimal. Errors name the file.

    At most :data:`MAX_FILE_BYTES` are read, and only from a regular file (files.py);
    a UTF-8 byte order mark is skipped, as in claims files."""
    try:
        data = read_limited(path, MAX_FILE_BYTES, ProblemError, "problem file")
    except FileNotFoundError:
        hint = did_you_mean(path.name, examples.ALL_EXAMPLES)
        raise ProblemError("no such file, and not a built-in example"
                           f"{hint or ' (`symbackprop examples` lists them)'}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError("is not UTF-8 text") from None
    return parse_toml(text.removeprefix("\ufeff"))


def parse_toml(text: str) -> dict:
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ProblemError("not valid TOML: nested too deeply") from None


def to_rational(value, field: str, section: str) -> sp.Rational:
    """A TOML number as an exact rational. A Python float (from the API) is read by its
    shortest repr, so 0.1 is 1/10 there too."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ProblemError(f"expected a number, got {_kind(value)}").at(section=section, field=field)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ProblemError("expected a finite number").at(section=section, field=field)
    if isinstance(value, Decimal) and abs(value.as_tuple().exponent) > 60:
        raise ProblemError("the number has too many digits").at(section=section, field=field)
    if isinstance(value, int) and abs(value) > 10**30:
        raise ProblemError("the number is too large").at(section=section, field=field)
    return sp.Rational(str(value))


def _kind(value) -> str:
    return {bool: "true/false", str: "a string", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__)


def array_shape(value, field: str, section: str) -> tuple[int, ...]:
    """The shape of a number, vector, matrix or array given as nested lists (rectangular)."""
    if not isinstance(value, list):
        return ()
    if not value:
        raise ProblemError("an empty list has no values").at(section=section, field=field)
    shapes = {array_shape(v, field, section) for v in value}
    if len(shapes) != 1:
        raise ProblemError("rows of different lengths: a matrix must be rectangular").at(
            section=section, field=field)
    shape = (len(value), *shapes.pop())
    if len(shape) > MAX_RANK:
        raise ProblemError(f"arrays may have at most {MAX_RANK} axes (the limit; docs/limits.md)"
                           ).at(section=section, field=field)
    return shape


def name_problem(name, section: str) -> str | None:
    """Why ``name`` cannot name a leaf or node, or None when it can."""
    if not isinstance(name, str) or not name:
        return "a name is missing"
    base = name.split("[", 1)[0]
    if len(base) > MAX_NAME_LENGTH:
        return f"a name may have at most {MAX_NAME_LENGTH} characters before its index"
    if "[" in name and not split_indexed(name) and re.fullmatch(r"[A-Za-z]\w*(\[\d+\])+", name):
        return ("an index is written as a plain number without leading zeros "
                f"(write {indexed_name(base, *map(int, re.findall(r'[0-9]+', name)))})"
                if name.isascii() else "an index is written with the digits 0-9")
    if is_name(name) or (section == "graph" and split_indexed(name)):
        return None
    return "not a valid name (letters, digits and _, starting with a letter; not a function name)"


def _check_name(name, section: str) -> None:
    problem = name_problem(name, section)
    if problem:
        raise ProblemError(problem).at(section=section, field=printable(str(name)))


def count_numbers(value, limit: int) -> int:
    """The numbers in a value (nested lists counted element by element), counting no
    further than just past ``limit``."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            count += 1
    return count


def check_elements(tables: list[tuple[str, dict]]) -> None:
    """Refuse more than :data:`MAX_ELEMENTS` numbers, before any is converted."""
    total = 0
    for section, table in tables:
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            total += count_numbers(value, MAX_ELEMENTS)
            if total > MAX_ELEMENTS:
                raise LimitError(f"more than {MAX_ELEMENTS} numbers in [inputs], [parameters] "
                                 "and [data] together (the limit; docs/limits.md)").at(
                    section=section, field=printable(str(name)))


def read_leaves(table, kind: str, section: str, leaves: dict, groups: dict) -> None:
    """Add the leaves of ``[inputs]`` or ``[parameters]``; arrays become element leaves."""
    if not isinstance(table, dict):
        raise ProblemError(f"[{section}] must be a table of name = value").at(section=section)
    for name, value in table.items():
        _check_name(name, section)
        if name in leaves or name in groups:
            raise ProblemError("defined twice (in [inputs] and [parameters])").at(
                section=section, field=name)
        shape = array_shape(value, name, section)
        if not shape:
            leaves[name] = Leaf(name, kind, to_rational(value, name, section))
            continue
        groups[name] = Group(name, shape)
        flat = np.array(value, dtype=object).reshape(-1)
        for element, v in zip(groups[name].names(), flat, strict=True):
            leaves[element] = Leaf(element, kind, to_rational(v, name, section))


def read_data(table, leaves: dict, groups: dict) -> dict[str, np.ndarray]:
    """The ``[data]`` table: each input name maps to a list of samples."""
    if not isinstance(table, dict) or not table:
        raise ProblemError("[data] must map input names to lists of samples").at(section="data")
    data = {}
    count = None
    for name, samples in table.items():
        if not isinstance(samples, list) or not samples:
            raise ProblemError("expected a non-empty list of samples").at(section="data", field=name)
        shape = array_shape(samples, name, "data") if isinstance(samples[0], list) else (len(samples),)
        if any(isinstance(s, list) for s in samples) and not isinstance(samples[0], list):
            raise ProblemError("samples must all have the same shape").at(section="data", field=name)
        if count is not None and shape[0] != count:
            raise ProblemError(f"has {shape[0]} samples, other data names have {count}").at(
                section="data", field=name)
        count = shape[0]
        values = np.array([float(to_rational(v, name, "data")) for v in
                           np.array(samples, dtype=object).reshape(-1)]).reshape(shape)
        data[name] = values
    return data


def plain_values(value):
    """A table from Python with numpy arrays and scalars as lists and plain numbers, so
    that ``load_dict`` reads them as it reads TOML."""
    if isinstance(value, dict):
        return {k: plain_values(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return plain_values(value.tolist())
    if isinstance(value, list | tuple):
        return [plain_values(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return Decimal(str(value))  # numpy's shortest repr: float32(0.1) is 0.1
    return value


def load_dict(raw: dict, *, name: str, source: str, stage_gates: bool | None = None,
              derivations=None, key: bool = False):
    """Build a Problem from a parsed TOML table; errors are located in ``source``.
    ``derivations``: the caller's :class:`~symbackprop.derive.Derivations`, shared by
    problems of one shape (the exam's draws); default: the problem's own. ``key``: the
    problem of an exam's key, whose typed layers must write out within the key's limits
    (:data:`~symbackprop.limits.MAX_KEY_EQUATIONS`; docs/limits.md)."""
    try:
        if not isinstance(raw, dict):
            raise ProblemError(f"expected a table of sections, got {_kind(raw)}")
        problem = _load(plain_values(raw), name=name, source=source, stage_gates=stage_gates,
                        key=key)
    except SymbackpropError as exc:
        raise exc.at(file=source) from None
    problem.derivations = derivations
    return problem


def _load(raw, *, name, source, stage_gates, key=False):
    """The sections in order: top-level keys, leaves, the graph (or network), data."""
    title, rate = _top_level(raw)
    leaves: dict[str, Leaf] = {}
    groups: dict[str, Group] = {}
    network = _network_spec(raw)
    data = raw.get("data")
    inputs = _inputs_with_first_sample(raw, data)
    stacked_batch = None
    if isinstance(network, LayerStack) and "batch" in raw:
        stacked_batch = _stack_batch(raw, data, inputs)
    check_elements([("inputs", raw.get("inputs", {})), ("parameters", raw.get("parameters", {})),
                    ("data", data if isinstance(data, dict) else {})])
    read_leaves(inputs, "input", "inputs", leaves, groups)
    read_leaves(raw.get("parameters", {}), "parameter", "parameters", leaves, groups)
    if isinstance(network, LayerStack):
        graph = _stack_graph(raw, network, leaves, groups, stacked_batch, key)
    elif network is not None:
        graph = _network_graph(raw, network, leaves, groups)
    else:
        graph, count = _equation_graph(raw, leaves, groups)
        if stage_gates is None:
            stage_gates = count == 1
    if stage_gates:
        graph = stage(graph)
    samples = None
    if data is not None and stacked_batch is None:  # (a batch in the graph is no sample list)
        samples = _samples(data, inputs, leaves, groups)
    optimizer = read_optimizer(raw.get("optimizer"), rate, to_rational)
    if optimizer is not None:
        rate = optimizer.learning_rate
        _check_state_names(graph, optimizer)
    if isinstance(network, LayerStack):  # the batch is in the graph: one node per sample
        return Problem(name=name, source=source, title=title, graph=graph, learning_rate=rate,
                       layers=network, data=samples, raw=raw, optimizer=optimizer)
    return Problem(name=name, source=source, title=title, graph=graph, learning_rate=rate,
                   network=network, data=samples, raw=raw, optimizer=optimizer,
                   batch=_read_batch(raw, samples))


#: What each optimizer state's key names, for the error below.
_STATE_WORDS = {"m": "Adam's first moment", "v": "the second moment", "b": "the momentum buffer"}


def _check_state_names(graph, optimizer) -> None:
    """A name of the problem that is an optimizer state's key (``b_w`` beside a
    parameter ``w`` under momentum) would hide that state from verify and the exams:
    refused, as docs/claim-keys.md says."""
    for slot in optimizer.state_names:
        for p in graph.parameters:
            key = f"{slot}_{p}"
            if key in graph:
                section = "graph" if graph.is_node(key) else (
                    "parameters" if key in graph.parameters else "inputs")
                raise ProblemError(
                    f"is the key of {_STATE_WORDS[slot]} of {p} under the {optimizer.name}"
                    " optimizer; rename it").at(section=section, field=key)


def _read_batch(raw: dict, samples: dict | None):
    """``batch = "all"`` or a whole number K: the first K samples of ``[data]``."""
    if "batch" not in raw:
        return None
    batch = raw["batch"]
    if samples is None:
        raise ProblemError("a mini-batch needs a [data] table of samples").at(field="batch")
    count = len(next(iter(samples.values())))
    if batch == "all":
        return "all"
    if type(batch) is not int or not 1 <= batch <= count:
        raise ProblemError(f"expected \"all\" or a whole number from 1 to {count} (the samples"
                           " in [data])").at(field="batch")
    return batch


def _top_level(raw) -> tuple[str | None, sp.Rational | None]:
    """The top-level keys: known names only, one form, the title and the learning rate."""
    for key in raw:
        if key not in TOP_KEYS and key not in EXERCISE_KEYS:
            raise ProblemError(f"unknown key{did_you_mean(str(key), TOP_KEYS + EXERCISE_KEYS)}"
                               f" (keys: {', '.join(TOP_KEYS)})").at(field=printable(str(key)))
    if ("graph" in raw) == ("network" in raw):
        raise ProblemError("a problem needs exactly one of [graph] or [network]")
    title = raw.get("title")
    if title is not None and not isinstance(title, str):
        raise ProblemError("expected a string").at(field="title")
    if title is not None and len(title) > MAX_TITLE_LENGTH:
        raise ProblemError(f"a title may have at most {MAX_TITLE_LENGTH} characters").at(
            field="title")
    rate = None
    if "learning_rate" in raw:
        rate = to_rational(raw["learning_rate"], "learning_rate", None)
        if rate <= 0:
            raise ProblemError("must be positive").at(field="learning_rate")
    return title, rate


def _network_spec(raw) -> Network | LayerStack | None:
    if "network" not in raw:
        return None
    if not isinstance(raw["network"], dict):
        raise ProblemError("[network] must be a table").at(section="network")
    try:
        if is_layer_list(raw["network"]):
            return read_stack(raw["network"])
        return check_spec(raw["network"])
    except SymbackpropError as exc:
        raise exc.at(section="network") from None


def _inputs_with_first_sample(raw, data) -> dict:
    """``[inputs]``, completed by the first sample of each ``[data]`` name: solve works
    on the first sample. A data name that is a parameter is an error of [data]."""
    inputs = raw.get("inputs", {})
    if not isinstance(inputs, dict):
        raise ProblemError("[inputs] must be a table of name = value").at(section="inputs")
    inputs = dict(inputs)
    parameters = raw.get("parameters", {})
    if isinstance(data, dict):
        for dname, samples in data.items():
            if isinstance(parameters, dict) and dname in parameters:
                raise ProblemError("is a parameter; data must be given for input names").at(
                    section="data", field=printable(str(dname)))
            if dname not in inputs and isinstance(samples, list) and samples:
                inputs[dname] = samples[0]
    return inputs


def _network_graph(raw, network: Network, leaves: dict, groups: dict):
    _check_network_leaves(network, leaves, groups)
    graph = build_network_graph(network, leaves, groups)
    if "output" in raw and raw["output"] != graph.output:
        raise ProblemError("the network form's output is always L").at(field="output")
    return graph


def _stack_batch(raw, data, inputs: dict) -> int:
    """A network of typed layers over a mini-batch holds the batch in its graph: x and y
    are the first K samples of [data], the sample their first index."""
    if not isinstance(data, dict) or not all(isinstance(data.get(n), list) for n in ("x", "y")):
        raise ProblemError("a mini-batch needs x and y in [data]").at(field="batch")
    count = min(len(data["x"]), len(data["y"]))
    batch = raw["batch"]
    if batch == "all":
        batch = count
    if type(batch) is not int or not 1 <= batch <= count:
        raise ProblemError(f"expected \"all\" or a whole number from 1 to {count} (the samples"
                           " in [data])").at(field="batch")
    inputs["x"], inputs["y"] = data["x"][:batch], data["y"][:batch]
    return batch


def _stack_graph(raw, stack: LayerStack, leaves: dict, groups: dict, batch: int | None,
                 bounded: bool = False):
    lead = () if batch is None else (batch,)
    expected = {"x": lead + stack.input, "y": lead + stack.target_shape, **stack.parameters}
    _check_arrays(expected, set(stack.parameters), leaves, groups)
    try:
        graph = build_stack_graph(stack, leaves, groups, batch, bounded)
    except SymbackpropError as exc:
        raise exc.at(section="network") from None
    if "output" in raw and raw["output"] != graph.output:
        raise ProblemError("the network form's output is always L").at(field="output")
    return graph


def _equation_graph(raw, leaves: dict, groups: dict):
    """The ``[graph]`` table: each equation parsed, then the graph built and checked."""
    table = raw["graph"]
    if not isinstance(table, dict) or not table:
        raise ProblemError("[graph] must list equations as name = \"expression\"").at(section="graph")
    if len(table) > MAX_EQUATIONS:
        raise LimitError(f"more than {MAX_EQUATIONS} equations (the limit; docs/limits.md)").at(
            section="graph")
    assignments = []
    for node_name, text in table.items():
        _check_name(node_name, "graph")
        try:
            assignments.append((node_name, parse_expression(text)))
        except SymbackpropError as exc:
            raise exc.at(section="graph", field=node_name) from None
    _group_indexed_nodes([n for n, _ in assignments], groups)
    _check_printed_names([*leaves, *(n for n, _ in assignments)])
    output = raw.get("output")
    if output is not None and not isinstance(output, str):
        raise ProblemError("expected the name of a node").at(field="output")
    try:
        graph = build_graph(assignments, leaves, output, groups)
    except SymbackpropError as exc:
        raise exc.at(section="graph") from None
    return graph, len(assignments)


def _check_printed_names(names) -> None:
    """Two names that the handout would print alike (``z1``, ``z_1`` and ``z[0]`` are
    all z_1) would make its equations ambiguous: refused, as z[00] beside z[0] is."""
    seen: dict[str, str] = {}
    for name in names:
        shown = latex_name(name)
        if shown in seen and seen[shown] != name:
            raise ProblemError(f"prints as ${shown}$ in the handout, the same as "
                               f"{seen[shown]!r}; rename one of them").at(
                section="graph", field=printable(name))
        seen.setdefault(shown, name)


def _samples(data, inputs: dict, leaves: dict, groups: dict) -> dict[str, np.ndarray]:
    """``[data]`` read, each name checked to be an input of the sample's shape."""
    samples = read_data(data, leaves, groups)
    for dname, values in samples.items():
        expected = groups[dname].shape if dname in groups else ()
        if dname not in inputs or leaves.get(dname, None) is not None and leaves[dname].kind != "input":
            raise ProblemError("data must be given for input names").at(section="data", field=dname)
        if tuple(values.shape[1:]) != tuple(expected):
            raise ProblemError(f"each sample must have shape {expected or 'scalar'}, "
                               f"got {tuple(values.shape[1:]) or 'scalar'}").at(section="data", field=dname)
    return samples


def _group_indexed_nodes(names: list[str], groups: dict) -> None:
    """Nodes named ``z1[0], z1[1]`` form an array ``z1`` when every element is defined,
    so that reports nest them as the network form does."""
    found: dict[str, set] = {}
    for name in names:
        parts = split_indexed(name)
        if parts:
            found.setdefault(parts[0], set()).add(parts[1])
    for base, indices in found.items():
        if base in groups or len({len(i) for i in indices}) != 1:
            continue
        shape = tuple(max(i[d] for i in indices) + 1 for d in range(len(next(iter(indices)))))
        group = Group(base, shape)
        if set(np.ndindex(*shape)) == indices:
            groups[base] = group


def _check_network_leaves(net: Network, leaves: dict, groups: dict) -> None:
    shapes = net.shapes()
    _check_arrays({a: shapes[a] for a in ("x", "y", *net.parameters)}, set(net.parameters),
                  leaves, groups)


def _check_arrays(shapes: dict, parameters: set, leaves: dict, groups: dict) -> None:
    """Every array a network names is given, with its shape, in its section, and
    nothing else is."""
    for array, expected in shapes.items():
        section = "parameters" if array in parameters else "inputs"
        if array not in groups:
            if array in leaves and expected == (1,):
                value = leaves.pop(array)
                groups[array] = Group(array, (1,))
                leaves[indexed_name(array, 0)] = Leaf(indexed_name(array, 0), value.kind, value.value)
                continue
            raise ProblemError(f"missing: the network needs {array} with shape {expected}").at(
                section=section, field=array)
        if groups[array].shape != expected:
            raise ProblemError(f"has shape {groups[array].shape}, the network needs {expected}").at(
                section=section, field=array)
        kind = leaves[groups[array].names()[0]].kind
        want = "parameter" if array in parameters else "input"
        if kind != want:
            raise ProblemError(f"belongs in [{want}s]").at(section=f"{kind}s", field=array)
    extra = [g for g in groups if g not in shapes]
    extra += [n for n in leaves if "[" not in n]
    if extra:
        raise ProblemError("not used by the network (it names x, y, W1, b1, ...)").at(
            section="inputs" if leaves.get(extra[0], Leaf("", "input", 0)).kind == "input" else "parameters",
            field=extra[0])


def load_path(path: str | Path, stage_gates: bool | None = None):
    path = Path(path)
    try:
        raw = read_toml(path)
    except SymbackpropError as exc:
        raise exc.at(file=str(path)) from None
    return load_dict(raw, name=path.stem, source=str(path), stage_gates=stage_gates)


def load(problem: str | Path, stage_gates: bool | None = None) -> Problem:
    """Load a problem file, or a built-in example by name (``symbackprop examples``).

    ``stage_gates``: split compound equations into atomic gates. By default only a
    problem that is a single equation is staged, as the lectures stage (x + y) z.
    """
    if isinstance(problem, str) and problem in examples.ALL_EXAMPLES:
        return load_example(problem, stage_gates=stage_gates)
    return load_path(problem, stage_gates=stage_gates)


def load_example(name: str, stage_gates: bool | None = None) -> Problem:
    """A built-in problem, read from its TOML text like a user's file."""
    raw = parse_toml(examples.example_text(name))
    return load_dict(raw, name=name, source=f"{name} (built-in)", stage_gates=stage_gates)
