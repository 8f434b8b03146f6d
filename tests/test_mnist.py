"""course_lib.mnist: scaling, shapes, errors, and seeded disjoint subsets."""

import os

import numpy as np
import pytest

from course_lib.mnist import load_mnist_splits, preprocess_mnist, split_indices


def _images(n=3):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def test_preprocess_scales_to_unit_interval_and_shapes():
    raw = _images()
    raw[0, 0, 0], raw[0, 0, 1] = 0, 255
    x = preprocess_mnist(raw)
    assert x.shape == (3, 28, 28) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_allclose(x, raw / 255.0, rtol=1e-6)
    flat = preprocess_mnist(raw, flatten=True)
    assert flat.shape == (3, 784)
    np.testing.assert_array_equal(flat[1], x[1].ravel())  # row-major: pixel (r, c) → r·28 + c
    assert preprocess_mnist(raw, channels=True).shape == (3, 28, 28, 1)
    assert preprocess_mnist(raw, dtype="float64").dtype == np.float64


@pytest.mark.parametrize(("images", "kwargs", "message"), [
    (np.zeros((3, 784), np.uint8), {}, "shape \\(n, height, width\\)"),
    (np.zeros((3, 28, 28), np.float32), {}, "uint8"),
    (np.zeros((3, 28, 28), np.uint8), dict(flatten=True, channels=True), "not both"),
])
def test_preprocess_errors(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        preprocess_mnist(images, **kwargs)


def test_split_indices_disjoint_seeded_and_sized():
    a, b = split_indices(100, 30, 10, seed=1)
    assert len(a) == 30 and len(b) == 10 and not set(a) & set(b)
    a2, b2 = split_indices(100, 30, 10, seed=1)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, split_indices(100, 30, 10, seed=2)[0])
    rest, held = split_indices(100, None, 25)
    assert len(rest) == 75 and sorted(set(rest) | set(held)) == list(range(100))
    assert len(split_indices(100, None)[0]) == 100


@pytest.mark.parametrize(("args", "message"), [
    ((100, 90, 20), "only 100"),
    ((100, 0, 0), "must be positive"),
    ((100, None, 100), "no images left"),
    ((100, 10, -1), "non-negative"),
])
def test_split_indices_errors(args, message):
    with pytest.raises(ValueError, match=message):
        split_indices(*args)


@pytest.mark.skipif(not os.environ.get("COURSE_DATA_DIR"), reason="needs the MNIST mirror (COURSE_DATA_DIR)")
def test_load_mnist_splits_subsets():
    d = load_mnist_splits(3000, 1000, n_val=500, flatten=True)
    assert d.sizes() == {"train": 3000, "val": 500, "test": 1000}
    assert d.x_train.shape == (3000, 784) and d.x_test.shape == (1000, 784)
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    # a random subset has every digit, in roughly MNIST's proportions (each about 10 %)
    counts = np.bincount(d.y_train, minlength=10)
    assert counts.min() > 200 and counts.max() < 400
    full = load_mnist_splits(channels=True)
    assert full.sizes() == {"train": 60000, "val": 0, "test": 10000}
    assert full.x_train.shape == (60000, 28, 28, 1)
    # the README's statistic of genuine MNIST: pixel mean 0.1307 after scaling
    assert abs(float(full.x_train.mean()) - 0.1307) < 5e-4
    np.testing.assert_array_equal(full.y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
