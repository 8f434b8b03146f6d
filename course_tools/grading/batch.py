"""A batch: every notebook of a folder graded, after a canary, into one CSV and two kinds of log.

1. The submissions are copied into a private staging folder (mode 700) first.
2. The canary: the reference solution and the blank student notebook are graded in the same
   environment; unless they score full marks and zero, the batch stops (:class:`CanaryError`)
   before any student is graded, with what to check (data folder, backend, versions).
   The reference run also provides the *givens* (data the tests take from the notebook).
3. Each submission is graded in its own sandbox, ``jobs`` at a time. Whatever one does, it ends as
   one row; a failure of the grader on one submission is that row's ``error`` status.
4. After every sandbox is gone, the CSV is written atomically (a temporary file, then a rename),
   the staging folder removed (also when the batch is interrupted).

Logs: ``<out>-logs/<submission>.log`` for the instructor (every test, hidden ones with their
failure and traceback, the seeds, the submission's output, peak memory and tasks) and
``<out>-feedback/<submission>.txt`` for the student (scores, public tests with their message,
how many hidden tests passed; never a hidden test's source, message or expected value).
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import json
import os
import platform
import secrets
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from course_tools.grading import judge
from course_tools.grading.questions import Assignment, cell_source
from course_tools.grading.sandbox import Limits, Sandbox, SandboxGone

STATUSES = ("ok", "missing-questions", "invalid", "timeout", "crashed", "error")
GRADED = ("ok", "missing-questions")
#: Larger submissions are ``invalid``.
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
STAGING_PREFIX = "course-grading-"


class GradeError(RuntimeError):
    """The batch cannot be graded (no submissions, nothing built...)."""


class CanaryError(GradeError):
    """The reference or the blank notebook did not score what it must in this environment."""


class Interrupted(BaseException):
    """The batch was stopped (a signal); raised in the threads still grading."""


@dataclass
class Result:
    """The outcome of grading one notebook."""

    submission: str
    status: str
    scores: dict[str, float]
    reason: str = ""
    seconds: float = 0.0
    log: str = ""
    feedback: str = ""
    givens: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


def notebook_cells(data: bytes, assignment: str) -> list[str]:
    """The code cells of a submission; ValueError saying why it is not a notebook of ``assignment``."""
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{len(data)} bytes, more than the {MAX_NOTEBOOK_BYTES} a notebook may have")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no list of cells)")
    try:
        with warnings.catch_warnings():  # cells without ids: fine for grading
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(doc), as_version=4)
            nbformat.validate(nb)
    except Exception as e:  # nbformat raises several types for a malformed notebook
        raise ValueError(f"not a valid notebook: {type(e).__name__}: {str(e).splitlines()[0][:200]}") from None
    otter_meta = nb.metadata.get("otter", {})
    got = otter_meta.get("assignment_name") if isinstance(otter_meta, dict) else None
    if got and got != assignment:
        raise ValueError(f"a notebook of assignment {got!r}, not {assignment!r}")
    return [cell_source(c) for c in nb.cells if c.cell_type == "code"]


def environment() -> str:
    """Data folder, backend and versions: what the canary's error and the batch log report."""
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    data = os.environ.get("COURSE_DATA_DIR") or ("not set (the data must be in the download cache: the sandbox "
                                                "has no network)")
    libs = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
    return (f"COURSE_DATA_DIR={data}; KERAS_BACKEND={backend}; Python {platform.python_version()}, "
            f"numpy {version('numpy')}, keras {version('keras')}, {backend} {version(libs.get(backend, backend))}")


def _plain(value: Any) -> bool:
    """Whether ``value`` holds no proxy of an object left in a sandbox."""
    if isinstance(value, judge.Remote):
        return False
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return True


class Grader:
    """Grades notebooks of one assignment, each in its own sandbox."""

    def __init__(self, assignment: Assignment, limits: Limits, *, sandboxed: bool = True,
                 bwrap: str | None = None, seed: int | None = None):
        self.assignment, self.limits, self.sandboxed, self.bwrap, self.seed = assignment, limits, sandboxed, bwrap, seed
        self.givens: dict[str, dict[str, Any]] = {}
        self._givens_ready = threading.Event()
        self._live: set[Sandbox] = set()
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Kill every running sandbox; the threads grading them end quickly."""
        self.stopping.set()
        with self._lock:
            live = list(self._live)
        for sb in live:
            sb.kill("the batch was interrupted")

    def _seeds(self, submission: str, question: str) -> Any:
        def new_seed(test: str) -> int:
            if self.seed is None:
                return secrets.randbelow(2**32)
            key = f"{self.seed}/{submission}/{question}/{test}".encode()
            return int.from_bytes(hashlib.sha256(key).digest()[:4], "big")
        return new_seed

    # ---------------------------------------------------------------------- one notebook

    def grade(self, name: str, data: bytes, *, reference: bool = False) -> Result:
        """Grade one notebook. Never raises for anything the notebook does."""
        start = time.monotonic()
        zeros = {q.name: 0.0 for q in self.assignment.questions}
        try:
            cells = notebook_cells(data, self.assignment.name)
        except ValueError as e:
            return Result(name, "invalid", zeros, str(e), time.monotonic() - start,
                          log=f"submission: {name}\nstatus: invalid\nreason: {e}\n",
                          feedback=f"{name}: not graded: {e}\n")
        try:
            return self._grade(name, cells, reference, start)
        except Interrupted:
            raise
        except Exception as e:  # a failure of the grader itself: this row only
            import traceback

            return Result(name, "error", zeros, f"the grader failed: {type(e).__name__}: {e}", time.monotonic() - start,
                          log=f"submission: {name}\nstatus: error\n{traceback.format_exc()}",
                          feedback=f"{name}: could not be graded because of an error of the grader; your "
                                   "instructor has the details.\n")

    def _grade(self, name: str, cells: list[str], reference: bool, start: float) -> Result:
        questions = self.assignment.questions
        outcome: dict[str, list[judge.TestResult]] = {}
        givens: dict[str, dict[str, Any]] = {}
        ready: dict = {}
        with Sandbox(self.limits, sandboxed=self.sandboxed, bwrap=self.bwrap) as sb:
            with self._lock:
                self._live.add(sb)
            try:
                if self.stopping.is_set():
                    raise Interrupted()
                client = judge.Client(sb)
                try:
                    ready, _ = sb.request({"op": "run", "cells": cells, "limits": self.limits.worker_rlimits(),
                                           "names": {q.name: q.names for q in questions}})
                    if reference:
                        for q in questions:
                            givens[q.name] = {g: client.value(q.name, g) for g in q.givens}
                            for g, value in givens[q.name].items():
                                if not _plain(value):
                                    raise RuntimeError(f"the reference's {g!r} (a test parameter of {q.name} that no "
                                                       "solution cell defines) is not plain data; only data can be given")
                    elif not self._givens_ready.wait(self.limits.seconds):
                        raise RuntimeError("the reference run gave no values to test with")
                    for q in questions:
                        outcome[q.name] = judge.run_question(q, client, (givens if reference else self.givens)[q.name],
                                                             self._seeds(name, q.name))
                except SandboxGone:
                    pass  # the status says why; the questions not reached score 0
            finally:
                with self._lock:
                    self._live.discard(sb)
        if self.stopping.is_set():
            raise Interrupted()
        scores = {q.name: float(sum(r.points for r in outcome.get(q.name, []))) for q in questions}
        checked = ready.get("checked") if isinstance(ready.get("checked"), list) else []
        errors = [e for e in ready.get("errors", []) if isinstance(e, dict)] if isinstance(ready.get("errors"), list) else []
        missing = [q.name for q in questions if q.name not in checked]
        if sb.killed:
            status = "timeout" if sb.killed.startswith("timeout") else "crashed"
            reason = sb.killed
        elif ready.get("ok") is not True or len(outcome) < len(questions):
            status, reason = "crashed", sb.why_gone() or "the worker stopped answering"
        elif missing:
            status, reason = "missing-questions", (f"the grader.check cell of {', '.join(missing)} did not run "
                                                   "(deleted, renamed, or the notebook stopped before it); those "
                                                   "answers were taken at the end of the notebook")
        else:
            status, reason = "ok", ""
        result = Result(name, status, scores, reason, time.monotonic() - start, givens=givens)
        result.log = self._log(result, sb, outcome, errors, checked)
        result.feedback = self._feedback(result, outcome, errors)
        return result

    # ---------------------------------------------------------------------- logs

    def _log(self, r: Result, sb: Sandbox, outcome: dict, errors: list[dict], checked: list) -> str:
        out = io.StringIO()
        w = lambda s="": print(s, file=out)  # noqa: E731
        w(f"submission: {r.submission}")
        w(f"status: {r.status}    total: {r.total:g} / {self.assignment.possible:g}    seconds: {r.seconds:.1f}")
        if r.reason:
            w(f"reason: {r.reason}")
        w("sandbox: " + ("bubblewrap" if self.sandboxed else "NONE (--no-sandbox): grades of this run can be forged"))
        w(f"limits: {self.limits}")
        w(f"peak memory {sb.peak_memory / 2**20:.0f} MB, peak tasks {sb.peak_tasks}, output {sb.output_bytes} bytes")
        w(f"grader.check cells that ran: {', '.join(str(c) for c in checked) or 'none'}")
        for e in errors:
            w(f"error in code cell {int(e.get('cell', -1)) + 1}: {e.get('type')}: {e.get('message')}")
        for q in self.assignment.questions:
            w()
            w(f"{q.name}: {r.scores[q.name]:g} / {q.points:g}")
            for t in outcome.get(q.name, []):
                kind = "hidden" if t.test.hidden else "public"
                seed = f" (seed {t.seed})" if t.seed is not None else ""
                w(f"  [{kind}] {t.test.name}{seed}: " + ("passed" if t.passed else f"FAILED: {t.message}"))
                if not t.passed and t.detail:
                    w("    " + t.detail.rstrip().replace("\n", "\n    "))
            if q.name not in outcome:
                w("  not graded (the worker was gone)")
        w()
        w(f"---- output of the notebook ({self.limits.output_kb} KB kept at most) ----")
        w(sb.output())
        return out.getvalue()

    def _feedback(self, r: Result, outcome: dict, errors: list[dict]) -> str:
        out = io.StringIO()
        w = lambda s="": print(s, file=out)  # noqa: E731
        w(f"{self.assignment.name}: {r.submission}")
        w(f"score: {r.total:g} / {self.assignment.possible:g}")
        if r.status != "ok":
            w(f"status: {r.status}: {r.reason}")
        for q in self.assignment.questions:
            results = outcome.get(q.name, [])
            w()
            w(f"{q.name}: {r.scores[q.name]:g} / {q.points:g}")
            for t in results:
                if not t.test.hidden:
                    w(f"  public test {t.test.name}: " + ("passed" if t.passed else f"failed: {t.message}"))
            hidden = [t for t in results if t.test.hidden]
            if hidden:
                w(f"  hidden tests: {sum(t.passed for t in hidden)} of {len(hidden)} passed")
            if not results:
                w("  not graded")
        if errors:
            w()
            w("errors in your notebook's code cells:")
            for e in errors:
                w(f"  code cell {int(e.get('cell', -1)) + 1}: {e.get('type')}: {e.get('message')}")
        return out.getvalue()

    # ---------------------------------------------------------------------- the canary

    def canary(self) -> list[Result]:
        """Grade the reference and the blank notebook (at the same time; the blank's tests wait
        for the reference's givens); CanaryError unless they score full marks and 0."""
        a = self.assignment
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            blank_future = pool.submit(self.grade, f"blank ({a.blank})", a.blank.read_bytes())
            try:
                ref = self.grade(f"reference ({a.reference})", a.reference.read_bytes(), reference=True)
                ref_ok = ref.status == "ok" and ref.total == a.possible
                if ref_ok:
                    self.givens = ref.givens
            except BaseException:
                self.stop()  # the blank's sandbox too
                raise
            finally:
                self._givens_ready.set()
            blank = blank_future.result()
        problems = []
        if not ref_ok:
            lost = [f"{q}: {s:g}" for q, s in ref.scores.items()]
            problems.append(f"the reference solution scored {ref.total:g} / {a.possible:g} ({', '.join(lost)}; "
                            f"status {ref.status}{': ' + ref.reason if ref.reason else ''}), not full marks")
        elif blank.status != "ok" or blank.total != 0:
            problems.append(f"the blank student notebook scored {blank.total:g} / {a.possible:g} "
                            f"(status {blank.status}{': ' + blank.reason if blank.reason else ''}), not 0")
        if problems:
            detail = "\n".join(line for line in ref.log.splitlines() if "FAILED" in line or line.startswith("error in"))
            raise CanaryError(
                f"canary failed for {a.name}: {'; '.join(problems)}. No submission was graded. Check the data "
                f"folder, the backend and the versions: {environment()}; rebuild with make assignments if the "
                f"master changed.\n{detail[:4000]}")
        return [ref, blank]


# ------------------------------------------------------------------------------------- the batch


def remove_stale_staging() -> None:
    """Remove staging folders left by a batch that was killed (its process no longer exists)."""
    for path in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*"):
        try:
            pid = int(path.name[len(STAGING_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def write_csv(results: list[Result], assignment: Assignment, out_csv: Path) -> None:
    """One row per submission; written to a temporary file and renamed, so never half written."""
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    names = [q.name for q in assignment.questions]
    fd, tmp = tempfile.mkstemp(dir=out_csv.parent, prefix=f".{out_csv.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["submission", "status", *names, "total", "possible", "seconds", "reason"])
            for r in results:
                w.writerow([r.submission, r.status, *(f"{r.scores[q]:g}" for q in names), f"{r.total:g}",
                            f"{assignment.possible:g}", f"{r.seconds:.1f}", r.reason])
        os.replace(tmp, out_csv)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_logs(out_csv: Path, results: list[Result], batch_log: str) -> None:
    logs, feedback = out_csv.with_name(out_csv.stem + "-logs"), out_csv.with_name(out_csv.stem + "-feedback")
    for folder in (logs, feedback):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    (logs / "batch.log").write_text(batch_log)
    for r in results:
        stem = Path(r.submission).stem
        (logs / f"{stem}.log").write_text(r.log)
        (feedback / f"{stem}.txt").write_text(r.feedback)


def grade_folder(folder: Path, grader: Grader, out_csv: Path, *, jobs: int = 1, progress: bool = True) -> list[Result]:
    """Grade every ``*.ipynb`` directly in ``folder``; write the CSV and the logs."""
    folder, out_csv = Path(folder), Path(out_csv)
    if not folder.is_dir():
        raise GradeError(f"{folder} is not a folder of submissions")
    paths = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if not paths:
        raise GradeError(f"no *.ipynb submissions in {folder}")
    remove_stale_staging()
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
    try:
        for p in paths:  # a private copy: what is graded cannot change during the batch
            shutil.copyfile(p, staging / p.name)
        started = time.monotonic()
        canary = grader.canary()
        results = _grade_all(grader, [staging / p.name for p in paths], jobs, progress)
        results.sort(key=lambda r: r.submission)
        batch_log = (f"assignment {grader.assignment.name}: {len(results)} submissions, jobs {jobs}, "
                     f"{time.monotonic() - started:.1f} s\nenvironment: {environment()}\n"
                     f"sandbox: {'bubblewrap' if grader.sandboxed else 'NONE (--no-sandbox): grades can be forged'}\n"
                     f"\n==== canary ====\n" + "\n".join(r.log for r in canary))
        _write_logs(out_csv, results, batch_log)
        write_csv(results, grader.assignment, out_csv)
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _grade_all(grader: Grader, paths: list[Path], jobs: int, progress: bool) -> list[Result]:
    from tqdm import tqdm

    results: list[Result] = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        with tqdm(total=len(paths), desc=f"grading {grader.assignment.name}", unit="nb", disable=not progress) as bar:
            pending = {pool.submit(grader.grade, p.name, p.read_bytes()) for p in paths}
            while pending:  # short waits, so that a signal is handled at once
                done, pending = concurrent.futures.wait(pending, timeout=0.5)
                for fut in done:
                    r = fut.result()
                    results.append(r)
                    bar.set_postfix_str(f"{r.submission}: {r.status} {r.total:g}")
                    bar.update()
    except BaseException:
        grader.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results
