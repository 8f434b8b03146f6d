"""course_tools: the programs that run the course, for its maintainers and instructors.

Learners never need this package: notebooks and assignments import :mod:`course_lib` only, and
this package imports ``course_lib``, never the other way round. Each tool is a module run with
``python -m course_tools.<tool>`` (the Makefile's targets do this) from a checkout of the
repository installed with ``pip install -e .``:

- ``run_course``: execute notebooks in fresh kernels and write the run report (``make course``).
- ``nbfmt``: format notebooks and assignments, and generate their setup cell (``make format``).
- ``lab``: JupyterLab on ``notebooks/`` with the course kernel (``make lab``).
- ``benchmark``: training speed of Keras on each backend against plain JAX and PyTorch loops.
- ``results_table``: README's table of results, made from the reports under ``results/``.
- ``offline``: run the course on a GPU host without internet access (``make offline-bundle``).
- ``grading``: grade assignment submissions, student code in a sandbox (``make grade``).

This module holds what several tools share: the checkout they work on, the environment they
give kernels, and the versions and commit a report names.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

#: The checkout the tools work on (its ``notebooks/``, ``assignments/``, ``results/``, ``build/``).
ROOT = Path(__file__).resolve().parents[1]

#: The distributions a run report and the benchmark name with their versions.
REPORTED_PACKAGES = ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy")


def kernel_env(env: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment for a kernel or a child process: ``env`` (default ``os.environ``) with
    ``COURSE_DATA_DIR`` made absolute, plus ``extra``.

    Kernels run in the folder of their notebook (``notebooks/``, a temporary folder), so a
    relative data folder given on the command line would point elsewhere there. Every launcher
    (the course runner, JupyterLab, the grader, the test session) gives its children this.

    >>> kernel_env({"COURSE_DATA_DIR": "data"})["COURSE_DATA_DIR"] == str(Path("data").resolve())
    True
    >>> "COURSE_DATA_DIR" in kernel_env({"COURSE_DATA_DIR": " "})
    False
    """
    out = dict(os.environ if env is None else env)
    folder = out.pop("COURSE_DATA_DIR", "").strip()
    if folder:
        out["COURSE_DATA_DIR"] = str(Path(folder).expanduser().resolve())
    out.update(extra)
    return out


def installed_versions(names: tuple[str, ...] = REPORTED_PACKAGES) -> dict[str, str]:
    """``{distribution: version}`` for those of ``names`` installed in this environment."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def git_commit(root: Path = ROOT) -> str:
    """The commit the checkout is at, ``+dirty`` with uncommitted changes to tracked files.

    ``COURSE_COMMIT``, where set, wins: a copied tree (an offline bundle's) may hold a stale git
    state or none. ``unknown`` without git.
    """
    if os.environ.get("COURSE_COMMIT", "").strip():
        return os.environ["COURSE_COMMIT"].strip()
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
