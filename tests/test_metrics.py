"""course_lib.metrics: the file the checks write and the course runner reads, as documented."""

import json
import re

import numpy as np
import pytest

from course_lib import checks, metrics, setup


def _documented_example() -> dict:
    """The example file in the module's docstring."""
    block = re.search(r"leaves this file::\n\n(.*?)\n\n", metrics.__doc__, re.S).group(1)
    return json.loads(block)


def test_the_checks_write_the_documented_format(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    monkeypatch.setenv(metrics.ENV_VAR, str(path))
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    info = setup.setup(verbose=False)
    checks.check_at_least("accuracy", np.float32(0.95), smoke=0.8, full=0.9)
    checks.check_close("cost", 32.07, 32.07, atol=0.01)
    checks.check_less("rmse", 1.5, 2.0, other_name="persistence")
    checks.record("seconds per epoch", 12.5)
    doc = metrics.read(path)
    example = _documented_example()
    assert doc == json.loads(path.read_text())  # read gives the file as it is
    assert set(doc) == set(example) == {"setup", "checks"}
    assert doc["setup"] == info and set(example["setup"]) <= set(info) | {"tensorflow"}
    assert all(isinstance(v, str) for v in info.values())
    got = [{**c, "value": round(c["value"], 6)} for c in doc["checks"]]  # float32 0.95 -> 0.949999988
    assert got == example["checks"]
    assert [c["kind"] for c in got] == ["at_least", "close", "less", "figure"]


def test_read_of_a_missing_empty_or_foreign_file(tmp_path):
    assert metrics.read(tmp_path / "none.json") == {"setup": {}, "checks": []}
    (tmp_path / "empty.json").write_text("")
    assert metrics.read(tmp_path / "empty.json") == {"setup": {}, "checks": []}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not a metrics file"):
        metrics.read(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="list.json is not a metrics file"):
        metrics.read(tmp_path / "list.json")


def test_nothing_is_written_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(metrics.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    checks.record("x", 1.0)
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_row_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(metrics.ENV_VAR, str(tmp_path / "m.json"))
    with pytest.raises(ValueError, match="needs a name, a value and a kind"):
        metrics.record_check({"name": "x", "value": 1, "kind": "guess"})


def test_describe_every_kind():
    rows = _documented_example()["checks"]
    assert [metrics.describe(r) for r in rows] == [
        "accuracy = 0.95 (≥ 0.8)", "cost = 32.07 (= 32.07)", "rmse = 1.5 (persistence 2)", "seconds per epoch = 12.5"]
    assert metrics.describe({"name": "loss", "value": 1.23456, "kind": "at_most", "ceiling": 1.5,
                             "profile": "full"}) == "loss = 1.235 (≤ 1.5)"
    assert metrics.describe({"name": "w", "value": [0.5, 1.0], "kind": "close", "expected": [0.5, 1.0],
                             "atol": 1e-6}) == "w = [0.5, 1] (= [0.5, 1])"


def test_printed_and_reported_values_use_one_formatter(capsys):
    checks.record("pi", 3.14159265)
    assert capsys.readouterr().out == "pi = 3.14159\n"  # 6 significant digits where printed
    assert metrics.describe({"name": "pi", "value": 3.14159265, "kind": "figure"}) == "pi = 3.142"  # 4 in reports
