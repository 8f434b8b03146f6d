"""NumPy reference recurrent cells in Keras's weight layout, for tests and graded assignments.

The lessons write their cells themselves (06: the vanilla RNN, 07: GRU and LSTM); these are the
independent references those cells and the learners' answers are checked against. Each step
function takes one time step of a batch and returns the new state; :func:`unroll_numpy` runs a
whole sequence. Weights are laid out as Keras stores them, so ``layer.get_weights()`` of a
``keras.layers.SimpleRNN``, ``GRU`` or ``LSTM`` can be passed straight in:

- ``kernel``: (features, k * units), the input weights, gates side by side;
- ``recurrent_kernel``: (units, k * units), the state weights;
- ``bias``: (k * units,), or for a GRU with ``reset_after=True`` (2, 3 * units): row 0 is the
  input bias, row 1 the recurrent bias.

Gate order: SimpleRNN k = 1; GRU k = 3 in the order (z update, r reset, h̃ candidate); LSTM k = 4
in the order (i input, f forget, c̃ candidate, o output). The recurrent activation is the sigmoid.

>>> import numpy as np
>>> x, h = np.ones((1, 2)), np.zeros((1, 3))
>>> simple_rnn_step_numpy(x, h, np.zeros((2, 3)), np.eye(3), np.zeros(3)).shape
(1, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CELLS: dict[str, int] = {"simple_rnn": 1, "gru": 3, "lstm": 4}


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-a), elementwise, without overflow warnings."""
    a = np.asarray(a, dtype=float)
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _check(cell: str, x: np.ndarray, h: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray,
           bias: np.ndarray | None, *, reset_after: bool = False) -> int:
    """Validate shapes for one step of ``cell``; return the number of units."""
    k = CELLS[cell]
    if x.ndim != 2:
        raise ValueError(f"{cell}: x must have shape (batch, features) for one time step; got {x.shape}. "
                         "To run a whole (batch, time, features) sequence use unroll_numpy.")
    if h.ndim != 2 or h.shape[0] != x.shape[0]:
        raise ValueError(f"{cell}: the state h must have shape (batch, units) with batch={x.shape[0]} "
                         f"like x; got {h.shape}")
    units = h.shape[1]
    if kernel.shape != (x.shape[1], k * units):
        raise ValueError(f"{cell}: kernel must have shape (features, {k} * units) = "
                         f"({x.shape[1]}, {k * units}) for x {x.shape} and h {h.shape}; got {kernel.shape}")
    if recurrent_kernel.shape != (units, k * units):
        raise ValueError(f"{cell}: recurrent_kernel must have shape (units, {k} * units) = "
                         f"({units}, {k * units}); got {recurrent_kernel.shape}")
    if bias is not None:
        want = (2, k * units) if reset_after else (k * units,)
        if bias.shape != want:
            hint = (" (a GRU with reset_after=True has an input and a recurrent bias)" if reset_after
                    else " (pass reset_after=True for a bias of shape (2, 3 * units))" if cell == "gru" else "")
            raise ValueError(f"{cell}: bias must have shape {want}{hint}; got {bias.shape}")
    return units


def _arrays(*arrays: np.ndarray | None) -> list[np.ndarray | None]:
    return [None if a is None else np.asarray(a, dtype=float) for a in arrays]


def simple_rnn_step_numpy(x: np.ndarray, h: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray,
                          bias: np.ndarray | None = None) -> np.ndarray:
    """One step of ``keras.layers.SimpleRNN``: h_t = tanh(x_t W + h_{t-1} U + b).

    ``x`` (batch, features), ``h`` (batch, units) -> new ``h`` (batch, units).
    """
    x, h, kernel, recurrent_kernel, bias = _arrays(x, h, kernel, recurrent_kernel, bias)
    _check("simple_rnn", x, h, kernel, recurrent_kernel, bias)
    a = x @ kernel + h @ recurrent_kernel
    return np.tanh(a if bias is None else a + bias)


def gru_step_numpy(x: np.ndarray, h: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray,
                   bias: np.ndarray | None = None, reset_after: bool = True) -> np.ndarray:
    """One step of ``keras.layers.GRU``: ``x`` (batch, features), ``h`` (batch, units) -> new ``h``.

    z = σ(x W_z + h U_z + b_z), r = σ(x W_r + h U_r + b_r), h_t = z ⊙ h + (1 - z) ⊙ h̃ with
    ``reset_after=True`` (Keras's default): h̃ = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)),
    ``reset_after=False`` (the original paper): h̃ = tanh(x W_h + (r ⊙ h) U_h + b_h).
    """
    x, h, kernel, recurrent_kernel, bias = _arrays(x, h, kernel, recurrent_kernel, bias)
    units = _check("gru", x, h, kernel, recurrent_kernel, bias, reset_after=reset_after)
    if bias is None:
        b_in, b_rec = np.zeros(3 * units), np.zeros(3 * units)
    elif reset_after:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = bias, np.zeros(3 * units)
    xw = x @ kernel + b_in
    u = slice(0, units), slice(units, 2 * units), slice(2 * units, 3 * units)
    hu_zr = h @ recurrent_kernel[:, : 2 * units] + b_rec[: 2 * units]
    z = sigmoid(xw[:, u[0]] + hu_zr[:, u[0]])
    r = sigmoid(xw[:, u[1]] + hu_zr[:, u[1]])
    if reset_after:
        candidate = np.tanh(xw[:, u[2]] + r * (h @ recurrent_kernel[:, u[2]] + b_rec[u[2]]))
    else:
        candidate = np.tanh(xw[:, u[2]] + (r * h) @ recurrent_kernel[:, u[2]])
    return z * h + (1.0 - z) * candidate


def lstm_step_numpy(x: np.ndarray, h: np.ndarray, c: np.ndarray, kernel: np.ndarray,
                    recurrent_kernel: np.ndarray, bias: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One step of ``keras.layers.LSTM``: ``x`` (batch, features), ``h`` and ``c`` (batch, units)
    -> new ``(h, c)``.

    [i, f, c̃, o] = [σ, σ, tanh, σ](x W + h U + b); c_t = f ⊙ c + i ⊙ c̃; h_t = o ⊙ tanh(c_t).
    """
    x, h, c, kernel, recurrent_kernel, bias = _arrays(x, h, c, kernel, recurrent_kernel, bias)
    units = _check("lstm", x, h, kernel, recurrent_kernel, bias)
    if c.shape != h.shape:
        raise ValueError(f"lstm: the carry c must have the shape of h {h.shape}; got {c.shape}")
    a = x @ kernel + h @ recurrent_kernel
    if bias is not None:
        a = a + bias
    i, f, g, o = (a[:, j * units:(j + 1) * units] for j in range(4))
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_new), c_new


def unroll_numpy(cell: str, x: np.ndarray, weights: Sequence[np.ndarray], *, reset_after: bool = True,
                 return_sequences: bool = False) -> np.ndarray:
    """Run ``cell`` (``"simple_rnn"``, ``"gru"`` or ``"lstm"``) over ``x`` (batch, time, features)
    from a zero state, with ``weights = layer.get_weights()`` of the matching Keras layer.

    Returns the last output (batch, units), or every output (batch, time, units) with
    ``return_sequences=True``, like the Keras layer.
    """
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; use one of {', '.join(CELLS)}")
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, time, features); got {x.shape}. "
                         "Add a batch axis with x[None] for a single sequence.")
    if len(weights) not in (2, 3):
        raise ValueError(f"weights must be [kernel, recurrent_kernel] or [kernel, recurrent_kernel, bias] "
                         f"(layer.get_weights()); got {len(weights)} arrays")
    kernel, recurrent_kernel = np.asarray(weights[0]), np.asarray(weights[1])
    bias = np.asarray(weights[2]) if len(weights) == 3 else None
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        if cell == "simple_rnn":
            h = simple_rnn_step_numpy(x[:, t], h, kernel, recurrent_kernel, bias)
        elif cell == "gru":
            h = gru_step_numpy(x[:, t], h, kernel, recurrent_kernel, bias, reset_after=reset_after)
        else:
            h, c = lstm_step_numpy(x[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs.append(h)
    return np.stack(outputs, axis=1) if return_sequences else h


def copy_weights(source, target) -> None:
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
