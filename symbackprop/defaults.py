"""The defaults and choices that ``symbackprop --help`` shows, in a module that imports
nothing, so that building the command line's parsers reads no SymPy, numpy or Jinja.

Each is defined here once and imported by the module that gives it its meaning (which
re-exports it under the same name): the decimals of worked solutions
(:mod:`.numbers`), the rounding band (:mod:`.verify.tolerance`), the share for an
error carried forward (:mod:`.grade.marking`), training's epochs and batch
(:mod:`.training`), the optimizers (:mod:`.optimizers`) and the exam's files
(:mod:`.exam.outputs`).
"""

from decimal import Decimal

#: Decimals shown in worked solutions, as the lectures do (−0.3844).
DEFAULT_PLACES = 4
#: Units of the last digit written that a number may be off and still count as rounding.
DEFAULT_BAND = Decimal(2)
#: Share of the points for an error carried forward.
DEFAULT_CARRIED = Decimal("0.5")
#: Passes over the data, and samples per step, of ``train``.
DEFAULT_EPOCHS = 2000
DEFAULT_BATCH = 32
#: The optimizers, by name (their rules are in :mod:`.optimizers`).
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
#: The files ``exam`` can write, and what it writes without ``--format``: everything but
#: the cloze file and the practice pages, written on request.
EXAM_FORMATS = ("key", "moodle", "cloze", "qti", "tex", "pdf", "practice")
EXAM_DEFAULT_FORMATS = ("key", "moodle", "qti", "tex", "pdf")
