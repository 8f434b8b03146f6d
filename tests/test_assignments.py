"""Graded assignments: built with otter assign, graded with course_lib.grade, for every assignment.

The three masters are built once per session (``otter assign``) into a temporary folder. For each
assignment a batch of submissions is graded in one call of the grading command:

- the reference solution scores full marks;
- the blank student version scores zero;
- a planted wrong answer loses exactly the points of its question;
- a corrupt notebook gets status "invalid" and the rest of the batch is still graded;
- an infinite loop is stopped at the (short) time limit: status "timeout", zero points;

and the student version is searched for solution code and hidden tests.

``GRADE_TIMEOUT_S`` (default 60, the course's budget per submission on 2 CPU cores) is the
wall-clock limit for the real submissions: a reference solution slower than that fails the test.
On a machine shared with other jobs, raise it.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import grade  # noqa: E402

pytest.importorskip("otter", reason="otter-grader is in the 'grading' extra")

OTTER = Path(sys.executable).with_name("otter")
TIMEOUT_S = float(os.environ.get("GRADE_TIMEOUT_S", "60"))
LOOP_TIMEOUT_S = 10.0

MASTERS = sorted(ROOT.glob("assignments/A*/A*.ipynb"))

#: Per assignment: a line of the reference solution, the wrong line planted instead, and the
#: question that loses its points (none of the other questions depends on that line).
PLANTS = {
    "A1_regression": ("return float(residual @ residual / (2 * len(y)))",
                      "return float(residual @ residual / len(y))", "q1"),
    "A2_neural_networks": ("return float(-np.sum(Y * np.log(P)) / len(Y))",
                           "return float(-np.sum(Y * np.log(P)))", "q1"),
    "A3_recurrent_networks": ("return z * h_prev + (1 - z) * h_tilde",
                              "return (1 - z) * h_prev + z * h_tilde", "q1"),
}


def test_three_assignments_with_plants():
    assert [m.stem for m in MASTERS] == sorted(PLANTS)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """otter assign every master (in parallel, without re-running its tests) -> {name: folder}."""
    out = tmp_path_factory.mktemp("assignments")
    procs = {}
    for master in MASTERS:
        dest = out / master.stem
        procs[master.stem] = subprocess.Popen(
            [str(OTTER), "assign", "--no-run-tests", "--no-pdfs", str(master), str(dest)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for name, p in procs.items():
        log, _ = p.communicate(timeout=600)
        assert p.returncode == 0, f"otter assign {name} failed:\n{log[-3000:]}"
    return {name: out / name for name in procs}


def _notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _plant(nb: nbformat.NotebookNode, old: str, new: str) -> nbformat.NotebookNode:
    hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert len(hits) == 1, f"the line to replace, {old!r}, is in {len(hits)} cells"
    hits[0].source = hits[0].source.replace(old, new)
    return nb


def _with_cell(nb: nbformat.NotebookNode, source: str, at: int = 2) -> nbformat.NotebookNode:
    nb.cells.insert(at, nbformat.v4.new_code_cell(source))
    return nb


def _grade(folder: Path, zip_path: Path, out: Path, timeout: float) -> tuple[int, dict[str, dict[str, str]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.grade", str(folder), "--autograder", str(zip_path), "--out", str(out),
         "--timeout", str(timeout), "--jobs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout * 8 + 120)
    assert out.exists(), f"no CSV written; stderr:\n{proc.stderr[-3000:]}"
    with open(out, newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    return proc.returncode, rows


def _zip(folder: Path) -> Path:
    (z,) = (folder / "autograder").glob("*autograder*.zip")
    return z


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLANTS))
def test_grading_batch(built, tmp_path, name):
    folder = built[name]
    zip_path = _zip(folder)
    questions = grade.read_questions(zip_path)
    points = {q.name: q.points for q in questions}
    possible = sum(points.values())
    reference = _notebook(folder / "autograder" / f"{name}.ipynb")
    old, new, wrong_q = PLANTS[name]

    subs = tmp_path / "submissions"
    subs.mkdir()
    nbformat.write(reference, subs / "reference.ipynb")
    shutil.copy(folder / "student" / f"{name}.ipynb", subs / "blank.ipynb")
    nbformat.write(_plant(_notebook(folder / "autograder" / f"{name}.ipynb"), old, new), subs / "wrong.ipynb")
    (subs / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')
    (subs / "not_a_notebook.ipynb").write_text(json.dumps({"hello": "world"}))

    rc, rows = _grade(subs, zip_path, tmp_path / "grades.csv", TIMEOUT_S)
    assert set(rows) == {"reference.ipynb", "blank.ipynb", "wrong.ipynb", "corrupt.ipynb", "not_a_notebook.ipynb"}
    for row in rows.values():
        assert float(row["possible"]) == possible

    ref = rows["reference.ipynb"]
    assert ref["status"] == "ok", ref
    assert float(ref["total"]) == possible, ref
    assert all(float(ref[q]) == p for q, p in points.items()), ref

    blank = rows["blank.ipynb"]
    assert blank["status"] == "ok", blank
    assert float(blank["total"]) == 0, blank

    wrong = rows["wrong.ipynb"]
    assert wrong["status"] == "ok", wrong
    assert float(wrong[wrong_q]) == 0, wrong
    assert float(wrong["total"]) == possible - points[wrong_q], wrong

    for bad in ("corrupt.ipynb", "not_a_notebook.ipynb"):
        assert rows[bad]["status"] == "invalid", rows[bad]
        assert float(rows[bad]["total"]) == 0
    assert "not valid JSON" in rows["corrupt.ipynb"]["reason"]
    assert "not a Jupyter notebook" in rows["not_a_notebook.ipynb"]["reason"]
    assert rc == 1, "the exit code must say that some submissions could not be graded"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLANTS))
def test_infinite_loop_times_out(built, tmp_path, name):
    folder = built[name]
    subs = tmp_path / "submissions"
    subs.mkdir()
    looping = _with_cell(_notebook(folder / "autograder" / f"{name}.ipynb"), "while True:\n    pass")
    nbformat.write(looping, subs / "loop.ipynb")
    rc, rows = _grade(subs, _zip(folder), tmp_path / "grades.csv", LOOP_TIMEOUT_S)
    row = rows["loop.ipynb"]
    assert row["status"] == "timeout", row
    assert float(row["total"]) == 0
    assert LOOP_TIMEOUT_S <= float(row["seconds"]) < LOOP_TIMEOUT_S + 20, row
    assert rc == 1


@pytest.mark.slow
def test_crash_memory_and_missing_questions(built, tmp_path):
    """A1 only (no TensorFlow, quick): a dying kernel, a huge allocation, a deleted question."""
    name = "A1_regression"
    folder = built[name]
    zip_path = _zip(folder)
    ref_path = folder / "autograder" / f"{name}.ipynb"
    subs = tmp_path / "submissions"
    subs.mkdir()
    nbformat.write(_with_cell(_notebook(ref_path), "import os\nos._exit(1)"), subs / "dies.ipynb")
    nbformat.write(_with_cell(_notebook(ref_path), "import numpy\nhuge = numpy.empty(4 * 1024**3, dtype=numpy.uint8)  # 4 GB > the 3 GB limit"), subs / "memory.ipynb")
    nb = _notebook(ref_path)  # delete question 5: its answer cell and its check cell
    nb.cells = [c for c in nb.cells if not ("def predict(" in c.source or 'grader.check("q5")' in c.source)]
    nbformat.write(nb, subs / "missing_q5.ipynb")
    other = _notebook(ref_path)
    other.metadata["otter"]["assignment_name"] = "A2_neural_networks"
    nbformat.write(other, subs / "other_assignment.ipynb")

    rc, rows = _grade(subs, zip_path, tmp_path / "grades.csv", TIMEOUT_S)
    assert rows["dies.ipynb"]["status"] == "crashed", rows["dies.ipynb"]
    assert float(rows["dies.ipynb"]["total"]) == 0
    assert "Kernel died" in rows["dies.ipynb"]["reason"], rows["dies.ipynb"]
    mem = rows["memory.ipynb"]
    assert mem["status"] == "crashed" and "out of memory" in mem["reason"], mem
    missing = rows["missing_q5.ipynb"]
    assert missing["status"] == "missing-questions" and "q5" in missing["reason"], missing
    assert float(missing["q5"]) == 0 and float(missing["total"]) == 9, missing
    assert rows["other_assignment.ipynb"]["status"] == "invalid"
    assert "A2_neural_networks" in rows["other_assignment.ipynb"]["reason"]
    assert rc == 1


# ------------------------------------------------------------------ the student version leaks nothing


def _master_secrets(master: Path) -> tuple[set[str], set[str]]:
    """(solution lines, hidden-test lines) of a master: stripped lines of 12+ characters that occur
    nowhere else in the master (so a line shared with the prompt or a public test is not a secret)."""
    nb = _notebook(master)
    secret_sol, secret_hidden, public = set(), set(), set()
    in_tests = False
    for cell in nb.cells:
        first = cell.source.lstrip().split("\n", 1)[0].strip().upper()
        if cell.cell_type == "raw":
            in_tests = {"# BEGIN TESTS": True, "# END TESTS": False}.get(first, in_tests)
            continue
        if in_tests and cell.cell_type == "code":
            (secret_hidden if first == "# HIDDEN" else public).update(ln.strip() for ln in cell.source.splitlines())
            continue
        inside = False
        for line in cell.source.splitlines():
            mark = line.strip().upper()
            if mark == "# BEGIN SOLUTION":
                inside = True
            elif mark == "# END SOLUTION":
                inside = False
            elif inside:
                secret_sol.add(line.strip())
            else:
                public.add(line.strip())
    keep = lambda lines: {ln for ln in lines if len(ln) >= 12 and ln not in public and not ln.startswith("#")}  # noqa: E731
    return keep(secret_sol), keep(secret_hidden) - keep(secret_sol)


@pytest.mark.parametrize("master", MASTERS, ids=[m.stem for m in MASTERS])
def test_student_version_has_no_solutions_or_hidden_tests(built, master):
    solution, hidden = _master_secrets(master)
    assert len(solution) >= 5 and len(hidden) >= 5, "the master has too few solution lines or hidden tests"
    student_dir = built[master.stem] / "student"
    files = [p for p in student_dir.rglob("*") if p.is_file()]
    assert files, f"no student files in {student_dir}"
    for path in files:
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":  # compare the notebook's sources and metadata as plain text
            nb = json.loads(text)
            text = "\n".join("".join(c["source"]) for c in nb["cells"]) + json.dumps(nb["metadata"])
            text = text.replace("\\n", "\n").replace('\\"', '"')
        lines = {ln.strip() for ln in text.splitlines()}
        assert not re.search(r"#\s*(BEGIN|END)\s+SOLUTION|#\s*HIDDEN\b", text), f"{path.name} has solution/hidden markers"
        leaked = sorted((solution | hidden) & lines)
        assert not leaked, f"{path.name} contains solution or hidden-test lines: {leaked[:5]}"
    # the check above can find hidden tests: the autograder zip holds them
    with zipfile.ZipFile(_zip(built[master.stem])) as zf:
        tests_text = "\n".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/"))
    assert {ln for ln in hidden if ln in {t.strip() for t in tests_text.splitlines()}}, "no hidden test in the autograder"


def test_read_questions_and_find_autograder(built, tmp_path):
    zip_path = _zip(built["A1_regression"])
    qs = grade.read_questions(zip_path)
    assert [(q.name, q.points) for q in qs] == [("q1", 2), ("q2", 2), ("q3", 2), ("q4", 3), ("q5", 2)]
    assert grade.find_autograder("A1", built["A1_regression"].parent) == zip_path
    with pytest.raises(grade.GradeError, match="make assignments"):
        grade.find_autograder("A9", built["A1_regression"].parent)


def test_cli_usage_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert grade.main([str(empty), "--assignment", "A9", "--build-dir", str(tmp_path), "--quiet"]) == 2
    fake = tmp_path / "fake.zip"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("tests/q1.py", 'name = "q1"\npoints = 1\n')
    assert grade.main([str(empty), "--autograder", str(fake), "--quiet"]) == 2  # no submissions
