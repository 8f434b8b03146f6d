"""The pins: constraints.txt is the lock; environment.yml and the installed packages agree with it."""

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def constraints():
    return _pins((ROOT / "constraints.txt").read_text().splitlines())


def test_course_stack_is_pinned():
    pins = constraints()
    assert pins["tensorflow"] == "2.21.0" and pins["keras"] == "3.15.1"


def test_environment_yml_agrees_with_constraints():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.11\s*$", text, re.M), "environment.yml must ask for python 3.11"
    env = _pins(text.splitlines())
    locked = constraints()
    assert env, "environment.yml pins nothing"
    wrong = {k: (v, locked.get(k)) for k, v in env.items() if locked.get(k) != v}
    assert not wrong, f"environment.yml differs from constraints.txt (yml, lock): {wrong}"


#: Optional backends installed on request (make add-torch, .venv-backends), pinned in
#: constraints-backends.txt and absent from the default environment and environment.yml.
ON_REQUEST = {"torch"}


def test_every_direct_dependency_is_in_the_lock_and_the_yml():
    text = (ROOT / "pyproject.toml").read_text()
    names = set(re.findall(r'"([A-Za-z0-9_\-]+)(?:\[[^\]]*\])?\s*>=', text))
    env = _pins((ROOT / "environment.yml").read_text().splitlines())
    locked = constraints()
    backends = _pins((ROOT / "constraints-backends.txt").read_text().splitlines())
    names = {n.lower() for n in names} - {"setuptools"}
    default = names - ON_REQUEST
    assert default - set(locked) == set(), f"not in constraints.txt: {default - set(locked)}"
    assert default - set(env) == set(), f"not pinned in environment.yml: {default - set(env)}"
    assert ON_REQUEST <= names, f"{ON_REQUEST - names} is no longer an extra: update ON_REQUEST"
    assert ON_REQUEST - set(backends) == set(), f"not in constraints-backends.txt: {ON_REQUEST - set(backends)}"


def test_installed_versions_are_the_locked_ones():
    locked = constraints()
    for name in ("tensorflow", "keras", "numpy", "nbval", "pandas"):
        assert metadata.version(name) == locked[name], f"{name}: installed {metadata.version(name)}, locked {locked[name]}; run make"
