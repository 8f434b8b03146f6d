"""Two smoke-profile runs of lesson 02 (MNIST softmax included) record identical checked figures.

Each run executes the notebook in a fresh kernel (nbclient) with its own ``COURSE_METRICS_FILE``;
``COURSE_DATA_DIR`` comes from the environment (``make test`` and CI set it). Seeding
(``course_lib.profiles.settings``) and TensorFlow's deterministic ops must make every figure
the lesson checks, floats included, come out bit-for-bit the same.
"""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "02_logistic_regression.ipynb"


def run_lesson(metrics_file: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Execute the lesson once in a fresh kernel; return the metrics document it wrote."""
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setenv("COURSE_METRICS_FILE", str(metrics_file))
    nb = nbformat.read(LESSON, as_version=4)
    # The kernel inherits this process's environment at start-up, so each run sees its own file.
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(LESSON.parent)}}).execute()
    assert metrics_file.is_file(), f"{LESSON.name} wrote no metrics to {metrics_file}"
    return json.loads(metrics_file.read_text())


@pytest.mark.slow
def test_lesson_02_is_reproducible(tmp_path, monkeypatch):
    first = run_lesson(tmp_path / "run1.json", monkeypatch)
    second = run_lesson(tmp_path / "run2.json", monkeypatch)
    figures = [(c["name"], c["value"]) for c in first["checks"]]
    names = [name for name, _ in figures]
    assert figures, "the first run recorded no checked figures"
    assert "mnist_softmax_test_accuracy" in names, f"no MNIST softmax accuracy among {names}"
    assert len(names) == len(set(names)), f"a figure name is recorded twice: {names}"
    assert first["setup"]["profile"] == "smoke", first["setup"]
    again = [(c["name"], c["value"]) for c in second["checks"]]
    assert [n for n, _ in again] == names, "the two runs checked different figures"
    differ = [(n, a, b) for (n, a), (_, b) in zip(figures, again, strict=True) if a != b]
    assert not differ, "figures that differ between two identical runs (name, run 1, run 2): " + repr(differ)

