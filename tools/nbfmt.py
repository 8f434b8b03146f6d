"""Normalise the course notebooks: badge, setup cell, metadata, outputs, JSON formatting.

    python tools/nbfmt.py                 # rewrite notebooks/*.ipynb in place
    python tools/nbfmt.py --check         # exit 1 and list what would change (tests use this)
    python tools/nbfmt.py --refresh-checked notebooks/05_convolutional_networks.ipynb
                                          # execute (smoke profile) and store the outputs of
                                          # the cells marked "# NBVAL_CHECK_OUTPUT"

Rules: the first cell is markdown starting with ``# <title>`` and, on its second line, the
Open-in-Colab badge for the notebook's own path; the second cell is the setup cell from
:func:`course_lib.setup.setup_cell_source`; the kernel is ``python3``. Code cells keep no outputs,
except the cells marked ``# NBVAL_CHECK_OUTPUT``, whose stored outputs are what nbval compares.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import GITHUB_REPO  # noqa: E402
from course_lib.setup import git_ref, setup_cell_source  # noqa: E402

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
BADGE_PREFIX = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def is_checked(cell) -> bool:
    """True for a code cell that nbval compares: a line that is exactly ``# NBVAL_CHECK_OUTPUT``
    (nbval ignores the marker with anything else on its line)."""
    return any(line.strip().lstrip("#").strip() == CHECK_MARK.lstrip("# ") for line in cell.source.splitlines())


def badge(relpath: str) -> str:
    """The Open-in-Colab badge for a notebook at ``relpath``, at this version's git tag (the
    same ref the setup cell installs course_lib from)."""
    return f"{BADGE_PREFIX}(https://colab.research.google.com/github/{GITHUB_REPO}/blob/{git_ref()}/{relpath})"


def normalise(nb: nbformat.NotebookNode, relpath: str) -> nbformat.NotebookNode:
    """Return ``nb`` with the course's rules applied (see the module docstring)."""
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        raise ValueError(f"{relpath}: the first cell must be markdown starting with '# <title>'")
    title, *rest = cells[0].source.split("\n")
    rest = [ln for ln in rest if not ln.startswith(BADGE_PREFIX)]
    while rest and not rest[0].strip():
        rest.pop(0)
    cells[0].source = "\n".join([title, "", badge(relpath)] + ([""] + rest if rest else []))
    setup = nbformat.v4.new_code_cell(setup_cell_source())
    setup.metadata["tags"] = ["setup"]
    if len(cells) > 1 and cells[1].cell_type == "code" and "setup" in cells[1].metadata.get("tags", []):
        setup.outputs = []
        cells[1] = setup
    else:
        cells.insert(1, setup)
    n_code = 0
    for cell in cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            n_code += 1
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
    nb.metadata = {
        "colab": {"name": Path(relpath).name, "provenance": []},
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """Formatted JSON like tensorflow/docs' nbfmt: indent 1, sorted keys, trailing newline, and
    every cell source and multi-line output stored as a list of lines (so a diff shows lines)."""
    from nbformat.v4.rwbase import split_lines

    return json.dumps(split_lines(copy.deepcopy(nb)), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def refresh_checked(path: Path) -> None:
    """Execute ``path`` in the smoke profile and store the outputs of its checked cells."""
    import os

    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_PROFILE"] = "smoke"
    executed = nbformat.read(path, as_version=4)
    NotebookClient(executed, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell, done in zip(nb.cells, executed.cells, strict=False):
        if cell.cell_type == "code" and is_checked(cell):
            cell.outputs = done.outputs
    path.write_text(dumps(normalise(nb, path.relative_to(ROOT).as_posix())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    parser.add_argument("--refresh-checked", action="store_true", help="execute and store checked outputs")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = []
    for path in paths:
        if args.refresh_checked:
            refresh_checked(path)
            continue
        text = path.read_text()
        new = dumps(normalise(nbformat.reads(text, as_version=4), path.relative_to(ROOT).as_posix()))
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new)
    for path in stale:
        print(f"{'would reformat' if args.check else 'reformatted'} {path.relative_to(ROOT)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
