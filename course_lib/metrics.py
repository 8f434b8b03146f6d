"""The metrics file: what a running notebook records for the course's run report.

A course runner gives each notebook's kernel the environment variable ``COURSE_METRICS_FILE``,
naming a JSON file. While the notebook runs, :func:`course_lib.setup.setup` records its setup
there and every check of :mod:`course_lib.checks` appends a row; the runner reads the file back
with :func:`read` when the notebook ends (or is stopped) and lists the rows with
:func:`describe`. Without the variable nothing is written. A notebook that checked an accuracy,
a cost and an error against a baseline, and recorded a timing, leaves this file::

    {
     "setup": {"python": "3.11.7", "course_lib": "0.1.0", "keras": "3.15.1",
               "backend": "tensorflow", "profile": "smoke", "device": "CPU: x86_64 (2 cores)",
               "colab": "False", "tensorflow": "2.21.0"},
     "checks": [
      {"name": "accuracy", "value": 0.95, "kind": "at_least", "floor": 0.8, "profile": "smoke"},
      {"name": "cost", "value": 32.07, "kind": "close", "expected": 32.07, "atol": 0.01},
      {"name": "rmse", "value": 1.5, "kind": "less", "persistence": 2.0},
      {"name": "seconds per epoch", "value": 12.5, "kind": "figure"}
     ]
    }

``setup`` holds strings (``tensorflow`` on that backend only). Each row of ``checks`` has a
``name``, a ``value`` (a number, or a list of numbers for an array) and a ``kind``, which says
which check wrote it and so which fields follow: ``at_least``: ``floor`` and ``profile``;
``at_most``: ``ceiling`` and ``profile``; ``close``: ``expected`` and ``atol``; ``less``: the
baseline's value under the baseline's name; ``figure``: none, or the keyword arguments given to
:func:`course_lib.checks.record`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_VAR = "COURSE_METRICS_FILE"
KINDS = ("figure", "at_least", "at_most", "close", "less")


def metrics_path() -> Path | None:
    """The file named by ``COURSE_METRICS_FILE``, or None when nothing is to be recorded."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value) if value else None


def read(path: str | os.PathLike) -> dict[str, Any]:
    """The document at ``path``: ``{"setup": {...}, "checks": [...]}``, both empty for a file
    that does not exist (yet) or is empty. Raises ``ValueError`` naming the file when it is not
    a metrics document."""
    p = Path(path)
    text = p.read_text(encoding="utf-8") if p.is_file() else ""
    try:
        doc = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"{p} is not a metrics file (invalid JSON: {err})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("setup", {}), dict) \
            or not isinstance(doc.get("checks", []), list):
        raise ValueError(f"{p} is not a metrics file: expected {{'setup': {{...}}, 'checks': [...]}}")
    return {"setup": doc.get("setup", {}), "checks": doc.get("checks", [])}


def _update(change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the document at ``COURSE_METRICS_FILE``, if set. The new document
    replaces the old one in one step, so a reader never sees half a file."""
    path = metrics_path()
    if path is None:
        return
    doc = read(path)
    change(doc)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def record_setup(info: dict[str, str]) -> None:
    """Record the notebook's setup (versions, backend, profile, device), replacing any before."""
    _update(lambda doc: doc.__setitem__("setup", dict(info)))


def record_check(row: dict[str, Any]) -> None:
    """Append one row to ``checks``: ``name``, ``value``, ``kind`` (one of :data:`KINDS`) and the
    fields of its condition, all plain JSON values."""
    if row.get("kind") not in KINDS or "name" not in row or "value" not in row:
        raise ValueError(f"a metrics row needs a name, a value and a kind in {KINDS}; got {row}")
    _update(lambda doc: doc["checks"].append(row))


def format_value(value: Any, digits: int = 4) -> str:
    """A recorded value as text: floats to ``digits`` significant digits, lists element-wise.

    >>> format_value(0.123456), format_value(0.123456, digits=6), format_value([1.0, 2.5e-9]), format_value(3)
    ('0.1235', '0.123456', '[1, 2.5e-09]', '3')
    """
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v, digits) for v in value) + "]"
    return str(value)


def condition(check: dict[str, Any]) -> str:
    """The condition a row was checked against, as text (empty for a plain figure).

    >>> condition({"name": "acc", "value": 0.9, "kind": "at_least", "floor": 0.8, "profile": "smoke"})
    '≥ 0.8'
    >>> condition({"name": "rmse", "value": 1.5, "kind": "less", "persistence": 2.0})
    'persistence 2'
    """
    if "floor" in check:
        return f"≥ {check['floor']}"
    if "ceiling" in check:
        return f"≤ {check['ceiling']}"
    if "expected" in check:
        return f"= {format_value(check['expected'])}"
    others = {k: v for k, v in check.items() if k not in ("name", "value", "kind", "profile")}
    return ", ".join(f"{k} {format_value(v)}" for k, v in others.items())


def describe(check: dict[str, Any]) -> str:
    """One row as ``name = value (condition)``, the way reports list it.

    >>> describe({"name": "acc", "value": 0.91234, "kind": "at_least", "floor": 0.8, "profile": "smoke"})
    'acc = 0.9123 (≥ 0.8)'
    >>> describe({"name": "seconds per epoch", "value": 12.5, "kind": "figure"})
    'seconds per epoch = 12.5'
    """
    text = condition(check)
    return f"{check['name']} = {format_value(check['value'])}" + (f" ({text})" if text else "")
