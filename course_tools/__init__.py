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
give kernels, what no notebook output may contain, and the versions and commit a report names.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

#: The checkout the tools work on (its ``notebooks/``, ``assignments/``, ``results/``, ``build/``).
ROOT = Path(__file__).resolve().parents[1]

#: The distributions a run report and the benchmark name with their versions.
REPORTED_PACKAGES = ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy")


def kernel_env(env: Mapping[str, str] | None = None, *, executed: bool = True, **extra: str) -> dict[str, str]:
    """The environment for a kernel or a child process: ``env`` (default ``os.environ``) with
    ``COURSE_DATA_DIR`` made absolute, ``COURSE_PROGRESS=epoch`` unless ``executed`` is False,
    plus ``extra``.

    Kernels run in the folder of their notebook (``notebooks/``, a temporary folder), so a
    relative data folder given on the command line would point elsewhere there. Every launcher
    (the course runner, JupyterLab, the grader, the test session) gives its children this. A
    notebook a program executes and stores (the runner, nbval, the website's pages) shows one
    line per training epoch (:func:`course_lib.setup.fit_verbose`); JupyterLab, where a person
    watches, passes ``executed=False`` and keeps Keras's live progress bar.

    >>> kernel_env({"COURSE_DATA_DIR": "data"})["COURSE_DATA_DIR"] == str(Path("data").resolve())
    True
    >>> "COURSE_DATA_DIR" in kernel_env({"COURSE_DATA_DIR": " "})
    False
    >>> kernel_env({})["COURSE_PROGRESS"], "COURSE_PROGRESS" in kernel_env({}, executed=False)
    ('epoch', False)
    """
    out = dict(os.environ if env is None else env)
    folder = out.pop("COURSE_DATA_DIR", "").strip()
    if folder:
        out["COURSE_DATA_DIR"] = str(Path(folder).expanduser().resolve())
    if executed:
        out["COURSE_PROGRESS"] = "epoch"
    out.update(extra)
    return out


#: Log lines no notebook output may contain: TensorFlow's and absl's C++ logs (``I0000 00:00:...
#: file.cc:52] ...``, at start-up, CUDA probing on a machine without a GPU, tf.data graph notes),
#: the oneDNN and CPU-instruction notes, and tf.function retracing warnings (a sign of a function
#: traced again for every call). The setup cell sets ``TF_CPP_MIN_LOG_LEVEL`` to keep the C++
#: logs out; retracing is fixed where it happens.
LOG_NOISE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.\-]+:\d+\]"  # I0000 00:00:1796.1  6462 cuda_platform.cc:52]
    r"|absl::InitializeLog|\bcuInit\b|\bcudart|cuda drivers|CUDA error|Unable to register cu"
    r"|[Rr]etracing|oneDNN|rebuild TensorFlow with the appropriate compiler flags")


def log_noise(outputs: Iterable[Mapping]) -> list[str]:
    """The lines of a cell's outputs (nbformat output dicts) that are log noise (:data:`LOG_NOISE`),
    and any line on stderr that mentions CUDA.

    >>> log_noise([{"output_type": "stream", "name": "stdout", "text": "Epoch 1/2\\n✓ acc = 0.9\\n"}])
    []
    >>> log_noise([{"output_type": "stream", "name": "stderr",
    ...             "text": "E0000 00:00:1796544392.506444   15723 cuda_platform.cc:52] failed call to cuInit\\n"}])
    ['E0000 00:00:1796544392.506444   15723 cuda_platform.cc:52] failed call to cuInit']
    """
    found = []
    for out in outputs:
        text = out.get("text", "") if out.get("output_type") == "stream" else out.get("data", {}).get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        for line in text.splitlines():
            if LOG_NOISE.search(line) or (out.get("name") == "stderr" and "cuda" in line.lower()):
                found.append(line)
    return found


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
