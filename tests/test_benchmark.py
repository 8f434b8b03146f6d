"""course_tools.benchmark: the same two models in Keras, plain JAX and plain PyTorch, and its report.

In the main venv (TensorFlow only) the Keras path runs for real at a tiny size and the plain
loops' parameter shapes are checked against the Keras models without JAX or PyTorch; the
tests that need JAX or PyTorch run in ``make test-backends`` (.venv-backends has both).
"""

import importlib.util
import json
import math

import numpy as np
import pytest

from course_tools import ROOT
from course_tools import benchmark as bm

HAS_JAX = importlib.util.find_spec("jax") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed in this venv; make test-backends runs this")
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed in this venv; make test-backends runs this")

# Counted by hand: conv (3·3·c_in + 1)·c_out, dense (in + 1)·out; LSTM 4·units·(inputs + units + 1).
EXPECTED_PARAMS = {
    "cnn": (9 * 1 + 1) * 32 + (9 * 32 + 1) * 64 + (9 * 64 + 1) * 128 + (4 * 4 * 128 + 1) * 625 + (625 + 1) * 10,
    "lstm": 4 * 30 * (28 + 30 + 1) + (30 + 1) * 10,
}


@pytest.fixture(params=bm.MODELS)
def model(request):
    return request.param


def test_param_shapes_are_the_keras_models(model):
    net = bm.build_keras(model)
    assert [tuple(w.shape) for w in net.trainable_weights] == list(bm.param_shapes(model).values())
    assert bm.count_params(model) == net.count_params() == EXPECTED_PARAMS[model]


def test_init_params_fit_the_keras_model_and_are_seeded(model):
    params = bm.init_params(model)
    again = bm.init_params(model)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    net = bm.build_keras(model)
    net.set_weights(bm.keras_weights_from(model, params))  # raises on a shape mismatch
    if model == "lstm":
        bias = params["lstm/bias"]
        assert np.all(bias[30:60] == 1.0) and np.all(bias[:30] == 0.0) and np.all(bias[60:] == 0.0)


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="less than one batch"):
        bm.load_data("cnn", 10, 128)
    with pytest.raises(ValueError, match="unknown model"):
        bm.param_shapes("mlp")


def test_ratios_are_keras_time_over_the_best_plain_loop():
    runs = [{"model": "cnn", "impl": "keras-jax", "s_per_epoch": 3.0},
            {"model": "cnn", "impl": "jax", "s_per_epoch": 2.0},
            {"model": "cnn", "impl": "torch", "s_per_epoch": 1.5},
            {"model": "lstm", "impl": "keras-jax", "s_per_epoch": 1.0},
            {"model": "lstm", "impl": "torch", "error": "boom"}]
    assert bm.add_ratios(runs) == [{"model": "cnn", "keras": "keras-jax", "best_plain": "torch", "ratio": 2.0}]


def test_keras_path_writes_the_report(data_dir, tmp_path):
    import keras

    impl = f"keras-{keras.backend.backend()}"
    code = bm.main(["--impls", impl, "--samples", "300", "--batch-size", "64", "--epochs", "2",
                    "--warmup-steps", "1", "--no-subprocess", "--out", str(tmp_path)])
    assert code == 0
    doc = json.loads((tmp_path / "benchmark.json").read_text())
    assert doc["meta"]["samples"] == 256 and doc["meta"]["versions"]["keras"] == keras.__version__
    assert [(r["model"], r["impl"]) for r in doc["runs"]] == [("cnn", impl), ("lstm", impl)]
    for r in doc["runs"]:
        assert r["params"] == EXPECTED_PARAMS[r["model"]]
        assert r["samples"] == 256 and len(r["epoch_s"]) == 2 and r["s_per_epoch"] > 0
        assert r["samples_per_s"] == pytest.approx(256 / r["s_per_epoch"])
        assert math.isfinite(r["final_loss"]) and r["device"].startswith(("CPU", "GPU"))
        assert r["cpu_s_per_epoch"] > 0 and r["optimizer"] == bm.OPTIMIZER[r["model"]]
    assert doc["ratios"] == []  # no plain loop ran
    md = (tmp_path / "benchmark.md").read_text()
    assert "## Lesson-05 CNN (adam)" in md and "## Lesson-08 LSTM (rmsprop)" in md and f"| {impl} |" in md


def test_results_dir_never_takes_a_cpu_run(data_dir, capsys):
    import keras

    if bm.installed("torch") or keras.backend.backend() != "tensorflow":
        pytest.skip("checked on the TensorFlow CPU venv, where no GPU can be in use")
    report = ROOT / "results" / "benchmark.json"
    before = report.stat().st_mtime if report.exists() else None
    code = bm.main(["--impls", "keras-tensorflow", "--models", "lstm", "--samples", "64", "--batch-size", "64",
                    "--epochs", "1", "--warmup-steps", "1", "--no-subprocess", "--out", str(ROOT / "results")])
    assert code == 2 and "refusing" in capsys.readouterr().err
    assert (report.stat().st_mtime if report.exists() else None) == before


def _keras_probs(model, params, x):
    net = bm.build_keras(model)
    net.set_weights(bm.keras_weights_from(model, params))
    return np.asarray(net.predict(x, verbose=0))


def _images(model, n=5):
    x = np.random.default_rng(0).uniform(0, 1, (n, 28, 28)).astype("float32")
    return x[..., None] if model == "cnn" else x


@needs_jax
def test_plain_jax_model_is_the_keras_model(model):
    import jax

    params = bm.init_params(model, seed=3)
    x = _images(model)
    logits = bm.jax_forward(model)({k: jax.numpy.asarray(v) for k, v in params.items()}, x, None, False)
    np.testing.assert_allclose(np.asarray(jax.nn.softmax(logits)), _keras_probs(model, params, x), atol=2e-5)


@needs_torch
def test_plain_torch_model_is_the_keras_model(model):
    import torch

    params = bm.init_params(model, seed=3)
    net = bm.torch_model(model, params).eval()
    assert sum(q.numel() for q in net.parameters() if q.requires_grad) == EXPECTED_PARAMS[model]
    x = _images(model)
    with torch.no_grad():
        probs = torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()
    np.testing.assert_allclose(probs, _keras_probs(model, params, x), atol=2e-5)


@pytest.mark.parametrize("impl", [pytest.param("jax", marks=needs_jax), pytest.param("torch", marks=needs_torch)])
def test_plain_loops_train(impl, data_dir):
    r = bm.run_one(impl, "lstm", samples=256, batch_size=64, epochs=2, warmup_steps=1)
    assert r["params"] == EXPECTED_PARAMS["lstm"] and r["samples"] == 256 and len(r["epoch_s"]) == 2
    assert math.isfinite(r["final_loss"]) and 0 < r["final_loss"] < 2 * math.log(10)
