"""The notebook preamble: what the setup cell at the top of every notebook calls.

The cell (the same in every notebook) installs this package on Colab, picks the Keras backend
and the run profile, then calls :func:`setup`, which checks the versions and prints what the
notebook runs on. :func:`tensorflow_only` guards the few cells that need TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import tempfile
from collections.abc import Iterator

MIN_VERSIONS = {"keras": (3, 0), "numpy": (1, 26)}


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def gpu_name() -> str | None:
    """The name of the first GPU the Keras backend sees, or None on a CPU."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if not gpus:
                return None
            details = tf.config.experimental.get_device_details(gpus[0])
            return details.get("device_name", gpus[0].name)
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            return gpus[0].device_kind if gpus else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # a broken driver is reported as "no GPU", not a crash
        return None
    return None


def device_description() -> str:
    """``GPU: <name>`` or ``CPU: <processor> (<n> cores)``."""
    name = gpu_name()
    if name:
        return f"GPU: {name}"
    return f"CPU: {platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def use_float32_matmul() -> None:
    """Compute float32 matrix products and convolutions in float32 on a GPU, not in TF32.

    NVIDIA GPUs since Ampere (A100, H100, H200) let cuBLAS and cuDNN, and by default TensorFlow
    and JAX, multiply float32 matrices in TF32: inputs rounded to 10 mantissa bits, a relative
    error near 1e-3 instead of 1e-7. The lessons check their from-scratch computations against
    Keras to float32 precision, so the course turns TF32 off on every backend (its models are
    small: the speed it gives matters little). Call it before the first computation; on a CPU it
    changes nothing.
    """
    os.environ.setdefault("NVIDIA_TF32_OVERRIDE", "0")  # cuBLAS and cuDNN, read when they start
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")  # XLA's own GPU kernels too
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
    elif backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


@contextlib.contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Point file descriptor 2, where C and C++ libraries write their logs, at a temporary file
    while the block runs; if the block raises, show what was written there, then re-raise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            sys.stderr.write(caught.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_tensorflow_quietly() -> None:
    """On the TensorFlow backend, import TensorFlow without the log lines its C++ libraries print.

    ``TF_CPP_MIN_LOG_LEVEL=3`` (the setup cell sets it unless it is set) keeps TensorFlow's logs
    out once it runs, but not the lines its libraries print while they load, before they read the
    variable (absl's "All log messages before absl::InitializeLog()", oneDNN, CUDA probing): those
    go to a temporary file during the import. With ``TF_CPP_MIN_LOG_LEVEL=0`` set before the setup
    cell, nothing is hidden.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if (os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" or "tensorflow" in sys.modules
            or os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"):
        return
    with native_stderr_hidden():
        import tensorflow  # noqa: F401


def setup(verbose: bool = True) -> dict[str, str]:
    """Check versions, report backend, profile and device; return them as a dict.

    Raises ``ValueError`` for an unknown ``KERAS_BACKEND`` or ``COURSE_PROFILE``, and
    ``RuntimeError`` when Keras or NumPy is older than the course needs.
    """
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in ("tensorflow", "jax", "torch"):
        raise ValueError(f"KERAS_BACKEND={backend!r} is not a Keras backend this course runs on; "
                         "use 'tensorflow', 'jax' or 'torch'.")
    load_tensorflow_quietly()
    use_float32_matmul()
    import keras
    import numpy as np

    from course_lib import __version__
    from course_lib.profiles import active_profile

    for module, minimum in MIN_VERSIONS.items():
        found = {"keras": keras.__version__, "numpy": np.__version__}[module]
        if _version_tuple(found) < minimum:
            raise RuntimeError(f"{module} {found} is older than the course needs "
                               f"({'.'.join(map(str, minimum))}+). Install the course's pins: make test.")
    info = {
        "python": platform.python_version(),
        "course_lib": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "profile": active_profile(),
        "device": device_description(),
        "colab": str(in_colab()),
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    from course_lib.metrics import record_setup

    record_setup(info)
    if verbose:
        print("  ".join(f"{k}: {v}" for k, v in info.items()))
        hint = profile_hint(info["profile"], info["device"].startswith("GPU"), in_colab())
        if hint:
            print(hint)
    return info


def profile_hint(profile: str, gpu: bool, colab: bool = False) -> str:
    """One line on how to get the ``full`` profile (the real data sizes and epochs, for the
    published results) where it is worth it, or an empty string: on a GPU running ``learn``, how
    to switch; on Colab without a GPU, how to get one.

    >>> profile_hint("learn", gpu=True)
    'GPU found: for the full run (all the data, more epochs), change "learn" to "full" on the COURSE_PROFILE line of this cell, then restart the kernel and run all cells.'
    >>> profile_hint("full", gpu=True), profile_hint("smoke", gpu=True), profile_hint("learn", gpu=False)
    ('', '', '')
    >>> profile_hint("learn", gpu=False, colab=True)
    'No GPU runtime: this runs on the CPU. For the full run, pick Runtime > Change runtime type > GPU, then run all cells again.'
    """
    if gpu and profile == "learn":
        return ('GPU found: for the full run (all the data, more epochs), change "learn" to "full" on the '
                "COURSE_PROFILE line of this cell, then restart the kernel and run all cells.")
    if colab and not gpu:
        return ("No GPU runtime: this runs on the CPU. For the full run, pick Runtime > Change runtime type > GPU, "
                "then run all cells again.")
    return ""


def fit_verbose() -> int | str:
    """The ``verbose`` argument for Keras ``fit``: ``"auto"`` (a live progress bar) when a person
    runs the notebook, ``2`` (one line per epoch) when a program executes it and stores the
    output (the course runner and the tests set ``COURSE_PROGRESS=epoch``)."""
    return 2 if os.environ.get("COURSE_PROGRESS", "").strip().lower() == "epoch" else "auto"


def tensorflow_only(what: str) -> bool:
    """True on the TensorFlow backend. Elsewhere print a visible note that ``what`` is skipped.

    Guard the few TensorFlow-only cells with it::

        if course_lib.setup.tensorflow_only("the GradientTape example"):
            import tensorflow as tf
            ...
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return True
    print(f"NOTE: skipped {what}: it needs the TensorFlow backend and this kernel runs {backend!r}. "
          "Restart with KERAS_BACKEND=tensorflow to run it.")
    return False
