"""No notebook output holds log noise: TensorFlow/absl C++ logs, CUDA probing, oneDNN notes,
tf.function retracing warnings. The setup cell keeps TensorFlow's logs out; the repository's
conftest.py fails any nbval cell whose output has such a line (so ``make test`` checks every
notebook as it runs it)."""

import os
import subprocess
import sys

import nbformat
import pytest

from course_tools import LOG_NOISE, ROOT, kernel_env, log_noise, nbfmt

# Lines this TensorFlow printed into notebook outputs before the setup cell silenced them.
SEEN = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796544380.798814   15723 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders.",
    "I0000 00:00:1796544380.799928   15723 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "I0000 00:00:1796544380.933787   15723 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.",
    "E0000 00:00:1796544392.506444   15723 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)",
    "E0000 00:00:1796544394.658993   15723 node_def_util.cc:682] NodeDef mentions attribute use_unbounded_threadpool "
    "which is not in the op definition",
    "WARNING:tensorflow:5 out of the last 5 calls to <function <lambda> at 0x7f46eeb013a0> triggered tf.function "
    "retracing. Tracing is expensive and the excessive number of tracings could be due to (1) ...",
]
# Lines a lesson prints that are not noise.
CLEAN = ["Epoch 1/2", "4/4 - 1s - 178ms/step - loss: 0.0000e+00", "✓ cnn accuracy = 0.9465", "E = 12.5",
         "python: 3.11.7  keras: 3.15.1  backend: tensorflow  profile: learn  device: GPU: NVIDIA H100 80GB HBM3",
         "I0 = 3.2 (initial value)", "W1000 parameters: 25,088"]


@pytest.mark.parametrize("line", SEEN)
def test_noise_is_recognised(line):
    assert LOG_NOISE.search(line) or "cuda" in line.lower()
    assert log_noise([{"output_type": "stream", "name": "stderr", "text": f"x = 1\n{line}\n"}]) == [line]


def test_lessons_lines_are_not_noise():
    out = [{"output_type": "stream", "name": "stdout", "text": "\n".join(CLEAN) + "\n"},
           {"output_type": "execute_result", "data": {"text/plain": "(5, 1)"}, "metadata": {}, "execution_count": 1}]
    assert log_noise(out) == []
    assert log_noise([{"output_type": "execute_result", "data": {"text/plain": SEEN[5]}}]) == [SEEN[5]]


def test_the_setup_cell_keeps_tensorflow_logs_out_and_retracing_is_caught(data_dir):
    """The real setup cell, then what printed C++ logs here before (importing TensorFlow, probing
    CUDA, a tf.data map, a fit), then a cell that retraces a tf.function: only that one is noise."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(nbfmt.setup_cell_source()),
                nbformat.v4.new_code_cell(
                    "import numpy as np, keras, tensorflow as tf\n"
                    "from course_lib.setup import fit_verbose\n"
                    "x = np.zeros((64, 3), 'float32')\n"
                    "ds = tf.data.Dataset.from_tensor_slices((x, x[:, 0])).map(lambda a, b: (a, b)).batch(16)\n"
                    "m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
                    "m.compile('sgd', 'mse')\n"
                    "m.fit(ds, epochs=2, verbose=fit_verbose())\n"
                    "m.predict(x, verbose=0).shape"),
                nbformat.v4.new_code_cell("for i in range(7):\n    tf.function(lambda t: t + 1)(tf.ones(i + 1))")]
    env = {k: v for k, v in kernel_env(COURSE_PROFILE="smoke").items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
                   ).execute(env=env)
    noise = [log_noise(cell.outputs) for cell in nb.cells]
    assert noise[0] == noise[1] == [], noise[:2]
    assert any("retracing" in line for line in noise[2]), nb.cells[2].outputs
    assert "Epoch 2/2" in "".join(o.get("text", "") for o in nb.cells[1].outputs)  # one line per epoch


def test_nbval_fails_a_cell_that_prints_log_noise(tmp_path):
    """The repository's conftest.py (loaded as a plugin here, with the notebook outside the
    repository) turns noise in an nbval cell's output into a failure; a clean cell passes."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('clean')"),
                nbformat.v4.new_code_cell(f"import sys\nprint({SEEN[5]!r}, file=sys.stderr)")]
    nbformat.write(nb, tmp_path / "noisy.ipynb")
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "conftest", "-p", "no:cacheprovider",
                           "-q", "noisy.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "1 failed, 1 passed" in proc.stdout and "Cell output holds log noise a learner should not see" in proc.stdout, proc.stdout[-3000:]
    assert "cuda_platform.cc:52] failed call to cuInit" in proc.stdout
