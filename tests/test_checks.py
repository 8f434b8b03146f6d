"""course_lib.checks: conditions per profile, printing, recording for the report."""

import json

import numpy as np
import pytest

from course_lib import checks


def test_at_least_uses_the_active_profile_floor(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert checks.check_at_least("acc", 0.85, smoke=0.8, full=0.9) == 0.85
    assert "CHECK acc = 0.85" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_PROFILE", "full")
    with pytest.raises(AssertionError, match="below the full-profile floor 0.9"):
        checks.check_at_least("acc", 0.85, smoke=0.8, full=0.9)
    with pytest.raises(AssertionError):
        checks.check_at_least("acc", float("nan"), smoke=0.0, full=0.0)


def test_at_most(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    checks.check_at_most("loss", 1.0, smoke=1.5, full=1.2)
    with pytest.raises(AssertionError, match="above the smoke-profile ceiling 1.5"):
        checks.check_at_most("loss", 1.6, smoke=1.5, full=1.2)


def test_close_and_less():
    checks.check_close("theta", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    with pytest.raises(AssertionError, match="differs from the expected"):
        checks.check_close("cost", 32.07, 32.08, atol=1e-3)
    with pytest.raises(AssertionError, match="shape"):
        checks.check_close("theta", [1.0, 2.0], [1.0, 2.0, 3.0])
    checks.check_less("rmse", 1.0, 2.0, other_name="persistence")
    with pytest.raises(AssertionError, match="not below persistence = 2"):
        checks.check_less("rmse", 2.0, 2.0, other_name="persistence")


def test_figures_are_recorded_for_the_report(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    monkeypatch.setenv("COURSE_METRICS_FILE", str(path))
    checks.check_at_least("acc", np.float32(0.95), smoke=0.5, full=0.9)
    checks.record("seconds per epoch", 12.5)
    doc = json.loads(path.read_text())
    assert [c["name"] for c in doc["checks"]] == ["acc", "seconds per epoch"]
    assert doc["checks"][0]["floor"] == 0.5 and abs(doc["checks"][0]["value"] - 0.95) < 1e-6


def test_bounds_are_given_per_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    with pytest.raises(ValueError, match=r"'smok' is not a profile.*smoke=\.\.\., learn=\.\.\., full=\.\.\."):
        checks.check_at_least("acc", 0.9, smok=0.8, full=0.9)
    with pytest.raises(ValueError, match="no bound for the active profile 'smoke'; add smoke="):
        checks.check_at_most("loss", 0.9, full=1.0)
