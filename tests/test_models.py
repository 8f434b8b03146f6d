"""course_lib.models: convolution/pooling arithmetic against the cases in the lessons and against
Keras's own layers; the builders' parameter counts against a hand count."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras

from course_lib.models import build_mlp, build_mnist_cnn, conv_output_size, copy_weights, pool_output_size


@pytest.mark.parametrize(("n", "f", "s", "p", "expected"), [
    (4, 3, 1, 0, 2),   # 4×4 input, 3×3 filter, stride 1
    (5, 3, 2, 0, 2),   # 5×5, 3×3, stride 2
    (5, 4, 1, 2, 6),   # 5×5, 4×4, padding 2, stride 1
    (28, 3, 1, 1, 28),  # 3×3 with one zero each side keeps the size
    (7, 3, 2, 0, 3),
    (28, 3, 1, "same", 28),
    (7, 3, 2, "same", 4),
    (6, 3, 1, "valid", 4),
])
def test_conv_output_size_cases(n, f, s, p, expected):
    assert conv_output_size(n, f, stride=s, padding=p) == expected


@pytest.mark.parametrize(("n", "f", "s", "padding"), [
    (28, 3, 1, "valid"), (28, 3, 1, "same"), (28, 5, 2, "valid"), (28, 5, 2, "same"),
    (7, 3, 3, "same"), (9, 4, 2, "valid"),
])
def test_conv_output_size_matches_keras(n, f, s, padding):
    layer = keras.layers.Conv2D(1, f, strides=s, padding=padding)
    out = layer.compute_output_shape((1, n, n, 1))
    assert out[1] == out[2] == conv_output_size(n, f, stride=s, padding=padding)


@pytest.mark.parametrize(("n", "k", "s", "padding", "expected"), [
    (28, 2, None, "valid", 14), (7, 2, None, "valid", 3), (7, 2, None, "same", 4),
    (14, 2, None, "same", 7), (5, 3, 1, "valid", 3), (5, 3, 2, "same", 3),
])
def test_pool_output_size_cases_and_keras(n, k, s, padding, expected):
    assert pool_output_size(n, k, stride=s, padding=padding) == expected
    out = keras.layers.MaxPooling2D(k, strides=s, padding=padding).compute_output_shape((1, n, n, 1))
    assert out[1] == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(input_size=3, filter_size=5), "does not fit"),
    (dict(input_size=4, filter_size=5, padding=0), "does not fit"),
    (dict(input_size=0, filter_size=3), "input_size must be a positive integer"),
    (dict(input_size=5, filter_size=0), "filter_size must be a positive integer"),
    (dict(input_size=5, filter_size=3, stride=0), "stride must be a positive integer"),
    (dict(input_size=5, filter_size=3, padding=-1), "padding must be"),
    (dict(input_size=5, filter_size=3, padding="full"), "padding must be"),
    (dict(input_size=5.0, filter_size=3), "input_size must be a positive integer"),
])
def test_conv_output_size_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)


def test_conv_padding_can_rescue_a_large_filter():
    # 3 + 2·1 = 5 ≥ 5: fits once padded
    assert conv_output_size(3, 5, padding=1) == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(input_size=1, pool_size=2), "does not fit"),
    (dict(input_size=4, pool_size=0), "pool_size must be a positive integer"),
    (dict(input_size=4, pool_size=2, stride=-1), "stride must be a positive integer"),
    (dict(input_size=4, pool_size=2, padding=1), "padding must be 'valid' or 'same'"),
])
def test_pool_output_size_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool_output_size(**kwargs)


def test_pool_same_accepts_a_window_larger_than_the_input():
    assert pool_output_size(1, 2, padding="same") == 1


def test_mlp_parameter_count_by_hand():
    model = build_mlp(784, (512, 256), 10)
    hand = (784 * 512 + 512) + (512 * 256 + 256) + (256 * 10 + 10)
    assert model.count_params() == hand == 535_818
    assert model.output_shape == (None, 10)


def test_mlp_batch_norm_and_dropout_layers():
    model = build_mlp(20, (8, 8), 3, batch_norm=True, dropout=0.2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation", "Dropout"] * 2 + ["Dense"]
    # dense (20·8+8) + (8·8+8) + (8·3+3), batch norm 4 per unit (2 trainable, 2 moving statistics)
    assert model.count_params() == (168 + 72 + 27) + 2 * 4 * 8
    assert model.get_layer("batch_norm_1").momentum == 0.99
    assert build_mlp(20, (8,), 3, batch_norm=True, bn_momentum=0.9).get_layer("batch_norm_1").momentum == 0.9
    probs = np.asarray(model(np.zeros((4, 20), "float32")))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(hidden=(0,)), "each hidden layer size"),
    (dict(dropout=1.0), "dropout must be in"),
    (dict(input_dim=-1), "input_dim"),
])
def test_mlp_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_mlp(**kwargs)


def test_mnist_cnn_parameter_count_by_hand():
    model = build_mnist_cnn()
    conv = [(1, 32), (32, 64), (64, 128)]
    hand_conv = sum(3 * 3 * c_in * c_out + c_out for c_in, c_out in conv)
    side = 28
    for _ in conv:
        side = -(-side // 2)  # 2×2 "same" pooling: ceil(n / 2): 28 → 14 → 7 → 4
    flat = side * side * 128
    hand = hand_conv + (flat * 625 + 625) + (625 * 10 + 10)
    assert (side, flat) == (4, 2048)
    assert model.count_params() == hand == 1_379_557
    assert model.output_shape == (None, 10)
    shapes = [layer.output.shape[1:] for layer in model.layers if layer.name.startswith("pool")]
    assert shapes == [(14, 14, 32), (7, 7, 64), (4, 4, 128)]


def test_mnist_cnn_errors():
    with pytest.raises(ValueError, match="input_shape"):
        build_mnist_cnn(input_shape=(28, 28))
    with pytest.raises(ValueError, match="dropout"):
        build_mnist_cnn(dropout=-0.1)


def test_copy_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, 3)).astype("float32")

    def built(layer):
        layer.build((None, 7, 3))
        layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.get_weights()])
        return layer

    source = built(keras.layers.GRU(5))
    target = keras.layers.GRU(5)
    target.build((None, 7, 3))
    copy_weights(source, target)
    for a, b in zip(source.get_weights(), target.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(target(x)), keras.ops.convert_to_numpy(source(x)), atol=1e-6)
    with pytest.raises(ValueError, match="Same units, input size and cell type"):
        copy_weights(source, built(keras.layers.LSTM(5)))
    with pytest.raises(ValueError, match="build it first"):
        copy_weights(source, keras.layers.GRU(5))
