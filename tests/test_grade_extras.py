"""``grade`` without its optional package, and suspicion only with evidence.

* Without matplotlib (the ``plot`` extra) ``grade`` writes the gradebook, the JSON,
  moodle-grades.csv and report.md, and says in one line which charts it left out. The
  test runs the command in a child process whose ``import matplotlib`` really fails (a
  module of that name first on PYTHONPATH raises ImportError), as after ``pip install .``.
* A wrong number that several papers share is no evidence of copying when it is a known
  mistake's value for each paper's own variant (a distractor): the report names the
  mistake, and lists it under suspicious answers only when it is not.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from symbackprop.cli import main


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def exam(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exam")
    assert run("exam", "net221", "--variants", 6, "--seed", 11, "--format", "key",
               "-o", out)[0] == 0
    return out


@pytest.fixture(scope="module")
def key(exam) -> dict:
    return json.loads((exam / "key.json").read_text())


def write_csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["student", "variant", "ask", "answer"], *rows])
    return path


@pytest.mark.slow  # a process of its own, where matplotlib cannot be imported
def test_grade_without_matplotlib_writes_everything_but_the_charts(exam, key, tmp_path):
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "matplotlib.py").write_text("raise ImportError('not installed')\n")
    v = key["variants"][0]
    answers = write_csv(tmp_path / "answers.csv",
                        [["ann", v["id"], q["ask"], str(q["answer"])] for q in v["questions"]])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(hide), *filter(None, [os.environ.get("PYTHONPATH")])])}
    probe = subprocess.run([sys.executable, "-c", "import matplotlib"], env=env,
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "ImportError" in probe.stderr  # really not importable
    out = tmp_path / "grades"
    result = subprocess.run([sys.executable, "-m", "symbackprop", "grade", str(exam),
                             str(answers), "-o", str(out)], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert {"gradebook.csv", "gradebook.json", "moodle-grades.csv", "report.md"} <= names
    assert not {"scores.png", "questions.png"} & names
    lines = [line for line in result.stderr.splitlines()
             if "matplotlib" in line and not line.startswith("wrote ")]
    assert len(lines) == 1 and "scores.png" in lines[0] and "questions.png" in lines[0]
    assert "pip install 'symbackprop[plot]'" in lines[0]
    report = (out / "report.md").read_text()
    assert ".png" not in report and "# Class report" in report
    assert "ann" in (out / "gradebook.csv").read_text()


@pytest.fixture(scope="module")
def hinge(tmp_path_factory) -> tuple[Path, dict]:
    """A hinge-loss exam: one of its distractors has the same value on every variant (a
    dropped local derivative gives 0 whatever the numbers)."""
    out = tmp_path_factory.mktemp("hinge")
    assert run("exam", "hinge", "--variants", 8, "--seed", 11, "--format", "key",
               "-o", out)[0] == 0
    return out, json.loads((out / "key.json").read_text())


def shared_distractor(key: dict) -> tuple[int, str, str, list[dict]]:
    """(slot, value as shown, mistake, variants) of a distractor whose value is the
    same on three or more variants, read from key.json's choices and mistakes."""
    found: dict[tuple[int, str, str], list[dict]] = {}
    for v in key["variants"]:
        for slot, q in enumerate(v["questions"], start=1):
            for i, (choice, mistake) in enumerate(zip(q.get("choices", []),
                                                      q.get("mistakes", []), strict=True)):
                if mistake and i != q["correct"]:
                    shown = f"{choice:.{q['decimals']}f}"
                    found.setdefault((slot, shown, mistake), []).append(v)
    (slot, shown, mistake), variants = max(found.items(), key=lambda kv: len(kv[1]))
    assert len(variants) >= 3
    return slot, shown, mistake, variants


def test_a_shared_wrong_answer_that_is_a_known_mistake_is_that_mistake(hinge, tmp_path):
    """Students of different variants who all give the value of the same known mistake
    for their own variant are not suspicious: the report names the mistake. The same
    number explained by no mistake on three papers of different variants is suspicious."""
    exam, key = hinge
    slot, shown, mistake, variants = shared_distractor(key)
    rows = [[f"m{n}", v["id"], v["questions"][slot - 1]["ask"], shown]
            for n, v in enumerate(variants[:4])]
    numeric = next(i for i, q in enumerate(key["variants"][0]["questions"])
                   if "choices" not in q)
    rows += [[f"c{n}", v["id"], v["questions"][numeric]["ask"], "12.3456"]
             for n, v in enumerate(key["variants"][:3])]
    answers = write_csv(tmp_path / "answers.csv", rows)
    status, stdout, err = run("grade", exam, answers, "-o", tmp_path / "g", "--json",
                              "--report", "markdown")
    assert status == 0, err
    report = (tmp_path / "g" / "report.md").read_text()
    suspicious = report.split("## Suspicious answers", 1)[1].split("\n## ", 1)[0]
    assert "12.3456" in suspicious and "c0, c1, c2" in suspicious
    assert not any(f"m{n}" in suspicious for n in range(4)), suspicious
    mistakes = report.split("## Most common mistakes", 1)[1].split("\n## ", 1)[0]
    assert f"{min(4, len(variants))} students" in mistakes
    book = json.loads(stdout)
    for s in book["students"]:
        if s["student"].startswith("m"):
            assert [a["status"] for a in s["answers"] if a.get("question") == slot] == ["wrong"]
