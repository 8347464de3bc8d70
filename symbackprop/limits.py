"""Every size limit of the package in one place, each refused before the work starts.

An accepted input must finish in bounded time and memory, so each input size has a
ceiling, stated in docs/limits.md with the time and memory measured at it. Beyond a
limit the command stops at once with exit status 2 and one ``error:`` line naming the
limit; nothing is computed or written.
"""

from __future__ import annotations

import os

from .errors import SymbackpropError

MAX_FILE_BYTES = 5_000_000  # a problem file
MAX_CLAIMS_BYTES = 2_000_000  # a claims file (or standard input)
MAX_ELEMENTS = 20_000  # numbers in [inputs], [parameters] and [data] together
MAX_RANK = 5  # axes of an array: a batch of images (samples, channels, height, width)
MAX_NAME_LENGTH = 32  # characters of a leaf or node name before its index
MAX_TITLE_LENGTH = 200  # characters of a title (one line of a handout's heading)
MAX_EQUATIONS = 5_000  # equations of a [graph]
#: A network of typed layers in an exam (and its key.json) is written out into at most as
#: many equations as a [graph] holds, which read at most MAX_KEY_EDGES values in all
#: (counted once per equation: one local derivative each; 47,000 took 12 s to solve).
MAX_KEY_EQUATIONS = MAX_EQUATIONS
MAX_KEY_EDGES = 50_000
MAX_NETWORK_PARAMETERS = 20_000  # weights and biases of a [network] (kernels, train)
MAX_WORKED_PARAMETERS = 2_000  # ... of a network solved or verified: one chain each
MAX_CLAIMS = 5_000  # scalar claims of one claims file (an array claim counts each element)
MAX_EXACT_DEPTH = 6  # --exact: functions such as sigmoid applied one on another's result
MAX_EXACT_STEP_DEPTH = 3  # --exact over 2+ optimizer steps: function depth times steps
MAX_EXACT_BITS = 20_000  # --exact: bits of a fraction's numerator or denominator (~6000 digits)
MAX_WORKED_BATCH = 1_000  # samples of a mini-batch solved or verified: each evaluated apart
MAX_EPOCHS = 100_000  # train --epochs
MAX_TRAIN_STEPS = 10_000_000  # train: epochs times samples, the kernel calls of a run
MAX_TRAIN_EQUATIONS = 2_000  # train: equations compiled into one kernel
MAX_RESPONSES_BYTES = 50_000_000  # grade: a responses file, or a claims folder's files together
MAX_ANSWERS = 200_000  # grade: answers (CSV rows, export rows times slots, claims of a folder)
MAX_CLAIMS_FILES = 20_000  # grade: files of a claims folder


class LimitError(SymbackpropError):
    """Valid input beyond one of the stated limits (docs/limits.md)."""


def check_worked_size(problem) -> None:
    """Refuse a worked solution (solve, verify) of a mini-batch of more samples than
    :data:`MAX_WORKED_BATCH` (9,999 samples took 40 s), or of a network with more weights and
    biases than :data:`MAX_WORKED_PARAMETERS`: each gets its own chain, and a network of
    90,000 took minutes. Its kernels and training take networks up to
    :data:`MAX_NETWORK_PARAMETERS`."""
    data, batch = getattr(problem, "data", None), getattr(problem, "batch", None)
    if data and batch is not None:
        size = len(next(iter(data.values()))) if batch == "all" else batch
        if size > MAX_WORKED_BATCH:
            raise LimitError(f"a mini-batch of {size} samples: a worked solution takes at most "
                             f"{MAX_WORKED_BATCH} (the limit; docs/limits.md); train takes "
                             "more").at(file=problem.source, section="", field="batch")
    network = getattr(problem, "network", None)
    if network is None:
        return
    layers = network.layers
    weights = sum((a + 1) * b for a, b in zip(layers, layers[1:], strict=False))
    if weights > MAX_WORKED_PARAMETERS:
        raise LimitError(f"{weights} weights and biases: a worked solution takes at most "
                         f"{MAX_WORKED_PARAMETERS} (the limit; docs/limits.md); train and "
                         "the kernels take more").at(file=problem.source, section="network",
                                                      field="layers")


def cores() -> int:
    """The cores this process may run on (its affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def capped_jobs(jobs: int | None) -> int:
    """Worker processes: at most one per core, however many are asked for."""
    return min(jobs or cores(), cores())
