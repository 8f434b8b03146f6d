"""Checked figures: each lesson asserts what it teaches, prints it, and records it for the report.

Every check prints one line ``CHECK <name> = <value> ...`` and, when the environment variable
``COURSE_METRICS_FILE`` names a file (``make course`` and the tests set it), appends the figure
to that JSON file so that ``build/report.md`` can list it.

Floors depend on the active profile: a smoke run trains on a subset for a few epochs, so its
floor is lower than the published full-profile figure.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.profiles import active_profile


def _to_python(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        return value.item()
    if hasattr(value, "numpy"):
        return _to_python(np.asarray(value))
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def record(name: str, value: Any, *, kind: str = "figure", **extra: Any) -> Any:
    """Print and record ``value`` under ``name`` without a condition. Returns ``value``."""
    py = _to_python(value)
    detail = " ".join(f"{k}={_fmt(_to_python(v))}" for k, v in extra.items())
    print(f"CHECK {name} = {_fmt(py)}" + (f"  ({detail})" if detail else ""))
    row = {"name": name, "value": py, "kind": kind, **{k: _to_python(v) for k, v in extra.items()}}
    update_metrics_file(lambda doc: doc.setdefault("checks", []).append(row))
    return value


def update_metrics_file(change: Callable[[dict], None]) -> None:
    """Apply ``change`` to the JSON document at ``COURSE_METRICS_FILE`` (if that is set).

    The document is ``{"setup": {...versions, backend, device...}, "checks": [{name, value, ...}]}``.
    """
    path = os.environ.get("COURSE_METRICS_FILE")
    if not path:
        return
    p = Path(path)
    doc = json.loads(p.read_text()) if p.exists() and p.stat().st_size else {}
    change(doc)
    p.write_text(json.dumps(doc, indent=1))


def check_at_least(name: str, value: float, *, smoke: float, full: float) -> float:
    """Assert ``value >= floor`` for the active profile's floor; print and record it.

    >>> check_at_least("accuracy", 0.95, smoke=0.8, full=0.9)
    CHECK accuracy = 0.95  (floor=0.8 profile=smoke)
    0.95
    """
    profile = active_profile()
    floor = {"smoke": smoke, "full": full}[profile]
    v = float(_to_python(value))
    if not math.isfinite(v) or v < floor:
        raise AssertionError(f"{name} = {v:.6g} is below the {profile}-profile floor {floor}")
    record(name, v, kind="at_least", floor=floor, profile=profile)
    return value


def check_at_most(name: str, value: float, *, smoke: float, full: float) -> float:
    """Assert ``value <= ceiling`` for the active profile (a loss or an error); print and record it."""
    profile = active_profile()
    ceiling = {"smoke": smoke, "full": full}[profile]
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
