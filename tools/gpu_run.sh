#!/usr/bin/env bash
# The course on the lent GPU machine: Python 3.12 with JAX and PyTorch for CUDA, no TensorFlow,
# no internet. Produces the full-profile course report and the benchmark table for results/.
#
# 1. Here, where pip reaches PyPI:   COURSE_DATA_DIR=../shared/datasets tools/prepare_gpu_carry.sh
#    (builds the git-ignored wheels/ and data/ and checks that everything carried fits 64 MiB).
# 2. With the device tool, each call carrying ["wheels", "data"]:
#      tools/gpu_run.sh all            install, course (full profile, JAX), benchmark, in one call;
#                                      only if it all fits one call's 10 minutes. Otherwise:
#      tools/gpu_run.sh start          install, then run course + benchmark in the background
#      tools/gpu_run.sh wait 560       follow the log up to 560 s; call it again (within the 30 s
#                                      the machine stays warm) until it prints "DONE"
#    Either way the reports land in $OUT/results/ (report.md, report.json, benchmark.md,
#    benchmark.json) with the log in $OUT/gpu_run.log.
# 3. Here: copy those four files from the tool's files_at folder into results/ and commit them.
#    Nothing in results/ is written by hand.
#
# Other commands: install | course [NN ...] (only notebooks starting so) | benchmark [args...].
# Environment: PYTHON (default python3, the image's, which holds torch and jax), KERAS_BACKEND
# (default jax), COURSE_PROFILE (default full), RUN_DIR (default /tmp/course-gpu-run),
# BENCHMARK_ARGS (extra arguments for tools/benchmark.py, e.g. "--epochs 2"), COURSE_NOTEBOOKS
# (for all/start: only notebooks starting so, e.g. "00 01 02"; default all).
# A CPU rehearsal (checks the recipe, writes nothing for results/): PYTHON=<a python 3.12 with jax>
# COURSE_PROFILE=smoke BENCHMARK_ARGS="--samples 2048 --epochs 1" tools/gpu_run.sh all
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
RUN_DIR=${RUN_DIR:-/tmp/course-gpu-run}
OUT_DIR=${OUT:-$RUN_DIR/out}   # the device tool's $OUT comes back to the caller
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export COURSE_PROFILE=${COURSE_PROFILE:-full}
export COURSE_DATA_DIR=$ROOT/data
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}   # course_lib, without building it
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
mkdir -p "$RUN_DIR"

die() { echo "gpu_run: $*" >&2; exit 1; }

install() {
    [ -d wheels ] && [ -d data ] || die "wheels/ or data/ is missing: run tools/prepare_gpu_carry.sh here and carry both"
    "$PY" -c "import $KERAS_BACKEND" || die "$PY has no $KERAS_BACKEND: this script is for the GPU image"
    # Into the image's own environment, so that pip keeps the image's numpy, jax, torch... and
    # takes only what is missing from wheels/. Where that environment cannot be written, fall
    # back to a separate folder on PYTHONPATH.
    if ! "$PY" -m pip install --quiet --no-index --no-cache-dir --disable-pip-version-check \
            --find-links wheels keras nbclient nbconvert nbformat ipykernel nbval pooch; then
        echo "gpu_run: installing into the image's environment failed; trying --target $RUN_DIR/site"
        "$PY" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$RUN_DIR/site" wheels/*.whl || die "could not install the carried wheels"
        export PYTHONPATH=$RUN_DIR/site:$PYTHONPATH JUPYTER_PATH=$RUN_DIR/site/share/jupyter  # nbconvert's templates
    fi
    "$PY" - <<'EOF' || die "the install is incomplete (see above)"
import importlib.metadata as md, importlib.util, platform
import keras, nbclient, nbconvert, ipykernel, pooch, course_lib  # noqa: F401
from course_lib.setup import device_description
device = device_description()
found = {d: md.version(d) for d in ("keras", "jax", "jaxlib", "torch", "numpy") if importlib.util.find_spec(d.replace("lib", ""))}
print("python", platform.python_version(), "| backend", keras.backend.backend(), "|", device, "|", found)
if not device.startswith("GPU"):
    print("WARNING: Keras sees no GPU: what this run writes is not for results/")
EOF
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    fi
}

course() {
    echo "== course: profile $COURSE_PROFILE, backend $KERAS_BACKEND, $(date -u +%FT%TZ)"
    "$PY" tools/run_course.py "$@" --out "$RUN_DIR/course"
    local rc=$?
    collect "$RUN_DIR/course/report.md" "$RUN_DIR/course/report.json"
    return $rc
}

benchmark() {
    echo "== benchmark, $(date -u +%FT%TZ)"
    # shellcheck disable=SC2086
    "$PY" tools/benchmark.py --out "$RUN_DIR/benchmark" ${BENCHMARK_ARGS:-} "$@"
    local rc=$?
    collect "$RUN_DIR/benchmark/benchmark.md" "$RUN_DIR/benchmark/benchmark.json"
    return $rc
}

collect() {  # copy reports into $OUT/results (never into this tree's results/: see step 3)
    mkdir -p "$OUT_DIR/results"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$OUT_DIR/results/"
    done
    [ -f "$RUN_DIR/log" ] && cp "$RUN_DIR/log" "$OUT_DIR/gpu_run.log"
    return 0
}

background() {
    rm -f "$RUN_DIR/DONE"
    # shellcheck disable=SC2086
    course ${COURSE_NOTEBOOKS:-}; local c=$?
    benchmark; local b=$?
    echo "DONE course exit $c, benchmark exit $b, $(date -u +%FT%TZ)" | tee "$RUN_DIR/DONE"
}

wait_for() {
    local limit=${1:-560} start=$SECONDS shown=0
    [ -f "$RUN_DIR/log" ] || die "nothing started: run 'tools/gpu_run.sh start' first (on this warm machine)"
    while :; do
        local lines
        lines=$(wc -l < "$RUN_DIR/log")
        [ "$lines" -gt "$shown" ] && sed -n "$((shown + 1)),${lines}p" "$RUN_DIR/log" && shown=$lines
        if [ -f "$RUN_DIR/DONE" ]; then
            collect "$RUN_DIR/course/report.md" "$RUN_DIR/course/report.json" \
                    "$RUN_DIR/benchmark/benchmark.md" "$RUN_DIR/benchmark/benchmark.json"
            cat "$RUN_DIR/DONE"
            return 0
        fi
        if [ $((SECONDS - start)) -ge "$limit" ]; then
            collect "$RUN_DIR/course/report.md" "$RUN_DIR/course/report.json"
            echo "still running after ${limit} s: call 'tools/gpu_run.sh wait' again within 30 s"
            return 3
        fi
        sleep 5
    done
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case "$cmd" in
    install) install ;;
    course) course "$@" ;;
    benchmark) benchmark "$@" ;;
    # shellcheck disable=SC2086
    all) install && { course ${COURSE_NOTEBOOKS:-}; c=$?; benchmark; b=$?; exit $((c || b)); } ;;
    start)
        install || exit 1
        setsid nohup "$ROOT/tools/gpu_run.sh" background > "$RUN_DIR/log" 2>&1 < /dev/null &
        echo "started in the background (log $RUN_DIR/log); now: tools/gpu_run.sh wait 560" ;;
    background) background ;;
    wait) wait_for "$@" ;;
    *) die "unknown command '$cmd': use all, start, wait [seconds], install, course [NN ...] or benchmark [args]" ;;
esac
