"""Fuzzing the command line: random problem files, claims files and options.

Whatever the input, the command exits 0, 1 or 2; a failure is exactly one ``error:``
line with no control characters; no file appears outside the output directory; and
the output directory holds every file the command names or none. Bounded in time: few
examples, each with a deadline, the CLI called in-process.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbackprop.cli import main

NAMES = st.sampled_from(["x", "w", "z", "f", "z[0]", "z[00]", "W1", "y_hat", "E", "sigmoid",
                         "a\nb", "\x1b[31m", "ｘ", "r" + "_hat" * 20, "", "...", "x y"])
EXPRESSIONS = st.one_of(
    st.sampled_from(["w*x", "sigmoid(w*x)", "x**64", "log(x)", "max(x, w)", "1/(x - 1)",
                     "exp(-x*w)", "tanh(w) + x", "__import__('os')", "x +", "(" * 70 + "x",
                     "relu(x)*w", "𝐱*w", "z[0] + z[00]*2"]),
    st.text(alphabet="xwz+-*/()0123456789. ", max_size=20))
NUMBERS = st.one_of(st.integers(-10**6, 10**6), st.sampled_from(["-1e30", "1e300", "0.1", "nan",
                                                                   "[1, 2]", "[[1], [2, 3]]",
                                                                   "true", '"one"', "[]"]))


@st.composite
def problem_files(draw) -> str:
    lines = []
    if draw(st.booleans()):
        title = draw(st.text(max_size=30)).replace("\\", "").replace('"', "")
        lines.append(f'title = "{title.encode("unicode_escape").decode()}"')
    lines.append("[graph]")
    for _ in range(draw(st.integers(1, 4))):
        name = draw(NAMES).encode("unicode_escape").decode().replace('"', "")
        expr = draw(EXPRESSIONS).encode("unicode_escape").decode().replace('"', "")
        lines.append(f'"{name}" = "{expr}"')
    lines.append("[inputs]")
    lines.append(f"x = {draw(NUMBERS)}")
    if draw(st.booleans()):
        lines.append("[parameters]")
        lines.append(f"w = {draw(NUMBERS)}")
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


CLAIMS = st.lists(st.one_of(
    st.sampled_from(["df/dw = 0.5", "f = 1", "dE/dw5 = -0.0534", "w_new = 1e9", "x = ٠٫٥",
                     "df/dx = [1, 2]", "= 3", "df/dw = ", "garbage", "f = 0e9"]),
    st.text(max_size=20)), min_size=1, max_size=5)

OPTIONS = st.lists(st.sampled_from(
    [["--format", "json"], ["--format", "tex,md"], ["--format", "nope"], ["--exact"],
     ["--stage"], ["--places", "0"], ["--places", "3"], ["--all-nodes"]]), max_size=3)


def _run(argv: list[str]) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse: --help, or a bad option
            status = exc.code
    return status, err.getvalue()


def _check(status, stderr: str, before: set[Path], root: Path, out: Path, names: list[str]):
    assert status in (0, 1, 2), (status, stderr)
    if status == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), stderr
        assert not any(ord(c) < 32 for c in lines[0]), lines[0]
    assert "internal error" not in stderr and "Traceback" not in stderr
    after = {p for p in root.rglob("*")}
    outside = {p for p in after - before if out not in p.parents and p != out}
    assert not outside, outside
    if out.exists():
        present = {p.name for p in out.iterdir()}
        assert not any(n.startswith(".") for n in present), present  # no staging left
        wanted = {n for n in names}
        assert not present or not wanted or wanted <= present or status == 2, (present, wanted)


FUZZ = settings(max_examples=25, deadline=20_000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def workdir(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@FUZZ
@given(text=problem_files(), options=OPTIONS)
def test_solve_on_random_problem_files(workdir, text, options):
    problem = workdir / "p.toml"
    problem.write_text(text, encoding="utf-8")
    out = workdir / "out"
    before = set(workdir.rglob("*"))
    argv = ["solve", str(problem), *[o for pair in options for o in pair], "-o", str(out)]
    formats = next((p[1] for p in options if p[0] == "--format"), "text").split(",")
    names = [f"p.{'txt' if f == 'text' else f}" for f in formats]
    status, err = _run(argv)
    _check(status, err, before, workdir, out, names)
    if out.exists():
        for path in out.iterdir():
            path.unlink()
        out.rmdir()


@FUZZ
@given(text=problem_files(), claims=CLAIMS, strict=st.booleans())
def test_verify_on_random_problems_and_claims(workdir, text, claims, strict):
    problem = workdir / "p.toml"
    problem.write_text(text, encoding="utf-8")
    claims_file = workdir / "c.txt"
    claims_file.write_text("\n".join(claims) + "\n", encoding="utf-8")
    before = set(workdir.rglob("*"))
    status, err = _run(["verify", str(problem), str(claims_file), *(["--strict"] if strict else [])])
    _check(status, err, before, workdir, workdir / "out", [])


@FUZZ
@given(claims=CLAIMS)
def test_verify_of_a_built_in_on_random_claims(workdir, claims):
    claims_file = workdir / "c.txt"
    claims_file.write_text("\n".join(claims) + "\n", encoding="utf-8")
    before = set(workdir.rglob("*"))
    status, err = _run(["verify", "net-221", str(claims_file)])
    _check(status, err, before, workdir, workdir / "out", [])


@FUZZ
@given(args=st.lists(st.sampled_from(["--epochs", "0", "1", "1000000000", "--batch", "-3",
                                      "--lr", "nan", "--seed", "-1", "--plot", "", "/dev/null",
                                      "--jobs", "1000", "--variants", "--json"]), max_size=5),
       command=st.sampled_from(["train", "exam"]))
def test_random_options(workdir, args, command):
    before = set(workdir.rglob("*"))
    head = ["train", "net-221"] if command == "train" else ["exam", "chain", "--format", "key"]
    status, err = _run([*head, *args, *(["-o", str(workdir / "out")] if command == "exam" else [])])
    assert Path("/dev/null").is_char_device()
    if status == 0 and command == "train":
        return
    _check(status, err, before, workdir, workdir / "out", [])
