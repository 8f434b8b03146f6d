"""Plotting helpers that several lessons share. Each returns the matplotlib ``Figure``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def plot_learning_curves(history: Mapping[str, Sequence[float]], metrics: Sequence[str] = ("loss",),
                         title: str = "") -> Figure:
    """Training (and, when present, ``val_``) curves per epoch, one panel per metric.

    ``history`` is ``model.fit(...).history`` or any dict of lists of the same length.
    """
    metrics = [m for m in metrics if m in history]
    if not metrics:
        raise ValueError(f"none of the metrics asked for is in the history; it has {sorted(history)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=False):
        epochs = np.arange(1, len(history[m]) + 1)
        ax.plot(epochs, history[m], "o-", label=f"train {m}")
        if f"val_{m}" in history:
            ax.plot(epochs, history[f"val_{m}"], "s--", label=f"validation {m}")
        ax.set(xlabel="epoch", ylabel=m)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_decision_boundary(predict_proba: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                           y: np.ndarray, ax: plt.Axes | None = None, resolution: int = 200,
                           labels: Sequence[str] = ("0", "1"), title: str = "") -> Figure:
    """The 0.5 contour of ``predict_proba`` over 2-D data ``X`` (n, 2) with 0/1 labels ``y`` (n,).

    ``predict_proba`` maps an (m, 2) array of points to m probabilities of class 1.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2) for a 2-D decision boundary; got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    p = np.asarray(predict_proba(np.c_[u.ravel(), v.ravel()]), dtype=float).reshape(u.shape)
    fig = ax.figure if ax is not None else plt.figure(figsize=(5, 4.5))
    ax = ax if ax is not None else fig.add_subplot()
    ax.contourf(u, v, p, levels=[0, 0.5, 1], colors=["#fbe3d6", "#d6e6f5"], alpha=0.8)
    ax.contour(u, v, p, levels=[0.5], colors="k", linewidths=1.5)
    for cls, marker, color in ((0, "o", "tab:orange"), (1, "+", "tab:blue")):
        sel = y == cls
        ax.scatter(X[sel, 0], X[sel, 1], marker=marker, c=color, label=labels[cls])
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return fig


def plot_images(images: np.ndarray, titles: Sequence[str] | None = None, ncols: int = 8,
                cmap: str = "gray") -> Figure:
    """A grid of images (n, h, w) or (n, h, w, 1), with optional titles (e.g. "true 3 / pred 5")."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, h, w) or (n, h, w, 1); got {images.shape}")
    n = len(images)
    if n == 0:
        raise ValueError("no images to plot")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def plot_series(series: Mapping[str, tuple[Sequence, Sequence]], title: str = "", xlabel: str = "",
                ylabel: str = "") -> Figure:
    """Several lines on one axis: ``{"truth": (x, y), "model": (x, y_hat), ...}``.

    Use it for predictions against truth over time.
    """
    if not series:
        raise ValueError("no series to plot")
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for i, (label, (x, y)) in enumerate(series.items()):
        if len(x) != len(y):
            raise ValueError(f"series {label!r}: {len(x)} x values but {len(y)} y values")
        ax.plot(x, y, lw=2.2 if i == 0 else 1.3, label=label, color="k" if i == 0 else None)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> Figure:
    """A count matrix: row = true class, column = predicted class."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    cm = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(cm, cmap="Blues")
    for i in range(n_classes):
        for j in range(n_classes):
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(n_classes), yticks=range(n_classes))
    fig.tight_layout()
    return fig
