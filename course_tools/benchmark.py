"""Training speed, side by side: the lesson-05 CNN and the lesson-08 LSTM through Keras on each
installed backend, and the same two models as a plain JAX and a plain PyTorch training loop.

    python -m course_tools.benchmark                                      # full MNIST, 3 timed epochs
    python -m course_tools.benchmark --samples 2048 --epochs 1 --out build/benchmark   # a quick dry run
    python -m course_tools.benchmark --impls keras-tensorflow --epochs 1  # seconds per epoch on a CPU

Every implementation trains the same model (same parameters and function, checked by
``tests/test_benchmark.py``) on the same MNIST images with the same batch size (128), optimiser,
loss (sparse cross-entropy) and epochs:

- ``cnn``: :func:`course_lib.models.build_mnist_cnn` (3×[conv 3×3 + max-pool 2×2], dense 625,
  dropout 0.5, softmax 10; 1,379,557 parameters); input (batch, 28, 28, 1); Adam, learning
  rate 1e-3, epsilon 1e-7.
- ``lstm``: lesson 08's classic model, each image read as 28 rows of 28 pixels, ``LSTM(30)``
  then a dense softmax over 10 digits (7,390 parameters); input (batch, 28, 28); RMSprop,
  learning rate 1e-3, rho 0.9, epsilon 1e-7 (PyTorch adds epsilon after the square root,
  Keras before it: the same speed, a negligible numerical difference).

Implementations (``--impls``; default: every one whose framework is installed):
``keras-tensorflow``, ``keras-jax``, ``keras-torch`` (``model.fit`` on NumPy arrays, as the
notebooks do), ``jax`` (a jitted train step in a Python loop, data on the device) and ``torch``
(an eager loop, data on the device, ``torch.nn.LSTM``, which uses cuDNN on a GPU). Each runs in
its own process (a fresh Keras backend, no memory shared between frameworks).

Timing: ``--warmup-steps`` batches first (compilation, cuDNN autotuning), then ``--epochs``
timed epochs over ``--samples`` images (rounded down to whole batches). The speed is the
samples per second of the median timed epoch; the ratio is each Keras run's time over the best
plain loop's (1.0 = as fast; the course's goal is at most 1.3 on the best Keras backend).

Writes ``benchmark.json`` and ``benchmark.md`` into ``--out``. The default is ``results/`` when
every run used a GPU, else ``build/benchmark/``; ``results/`` never takes a CPU run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from course_tools import ROOT, installed_versions

MODELS = ("cnn", "lstm")
KERAS_BACKENDS = ("tensorflow", "jax", "torch")
PLAIN = ("jax", "torch")
IMPLS = tuple(f"keras-{b}" for b in KERAS_BACKENDS) + PLAIN
SEED = 42

# The lesson-05 CNN (course_lib.models.build_mnist_cnn with these values) and the lesson-08 LSTM.
CNN_FILTERS = (32, 64, 128)
CNN_DENSE = 625
CNN_DROPOUT = 0.5
LSTM_UNITS = 30
SIDE = 28
N_CLASSES = 10
LEARNING_RATE = 1e-3
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Adam (Keras's defaults)
RHO = 0.9  # RMSprop (Keras's default)
OPTIMIZER = {"cnn": "adam", "lstm": "rmsprop"}  # as the lessons train them


# ----------------------------------------------------------------------------------------------
# The models, framework-free: parameter shapes in Keras's layout, and one seeded initialisation.
# ----------------------------------------------------------------------------------------------

def cnn_flat_size() -> int:
    """Length of the CNN's flattened feature vector: side 28 → 14 → 7 → 4 after the three
    "same" 2×2 poolings, times the last filter count (4 · 4 · 128 = 2048)."""
    from course_lib.models import pool_output_size

    side = SIDE
    for _ in CNN_FILTERS:
        side = pool_output_size(side, 2, padding="same")
    return side * side * CNN_FILTERS[-1]


def param_shapes(model: str) -> dict[str, tuple[int, ...]]:
    """The trainable parameters of ``model`` (``"cnn"`` or ``"lstm"``) in Keras's layout, in
    Keras's order: conv kernels (height, width, in, out), dense kernels (in, out), LSTM kernels
    (in, 4·units) with the gates in the order input, forget, cell, output."""
    if model == "cnn":
        shapes: dict[str, tuple[int, ...]] = {}
        channels = 1
        for i, f in enumerate(CNN_FILTERS, 1):
            shapes[f"conv_{i}/kernel"] = (3, 3, channels, f)
            shapes[f"conv_{i}/bias"] = (f,)
            channels = f
        shapes["dense/kernel"] = (cnn_flat_size(), CNN_DENSE)
        shapes["dense/bias"] = (CNN_DENSE,)
        shapes["output/kernel"] = (CNN_DENSE, N_CLASSES)
        shapes["output/bias"] = (N_CLASSES,)
        return shapes
    if model == "lstm":
        u = LSTM_UNITS
        return {"lstm/kernel": (SIDE, 4 * u), "lstm/recurrent_kernel": (u, 4 * u), "lstm/bias": (4 * u,),
                "output/kernel": (u, N_CLASSES), "output/bias": (N_CLASSES,)}
    raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def count_params(model: str) -> int:
    """Number of trainable parameters of ``model``, from :func:`param_shapes`."""
    return int(sum(np.prod(s) for s in param_shapes(model).values()))


def init_params(model: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """Seeded float32 parameters for :func:`param_shapes`: Glorot-uniform kernels (Keras's
    default), zero biases, LSTM forget-gate bias 1 (Keras's ``unit_forget_bias``)."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in param_shapes(model).items():
        if name.endswith("bias"):
            value = np.zeros(shape, np.float32)
            if name == "lstm/bias":
                value[LSTM_UNITS:2 * LSTM_UNITS] = 1.0
        else:
            receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            value = rng.uniform(-limit, limit, shape).astype(np.float32)
        params[name] = value
    return params


def load_data(model: str, samples: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` MNIST training images (rounded down to whole batches) shaped for ``model``:
    (n, 28, 28, 1) for the CNN, (n, 28, 28) rows-as-time-steps for the LSTM; labels int32 (n,)."""
    from course_lib.mnist import N_TRAIN, load_mnist_splits

    if batch_size < 1:
        raise ValueError(f"batch size must be positive; got {batch_size}")
    n = min(samples, N_TRAIN) // batch_size * batch_size
    if n < batch_size:
        raise ValueError(f"--samples {samples} is less than one batch of {batch_size}: "
                         "ask for more samples or a smaller --batch-size")
    d = load_mnist_splits(n, 10, channels=(model == "cnn"))
    return d.x_train, d.y_train.astype("int32")


# ----------------------------------------------------------------------------------------------
# Keras
# ----------------------------------------------------------------------------------------------

def build_keras(model: str):
    """The uncompiled Keras model: the course's CNN builder, or Input(28, 28) → LSTM(30) → Dense(10)."""
    import keras

    from course_lib.models import build_mnist_cnn

    if model == "cnn":
        return build_mnist_cnn(filters=CNN_FILTERS, dense_units=CNN_DENSE, dropout=CNN_DROPOUT)
    if model == "lstm":
        return keras.Sequential([keras.Input(shape=(SIDE, SIDE)),
                                 keras.layers.LSTM(LSTM_UNITS, name="lstm"),
                                 keras.layers.Dense(N_CLASSES, activation="softmax", name="output")],
                                name="mnist_lstm")
    raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def keras_weights_from(model: str, params: dict[str, np.ndarray]) -> list[np.ndarray]:
    """``params`` (see :func:`init_params`) as the list ``keras_model.set_weights`` takes."""
    return [params[name] for name in param_shapes(model)]


def run_keras(model: str, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, warmup_steps: int) -> dict:
    """Compile and fit the Keras model as a learner would; time warm-up and each epoch."""
    import keras

    from course_lib.setup import device_description

    keras.utils.set_random_seed(SEED)
    net = build_keras(model)
    optimizer = (keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1, beta_2=BETA_2, epsilon=EPSILON)
                 if OPTIMIZER[model] == "adam" else keras.optimizers.RMSprop(LEARNING_RATE, rho=RHO, epsilon=EPSILON))
    net.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    epoch_s: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_s.append(time.perf_counter() - self.start)

    n_warm = warmup_steps * batch_size
    start = time.perf_counter()
    net.fit(x[:n_warm], y[:n_warm], batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
    warmup_s = time.perf_counter() - start
    cpu = time.process_time()
    history = net.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0,
                      callbacks=[EpochTimer()])
    cpu_s = time.process_time() - cpu
    return {"params": int(net.count_params()), "device": device_description(), "warmup_s": warmup_s,
            "epoch_s": epoch_s, "cpu_s": cpu_s, "final_loss": float(history.history["loss"][-1]),
            "jit_compile": str(getattr(net, "jit_compile", "n/a"))}


# ----------------------------------------------------------------------------------------------
# Plain JAX
# ----------------------------------------------------------------------------------------------

def jax_forward(model: str):
    """``apply(params, x, key, train) -> logits`` for ``model`` in plain JAX (Keras's layouts)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def cnn(p, x, key, train):
        h = x
        for i in range(1, len(CNN_FILTERS) + 1):
            h = lax.conv_general_dilated(h, p[f"conv_{i}/kernel"], (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + p[f"conv_{i}/bias"])
            h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
        h = h.reshape(h.shape[0], -1)
        h = jax.nn.relu(h @ p["dense/kernel"] + p["dense/bias"])
        if train:
            keep = jax.random.bernoulli(key, 1.0 - CNN_DROPOUT, h.shape)
            h = jnp.where(keep, h / (1.0 - CNN_DROPOUT), 0.0)
        return h @ p["output/kernel"] + p["output/bias"]

    def lstm(p, x, key, train):
        xz = jnp.swapaxes(x, 0, 1) @ p["lstm/kernel"] + p["lstm/bias"]  # (time, batch, 4·units)
        zeros = jnp.zeros((x.shape[0], LSTM_UNITS), x.dtype)

        def step(state, z_t):
            h, c = state
            i, f, g, o = jnp.split(z_t + h @ p["lstm/recurrent_kernel"], 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        (h, _), _ = lax.scan(step, (zeros, zeros), xz)
        return h @ p["output/kernel"] + p["output/bias"]

    return {"cnn": cnn, "lstm": lstm}[model]


def run_jax(model: str, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, warmup_steps: int) -> dict:
    """A plain JAX loop: data on the device, a jitted step (batch gather, loss, gradient, update)."""
    import jax
    import jax.numpy as jnp

    apply = jax_forward(model)

    def loss_fn(p, xb, yb, key):
        logp = jax.nn.log_softmax(apply(p, xb, key, True))
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    @jax.jit
    def train_step(p, m, v, t, x_all, y_all, perm, i, key):
        idx = jax.lax.dynamic_slice_in_dim(perm, i * batch_size, batch_size)
        loss, g = jax.value_and_grad(loss_fn)(p, x_all[idx], y_all[idx], jax.random.fold_in(key, t))
        t = t + 1
        if OPTIMIZER[model] == "rmsprop":  # Keras's RMSprop (m unused)
            v = jax.tree.map(lambda v_, g_: RHO * v_ + (1 - RHO) * g_ * g_, v, g)
            p = jax.tree.map(lambda p_, g_, v_: p_ - LEARNING_RATE * g_ / jnp.sqrt(v_ + EPSILON), p, g, v)
            return p, m, v, t, loss
        m = jax.tree.map(lambda m_, g_: BETA_1 * m_ + (1 - BETA_1) * g_, m, g)  # Keras's Adam
        v = jax.tree.map(lambda v_, g_: BETA_2 * v_ + (1 - BETA_2) * g_ * g_, v, g)
        lr = LEARNING_RATE * jnp.sqrt(1 - BETA_2 ** t) / (1 - BETA_1 ** t)
        p = jax.tree.map(lambda p_, m_, v_: p_ - lr * m_ / (jnp.sqrt(v_) + EPSILON), p, m, v)
        return p, m, v, t, loss

    device = jax.devices()[0]
    # Everything committed to one device from the start: a step whose inputs change from
    # uncommitted to committed arrays would be compiled twice (once inside the timed epochs).
    p = jax.device_put(init_params(model), device)
    m = jax.device_put(jax.tree.map(np.zeros_like, init_params(model)), device)
    v = jax.device_put(jax.tree.map(np.zeros_like, init_params(model)), device)
    t = jax.device_put(np.zeros((), np.float32), device)
    x_all, y_all = jax.device_put(x, device), jax.device_put(y, device)
    key = jax.device_put(jax.random.key(SEED), device)
    n, steps = len(y), len(y) // batch_size

    def epoch(e: int, n_steps: int) -> float:
        nonlocal p, m, v, t
        perm = jax.random.permutation(jax.random.fold_in(key, 10_000 + e), n)
        total = jnp.zeros(())
        for i in range(n_steps):
            p, m, v, t, loss = train_step(p, m, v, t, x_all, y_all, perm, i, key)
            total = total + loss
        return float(total) / n_steps  # float() waits for the device

    start = time.perf_counter()
    epoch(-1, min(warmup_steps, steps))
    warmup_s = time.perf_counter() - start
    epoch_s, loss, cpu = [], float("nan"), time.process_time()
    for e in range(epochs):
        start = time.perf_counter()
        loss = epoch(e, steps)
        epoch_s.append(time.perf_counter() - start)
    cpu_s = time.process_time() - cpu
    kind = "GPU" if device.platform == "gpu" else device.platform.upper()
    name = device.device_kind if device.platform == "gpu" else f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"
    return {"params": int(sum(a.size for a in jax.tree.leaves(p))), "device": f"{kind}: {name}",
            "warmup_s": warmup_s, "epoch_s": epoch_s, "cpu_s": cpu_s, "final_loss": loss}


# ----------------------------------------------------------------------------------------------
# Plain PyTorch
# ----------------------------------------------------------------------------------------------

def torch_model(model: str, params: dict[str, np.ndarray] | None = None):
    """The ``torch.nn.Module`` for ``model`` (outputs logits), loaded with ``params`` (Keras
    layout, default :func:`init_params`) so that it computes the same function as the Keras and
    JAX models. Images come in channels-last like the others and are permuted inside."""
    import torch
    from torch import nn

    params = init_params(model) if params is None else params

    def put(tensor, value):
        with torch.no_grad():
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            chans = (1, *CNN_FILTERS)
            self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding="same")
                                       for i in range(len(CNN_FILTERS)))
            self.pool = nn.MaxPool2d(2, ceil_mode=True)  # = Keras's 2×2 "same" pooling (7 → 4)
            self.dense = nn.Linear(cnn_flat_size(), CNN_DENSE)
            self.dropout = nn.Dropout(CNN_DROPOUT)
            self.out = nn.Linear(CNN_DENSE, N_CLASSES)

        def forward(self, x):  # x (batch, 28, 28, 1)
            h = x.permute(0, 3, 1, 2)
            for conv in self.convs:
                h = self.pool(torch.relu(conv(h)))
            h = h.permute(0, 2, 3, 1).flatten(1)  # channels-last order, as Keras flattens
            return self.out(self.dropout(torch.relu(self.dense(h))))

    class LSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(SIDE, LSTM_UNITS, batch_first=True)  # gates i, f, g, o as Keras
            # Keras has one bias per gate, PyTorch two (input and hidden): keep the second at zero.
            self.lstm.bias_hh_l0.requires_grad_(False)
            self.out = nn.Linear(LSTM_UNITS, N_CLASSES)

        def forward(self, x):  # x (batch, 28, 28): 28 time steps of 28 pixels
            _, (h, _) = self.lstm(x)
            return self.out(h[-1])

    if model == "cnn":
        net = CNN()
        for i, conv in enumerate(net.convs, 1):
            put(conv.weight, params[f"conv_{i}/kernel"].transpose(3, 2, 0, 1))
            put(conv.bias, params[f"conv_{i}/bias"])
        put(net.dense.weight, params["dense/kernel"].T)
        put(net.dense.bias, params["dense/bias"])
    elif model == "lstm":
        net = LSTM()
        put(net.lstm.weight_ih_l0, params["lstm/kernel"].T)
        put(net.lstm.weight_hh_l0, params["lstm/recurrent_kernel"].T)
        put(net.lstm.bias_ih_l0, params["lstm/bias"])
        put(net.lstm.bias_hh_l0, np.zeros_like(params["lstm/bias"]))
    else:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    put(net.out.weight, params["output/kernel"].T)
    put(net.out.bias, params["output/bias"])
    return net


def run_torch(model: str, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, warmup_steps: int) -> dict:
    """A plain PyTorch loop: data on the device, eager forward/backward, ``torch.optim``."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(SEED)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = torch_model(model).to(device)
    trainable = [q for q in net.parameters() if q.requires_grad]
    opt = (torch.optim.Adam(trainable, lr=LEARNING_RATE, betas=(BETA_1, BETA_2), eps=EPSILON)
           if OPTIMIZER[model] == "adam" else torch.optim.RMSprop(trainable, lr=LEARNING_RATE, alpha=RHO, eps=EPSILON))
    x_all, y_all = torch.from_numpy(x).to(device), torch.from_numpy(y).long().to(device)
    gen = torch.Generator(device=device).manual_seed(SEED)
    n, steps = len(y), len(y) // batch_size
    net.train()

    def epoch(n_steps: int) -> float:
        perm = torch.randperm(n, device=device, generator=gen)
        total = torch.zeros((), device=device)
        for i in range(n_steps):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
            total += loss.detach()
        return float(total) / n_steps  # float() waits for the device

    start = time.perf_counter()
    epoch(min(warmup_steps, steps))
    warmup_s = time.perf_counter() - start
    epoch_s, loss, cpu = [], float("nan"), time.process_time()
    for _ in range(epochs):
        start = time.perf_counter()
        loss = epoch(steps)
        epoch_s.append(time.perf_counter() - start)
    cpu_s = time.process_time() - cpu
    name = (f"GPU: {torch.cuda.get_device_name(0)}" if device.type == "cuda"
            else f"CPU: {platform.processor() or platform.machine()} ({os.cpu_count()} cores)")
    return {"params": int(sum(q.numel() for q in net.parameters() if q.requires_grad)), "device": name,
            "warmup_s": warmup_s, "epoch_s": epoch_s, "cpu_s": cpu_s, "final_loss": loss}


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available_impls() -> list[str]:
    """Every implementation whose framework is importable here."""
    return [i for i in IMPLS if installed(i.removeprefix("keras-"))]


def run_one(impl: str, model: str, samples: int, batch_size: int, epochs: int, warmup_steps: int) -> dict:
    """Train ``model`` with ``impl`` in this process; return its timing record."""
    if impl.startswith("keras-"):
        import keras

        backend = impl.removeprefix("keras-")
        if keras.backend.backend() != backend:
            raise RuntimeError(f"this process runs Keras on {keras.backend.backend()!r}, not {backend!r}: "
                               f"set KERAS_BACKEND={backend} (the driver does this in a subprocess)")
    x, y = load_data(model, samples, batch_size)
    warmup_steps = max(1, min(warmup_steps, len(y) // batch_size))
    runner = run_keras if impl.startswith("keras-") else {"jax": run_jax, "torch": run_torch}[impl]
    record = runner(model, x, y, batch_size, epochs, warmup_steps)
    s_per_epoch = statistics.median(record["epoch_s"])
    # CPU seconds the process used per timed epoch (all its threads): on a busy CPU the wall
    # time grows but this does not, so it tells what the epoch costs on an idle machine.
    return {"model": model, "impl": impl, "optimizer": OPTIMIZER[model], "samples": int(len(y)),
            "batch_size": batch_size, "epochs": epochs, "warmup_steps": warmup_steps, **record,
            "s_per_epoch": s_per_epoch, "samples_per_s": len(y) / s_per_epoch,
            "cpu_s_per_epoch": record["cpu_s"] / epochs}


def run_in_subprocess(impl: str, model: str, args: argparse.Namespace) -> dict:
    """:func:`run_one` in a fresh Python process (its own Keras backend and device memory)."""
    env = dict(os.environ)
    # The plain loops import Keras too (course_lib.models, for the layer arithmetic): give it the
    # loop's own framework, so that a venv without TensorFlow works.
    env["KERAS_BACKEND"] = impl.removeprefix("keras-")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, "-m", "course_tools.benchmark", "--worker", impl, "--models", model,
               "--samples", str(args.samples), "--batch-size", str(args.batch_size),
               "--epochs", str(args.epochs), "--warmup-steps", str(args.warmup_steps), "--worker-json", str(out)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
            return {"model": model, "impl": impl, "error": "\n".join(tail) or f"exit code {proc.returncode}"}
        return json.loads(out.read_text())


def add_ratios(runs: list[dict]) -> list[dict]:
    """For each model, each Keras run's seconds per epoch over the best plain loop's."""
    ratios = []
    for model in MODELS:
        ok = [r for r in runs if r["model"] == model and "error" not in r]
        plain = [r for r in ok if r["impl"] in PLAIN]
        if not plain:
            continue
        best = min(plain, key=lambda r: r["s_per_epoch"])
        for r in ok:
            if r["impl"].startswith("keras-"):
                ratios.append({"model": model, "keras": r["impl"], "best_plain": best["impl"],
                               "ratio": r["s_per_epoch"] / best["s_per_epoch"]})
    return ratios


def to_markdown(doc: dict) -> str:
    meta = doc["meta"]
    lines = ["# Training speed: Keras backends and plain loops", "",
             f"- date: {meta['date']}", f"- host: {meta['host']}",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
             f"- {meta['samples']} MNIST training images per epoch (whole batches of {meta['batch_size']}), "
             f"{meta['warmup_steps']} warm-up steps, then {meta['epochs']} timed epoch(s); "
             "speed = samples/s of the median epoch; CPU s / epoch = CPU time the process used (all threads)",
             f"- load average (1 min) at start and end: {meta['load_average'][0]:.1f}, {meta['load_average'][1]:.1f} "
             f"on {os.cpu_count()} cores", ""]
    ratio = {(r["model"], r["keras"]): r for r in doc["ratios"]}
    for model in MODELS:
        runs = [r for r in doc["runs"] if r["model"] == model]
        if not runs:
            continue
        title = {"cnn": "Lesson-05 CNN", "lstm": "Lesson-08 LSTM"}[model]
        lines += [f"## {title} ({OPTIMIZER[model]})", "", "| implementation | device | parameters | warm-up (s) | s / epoch | "
                  "samples / s | × best plain loop | CPU s / epoch | final loss |", "|---|---|---|---|---|---|---|---|---|"]
        for r in runs:
            if "error" in r:
                lines.append(f"| {r['impl']} | **FAILED**: {r['error'].splitlines()[-1][:200]} | | | | | | | |")
                continue
            q = ratio.get((model, r["impl"]))
            times = f"{q['ratio']:.2f}" if q else "—"
            lines.append(f"| {r['impl']} | {r['device']} | {r['params']:,} | {r['warmup_s']:.1f} | "
                         f"{r['s_per_epoch']:.2f} | {r['samples_per_s']:,.0f} | {times} | {r['cpu_s_per_epoch']:.1f} | "
                         f"{r['final_loss']:.4f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impls", nargs="+", choices=IMPLS, help="default: every installed one")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--samples", type=int, default=60000, help="training images per epoch (max 60000)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs, after the warm-up")
    parser.add_argument("--warmup-steps", type=int, default=20)
    parser.add_argument("--out", type=Path, help="default: results/ if every run used a GPU, else build/benchmark")
    parser.add_argument("--no-subprocess", action="store_true",
                        help="run in this process (only the current Keras backend; for tests)")
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.warmup_steps < 0:
        parser.error("--epochs must be at least 1 and --warmup-steps non-negative")

    if args.worker:
        record = run_one(args.worker, args.models[0], args.samples, args.batch_size, args.epochs, args.warmup_steps)
        args.worker_json.write_text(json.dumps(record))
        return 0

    impls = args.impls or available_impls()
    missing = [i for i in impls if not installed(i.removeprefix("keras-"))]
    if missing:
        parser.error(f"not installed here: {', '.join(missing)} (installed: {', '.join(available_impls())})")
    results_dir = (ROOT / "results").resolve()
    if args.out is not None and args.out.resolve() == results_dir:
        print("note: results/ takes this run only if every implementation ran on a GPU")
    runs, load_start = [], os.getloadavg()[0]

    def stop(signum, frame):  # a time limit: keep the runs that finished
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    stopped = False
    try:
        for model in args.models:
            for impl in impls:
                print(f"{model:5s} {impl:17s}", end=" ", flush=True)
                if args.no_subprocess:
                    r = run_one(impl, model, args.samples, args.batch_size, args.epochs, args.warmup_steps)
                else:
                    r = run_in_subprocess(impl, model, args)
                runs.append(r)
                print(f"FAILED: {r['error']}" if "error" in r else
                      f"{r['s_per_epoch']:8.2f} s/epoch {r['samples_per_s']:10,.0f} samples/s  ({r['device']})",
                      flush=True)
    except KeyboardInterrupt:  # subprocess.run has ended the run in progress
        stopped = True
        done = {(r["model"], r["impl"]) for r in runs}
        runs += [{"model": m, "impl": i, "error": "not run: the benchmark was stopped (time limit)"}
                 for m in args.models for i in impls if (m, i) not in done]
        print("\nstopped: the runs not finished are reported as not run", flush=True)
    all_gpu = bool(runs) and all(r.get("device", "").startswith("GPU") for r in runs)
    out = args.out if args.out is not None else (results_dir if all_gpu else ROOT / "build" / "benchmark")
    if out.resolve() == results_dir and not all_gpu:
        print("refusing to write into results/: it holds real GPU runs only, and this run used a CPU "
              "or failed; pass --out build/benchmark", file=sys.stderr)
        return 2
    ok = [r for r in runs if "error" not in r]
    doc = {"meta": {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "host": f"{platform.node()} ({os.cpu_count()} CPU cores), python {platform.python_version()}",
                    "versions": installed_versions(), "samples": ok[0]["samples"] if ok else args.samples,
                    "batch_size": args.batch_size, "epochs": args.epochs, "warmup_steps": args.warmup_steps,
                    "load_average": [load_start, os.getloadavg()[0]],
                    "command": " ".join(["python -m course_tools.benchmark",
                                         *(argv if argv is not None else sys.argv[1:])]),
                    "stopped": stopped},
           "runs": runs, "ratios": add_ratios(runs)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.json").write_text(json.dumps(doc, indent=1))
    (out / "benchmark.md").write_text(to_markdown(doc), encoding="utf-8")
    for q in doc["ratios"]:
        print(f"{q['model']:5s} {q['keras']:17s} {q['ratio']:.2f} × the time of plain {q['best_plain']}")
    print(f"wrote {out / 'benchmark.md'} and benchmark.json")
    return 1 if len(ok) < len(runs) else 0


if __name__ == "__main__":
    sys.exit(main())
