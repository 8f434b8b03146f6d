"""tools/run_course.py: runs notebooks, reports figures, carries on past a failure, exit code."""

import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import run_course  # noqa: E402


def _nb(path: Path, code: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 98 · Test"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_report_lists_figures_and_failures(tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _nb(nbdir / "98_good.ipynb", "from course_lib.checks import check_at_least\n"
        "check_at_least('accuracy', 0.9, smoke=0.5, full=0.8)")
    _nb(nbdir / "99_bad.ipynb", "raise ValueError('planted failure')")
    monkeypatch.setattr(run_course, "ROOT", tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(tmp_path)  # a relative --out, as `make course` gives, while kernels run in notebooks/
    code = run_course.main(["--out", "build", "--cell-timeout", "120"])
    assert code == 1
    report = json.loads((tmp_path / "build" / "report.json").read_text())
    by_name = {e["notebook"]: e for e in report["notebooks"]}
    assert by_name["98_good"]["status"] == "ok" and by_name["99_bad"]["status"] == "failed"
    assert "planted failure" in by_name["99_bad"]["error"] and "\x1b[" not in by_name["99_bad"]["error"]
    assert by_name["98_good"]["checks"][0]["value"] == 0.9
    md = (tmp_path / "build" / "report.md").read_text()
    assert "accuracy = 0.9 (≥ 0.5)" in md and "**FAILED**" in md
    assert (tmp_path / "build" / "html" / "98_good.html").exists()
    assert (tmp_path / "build" / "notebooks" / "99_bad.ipynb").exists()
