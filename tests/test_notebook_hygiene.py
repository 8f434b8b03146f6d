"""Every lesson and assignment: name, title, badge, setup cell, nbformat, no stored outputs,
python3 kernel, formatted by course_tools.nbfmt."""

import re

import nbformat
import pytest

from course_lib import GITHUB_REPO, __version__
from course_tools import ROOT, nbfmt

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ASSIGNMENTS = sorted(ROOT.glob("assignments/*/*.ipynb"))
BOTH = NOTEBOOKS + ASSIGNMENTS


def test_there_are_notebooks_and_assignments():
    assert len(NOTEBOOKS) >= 3 and len(ASSIGNMENTS) >= 1
    assert nbfmt.course_notebooks() == BOTH


def _read(request):
    return request.param, nbformat.read(request.param, as_version=4)


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request):
    return _read(request)


@pytest.fixture(params=BOTH, ids=[p.stem for p in BOTH])
def any_notebook(request):
    return _read(request)


def test_file_name(notebook):
    path, _ = notebook
    assert re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", path.name), path.name


def test_assignment_file_name():
    for path in ASSIGNMENTS:
        assert re.fullmatch(r"A\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", path.name) and path.parent.name == path.stem, path
        assert nbfmt.is_assignment(path.relative_to(ROOT).as_posix())


def test_valid_nbformat_and_kernel(any_notebook):
    path, nb = any_notebook
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_title_and_badge(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \d\d · \S", first.source), first.source[:80]
    url = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/v{__version__}/notebooks/{path.name}"
    badges = re.findall(r"\(https://colab\.research\.google\.com/github/[^)]+\)", first.source)
    assert badges == [f"({url})"], badges


def test_the_setup_cell_is_generated(any_notebook):
    """The same template for lessons and assignments; on Colab both install this version."""
    path, nb = any_notebook
    assignment = nbfmt.is_assignment(path.relative_to(ROOT).as_posix())
    index = 2 if assignment else 1
    setup = nb.cells[index]
    assert setup.cell_type == "code" and "setup" in setup.metadata.get("tags", [])
    assert setup.source == nbfmt.setup_cell_source(path.name if assignment else None)
    assert f'"{nbfmt.install_spec()}"' in setup.source and f"@v{__version__}" in nbfmt.install_spec()
    assert 'if "google.colab" in sys.modules:' in setup.source
    if assignment:
        assert nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
        assert re.match(r"# A\d · \S", nb.cells[1].source), nb.cells[1].source[:80]
        assert f'grader = otter.Notebook("{path.name}")' in setup.source
    others = [i for i, c in enumerate(nb.cells) if "setup" in c.metadata.get("tags", [])]
    assert others == [index], f"{path.name}: cells tagged setup: {others}"


def test_no_stored_outputs_except_checked_cells(any_notebook):
    path, nb = any_notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if nbfmt.is_checked(cell):
            assert cell.outputs, f"{path.name} cell {i} is marked for nbval but has no stored output"
            assert cell.execution_count is not None, f"{path.name} cell {i}: nbval needs an execution count"
        else:
            assert not cell.outputs, f"{path.name} cell {i} has stored outputs; run python -m course_tools.nbfmt"
            assert cell.execution_count is None


def test_nbval_markers_are_exact(any_notebook):
    """nbval only honours a marker alone on its line; anything else would silently check nothing."""
    path, nb = any_notebook
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


def test_formatted_by_nbfmt(any_notebook):
    path, _ = any_notebook
    text = path.read_text(encoding="utf-8")
    assert nbfmt.formatted(path) == text, f"{path.name} is not formatted: run python -m course_tools.nbfmt"
    assert '"source": [' in text and '"source": "' not in text.replace('"source": ""', ""), (
        f"{path.name}: sources are stored as lists of lines")


def test_nbfmt_refuses_a_notebook_without_title(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    with pytest.raises(ValueError, match="first cell must be markdown"):
        nbfmt.normalise(nb, "notebooks/99_x.ipynb")
    with pytest.raises(ValueError, match="ASSIGNMENT CONFIG"):
        nbfmt.normalise(nb, "assignments/A9_x/A9_x.ipynb")
