"""Where generated files go, written so that a failed run leaves no half-written file.

Contract section 3: with ``-o DIR`` files go to DIR; without it, to
``output/<problem name>/`` in the working directory. A file is written to a temporary
name beside its target and renamed into place only when complete.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import SymbackpropError


def target_directory(option: str | None, problem_name: str) -> Path:
    """The directory for generated files: ``-o DIR``, or ``output/<problem name>``."""
    directory = Path(option) if option else Path("output") / problem_name
    if directory.exists() and not directory.is_dir():
        raise SymbackpropError(f"{directory}: exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SymbackpropError(f"{directory}: cannot create the directory ({exc.strerror})") from None
    return directory


def write_file(path: Path, content: str | bytes) -> Path:
    """Write ``content`` atomically (temporary file, then rename)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private (0600); give it the mode any new file gets.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    """The process's umask (read by setting it, then restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_files(directory: Path, files: dict[str, str | bytes]) -> list[Path]:
    """Write several files so that they appear together: every file is first written
    in full to a hidden staging directory inside ``directory``, then each is renamed
    into place (a rename within one file system does not fail half-way for want of
    space). When writing fails, no file of ``files`` has been replaced."""
    stage = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory))
    try:
        staged = [write_file(stage / name, content) for name, content in files.items()]
        placed = []
        for path in staged:
            target = directory / path.name
            os.replace(path, target)
            placed.append(target)
        return placed
    finally:
        for leftover in stage.iterdir():
            leftover.unlink()
        stage.rmdir()
