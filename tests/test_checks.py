"""course_lib.checks: conditions per profile, one short line when a check holds, a message that says
what failed when not, the full record for the report."""

import json

import numpy as np
import pytest

from course_lib import checks


def test_at_least_uses_the_active_profile_bound(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert checks.check_at_least("acc", 0.85, smoke=0.8, learn=0.85, full=0.9) is None  # nothing for Jupyter to echo
    assert capsys.readouterr().out == "✓ acc = 0.85\n"  # one short line: no bound, no profile
    monkeypatch.setenv("COURSE_PROFILE", "learn")
    checks.check_at_least("acc", 0.85, smoke=0.8, learn=0.85, full=0.9)  # the bound itself passes
    assert capsys.readouterr().out == "✓ acc = 0.85\n"
    monkeypatch.setenv("COURSE_PROFILE", "full")
    with pytest.raises(AssertionError) as failed:
        checks.check_at_least("acc", 0.85, smoke=0.8, learn=0.85, full=0.9)
    message = str(failed.value)
    assert message.startswith("acc = 0.85 is below 0.9, the lowest value this lesson expects in the full profile "
                              "(COURSE_PROFILE=full): this run does not show what the lesson describes."), message
    assert capsys.readouterr().out == ""  # a failing check prints no ✓
    with pytest.raises(AssertionError, match="acc = nan is not a number"):
        checks.check_at_least("acc", float("nan"), smoke=0.0, learn=0.0, full=0.0)


def test_at_most(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    checks.check_at_most("loss", 1.0, smoke=1.5, learn=1.3, full=1.2)
    assert capsys.readouterr().out == "✓ loss = 1\n"
    with pytest.raises(AssertionError, match=r"loss = 1.6 is above 1.5, the highest value this lesson expects in the "
                                             r"smoke profile \(COURSE_PROFILE=smoke\)"):
        checks.check_at_most("loss", 1.6, smoke=1.5, learn=1.3, full=1.2)
    with pytest.raises(AssertionError, match="loss = inf is not a number"):
        checks.check_at_most("loss", float("inf"), smoke=1.5, learn=1.3, full=1.2)


def test_close_and_less(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "learn")
    checks.check_close("theta", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    checks.check_less("rmse", 1.0, 2.0, other_name="persistence")
    assert capsys.readouterr().out == "✓ theta = [1, 2]\n✓ rmse = 1 (persistence 2)\n"
    with pytest.raises(AssertionError, match="cost = 32.07 differs from the expected 32.08 by more than atol=0.001"):
        checks.check_close("cost", 32.07, 32.08, atol=1e-3)
    with pytest.raises(AssertionError, match="shape"):
        checks.check_close("theta", [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match=r"rmse = 2 is not below persistence = 2: the comparison the lesson makes "
                                             r"does not hold in this run of the learn profile \(COURSE_PROFILE=learn\)"):
        checks.check_less("rmse", 2.0, 2.0, other_name="persistence")


def test_record_prints_the_figure_and_records_the_rest(tmp_path, monkeypatch, capsys):
    path = tmp_path / "m.json"
    monkeypatch.setenv("COURSE_METRICS_FILE", str(path))
    assert checks.record("seconds per epoch", np.float64(12.5), device="CPU", n_train=5000) is None
    assert capsys.readouterr().out == "seconds per epoch = 12.5\n"
    assert json.loads(path.read_text())["checks"] == [
        {"name": "seconds per epoch", "value": 12.5, "kind": "figure", "device": "CPU", "n_train": 5000}]


def test_figures_are_recorded_for_the_report(tmp_path, monkeypatch):
    """The metrics file keeps the full record the printed line leaves out: bound and profile."""
    path = tmp_path / "m.json"
    monkeypatch.setenv("COURSE_METRICS_FILE", str(path))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    checks.check_at_least("acc", np.float32(0.95), smoke=0.5, learn=0.8, full=0.9)
    checks.check_at_most("loss", 1.0, smoke=1.5, learn=1.3, full=1.2)
    checks.check_close("cost", 32.07, 32.07, atol=0.01)
    checks.check_less("rmse", 1.5, 2.0, other_name="persistence")
    checks.record("seconds per epoch", 12.5)
    rows = json.loads(path.read_text())["checks"]
    assert [c["name"] for c in rows] == ["acc", "loss", "cost", "rmse", "seconds per epoch"]
    assert rows[0]["floor"] == 0.5 and rows[0]["profile"] == "smoke" and abs(rows[0]["value"] - 0.95) < 1e-6
    assert rows[1] == {"name": "loss", "value": 1.0, "kind": "at_most", "ceiling": 1.5, "profile": "smoke"}
    assert rows[2] == {"name": "cost", "value": 32.07, "kind": "close", "expected": 32.07, "atol": 0.01}
    assert rows[3] == {"name": "rmse", "value": 1.5, "kind": "less", "persistence": 2.0}


def test_a_failed_check_is_not_recorded(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    monkeypatch.setenv("COURSE_METRICS_FILE", str(path))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    with pytest.raises(AssertionError):
        checks.check_at_least("acc", 0.1, smoke=0.5, learn=0.8, full=0.9)
    assert not path.exists() or json.loads(path.read_text())["checks"] == []


def test_bounds_are_given_per_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    with pytest.raises(ValueError, match=r"'smok' is not a profile.*smoke=\.\.\., learn=\.\.\., full=\.\.\."):
        checks.check_at_least("acc", 0.9, smok=0.8, full=0.9)
    with pytest.raises(ValueError, match="no bound for the active profile 'smoke'; add smoke="):
        checks.check_at_most("loss", 0.9, full=1.0)
