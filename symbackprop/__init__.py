"""symbackprop: backpropagation worked out by the chain rule, for teaching.

    import symbackprop as sb
    problem = sb.load("net-221")          # a problem file, or a built-in example
    solution = problem.solve()            # forward, backward, update, second forward
    solution.derivative("dy/dz_c")        # any claim key (docs/claim-keys.md)
    solution.to_json()
    sb.verify("net-221", "claims.txt").to_text()   # check hand-computed answers
    kernel = problem.compile()            # numpy kernels: kernel.loss_and_grad(params, data)
    sb.train("four-pixel").accuracy       # SGD with those kernels

The public names are imported when first used (PEP 562), so that ``import symbackprop``
(which every ``symbackprop.x`` import runs first, the command line's too) costs
nothing: ``symbackprop --version`` reads no SymPy.
"""

import functools
import sys
import types

from .defaults import DEFAULT_BAND

__all__ = ["load", "load_dict", "verify", "train", "Problem", "Report", "Solution",
           "SymbackpropError", "__version__"]
__version__ = "0.1.0"


def load_dict(table: dict, name: str = "problem", stage_gates: bool | None = None):
    """A problem from a table shaped like a problem file (docs/problem-files.md)."""
    from .loader import load_dict as _load_dict

    return _load_dict(table, name=name, source=name, stage_gates=stage_gates)


def verify(problem, claims, *, band=DEFAULT_BAND, strict: bool = False):
    """Check hand-computed answers against a problem: a loaded
    :class:`~symbackprop.problem.Problem`, a problem file or a built-in name; see
    :func:`symbackprop.verify.report.verify` for ``claims``, ``band`` and ``strict``."""
    from .loader import load
    from .problem import Problem
    from .verify import verify as _verify

    return _verify(problem if isinstance(problem, Problem) else load(problem), claims,
                   band=band, strict=strict)


def train(problem, **options):
    """Train a problem (a loaded Problem, a file or a built-in name) with SGD on the
    generated kernels; see :func:`symbackprop.training.train` for the options."""
    from .loader import load
    from .problem import Problem
    from .training import train as _train

    return _train(problem if isinstance(problem, Problem) else load(problem), **options)


@functools.cache
def _api() -> dict:
    """The public classes and functions, imported together on first use; the notebook
    view is wired here, where the package is put together, so that the solution (data)
    does not import its renderers."""
    from .errors import SymbackpropError
    from .loader import load
    from .problem import Problem
    from .render import render_format
    from .solution import Solution
    from .verify import Report

    def _markdown(solution: Solution) -> str:
        """The worked solution in a Jupyter notebook (Markdown with MathJax math)."""
        return render_format(solution, "md")

    Solution._repr_markdown_ = _markdown
    api = {"load": load, "Problem": Problem, "Report": Report, "Solution": Solution,
           "SymbackpropError": SymbackpropError}
    globals().update(api)
    return api


def __getattr__(name: str):
    if name in __all__:
        return _api()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


_verify_api = verify


class _Package(types.ModuleType):
    """``symbackprop.verify`` is the function, as ``sb.verify(problem, claims)`` reads,
    even though the subpackage of the same name binds itself here when first imported."""

    @property
    def verify(self):
        _api()  # Solution's notebook view, as every other public name wires it
        return _verify_api

    @verify.setter
    def verify(self, value):
        pass  # the subpackage symbackprop.verify, just imported: the name stays the function


sys.modules[__name__].__class__ = _Package
