"""MNIST ready for a network: scaled to [0, 1], shaped for an MLP or a CNN, subset by profile size.

Every MNIST lesson starts the same way, so it lives here::

    from course_lib.mnist import load_mnist_splits
    d = load_mnist_splits(P.mnist_train, P.mnist_test, n_val=P.mnist_val, flatten=True)
    model.fit(d.x_train, d.y_train, validation_data=(d.x_val, d.y_val))

The raw arrays come from :func:`course_lib.data.load_mnist` (checked against genuine MNIST).
Subsets are drawn at random with a fixed seed, so a smoke run sees all ten digits in their
natural proportions and the same images every time. Labels stay integers 0-9 (use a
``sparse_categorical_crossentropy`` loss, or :func:`keras.utils.to_categorical` for one-hot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.profiles import SEED

N_TRAIN, N_TEST, SIDE = 60000, 10000, 28


def preprocess_mnist(images: np.ndarray, *, flatten: bool = False, channels: bool = False,
                     dtype: str = "float32") -> np.ndarray:
    """Scale uint8 images (n, 28, 28) in 0-255 to floats in [0, 1].

    ``flatten=True`` gives (n, 784) for a dense network; ``channels=True`` gives (n, 28, 28, 1)
    for a convolutional one (channels last, Keras's default); neither keeps (n, 28, 28).

    >>> preprocess_mnist(np.full((2, 28, 28), 255, np.uint8), flatten=True).shape
    (2, 784)
    """
    images = np.asarray(images)
    if flatten and channels:
        raise ValueError("choose flatten=True (for an MLP) or channels=True (for a CNN), not both")
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width); got {images.shape}. "
                         "Pass the raw arrays from course_lib.data.load_mnist().")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixels in 0-255; got dtype {images.dtype}. "
                         "They may already be preprocessed: do not scale twice.")
    x = images.astype(dtype) / np.asarray(255, dtype=dtype)
    if flatten:
        return x.reshape(len(x), -1)
    if channels:
        return x[..., np.newaxis]
    return x


@dataclass(frozen=True)
class MnistSplits:
    """Preprocessed MNIST: images ``x_*`` (see :func:`preprocess_mnist`) and int labels ``y_*`` (n,).

    ``x_val``/``y_val`` are held out from the 60,000 training images (empty when ``n_val=0``);
    the test images are never used for training or model choice.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        """Number of images in each split."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def split_indices(n_total: int, n_first: int | None, n_last: int = 0, *, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random index sets of ``range(n_total)``: ``n_first`` (None: all that are left)
    and ``n_last``, from one seeded permutation. Raises ``ValueError`` when they don't fit."""
    if n_last < 0 or (n_first is not None and n_first < 1):
        raise ValueError(f"sizes must be positive (n_first) and non-negative (n_last); got {n_first}, {n_last}")
    if n_first is None:
        n_first = n_total - n_last
    if n_first + n_last > n_total:
        raise ValueError(f"asked for {n_first} + {n_last} images but there are only {n_total}; "
                         "lower the sizes in course_lib/profiles.py")
    if n_first < 1:
        raise ValueError(f"no images left for training after holding out {n_last}")
    perm = np.random.default_rng(seed).permutation(n_total)
    return np.sort(perm[:n_first]), np.sort(perm[n_total - n_last:])


def load_mnist_splits(n_train: int | None = None, n_test: int | None = None, *, n_val: int = 0,
                      flatten: bool = False, channels: bool = False, seed: int = SEED,
                      dtype: str = "float32") -> MnistSplits:
    """MNIST subsets, preprocessed: ``n_train`` training and ``n_val`` validation images drawn
    without overlap from the 60,000 training images, ``n_test`` of the 10,000 test images
    (None: all). Same ``seed``, same images. Shapes as :func:`preprocess_mnist`."""
    from course_lib.data import load_mnist

    (x_tr, y_tr), (x_te, y_te) = load_mnist()
    i_train, i_val = split_indices(len(y_tr), n_train, n_val, seed=seed)
    i_test, _ = split_indices(len(y_te), n_test, 0, seed=seed + 1)
    prep = dict(flatten=flatten, channels=channels, dtype=dtype)
    return MnistSplits(
        preprocess_mnist(x_tr[i_train], **prep), y_tr[i_train].astype("int64"),
        preprocess_mnist(x_tr[i_val], **prep), y_tr[i_val].astype("int64"),
        preprocess_mnist(x_te[i_test], **prep), y_te[i_test].astype("int64"),
    )
