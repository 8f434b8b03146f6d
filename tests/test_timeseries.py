"""course_lib.timeseries: windows (shapes, alignment, no look-ahead), split, scaler, metrics."""


import numpy as np
import pytest

from course_lib.timeseries import (
    MinMaxScaler,
    autocorrelation,
    make_windows,
    rmse,
    split_index,
    train_test_split_time,
)


@pytest.mark.parametrize("n,look_back,horizon", [(10, 1, 1), (10, 3, 1), (10, 3, 4), (20, 12, 1), (5, 4, 1)])
def test_shapes_1d(n, look_back, horizon):
    X, y = make_windows(np.arange(n), look_back, horizon)
    samples = n - look_back - horizon + 1
    assert X.shape == (samples, look_back, 1)
    assert y.shape == (samples,)


def test_shapes_multifeature():
    s = np.random.default_rng(0).normal(size=(30, 5))
    X, y = make_windows(s, 7, target=4)
    assert X.shape == (23, 7, 5) and y.shape == (23,)


@pytest.mark.parametrize("look_back,horizon,target", [(1, 1, 0), (3, 1, 2), (7, 1, 4), (4, 3, 1), (2, 5, -1)])
def test_alignment_against_a_loop(look_back, horizon, target):
    s = np.random.default_rng(1).normal(size=(25, 5))
    X, y = make_windows(s, look_back, horizon, target=target)
    for i in range(len(X)):
        np.testing.assert_array_equal(X[i], s[i:i + look_back])
        assert y[i] == s[i + look_back + horizon - 1, target]
    assert len(X) == len(range(len(s) - look_back - horizon + 1))


def test_alignment_1d_values():
    X, y = make_windows(np.array([10.0, 11, 12, 13, 14]), look_back=2)
    np.testing.assert_array_equal(X[:, :, 0], [[10, 11], [11, 12], [12, 13]])
    np.testing.assert_array_equal(y, [12, 13, 14])
    X2, y2 = make_windows(np.array([10.0, 11, 12, 13, 14]), look_back=2, horizon=2)
    np.testing.assert_array_equal(X2[:, :, 0], [[10, 11], [11, 12]])
    np.testing.assert_array_equal(y2, [13, 14])


@pytest.mark.parametrize("look_back,horizon", [(1, 1), (4, 1), (3, 3)])
def test_no_look_ahead(look_back, horizon):
    """Changing s[t:] leaves every window that ends (target included) before t unchanged."""
    rng = np.random.default_rng(2)
    s = rng.normal(size=40)
    X, y = make_windows(s, look_back, horizon)
    for t in (10, 20, 39):
        s2 = s.copy()
        s2[t:] = rng.normal(size=40 - t) + 100.0
        X2, y2 = make_windows(s2, look_back, horizon)
        last_unaffected = t - look_back - horizon  # window i reads s[i .. i+look_back+horizon-1]
        np.testing.assert_array_equal(X2[:last_unaffected + 1], X[:last_unaffected + 1])
        np.testing.assert_array_equal(y2[:last_unaffected + 1], y[:last_unaffected + 1])
        assert y2[last_unaffected + 1] != y[last_unaffected + 1]  # the next target does see s[t]
        # and no input window reaches as far as its own target
        assert not np.any(X2[: last_unaffected + horizon + 1] > 50)


def test_copy_not_view():
    s = np.arange(10.0)
    X, _ = make_windows(s, 3)
    X[0, 0, 0] = -1
    assert s[0] == 0


@pytest.mark.parametrize("kwargs,match", [
    ({"look_back": 0}, "look_back must be an integer >= 1"),
    ({"look_back": 2.0}, "look_back must be an integer >= 1"),
    ({"look_back": 2, "horizon": 0}, "horizon must be an integer >= 1"),
    ({"look_back": 10}, "too short"),
    ({"look_back": 8, "horizon": 3}, "at least 11 steps"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_windows(np.arange(10.0), **kwargs)


def test_bad_shapes_and_targets():
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, features\)"):
        make_windows(np.zeros((4, 3, 2)), 1)
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, features\)"):
        make_windows(np.float64(3.0), 1)
    with pytest.raises(ValueError, match="say which column"):
        make_windows(np.zeros((10, 3)), 2)
    with pytest.raises(ValueError, match="not a column"):
        make_windows(np.zeros((10, 3)), 2, target=3)


def test_chronological_split():
    s = np.arange(144)
    train, test = train_test_split_time(s, 0.67)
    assert len(train) == 96 and len(test) == 48
    assert train.max() < test.min()
    np.testing.assert_array_equal(np.concatenate([train, test]), s)
    assert split_index(732, 0.7) == 512
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            split_index(10, bad)
    with pytest.raises(ValueError, match="empty part"):
        split_index(3, 0.2)


def test_scaler_matches_sklearn_and_uses_training_range():
    from sklearn.preprocessing import MinMaxScaler as SkScaler

    rng = np.random.default_rng(3)
    train, test = rng.normal(size=(50, 4)) * [1, 10, 100, 1000], rng.normal(size=(20, 4)) * 2000
    ours, sk = MinMaxScaler().fit(train), SkScaler().fit(train)
    np.testing.assert_allclose(ours.transform(test), sk.transform(test), atol=1e-12)
    np.testing.assert_allclose(ours.transform(train).min(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ours.transform(train).max(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)), test, atol=1e-9)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)[:, 2], column=2), test[:, 2], atol=1e-9)
    s = MinMaxScaler().fit(np.array([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(s.transform(np.array([4.0, 10.0])), [0.5, 2.0])  # 1-D in, 1-D out
    assert s.transform(np.array([4.0])).shape == (1,)


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        MinMaxScaler().transform(np.zeros(3))
    with pytest.raises(ValueError, match="fitted on 2 features"):
        MinMaxScaler().fit(np.zeros((3, 2))).transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="empty"):
        MinMaxScaler().fit(np.zeros((0, 2)))
    const = MinMaxScaler().fit(np.full(5, 7.0))  # a constant feature does not divide by zero
    np.testing.assert_array_equal(const.transform(np.full(2, 7.0)), [0.0, 0.0])


def test_rmse():
    assert rmse([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
    assert rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5))
    with pytest.raises(ValueError, match="differ in shape"):
        rmse(np.zeros(3), np.zeros((3, 1)))


def test_autocorrelation_matches_statsmodels():
    from statsmodels.tsa.stattools import acf

    x = np.random.default_rng(4).normal(size=200).cumsum()
    np.testing.assert_allclose(autocorrelation(x, 5), acf(x, nlags=5, fft=False)[1:], atol=1e-12)
    with pytest.raises(ValueError, match="1-D"):
        autocorrelation(np.zeros((5, 2)), 1)
    with pytest.raises(ValueError, match="lags must be"):
        autocorrelation(np.zeros(5), 5)
