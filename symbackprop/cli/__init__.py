"""The ``symbackprop`` command line: one thin module per subcommand.

Each subcommand module has ``register(subparsers)`` and ``run(args) -> int`` and wraps
one API function. Every user mistake (a :class:`SymbackpropError`, or a bad option)
exits with status 2 and one line ``error: ...`` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from ..errors import SymbackpropError
from ..printable import printable

#: Subcommands in the order ``--help`` lists them; a module that is absent is skipped.
COMMANDS = ("examples", "solve", "verify", "exam", "grade", "train")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one ``error:`` line and exit status 2."""

    def error(self, message):
        sys.stderr.write(f"error: {printable(message)} (see '{self.prog} --help')\n")
        sys.exit(2)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = _Parser(
        prog="symbackprop",
        description="Backpropagation worked out by the chain rule: solve, verify, exam, train.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"symbackprop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    handlers = {}
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{name}":
                continue
            raise
        module.register(sub)
        handlers[name] = module.run
    return parser, handlers


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every ``finally`` runs: temporary
    directories are removed and TeX processes killed (render/pdf.py)."""


def _terminate(signum, frame):
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (main() called from a test's thread)
        previous = None
    try:
        status = handlers[args.command](args) or 0
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        return status
    except SymbackpropError as exc:
        sys.stderr.write(f"error: {printable(str(exc))}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Terminated:
        sys.stderr.write("error: terminated\n")
        return 128 + signal.SIGTERM
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except RecursionError:
        sys.stderr.write("error: the input is nested too deeply to process\n")
        return 2
    except OSError as exc:  # the machine, not the input: a full disk under stdout, ...
        _quiet_stdout()
        sys.stderr.write(f"error: {printable(exc.strerror or str(exc))}\n")
        return 2
    except Exception as exc:  # a bug, not a user mistake: still no traceback for users
        if os.environ.get("SYMBACKPROP_DEBUG"):
            raise
        sys.stderr.write(
            f"error: internal error ({type(exc).__name__}: {printable(str(exc))}); "
            "rerun with SYMBACKPROP_DEBUG=1 for the traceback and please report it\n"
        )
        return 70
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _quiet_stdout() -> None:
    """Drop what is left in stdout's buffer, so that exiting does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run() -> None:
    """The process's entry point: :func:`main`, then exit with its status. After Ctrl-C or
    SIGTERM the process ends at once: its temporary folders and TeX runs were cleaned up
    and its workers reaped as the exception unwound, but the process pool's manager
    thread may wait forever on a result that a terminated worker half sent, and Python
    joins that thread at exit (test_signals saw grade --jobs 2 hang after its line)."""
    status = main()
    if status in (130, 128 + signal.SIGTERM):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
