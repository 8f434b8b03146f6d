"""Shared fixtures. Tests need the course's data files: set COURSE_DATA_DIR to their folder."""

import dataclasses
import os
from pathlib import Path

import pytest

from course_tools import kernel_env

os.environ.setdefault("COURSE_PROFILE", "smoke")
# The kernels that nbval and the notebook tests start run in the notebooks' folder.
os.environ.update(kernel_env())


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder named by COURSE_DATA_DIR; a clear failure when it is missing."""
    value = os.environ.get("COURSE_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.fail("COURSE_DATA_DIR must name a folder holding the course's data files (datasets/README.md "
                    "lists them with their upstream URLs), e.g. COURSE_DATA_DIR=~/course-data make test")
    return Path(value).resolve()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No data folder, an empty cache, and every upstream URL pointed at a closed local port."""
    from course_lib import data

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    dead = {name: dataclasses.replace(d, url=f"http://127.0.0.1:9/{d.filename}") for name, d in data.REGISTRY.items()}
    monkeypatch.setattr(data, "REGISTRY", dead)
    return tmp_path
