"""Execute every course notebook, keep the outputs, export HTML and write a report.

    python tools/run_course.py                      # all of notebooks/*.ipynb, active profile
    python tools/run_course.py 01 02 --out build    # only notebooks whose name starts so

Each notebook runs in a fresh kernel with ``COURSE_METRICS_FILE`` set, so the figures it checks
(``course_lib.checks``) and its setup (versions, backend, device) land in the report. A failed
notebook is reported with its error and the others still run; the exit code is 1 if any failed.
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
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, out: Path, cell_timeout: int) -> dict:
    """Run one notebook; return its report entry."""
    metrics_file = out / "metrics" / f"{path.stem}.json"
    metrics_file.parent.mkdir(parents=True, exist_ok=True)
    metrics_file.unlink(missing_ok=True)
    os.environ["COURSE_METRICS_FILE"] = str(metrics_file)
    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    done = {"n": 0}

    def progress(cell, cell_index, execute_reply=None, **_):  # nbclient hook, after each cell
        if cell.cell_type == "code":
            done["n"] += 1
            print(f"\r  {path.stem}: cell {done['n']}/{n_code}", end="", flush=True)

    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_executed=progress)
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client.execute()
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
    doc = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    return {"notebook": path.stem, "status": status, "error": error, "wall_s": round(wall, 1),
            "setup": doc.get("setup", {}), "checks": doc.get("checks", [])}


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def _condition(check: dict) -> str:
    if "floor" in check:
        return f"≥ {check['floor']}"
    if "ceiling" in check:
        return f"≤ {check['ceiling']}"
    if "expected" in check:
        return f"= {_value(check['expected'])}"
    others = {k: v for k, v in check.items() if k not in ("name", "value", "kind", "profile")}
    return ", ".join(f"{k} {_value(v)}" for k, v in others.items())


def _figure(check: dict) -> str:
    condition = _condition(check)
    return f"{check['name']} = {_value(check['value'])}" + (f" ({condition})" if condition else "")


def write_report(entries: list[dict], out: Path, profile: str, total_s: float) -> None:
    first = next((e["setup"] for e in entries if e["setup"]), {})
    meta = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "profile": profile,
            "backend": first.get("backend", os.environ.get("KERAS_BACKEND", "tensorflow")),
            "device": first.get("device", "unknown"), "python": platform.python_version(),
            "versions": {k: first[k] for k in ("keras", "tensorflow", "course_lib") if k in first},
            "total_wall_s": round(total_s, 1)}
    (out / "report.json").write_text(json.dumps({"meta": meta, "notebooks": entries}, indent=1))
    md = [f"# Course run report ({profile} profile)", "",
          f"- date: {meta['date']}", f"- backend: {meta['backend']}", f"- device: {meta['device']}",
          f"- python {meta['python']}; " + "; ".join(f"{k} {v}" for k, v in meta["versions"].items()),
          f"- total wall time: {meta['total_wall_s']} s", "",
          "| notebook | status | wall time (s) | checked figures |", "|---|---|---|---|"]
    for e in entries:
        figures = "<br>".join(_figure(c) for c in e["checks"])
        status = e["status"] if e["status"] == "ok" else f"**FAILED**: {e['error']}"
        md.append(f"| {e['notebook']} | {status} | {e['wall_s']} | {figures or '—'} |")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    rows = "".join(
        f"<tr><td><a href='html/{e['notebook']}.html'>{e['notebook']}</a></td><td>{html.escape(e['status'])}"
        f"{(': ' + html.escape(e['error'])) if e['error'] else ''}</td><td>{e['wall_s']}</td><td>"
        + "<br>".join(html.escape(_figure(c)) for c in e["checks"])
        + "</td></tr>" for e in entries)
    head = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in meta.items())
    (out / "report.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>Course run report</title>"
        f"<h1>Course run report ({html.escape(profile)} profile)</h1><ul>{head}</ul>"
        f"<table border='1' cellpadding='4'><tr><th>notebook</th><th>status</th><th>wall time (s)</th>"
        f"<th>checked figures</th></tr>{rows}</table>", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only notebooks whose file name starts with one of these")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--cell-timeout", type=int, default=int(os.environ.get("COURSE_CELL_TIMEOUT", 1800)))
    args = parser.parse_args(argv)
    args.out = args.out.resolve()  # the kernels run in notebooks/: give them absolute paths
    sys.path.insert(0, str(ROOT))
    from course_lib.profiles import active_profile

    profile = active_profile()  # an unknown COURSE_PROFILE stops here, before any work
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.name.startswith(tuple(args.only))]
    if not paths:
        print("no notebooks matched", args.only, file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"Running {len(paths)} notebooks, profile {profile}, "
          f"backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}, into {args.out}")
    start, entries = time.perf_counter(), []
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.name}", flush=True)
        entries.append(execute(path, args.out, args.cell_timeout))
        write_report(entries, args.out, profile, time.perf_counter() - start)
    failed = [e["notebook"] for e in entries if e["status"] != "ok"]
    print(f"Report: {args.out / 'report.md'}  ({len(entries) - len(failed)} ok, {len(failed)} failed"
          + (f": {', '.join(failed)})" if failed else ")"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
