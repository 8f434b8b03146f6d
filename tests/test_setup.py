"""course_lib.setup: the preamble reports versions and refuses bad settings."""

import pytest

from course_lib import setup


def test_setup_reports(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    info = setup.setup()
    assert info["backend"] == "tensorflow" and info["profile"] == "smoke"
    assert info["device"].startswith(("CPU", "GPU")) and info["colab"] == "False"
    assert "keras: 3." in capsys.readouterr().out


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
