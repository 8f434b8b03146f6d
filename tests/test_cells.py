"""The NumPy reference cells equal Keras's SimpleRNN, GRU and LSTM; bad shapes give clear errors."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

from course_lib.cells import (  # noqa: E402
    copy_weights,
    gru_step_numpy,
    lstm_step_numpy,
    sigmoid,
    simple_rnn_step_numpy,
    unroll_numpy,
)

BATCH, TIME, FEATURES, UNITS = 4, 7, 3, 5


def _random_layer(layer: keras.layers.Layer, rng: np.random.Generator) -> keras.layers.Layer:
    """Build ``layer`` and give it random weights (non-zero biases, so their placement matters)."""
    layer.build((None, TIME, FEATURES))
    layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.get_weights()])
    return layer


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def x(rng):
    return rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell, layer_cls, kwargs", [
    ("simple_rnn", keras.layers.SimpleRNN, {}),
    ("gru", keras.layers.GRU, {"reset_after": True}),
    ("gru", keras.layers.GRU, {"reset_after": False}),
    ("lstm", keras.layers.LSTM, {}),
])
def test_unroll_equals_keras(cell, layer_cls, kwargs, return_sequences, x, rng):
    layer = _random_layer(layer_cls(UNITS, return_sequences=return_sequences, **kwargs), rng)
    expected = keras.ops.convert_to_numpy(layer(x))
    got = unroll_numpy(cell, x, layer.get_weights(), reset_after=kwargs.get("reset_after", True),
                       return_sequences=return_sequences)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_gru_conventions_differ(x, rng):
    """The two GRU conventions are different functions: the test above is not vacuous."""
    w = [rng.normal(size=(FEATURES, 3 * UNITS)), rng.normal(size=(UNITS, 3 * UNITS)), np.zeros(3 * UNITS)]
    h = rng.normal(size=(BATCH, UNITS))
    after = gru_step_numpy(x[:, 0], h, w[0], w[1], np.zeros((2, 3 * UNITS)), reset_after=True)
    before = gru_step_numpy(x[:, 0], h, w[0], w[1], w[2], reset_after=False)
    assert np.abs(after - before).max() > 1e-2


def test_step_functions_by_hand():
    """Tiny cases worked out by hand."""
    x, h = np.array([[1.0]]), np.array([[0.5]])
    # SimpleRNN: tanh(1 * 2 + 0.5 * 4 + (-1)) = tanh(3)
    assert simple_rnn_step_numpy(x, h, [[2.0]], [[4.0]], [-1.0])[0, 0] == pytest.approx(np.tanh(3.0))
    # GRU with all-zero weights: z = r = 0.5, candidate tanh(0) = 0 -> h_t = 0.5 * h
    zeros3 = np.zeros((1, 3))
    assert gru_step_numpy(x, h, zeros3, zeros3, np.zeros((2, 3)))[0, 0] == pytest.approx(0.25)
    # LSTM with all-zero weights: c_t = 0.5 * c, h_t = 0.5 * tanh(c_t)
    zeros4 = np.zeros((1, 4))
    h_new, c_new = lstm_step_numpy(x, h, np.array([[2.0]]), zeros4, zeros4, np.zeros(4))
    assert c_new[0, 0] == pytest.approx(1.0)
    assert h_new[0, 0] == pytest.approx(0.5 * np.tanh(1.0))


def test_sigmoid_is_stable():
    a = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):
        s = sigmoid(a)
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1.0])


def test_wrong_shapes_are_explained(rng):
    x, h = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    with pytest.raises(ValueError, match=r"kernel must have shape \(features, 1 \* units\) = \(3, 4\)"):
        simple_rnn_step_numpy(x, h, np.zeros((3, 5)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="one time step.*unroll_numpy"):
        simple_rnn_step_numpy(x[None], h, np.zeros((3, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"state h must have shape \(batch, units\) with batch=2"):
        simple_rnn_step_numpy(x, h[:1], np.zeros((3, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"recurrent_kernel must have shape \(units, 3 \* units\)"):
        gru_step_numpy(x, h, np.zeros((3, 12)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="reset_after=True"):
        gru_step_numpy(x, h, np.zeros((3, 12)), np.zeros((4, 12)), np.zeros(12), reset_after=True)
    with pytest.raises(ValueError, match=r"pass reset_after=True"):
        gru_step_numpy(x, h, np.zeros((3, 12)), np.zeros((4, 12)), np.zeros((2, 12)), reset_after=False)
    with pytest.raises(ValueError, match="carry c must have the shape of h"):
        lstm_step_numpy(x, h, h[:, :2], np.zeros((3, 16)), np.zeros((4, 16)))
    with pytest.raises(ValueError, match=r"\(batch, time, features\).*x\[None\]"):
        unroll_numpy("lstm", x, [np.zeros((3, 16)), np.zeros((4, 16))])
    with pytest.raises(ValueError, match="unknown cell 'rnn'"):
        unroll_numpy("rnn", x[None], [np.zeros((3, 4)), np.zeros((4, 4))])
    with pytest.raises(ValueError, match="layer.get_weights"):
        unroll_numpy("simple_rnn", x[None], [np.zeros((3, 4))])


def test_copy_weights(rng, x):
    source = _random_layer(keras.layers.GRU(UNITS), rng)
    target = keras.layers.GRU(UNITS)
    target.build((None, TIME, FEATURES))
    copy_weights(source, target)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(target(x)), keras.ops.convert_to_numpy(source(x)),
                               atol=1e-6)
    with pytest.raises(ValueError, match="Same units, input size and cell type"):
        copy_weights(source, _random_layer(keras.layers.LSTM(UNITS), rng))
    with pytest.raises(ValueError, match="build it first"):
        copy_weights(source, keras.layers.GRU(UNITS))
