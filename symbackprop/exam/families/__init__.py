"""The built-in exercises: exercise files shipped in the package (``<name>.toml`` here).

They are read by the same code as a teacher's own file (:mod:`..exercise`), and
``symbackprop exam --show NAME`` prints one to copy and edit. Adding a family is adding
its file here and its name to :data:`NAMES`.
"""

from __future__ import annotations

from importlib import resources

#: The families in the order ``--list`` shows them.
NAMES = ("chain", "neuron", "net221", "logreg", "mlp", "gates", "hinge")


def text(name: str) -> str:
    """The exercise file of a built-in family, as TOML text."""
    return resources.files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
