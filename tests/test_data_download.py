"""course_tools.data (`make data DIR=...`): every data set into a folder, each SHA-256 checked.

The downloads come from a local HTTP server, with a registry of made-up files whose hashes are
computed here with hashlib: a good file is kept, a file with other bytes is refused (both hashes
named, nothing left under its name), and the command says which failed and exits with 1.
"""

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from course_lib import data
from course_lib.data import Dataset
from course_tools import data as data_tool

GOOD, OTHER = b"1.0,2.0\n3.0,4.0\n", b"1.0,2.0\n3.0,4.5\n"


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on ``tmp_path / 'served'``; yields (folder, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def registry(monkeypatch, server):
    """Two made-up data sets served at their pinned URLs: ``good`` as registered, ``tampered``
    with other bytes than its hash says."""
    served, base = server
    (served / "good.csv").write_bytes(GOOD)
    (served / "tampered.csv").write_bytes(OTHER)
    fake = {
        "good": Dataset("good", "good.csv", f"{base}/good.csv", hashlib.sha256(GOOD).hexdigest(), "a good file"),
        "tampered": Dataset("tampered", "tampered.csv", f"{base}/tampered.csv", hashlib.sha256(GOOD).hexdigest(),
                            "served with other bytes"),
    }
    monkeypatch.setattr(data, "REGISTRY", fake)
    monkeypatch.setattr(data_tool, "REGISTRY", fake)
    return fake


def test_downloads_and_checks_every_data_set(registry, tmp_path, capsys):
    folder = tmp_path / "course-data"
    assert data_tool.main([str(folder), "--only", "good"]) == 0
    assert (folder / "good.csv").read_bytes() == GOOD
    assert "SHA-256 checked" in capsys.readouterr().out
    assert data_tool.main([str(folder), "--only", "good"]) == 0  # again: already there, checked, kept
    assert "already there" in capsys.readouterr().out
    assert data_tool.main([str(folder), "--only", "good", "--check"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["good.csv"]  # no partial files left


def test_a_download_with_the_wrong_hash_is_refused(registry, tmp_path, capsys):
    folder = tmp_path / "course-data"
    assert data_tool.main([str(folder)]) == 1
    err = capsys.readouterr().err
    assert "tampered.csv downloaded from" in err and "was not kept" in err
    assert hashlib.sha256(GOOD).hexdigest() in err and hashlib.sha256(OTHER).hexdigest() in err  # both hashes
    assert "1 of 2 data sets are missing or wrong" in err and err.rstrip().endswith("tampered")
    assert sorted(p.name for p in folder.iterdir()) == ["good.csv"]  # the bad file is not there at all


def test_a_wrong_file_already_in_the_folder_is_neither_used_nor_replaced(registry, tmp_path, capsys):
    folder = tmp_path / "course-data"
    folder.mkdir()
    (folder / "good.csv").write_bytes(OTHER)
    assert data_tool.main([str(folder), "--only", "good"]) == 1
    assert hashlib.sha256(OTHER).hexdigest() in capsys.readouterr().err
    assert (folder / "good.csv").read_bytes() == OTHER  # left for the user to look at and delete


def test_base_url_a_missing_file_and_an_unknown_name(registry, server, tmp_path, capsys):
    served, base = server
    mirror = served / "mirror"
    mirror.mkdir()
    (mirror / "good.csv").write_bytes(GOOD)
    folder = tmp_path / "course-data"
    assert data_tool.main([str(folder), "--only", "good", "--base-url", f"{base}/mirror/"]) == 0
    assert f"{base}/mirror/good.csv" in capsys.readouterr().out
    assert data_tool.main([str(folder), "--only", "tampered", "--base-url", f"{base}/mirror"]) == 1
    err = capsys.readouterr().err
    assert "tampered.csv: could not be downloaded" in err and "404" in err
    assert data_tool.main([str(tmp_path / "empty"), "--check"]) == 1
    assert "good.csv: missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        data_tool.main([str(folder), "--only", "nosuch"])
    assert stop.value.code == 2 and "unknown data set 'nosuch'" in capsys.readouterr().err


def test_the_real_registry_is_what_it_downloads():
    """One place for URLs and hashes: the tool reads course_lib.data.REGISTRY itself."""
    assert data_tool.REGISTRY is data.REGISTRY
    assert [data_tool.source_url(d) for d in data.REGISTRY.values()] == [d.url for d in data.REGISTRY.values()]
    assert all(d.url.startswith("https://") for d in data.REGISTRY.values())


def test_every_file_of_a_local_data_folder_passes_check(tmp_path):
    """With COURSE_DATA_DIR set (as in CI), the folder the course reads passes --check."""
    folder = data.data_dir()
    if folder is None:
        pytest.skip("COURSE_DATA_DIR is not set")
    assert data_tool.main([str(folder), "--check"]) == 0
    assert Path(folder).is_dir()
