"""Grade a folder of assignment submissions with otter-grader, each in its own limited process.

    python -m course_lib.grade SUBMISSIONS_DIR --assignment A1 --out grades.csv

Every ``*.ipynb`` in ``SUBMISSIONS_DIR`` is graded by ``otter run`` (otter-grader's grading
without Docker) against the autograder zip that ``make assignments`` built into
``build/assignments/<A1_name>/autograder/``. Each submission runs in a child process (and the
Jupyter kernel that process starts) with

- a wall-clock limit (``--timeout`` seconds): the whole process tree is killed when it is reached;
- a memory limit (``--memory-mb``): ``RLIMIT_DATA`` on the child and its kernel, so an
  allocation beyond it fails with ``MemoryError`` instead of taking the machine down.

A submission ends with one status:

``ok``
    graded; every question was found.
``missing-questions``
    graded, but the ``grader.check("qN")`` cell of some question is gone (deleted or renamed);
    those questions score what otter's tests give them (normally 0); ``reason`` names them.
``timeout``
    still running at the wall-clock limit; killed and scored 0.
``crashed``
    the kernel or the grading process died (``os._exit``, a segfault, an abort), or a cell ran
    out of memory; scored 0 if nothing could be graded, else with the points otter gave.
``invalid``
    not valid JSON, not a notebook, or a notebook of another assignment; scored 0.

The batch always finishes. The CSV has one row per submission: ``submission, status, <one column
per question>, total, possible, seconds, reason``. Each submission's grading log (otter's output,
with the failing tests) goes to ``<out>-logs/<submission>.log``. The exit code is 0 when every
submission was graded (``ok`` or ``missing-questions``), 1 when any was not (``timeout``,
``crashed``, ``invalid``), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUILD = ROOT / "build" / "assignments"
DEFAULT_TIMEOUT_S = 300
#: RLIMIT_DATA per process (the grading process and its kernel each). Measured: the A2 kernel
#: (TensorFlow, a Keras MNIST model) peaks at about 0.7 GB of data segment, so 3 GB leaves room.
DEFAULT_MEMORY_MB = 3072
STATUSES = ("ok", "missing-questions", "timeout", "crashed", "invalid")
GRADED = ("ok", "missing-questions")


class GradeError(RuntimeError):
    """A usage error: no autograder zip, no submissions, a malformed test file."""


@dataclass
class Question:
    """One question of an assignment: its name (``q1``) and its points."""

    name: str
    points: float


@dataclass
class Result:
    """The outcome of grading one submission."""

    submission: str
    status: str
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


# --------------------------------------------------------------------------------- the autograder


def find_autograder(assignment: str, build_dir: Path = DEFAULT_BUILD) -> Path:
    """The newest autograder zip of ``assignment`` (``A1`` or ``A1_regression``) under ``build_dir``."""
    folders = sorted(p for p in Path(build_dir).glob(f"{assignment}*") if p.is_dir())
    folders = [p for p in folders if p.name == assignment or p.name.startswith(f"{assignment}_")]
    zips = [z for p in folders for z in (p / "autograder").glob("*autograder*.zip")]
    if not zips:
        raise GradeError(
            f"no autograder zip for assignment {assignment!r} under {build_dir}. "
            "Build the assignments first: make assignments (or pass --autograder PATH.zip)."
        )
    return max(zips, key=lambda z: z.stat().st_mtime)


def _literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def read_questions(autograder_zip: Path) -> list[Question]:
    """The questions and their points, from the test files (``tests/*.py``) in the autograder zip."""
    questions = []
    with zipfile.ZipFile(autograder_zip) as zf:
        for member in sorted(n for n in zf.namelist() if re.fullmatch(r"tests/[^/]+\.py", n)):
            tree = ast.parse(zf.read(member).decode())
            name, points = _literal(tree, "name"), _literal(tree, "points")
            if isinstance(points, list):
                points = sum(points)
            if not isinstance(name, str) or not isinstance(points, (int, float)):
                raise GradeError(f"{autograder_zip}:{member} has no 'name' and numeric 'points'; "
                                 "give every question 'points: N' in its BEGIN QUESTION cell")
            questions.append(Question(name, float(points)))
    if not questions:
        raise GradeError(f"{autograder_zip} holds no tests/*.py: is it an otter autograder zip?")
    return sorted(questions, key=lambda q: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", q.name)])


def assignment_name(autograder_zip: Path) -> str | None:
    """The assignment name otter checks submissions against (``otter_config.json``), if any."""
    with zipfile.ZipFile(autograder_zip) as zf:
        if "otter_config.json" not in zf.namelist():
            return None
        return json.loads(zf.read("otter_config.json")).get("assignment_name")


# --------------------------------------------------------------------------------- one submission


def prepare(path: Path, expected_name: str | None, questions: Sequence[Question], dest: Path) -> tuple[Path, list[str]]:
    """Check that ``path`` is a notebook of this assignment and write a gradable copy into ``dest``.

    The copy runs on the ``python3`` kernel (a submission's own kernel name may not exist here).
    Returns the copy's path and the names of the questions whose ``grader.check`` cell is missing.
    Raises ``ValueError`` with the reason when the file is not a notebook of this assignment.
    """
    import nbformat

    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no list of cells)")
    try:
        nb = nbformat.reads(json.dumps(doc), as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # nbformat raises several types for a malformed notebook
        raise ValueError(f"not a valid notebook: {type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
    otter_meta = nb.metadata.setdefault("otter", {})
    got = otter_meta.get("assignment_name")
    if expected_name and got and got != expected_name:
        raise ValueError(f"a notebook of assignment {got!r}, not {expected_name!r}")
    if expected_name:
        otter_meta["assignment_name"] = expected_name
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    missing = [q.name for q in questions if not re.search(rf"""\.check\(\s*["']{re.escape(q.name)}["']\s*\)""", sources)]
    dest.mkdir(parents=True, exist_ok=True)
    copy = dest / "submission.ipynb"
    nbformat.write(nb, copy)
    return copy, missing


def _kill_tree(pid: int) -> None:
    """Kill process ``pid`` and every process below it (the Jupyter kernel is in its own session)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONHASHSEED"] = "0"
    if env.get("COURSE_DATA_DIR"):  # the child runs in a temporary folder
        env["COURSE_DATA_DIR"] = str(Path(env["COURSE_DATA_DIR"]).expanduser().resolve())
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _last_error(log: str) -> str:
    lines = [ln.strip() for ln in log.splitlines() if re.match(r"^\s*[\w.]*(Error|Exception|Exit)\b", ln)]
    return lines[-1][:300] if lines else "the grading process exited without results"


def grade_one(path: Path, autograder_zip: Path, questions: Sequence[Question], *, timeout: float = DEFAULT_TIMEOUT_S,
              memory_mb: int = DEFAULT_MEMORY_MB, log_dir: Path | None = None) -> Result:
    """Grade one submission in a child process with a wall-clock and a memory limit. Never raises
    for a bad submission: the status and reason say what happened."""
    start = time.monotonic()
    zeros = {q.name: 0.0 for q in questions}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        tmp_path = Path(tmp)
        try:
            copy, missing = prepare(path, assignment_name(autograder_zip), questions, tmp_path / "in")
        except ValueError as e:
            return Result(path.name, "invalid", zeros, str(e), time.monotonic() - start)
        result_file = tmp_path / "result.json"
        log_path = tmp_path / "grading.log"
        cmd = [sys.executable, "-m", "course_lib.grade", "--worker", str(copy), "--autograder",
               str(Path(autograder_zip).resolve()), "--result", str(result_file), "--memory-mb", str(memory_mb)]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=tmp, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=_child_env(), start_new_session=True)
            try:
                proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_tree(proc.pid)  # the grading process and its kernel
                proc.wait()
        log_text = log_path.read_text(errors="replace")
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            (log_dir / f"{path.stem}.log").write_text(log_text)
        seconds = time.monotonic() - start
        if timed_out:
            return Result(path.name, "timeout", zeros, f"still running after the {timeout:g} s limit; killed", seconds)
        if proc.returncode != 0 or not result_file.exists():
            return Result(path.name, "crashed", zeros,
                          f"grading process exited with code {proc.returncode}: {_last_error(log_text)}", seconds)
        out = json.loads(result_file.read_text())
    scores = {q.name: float(out["scores"].get(q.name, 0.0)) for q in questions}
    memory_errors = [e for e in out["errors"] if e.startswith("MemoryError")]
    if memory_errors:
        return Result(path.name, "crashed", scores, f"out of memory (limit {memory_mb} MB): {memory_errors[0]}", seconds)
    if missing:
        return Result(path.name, "missing-questions", scores,
                      f"no grader.check cell for {', '.join(missing)} (deleted or renamed)", seconds)
    return Result(path.name, "ok", scores, "", seconds)


# --------------------------------------------------------------------------------- the worker


def _worker(notebook: Path, autograder_zip: Path, result_file: Path, memory_mb: int) -> int:
    """Run otter on one notebook (in this process, under the memory limit) and write the scores."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))  # inherited by the Jupyter kernel
    from otter.run import main as otter_run

    results = otter_run(str(notebook), autograder=str(autograder_zip), output_dir=None, no_logo=True)
    if results.has_catastrophic_failure():
        print(f"otter could not grade the notebook: {results.catastrophic_error!r}")
        return 3
    errors = []
    for i, cell in enumerate(results.notebook.cells if results.notebook is not None else []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"{out['ename']} in cell {i}: {str(out.get('evalue', ''))[:200]}")
    scores = {name: float(tf.score) for name, tf in results.results.items()}
    print("\n\nTEST RESULTS (hidden tests included)\n\n" + results.summary())
    print("\n\nERRORS IN THE SUBMISSION'S CELLS\n\n" + ("\n".join(errors) or "none"))
    result_file.write_text(json.dumps({"scores": scores, "errors": errors}))
    return 0


# --------------------------------------------------------------------------------- the batch


def grade_folder(folder: Path, autograder_zip: Path, out_csv: Path, *, timeout: float = DEFAULT_TIMEOUT_S,
                 memory_mb: int = DEFAULT_MEMORY_MB, jobs: int = 1, progress: bool = True) -> list[Result]:
    """Grade every ``*.ipynb`` in ``folder``; write one CSV row per submission to ``out_csv``."""
    from tqdm import tqdm

    folder, out_csv = Path(folder), Path(out_csv)
    if not folder.is_dir():
        raise GradeError(f"{folder} is not a folder of submissions")
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise GradeError(f"no *.ipynb submissions in {folder}")
    questions = read_questions(autograder_zip)
    log_dir = out_csv.with_name(out_csv.stem + "-logs")
    if log_dir.exists():
        shutil.rmtree(log_dir)
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, \
            tqdm(total=len(paths), desc=f"grading {autograder_zip.name.split('-autograder')[0]}", unit="nb",
                 disable=not progress, file=sys.stderr) as bar:
        futures = {pool.submit(grade_one, p, autograder_zip, questions, timeout=timeout, memory_mb=memory_mb,
                               log_dir=log_dir): p for p in paths}
        for fut in as_completed(futures):
            r = fut.result()
            results.append(r)
            bar.set_postfix_str(f"{r.submission}: {r.status} {r.total:g}")
            bar.update()
    results.sort(key=lambda r: r.submission)
    write_csv(results, questions, out_csv)
    return results


def write_csv(results: Sequence[Result], questions: Sequence[Question], out_csv: Path) -> None:
    """One row per submission: submission, status, per-question scores, total, possible, seconds, reason."""
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    possible = sum(q.points for q in questions)
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "status", *(q.name for q in questions), "total", "possible", "seconds", "reason"])
        for r in results:
            w.writerow([r.submission, r.status, *(f"{r.scores.get(q.name, 0.0):g}" for q in questions),
                        f"{r.total:g}", f"{possible:g}", f"{r.seconds:.1f}", r.reason])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, nargs="?", help="folder of *.ipynb submissions")
    parser.add_argument("--assignment", help="A1, A2, A3 (or the full name, e.g. A1_regression)")
    parser.add_argument("--autograder", type=Path, help="autograder zip (default: the newest one built)")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD, help="where make assignments built them")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="CSV to write (default grades.csv)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per submission")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, help="data-segment limit per process")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.autograder, args.result, args.memory_mb)
    if args.submissions is None or not (args.assignment or args.autograder):
        parser.error("give a folder of submissions and --assignment A1 (or --autograder PATH.zip)")
    try:
        zip_path = args.autograder or find_autograder(args.assignment, args.build_dir)
        if not Path(zip_path).is_file():
            raise GradeError(f"autograder zip {zip_path} does not exist")
        results = grade_folder(args.submissions, Path(zip_path), args.out, timeout=args.timeout,
                               memory_mb=args.memory_mb, jobs=args.jobs, progress=not args.quiet)
    except GradeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    print(f"graded {len(results)} submissions -> {args.out}: "
          + ", ".join(f"{n} {s}" for s, n in counts.items() if n), file=sys.stderr)
    return 0 if all(r.status in GRADED for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
