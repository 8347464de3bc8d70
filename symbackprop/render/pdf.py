"""LaTeX to PDF with a real TeX engine: latexmk driving pdflatex.

Every run is sealed: a fresh temporary directory, shell escape off, TeX allowed to read
and write only inside that directory (``openin_any=p``, ``openout_any=p``), only the PDF
copied out. Builds are reproducible (``SOURCE_DATE_EPOCH``), so the same source gives
the same PDF. When TeX is missing the error names the Debian packages to install; when
TeX fails, the error quotes the offending lines of the log, not the whole log.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import SymbackpropError, UnsupportedError
from ..workers import results_in_order

DEBIAN_PACKAGES = ("texlive-latex-base texlive-latex-recommended texlive-pictures latexmk "
                   "poppler-utils")
TIMEOUT = 300  # seconds for one document
_RUNNING: set[subprocess.Popen] = set()  # TeX runs in progress, to kill on a signal
_LOCK = threading.Lock()


class TexError(SymbackpropError):
    """TeX could not compile a document we generated (a bug, or a broken TeX install)."""


def tex_available() -> bool:
    return bool(shutil.which("latexmk") and shutil.which("pdflatex"))


def _require_tex() -> None:
    if not tex_available():
        raise UnsupportedError(
            "PDF output needs latexmk and pdflatex; on Debian or Ubuntu install them with "
            f"'apt-get install {DEBIAN_PACKAGES}' (or ask for --format tex)")


def _environment() -> dict:
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f",
               SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")
    return env


def log_excerpt(log: str, context: int = 3, limit: int = 3) -> str:
    """The error lines of a TeX log (``! ...`` and the ``l.N`` line after each)."""
    lines = log.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            block = [line] + [ln for ln in lines[i + 1:i + 1 + context] if ln.strip()]
            picked.append(" | ".join(ln.strip() for ln in block))
            if len(picked) == limit:
                break
    return "; ".join(picked)


def compile_pdf(tex: str, name: str = "document", files: dict[str, bytes] | None = None,
                once: bool = False) -> bytes:
    """Compile one LaTeX source to PDF bytes; ``files`` (name -> bytes: figures, PDFs
    to include) are placed beside the source, the only files TeX may read there.
    ``once``: one pdflatex pass instead of latexmk's until stable, for a document with
    no cross-references or tables of contents (a third of the time)."""
    _require_tex()
    with tempfile.TemporaryDirectory(prefix="symbackprop-tex-") as tmp:
        for extra, data in (files or {}).items():
            (Path(tmp) / Path(extra).name).write_bytes(data)
        source = Path(tmp) / f"{name}.tex"
        source.write_text(tex, encoding="utf-8")
        command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                   "-no-shell-escape",
                   "-pdflatex=pdflatex -no-shell-escape -interaction=nonstopmode %O %S",
                   source.name]
        if once:
            command = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode",
                       "-halt-on-error", source.name]
        returncode, stdout, stderr = _run_tex(command, tmp, name)
        pdf = Path(tmp) / f"{name}.pdf"
        if returncode != 0 or not pdf.exists():
            log_path = Path(tmp) / f"{name}.log"
            log = log_path.read_text(errors="replace") if log_path.exists() else stdout
            excerpt = log_excerpt(log) or (stderr or stdout).strip()[-400:]
            raise TexError(f"{name}.tex: TeX failed: {excerpt}")
        return pdf.read_bytes()


def _run_tex(command: list[str], cwd: str, name: str) -> tuple[int, str, str]:
    """Run latexmk in its own process group; on a timeout, a signal or any exception the
    whole group (latexmk and the pdflatex it started) is killed before returning.

    TeX's output is read as bytes and decoded leniently: a log is not always UTF-8
    (pdflatex writes Latin letters of a title in its own 8-bit form)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=_environment(),
                               start_new_session=True)
    with _LOCK:
        _RUNNING.add(process)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise TexError(f"{name}.tex: TeX did not finish within {TIMEOUT} s") from None
    except BaseException:
        _kill(process)
        raise
    finally:
        with _LOCK:
            _RUNNING.discard(process)
    return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _kill(process: subprocess.Popen) -> None:
    """Kill a TeX run's process group and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        process.communicate(timeout=10)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass


def kill_all() -> None:
    """Kill every TeX run still going (the main thread was interrupted)."""
    with _LOCK:
        running = list(_RUNNING)
    for process in running:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass


def compile_many(sources: list[tuple[str, str]], jobs: int | None = None, once: bool = False,
                 progress=None) -> list[bytes]:
    """Compile (name, LaTeX) pairs to PDF, in parallel over ``jobs`` TeX processes (the
    machine's cores by default); ``once`` as for :func:`compile_pdf`; ``progress(done,
    total)`` is called as documents finish."""
    _require_tex()
    workers = max(1, min(len(sources), jobs or os.cpu_count() or 1))
    done = [0]

    def one(item):
        pdf = compile_pdf(item[1], item[0], once=once)
        if progress:
            with _LOCK:
                done[0] += 1
                progress(done[0], len(sources))
        return pdf

    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            return list(results_in_order([pool.submit(one, s) for s in sources]))
        except BaseException:
            kill_all()  # so that the pool's threads end now, each removing its directory
            raise
