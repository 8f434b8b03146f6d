"""course_tools.offline: the bundle's data check, the host's run (on this machine's CPU, from an
empty wheel folder, as on a host that already has everything) and its time limit."""

import json
import shutil
import sys

import numpy as np
import pytest

from course_lib import data
from course_tools import offline


def test_host_packages_are_left_out_by_name():
    freeze = "Jax==0.4.30\nnvidia_cudnn_cu12==9.1.0\n# comment\nml_dtypes @ file:///tmp/x.whl\n"
    assert offline.host_packages(freeze) == {"jax", "nvidia-cudnn-cu12", "ml-dtypes"}
    wheel = offline.Path("scikit_learn-1.9.1-cp312-cp312-manylinux_2_17_x86_64.whl")
    assert offline.wheel_name(wheel) == "scikit-learn"


def test_bundle_data_is_checked(tmp_path, data_dir):
    assert offline.copy_data(data_dir, tmp_path / "good") == len(data.REGISTRY)
    for d in data.REGISTRY.values():
        data.verify(tmp_path / "good" / d.filename, d.name)
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "good", bad)
    with np.load(bad / "mnist.npz") as f:
        arrays = {k: f[k] for k in f.files}
    arrays["x_train"] = np.zeros_like(arrays["x_train"])
    np.savez(bad / "mnist.npz", **arrays)
    with pytest.raises(data.DataHashError, match="mnist"):
        offline.copy_data(bad, tmp_path / "out")
    (bad / "ex1data1.txt").unlink()
    with pytest.raises(data.DataMissingError, match=r"ex1data1.txt is missing: download it from https://"):
        offline.copy_data(bad, tmp_path / "out2")


def test_bundle_needs_a_data_folder(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert offline.main(["bundle"]) == 2
    assert "set COURSE_DATA_DIR" in capsys.readouterr().err
    assert offline.main(["bundel"]) == 2
    assert "unknown command 'bundel'" in capsys.readouterr().err


def test_time_limit_stops_the_command_and_says_so(tmp_path):
    log = offline.Log(tmp_path / "log.txt")
    script = ("import signal, sys, time\n"
              "signal.signal(signal.SIGTERM, lambda *a: (print('stopped: report written', flush=True), sys.exit(3)))\n"
              "print('running', flush=True)\ntime.sleep(60)\n")
    assert offline.run_logged([sys.executable, "-c", script], {}, log, limit_s=2) == 124
    assert offline.run_logged([sys.executable, "-c", "print('done')"], {}, log) == 0
    log.close()
    assert (tmp_path / "log.txt").read_text() == "running\nstopped: report written\ndone\n"


@pytest.mark.slow
def test_host_run_installs_from_the_bundle_and_runs_a_notebook(tmp_path, data_dir, monkeypatch, capsys):
    bundle = tmp_path / "offline"
    (bundle / "wheels").mkdir(parents=True)  # this venv has everything: nothing to install
    offline.copy_data(data_dir, bundle / "data")
    (bundle / "COMMIT").write_text("abc123def456\n")
    monkeypatch.setattr(offline, "OFFLINE", bundle)
    for key, value in {"KERAS_BACKEND": "tensorflow", "COURSE_PROFILE": "smoke", "WORK_DIR": str(tmp_path / "work"),
                       "RESULTS_DIR": str(tmp_path / "results"), "COURSE_NOTEBOOKS": "01"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("COURSE_COMMIT", raising=False)
    assert offline.main(["course", "01"]) == 0
    results = tmp_path / "results"
    report = json.loads((results / "report.json").read_text())
    assert [e["notebook"] for e in report["notebooks"]] == ["01_linear_regression"]
    assert report["notebooks"][0]["status"] == "ok" and report["meta"]["commit"] == "abc123def456"
    assert report["meta"]["profile"] == "smoke" and report["notebooks"][0]["checks"]
    assert (results / "metrics" / "01_linear_regression.json").is_file() and (results / "report.md").is_file()
    log = (results / "offline_course.log").read_text()
    assert "backend tensorflow" in log and "WARNING: Keras sees no GPU here" in log
    assert "== course done (exit 0)" in log and "== course done (exit 0)" in capsys.readouterr().out
