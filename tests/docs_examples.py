"""The documentation runs: the evaluators Sybil applies to README.md and docs/*.md.

Each page is read in order in a fresh temporary folder of its own, holding a copy of the
clone's tests/data (so no documented command writes into the repository), and each kind of block is checked as a reader would
use it:

- ``console`` blocks: every ``$ command`` runs in bash; the lines below it, up to the next
  ``$``, are its shown output (stdout and stderr as a terminal shows them), compared as
  doctest compares (``...`` stands for any text, runs of white space are equal). A last
  line ``[exit N]`` is the exit status the command must give; without it, 0.
- ``python`` blocks run in one namespace per page; ``>>>`` blocks are doctests.
- ``toml`` blocks that are whole problem or exercise files load; fragments are marked
  ``<!-- skip: next -->`` in the page.
- ``json`` blocks parse.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXIT = re.compile(r"^\[exit (\d+)\]$")
TIMEOUT = 900
_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def setup_page(namespace: dict) -> None:
    """A fresh folder for one page; Python blocks run in it too."""
    namespace["_folder"] = tempfile.mkdtemp(prefix="symbackprop-docs-")
    # A page may name the sample files of a clone (tests/data/...): the folder has them.
    shutil.copytree(ROOT / "tests" / "data", Path(namespace["_folder"]) / "tests" / "data")
    namespace["_cwd"] = os.getcwd()
    os.chdir(namespace["_folder"])


def teardown_page(namespace: dict) -> None:
    os.chdir(namespace["_cwd"])
    shutil.rmtree(namespace["_folder"], ignore_errors=True)


def commands(source: str) -> list[tuple[str, str]]:
    """The ``$ command`` lines of a console block, each with the output shown under it."""
    found: list[tuple[str, list[str]]] = []
    continued = False
    for line in source.splitlines():
        if continued:
            found[-1] = (found[-1][0] + "\n" + line, found[-1][1])
            continued = line.endswith("\\")
        elif line.startswith("$ "):
            found.append((line[2:], []))
            continued = line.endswith("\\")
        elif found:
            found[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"console block: output before any '$ ' command: {line!r}")
    return [(command, "\n".join(shown).strip("\n")) for command, shown in found]


def _environment() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SYMBACKPROP_DEBUG", None)
    env["COLUMNS"] = "100"
    return env


def evaluate_console(example) -> str | None:
    folder = example.namespace["_folder"]
    for command, shown in commands(example.parsed):
        status = 0
        lines = shown.splitlines()
        if lines and EXIT.match(lines[-1].strip()):
            status = int(EXIT.match(lines[-1].strip()).group(1))
            shown = "\n".join(lines[:-1]).strip("\n")
        run = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command], cwd=folder, env=_environment(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=TIMEOUT,
        )
        if run.returncode != status:
            return f"$ {command}\nexited {run.returncode}, the page says {status}:\n{run.stdout}"
        if shown and not _CHECKER.check_output(shown + "\n", run.stdout, _FLAGS):
            return f"$ {command}\nthe page shows:\n{shown}\nthe command printed:\n{run.stdout}"
    return None


def evaluate_toml(example) -> str | None:
    """A whole problem or exercise file shown in a page loads as one."""
    import symbackprop as sb

    path = Path(example.namespace["_folder"]) / f"page-line-{example.line}.toml"
    path.write_text(example.parsed, encoding="utf-8")
    try:
        sb.load(str(path))
    except Exception as error:  # noqa: BLE001 - the message is the test's report
        return f"the TOML block does not load: {error}"
    return None


def evaluate_json(example) -> str | None:
    try:
        json.loads(example.parsed)
    except ValueError as error:
        return f"the JSON block does not parse: {error}"
    return None
