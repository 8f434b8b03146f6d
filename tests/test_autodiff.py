"""course_lib.autodiff: backend gradients against closed forms; the relative error yardstick."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras import ops

from course_lib.autodiff import relative_error, value_and_grad


def test_gradient_of_a_quadratic_and_a_matrix_product():
    rng = np.random.default_rng(0)
    A, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    # f(A, x) = ½‖A x‖²  →  ∂f/∂x = Aᵀ A x,  ∂f/∂A = (A x) xᵀ
    value, (gA, gx) = value_and_grad(lambda A, x: 0.5 * ops.sum(ops.matmul(A, x) ** 2), A, x)
    assert value == pytest.approx(0.5 * np.sum((A @ x) ** 2), rel=1e-12)
    np.testing.assert_allclose(gx, A.T @ A @ x, rtol=1e-12)
    np.testing.assert_allclose(gA, np.outer(A @ x, x), rtol=1e-12)
    assert gA.dtype == np.float64


def test_logistic_loss_gradient_closed_form():
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(20, 3)), rng.integers(0, 2, 20).astype(float), rng.normal(size=3)

    def loss(w):
        p = ops.sigmoid(ops.matmul(X, w))
        return -ops.mean(y * ops.log(p) + (1 - y) * ops.log(1 - p))

    _, (g,) = value_and_grad(loss, w)
    p = 1 / (1 + np.exp(-X @ w))
    assert relative_error(g, X.T @ (p - y) / len(y)) < 1e-10


def test_unused_argument_has_zero_gradient_and_errors():
    _, (ga, gb) = value_and_grad(lambda a, b: ops.sum(a), np.ones(2), np.ones(3))
    np.testing.assert_array_equal(ga, [1, 1])
    np.testing.assert_array_equal(gb, [0, 0, 0])
    with pytest.raises(ValueError, match="scalar"):
        value_and_grad(lambda a: a * 2, np.ones(2))
    with pytest.raises(ValueError, match="at least one array"):
        value_and_grad(lambda: 0.0)


def test_relative_error():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error([np.zeros(2)], [np.zeros(2)]) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(np.sqrt(2) / 2)
    assert relative_error([np.ones(2), np.ones((2, 2))], [np.ones(2), np.ones((2, 2))]) == 0.0
    with pytest.raises(ValueError, match="entries"):
        relative_error(np.ones(2), np.ones(3))
