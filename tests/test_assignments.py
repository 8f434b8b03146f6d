"""Graded assignments, for each one: built with otter assign, graded by the real command.

One batch per assignment (``python -m course_tools.grading``, ``--jobs 2``):

- the reference solution scores full marks, the blank student version zero (the canary of every
  batch, and, for A1, as submissions too);
- a planted wrong answer loses exactly the points of its question;
- an honest submission that reuses answer names after their ``grader.check`` keeps what the
  checks promised (the old grader tested the notebook's last values);
- (A1) a notebook that is not JSON, not a notebook, or of another assignment is ``invalid``; one
  whose kernel dies is ``crashed``; one with a question deleted is ``missing-questions``; the rest
  of the batch is graded;

and the student version is searched for solution code and hidden tests. The attacks are in
``test_grading_attacks.py``. ``GRADE_TIMEOUT_S`` (default 120) is the limit per submission.
"""

from __future__ import annotations

import json
import os
import re
import zipfile

import nbformat
import pytest
from conftest import MASTERS

from course_tools.grading.questions import AssignmentError, find_assignment, load_assignment

TIMEOUT_S = os.environ.get("GRADE_TIMEOUT_S", "120")

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
#: Per assignment: a cell an honest student might add at the end, reusing answer (and given)
#: names for something else after their checks passed.
REUSE = {
    "A1_regression": "theta_gd = np.zeros(2)\ncosts = []\nX = None\ny_pred_test = None\nlinear_cost = None",
    "A2_neural_networks": "model = None\nbuild_model = None\nparams_small = {}\nforward = None",
    "A3_recurrent_networks": "forecast = None\ngru_step = None\nmake_windows = len",
}


def test_three_assignments_with_plants():
    assert [m.stem for m in MASTERS] == sorted(PLANTS) == sorted(REUSE)


def _notebook(path):
    return nbformat.read(path, as_version=4)


def _with_cell(nb, source: str):
    nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


def _plant(nb, old: str, new: str):
    hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert len(hits) == 1, f"the planted line {old!r} must occur in exactly one cell"
    hits[0].source = hits[0].source.replace(old, new)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLANTS))
def test_reference_blank_wrong_and_reuse(built_assignments, run_grader, tmp_path, name):
    folder = built_assignments[name]
    reference = folder / "autograder" / f"{name}.ipynb"
    assignment = load_assignment(folder)
    points = {q.name: q.points for q in assignment.questions}
    old, new, wrong_q = PLANTS[name]
    subs = tmp_path / "submissions"
    subs.mkdir()
    nbformat.write(_plant(_notebook(reference), old, new), subs / "wrong.ipynb")
    nbformat.write(_with_cell(_notebook(reference), REUSE[name]), subs / "reuse.ipynb")
    expected = {"wrong.ipynb", "reuse.ipynb"}
    if name == "A1_regression":  # (the canary grades the reference and the blank for every assignment)
        nbformat.write(_notebook(reference), subs / "reference.ipynb")
        nbformat.write(_notebook(folder / "student" / f"{name}.ipynb"), subs / "blank.ipynb")
        expected |= {"reference.ipynb", "blank.ipynb"}
        (subs / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')
        (subs / "not_a_notebook.ipynb").write_text(json.dumps({"hello": "world"}))
        other = _notebook(reference)
        other.metadata["otter"]["assignment_name"] = "A2_neural_networks"
        nbformat.write(other, subs / "other_assignment.ipynb")
        nbformat.write(_with_cell(_notebook(reference), "import os\nos._exit(1)"), subs / "dies.ipynb")
        nb = _notebook(reference)  # question 5 deleted: its answer cell and its check cell
        nb.cells = [c for c in nb.cells if not ("def predict(" in c.source or 'grader.check("q5")' in c.source)]
        nbformat.write(nb, subs / "missing_q5.ipynb")
        expected |= {"corrupt.ipynb", "not_a_notebook.ipynb", "other_assignment.ipynb", "dies.ipynb",
                     "missing_q5.ipynb"}

    rc, rows, err = run_grader(subs, name.split("_")[0], tmp_path / "grades.csv", "--jobs", "2",
                               "--timeout", TIMEOUT_S)
    assert set(rows) == expected, err[-3000:]
    for row in rows.values():
        assert float(row["possible"]) == assignment.possible
    # the canary: the reference solution full marks, the blank student version 0, in this batch
    canary = (tmp_path / "grades-logs" / "batch.log").read_text().split("==== canary ====")[1]
    possible = f"{assignment.possible:g}"
    assert re.search(rf"submission: reference .*\nstatus: ok +total: {possible} / {possible}\b", canary), canary[:2000]
    assert re.search(rf"submission: blank .*\nstatus: ok +total: 0 / {possible}\b", canary), canary[:2000]
    for full in ("reference.ipynb", "reuse.ipynb") if name == "A1_regression" else ("reuse.ipynb",):
        row = rows[full]
        assert row["status"] == "ok", row
        assert all(float(row[q]) == p for q, p in points.items()), row
    if name == "A1_regression":
        blank = rows["blank.ipynb"]
        assert blank["status"] == "ok" and float(blank["total"]) == 0, blank
    wrong = rows["wrong.ipynb"]
    assert wrong["status"] == "ok", wrong
    assert float(wrong[wrong_q]) == 0 and float(wrong["total"]) == assignment.possible - points[wrong_q], wrong

    feedback = (tmp_path / "grades-feedback" / "wrong.txt").read_text()
    assert f"{wrong_q}: 0 / {points[wrong_q]:g}" in feedback and "hidden tests: 0 of" in feedback
    log = (tmp_path / "grades-logs" / "wrong.log").read_text()
    assert "[hidden]" in log and "FAILED" in log, "the instructor log names the failing hidden test"

    if name == "A1_regression":
        for bad in ("corrupt.ipynb", "not_a_notebook.ipynb", "other_assignment.ipynb"):
            assert rows[bad]["status"] == "invalid" and float(rows[bad]["total"]) == 0, rows[bad]
        assert "not valid JSON" in rows["corrupt.ipynb"]["reason"]
        assert "not a Jupyter notebook" in rows["not_a_notebook.ipynb"]["reason"]
        assert "A2_neural_networks" in rows["other_assignment.ipynb"]["reason"]
        dies = rows["dies.ipynb"]
        assert dies["status"] == "crashed" and float(dies["total"]) == 0 and "exited" in dies["reason"], dies
        missing = rows["missing_q5.ipynb"]
        assert missing["status"] == "missing-questions" and "q5" in missing["reason"], missing
        assert float(missing["q5"]) == 0 and float(missing["total"]) == assignment.possible - points["q5"], missing
        assert rc == 1, "the exit code must say that some submissions could not be graded"
    else:
        assert rc == 0, err[-3000:]


# ------------------------------------------------------------------ the questions


def test_questions_answers_and_givens(built_assignments, tmp_path):
    a = load_assignment(built_assignments["A1_regression"])
    assert [(q.name, q.points) for q in a.questions] == [("q1", 2), ("q2", 2), ("q3", 2), ("q4", 3), ("q5", 2)]
    q3 = a.questions[2]
    assert q3.answers == {"theta_gd", "costs", "gradient_descent"} and set(q3.givens) == {"X", "y"}
    assert [(t.name, t.hidden, t.points, "seed" in t.params) for t in q3.tests] == [
        ("test_gd_food_truck", False, 1.0, False), ("test_gd_random", True, 1.0, True)]
    assert find_assignment("A1", built_assignments["A1_regression"].parent) == built_assignments["A1_regression"]
    with pytest.raises(AssignmentError, match="make assignments"):
        find_assignment("A9", built_assignments["A1_regression"].parent)


# ------------------------------------------------------------------ the student version leaks nothing


@pytest.mark.parametrize("master", MASTERS, ids=[m.stem for m in MASTERS])
def test_student_version_has_no_solutions_or_hidden_tests(built_assignments, master_secrets, master):
    solution, hidden = master_secrets[master.stem]
    assert len(solution) >= 5 and len(hidden) >= 5, "the master has too few solution lines or hidden tests"
    student_dir = built_assignments[master.stem] / "student"
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
    (zip_path,) = (built_assignments[master.stem] / "autograder").glob("*autograder*.zip")
    with zipfile.ZipFile(zip_path) as zf:
        tests_text = "\n".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/"))
    assert {ln for ln in hidden if ln in {t.strip() for t in tests_text.splitlines()}}, "no hidden test in the autograder"
