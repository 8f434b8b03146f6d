"""Normalise the course's notebooks and assignments: badge, setup cell, metadata, outputs, JSON.

    python -m course_tools.nbfmt                 # rewrite notebooks/*.ipynb and the assignments in place
    python -m course_tools.nbfmt --check         # exit 1 and list what would change (tests use this)
    python -m course_tools.nbfmt --refresh-checked notebooks/05_convolutional_networks.ipynb
                                                 # execute (smoke profile) and store the outputs of
                                                 # the cells tagged "nbval-check-output"

Lessons (``notebooks/NN_name.ipynb``): the first cell is markdown starting with ``# <title>``
and, on its third line, the Open-in-Colab badge for the notebook's own path; the second cell is
the setup cell (:func:`setup_cell_source`). The setup cell is written by this module, the same in
every notebook: edit :func:`setup_cell_source`, never the cell, then run ``make format``.

Assignments (``assignments/<name>/<name>.ipynb``, otter-grader's assign format): the first cell
is otter's ``# ASSIGNMENT CONFIG`` raw cell, the second the markdown title (no badge: students
get a built copy, never the master); the third is the assignment's setup cell, made from the
same template, which also installs otter-grader on Colab and opens the grader.

Both: the kernel is ``python3``; nbval's instructions are cell tags (:data:`NBVAL_TAGS`), never
comments in the code a learner reads: a comment marker (``# NBVAL_CHECK_OUTPUT``, alone on its
line) becomes its tag and the line goes; code cells keep no outputs except those tagged
``nbval-check-output``, whose stored outputs are what nbval compares; cell ids are ``cell-NN``;
the JSON has sorted keys, indent 1 and every source as a list of lines.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

import nbformat

from course_lib import GITHUB_REPO, __version__
from course_tools import ROOT, kernel_env

#: nbval's comment markers and the cell tags that say the same (nbval/plugin.py reads both).
NBVAL_TAGS = {
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_SKIP": "nbval-skip",
    "NBVAL_RAISES_EXCEPTION": "raises-exception",
}
CHECKED_TAG = NBVAL_TAGS["NBVAL_CHECK_OUTPUT"]
BADGE_PREFIX = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
#: What an assignment installs on Colab besides course_lib, to run ``grader.check``.
OTTER_REQUIREMENT = "otter-grader>=7"


def git_ref() -> str:
    """The git tag of this version, ``v<version>``: the badges open the notebooks at this ref and
    the setup cell installs course_lib from it, so notebook and package always match."""
    return f"v{__version__}"


def install_spec() -> str:
    """The pip requirement that installs this version of course_lib from GitHub."""
    return f"course-lib @ git+https://github.com/{GITHUB_REPO}@{git_ref()}"


def setup_cell_source(assignment: str | None = None) -> str:
    """The setup cell of every lesson, or with ``assignment`` (the notebook's file name) of that
    assignment: the same template, which there also installs otter-grader on Colab and opens the
    grader instead of calling ``course_lib.setup.setup``."""
    if assignment is None:
        what, packages = "notebook", "install the course package (and nothing else)"
        pip = f'"{install_spec()}"'
        rest = '''os.environ.setdefault("COURSE_PROFILE", "learn")  # or "full": the real run, on a GPU runtime

from course_lib.setup import setup

info = setup()  # prints versions, backend, profile and device; checks them'''
    else:
        what, packages = "assignment", "install the course package and otter-grader"
        pip = f'"{OTTER_REQUIREMENT}",\n                    "{install_spec()}"'
        rest = f'''
import otter

grader = otter.Notebook("{assignment}")'''
    return f'''# Setup: the same cell in every {what}.
import os
import subprocess
import sys

if "google.colab" in sys.modules:  # on Colab: {packages}
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    {pip}], check=True)
os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # or "jax" / "torch", before Keras is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up logs out of the outputs
{rest}'''


def nbval_marker(line: str) -> str | None:
    """The nbval marker a source line is, read as nbval reads it (a comment that is only the
    marker: ``# NBVAL_SKIP``, ``#NBVAL_SKIP``), or None."""
    text = line.strip()
    if not text.startswith("#"):
        return None
    word = text.lstrip("#").strip()
    return word if word in NBVAL_TAGS else None


def markers_to_tags(cell) -> None:
    """Turn the nbval comment markers of a code cell into the cell tags nbval reads, in place:
    each marker line is removed and its tag added to ``cell.metadata["tags"]``."""
    lines = cell.source.split("\n")
    found = [nbval_marker(line) for line in lines]
    if not any(found):
        return
    cell.source = "\n".join(line for line, marker in zip(lines, found, strict=True) if marker is None)
    tags = list(cell.metadata.get("tags", []))
    for marker in found:
        if marker and NBVAL_TAGS[marker] not in tags:
            tags.append(NBVAL_TAGS[marker])
    cell.metadata["tags"] = tags


def is_checked(cell) -> bool:
    """True for a code cell whose output nbval compares: tagged ``nbval-check-output``."""
    return cell.cell_type == "code" and CHECKED_TAG in cell.metadata.get("tags", [])


def badge(relpath: str) -> str:
    """The Open-in-Colab badge for a notebook at ``relpath``, at this version's git tag (the
    same ref the setup cell installs course_lib from)."""
    return f"{BADGE_PREFIX}(https://colab.research.google.com/github/{GITHUB_REPO}/blob/{git_ref()}/{relpath})"


def is_assignment(relpath: str) -> bool:
    """True for an assignment master, ``assignments/<name>/<name>.ipynb``."""
    parts = Path(relpath).parts
    return len(parts) == 3 and parts[0] == "assignments" and Path(parts[2]).stem == parts[1]


def _set_setup_cell(cells: list, index: int, source: str) -> None:
    """Put the setup cell at ``index``: replace the one there (tagged ``setup``, or starting with
    ``# Setup``) or insert it."""
    setup = nbformat.v4.new_code_cell(source)
    setup.metadata["tags"] = ["setup"]
    there = index < len(cells) and cells[index].cell_type == "code"
    if there and ("setup" in cells[index].metadata.get("tags", []) or cells[index].source.startswith("# Setup")):
        cells[index] = setup
    else:
        cells.insert(index, setup)


def normalise(nb: nbformat.NotebookNode, relpath: str) -> nbformat.NotebookNode:
    """Return ``nb`` with the course's rules applied (see the module docstring); ``relpath`` is
    its path from the repository root, which says whether it is a lesson or an assignment."""
    cells = nb.cells
    if is_assignment(relpath):
        if not cells or cells[0].cell_type != "raw" or not cells[0].source.startswith("# ASSIGNMENT CONFIG"):
            raise ValueError(f"{relpath}: the first cell must be otter's raw '# ASSIGNMENT CONFIG' cell")
        if len(cells) < 2 or cells[1].cell_type != "markdown" or not cells[1].source.startswith("# "):
            raise ValueError(f"{relpath}: the second cell must be markdown starting with '# <title>'")
        _set_setup_cell(cells, 2, setup_cell_source(Path(relpath).name))
        metadata = {}
    else:
        if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
            raise ValueError(f"{relpath}: the first cell must be markdown starting with '# <title>'")
        title, *rest = cells[0].source.split("\n")
        rest = [ln for ln in rest if not ln.startswith(BADGE_PREFIX)]
        while rest and not rest[0].strip():
            rest.pop(0)
        cells[0].source = "\n".join([title, "", badge(relpath)] + ([""] + rest if rest else []))
        _set_setup_cell(cells, 1, setup_cell_source())
        metadata = {"colab": {"name": Path(relpath).name, "provenance": []}}
    n_code = 0
    for cell in cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            n_code += 1
            markers_to_tags(cell)
            if not is_checked(cell):
                cell.outputs = []
                cell.execution_count = None
            else:  # nbval refuses stored outputs without an execution count: use the cell's ordinal
                cell.execution_count = n_code
                for out in cell.outputs:
                    if "execution_count" in out:
                        out["execution_count"] = n_code
            cell.metadata.pop("execution", None)
            cell.metadata.pop("collapsed", None)
    nb.metadata = {**metadata, "kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """Formatted JSON like tensorflow/docs' nbfmt: indent 1, sorted keys, trailing newline, and
    every cell source and multi-line output stored as a list of lines (so a diff shows lines)."""
    from nbformat.v4.rwbase import split_lines

    return json.dumps(split_lines(copy.deepcopy(nb)), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def formatted(path: Path) -> str:
    """The text ``path`` has once formatted."""
    relpath = path.resolve().relative_to(ROOT).as_posix()
    return dumps(normalise(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4), relpath))


def course_notebooks() -> list[Path]:
    """Every notebook this tool formats: the lessons, then the assignment masters."""
    return sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(ROOT.glob("assignments/*/*.ipynb"))


def coalesce_streams(outputs: list) -> list:
    """``outputs`` with each run of consecutive stream outputs of one stream joined into one (how
    the kernel splits printed text between messages depends on timing, not on the code)."""
    joined: list = []
    for out in outputs:
        last = joined[-1] if joined else None
        if last is not None and out.get("output_type") == last.get("output_type") == "stream" \
                and out.get("name") == last.get("name"):
            last["text"] += out["text"]
        else:
            joined.append(copy.deepcopy(out))
    return joined


def refresh_checked(path: Path) -> None:
    """Execute ``path`` in the smoke profile and store the outputs of its checked cells."""
    from nbclient import NotebookClient

    relpath = path.resolve().relative_to(ROOT).as_posix()
    nb = normalise(nbformat.read(path, as_version=4), relpath)
    executed = copy.deepcopy(nb)
    NotebookClient(executed, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute(
        env=kernel_env(COURSE_PROFILE="smoke"))
    for cell, done in zip(nb.cells, executed.cells, strict=False):
        if is_checked(cell):
            cell.outputs = coalesce_streams(done.outputs)
    path.write_text(dumps(normalise(nb, relpath)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.nbfmt", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="default: every lesson and assignment")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    parser.add_argument("--refresh-checked", action="store_true", help="execute and store checked outputs")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or course_notebooks()
    stale = []
    for path in paths:
        if args.refresh_checked:
            refresh_checked(path)
            continue
        new = formatted(path)
        if new != path.read_text(encoding="utf-8"):
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'would reformat' if args.check else 'reformatted'} {os.path.relpath(path, ROOT)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
