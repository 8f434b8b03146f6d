"""course_lib.setup: the preamble reports versions and refuses bad settings."""

import pytest

from course_lib import setup


def test_setup_reports(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    info = setup.setup()
    assert info["backend"] == "tensorflow" and info["profile"] == "smoke"
    assert info["device"].startswith(("CPU", "GPU")) and info["colab"] == "False"
    assert "keras: 3." in capsys.readouterr().out


def test_setup_names_the_profile_and_on_a_gpu_how_to_run_full(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(setup, "device_description", lambda: "GPU: NVIDIA H100 80GB HBM3")
    assert setup.setup()["profile"] == "learn"
    out = capsys.readouterr().out.splitlines()
    assert "profile: learn" in out[0] and "device: GPU: NVIDIA H100 80GB HBM3" in out[0]
    assert out[1:] == [setup.profile_hint("learn", gpu=True)] and '"full"' in out[1]
    monkeypatch.setenv("COURSE_PROFILE", "full")
    setup.setup()
    assert len(capsys.readouterr().out.splitlines()) == 1  # running full: nothing to suggest
    monkeypatch.setenv("COURSE_PROFILE", "learn")
    monkeypatch.setattr(setup, "device_description", lambda: "CPU: x86_64 (2 cores)")
    setup.setup()
    assert len(capsys.readouterr().out.splitlines()) == 1  # no GPU: learn is the right choice


def test_unknown_backend_and_profile(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    with pytest.raises(ValueError, match="'theano'.*'tensorflow', 'jax' or 'torch'"):
        setup.setup()
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setenv("COURSE_PROFILE", "huge")
    with pytest.raises(ValueError, match="smoke, learn, full"):
        setup.setup()


def test_old_keras_is_refused(monkeypatch):
    import keras

    monkeypatch.setattr(keras, "__version__", "2.15.0")
    with pytest.raises(RuntimeError, match="keras 2.15.0 is older"):
        setup.setup(verbose=False)


def test_tensorflow_only_guard(monkeypatch, capsys):
    import keras

    assert setup.tensorflow_only("x") is True
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert setup.tensorflow_only("the GradientTape example") is False
    assert "skipped the GradientTape example" in capsys.readouterr().out


def test_fit_verbose_is_one_line_per_epoch_only_when_executed(monkeypatch):
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    assert setup.fit_verbose() == "auto"
    monkeypatch.setenv("COURSE_PROGRESS", "epoch")
    assert setup.fit_verbose() == 2


def test_native_stderr_is_hidden_and_shown_again_on_an_error(capfd):
    import os

    with setup.native_stderr_hidden():
        os.write(2, b"I0000 00:00:1.5  42 port.cc:153] oneDNN custom operations are on\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    with pytest.raises(ImportError, match="no such library"), setup.native_stderr_hidden():
        os.write(2, b"why it failed\n")
        raise ImportError("no such library")
    assert "why it failed" in capfd.readouterr().err


def test_setup_in_a_fresh_python_prints_no_tensorflow_logs():
    """What the setup cell runs, in a new process (TensorFlow not yet loaded): one line on stdout,
    nothing on stderr, although TensorFlow's libraries print C++ logs as they load."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "COURSE_METRICS_FILE")}
    proc = subprocess.run([sys.executable, "-c", "from course_lib.setup import setup; setup()"],
                          capture_output=True, text=True, timeout=300, env={**env, "KERAS_BACKEND": "tensorflow"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "backend: tensorflow" in proc.stdout and proc.stderr == "", proc.stderr[-2000:]
