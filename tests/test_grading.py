"""The grader's parts: the message format, the judge's proxies, the sandbox, the command line.

The grading of whole assignments is in ``test_assignments.py``, the attacks in
``test_grading_attacks.py``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT

from course_tools.grading import protocol, sandbox
from course_tools.grading.judge import Client, Remote


def _roundtrip(header: dict, arrays: dict | None = None) -> tuple[dict, dict]:
    r, w = os.pipe()
    try:
        protocol.write_frame(w, header, arrays)
        return protocol.read_frame(r)
    finally:
        os.close(r)
        os.close(w)


def _read_bytes(data: bytes):
    """read_frame on ``data`` (through a file: a pipe holds only 64 KB)."""
    import tempfile

    with tempfile.TemporaryFile() as f:
        f.write(data)
        f.seek(0)
        return protocol.read_frame(f.fileno())


def test_values_go_through_as_plain_data():
    value = {"W": np.arange(6.0).reshape(2, 3), "n": 3, "shape": (None, 784), "costs": [1.5, float("nan")],
             "mask": np.array([True, False]), "label": "q1", "scalar": np.float32(2.5)}
    arrays: dict = {}
    header, back = _roundtrip({"value": protocol.encode(value, arrays)}, arrays)
    got = protocol.decode(header["value"], back)
    assert protocol.same_value(got["W"], value["W"]) and got["W"].dtype == np.float64
    assert got["shape"] == (None, 784) and got["n"] == 3 and got["label"] == "q1"
    assert got["costs"][0] == 1.5 and np.isnan(got["costs"][1])
    assert isinstance(got["scalar"], np.float32) and got["scalar"] == 2.5
    with pytest.raises(TypeError, match="not plain numeric data"):
        protocol.encode(object(), {})
    handles: list = []
    node = protocol.encode(len, {}, lambda obj: handles.append(obj) or len(handles) - 1)
    assert node == {"h": 0} and handles == [len]


def test_a_pickled_object_is_never_loaded(tmp_path):
    """An .npz with an object array (pickle inside) is refused, and the pickle never runs."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buf = io.BytesIO()
    np.savez(buf, a=np.array([Evil()], dtype=object))
    head = b'{"value": {"a": "a"}}'
    frame = protocol.MAGIC + len(head).to_bytes(4, "big") + len(buf.getvalue()).to_bytes(4, "big") + head + buf.getvalue()
    with pytest.raises(protocol.ProtocolError, match="not a plain .npz|dtype"):
        _read_bytes(frame)
    assert not marker.exists()


@pytest.mark.parametrize("frame, match", [
    (b"XXXX" + bytes(8), "bad magic"),
    (protocol.MAGIC + (2**31).to_bytes(4, "big") + bytes(4), "too large"),
    (protocol.MAGIC + (2).to_bytes(4, "big") + bytes(4) + b"[]", "not a JSON object"),
    (protocol.MAGIC + (3).to_bytes(4, "big") + bytes(4) + b"{x}", "not JSON"),
])
def test_malformed_frames_are_refused(frame, match):
    with pytest.raises(protocol.ProtocolError, match=match):
        _read_bytes(frame)


def test_a_zip_bomb_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.npy", b"\0" * (protocol.MAX_ARRAYS + 1))
    body = buf.getvalue()
    assert len(body) < protocol.MAX_ARRAYS // 100
    head = b"{}"
    with pytest.raises(protocol.ProtocolError, match="too many or too large"):
        _read_bytes(protocol.MAGIC + len(head).to_bytes(4, "big") + len(body).to_bytes(4, "big") + head + body)


@pytest.mark.parametrize("node", [{"x": 1}, {"a": "missing"}, {"h": 1}, [1, 2], {"l": 1}])
def test_unknown_values_are_refused(node):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(node, {})


def test_a_remote_object_is_no_number():
    """What a test can do with a submission's object: call it, read attributes; nothing that
    could be made to say True."""
    remote = Remote(Client(None), 0, "model")
    for op in (bool, len, iter, float, lambda r: r == 1, lambda r: r != 1, lambda r: r < 1, np.asarray,
               lambda r: 1 in r, lambda r: r[0], hash):
        with pytest.raises(TypeError):
            op(remote)
    with pytest.raises(AttributeError):
        remote.__array_interface__  # noqa: B018


def test_seccomp_program():
    program = sandbox._seccomp_program()
    if program is None:
        pytest.skip(f"no seccomp program for {os.uname().machine}")
    assert len(program) % 8 == 0 and len(program) // 8 == 12


def test_no_bwrap_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxError, match=r"apt-get install bubblewrap.*--no-sandbox"):
        sandbox.check_bwrap()


# ------------------------------------------------------------------ the command line


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_tools.grading", *args, "--quiet"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=600)


def test_cli_usage_errors(built_assignments, tmp_path):
    build = str(next(iter(built_assignments.values())).parent)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _cli(str(empty), "--assignment", "A9", "--build-dir", build)
    assert r.returncode == 2 and "make assignments" in r.stderr
    r = _cli(str(empty), "--assignment", "A1", "--build-dir", build, "--no-sandbox")
    assert r.returncode == 2 and "no *.ipynb" in r.stderr
    r = _cli(str(empty), "--assignment", "A1", "--build-dir", build, env={"PATH": str(tmp_path)})
    assert r.returncode == 2 and "bubblewrap" in r.stderr and "--no-sandbox" in r.stderr


def test_no_sandbox_grades_with_a_loud_warning(built_assignments, data_dir, tmp_path):
    folder = built_assignments["A1_regression"]
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ref.ipynb").write_bytes((folder / "autograder" / "A1_regression.ipynb").read_bytes())
    r = _cli(str(subs), "--assignment", "A1", "--build-dir", str(folder.parent), "--out", str(tmp_path / "g.csv"),
             "--no-sandbox", env={"COURSE_DATA_DIR": str(data_dir)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count("FORGE GRADES") == 2, "the warning comes before and after the batch"
    assert "ref.ipynb,ok,2,2,2,3,2,11,11," in (tmp_path / "g.csv").read_text()
    assert "grades of this run can be forged" in (tmp_path / "g-logs" / "ref.log").read_text()


def test_canary_refuses_a_given_that_is_not_data(built_assignments, data_dir, sandbox, tmp_path):
    """A test parameter no solution cell defines is taken from the reference run: it must be data
    (a function there would be called in a sandbox that is gone)."""
    import json
    import shutil

    build = tmp_path / "build"
    shutil.copytree(built_assignments["A1_regression"], build / "A1_regression")
    ref = build / "A1_regression" / "autograder" / "A1_regression.ipynb"
    nb = json.loads(ref.read_text())
    tests = nb["metadata"]["otter"]["tests"]
    tests["q1"] = tests["q1"].replace("def test_cost_at_zero(linear_cost, X, y):",
                                      "def test_cost_at_zero(linear_cost, X, y, load_food_truck):")
    ref.write_text(json.dumps(nb))
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(ref, subs / "ref.ipynb")
    r = _cli(str(subs), "--assignment", "A1", "--build-dir", str(build), "--out", str(tmp_path / "g.csv"),
             env={"COURSE_DATA_DIR": str(data_dir)})
    assert r.returncode == 2 and "canary failed" in r.stderr, r.stderr[-2000:]
    assert "'load_food_truck'" in r.stderr and "not plain data" in r.stderr
    assert not (tmp_path / "g.csv").exists()
