#!/usr/bin/env bash
# Build the two git-ignored folders that travel to the lent GPU machine for tools/gpu_run.sh:
#
#   wheels/  Python 3.12 wheels of what the course needs and the GPU image lacks (Keras and its
#            namex/optree, nbclient, nbconvert, nbformat, ipykernel, nbval, pooch and their
#            dependencies), at the versions in constraints.txt.
#   data/    the course's data files, copied from the offline mirror (COURSE_DATA_DIR).
#
# and check that they fit what the device tool carries: 64 MiB for the working tree (tracked and
# untracked-not-ignored files) plus the carried folders. Run it here, where pip reaches PyPI:
#
#   COURSE_DATA_DIR=../shared/datasets tools/prepare_gpu_carry.sh
#
# The image's packages (KINDS.md of the device tool, read 2026-11-17) are dropped from wheels/.
# If the install on the device then says a package is missing or too old, take its name out of
# ON_IMAGE below and run this again.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
DATA_SRC=${COURSE_DATA_DIR:-../shared/datasets}
LIMIT_MIB=64
REQUIREMENTS=(keras nbclient nbconvert nbformat ipykernel nbval pooch)
ON_IMAGE="absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch
build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings
cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils
execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet
httpcore httpx huggingface-hub humanize hypothesis idna imageio iniconfig interface-meta jax
jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning
lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib
mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro onnx onnx-ir onnxruntime onnxscript opencv-python-headless
optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow
pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout
pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors
scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools
shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch
torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer
typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp"

[ -d "$DATA_SRC" ] || { echo "no data mirror at $DATA_SRC: set COURSE_DATA_DIR" >&2; exit 2; }
rm -rf wheels data
mkdir -p wheels data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "downloading Python 3.12 wheels for: ${REQUIREMENTS[*]}"
"$PY" -m pip download --quiet --disable-pip-version-check --dest "$tmp" --only-binary=:all: \
    --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -c constraints.txt "${REQUIREMENTS[@]}" 2> >(grep -v "is ignored" >&2)

image_list=$(tr -s ' ' '\n' <<< "$ON_IMAGE")
kept=0 dropped=0
for whl in "$tmp"/*.whl; do
    name=$(basename "$whl" | cut -d- -f1 | tr '[:upper:]_.' '[:lower:]--')
    if grep -qxF -- "$name" <<< "$image_list"; then
        dropped=$((dropped + 1))
    else
        cp "$whl" wheels/
        kept=$((kept + 1))
    fi
done
echo "wheels/: $kept wheels kept, $dropped dropped (already on the GPU image)"

cp "$DATA_SRC"/*.txt "$DATA_SRC"/*.csv "$DATA_SRC"/*.npz "$DATA_SRC"/SHA256SUMS data/
echo "data/: $(ls data | wc -l) files from $DATA_SRC"

# What travels: the working tree (tracked + untracked-not-ignored files) and the carried folders.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s -- 2>/dev/null \
             | awk '{s += $1} END {print s + 0}')
wheel_bytes=$(du -sb wheels | cut -f1)
data_bytes=$(du -sb data | cut -f1)
total=$((tree_bytes + wheel_bytes + data_bytes))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "carried: working tree $(mib "$tree_bytes") + wheels/ $(mib "$wheel_bytes") + data/ $(mib "$data_bytes")" \
     "= $(mib "$total") of $LIMIT_MIB MiB"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "too large for the device tool: carry less (drop a data file no notebook uses)" >&2
    exit 1
fi
echo 'now: device run with carry ["wheels", "data"] and command "tools/gpu_run.sh all" (see tools/gpu_run.sh)'
