"""Every lesson and assignment: name, title, badge, setup cell, nbformat, no stored outputs,
python3 kernel, nbval instructions as cell tags, formatted by course_tools.nbfmt."""

import copy
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
    assert "nbfmt" not in setup.source, "the note for maintainers is in nbfmt's docstring and CONTRIBUTING.md"
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
            assert cell.outputs, f"{path.name} cell {i} is tagged nbval-check-output but has no stored output"
            assert cell.execution_count is not None, f"{path.name} cell {i}: nbval needs an execution count"
        else:
            assert not cell.outputs, f"{path.name} cell {i} has stored outputs; run python -m course_tools.nbfmt"
            assert cell.execution_count is None


def test_nbval_instructions_are_cell_tags(any_notebook):
    """nbval reads its instructions from cell tags; a comment marker in the code would be a note
    to maintainers in the learner's cell (nbfmt turns each into its tag)."""
    path, nb = any_notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            assert "NBVAL" not in line.upper(), (
                f"{path.name} cell {i}: {line!r}: tag the cell instead (python -m course_tools.nbfmt does it)")
        tags = cell.metadata.get("tags", [])
        assert isinstance(tags, list), f"{path.name} cell {i}: tags must be a list"
        nbval_tags = [t for t in tags if t.startswith("nbval") or t == "raises-exception"]
        unknown = set(nbval_tags) - set(nbfmt.NBVAL_TAGS.values())
        assert not unknown, f"{path.name} cell {i}: {sorted(unknown)} is not a tag nbval reads"


def test_nbfmt_turns_markers_into_tags():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · X"),
                nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)"),
                nbformat.v4.new_code_cell("x = 1\n  #NBVAL_SKIP  \n# NBVAL_IGNORE_OUTPUT\ny = 2"),
                nbformat.v4.new_code_cell("# NBVAL_RAISES_EXCEPTION\n1 / 0"),
                nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT is what nbval reads\nprint(2)")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[1].metadata["tags"] = ["keep"]
    out = nbfmt.normalise(nb, "notebooks/99_x.ipynb").cells
    assert (out[2].source, out[2].metadata["tags"]) == ("print(1)", ["keep", "nbval-check-output"])
    assert out[2].outputs and out[2].execution_count == 2 and nbfmt.is_checked(out[2])
    assert (out[3].source, out[3].metadata["tags"]) == ("x = 1\ny = 2", ["nbval-skip", "nbval-ignore-output"])
    assert (out[4].source, out[4].metadata["tags"]) == ("1 / 0", ["raises-exception"])
    assert out[5].source.startswith("# NBVAL_CHECK_OUTPUT is") and "tags" not in out[5].metadata
    assert not nbfmt.is_checked(out[5]) and not out[5].outputs
    assert nbfmt.normalise(copy.deepcopy(nb), "notebooks/99_x.ipynb") == nb  # idempotent


def test_nbfmt_tags_are_the_ones_nbval_reads():
    """The tag names against nbval's own table (a renamed tag would silently check nothing)."""
    from nbval import plugin

    for marker, tag in nbfmt.NBVAL_TAGS.items():
        assert plugin.metadata_tags[tag] == plugin.comment_markers[marker], (marker, tag)


#: Words that speak to the course's maintainers, not to a learner: how the lesson is tested and run
#: (bounds, profiles, CI, nbval) or how it was written. Markdown never uses them; a figure that
#: depends on the run is printed by code, and notes for maintainers are code comments.
MAINTAINER_WORDS = re.compile(
    r"(?i:\b(floor|ceiling|smoke|profile|threshold)s?\b|COURSE_PROFILE|\bnbval\b|this lesson was written"
    r"|earlier version)|\bCI\b")
#: The same words where a lesson teaches them (a classifier's decision threshold, gradient clipping
#: above a threshold, the floor function): these phrases are taken out of a line before the check.
LEARNER_PHRASES = re.compile(r"(?i)\bdecision thresholds?\b|\bclipping thresholds?\b|\bexceeds a threshold\b"
                             r"|\bthe floor function\b|\bfloor division\b")
#: What a code cell never holds: nbval's instructions (cell tags do that) or notes on the tooling.
MAINTAINER_CODE = re.compile(r"(?i)nbval|nbfmt|edit it there")


def maintainer_words(nb) -> list[tuple[int, str, str]]:
    """``(cell index, word, line)`` for every maintainer word in a markdown cell and every note
    for maintainers in a code cell."""
    found = []
    for i, cell in enumerate(nb.cells):
        pattern = MAINTAINER_WORDS if cell.cell_type == "markdown" else MAINTAINER_CODE
        for line in cell.source.splitlines() if cell.cell_type in ("markdown", "code") else []:
            text = LEARNER_PHRASES.sub(" ", line) if cell.cell_type == "markdown" else line
            found += [(i, m.group(0), line.strip()) for m in pattern.finditer(text)]
    return found


def test_maintainer_words_are_recognised():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The smoke floor is 0.9.\nIn the learn Profile, CI checks it."),
                nbformat.v4.new_markdown_cell("Accuracy reaches 99 %; the decision boundary; a circuit; \\lfloor x \\rfloor;\n"
                                              "a decision threshold of 0.5; clip when the norm exceeds a threshold; "
                                              "the floor function"),
                nbformat.v4.new_markdown_cell("When this lesson was written, an earlier version used thresholds."),
                nbformat.v4.new_code_cell("# the smoke floor: 0.9 (a note for maintainers is a code comment)\n"
                                          "# NBVAL_CHECK_OUTPUT\nprint(1)  # edit it there")]
    words = [(i, w) for i, w, _ in maintainer_words(nb)]
    assert words == [(0, "smoke"), (0, "floor"), (0, "Profile"), (0, "CI"), (2, "this lesson was written"),
                     (2, "earlier version"), (2, "thresholds"), (3, "NBVAL"), (3, "edit it there")]


def test_markdown_speaks_to_the_learner_only(notebook):
    """No floors, ceilings, profiles, thresholds, CI or lesson history in markdown; no notes on
    the tooling in code cells."""
    path, nb = notebook
    found = maintainer_words(nb)
    assert not found, f"{path.name}: " + "; ".join(f"cell {i}: {word!r} in {line[:100]!r}" for i, word, line in found)


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


def test_refreshed_outputs_join_split_streams():
    out = nbformat.v4.new_output
    outputs = [out("stream", name="stdout", text="a\n"), out("stream", name="stdout", text="b\n"),
               out("stream", name="stderr", text="w\n"), out("stream", name="stdout", text="c\n")]
    assert [(o.name, o.text) for o in nbfmt.coalesce_streams(outputs)] == [
        ("stdout", "a\nb\n"), ("stderr", "w\n"), ("stdout", "c\n")]
    assert outputs[0].text == "a\n"  # the input is left as it was
