"""Run profiles: ``learn`` (the default, for people: minutes per notebook on a laptop CPU, results
that tell the lesson's story), ``full`` (the real thing, on a GPU) and ``smoke`` (seconds per
notebook on a CPU, for tests and CI, which set it explicitly).

The profile is chosen with the ``COURSE_PROFILE`` environment variable (unset: ``learn``). It changes sizes and
epochs, never the code path: a notebook asks for its settings with :func:`settings` and uses
them the same way in every profile.

>>> p = settings("02_logistic_regression", "smoke", seed=False)
>>> p.profile, p.seed, p.epochs, p.batch_size
('smoke', 42, 5, 128)
>>> settings("02_logistic_regression", "full", seed=False).epochs
20
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PROFILES: tuple[str, ...] = ("smoke", "learn", "full")
DEFAULT_PROFILE = "learn"
SEED = 42

#: Per-notebook sizes and epochs. Each entry maps a notebook's stem to the values all profiles
#: share (``"shared"``) and one dict per profile of the values that differ between profiles.
#: Every profile's dict has the same keys (same code path, other sizes); a value that is the same
#: in every profile belongs in ``"shared"``. A new profile is one more dict per notebook and one
#: more name in :data:`PROFILES`.
SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "00_machine_learning_basics": {  # k-means on the first n MNIST training images
        "shared": {},
        "smoke": {"kmeans_images": 2000, "kmeans_max_iter": 100},
        "learn": {"kmeans_images": 10000, "kmeans_max_iter": 300},
        "full": {"kmeans_images": 10000, "kmeans_max_iter": 300},
    },
    "01_linear_regression": {
        # keras_*: the mini-batch fit (the markdown quotes batches of 10 and ten epochs: keep them shared).
        # exact_epochs: the optional full-batch fit, one epoch = 100 steps: 15 epochs = the 1,500 GD steps.
        "shared": {"keras_batch_size": 10, "keras_epochs": 10, "keras_learning_rate": 0.03},
        "smoke": {"exact_epochs": 15},
        "learn": {"exact_epochs": 15},
        "full": {"exact_epochs": 80},
    },
    "02_logistic_regression": {  # MNIST softmax regression: first n train / test images
        "shared": {"batch_size": 128},
        "smoke": {"mnist_train": 12000, "mnist_test": 2000, "epochs": 5},
        "learn": {"mnist_train": 60000, "mnist_test": 10000, "epochs": 5},
        "full": {"mnist_train": 60000, "mnist_test": 10000, "epochs": 20},
    },
    "03_neural_networks_and_backprop": {
        "shared": {"opt_batch_size": 20, "opt_epochs": 20, "xor_points": 50, "xor_epochs": 40, "xor_restarts": 8,
                   "scratch_hidden": 64, "scratch_lr": 0.5, "hidden": 512, "batch_size": 128},
        "smoke": {"mnist_train": 5000, "mnist_val": 1000, "mnist_test": 2000, "scratch_epochs": 5, "epochs": 3},
        "learn": {"mnist_train": 45000, "mnist_val": 5000, "mnist_test": 10000, "scratch_epochs": 5, "epochs": 6},
        "full": {"mnist_train": 55000, "mnist_val": 5000, "mnist_test": 10000, "scratch_epochs": 10, "epochs": 20},
    },
    "04_training_deep_networks": {
        "shared": {"grad_batch": 256, "deep_width": 128, "curve_batch_size": 64, "batch_size": 128},
        "smoke": {"mnist_train": 4000, "mnist_val": 1000, "mnist_test": 2000, "init_epochs": 2,
                  "curve_sizes": [250, 1000, 4000], "curve_steps": 300, "epochs": 4},
        "learn": {"mnist_train": 20000, "mnist_val": 2000, "mnist_test": 10000, "init_epochs": 2,
                  "curve_sizes": [250, 1000, 4000, 16000], "curve_steps": 300, "epochs": 6},
        "full": {"mnist_train": 55000, "mnist_val": 5000, "mnist_test": 10000, "init_epochs": 5,
                 "curve_sizes": [500, 2000, 8000, 32000, 55000], "curve_steps": 4000, "epochs": 30},
    },
    "05_convolutional_networks": {
        "shared": {},
        "smoke": {"mnist_train": 5000, "mnist_val": 1000, "mnist_test": 2000, "epochs": 2, "batch_size": 128},
        "learn": {"mnist_train": 20000, "mnist_val": 1000, "mnist_test": 10000, "epochs": 3, "batch_size": 64},
        "full": {"mnist_train": 55000, "mnist_val": 5000, "mnist_test": 10000, "epochs": 15, "batch_size": 128},
    },
    "06_recurrent_neural_networks": {
        "shared": {"hello_units": 8, "hello_learning_rate": 0.02},
        "smoke": {"hello_epochs": 60, "hello_print_every": 5},
        "learn": {"hello_epochs": 60, "hello_print_every": 5},
        "full": {"hello_epochs": 150, "hello_print_every": 10},
    },
    "07_gru_and_lstm": {
        "shared": {"grad_batch": 16, "grad_steps": 60, "grad_features": 8, "grad_units": 32,
                   "memory_symbols": 4, "memory_noise": 4, "memory_steps": 60, "memory_train": 2000,
                   "memory_units": 32, "memory_batch_size": 64, "memory_learning_rate": 0.005,
                   "memory_gate_bias": 3.0},
        "smoke": {"memory_test": 1000, "memory_epochs": 6},
        "learn": {"memory_test": 1000, "memory_epochs": 6},
        "full": {"memory_test": 2000, "memory_epochs": 5},
    },
    "08_lstm_on_mnist": {
        "shared": {},
        "smoke": {"mnist_train": 4000, "mnist_val": 1000, "mnist_test": 1000, "classic_epochs": 4,
                  "better_units": 64, "better_epochs": 4, "better_learning_rate": 0.005,
                  "compare_units": 32, "compare_epochs": 3},
        "learn": {"mnist_train": 55000, "mnist_val": 5000, "mnist_test": 10000, "classic_epochs": 4,
                  "better_units": 64, "better_epochs": 2, "better_learning_rate": 0.01,
                  "compare_units": 32, "compare_epochs": 1},
        "full": {"mnist_train": 55000, "mnist_val": 5000, "mnist_test": 10000, "classic_epochs": 10,
                 "better_units": 128, "better_epochs": 15, "better_learning_rate": 0.002,
                 "compare_units": 64, "compare_epochs": 5},
    },
    "09_time_series_airline": {  # gap_ceiling: RMS gap tutorial LSTM - persistence, over persistence's RMSE
        "shared": {"look_back": 25, "units": 4, "batch_size": 8, "learning_rate": 0.001},
        "smoke": {"tutorial_epochs": 3, "tutorial_ceiling": 250.0, "gap_ceiling": 5.0, "n_models": 2, "epochs": 40,
                  "own_ceiling": 25.0, "must_beat": ["persistence (last month)"]},
        "learn": {"tutorial_epochs": 100, "tutorial_ceiling": 60.0, "gap_ceiling": 0.5, "n_models": 3, "epochs": 100,
                  "own_ceiling": 20.0,
                  "must_beat": ["persistence (last month)", "seasonal naive (same month last year)"]},
        "full": {"tutorial_epochs": 100, "tutorial_ceiling": 60.0, "gap_ceiling": 0.5, "n_models": 5, "epochs": 100,
                 "own_ceiling": 15.0, "must_beat": ["persistence (last month)", "seasonal naive (same month last year)",
                                                    "SARIMA(0,1,1)(0,1,1)12 on log"]},
    },
    "10_stock_price_prediction": {
        "shared": {"look_back": 7, "train_fraction": 0.7, "units": 32, "batch_size": 32, "learning_rate": 0.003,
                   "acf_lags": 20},
        "smoke": {"epochs": 15, "rmse_ceiling": 20.0, "ratio_ceiling": 2.5},
        "learn": {"epochs": 100, "rmse_ceiling": 11.0, "ratio_ceiling": 1.4},
        "full": {"epochs": 100, "rmse_ceiling": 11.0, "ratio_ceiling": 1.4},
    },
    "11_sequence_to_sequence": {
        "shared": {"embed_dim": 32, "units": 128, "learning_rate": 0.01},
        "smoke": {"n_train": 10000, "n_test": 1000, "epochs": 12, "batch_size": 64},
        "learn": {"n_train": 30000, "n_test": 1000, "epochs": 15, "batch_size": 128},
        "full": {"n_train": 80000, "n_test": 5000, "epochs": 40, "batch_size": 128},
    },
    "12_text_generation": {  # train_chars / val_chars: None = the whole split
        "shared": {"seq_len": 100},
        "smoke": {"train_chars": 200_000, "val_chars": 30_000, "embed_dim": 32, "units": 128, "layers": 1,
                  "dropout": 0.0, "epochs": 3, "batch_size": 64, "learning_rate": 0.01, "sample_chars": 200},
        "learn": {"train_chars": None, "val_chars": None, "embed_dim": 32, "units": 256, "layers": 1,
                  "dropout": 0.0, "epochs": 3, "batch_size": 128, "learning_rate": 0.01, "sample_chars": 400},
        "full": {"train_chars": None, "val_chars": None, "embed_dim": 64, "units": 512, "layers": 2,
                 "dropout": 0.2, "epochs": 40, "batch_size": 64, "learning_rate": 0.002, "sample_chars": 400},
    },
    "13_attention": {  # reversing random strings of min_len..max_len letters; full: unmeasured (no GPU run yet)
        "shared": {"alphabet": "abcdefghijklmnopqrst", "min_len": 4, "embed_dim": 32, "learning_rate": 0.01,
                   "batch_size": 64, "n_test": 1000, "mha_dim": 64, "mha_heads": 4, "mha_key_dim": 16,
                   "mha_learning_rate": 0.005},
        "smoke": {"max_len": 10, "units": 32, "n_train": 1500, "epochs": 2, "mha_epochs": 2},
        "learn": {"max_len": 16, "units": 64, "n_train": 8000, "epochs": 6, "mha_epochs": 8},
        "full": {"max_len": 30, "units": 128, "n_train": 60000, "epochs": 20, "mha_epochs": 30},
    },
    "14_training_on_many_devices": {  # simulated_devices: CPU devices when fewer than 2 GPUs are present
        "shared": {"features": 32, "classes": 10, "hidden": 64, "learning_rate": 0.1, "lin_learning_rate": 0.05,
                   "process_timeout_s": 300, "throughput_per_device_batch": 256, "throughput_epochs": 3},
        "smoke": {"n_samples": 1024, "simulated_devices": 2, "global_batch": 64},
        "learn": {"n_samples": 4096, "simulated_devices": 4, "global_batch": 128},
        "full": {"n_samples": 65536, "simulated_devices": 8, "global_batch": 1024},
    },
}


class ProfileError(ValueError):
    """An unknown profile name, or a notebook with no settings."""


@dataclass(frozen=True)
class Settings:
    """The settings of one notebook under one profile.

    Values are read as attributes (``p.epochs``) or items (``p["epochs"]``).
    """

    notebook: str
    profile: str
    seed: int = SEED
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(
            f"notebook {self.notebook!r} has no setting {name!r} in profile {self.profile!r}; "
            f"known: {sorted(values)}. Add it to course_lib/profiles.py SETTINGS."
        )

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


def active_profile() -> str:
    """The profile named by ``COURSE_PROFILE`` (default ``smoke``); an unknown name is an error."""
    name = os.environ.get("COURSE_PROFILE", DEFAULT_PROFILE).strip().lower() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ProfileError(
            f"COURSE_PROFILE={name!r} is not a profile. Known profiles: {', '.join(PROFILES)}. "
            f"Unset it for the default {DEFAULT_PROFILE!r}."
        )
    return name


def seed_everything(seed: int = SEED) -> None:
    """Seed Python, NumPy and the Keras backend, and ask TensorFlow for deterministic ops."""
    random.seed(seed)
    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def settings(notebook: str, profile: str | None = None, *, seed: bool = True) -> Settings:
    """The settings of ``notebook`` (its file stem) in ``profile`` (default: the active one).

    With ``seed=True`` (the default) everything is seeded, so a notebook that calls this
    once at the top runs the same twice.
    """
    profile = active_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ProfileError(f"unknown profile {profile!r}; known profiles: {', '.join(PROFILES)}")
    if notebook not in SETTINGS:
        raise ProfileError(
            f"no settings for notebook {notebook!r}; known notebooks: {', '.join(sorted(SETTINGS))}"
        )
    if seed:
        seed_everything(SEED)
    values = {**SETTINGS[notebook]["shared"], **SETTINGS[notebook][profile]}
    return Settings(notebook=notebook, profile=profile, seed=SEED, values=values)
