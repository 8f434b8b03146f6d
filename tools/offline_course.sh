#!/usr/bin/env bash
# Run the course on a GPU host without internet access, from the bundle that
# tools/offline_bundle.sh built into offline/ (copy the repository with offline/ to the host).
#
#   tools/offline_course.sh all        install the bundle, run every notebook in the full profile
#                                      on Keras's JAX backend, then the training-speed benchmark
#   tools/offline_course.sh install    only the install (and a check of what the run will use)
#   tools/offline_course.sh course [NN ...]      only the notebooks (those starting so)
#   tools/offline_course.sh benchmark [args...]  only tools/benchmark.py
#
# It installs into the Python environment it is run with (PYTHON, default python3): activate the
# host's environment that has JAX for CUDA first (a cluster module, a conda environment). Only what
# that environment lacks is installed, from offline/wheels, never from the internet; where the
# environment cannot be written, the wheels go into a separate folder on PYTHONPATH.
#
# Reports: <results>/report.{md,json} (the course, from tools/run_course.py) and
# benchmark.{md,json}, with the log in <results>/offline_course.log; <results> is RESULTS_DIR
# (default offline/results). Copy them into results/ unedited: nothing there is written by hand.
#
# Settings (environment): KERAS_BACKEND (default jax), COURSE_PROFILE (default full), JOBS
# (notebooks at a time, default 1; with more, JAX does not take most of the GPU's memory up front
# in each kernel), COURSE_TIME_LIMIT / BENCHMARK_TIME_LIMIT (seconds; at the limit the run stops
# and still writes its report, with what did not finish marked so: for a batch job's time limit),
# COURSE_NOTEBOOKS (for `all`: notebooks to run, in this order, e.g. "12 04 08"; default all),
# BENCHMARK_ARGS (extra arguments for tools/benchmark.py), WORK_DIR (default /tmp/course-offline).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
WORK_DIR=${WORK_DIR:-/tmp/course-offline}
RESULTS_DIR=${RESULTS_DIR:-$ROOT/offline/results}
JOBS=${JOBS:-1}
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export COURSE_PROFILE=${COURSE_PROFILE:-full}
export COURSE_DATA_DIR=$ROOT/offline/data
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}   # course_lib, without building it
export PYTHONUNBUFFERED=1
[ -f offline/COMMIT ] && export COURSE_COMMIT=${COURSE_COMMIT:-$(cat offline/COMMIT)}  # a copy without git
if [ "$JOBS" -gt 1 ]; then
    export XLA_PYTHON_CLIENT_PREALLOCATE=false   # several JAX kernels share one GPU
fi
mkdir -p "$WORK_DIR" "$RESULTS_DIR"
LOG=$RESULTS_DIR/offline_course.log

die() { echo "offline_course: $*" >&2; exit 1; }

install() {
    [ -d offline/wheels ] && [ -d offline/data ] ||
        die "offline/wheels or offline/data is missing: build them with tools/offline_bundle.sh where pip reaches PyPI"
    "$PY" -c "import $KERAS_BACKEND" 2>/dev/null ||
        die "$PY cannot import $KERAS_BACKEND: activate the host's environment that has it (or set PYTHON)"
    if ! "$PY" -m pip install --quiet --no-index --no-cache-dir --disable-pip-version-check \
            --find-links offline/wheels keras nbclient nbconvert nbformat ipykernel nbval pooch; then
        echo "offline_course: installing into $PY's environment failed; installing into $WORK_DIR/site instead"
        "$PY" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$WORK_DIR/site" offline/wheels/*.whl || die "could not install offline/wheels"
        export PYTHONPATH=$WORK_DIR/site:$PYTHONPATH JUPYTER_PATH=$WORK_DIR/site/share/jupyter
    fi
    "$PY" - <<'PYEOF' || die "the install is incomplete (see above)"
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
PYEOF
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    fi
}

limited() {  # limited SECONDS command...: SIGTERM at the limit (the tools then write their reports)
    local limit=$1; shift
    if [ -n "$limit" ]; then timeout --signal=TERM --kill-after=30 "$limit" "$@"; else "$@"; fi
}

course() {
    echo "== course: profile $COURSE_PROFILE, backend $KERAS_BACKEND, $JOBS at a time, $(date -u +%FT%TZ)"
    limited "${COURSE_TIME_LIMIT:-}" "$PY" tools/run_course.py "$@" --jobs "$JOBS" --out "$WORK_DIR/course"
    local rc=$?
    cp "$WORK_DIR/course/report.md" "$WORK_DIR/course/report.json" "$RESULTS_DIR/" 2>/dev/null
    echo "== course done (exit $rc), $(date -u +%FT%TZ)"
    return $rc
}

benchmark() {
    echo "== benchmark, $(date -u +%FT%TZ)"
    # shellcheck disable=SC2086
    limited "${BENCHMARK_TIME_LIMIT:-}" "$PY" tools/benchmark.py --out "$WORK_DIR/benchmark" ${BENCHMARK_ARGS:-} "$@"
    local rc=$?
    cp "$WORK_DIR/benchmark/benchmark.md" "$WORK_DIR/benchmark/benchmark.json" "$RESULTS_DIR/" 2>/dev/null
    echo "== benchmark done (exit $rc), $(date -u +%FT%TZ)"
    return $rc
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case "$cmd" in
    install) install ;;
    course) install && course "$@" ;;
    benchmark) install && benchmark "$@" ;;
    # shellcheck disable=SC2086
    all) install && { course ${COURSE_NOTEBOOKS:-}; c=$?; benchmark; b=$?; exit $((c || b)); } ;;
    *) die "unknown command '$cmd': use all, install, course [NN ...] or benchmark [args...]" ;;
esac 2>&1 | tee -a "$LOG"
exit "${PIPESTATUS[0]}"
