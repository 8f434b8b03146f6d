"""course_lib.profiles: profile choice, per-notebook settings, seeding."""

import numpy as np
import pytest

from course_lib import profiles


def test_default_is_smoke(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert profiles.active_profile() == "smoke"


def test_full_is_chosen_by_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert profiles.active_profile() == "full"
    assert profiles.settings("02_logistic_regression", seed=False).mnist_train == 60000


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(profiles.ProfileError, match=r"'fast'.*smoke, full"):
        profiles.active_profile()
    with pytest.raises(profiles.ProfileError, match="unknown profile"):
        profiles.settings("01_linear_regression", profile="medium")


def test_unknown_notebook_and_setting_are_errors():
    with pytest.raises(profiles.ProfileError, match="known notebooks"):
        profiles.settings("99_nothing", seed=False)
    p = profiles.settings("02_logistic_regression", profile="smoke", seed=False)
    with pytest.raises(AttributeError, match="no setting 'epoch'"):
        _ = p.epoch


def test_both_profiles_have_the_same_keys():
    for name, by_profile in profiles.SETTINGS.items():
        assert set(by_profile) == set(profiles.PROFILES), name
        assert set(by_profile["smoke"]) == set(by_profile["full"]), f"{name}: smoke and full differ in keys"


def test_settings_seed_everything():
    import keras

    profiles.settings("02_logistic_regression", seed=True)
    a = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))
    profiles.settings("02_logistic_regression", seed=True)
    b = (np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,))))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_every_notebook_has_settings():
    from pathlib import Path

    stems = [p.stem for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")]
    missing = [s for s in stems if s not in profiles.SETTINGS]
    assert not missing, f"notebooks with no entry in course_lib/profiles.py SETTINGS: {missing}"
