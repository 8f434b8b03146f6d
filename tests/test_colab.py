"""The Colab way in, simulated: a fake ``google.colab`` module stands in for Colab.

- The setup cell installs ``course_lib`` from the one ``GITHUB_REPO`` setting at this version
  only on Colab (off Colab it runs no subprocess), then picks the backend and calls ``setup()``;
  an assignment's also installs otter-grader there, and opens the grader.
- ``setup()`` on Colab says whether a GPU runtime is on and how to switch.
- Data on Colab (no ``COURSE_DATA_DIR``) comes from the pinned upstream URLs with a SHA-256
  check: what ``pooch.retrieve`` is asked for, and a real download over a local HTTP server
  that is refused when its bytes are wrong.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import tomllib
import types
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import course_lib
from course_lib import data
from course_lib import setup as cl_setup
from course_tools import nbfmt

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture
def colab(monkeypatch):
    """Make this process look like a Colab runtime (``google.colab`` imported)."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


@pytest.fixture
def not_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)


def run_setup_cell(monkeypatch, assignment: str | None = None) -> list[tuple]:
    """Execute the notebooks' (or an assignment's) setup cell with ``subprocess.run``, ``setup()``
    and ``otter.Notebook`` recorded, not run.

    Returns the calls in order: ``("run", args, kwargs)``, ``("setup",)``, ``("otter", name)``.
    """
    calls: list[tuple] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(("run", a, k)))
    monkeypatch.setattr(cl_setup, "setup", lambda *a, **k: calls.append(("setup",)))
    otter = types.ModuleType("otter")
    otter.Notebook = lambda name: calls.append(("otter", name))
    monkeypatch.setitem(sys.modules, "otter", otter)
    exec(compile(nbfmt.setup_cell_source(assignment), "<setup cell>", "exec"), {"__name__": "__main__"})
    return calls


def expected_ref(version: str = course_lib.__version__) -> str:
    """The git ref for a version, written out here: main between releases, the tag for a release."""
    return "main" if re.fullmatch(r"\d+\.\d+\.\d+\.dev\d+", version) else f"v{version}"


def expected_spec() -> str:
    """The install requirement, built here from the one setting, the version and pyproject's name."""
    return f"{PYPROJECT['project']['name']} @ git+https://github.com/{course_lib.GITHUB_REPO}@{expected_ref()}"


def test_the_one_repo_setting_and_the_install_spec():
    assert re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", course_lib.GITHUB_REPO), course_lib.GITHUB_REPO
    # The installed package's version decides the git ref the install line names.
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "course_lib.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+)?", course_lib.__version__)
    spec = nbfmt.install_spec()
    assert spec == expected_spec()
    req = Requirement(spec)  # a valid PEP 508 direct reference, for this project's name
    assert req.name == PYPROJECT["project"]["name"] and not req.extras and not req.specifier
    assert req.url == f"git+https://github.com/{course_lib.GITHUB_REPO}@{expected_ref()}"


def test_the_ref_is_main_between_releases_and_an_existing_tag_for_a_release():
    assert nbfmt.git_ref("0.2.0.dev0") == expected_ref("0.2.0.dev0") == "main"
    assert nbfmt.git_ref("0.2.0") == expected_ref("0.2.0") == "v0.2.0"
    ref = nbfmt.git_ref()
    if ref != "main":  # a release: the badges and the install line only work once the tag exists
        tags = subprocess.run(["git", "tag", "--list", ref], cwd=ROOT, capture_output=True, text=True).stdout.split()
        assert tags == [ref], f"the notebooks name the tag {ref}, which this repository does not have: tag the release commit (CONTRIBUTING.md, 'Cutting a release')"


def test_setup_cell_off_colab_installs_nothing(monkeypatch, not_colab):
    assert run_setup_cell(monkeypatch) == [("setup",)]


def test_setup_cell_on_colab_installs_this_version_first(monkeypatch, colab):
    calls = run_setup_cell(monkeypatch)
    assert calls == [("run", ([sys.executable, "-m", "pip", "install", "-q", expected_spec()],), {"check": True}),
                     ("setup",)]


def test_assignment_setup_cell_installs_otter_too_and_only_on_colab(monkeypatch, colab):
    calls = run_setup_cell(monkeypatch, "A1_regression.ipynb")
    pip = [sys.executable, "-m", "pip", "install", "-q", nbfmt.OTTER_REQUIREMENT, expected_spec()]
    assert calls == [("run", (pip,), {"check": True}), ("otter", "A1_regression.ipynb")]
    # otter-grader as the grading extra allows it
    grading = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["grading"]]
    otter_pin = next(r for r in grading if r.name == "otter-grader")
    assert Requirement(nbfmt.OTTER_REQUIREMENT).name == "otter-grader"
    assert "7.0.0" in otter_pin.specifier and "7.0.0" in Requirement(nbfmt.OTTER_REQUIREMENT).specifier
    monkeypatch.delitem(sys.modules, "google.colab")
    assert run_setup_cell(monkeypatch, "A1_regression.ipynb") == [("otter", "A1_regression.ipynb")]


def test_setup_cell_picks_the_backend_unless_one_is_chosen(monkeypatch, not_colab):
    import os

    monkeypatch.setenv("KERAS_BACKEND", "placeholder")
    monkeypatch.delenv("KERAS_BACKEND")  # unset now, restored afterwards
    run_setup_cell(monkeypatch)
    assert os.environ["KERAS_BACKEND"] == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    run_setup_cell(monkeypatch)
    assert os.environ["KERAS_BACKEND"] == "jax"


@pytest.mark.parametrize("device, hint", [("CPU: x86_64 (2 cores)", True), ("GPU: Tesla T4", False)])
def test_setup_on_colab_reports_the_gpu_and_how_to_switch(monkeypatch, capsys, colab, device, hint):
    monkeypatch.delenv("COURSE_METRICS_FILE", raising=False)
    monkeypatch.setattr(cl_setup, "device_description", lambda: device)
    info = cl_setup.setup()
    out = capsys.readouterr().out
    assert info["colab"] == "True" and info["device"] == device and f"device: {device}" in out
    assert ("Runtime > Change runtime type > GPU" in out) is hint, out


def test_setup_off_colab_gives_no_colab_hint(monkeypatch, capsys, not_colab):
    monkeypatch.delenv("COURSE_METRICS_FILE", raising=False)
    monkeypatch.setattr(cl_setup, "device_description", lambda: "CPU: x86_64 (2 cores)")
    assert cl_setup.setup()["colab"] == "False"
    assert "Runtime >" not in capsys.readouterr().out


FILES = [d for d in data.REGISTRY.values() if d.name != "mnist"]


@pytest.fixture
def colab_without_data(monkeypatch, tmp_path, colab):
    """Colab: no COURSE_DATA_DIR and an empty cache."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("d", FILES, ids=[d.name for d in FILES])
def test_data_on_colab_is_downloaded_from_upstream_with_its_hash(monkeypatch, colab_without_data, data_dir, d):
    asked = []

    def retrieve(url, known_hash, fname, path, progressbar):  # pooch.retrieve, without the network
        asked.append((url, known_hash, fname))
        Path(path).mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / fname, Path(path) / fname)
        return str(Path(path) / fname)

    import pooch

    monkeypatch.setattr(pooch, "retrieve", retrieve)
    assert data.fetch(d.name) == colab_without_data / d.filename
    assert asked == [(d.url, f"sha256:{d.sha256}", d.filename)]
    # Upstream is pinned to a commit, over https; the mirror's bytes have the registry's hash.
    assert re.match(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/", d.url), d.url
    assert data.sha256(data_dir / d.filename) == d.sha256


def test_mnist_on_colab_is_keras_download_with_the_registry_hash(monkeypatch, colab_without_data, data_dir):
    import keras.src.datasets.mnist as keras_mnist

    asked = []

    def get_file(fname=None, origin=None, file_hash=None, **kwargs):
        asked.append((origin, file_hash))
        return str(data_dir / "mnist.npz")

    monkeypatch.setattr(keras_mnist, "get_file", get_file)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    mnist = data.REGISTRY["mnist"]
    assert asked == [(mnist.url, mnist.sha256)]
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)


@pytest.fixture
def local_upstream(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1, standing in for the upstream host."""
    folder = tmp_path / "upstream"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_download_is_hash_checked(monkeypatch, colab_without_data, data_dir, local_upstream):
    folder, url = local_upstream
    d = data.REGISTRY["ex1data1"]
    local = data.Dataset(d.name, d.filename, f"{url}/{d.filename}", d.sha256, d.description)
    monkeypatch.setitem(data.REGISTRY, d.name, local)
    (folder / d.filename).write_bytes((data_dir / d.filename).read_bytes() + b"6.0,1.0\n")  # tampered
    with pytest.raises(data.DataHashError, match="does not have the expected SHA-256"):
        data.fetch(d.name)
    assert not (colab_without_data / d.filename).exists()  # the bad download is not kept
    shutil.copy(data_dir / d.filename, folder / d.filename)  # the genuine bytes
    x, y = data.load_food_truck()
    assert x.shape == y.shape == (97,)
    assert data.sha256(colab_without_data / d.filename) == d.sha256
