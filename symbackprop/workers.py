"""Worker processes that end quietly with the command (exam's draws, grade's marking).

Ctrl-C and ``kill`` reach the whole process group: the command and each of its workers.
A worker of a plain ``ProcessPoolExecutor`` then prints its own traceback (``Process
ForkProcess-2: Traceback ... KeyboardInterrupt``) from the queue it was waiting on, and
leaving the pool's ``with`` block waits for every running task to finish. Here:

* a worker ignores SIGINT (the command alone answers Ctrl-C) and dies of SIGTERM by the
  default action, which prints nothing (it inherited the command's own handler, which
  raises, and would print a traceback);
* when the ``with`` block is left by an exception (``KeyboardInterrupt``, the CLI's
  ``Terminated``, an error), the waiting tasks are cancelled and every worker is
  terminated and reaped before the exception goes on, so no process is left behind and
  the CLI prints its one line (exit 130 or 143);
* the command waits on its workers in short slices (:func:`results_in_order`,
  :func:`map_in_order`): the kernel hands a signal sent to the group to any thread of
  the command, often one of the pool's own threads, and Python acts on it only when the
  main thread runs again, so one long wait on a slow task would hold Ctrl-C back until
  that task ends.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from .limits import capped_jobs

#: Seconds the command's main thread waits on a task at a time (see the module's note).
WAIT_SLICE = 0.2


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def worker_pool(jobs: int | None) -> Iterator[ProcessPoolExecutor]:
    """A process pool of at most one worker per core (:func:`capped_jobs`) that ends
    quietly and completely when the command is interrupted or fails."""
    pool = ProcessPoolExecutor(max_workers=capped_jobs(jobs), initializer=_quiet_worker)
    try:
        yield pool
    except BrokenProcessPool:
        # The workers died of a signal sent to the whole group; the command's own
        # handler runs at the next instruction and says so in one line.
        _stop(pool)
        time.sleep(0.2)
        raise
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what waits, terminate every worker and reap it."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # The queue's feeder thread may be blocked writing a large task into the pipe of
    # workers that are about to die; joining it at exit would then wait forever.
    call_queue = getattr(pool, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def results_in_order(futures: Iterable[Future]) -> Iterator:
    """Each future's result in the order given, waiting in slices of :data:`WAIT_SLICE`
    so that a signal is answered within one slice, whichever thread the kernel gave it to."""
    for future in futures:
        while not future.done():
            wait([future], timeout=WAIT_SLICE)
        yield future.result()


def map_in_order(pool, fn: Callable, items: Iterable, chunksize: int = 1) -> Iterator:
    """``pool.map(fn, items, chunksize=chunksize)``, its results waited for by
    :func:`results_in_order`."""
    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    for done in results_in_order([pool.submit(_apply, fn, chunk) for chunk in chunks]):
        yield from done


def _apply(fn: Callable, chunk: list) -> list:
    return [fn(item) for item in chunk]
