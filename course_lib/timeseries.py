"""Time-series helpers: sliding windows, a chronological split, a train-only scaler, RMSE.

The lessons on forecasting (airline passengers, stock prices) all turn a series into
supervised pairs the same way::

    series  s_0 s_1 s_2 ... s_{n-1}                       shape (n,) or (n, features)
    X[i] =  s_i ... s_{i+look_back-1}                      shape (look_back, features)
    y[i] =  s_{i+look_back+horizon-1}[target]              the value ``horizon`` steps after the window

so ``make_windows(s, look_back=3)`` predicts ``s_3`` from ``s_0, s_1, s_2``. Window ``i`` only
reads ``s_0 ... s_{i+look_back+horizon-1}``: changing later values never changes it.
"""

from __future__ import annotations

import numpy as np


def _as_2d(series: np.ndarray, name: str = "series") -> tuple[np.ndarray, bool]:
    """``series`` as a float array (n, features) and whether it was 1-D."""
    a = np.asarray(series, dtype=float)
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (n, features); got ndim={a.ndim}, shape {a.shape}. "
                         "Pass one series, or one column per feature.")
    return (a[:, None], True) if a.ndim == 1 else (a, False)


def make_windows(series: np.ndarray, look_back: int, horizon: int = 1,
                 target: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows of ``series`` and the value ``horizon`` steps after each window.

    Parameters
    ----------
    series : array (n,) or (n, features)
        The series in time order, oldest first.
    look_back : int >= 1
        Time steps per window.
    horizon : int >= 1
        1 predicts the step right after the window; ``h`` predicts ``h`` steps after it.
    target : int or None
        The column of a (n, features) series to predict. ``None``: the only column of a 1-D or
        one-feature series (a multi-feature series then needs an explicit ``target``).

    Returns
    -------
    X : array (samples, look_back, features), ``X[i] = series[i : i + look_back]``
    y : array (samples,), ``y[i] = series[i + look_back + horizon - 1, target]``

    ``samples = n - look_back - horizon + 1``.
    """
    a, _ = _as_2d(series)
    n, features = a.shape
    for name, value in (("look_back", look_back), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    if target is None:
        if features != 1:
            raise ValueError(f"the series has {features} features: say which column to predict with "
                             f"target=<0..{features - 1}>")
        target = 0
    if not -features <= target < features:
        raise ValueError(f"target={target} is not a column of a series with {features} features")
    samples = n - look_back - horizon + 1
    if samples < 1:
        raise ValueError(f"a series of length {n} is too short for look_back={look_back} and "
                         f"horizon={horizon}: it needs at least {look_back + horizon} steps")
    idx = np.arange(samples)[:, None] + np.arange(look_back)[None, :]
    X = a[idx]
    y = a[np.arange(samples) + look_back + horizon - 1, target]
    return X, y


def train_test_split_time(series: np.ndarray, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a series in time order: the first ``int(n * train_fraction)`` steps, then the rest.

    No shuffling: every test step comes after every training step.
    """
    a = np.asarray(series)
    n_train = split_index(len(a), train_fraction)
    return a[:n_train], a[n_train:]


def split_index(n: int, train_fraction: float) -> int:
    """``int(n * train_fraction)``, checked to leave at least one step on each side."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be strictly between 0 and 1; got {train_fraction}")
    n_train = int(n * train_fraction)
    if n_train < 1 or n_train >= n:
        raise ValueError(f"train_fraction={train_fraction} of {n} steps leaves an empty part "
                         f"({n_train} training steps)")
    return n_train


class MinMaxScaler:
    """Scale each feature to ``[0, 1]`` with the minimum and maximum of the data given to ``fit``.

    Fit it on the training part only: values outside the training range then map outside
    ``[0, 1]``, which is honest (the future was not known when the scaler was made).
    Accepts arrays (n,) or (n, features); ``transform`` keeps the shape it is given.
    """

    def __init__(self) -> None:
        self.data_min_: np.ndarray | None = None
        self.data_range_: np.ndarray | None = None

    def fit(self, data: np.ndarray) -> MinMaxScaler:
        """Learn the per-feature minimum and range (max - min) of ``data``."""
        a, _ = _as_2d(data, "data")
        if len(a) == 0:
            raise ValueError("cannot fit a scaler on an empty array")
        self.data_min_ = a.min(axis=0)
        rng = a.max(axis=0) - self.data_min_
        self.data_range_ = np.where(rng == 0, 1.0, rng)
        return self

    def _check(self, a: np.ndarray) -> None:
        if self.data_min_ is None:
            raise RuntimeError("this MinMaxScaler is not fitted yet: call fit(train) first")
        if a.shape[-1] != len(self.data_min_):
            raise ValueError(f"the scaler was fitted on {len(self.data_min_)} features; got {a.shape[-1]}")

    def transform(self, data: np.ndarray) -> np.ndarray:
        """``(data - min) / (max - min)``, per feature."""
        a, flat = _as_2d(data, "data")
        self._check(a)
        out = (a - self.data_min_) / self.data_range_
        return out[:, 0] if flat else out

    def fit_transform(self, data: np.ndarray) -> np.ndarray:
        return self.fit(data).transform(data)

    def inverse_transform(self, data: np.ndarray, column: int | None = None) -> np.ndarray:
        """Back to the original units. With ``column``, ``data`` (n,) holds that one feature only."""
        if column is not None:
            if self.data_min_ is None:
                raise RuntimeError("this MinMaxScaler is not fitted yet: call fit(train) first")
            return np.asarray(data, dtype=float) * self.data_range_[column] + self.data_min_[column]
        a, flat = _as_2d(data, "data")
        self._check(a)
        out = a * self.data_range_ + self.data_min_
        return out[:, 0] if flat else out


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root-mean-square error, in the units of ``y_true``; the two must have the same shape."""
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    if t.size == 0:
        raise ValueError("rmse of empty arrays")
    return float(np.sqrt(np.mean((t - p) ** 2)))


def autocorrelation(x: np.ndarray, lags: int) -> np.ndarray:
    """Sample autocorrelation of a 1-D series at lags ``1 .. lags`` (the usual biased estimator)."""
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"x must be 1-D; got shape {a.shape}")
    if not 1 <= lags < len(a):
        raise ValueError(f"lags must be between 1 and len(x) - 1 = {len(a) - 1}; got {lags}")
    d = a - a.mean()
    denom = float(d @ d)
    return np.array([float(d[k:] @ d[:-k]) / denom for k in range(1, lags + 1)])
