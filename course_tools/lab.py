"""JupyterLab on the lessons, with the course's kernel.

    python -m course_tools.lab                  # what `make lab` runs
    python -m course_tools.lab --port 8890      # further arguments go to `jupyter lab`

Opens JupyterLab at ``notebooks/``. Its kernels inherit this environment, with
``COURSE_DATA_DIR`` made absolute (:func:`course_tools.kernel_env`): the kernels run in
``notebooks/``. Run as root (in a container, say), it adds Jupyter's ``--allow-root``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from course_tools import ROOT, kernel_env


def command(extra: list[str]) -> list[str]:
    """The ``jupyter lab`` command line."""
    root = ["--allow-root"] if hasattr(os, "getuid") and os.getuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={ROOT / 'notebooks'}", *root, *extra]


def main(argv: list[str] | None = None) -> int:
    extra = sys.argv[1:] if argv is None else argv
    return subprocess.run(command(extra), env=kernel_env(executed=False)).returncode  # progress bars


if __name__ == "__main__":
    sys.exit(main())
