"""Automatic differentiation on whichever Keras backend is active (TensorFlow, JAX or PyTorch).

Keras 3 writes the forward computation once (``keras.ops``), but taking a gradient is the
backend's job: ``tf.GradientTape``, ``jax.grad`` or ``torch.autograd``. :func:`value_and_grad`
hides that one difference, so a lesson can compare its hand-written backpropagation with the
framework's on any backend (lesson 03) or measure gradient norms layer by layer (lesson 04).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def value_and_grad(fn: Callable[..., object], *arrays: np.ndarray, dtype: str = "float64"
                   ) -> tuple[float, list[np.ndarray]]:
    """The value of a scalar function ``fn(*arrays)`` and its gradient with respect to each array.

    ``fn`` must be written with ``keras.ops`` (so it runs on every backend) and return a scalar.
    The arrays are converted to ``dtype`` tensors first (float64 by default, so that a gradient
    check can reach a relative error of 1e-9; on JAX this switches on ``jax_enable_x64``).
    Returns ``(value, [gradient of each array, as a NumPy array of the same shape])``.

    >>> import keras
    >>> value_and_grad(lambda w: keras.ops.sum(w ** 2), np.array([1.0, -2.0]))
    (5.0, [array([ 2., -4.])])
    """
    import keras

    if not arrays:
        raise ValueError("value_and_grad needs at least one array to differentiate with respect to")
    values = [np.asarray(a, dtype=dtype) for a in arrays]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xs = [tf.constant(v) for v in values]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = fn(*xs)
        grads = tape.gradient(y, xs)
    elif backend == "jax":
        import jax

        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        y, grads = jax.value_and_grad(fn, argnums=tuple(range(len(values))))(*[jax.numpy.asarray(v) for v in values])
    elif backend == "torch":
        import torch

        xs = [torch.tensor(v, requires_grad=True) for v in values]
        y = fn(*xs)
        y.backward()
        grads = [x.grad for x in xs]
        y = y.detach()
    else:
        raise ValueError(f"no automatic differentiation for the Keras backend {backend!r}")
    y = np.asarray(keras.ops.convert_to_numpy(y))
    if y.size != 1:
        raise ValueError(f"fn must return a scalar; it returned shape {y.shape}")
    out = []
    for v, g in zip(values, grads, strict=True):
        # an array fn does not use has no gradient (None on TensorFlow): it is zero
        out.append(np.zeros_like(v) if g is None else np.asarray(keras.ops.convert_to_numpy(g)))
    return float(y), out


def relative_error(a: np.ndarray | list[np.ndarray], b: np.ndarray | list[np.ndarray]) -> float:
    """``‖a − b‖ / (‖a‖ + ‖b‖)`` over all entries (lists of arrays are concatenated).

    The usual yardstick of a gradient check: about 1e-9 in float64 for a correct gradient, about
    1e-1 or more for a wrong one; 0 when both are zero.
    """
    a_flat = np.concatenate([np.ravel(x) for x in (a if isinstance(a, list) else [a])]).astype(float)
    b_flat = np.concatenate([np.ravel(x) for x in (b if isinstance(b, list) else [b])]).astype(float)
    if a_flat.shape != b_flat.shape:
        raise ValueError(f"cannot compare gradients with {a_flat.size} and {b_flat.size} entries")
    denom = np.linalg.norm(a_flat) + np.linalg.norm(b_flat)
    return 0.0 if denom == 0 else float(np.linalg.norm(a_flat - b_flat) / denom)
