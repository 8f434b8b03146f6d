"""Every pytest run of this repository (``make test``, nbval on a notebook, one test file): the
smoke profile unless ``COURSE_PROFILE`` says otherwise, kernels given the course's environment
(:func:`course_tools.kernel_env`: one line per epoch, an absolute data folder), and no notebook
cell that nbval runs may print log noise (:data:`course_tools.LOG_NOISE`)."""

import os

import pytest

from course_tools import kernel_env, log_noise

os.environ.setdefault("COURSE_PROFILE", "smoke")
# The kernels that nbval and the notebook tests start inherit this environment.
os.environ.update(kernel_env())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After an nbval cell ran (and matched its stored output, where it has one): fail it if its
    output holds TensorFlow/absl C++ log lines, CUDA probing or retracing warnings."""
    result = yield
    noise = log_noise(getattr(item, "test_outputs", None) or [])
    if noise:  # reported like nbval's own failures: the cell's number, its source, then the lines
        item.raise_cell_error("Cell output holds log noise a learner should not see",
                              "\n".join(line[:300] for line in noise[:10]))
    return result
