"""Hostile and unlucky paths: devices, FIFOs, directories, full disks, signals.

Reading: only regular files, at most a stated number of bytes, never blocking on a FIFO.
Writing: only over regular files or new names, every output of one command or none,
nothing outside the output directory, temporary directories and TeX processes cleaned
up on SIGTERM. Devices are met through symbolic links in a temporary directory, never
by touching the real /dev entries.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from symbackprop.errors import SymbackpropError
from symbackprop.files import plain_name, read_limited, write_files
from symbackprop.render.pdf import tex_available
from tests.conftest import ROOT, run_cli, run_process

GOOD = '[graph]\nz = "w*x"\ny = "sigmoid(z)"\n[inputs]\nx = 1.5\n[parameters]\nw = 0.5\n'


def one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- reading ------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero",
                                    pytest.param("/dev/urandom", marks=pytest.mark.slow)])
def test_a_device_is_not_read_as_a_problem(device):
    result = run_process("solve", device, timeout=60)
    assert "character device" in one_error_line(result)


def test_a_device_is_not_read_as_claims():
    result = run_process("verify", "net-221", "/dev/zero", timeout=60)
    assert "character device" in one_error_line(result)


@pytest.mark.parametrize("command", [["solve", "{fifo}"], pytest.param(
    ["verify", "net-221", "{fifo}"], marks=pytest.mark.slow)])
def test_a_fifo_does_not_block(tmp_path, command):
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    result = run_process(*[c.format(fifo=fifo) for c in command], timeout=60)
    assert "FIFO" in one_error_line(result)


def test_reading_stops_at_the_limit(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 5000)
    with pytest.raises(SymbackpropError, match="larger than 4000 bytes"):
        read_limited(big, 4000)
    assert read_limited(big, 5000) == b"#" * 5000


def test_a_bom_does_not_make_a_problem_file_invalid(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    result = run_cli("solve", path, "--format", "json")
    assert result.returncode == 0, result.stderr


# --- where files go -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["device link", pytest.param("fifo", marks=pytest.mark.slow),
                                  pytest.param("directory", marks=pytest.mark.slow)])
def test_plot_never_replaces_what_is_not_a_regular_file(tmp_path, kind):
    target = tmp_path / "plot.png"
    if kind == "device link":
        target.symlink_to("/dev/null")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    before = os.lstat(target)
    result = run_process("train", "net-221", "--epochs", "2", "--plot", target, timeout=120)
    assert "only a regular file is replaced" in one_error_line(result)
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert Path("/dev/null").is_char_device()


def test_solve_refuses_a_fifo_where_its_file_goes_before_solving(tmp_path):
    os.mkfifo(tmp_path / "net-221.tex")
    result = run_process("solve", "net-221", "--format", "tex,json", "-o", tmp_path)
    assert "FIFO" in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net-221.tex"]


def test_an_empty_output_option_is_an_error(tmp_path):
    result = run_cli("solve", "net-221", "--format", "json", "-o", "", cwd=tmp_path)
    assert "-o" in one_error_line(result)
    assert not any(tmp_path.iterdir())
    result = run_cli("train", "net-221", "--epochs", "2", "--plot", "", cwd=tmp_path)
    assert "--plot" in one_error_line(result)


def test_a_problem_named_dotdot_writes_nothing_outside(tmp_path):
    (tmp_path / "...toml").write_text(GOOD)
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli("solve", "../...toml", "--format", "tex", cwd=work)
    assert "plain file name" in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["...toml", "work"]
    assert not any(work.iterdir())


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "a\nb"])
def test_plain_name_refuses_paths(name):
    with pytest.raises(SymbackpropError, match="plain file name"):
        plain_name(name)


def test_an_unwritable_output_directory_is_exit_2():
    result = run_cli("solve", "net-221", "--format", "json", "-o", "/sys/symbackprop-test")
    one_error_line(result)
    assert not Path("/sys/symbackprop-test").exists()


def test_write_files_restores_what_it_replaced_when_a_rename_fails(tmp_path):
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "b.txt").mkdir()  # appears between the check and the rename
    with pytest.raises(SymbackpropError):
        write_files(tmp_path, {"a.txt": "new a", "b.txt": "new b"})
    assert (tmp_path / "a.txt").read_text() == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


# --- a full disk: a small tmpfs (root only) -----------------------------------------


@contextmanager
def small_tmpfs(path, options: str = "size=64k"):
    """A 64 KiB tmpfs mounted at ``path`` (a full disk, or read-only with ``ro,``), skipping
    the test where mounting needs a root this run does not have."""
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path):
    with small_tmpfs(tmp_path / "full") as mount:
        yield mount


def test_a_full_disk_leaves_no_partial_output(full_disk):
    formats = "tex,md,json" + (",pdf" if tex_available() else "")
    result = run_cli("solve", "net-221", "--format", formats, "-o", full_disk / "out")
    assert "No space left" in one_error_line(result)
    assert not any(full_disk.iterdir())


@pytest.mark.slow
def test_a_full_disk_under_an_exam_leaves_no_partial_output(full_disk):
    result = run_cli("exam", "chain", "--variants", "40", "--seed", "1", "--format",
                     "key,moodle,tex", "-o", full_disk)
    one_error_line(result)
    assert not any(full_disk.iterdir())


@pytest.mark.slow  # a process of its own, its stdout on /dev/full
def test_a_full_disk_under_stdout_is_exit_2():
    with open("/dev/full", "w") as full:  # only written to: the device stays as it is
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-m", "symbackprop", "solve", "net-221"],
                              stdout=full, stderr=subprocess.PIPE, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: No space left on device"]


# --- signals ------------------------------------------------------------------------


def _tex_processes_in(directory: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(directory)):
            found.append(int(proc.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not tex_available(), reason="needs latexmk and pdflatex")
def test_sigterm_during_a_pdf_build_leaves_nothing_behind(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    process = subprocess.Popen([sys.executable, "-m", "symbackprop", "exam", "chain",
                                "--variants", "4", "--seed", "1", "--format", "pdf", "-o", out],
                               stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list(tmp.glob("symbackprop-tex-*")) or not _tex_processes_in(tmp):
        assert process.poll() is None and time.monotonic() < deadline, "no TeX build seen"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.splitlines()[-1] == "error: terminated"
    time.sleep(0.5)
    assert list(tmp.iterdir()) == []
    assert _tex_processes_in(tmp) == []
    assert not out.exists()


def test_grade_reads_no_device_or_fifo(tmp_path):
    exam = tmp_path / "exam"
    assert run_cli("exam", "chain", "--variants", "2", "--seed", "1", "--format", "key",
                   "-o", exam).returncode == 0
    # a device is refused before it is opened (in-process: nothing here can block)
    assert "character device" in one_error_line(run_cli("grade", exam, "/dev/zero"))
    folder = tmp_path / "answers"
    folder.mkdir()
    os.mkfifo(folder / "student.txt")
    one_error_line(run_process("grade", exam, folder, timeout=60))  # skipped, never blocked on
    (exam / "key.json").unlink()
    os.mkfifo(exam / "key.json")
    assert "FIFO" in one_error_line(run_process("grade", exam, "/dev/zero", timeout=60))


def test_a_read_only_mount_is_exit_2(tmp_path):
    with small_tmpfs(tmp_path / "ro", "ro,size=64k") as mount:
        result = run_cli("solve", "net-221", "--format", "json,md", "-o", mount / "out")
        assert "Read-only" in one_error_line(result)
        result = run_cli("verify", "net-221", "-", "--format", "tex", "-o", mount,
                         input="dE/dw5 = -0.0534\n")
        assert "Read-only" in one_error_line(result) and result.stdout  # the table, then the error
