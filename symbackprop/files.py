"""Reading inputs and writing outputs so that hostile or unlucky paths cannot hurt.

Inputs are read with a byte limit, and only from regular files: a device such as
``/dev/zero`` would be read forever and a FIFO would block, so both are refused before a
byte is read (the file is opened non-blocking and checked with ``fstat``).

Outputs go only to regular files or to new paths, never over a device, FIFO, socket or
directory (as root, renaming over ``/dev/null`` would replace the device). The files of
one command are written together or not at all: each is first written complete into a
staging directory inside the target directory, and only then renamed into place. With
``-o DIR`` files go to DIR; without it, to ``output/<problem name>/`` in the working
directory (docs/limits.md).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from .errors import SymbackpropError
from .printable import printable, quoted

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


# --- reading ------------------------------------------------------------------------


def read_limited(path: str | Path, limit: int, error=SymbackpropError, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Anything else raises ``error`` (a message without the file name, for the caller to
    locate), except a missing file: :class:`FileNotFoundError` is left to the caller,
    which knows what to suggest.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise error(f"is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"cannot be read: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            raise error(f"is {kind}, not a {what}" if kind.startswith("a ")
                        else f"is not a regular file, not a {what}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise error(f"the file is larger than {_bytes(limit)}")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _bytes(count: int) -> str:
    return f"{count // 1_000_000} MB" if count >= 1_000_000 else f"{count} bytes"


# --- where outputs go ---------------------------------------------------------------


def plain_name(name: str, what: str = "output name") -> str:
    """``name`` if it is one plain file name (no directory part, not ``.`` or ``..``)."""
    bad = (not name or name in (".", "..") or "/" in name or "\\" in name
           or any(ord(c) < 32 or ord(c) == 127 for c in name) or len(name.encode()) > 200)
    if bad:
        raise SymbackpropError(f"the {what} {quoted(name)} is not a plain file name "
                               "(rename the file, or give a name without '/', '.' or '..')")
    return name


def target_directory(option: str | None, problem_name: str) -> Path:
    """The directory for generated files: ``-o DIR``, or ``output/<problem name>``.

    Checked before any work is done, but created only by :func:`write_files`, so that a
    run that fails leaves no empty directory behind."""
    if option is not None and not option.strip():
        raise SymbackpropError("-o: give a directory name (it is empty)")
    if option is None:
        directory = Path("output") / plain_name(problem_name, "problem name")
    else:
        directory = Path(option)
    try:
        mode = os.stat(directory).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise SymbackpropError(f"{printable(str(directory))}: cannot use the directory "
                               f"({exc.strerror})") from None
    if mode is not None and not stat.S_ISDIR(mode):
        raise SymbackpropError(f"{printable(str(directory))}: exists and is {_kind(mode)}, "
                               "not a directory")
    return directory


def check_target(path: Path) -> None:
    """Refuse a path where a file may not be written: anything but a regular file or a
    new name (a symbolic link is judged by what it points to)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SymbackpropError(f"{printable(str(path))}: cannot write there ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise SymbackpropError(f"{printable(str(path))}: exists and is {_kind(mode)}; "
                               "only a regular file is replaced")


# --- writing ------------------------------------------------------------------------


def write_files(directory: Path, files: dict[str, str | bytes]) -> list[Path]:
    """Write ``name -> content`` into ``directory``: all files appear, or none does.

    Each file is written complete (and synced) into a staging directory inside
    ``directory``, so that a full disk or a signal leaves the directory as it was; then
    each is renamed into place. If a rename fails, the files already renamed are undone
    (a replaced file is restored from a hard link kept in the staging directory).
    """
    targets = {name: directory / plain_name(name) for name in files}
    for path in targets.values():
        check_target(path)
    staging = None
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".symbackprop-", dir=directory))
        for name, content in files.items():
            _write_synced(staging / name, content)
        _commit(staging, targets)
        staging = _remove_staging(staging)
    except OSError as exc:
        raise SymbackpropError(f"{printable(str(directory))}: cannot write the files "
                               f"({exc.strerror or type(exc).__name__}); nothing was written") from None
    finally:
        if staging is not None:  # failed or interrupted: leave the directory as it was
            _remove_staging(staging)
            if created:
                _remove_empty(directory)
    return list(targets.values())


def _remove_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def check_targets(directory: Path, names) -> None:
    """Check, before any work, that each output name may be written in ``directory``."""
    for name in names:
        check_target(directory / plain_name(name))


def _remove_empty(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass


def write_file(path: Path, content: str | bytes) -> Path:
    """Write one file atomically (see :func:`write_files`)."""
    path = Path(path)
    return write_files(path.parent, {path.name: content})[0]


def _write_synced(path: Path, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _commit(staging: Path, targets: dict[str, Path]) -> None:
    """Rename the staged files into place, undoing the done ones if one rename fails."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for name, target in targets.items():
            check_target(target)  # again: the directory may have changed meanwhile
            backup = None
            if target.exists():
                backup = staging / f".old-{name}"
                try:
                    os.link(target, backup)
                except OSError:
                    backup = None
            os.replace(staging / name, target)
            done.append((target, backup))
    except BaseException:
        for target, backup in reversed(done):
            try:
                if backup is not None:
                    os.replace(backup, target)
                else:
                    os.unlink(target)
            except OSError:
                pass
        raise
