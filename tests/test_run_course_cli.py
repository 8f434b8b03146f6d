"""course_tools.run_course: each run has its own report; a folder never mixes two runs."""

import json

import nbformat
import pytest

from course_tools import ROOT, run_course


def _nb(path, code):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 97 · Test"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_run_replaces_the_earlier_run_in_its_folder(tmp_path, monkeypatch, capsys):
    nbdir, out = tmp_path / "notebooks", tmp_path / "out"
    nbdir.mkdir()
    _nb(nbdir / "97_new.ipynb", "from course_lib.checks import record\nrecord('answer', 42)")
    # an earlier run in another profile, of another notebook
    for sub in ("notebooks", "html", "metrics", "entries"):
        (out / sub).mkdir(parents=True)
    (out / "notebooks" / "96_old.ipynb").write_text("{}")
    (out / "html" / "96_old.html").write_text("")
    (out / "metrics" / "96_old.json").write_text("{}")
    (out / "report.json").write_text(json.dumps({"meta": {"profile": "full", "backend": "jax"},
                                                 "notebooks": [{"notebook": "96_old"}]}))
    (out / "notes.txt").write_text("mine")  # not something a run writes: kept
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert run_course.main(["97", "--notebooks", str(nbdir), "--out", str(out), "--cell-timeout", "120"]) == 0
    assert "replacing a run of 1 notebook(s) in the full profile on jax" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == ["97_new.ipynb"]
    assert sorted(p.name for p in (out / "html").iterdir()) == ["97_new.html"]
    assert not (out / "metrics" / "96_old.json").exists() and (out / "notes.txt").read_text() == "mine"
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["profile"] == "smoke" and [e["notebook"] for e in report["notebooks"]] == ["97_new"]
    assert [c["value"] for c in report["notebooks"][0]["checks"]] == [42]
    assert "97_new" in (out / "report.md").read_text() and "96_old" not in (out / "report.md").read_text()


def test_the_folder_of_the_notebooks_is_refused(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _nb(nbdir / "97_new.ipynb", "pass")
    with pytest.raises(SystemExit, match="folder of the notebooks"):
        run_course.main(["--notebooks", str(nbdir), "--out", str(tmp_path)])
    assert (nbdir / "97_new.ipynb").exists()


def test_without_out_one_notebook_gets_a_folder_of_its_own():
    assert run_course.default_out([], "learn", "tensorflow") == ROOT / "build"
    assert run_course.default_out(["05"], "full", "tensorflow") == ROOT / "build" / "runs" / "05-full-tensorflow"
    assert run_course.default_out(["05", "08"], "smoke", "jax").name == "05_08-smoke-jax"
    assert run_course.default_out(["../x"], "smoke", "jax").parent == ROOT / "build" / "runs"  # no way out of build/
