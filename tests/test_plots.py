"""course_lib.plots: each helper returns a figure, and refuses bad input clearly."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import plots  # noqa: E402


def test_learning_curves():
    fig = plots.plot_learning_curves({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]},
                                     metrics=("loss", "accuracy"))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match="none of the metrics"):
        plots.plot_learning_curves({"loss": [1]}, metrics=("accuracy",))


def test_decision_boundary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    fig = plots.plot_decision_boundary(lambda P: 1 / (1 + np.exp(-5 * P[:, 0])), X, y, resolution=30)
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots.plot_decision_boundary(lambda P: P[:, 0], X[:, :1], y)
    with pytest.raises(ValueError, match="40 rows but y has 39"):
        plots.plot_decision_boundary(lambda P: P[:, 0], X, y[:-1])


def test_images_series_confusion():
    assert isinstance(plots.plot_images(np.zeros((5, 28, 28, 1)), titles=list("abcde")), Figure)
    with pytest.raises(ValueError, match="shape"):
        plots.plot_images(np.zeros((28, 28)))
    fig = plots.plot_series({"truth": ([1, 2, 3], [1, 2, 3]), "model": ([2, 3], [2.1, 2.9])})
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        plots.plot_series({"bad": ([1, 2], [1])})
    fig = plots.plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], n_classes=3)
    assert isinstance(fig, Figure)
