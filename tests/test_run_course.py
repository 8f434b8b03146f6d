"""course_tools.run_course: runs notebooks, reports figures, goes on past a failure, exit code."""

import json
import sys
from pathlib import Path

import nbformat

from course_tools import run_course


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
    monkeypatch.chdir(tmp_path)  # a relative --out, as `make course` gives, while kernels run in notebooks/
    code = run_course.main(["--notebooks", "notebooks", "--out", "build", "--cell-timeout", "120"])
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


def test_parallel_run_keeps_order_and_stops_cleanly(tmp_path, monkeypatch):
    """--jobs 2 runs notebooks side by side in the order given; SIGTERM (a time limit) ends the
    running notebook's kernel and still writes the report, marking it unfinished."""
    import os
    import signal
    import subprocess
    import time

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    marker = tmp_path / "kernel.pid"
    _nb(nbdir / "97_fast.ipynb", "print('fast')")
    _nb(nbdir / "98_slow.ipynb", "from course_lib.checks import record\nrecord('before_the_wait', 1.5)\n"
        f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)")
    env = {**os.environ, "COURSE_PROFILE": "smoke"}
    proc = subprocess.Popen([sys.executable, "-m", "course_tools.run_course", "98", "97", "--jobs", "2",
                             "--notebooks", str(nbdir), "--out", str(tmp_path / "out")], env=env)
    deadline = time.time() + 120
    entries = tmp_path / "out" / "entries"
    while time.time() < deadline and not (marker.exists() and (entries / "97_fast.json").exists()):
        time.sleep(0.5)
    assert marker.exists(), "the slow notebook's kernel never started"
    kernel_pid = int(marker.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    by_name = {e["notebook"]: e for e in report["notebooks"]}
    assert by_name["97_fast"]["status"] == "ok"
    assert by_name["98_slow"]["status"] == "unfinished"
    assert [c["value"] for c in by_name["98_slow"]["checks"]] == [1.5]  # what it checked before the stop
    assert report["meta"]["jobs"] == 2
    assert "**UNFINISHED**" in (tmp_path / "out" / "report.md").read_text()
    for _ in range(50):  # the kernel goes with its worker
        try:
            os.kill(kernel_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the slow notebook's kernel (pid {kernel_pid}) still runs after the stop")
