"""Every notebook: name, title, badge, setup cell, nbformat, no stored outputs, python3 kernel."""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import GITHUB_REPO, __version__  # noqa: E402
from course_lib.setup import install_spec, setup_cell_source  # noqa: E402
from tools import nbfmt  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request):
    path = request.param
    return path, nbformat.read(path, as_version=4)


def test_file_name(notebook):
    path, _ = notebook
    assert re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", path.name), path.name


def test_valid_nbformat_and_kernel(notebook):
    path, nb = notebook
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_title_badge_and_setup_cell(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \d\d · \S", first.source), first.source[:80]
    url = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/v{__version__}/notebooks/{path.name}"
    badges = re.findall(r"\(https://colab\.research\.google\.com/github/[^)]+\)", first.source)
    assert badges == [f"({url})"], badges
    setup = nb.cells[1]
    assert setup.cell_type == "code" and "setup" in setup.metadata.get("tags", [])
    assert setup.source == setup_cell_source()
    assert install_spec() in setup.source


def test_no_stored_outputs_except_checked_cells(notebook):
    path, nb = notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if nbfmt.is_checked(cell):
            assert cell.outputs, f"{path.name} cell {i} is marked for nbval but has no stored output"
            assert cell.execution_count is not None, f"{path.name} cell {i}: nbval needs an execution count"
        else:
            assert not cell.outputs, f"{path.name} cell {i} has stored outputs; run tools/nbfmt.py"
            assert cell.execution_count is None


def test_nbval_markers_are_exact(notebook):
    """nbval only honours a marker alone on its line; anything else would silently check nothing."""
    path, nb = notebook
    for i, cell in enumerate(nb.cells):
        for line in cell.source.splitlines() if cell.cell_type == "code" else []:
            if "NBVAL_" in line:
                assert line.strip() in ("# NBVAL_CHECK_OUTPUT", "# NBVAL_SKIP", "# NBVAL_RAISES_EXCEPTION",
                                        "# NBVAL_IGNORE_OUTPUT"), f"{path.name} cell {i}: {line!r} is not a marker nbval reads"


def test_summary_and_exercises(notebook):
    path, nb = notebook
    headings = [ln for c in nb.cells if c.cell_type == "markdown" for ln in c.source.splitlines()]
    assert any(ln.startswith("## Summary") for ln in headings), f"{path.name} has no '## Summary'"
    assert any(ln.startswith("## Exercises") for ln in headings), f"{path.name} has no '## Exercises'"


def test_formatted_by_nbfmt(notebook):
    path, nb = notebook
    text = path.read_text()
    assert nbfmt.dumps(nbfmt.normalise(nbformat.reads(text, as_version=4), f"notebooks/{path.name}")) == text, (
        f"{path.name} is not formatted: run .venv/bin/python tools/nbfmt.py")
