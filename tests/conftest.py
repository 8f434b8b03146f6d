"""Shared fixtures. Tests need the course's data files: set COURSE_DATA_DIR to their folder."""

import dataclasses
import os
from pathlib import Path

import pytest

from course_tools import ROOT

# The repository's conftest.py sets the smoke profile and the kernels' environment for every run.


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder named by COURSE_DATA_DIR; a clear failure when it is missing."""
    value = os.environ.get("COURSE_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.fail("COURSE_DATA_DIR must name a folder holding the course's data files (datasets/README.md "
                    "lists them with their upstream URLs), e.g. COURSE_DATA_DIR=~/course-data make test")
    return Path(value).resolve()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No data folder, an empty cache, and every upstream URL pointed at a closed local port."""
    from course_lib import data

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    dead = {name: dataclasses.replace(d, url=f"http://127.0.0.1:9/{d.filename}") for name, d in data.REGISTRY.items()}
    monkeypatch.setattr(data, "REGISTRY", dead)
    return tmp_path


# ------------------------------------------------------------------ graded assignments

MASTERS = sorted(ROOT.glob("assignments/A*/A*.ipynb"))


@pytest.fixture(scope="session")
def built_assignments(tmp_path_factory) -> dict[str, Path]:
    """``otter assign`` every master (in parallel, without re-running its tests) -> {name: folder}."""
    import subprocess
    import sys

    pytest.importorskip("otter", reason="otter-grader is in the 'grading' extra")
    out = tmp_path_factory.mktemp("assignments")
    otter = Path(sys.executable).with_name("otter")
    procs = {m.stem: subprocess.Popen([str(otter), "assign", "--no-run-tests", "--no-pdfs", str(m), str(out / m.stem)],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for m in MASTERS}
    for name, p in procs.items():
        log, _ = p.communicate(timeout=600)
        assert p.returncode == 0, f"otter assign {name} failed:\n{log[-3000:]}"
    return {name: out / name for name in procs}


@pytest.fixture(scope="session")
def sandbox() -> str:
    """bubblewrap's path; without a working one the grading tests are skipped with a loud reason
    (``COURSE_REQUIRE_SANDBOX=1``, as in CI, turns that into a failure)."""
    from course_tools.grading.sandbox import SandboxError, check_bwrap

    try:
        return check_bwrap()
    except SandboxError as e:
        message = f"THE GRADER'S SANDBOX IS NOT TESTED: {e}"
        if os.environ.get("COURSE_REQUIRE_SANDBOX") == "1":
            pytest.fail(message + " (COURSE_REQUIRE_SANDBOX=1)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def run_grader(built_assignments, data_dir, sandbox):
    """Run the real command: ``run_grader(folder, "A1", out_csv, *options)`` -> (exit code, rows by
    submission, stderr)."""
    import csv
    import subprocess
    import sys

    def run(folder: Path, assignment: str, out: Path, *options: str, env: dict | None = None):
        build = next(iter(built_assignments.values())).parent
        proc = subprocess.run([sys.executable, "-m", "course_tools.grading", str(folder), "--assignment", assignment,
                               "--build-dir", str(build), "--out", str(out), "--quiet", *options],
                              capture_output=True, text=True, timeout=1800, cwd=ROOT,
                              env={**os.environ, "COURSE_DATA_DIR": str(data_dir), **(env or {})})
        rows = {}
        if out.exists():
            with open(out, newline="") as f:
                rows = {r["submission"]: r for r in csv.DictReader(f)}
        return proc.returncode, rows, proc.stderr

    return run


def _master_secrets(master: Path) -> tuple[set[str], set[str]]:
    """(solution lines, hidden-test lines) of a master: stripped lines of 12+ characters that occur
    nowhere else in the master (so a line shared with the prompt or a public test is not a secret)."""
    import nbformat

    nb = nbformat.read(master, as_version=4)
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


@pytest.fixture(scope="session")
def master_secrets() -> dict[str, tuple[set[str], set[str]]]:
    """{assignment: (solution lines, hidden-test lines)} of every master."""
    return {m.stem: _master_secrets(m) for m in MASTERS}
