"""Shared fixtures. Tests need the offline data mirror: set COURSE_DATA_DIR (make test does)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("COURSE_PROFILE", "smoke")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline mirror named by COURSE_DATA_DIR; a clear failure when it is missing."""
    value = os.environ.get("COURSE_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.fail("COURSE_DATA_DIR must name the offline data folder, e.g. "
                    "COURSE_DATA_DIR=../shared/datasets make test")
    return Path(value).resolve()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No data folder, an empty cache, and every upstream URL pointed at a closed local port."""
    from course_lib import data

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    dead = {name: data.Dataset(d.name, d.filename, f"http://127.0.0.1:9/{d.filename}", d.sha256,
                               d.description, d.local_check)
            for name, d in data.REGISTRY.items()}
    monkeypatch.setattr(data, "REGISTRY", dead)
    return tmp_path
