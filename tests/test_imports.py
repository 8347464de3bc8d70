"""The package's imports run one way: no cycles, counting imports inside functions.

An import placed inside a function to dodge a cycle hides a design knot rather than
untying it, so every ``import`` and ``from ... import`` anywhere in a module counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symbackprop"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                prefix = ".".join(base + ([node.module] if node.module else []))
                subs = [f"{prefix}.{alias.name}" for alias in node.names]
                targets = [t for t in subs if t in modules]
                if len(targets) < len(subs):  # a name taken from the module itself
                    targets.append(prefix)
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check itself can fail: a planted two-module cycle and a three-module one."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


def test_imports_inside_functions_count():
    graph = import_graph()
    # symbackprop/__init__.py imports the loader at the top and the training module
    # inside a function: both edges are seen.
    assert "symbackprop.loader" in graph["symbackprop"]
    assert "symbackprop.training" in graph["symbackprop"]


# ---------------------------------------------------------------------- packages

#: The declared layering (docs/architecture.md): each layer and the layers it may import.
#: ``core`` is every module at the top of the package (load, parse, graph, derive,
#: evaluate, solution, keys, display, notation, ...) and the built-in examples; the
#: feature packages sit on it side by side; exams read render and verify; grading reads
#: exams; the API (``symbackprop/__init__``, the gallery) and the CLI sit on top.
LAYERS = {
    "core": {"core"},
    "kernels": {"core"},
    "verify": {"core"},
    "render": {"core"},
    "exam": {"core", "render", "verify"},
    "grade": {"core", "render", "verify", "exam"},
    "api": {"core", "kernels", "verify", "render", "exam", "grade"},
    "cli": {"core", "kernels", "verify", "render", "exam", "grade", "api"},
}
#: Modules outside the layer their place would give them.
PLACED = {"symbackprop": "api", "symbackprop.gallery": "api", "symbackprop.__main__": "cli",
          "symbackprop.examples": "core", "symbackprop.layers": "core"}
#: The one edge that crosses the layering on purpose: ``Problem.compile()`` is the API's
#: door to the kernels (docs/kernels.md), imported when it is called.
EXCEPTIONS = {("symbackprop.problem", "symbackprop.kernels")}
FEATURES = {"kernels", "verify", "render", "exam", "grade", "cli"}


def layer(module: str) -> str:
    if module in PLACED:
        return PLACED[module]
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in FEATURES):
        return PLACED.get(".".join(parts[:2]), parts[1])
    return "core"


def crossings(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a layer into one it may not read."""
    return sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                  if layer(t) != layer(m) and layer(t) not in LAYERS[layer(m)]
                  and (m, t) not in EXCEPTIONS)


def test_every_module_has_a_layer():
    assert {layer(m) for m in import_graph()} <= set(LAYERS)
    # The page writes the layering down, as declared here.
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "core < kernels, verify, render < exam < grade < API < CLI" in page
    assert LAYERS["kernels"] == LAYERS["verify"] == LAYERS["render"] == {"core"}


def test_packages_import_one_way():
    """core < kernels, verify, render < exam < grade < API < CLI: no import runs down
    the other way (the loader does not read the printer, the practice page loads no
    problem and judges nothing, the marked sheet is render's)."""
    assert crossings(import_graph()) == []


def test_the_layer_check_finds_a_crossing():
    """The check itself can fail: planted imports that run against the layering."""
    graph = {"symbackprop.loader": {"symbackprop.render.printer"},
             "symbackprop.render.practice": {"symbackprop.verify.judge", "symbackprop.loader"},
             "symbackprop.verify.report": {"symbackprop.loader"},
             "symbackprop.exam.outputs": {"symbackprop.render.practice"}}
    assert crossings(graph) == ["symbackprop.loader -> symbackprop.render.printer",
                                "symbackprop.render.practice -> symbackprop.verify.judge"]


def test_named_moves_stay_made():
    graph = import_graph()
    assert "symbackprop.render.printer" not in graph["symbackprop.loader"]
    assert not {"symbackprop.loader"} & graph["symbackprop.render.practice"]
    assert not {"symbackprop.loader"} & graph["symbackprop.verify.report"]
    assert "symbackprop.verify.sheet" not in graph and "symbackprop.render.sheet" in graph
