"""Execute every course notebook, keep the outputs, export HTML and write a report.

    python -m course_tools.run_course                      # all of notebooks/*.ipynb, active profile, into build/
    python -m course_tools.run_course 05                   # lesson 05 alone, into build/runs/05-<profile>-<backend>/
    python -m course_tools.run_course 01 02 --out /tmp/r   # only notebooks whose name starts so, into /tmp/r
    python -m course_tools.run_course 12 05 --jobs 2       # two at a time, started in the order given

Every run writes a report of its own. Without ``--out``, the whole course goes to ``build/`` and a
selection of notebooks to ``build/runs/<names>-<profile>-<backend>/``, so running one notebook
never replaces the course's report. A run replaces whatever run its folder held before (its
report, executed notebooks, HTML and figures), so a folder never mixes two runs' profiles or
backends.

Each notebook runs in its own worker process and a fresh kernel with a metrics file
(:mod:`course_lib.metrics`), so the figures it checks (``course_lib.checks``) and its setup
(versions, backend, device) land in the report. A failed notebook is reported with its error
and the others still run; the exit code is 1 if any failed. With ``--jobs N`` up to N notebooks run at once (on a machine with
many cores or a GPU the small lessons then share it); their wall times overlap, and the report's
total is the elapsed time of the whole run. Stopped by SIGTERM or Ctrl-C (a time limit, say), the
run still writes its report, with the notebooks it did not finish marked ``unfinished``.
Writes ``<out>/notebooks/*.ipynb``, ``<out>/html/*.html``, ``<out>/report.{md,html,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from course_lib import metrics
from course_tools import ROOT, git_commit, installed_versions, kernel_env


def execute(path: Path, out: Path, cell_timeout: int, progress: bool = True) -> dict:
    """Run one notebook in a fresh kernel; return its report entry."""
    metrics_file = out / "metrics" / f"{path.stem}.json"
    metrics_file.parent.mkdir(parents=True, exist_ok=True)
    metrics_file.unlink(missing_ok=True)
    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    done = {"n": 0}

    def show_progress(cell, cell_index, execute_reply=None, **_):  # nbclient hook, after each cell
        if cell.cell_type == "code" and progress:
            done["n"] += 1
            print(f"\r  {path.stem}: cell {done['n']}/{n_code}", end="", flush=True)

    def note_kernel(notebook, **_):  # nbclient hook, once the kernel runs: its pid, for a stopped run
        pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
        if pid:
            (out / "entries").mkdir(parents=True, exist_ok=True)
            (out / "entries" / f"{path.stem}.kernel").write_text(str(pid))

    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            on_notebook_start=note_kernel, on_cell_executed=show_progress)
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client.execute(env=kernel_env(**{metrics.ENV_VAR: str(metrics_file)}))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        status = "failed"
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()  # no terminal colours
        error = next((ln for ln in reversed(text) if ln.strip()), type(err).__name__)[:500]
    wall = time.perf_counter() - start
    print(f"\r  {path.stem}: {status} in {wall:.1f} s" + " " * 20, flush=True)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / "notebooks" / path.name)
    try:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        (out / "html").mkdir(parents=True, exist_ok=True)
        (out / "html" / f"{path.stem}.html").write_text(body, encoding="utf-8")
    except Exception as err:  # a report without HTML is still a report
        print(f"  (HTML export of {path.name} failed: {err})")
    return {"notebook": path.stem, "status": status, "error": error, "wall_s": round(wall, 1),
            **metrics.read(metrics_file)}


def _md(text: str) -> str:
    """``text`` for a markdown table cell (a literal ``|`` would end the cell)."""
    return text.replace("|", "\\|")


def write_report(entries: list[dict], out: Path, profile: str, total_s: float, jobs: int = 1,
                 commit: str = "unknown") -> None:
    entries = sorted(entries, key=lambda e: e["notebook"])
    first = next((e["setup"] for e in entries if e["setup"]), {})
    meta = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "profile": profile,
            "backend": first.get("backend", os.environ.get("KERAS_BACKEND", "tensorflow")),
            "device": first.get("device", "unknown"), "python": platform.python_version(),
            "versions": ({"course_lib": first["course_lib"]} if "course_lib" in first else {})
            | installed_versions(), "commit": commit, "jobs": jobs,
            "total_wall_s": round(total_s, 1)}
    (out / "report.json").write_text(json.dumps({"meta": meta, "notebooks": entries}, indent=1))
    md = [f"# Course run report ({profile} profile)", "",
          f"- date: {meta['date']}", f"- backend: {meta['backend']}", f"- device: {meta['device']}",
          f"- python {meta['python']}; " + "; ".join(f"{k} {v}" for k, v in meta["versions"].items()),
          f"- commit: {meta['commit']}",
          f"- total wall time: {meta['total_wall_s']} s"
          + (f" ({jobs} notebooks at a time, so their wall times overlap)" if jobs > 1 else ""), "",
          "| notebook | status | wall time (s) | checked figures |", "|---|---|---|---|"]
    for e in entries:
        figures = "<br>".join(_md(metrics.describe(c)) for c in e["checks"])
        status = e["status"] if e["status"] == "ok" else f"**{e['status'].upper()}**: {e['error']}"
        md.append(f"| {e['notebook']} | {status} | {e['wall_s']} | {figures or '—'} |")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    rows = "".join(
        f"<tr><td><a href='html/{e['notebook']}.html'>{e['notebook']}</a></td><td>{html.escape(e['status'])}"
        f"{(': ' + html.escape(e['error'])) if e['error'] else ''}</td><td>{e['wall_s']}</td><td>"
        + "<br>".join(html.escape(metrics.describe(c)) for c in e["checks"])
        + "</td></tr>" for e in entries)
    head = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in meta.items())
    (out / "report.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>Course run report</title>"
        f"<h1>Course run report ({html.escape(profile)} profile)</h1><ul>{head}</ul>"
        f"<table border='1' cellpadding='4'><tr><th>notebook</th><th>status</th><th>wall time (s)</th>"
        f"<th>checked figures</th></tr>{rows}</table>", encoding="utf-8")


#: What a run writes into its folder; a new run into the same folder removes these first.
RUN_OUTPUTS = ("report.md", "report.html", "report.json", "notebooks", "html", "metrics", "entries")


def default_out(only: list[str], profile: str, backend: str, root: Path = ROOT) -> Path:
    """Where a run goes without ``--out``: ``build/`` for the whole course, else a folder of its own
    named after the notebooks, the profile and the backend.

    >>> default_out([], "smoke", "tensorflow", Path("/c")).as_posix()
    '/c/build'
    >>> default_out(["05", "08"], "full", "jax", Path("/c")).as_posix()
    '/c/build/runs/05_08-full-jax'
    """
    if not only:
        return root / "build"
    names = "_".join(re.sub(r"[^A-Za-z0-9_.-]", "", name) or "x" for name in only)
    return root / "build" / "runs" / f"{names}-{profile}-{backend}"


def clear_previous_run(out: Path, notebooks: Path) -> str | None:
    """Remove the outputs of an earlier run from ``out`` (only what a run writes, :data:`RUN_OUTPUTS`);
    return a line describing what was replaced, or None when ``out`` held no run. Refuses a folder
    that holds the notebooks themselves (its ``notebooks/`` would be the sources)."""
    if notebooks.resolve() == (out / "notebooks").resolve() or notebooks.resolve() == out.resolve():
        raise SystemExit(f"--out {out} is the folder of the notebooks being run; choose another folder (default: build)")
    report = out / "report.json"
    if not (report.exists() or (out / "entries").is_dir()):
        return None
    try:
        old = json.loads(report.read_text())
        what = (f"a run of {len(old['notebooks'])} notebook(s) in the {old['meta']['profile']} profile on "
                f"{old['meta']['backend']}")
    except (OSError, ValueError, KeyError, TypeError):
        what = "an earlier run"
    import shutil

    for name in RUN_OUTPUTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    return f"replacing {what} in {out}"


def _worker(path: Path, out: Path, cell_timeout: int, progress: bool) -> subprocess.Popen:
    """Start one notebook in a worker process (its own process group, so that a stopped run can
    end the worker and its kernel together); the worker writes ``<out>/entries/<stem>.json``."""
    cmd = [sys.executable, "-m", "course_tools.run_course", "--worker", str(path), "--out", str(out),
           "--cell-timeout", str(cell_timeout)] + ([] if progress else ["--quiet"])
    return subprocess.Popen(cmd, start_new_session=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.run_course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only notebooks whose file name starts with one of these, "
                        "started in this order")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks",
                        help="the folder of NN_name.ipynb notebooks (default: notebooks/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the run's folder; it replaces any earlier run there (default: build/ for the whole "
                        "course, build/runs/<names>-<profile>-<backend>/ for a selection)")
    parser.add_argument("--cell-timeout", type=int, default=int(os.environ.get("COURSE_CELL_TIMEOUT", 1800)))
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    if args.worker:
        args.out = args.out.resolve()  # the kernels run in notebooks/: give them absolute paths
        entry = execute(args.worker, args.out, args.cell_timeout, progress=not args.quiet)
        (args.out / "entries").mkdir(parents=True, exist_ok=True)
        done = args.out / "entries" / f"{args.worker.stem}.json"
        tmp = done.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry))
        os.replace(tmp, done)  # in one step: a stopped run reads a whole entry or none
        return 0
    from course_lib.profiles import active_profile

    profile = active_profile()  # an unknown COURSE_PROFILE stops here, before any work
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if args.out is None:
        args.out = default_out(args.only, profile, backend)
    args.out = args.out.resolve()  # the kernels run in notebooks/: give them absolute paths
    paths = sorted(args.notebooks.resolve().glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [p for prefix in args.only for p in paths if p.name.startswith(prefix)]
        paths = list(dict.fromkeys(paths))  # a notebook named twice runs once
    if not paths:
        print("no notebooks matched", args.only, file=sys.stderr)
        return 2
    replaced = clear_previous_run(args.out, args.notebooks)
    if replaced:
        print(replaced, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "entries").mkdir(exist_ok=True)
    print(f"Running {len(paths)} notebooks ({args.jobs} at a time), profile {profile}, "
          f"backend {backend}, into {args.out}", flush=True)
    start, entries = time.perf_counter(), []
    waiting, running = list(paths), {}  # running: path -> (worker, start time)
    commit = git_commit()

    def stop(signum, frame):  # a time limit or Ctrl-C: end the workers, keep what finished
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while waiting or running:
            while waiting and len(running) < args.jobs:
                path = waiting.pop(0)
                if args.jobs > 1:
                    print(f"  {path.stem}: started", flush=True)
                running[path] = (_worker(path, args.out, args.cell_timeout, progress=args.jobs == 1),
                                 time.perf_counter())
            for path, (proc, t0) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[path]
                done = args.out / "entries" / f"{path.stem}.json"
                entries.append(json.loads(done.read_text()) if done.exists() else
                               {"notebook": path.stem, "status": "failed", "wall_s": round(time.perf_counter() - t0, 1),
                                "error": f"the worker process ended with code {proc.returncode}",
                                "setup": {}, "checks": []})
                write_report(entries, args.out, profile, time.perf_counter() - start, args.jobs, commit)
            time.sleep(0.2)
    except KeyboardInterrupt:
        print(f"\nstopped with {len(running)} notebooks running and {len(waiting)} not started", flush=True)
        for path, (proc, t0) in running.items():
            done = args.out / "entries" / f"{path.stem}.json"
            if done.exists():  # finished just before the stop; its worker is exiting on its own
                entries.append(json.loads(done.read_text()))
                continue
            kernel = args.out / "entries" / f"{path.stem}.kernel"
            groups = [proc.pid] + ([int(kernel.read_text())] if kernel.exists() else [])
            for group in groups:  # the worker, and the kernel it started (a session of its own)
                try:
                    os.killpg(group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            so_far = metrics.read(args.out / "metrics" / f"{path.stem}.json")  # what it had checked
            entries.append({"notebook": path.stem, "status": "unfinished", "wall_s": round(time.perf_counter() - t0, 1),
                            "error": f"still running after {time.perf_counter() - t0:.0f} s when the run was stopped; "
                                     "its figures are those checked before", **so_far})
        entries += [{"notebook": path.stem, "status": "not started", "wall_s": 0.0,
                     "error": "the run was stopped before it began", "setup": {}, "checks": []} for path in waiting]
        write_report(entries, args.out, profile, time.perf_counter() - start, args.jobs, commit)
        return 1
    failed = [e["notebook"] for e in entries if e["status"] != "ok"]
    print(f"Report: {args.out / 'report.md'} (and report.html)  ({len(entries) - len(failed)} ok, {len(failed)} failed"
          + (f": {', '.join(failed)})" if failed else ")"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
