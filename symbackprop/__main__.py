"""``python -m symbackprop`` runs the command line."""

from .cli import run

run()
