"""Checked figures: each lesson asserts what it teaches, prints it, and records it for the report.

Every check prints one line ``CHECK <name> = <value> ...`` and records the figure in the
metrics file (:mod:`course_lib.metrics`) when a course runner asked for one, so that the run
report lists it.

Floors and ceilings depend on the active profile: a smoke run trains on a subset for a few
epochs, so its floor is lower than the published full-profile figure. They are given per
profile as keyword arguments, ``check_at_least(name, value, smoke=0.8, full=0.9)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib import metrics
from course_lib.profiles import PROFILES, ProfileError, active_profile


def _to_python(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        return value.item()
    if hasattr(value, "numpy"):
        return _to_python(np.asarray(value))
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    return value


def _fmt(value: Any) -> str:
    return metrics.format_value(value, digits=6)


def _bound(check: str, bounds: dict[str, float]) -> tuple[str, float]:
    """The active profile and its bound among ``bounds`` (one keyword argument per profile)."""
    unknown = sorted(set(bounds) - set(PROFILES))
    if unknown:
        raise ProfileError(f"{check}: {', '.join(map(repr, unknown))} is not a profile; "
                           f"give one bound per profile: {', '.join(f'{p}=...' for p in PROFILES)}")
    profile = active_profile()
    if profile not in bounds:
        raise ProfileError(f"{check}: no bound for the active profile {profile!r}; add {profile}=... "
                           "to the call")
    return profile, bounds[profile]


def record(name: str, value: Any, *, kind: str = "figure", **extra: Any) -> Any:
    """Print and record ``value`` under ``name`` without a condition. Returns ``value``."""
    py = _to_python(value)
    detail = " ".join(f"{k}={_fmt(_to_python(v))}" for k, v in extra.items())
    print(f"CHECK {name} = {_fmt(py)}" + (f"  ({detail})" if detail else ""))
    row = {"name": name, "value": py, "kind": kind, **{k: _to_python(v) for k, v in extra.items()}}
    metrics.record_check(row)
    return value


def check_at_least(name: str, value: float, **floors: float) -> float:
    """Assert ``value >= floor``, the active profile's floor among ``floors`` (one keyword
    argument per profile); print and record it.

    >>> check_at_least("accuracy", 0.95, smoke=0.9, full=0.9)
    CHECK accuracy = 0.95  (floor=0.9 profile=...)
    0.95
    """
    profile, floor = _bound("check_at_least", floors)
    v = float(_to_python(value))
    if not math.isfinite(v) or v < floor:
        raise AssertionError(f"{name} = {v:.6g} is below the {profile}-profile floor {floor}")
    record(name, v, kind="at_least", floor=floor, profile=profile)
    return value


def check_at_most(name: str, value: float, **ceilings: float) -> float:
    """Assert ``value <= ceiling`` (a loss or an error), the active profile's ceiling among
    ``ceilings`` (one keyword argument per profile); print and record it."""
    profile, ceiling = _bound("check_at_most", ceilings)
    v = float(_to_python(value))
    if not math.isfinite(v) or v > ceiling:
        raise AssertionError(f"{name} = {v:.6g} is above the {profile}-profile ceiling {ceiling}")
    record(name, v, kind="at_most", ceiling=ceiling, profile=profile)
    return value


def check_close(name: str, value: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 0.0) -> Any:
    """Assert ``value`` equals ``expected`` within ``atol + rtol * |expected|``; print and record it.

    Use it where the math is exact (a cost at θ = 0, a closed form, a parameter count).
    """
    v = np.asarray(_to_python(value), dtype=float)
    e = np.asarray(_to_python(expected), dtype=float)
    if v.shape != e.shape:
        raise AssertionError(f"{name}: shape {v.shape} differs from the expected shape {e.shape}")
    if not np.allclose(v, e, atol=atol, rtol=rtol):
        raise AssertionError(f"{name} = {_fmt(_to_python(v))} differs from the expected {_fmt(_to_python(e))} (atol={atol}, rtol={rtol})")
    record(name, value, kind="close", expected=e, atol=atol)
    return value


def check_less(name: str, value: float, other: float, *, other_name: str = "baseline") -> float:
    """Assert ``value < other`` (e.g. a model's error below a baseline's); print and record it."""
    v, o = float(_to_python(value)), float(_to_python(other))
    if not v < o:
        raise AssertionError(f"{name} = {v:.6g} is not below {other_name} = {o:.6g}")
    record(name, v, kind="less", **{other_name: o})
    return value
