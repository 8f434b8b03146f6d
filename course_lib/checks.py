"""Checked figures: each lesson asserts what it teaches, shows it, and records it for the report.

A check that holds prints one short line, ``✓ <name> = <value>``; one that fails raises
``AssertionError`` saying the figure, the bound, the profile and what the failure means.
:func:`record` (a figure with no condition, such as a timing) prints ``<name> = <value>``.
Every check also records the figure, with its bound and the profile, in the metrics file
(:mod:`course_lib.metrics`) when a course runner asked for one, so that the run report lists it.

Lower and upper bounds depend on the active profile: a smoke run trains on a subset for a few
epochs, so it reaches less than a learn or a full run. They are given per profile as keyword
arguments, ``check_at_least(name, value, smoke=0.8, learn=0.9, full=0.95)``.
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


def _record(name: str, value: Any, kind: str, extra: dict[str, Any]) -> None:
    row = {"name": name, "value": _to_python(value), "kind": kind, **{k: _to_python(v) for k, v in extra.items()}}
    metrics.record_check(row)


def _fails(name: str, text: str, profile: str | None = None) -> AssertionError:
    where = f" (COURSE_PROFILE={profile})" if profile else ""
    return AssertionError(f"{name} {text}{where}: this run does not show what the lesson describes. If cells were "
                          "changed or run out of order, restart the kernel and run all cells.")


def record(name: str, value: Any, *, kind: str = "figure", **extra: Any) -> None:
    """Print ``name = value`` and record it, with ``extra`` (say ``device=...``), without a
    condition.

    >>> record("seconds per epoch", 12.5, device="CPU")
    seconds per epoch = 12.5
    """
    print(f"{name} = {_fmt(_to_python(value))}")
    _record(name, value, kind, extra)


def _passed(name: str, value: Any, note: str = "") -> None:
    print(f"✓ {name} = {_fmt(_to_python(value))}{note}")


def check_at_least(name: str, value: float, **floors: float) -> None:
    """Assert ``value >= floor``, the active profile's lower bound among ``floors`` (one keyword
    argument per profile, an accuracy for instance); print and record it.

    >>> check_at_least("accuracy", 0.95, smoke=0.9, learn=0.9, full=0.9)
    ✓ accuracy = 0.95
    >>> check_at_least("accuracy", 0.95, smoke=0.97, learn=0.97, full=0.97)
    Traceback (most recent call last):
    AssertionError: accuracy = 0.95 is below 0.97, the lowest value this lesson expects in the ... profile ...
    """
    profile, floor = _bound("check_at_least", floors)
    v = float(_to_python(value))
    if not math.isfinite(v):
        raise _fails(name, f"= {v} is not a number: training diverged", profile)
    if v < floor:
        raise _fails(name, f"= {v:.6g} is below {floor}, the lowest value this lesson expects in the {profile} profile",
                     profile)
    _passed(name, v)
    _record(name, v, "at_least", {"floor": floor, "profile": profile})


def check_at_most(name: str, value: float, **ceilings: float) -> None:
    """Assert ``value <= ceiling`` (a loss or an error), the active profile's upper bound among
    ``ceilings`` (one keyword argument per profile); print and record it."""
    profile, ceiling = _bound("check_at_most", ceilings)
    v = float(_to_python(value))
    if not math.isfinite(v):
        raise _fails(name, f"= {v} is not a number: training diverged", profile)
    if v > ceiling:
        raise _fails(name, f"= {v:.6g} is above {ceiling}, the highest value this lesson expects in the {profile} "
                     "profile", profile)
    _passed(name, v)
    _record(name, v, "at_most", {"ceiling": ceiling, "profile": profile})


def check_close(name: str, value: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 0.0) -> None:
    """Assert ``value`` equals ``expected`` within ``atol + rtol * |expected|``; print and record it.

    Use it where the math is exact (a cost at θ = 0, a closed form, a parameter count).

    >>> check_close("parameters", 104, 4 * 8 + 8 * 8 + 8, atol=0)
    ✓ parameters = 104
    """
    v = np.asarray(_to_python(value), dtype=float)
    e = np.asarray(_to_python(expected), dtype=float)
    if v.shape != e.shape:
        raise AssertionError(f"{name}: shape {v.shape} differs from the expected shape {e.shape}: the computation "
                             "does not give what the lesson derives")
    if not np.allclose(v, e, atol=atol, rtol=rtol):
        raise AssertionError(f"{name} = {_fmt(_to_python(v))} differs from the expected {_fmt(_to_python(e))} "
                             f"by more than atol={atol}, rtol={rtol}: the computation does not give what the "
                             "lesson derives")
    _passed(name, value)
    _record(name, value, "close", {"expected": e, "atol": atol})


def check_less(name: str, value: float, other: float, *, other_name: str = "baseline") -> None:
    """Assert ``value < other`` (e.g. a model's error below a baseline's); print and record it.

    >>> check_less("LSTM test RMSE", 1.5, 2.0, other_name="persistence")
    ✓ LSTM test RMSE = 1.5 (persistence 2)
    """
    v, o = float(_to_python(value)), float(_to_python(other))
    if not v < o:
        profile = active_profile()
        raise _fails(name, f"= {v:.6g} is not below {other_name} = {o:.6g}: the comparison the lesson makes does "
                     f"not hold in this run of the {profile} profile", profile)
    _passed(name, v, f" ({other_name} {_fmt(o)})")
    _record(name, v, "less", {other_name: o})
