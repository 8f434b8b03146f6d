#!/usr/bin/env bash
# Build an offline bundle for running the course on a GPU host without internet access (a
# university cluster's compute node, say), to be copied there and used by tools/offline_course.sh.
#
#   COURSE_DATA_DIR=/path/to/datasets tools/offline_bundle.sh
#   PY_VERSION=3.11 HOST_PACKAGES=host-freeze.txt COURSE_DATA_DIR=... tools/offline_bundle.sh
#
# Writes the git-ignored folder offline/:
#   offline/wheels/  wheels, for the host's Python (PY_VERSION, default 3.12) and platform
#                    (PLATFORMS, default Linux x86_64 manylinux), of what the course needs to run
#                    its notebooks there: Keras, nbclient, nbconvert, nbformat, ipykernel, nbval,
#                    course_lib's own requirements, and everything they need, at the versions of
#                    constraints.txt. The deep-learning framework itself (JAX with CUDA) is taken
#                    from the host, which has a CUDA build matching its driver (a module or a
#                    prepared environment); it is not in the bundle.
#   offline/data/    the course's data files, copied from COURSE_DATA_DIR and checked against
#                    the hashes in course_lib/data.py.
#   offline/COMMIT   the commit the bundle was made at (the reports name it).
#
# HOST_PACKAGES (optional): the output of `python -m pip list --format=freeze` in the host's
# environment. Packages named there are left out of the bundle, which makes it smaller; the host's
# versions are then used. Run this where pip reaches PyPI; it needs this repository's .venv (or
# PYTHON set to a Python with pip) and prints the bundle's size.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
PY_VERSION=${PY_VERSION:-3.12}
PLATFORMS=${PLATFORMS:-"manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64"}
REQUIREMENTS=(keras nbclient nbconvert nbformat ipykernel nbval pooch numpy pandas matplotlib scikit-learn
              statsmodels tqdm)

die() { echo "offline_bundle: $*" >&2; exit 2; }
[ -x "$PY" ] || command -v "$PY" >/dev/null || die "no Python at $PY: run 'make venv' first, or set PYTHON"
[ -n "${COURSE_DATA_DIR:-}" ] || die "set COURSE_DATA_DIR to a folder holding the course's data files (datasets/README.md lists them with their upstream URLs)"
[ -d "$COURSE_DATA_DIR" ] || die "COURSE_DATA_DIR=$COURSE_DATA_DIR is not a folder"
if [ -n "${HOST_PACKAGES:-}" ]; then
    [ -f "$HOST_PACKAGES" ] || die "HOST_PACKAGES=$HOST_PACKAGES is not a file (expected: pip list --format=freeze from the host)"
fi

rm -rf offline/wheels offline/data
mkdir -p offline/wheels offline/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

platform_args=()
for p in $PLATFORMS; do platform_args+=(--platform "$p"); done
echo "downloading Python $PY_VERSION wheels ($PLATFORMS) for: ${REQUIREMENTS[*]}"
"$PY" -m pip download --quiet --disable-pip-version-check --dest "$tmp" --only-binary=:all: \
    --python-version "$PY_VERSION" --implementation cp "${platform_args[@]}" \
    -c constraints.txt "${REQUIREMENTS[@]}"

normalise() { tr '[:upper:]_.' '[:lower:]--'; }
host=""
[ -n "${HOST_PACKAGES:-}" ] && host=$(grep -v '^#' "$HOST_PACKAGES" | cut -d= -f1 | cut -d' ' -f1 | normalise)
kept=0 left=0
for whl in "$tmp"/*.whl; do
    name=$(basename "$whl" | cut -d- -f1 | normalise)
    if [ -n "$host" ] && grep -qxF -- "$name" <<< "$host"; then
        left=$((left + 1))
    else
        cp "$whl" offline/wheels/
        kept=$((kept + 1))
    fi
done
echo "offline/wheels: $kept wheels${HOST_PACKAGES:+, $left left out (the host has them)}"

# The data files, each checked against the registry's hash (MNIST by its arrays).
PYTHONPATH=. "$PY" - "$COURSE_DATA_DIR" offline/data <<'PYEOF'
import shutil, sys
from pathlib import Path
from course_lib import data

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for d in data.REGISTRY.values():
    path = src / d.filename
    if not path.exists():
        sys.exit(f"offline_bundle: {path} is missing: download it from {d.url} (datasets/{d.name}.md)")
    if d.local_check == "sha256" and data.sha256(path) != d.sha256:
        sys.exit(f"offline_bundle: {path} has SHA-256 {data.sha256(path)}, expected {d.sha256}: "
                 f"download it again from {d.url}")
    shutil.copy2(path, dst / d.filename)
print(f"offline/data: {len(data.REGISTRY)} files from {src}, hashes checked")
PYEOF

# The commit the bundle was made at, for the reports of a copy without git.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit+dirty"
echo "$commit" > offline/COMMIT
echo "offline/COMMIT: $commit"
echo "bundle size: $(du -sh offline/wheels | cut -f1) wheels + $(du -sh offline/data | cut -f1) data"
echo "next: copy this repository with offline/ to the host and run tools/offline_course.sh there"
