"""Run the course on a GPU host without internet access (a university cluster's compute node, say).

Where pip reaches PyPI, build a bundle; copy the repository with it to the host; run it there:

    COURSE_DATA_DIR=/path/to/datasets python -m course_tools.offline bundle    # make offline-bundle
    python -m course_tools.offline all                                         # make offline-course, on the host

``bundle`` writes the git-ignored folder ``offline/``:

- ``offline/wheels/``: wheels, for the host's Python (``PY_VERSION``, default 3.12) and platform
  (``PLATFORMS``, default Linux x86_64 manylinux), of what the course needs to run its notebooks
  there: Keras, nbclient, nbconvert, nbformat, ipykernel, nbval, course_lib's own requirements,
  and everything they need, at the versions of ``constraints.txt``. The deep-learning framework
  itself (JAX with CUDA) is taken from the host, which has a CUDA build matching its driver (a
  module or a prepared environment); it is not in the bundle. ``HOST_PACKAGES`` (optional): the
  output of ``python -m pip list --format=freeze`` in the host's environment; the packages named
  there are left out (the host's versions are then used), which makes the bundle smaller.
- ``offline/data/``: the course's data files, copied from ``COURSE_DATA_DIR``, each checked
  against the registry (:mod:`course_lib.data`).
- ``offline/COMMIT``: the commit the bundle was made at (the reports name it).

On the host, activate the environment that has JAX for CUDA first (a cluster module, a conda
environment), and run this module with its Python from the repository's root:

- ``install``: install what that environment lacks, from ``offline/wheels`` only (where the
  environment cannot be written, into ``WORK_DIR/site``, put on the children's ``PYTHONPATH``),
  then check the imports and say which device Keras sees;
- ``course [NN ...]``: install, then run the notebooks (those whose names start so; default
  ``COURSE_NOTEBOOKS`` or all) with :mod:`course_tools.run_course`;
- ``benchmark [args ...]``: install, then :mod:`course_tools.benchmark` (``BENCHMARK_ARGS`` too);
- ``all`` (the default): install, the course, then the benchmark.

It leaves ``report.{md,json}`` (and ``metrics/``, what each notebook checked), ``benchmark.{md,json}``
and the log ``offline_course.log`` in ``RESULTS_DIR`` (default ``offline/results``). Copy them into
``results/<date>_<device>_<backend>_runN/`` unedited: nothing there is written by hand.

Settings (environment): ``KERAS_BACKEND`` (default jax), ``COURSE_PROFILE`` (default full),
``JOBS`` (notebooks at a time, default 1; with more, JAX does not take most of the GPU's memory up
front in each kernel), ``COURSE_TIME_LIMIT`` / ``BENCHMARK_TIME_LIMIT`` (seconds; at the limit the
run is stopped with SIGTERM and still writes its report, with what did not finish marked so: for a
batch job's time limit), ``COURSE_NOTEBOOKS`` (for ``all``: notebooks to run, in this order, e.g.
``"12 04 08"``), ``BENCHMARK_ARGS`` (extra arguments for the benchmark), ``WORK_DIR`` (default
``/tmp/course-offline``), ``RESULTS_DIR``, ``COURSE_COMMIT`` (default: ``offline/COMMIT``).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from course_tools import ROOT, git_commit

OFFLINE = ROOT / "offline"
DEFAULT_PLATFORMS = ("manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 "
                     "manylinux1_x86_64")
#: What the bundle holds wheels of (with everything they need), besides the host's framework.
REQUIREMENTS = ("keras", "nbclient", "nbconvert", "nbformat", "ipykernel", "nbval", "pooch", "numpy", "pandas",
                "matplotlib", "scikit-learn", "statsmodels", "tqdm")
#: What the host's environment must have to run the course; installed from the bundle if missing.
RUN_REQUIREMENTS = ("keras", "nbclient", "nbconvert", "nbformat", "ipykernel", "nbval", "pooch")
#: Checks, in the host's environment, that the install is complete and says what the run will use.
INSTALL_CHECK = """
import importlib.metadata as md, platform
import keras, nbclient, nbconvert, ipykernel, pooch, course_lib  # noqa: F401
from course_lib.setup import device_description
device = device_description()
found = {}
for dist in ("keras", "jax", "jaxlib", "torch", "numpy"):
    try:
        found[dist] = md.version(dist)
    except md.PackageNotFoundError:
        pass
print("python", platform.python_version(), "| backend", keras.backend.backend(), "|", device, "|", found)
if not device.startswith("GPU"):
    print("WARNING: Keras sees no GPU here; this run's figures are CPU figures")
"""


class OfflineError(RuntimeError):
    """A missing bundle, setting or file: the message says what to do."""


def _normalise(name: str) -> str:
    """A distribution name as pip compares them: lower case, ``-`` for ``_`` and ``.``."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


def host_packages(freeze: str) -> set[str]:
    """The distribution names in the output of ``pip list --format=freeze``.

    >>> sorted(host_packages("# a comment\\nJax==0.4.30\\nnvidia_cudnn_cu12==9.1\\nml-dtypes @ file:///x\\n"))
    ['jax', 'ml-dtypes', 'nvidia-cudnn-cu12']
    """
    names = set()
    for line in freeze.splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(_normalise(line.split("==")[0].split(" @ ")[0].split(" ")[0]))
    return names


def wheel_name(path: Path) -> str:
    """The distribution a wheel file is of, normalised: ``Keras-3.15.1-py3-none-any.whl`` -> ``keras``."""
    return _normalise(path.name.split("-")[0])


def copy_data(source: Path, target: Path) -> int:
    """Copy every registry file from ``source`` to ``target``, each checked against the registry
    first (bytes, or MNIST's arrays); return how many. Raises :class:`course_lib.data.DataError`
    for a missing or wrong file, naming it and where to get it."""
    from course_lib import data

    target.mkdir(parents=True, exist_ok=True)
    for d in data.REGISTRY.values():
        path = source / d.filename
        if not path.is_file():
            raise data.DataMissingError(f"{path} is missing: download it from {d.url} (datasets/{d.name}.md)")
        data.verify(path, d.name)
        shutil.copy2(path, target / d.filename)
    return len(data.REGISTRY)


def bundle(env: dict[str, str]) -> int:
    """Build ``offline/`` (see the module docstring); run where pip reaches PyPI."""
    folder = env.get("COURSE_DATA_DIR", "").strip()
    if not folder:
        raise OfflineError("set COURSE_DATA_DIR to a folder holding the course's data files "
                           "(datasets/README.md lists them with their upstream URLs)")
    source = Path(folder).expanduser().resolve()
    if not source.is_dir():
        raise OfflineError(f"COURSE_DATA_DIR={folder} is not a folder")
    host = set()
    if env.get("HOST_PACKAGES"):
        freeze = Path(env["HOST_PACKAGES"])
        if not freeze.is_file():
            raise OfflineError(f"HOST_PACKAGES={freeze} is not a file (expected: pip list --format=freeze "
                               "from the host)")
        host = host_packages(freeze.read_text())
    py_version = env.get("PY_VERSION", "3.12")
    platforms = env.get("PLATFORMS", DEFAULT_PLATFORMS).split()
    for sub in ("wheels", "data"):
        shutil.rmtree(OFFLINE / sub, ignore_errors=True)
    (OFFLINE / "wheels").mkdir(parents=True)
    print(f"downloading Python {py_version} wheels ({' '.join(platforms)}) for: {' '.join(REQUIREMENTS)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        download = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                   "--dest", tmp, "--only-binary=:all:", "--python-version", py_version,
                                   "--implementation", "cp", *[a for p in platforms for a in ("--platform", p)],
                                   "-c", str(ROOT / "constraints.txt"), *REQUIREMENTS])
        if download.returncode:
            raise OfflineError("pip download failed (see above): run this where pip reaches PyPI")
        wheels = sorted(Path(tmp).glob("*.whl"))
        kept = [w for w in wheels if wheel_name(w) not in host]
        for wheel in kept:
            shutil.copy2(wheel, OFFLINE / "wheels" / wheel.name)
    left = f", {len(wheels) - len(kept)} left out (the host has them)" if host else ""
    print(f"offline/wheels: {len(kept)} wheels{left}")
    from course_lib.data import DataError

    try:
        n = copy_data(source, OFFLINE / "data")
    except DataError as err:
        raise OfflineError(str(err)) from None
    print(f"offline/data: {n} files from {source}, hashes checked")
    commit = git_commit()
    (OFFLINE / "COMMIT").write_text(commit + "\n")
    print(f"offline/COMMIT: {commit}")
    size = {sub: sum(f.stat().st_size for f in (OFFLINE / sub).iterdir()) / 2**20 for sub in ("wheels", "data")}
    print(f"bundle size: {size['wheels']:.0f} MiB wheels + {size['data']:.0f} MiB data")
    print("next: copy this repository with offline/ to the host and run `python -m course_tools.offline all` there")
    return 0


class Log:
    """Text written to the terminal and appended to the log file, like ``tee -a``."""

    def __init__(self, path: Path) -> None:
        self.file: BinaryIO = open(path, "ab")  # noqa: SIM115 (closed by close())

    def write(self, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        for stream in (sys.stdout.buffer, self.file):
            stream.write(raw)
            stream.flush()

    def close(self) -> None:
        self.file.close()


def run_logged(cmd: Sequence[str], env: dict[str, str], log: Log, limit_s: float | None = None) -> int:
    """Run ``cmd``, its output (stdout and stderr) to ``log``; return its exit code.

    With ``limit_s``, the command's process group gets SIGTERM at the limit (the course runner and
    the benchmark then write their reports), SIGKILL 30 s later, and the code is 124, as with
    ``timeout``. Ctrl-C stops it the same way."""
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def pump() -> None:
        while chunk := os.read(proc.stdout.fileno(), 4096):
            log.write(chunk)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    stopped = False
    try:
        proc.wait(timeout=limit_s)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        stopped = True
        for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        proc.wait()
    reader.join(timeout=10)
    return 124 if stopped else proc.returncode


def _limit(env: dict[str, str], name: str) -> float | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise OfflineError(f"{name}={value!r} is not a number of seconds") from None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HostRun:
    """The host's side: its settings, read once from the environment, and its three steps."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.work = Path(env.get("WORK_DIR", "/tmp/course-offline"))
        self.results = Path(env.get("RESULTS_DIR", str(OFFLINE / "results")))
        try:
            self.jobs = int(env.get("JOBS", "1"))
        except ValueError:
            raise OfflineError(f"JOBS={env['JOBS']!r} is not a whole number") from None
        self.course_limit = _limit(env, "COURSE_TIME_LIMIT")
        self.benchmark_limit = _limit(env, "BENCHMARK_TIME_LIMIT")
        e = self.env
        e.setdefault("KERAS_BACKEND", "jax")
        e.setdefault("COURSE_PROFILE", "full")
        e["COURSE_DATA_DIR"] = str(OFFLINE / "data")
        e["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])  # course_lib as is
        e["PYTHONUNBUFFERED"] = "1"
        if not e.get("COURSE_COMMIT") and (OFFLINE / "COMMIT").is_file():  # a copy without git
            e["COURSE_COMMIT"] = (OFFLINE / "COMMIT").read_text().strip()
        if self.jobs > 1:
            e["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"  # several JAX kernels share one GPU
        self.work.mkdir(parents=True, exist_ok=True)
        self.results.mkdir(parents=True, exist_ok=True)
        self.log = Log(self.results / "offline_course.log")

    def say(self, text: str) -> None:
        self.log.write(text + "\n")

    def install(self) -> int:
        if not (OFFLINE / "wheels").is_dir() or not (OFFLINE / "data").is_dir():
            raise OfflineError("offline/wheels or offline/data is missing: build them with "
                               "`python -m course_tools.offline bundle` where pip reaches PyPI")
        backend = self.env["KERAS_BACKEND"]
        if subprocess.run([sys.executable, "-c", f"import {backend}"], env=self.env, capture_output=True).returncode:
            raise OfflineError(f"{sys.executable} cannot import {backend}: activate the host's environment "
                               "that has it, and run this module with its Python")
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-cache-dir",
               "--disable-pip-version-check", "--find-links", str(OFFLINE / "wheels")]
        if run_logged([*pip, *RUN_REQUIREMENTS], self.env, self.log):
            site = self.work / "site"
            self.say(f"offline: installing into {sys.executable}'s environment failed; installing into {site} instead")
            code = run_logged([*pip, "--no-deps", "--no-compile", "--upgrade", "--target", str(site),
                               *map(str, sorted((OFFLINE / "wheels").glob("*.whl")))], self.env, self.log)
            if code:
                raise OfflineError("could not install offline/wheels (see the log above)")
            self.env["PYTHONPATH"] = os.pathsep.join([str(site), self.env["PYTHONPATH"]])
            self.env["JUPYTER_PATH"] = str(site / "share" / "jupyter")
        if run_logged([sys.executable, "-c", INSTALL_CHECK], self.env, self.log):
            raise OfflineError("the install is incomplete (see above)")
        if shutil.which("nvidia-smi"):
            run_logged(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                       self.env, self.log)
        return 0

    def _copy(self, folder: Path, names: Sequence[str]) -> None:
        for name in names:
            source = folder / name
            if source.is_dir():
                shutil.copytree(source, self.results / name, dirs_exist_ok=True)
            elif source.is_file():
                shutil.copy2(source, self.results / name)

    def course(self, only: Sequence[str]) -> int:
        e = self.env
        self.say(f"== course: profile {e['COURSE_PROFILE']}, backend {e['KERAS_BACKEND']}, {self.jobs} at a time, "
                 f"{_now()}")
        out = self.work / "course"
        code = run_logged([sys.executable, "-m", "course_tools.run_course", *only, "--jobs", str(self.jobs),
                           "--out", str(out)], e, self.log, self.course_limit)
        self._copy(out, ("report.md", "report.json", "metrics"))
        self.say(f"== course done (exit {code}), {_now()}")
        return code

    def benchmark(self, args: Sequence[str]) -> int:
        self.say(f"== benchmark, {_now()}")
        out = self.work / "benchmark"
        code = run_logged([sys.executable, "-m", "course_tools.benchmark", "--out", str(out),
                           *shlex.split(self.env.get("BENCHMARK_ARGS", "")), *args],
                          self.env, self.log, self.benchmark_limit)
        self._copy(out, ("benchmark.md", "benchmark.json"))
        self.say(f"== benchmark done (exit {code}), {_now()}")
        return code


COMMANDS = ("bundle", "install", "course", "benchmark", "all")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = (args[0], args[1:]) if args else ("all", [])
    try:
        if command not in COMMANDS:
            raise OfflineError(f"unknown command {command!r}: use {', '.join(COMMANDS)}")
        if command == "bundle":
            return bundle(dict(os.environ))
        host = HostRun(dict(os.environ))
        try:
            host.install()
            if command == "course":
                return host.course(rest)
            if command == "benchmark":
                return host.benchmark(rest)
            if command == "all":
                c = host.course(shlex.split(host.env.get("COURSE_NOTEBOOKS", "")))
                b = host.benchmark([])
                return 1 if (c or b) else 0
            return 0
        except OfflineError as err:
            host.say(f"offline: {err}")
            return 1
        finally:
            host.log.close()
    except OfflineError as err:
        print(f"offline: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
