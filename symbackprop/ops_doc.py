"""The op table as the Markdown table of docs/operations.md, so the page cannot drift
from the table: a test checks that the page holds exactly what this writes.

``python -m symbackprop.ops_doc`` prints it.
"""

from __future__ import annotations

from . import ops

_ARGUMENTS = {1: "z", 2: "a, b"}


def _calls(op: ops.Op) -> str:
    """How a user writes the function: ``relu(z)``; each arity of a flexible one."""
    if op.arity is None:
        return f"`{op.notation.function}(z0, z1, ...)`"
    counts = op.arity if isinstance(op.arity, tuple) else (op.arity,)
    shapes = {1: ("z",), 2: ("a", "b")} if len(counts) == 1 else {1: ("z",), 2: ("z", "a")}
    return " or ".join(f"`{op.notation.function}({', '.join(shapes[n])})`" for n in counts)


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def _kink(op: ops.Op) -> str:
    return op.kinks.convention if op.kinks.distance is not None else "none"


def _activation(op: ops.Op) -> str:
    if op.layer and op.layer.acts == ops.WHOLE_LAYER:
        return "last layer only"
    return "yes" if op.layer else ""


def operations_table() -> str:
    """The table of functions (one row per function users may call, then the layer
    activations that are no function), between the markers the docs test looks for."""
    rows = ["<!-- functions -->",
            "| Written | Gate | Local derivative | Kink: the derivative taken there | Layer activation |",
            "|---|---|---|---|---|"]
    for op in ops.OPS.values():
        if op.notation.function:
            written = _calls(op)
        elif op.layer:
            written = f'`"{op.name}"` in `activations`'
        else:
            continue
        rows.append(f"| {written} | {op.rule.gate} | ${_cell(op.rule.text)}$ | {_cell(_kink(op))} "
                    f"| {_activation(op)} |")
    rows.append("<!-- /functions -->")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(operations_table(), end="")
