"""Ctrl-C and SIGTERM sent to the whole process group, as a terminal and ``kill -- -PGID``
send them: one line, exit 130 or 143, no worker traceback, no process or folder left.

The signals are real (``os.killpg`` on a command started in its own session), sent while
its worker processes exist.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _children(pid: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(proc.name))
    return found


def _group_alive(pgid: int) -> list[int]:
    alive = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(proc.name))
    return alive


def _start(args, tmp_path) -> subprocess.Popen:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    return subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_workers(process, count: int, deadline: float = 120) -> None:
    end = time.monotonic() + deadline
    while len(_children(process.pid)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < end, "no worker processes seen"
        time.sleep(0.05)


def _assert_quiet_end(process, signum, tmp_path, within: float = 60) -> None:
    _, err = process.communicate(timeout=within)
    expected = 130 if signum == signal.SIGINT else 128 + signal.SIGTERM
    assert process.returncode == expected, err
    assert err.splitlines() == ["error: interrupted" if signum == signal.SIGINT
                                else "error: terminated"], err
    time.sleep(0.3)
    assert _group_alive(process.pid) == []
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_exam_with_two_jobs_ends_quietly(tmp_path, signum):
    out = tmp_path / "out"
    process = _start([sys.executable, "-m", "symbackprop", "exam", "net221", "--variants",
                      "400", "--seed", "1", "--jobs", "2", "--format", "key", "-o", str(out)],
                     tmp_path)
    _wait_for_workers(process, 2)
    time.sleep(1.0)
    os.killpg(process.pid, signum)
    _assert_quiet_end(process, signum, tmp_path)
    assert not out.exists()


WAITING = textwrap.dedent("""
    import time
    import signal
    from symbackprop.workers import results_in_order, worker_pool

    def nap(seconds):
        time.sleep(seconds)
        return seconds

    def run(args):
        with worker_pool(2) as pool:  # one worker busy, the other idle on the queue
            napping = pool.submit(nap, 60)
            # The kernel may hand a signal sent to the group to any thread; blocking it
            # here makes it go to one of the pool's threads every time.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            return next(results_in_order([napping]))

    import symbackprop.cli as cli
    cli.build_parser = lambda: (type("P", (), {"parse_args": lambda self, a: type(
        "A", (), {"command": "nap"})()})(), {"nap": run})
    cli.run()  # the installed command's entry point, which exits at once after a signal
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_idle_worker_prints_no_traceback(tmp_path, signum):
    """A plain ProcessPoolExecutor's idle worker prints 'Process ForkProcess-2:
    Traceback ... KeyboardInterrupt' on Ctrl-C; the shared pool's workers do not. And the
    command answers at once though the signal reached one of the pool's threads, not the
    main thread waiting on the busy worker (a plain ``future.result()`` would first wait
    for the task's 60 s)."""
    process = _start([sys.executable, "-c", WAITING], tmp_path)
    _wait_for_workers(process, 2, deadline=30)
    time.sleep(0.5)
    os.killpg(process.pid, signum)
    _assert_quiet_end(process, signum, tmp_path, within=30)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_grade_with_two_jobs_ends_quietly(tmp_path, signum):
    from symbackprop.cli import main

    exam = tmp_path / "exam"
    assert main(["exam", "net221", "--variants", "3", "--seed", "2", "--format", "key",
                 "-o", str(exam)]) == 0
    variants = ["net221-2-001", "net221-2-002", "net221-2-003"]
    rows = ["student,variant,ask,answer"]
    rows += [f"s{i},{variants[i % 3]},y,0.{i % 10}" for i in range(3000)]
    (tmp_path / "answers.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "grades"
    process = _start([sys.executable, "-m", "symbackprop", "grade", str(exam),
                      str(tmp_path / "answers.csv"), "--jobs", "2", "-o", str(out)], tmp_path)
    _wait_for_workers(process, 2)
    time.sleep(0.5)
    os.killpg(process.pid, signum)
    _assert_quiet_end(process, signum, tmp_path)
    assert not out.exists()
