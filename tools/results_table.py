"""The README's table of GPU results, made from the reports under ``results/`` (never by hand).

    python tools/results_table.py          # print the table (markdown)

For each notebook: the latest run under ``results/*/report.json`` that ran it, its status and
wall time, and the figures it checked against a full-profile target (floors and ceilings).
``tests/test_results_table.py`` checks that README.md holds exactly this table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- results table: begin -->", "<!-- results table: end -->"


def _target(check: dict) -> str | None:
    name = check["name"].replace("|", "\\|")  # a literal | would end the table cell
    if "floor" in check:
        return f"{name} = {check['value']:.4g} (≥ {check['floor']})"
    if "ceiling" in check:
        return f"{name} = {check['value']:.4g} (≤ {check['ceiling']})"
    return None


def latest_runs(results: Path = ROOT / "results") -> dict[str, tuple[dict, dict, str]]:
    """notebook -> (its report entry, the report's meta, the run's folder name), from the newest
    run (by date) under ``results/*/report.json`` that ran it."""
    runs = [(json.loads(p.read_text()), p.parent.name) for p in results.glob("*/report.json")]
    runs.sort(key=lambda r: r[0]["meta"]["date"])
    latest: dict[str, tuple[dict, dict, str]] = {}
    for doc, name in runs:
        for entry in doc["notebooks"]:
            latest[entry["notebook"]] = (entry, doc["meta"], name)
    return latest


def table(results: Path = ROOT / "results") -> str:
    """The markdown table: one row per notebook, from the newest run (by date) that ran it."""
    latest = latest_runs(results)
    lines = ["| notebook | run | device, backend | status | wall time (s) | figures checked against a target |",
             "|---|---|---|---|---|---|"]
    for notebook, (entry, meta, name) in sorted(latest.items()):
        checks = entry["checks"]
        partial = results / name / "metrics" / f"{notebook}.json"  # what a stopped notebook had checked
        if entry["status"] != "ok" and not checks and partial.exists():
            checks = json.loads(partial.read_text()).get("checks", [])
        targets = [t for t in map(_target, checks) if t]
        status = entry["status"] if entry["status"] == "ok" else f"{entry['status']}: {entry['error']}"
        if entry["status"] != "ok" and targets:
            status += " (figures: those checked before it stopped)"
        lines.append(f"| {notebook} | `{name}` | {meta['device']}, {meta['backend']} | {status} | "
                     f"{entry['wall_s']} | {'<br>'.join(targets) or '—'} |")
    return "\n".join(lines)


def main() -> int:
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
