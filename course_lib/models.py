"""Model builders, layer arithmetic and weight copying shared by several lessons.

- :func:`conv_output_size`, :func:`pool_output_size`: the side length a convolution or pooling
  layer produces, with a clear ``ValueError`` on impossible settings.
- :func:`build_mlp`: a multilayer perceptron for flattened images (lessons 03 and 04).
- :func:`build_mnist_cnn`: the classic three-block MNIST CNN (lesson 05).
- :func:`copy_weights`: one layer's weights into another of the same shapes, to compare a
  from-scratch layer with Keras's (lessons 06 to 08).

The builders return *uncompiled* ``keras.Sequential`` models, so each lesson chooses (and shows)
its optimiser, loss and metrics.

>>> conv_output_size(5, 3, stride=2)
2
>>> pool_output_size(7, 2, padding="same")
4
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

PADDINGS = ("valid", "same")


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return value


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, padding: int | str = 0) -> int:
    """The side length of a convolution's output along one axis.

    ``padding`` is a number of zeros added on *each* side, or Keras's ``"valid"`` (no padding) or
    ``"same"`` (pad so that the output is ``ceil(input_size / stride)``). With a number ``p`` the
    output is ``floor((n + 2p - f) / s) + 1`` for input ``n``, filter ``f`` and stride ``s``: the
    floor drops the last positions where the filter would stick out, as Keras does.

    >>> conv_output_size(4, 3)
    2
    >>> conv_output_size(5, 4, stride=1, padding=2)
    6

    Raises ``ValueError`` when a size or the stride is not a positive integer, the padding is
    negative or unknown, or the filter is larger than the padded input (no output position).
    """
    n = _positive_int("input_size", input_size)
    f = _positive_int("filter_size", filter_size)
    s = _positive_int("stride", stride)
    if isinstance(padding, str):
        if padding not in PADDINGS:
            raise ValueError(f"padding must be a non-negative integer, 'valid' or 'same'; got {padding!r}")
        if padding == "same":
            return math.ceil(n / s)
        padding = 0
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, 'valid' or 'same'; got {padding!r}")
    padded = n + 2 * padding
    if f > padded:
        raise ValueError(
            f"a {f}-wide filter does not fit in an input of {n} with padding {padding} on each side "
            f"(padded size {padded}): use a smaller filter or more padding"
        )
    return (padded - f) // s + 1


def pool_output_size(input_size: int, pool_size: int = 2, stride: int | None = None,
                     padding: str = "valid") -> int:
    """The side length of a pooling layer's output along one axis.

    The stride defaults to ``pool_size`` (non-overlapping windows, as in Keras). ``"valid"``
    keeps only whole windows: ``floor((n - k) / s) + 1``; ``"same"`` pads the border so that a
    partial window still gives an output: ``ceil(n / s)``. So 2×2 pooling takes 7 to 3 with
    ``"valid"`` and to 4 with ``"same"``.

    Raises ``ValueError`` on a non-positive size or stride, an unknown padding, or a window
    larger than the input with ``"valid"`` padding.
    """
    n = _positive_int("input_size", input_size)
    k = _positive_int("pool_size", pool_size)
    s = k if stride is None else _positive_int("stride", stride)
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same' for pooling; got {padding!r}")
    if padding == "same":
        return math.ceil(n / s)
    if k > n:
        raise ValueError(f"a {k}-wide pooling window does not fit in an input of {n} with 'valid' "
                         "padding: use a smaller window or padding='same'")
    return (n - k) // s + 1


def build_mlp(input_dim: int = 784, hidden: Sequence[int] = (512,), n_classes: int = 10, *,
              activation: str = "relu", kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
              dropout: float = 0.0, batch_norm: bool = False, bn_momentum: float = 0.99,
              name: str = "mlp") -> keras.Sequential:
    """A multilayer perceptron: ``input_dim`` → each of ``hidden`` → ``n_classes`` softmax.

    Each hidden block is ``Dense(units)`` (+ ``BatchNormalization`` before the activation when
    ``batch_norm``) → ``activation`` (+ ``Dropout(dropout)`` when ``dropout > 0``). Input shape
    ``(batch, input_dim)``, output ``(batch, n_classes)`` class probabilities. Uncompiled.
    ``bn_momentum`` is the batch-norm running averages' momentum (Keras's 0.99 needs a few hundred
    steps to forget its start; 0.9 suits short trainings).

    Parameters: ``(d_in + 1) · d_out`` per dense layer, plus ``4 · units`` per batch-norm layer
    (γ, β trainable; moving mean and variance not).
    """
    _positive_int("input_dim", input_dim)
    _positive_int("n_classes", n_classes)
    for units in hidden:
        _positive_int("each hidden layer size", units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(input_dim,)))
    for i, units in enumerate(hidden, 1):
        model.add(layers.Dense(units, kernel_initializer=kernel_initializer,
                               activation=None if batch_norm else activation, name=f"dense_{i}"))
        if batch_norm:
            model.add(layers.BatchNormalization(momentum=bn_momentum, name=f"batch_norm_{i}"))
            model.add(layers.Activation(activation, name=f"{activation}_{i}"))
        if dropout > 0:
            model.add(layers.Dropout(dropout, name=f"dropout_{i}"))
    model.add(layers.Dense(n_classes, activation="softmax", kernel_initializer=kernel_initializer, name="output"))
    return model


def build_mnist_cnn(filters: Sequence[int] = (32, 64, 128), dense_units: int = 625, dropout: float = 0.5,
                    input_shape: tuple[int, int, int] = (28, 28, 1), n_classes: int = 10,
                    name: str = "mnist_cnn") -> keras.Sequential:
    """The classic MNIST CNN: per entry of ``filters`` a 3×3 ``"same"`` ReLU convolution and a
    2×2 max-pooling with ``"same"`` padding; then flatten, ``Dense(dense_units, relu)``,
    ``Dropout(dropout)`` and a ``n_classes`` softmax.

    Input ``(batch, 28, 28, 1)`` pixels in [0, 1]; output ``(batch, n_classes)`` probabilities.
    With the defaults the maps are 28 → 14 → 7 → 4 wide and the model has 1,379,557 parameters.
    Uncompiled.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape!r}")
    for f in filters:
        _positive_int("each filter count", f)
    _positive_int("dense_units", dense_units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=input_shape))
    for i, f in enumerate(filters, 1):
        model.add(layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv_{i}"))
        model.add(layers.MaxPooling2D(2, padding="same", name=f"pool_{i}"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(dense_units, activation="relu", name="dense"))
    model.add(layers.Dropout(dropout, name="dropout"))
    model.add(layers.Dense(n_classes, activation="softmax", name="output"))
    return model


def copy_weights(source: keras.layers.Layer, target: keras.layers.Layer) -> None:
    """Give the Keras layer ``target`` the weights of ``source`` (both built), checking shapes.

    Use it to put a Keras layer's weights into a from-scratch cell (or back) before comparing.
    """
    src, dst = source.get_weights(), target.get_weights()
    if not dst:
        raise ValueError(f"the target layer {target.name!r} has no weights yet: build it first "
                         "(call it once on an input of the right shape)")
    got, want = [w.shape for w in src], [w.shape for w in dst]
    if got != want:
        raise ValueError(f"cannot copy weights of shapes {got} from {source.name!r} into {target.name!r}, "
                         f"which has weights of shapes {want}. Same units, input size and cell type?")
    target.set_weights(src)
