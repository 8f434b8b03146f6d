"""The README's table of GPU results, made from the reports under ``results/`` (never by hand).

    python -m course_tools.results_table          # print the table (markdown)

For each notebook: the latest run under ``results/*/report.json`` that ran it, its status and
wall time, and the figures it checked against a full-profile target (floors and ceilings).
``tests/test_results_table.py`` checks that README.md holds exactly this table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from course_lib import metrics
from course_tools import ROOT

BEGIN, END = "<!-- results table: begin -->", "<!-- results table: end -->"


def _target(check: dict) -> str | None:
    """A figure checked against a floor or a ceiling, for a table cell; None for the others."""
    if "floor" not in check and "ceiling" not in check:
        return None
    return metrics.describe(check).replace("|", "\\|")  # a literal | would end the table cell


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
        if entry["status"] != "ok" and not checks:  # what a stopped notebook had checked
            checks = metrics.read(results / name / "metrics" / f"{notebook}.json")["checks"]
        targets = [t for t in map(_target, checks) if t]
        status = entry["status"] if entry["status"] == "ok" else f"{entry['status']}: {entry['error']}"
        if entry["status"] != "ok" and targets:
            status += " (figures: those checked before it stopped)"
        lines.append(f"| {notebook} | `{name}` | {meta['device']}, {meta['backend']} | {status} | "
                     f"{entry['wall_s']} | {'<br>'.join(targets) or '—'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_tools.results_table", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
