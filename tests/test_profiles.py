"""course_lib.profiles: profile choice, per-notebook settings, seeding."""

import numpy as np
import pytest

from course_lib import profiles


def test_default_is_learn(monkeypatch):
    """People get ``learn``; the tests ask for ``smoke`` (conftest.py, the Makefile, CI)."""
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert profiles.active_profile() == profiles.DEFAULT_PROFILE == "learn"
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert profiles.active_profile() == "smoke"


def test_tests_run_the_smoke_profile():
    """The whole test session, and so every kernel nbval starts, runs smoke unless told otherwise."""
    import os

    assert os.environ["COURSE_PROFILE"] == "smoke" and os.environ["COURSE_PROGRESS"] == "epoch"


def test_people_get_learn_and_tests_smoke_in_the_makefile_and_ci():
    from course_tools import ROOT

    make = (ROOT / "Makefile").read_text()
    assert "PROFILE ?= $(or $(COURSE_PROFILE),learn)" in make
    for target in ("course", "lab", "site"):
        recipe = make.split(f"\n{target}: venv\n", 1)[1].split("\n\n", 1)[0]
        assert "COURSE_PROFILE=$(PROFILE)" in recipe, (target, recipe)
    for target in ("test: venv", "test-backends: $(BACKENDS_STAMP)"):
        recipe = make.split(f"\n{target}\n", 1)[1].split("\n\n", 1)[0]
        assert "COURSE_PROFILE=smoke" in recipe and "COURSE_PROGRESS=epoch" in recipe, (target, recipe)
    assert "COURSE_PROFILE=smoke" in (ROOT / ".ci" / "run").read_text()


def test_full_is_chosen_by_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert profiles.active_profile() == "full"
    assert profiles.settings("02_logistic_regression", seed=False).mnist_train == 60000


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(profiles.ProfileError, match=r"'fast'.*smoke, learn, full"):
        profiles.active_profile()
    with pytest.raises(profiles.ProfileError, match="unknown profile"):
        profiles.settings("01_linear_regression", profile="medium")


def test_unknown_notebook_and_setting_are_errors():
    with pytest.raises(profiles.ProfileError, match="known notebooks"):
        profiles.settings("99_nothing", seed=False)
    p = profiles.settings("02_logistic_regression", profile="smoke", seed=False)
    with pytest.raises(AttributeError, match="no setting 'epoch'"):
        _ = p.epoch


def test_every_profile_sets_the_same_keys_and_shares_the_rest():
    for name, by_profile in profiles.SETTINGS.items():
        assert set(by_profile) == {"shared", *profiles.PROFILES}, name
        shared, own = by_profile["shared"], [by_profile[p] for p in profiles.PROFILES]
        assert all(set(d) == set(own[0]) for d in own), f"{name}: the profiles set different keys"
        assert not set(shared) & set(own[0]), f"{name}: {set(shared) & set(own[0])} both shared and per profile"
        same = [k for k in own[0] if all(d[k] == own[0][k] for d in own)]
        assert not same, f"{name}: {same} are the same in every profile: move them to 'shared'"


def test_settings_are_the_shared_values_plus_the_profiles():
    """Against the values written out by hand, before SETTINGS was split into shared and per profile."""
    smoke = profiles.settings("07_gru_and_lstm", "smoke", seed=False)
    full = profiles.settings("07_gru_and_lstm", "full", seed=False)
    assert (smoke.memory_test, smoke.memory_epochs, smoke.memory_units) == (1000, 6, 32)
    assert (full.memory_test, full.memory_epochs, full.memory_units) == (2000, 5, 32)
    assert set(smoke.values) == set(full.values) and len(smoke.values) >= 14
    assert profiles.settings("12_text_generation", "full", seed=False).train_chars is None


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
