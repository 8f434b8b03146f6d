"""End to end, the way a learner takes the course: JupyterLab in a real browser.

The test starts JupyterLab on localhost (free port, random token) on a temporary copy of
``notebooks/``, opens ``01_linear_regression.ipynb`` in headless Chromium driven by Playwright,
runs every cell through the menu (Run > Run All Cells), and checks, on the page and in the
notebook JupyterLab saves:

- the kernel is the course kernel ("Python 3 (keras-course)", registered by ``make``), and the
  setup cell reports the smoke profile (the kernel inherits ``COURSE_PROFILE``/``COURSE_DATA_DIR``
  from the server's environment);
- every code cell ran (``[n]:`` prompt, an execution count in the saved file);
- no cell has an error output. JupyterLab renders an error with the same mime type as a
  warning on stderr (``application/vnd.jupyter.stderr``), so errors are told apart in the saved
  notebook (``output_type == "error"``) and on the page by their traceback;
- at least one plot image rendered (``.jp-RenderedImage img`` with pixels).

It saves ``build/browser/lab_01_linear_regression.png`` (the first plot, in the executed
notebook) and ``build/browser/lab_01_linear_regression.json`` (timings, per-cell summary), and
``build/browser/jupyter_server.log``.

The browser is Debian's ``chromium`` package (``apt-get install chromium``; ``.ci/run`` installs
it in CI), never a Playwright download. Without it the test is skipped with a loud reason;
``COURSE_REQUIRE_BROWSER=1`` turns that skip into a failure.

Run by hand on any notebook folder (prints the summary)::

    .venv/bin/python tests/test_browser_lab.py notebooks 01_linear_regression.ipynb
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course_tools import ROOT, kernel_env

NOTEBOOK = "01_linear_regression.ipynb"
OUT = ROOT / "build" / "browser"
KERNEL_DISPLAY_NAME = "Python 3 (keras-course)"  # the Makefile's `ipykernel install --display-name`
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Seconds for the whole notebook to run in the browser (smoke profile; CI has 2 cores).
RUN_TIMEOUT_S = int(os.environ.get("COURSE_BROWSER_RUN_TIMEOUT", "600"))
PROMPT_DONE = re.compile(r"^\[\d+\]:$")


def chromium_executable() -> str | None:
    """Debian's Chromium: ``$COURSE_CHROMIUM``, else ``chromium`` on PATH, else ``/usr/bin/chromium``."""
    for candidate in (os.environ.get("COURSE_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def skip_loudly(reason: str) -> None:
    """Skip (or fail, with ``COURSE_REQUIRE_BROWSER=1``) with a reason nobody can miss."""
    message = f"BROWSER TEST NOT RUN: {reason}"
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (COURSE_REQUIRE_BROWSER=1)")
    print(f"\n{'!' * 78}\n{message}\n{'!' * 78}", file=sys.stderr)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))


class JupyterLab:
    """A JupyterLab server on ``127.0.0.1`` for ``root_dir``, isolated from the user's Jupyter
    config, settings, workspaces and user-level kernels (all under ``state_dir``)."""

    def __init__(self, root_dir: Path, state_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        settings = state_dir / "lab-settings" / "@jupyterlab"
        # No news/update toast over the notebook; every cell attached to the DOM (no windowing).
        _write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        _write_json(settings / "notebook-extension" / "tracker.jupyterlab-settings", {"windowingMode": "none"})
        env = dict(env)
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime")):
            env[var] = str(state_dir / sub)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root_dir}",
               f"--LabApp.user_settings_dir={state_dir / 'lab-settings'}",
               f"--LabApp.workspaces_dir={state_dir / 'workspaces'}", "--LabApp.extension_manager=readonly"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log_tail(self, n: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def api(self, path: str) -> dict:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("/api/status")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log_tail()}") from None
                time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM (the server shuts its kernels down), then SIGKILL the process group if needed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


# JavaScript run in the page: one summary per code cell of the open notebook.
_CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell.jp-CodeCell'))
  .map(cell => ({
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent.trim(),
    stderr: Array.from(cell.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')).map(o => o.textContent),
    text: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => o.textContent).join('\\n'),
    images: Array.from(cell.querySelectorAll('.jp-RenderedImage img'))
      .map(img => ({width: img.naturalWidth, height: img.naturalHeight, complete: img.complete})),
  }))"""
_RUNNING_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt'))
  .some(p => p.textContent.includes('*'))"""
_STARTED_JS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt'))
  .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
_IDLE_SELECTOR = '.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]'
#: An error output, on the page: a traceback (JupyterLab renders it as stderr, like a warning).
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\], line \d+", re.M)


def run_in_lab(notebook_dir: Path, name: str, state_dir: Path, out_dir: Path, chromium: str,
               env: dict[str, str]) -> dict:
    """Serve ``notebook_dir``, open ``name`` in Chromium, Run All Cells from the menu, save it.

    Returns a summary: timings (s), kernel name, per-cell prompts/stderr/images, the saved
    notebook's outputs, the screenshot path, page errors. Raises on a timeout.
    """
    from playwright.sync_api import sync_playwright

    stem = Path(name).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {"notebook": name, "timings_s": {}, "chromium": chromium}
    t0 = time.perf_counter()

    def mark(step: str) -> None:
        result["timings_s"][step] = round(time.perf_counter() - t0, 1)

    server = JupyterLab(notebook_dir, state_dir, env, out_dir / "jupyter_server.log")
    try:
        server.wait_ready()
        mark("server_ready")
        spec = server.api("/api/kernelspecs")
        result["kernelspecs"] = {k: v["spec"]["display_name"] for k, v in spec["kernelspecs"].items()}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1200})
                page_errors: list[str] = []
                page.on("pageerror", lambda err: page_errors.append(str(err)))
                page.goto(f"{server.url}/lab/tree/{name}?token={server.token}", wait_until="domcontentloaded")
                page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=120_000)
                mark("notebook_open")
                kernel = page.locator(".jp-NotebookPanel .jp-Toolbar-kernelName").first
                page.wait_for_function(
                    """() => { const k = document.querySelector('.jp-NotebookPanel .jp-Toolbar-kernelName');
                               return k && k.textContent.trim() && !/no kernel/i.test(k.textContent); }""",
                    timeout=120_000)
                page.wait_for_selector(_IDLE_SELECTOR, timeout=120_000)
                result["kernel_name"] = kernel.text_content().strip()
                mark("kernel_idle")

                # What a learner does: Run > Run All Cells.
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                page.wait_for_function(_STARTED_JS, timeout=60_000, polling=250)
                run_start = time.perf_counter()
                page.wait_for_function(f"() => !({_RUNNING_JS})() && document.querySelector('{_IDLE_SELECTOR}')",
                                       timeout=RUN_TIMEOUT_S * 1000, polling=500)
                page.wait_for_timeout(1000)  # let the last outputs render
                result["run_all_s"] = round(time.perf_counter() - run_start, 1)
                mark("run_all_done")
                result["cells"] = page.evaluate(_CELLS_JS)

                # Screenshot: the left sidebar collapsed, the first plot in the middle of the view.
                sidebar = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
                if sidebar.count():
                    sidebar.first.click()  # clicking the open tab folds the file browser away
                page.locator(".jp-NotebookPanel .jp-Cell").first.evaluate("c => c.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(500)
                page.screenshot(path=str(out_dir / f"lab_{stem}_top.png"))  # title, setup cell's report
                image = page.locator(".jp-NotebookPanel .jp-RenderedImage img").first
                if image.count():
                    image.evaluate("img => img.scrollIntoView({block: 'center'})")
                page.wait_for_timeout(500)
                shot = out_dir / f"lab_{stem}.png"
                page.screenshot(path=str(shot))
                result["screenshot"] = str(shot)

                # Save through the UI; the file on disk is what JupyterLab's model holds.
                path = notebook_dir / name
                before = path.stat().st_mtime_ns
                page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="save"] button').first.click()
                deadline = time.monotonic() + 60
                while path.stat().st_mtime_ns == before:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"JupyterLab did not save {name} within 60 s")
                    time.sleep(0.25)
                time.sleep(1)  # the write may still be in progress
                code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
                result["saved"] = [{"execution_count": c.execution_count,
                                    "output_types": [o.output_type for o in c.outputs],
                                    "errors": [f"{o.ename}: {o.evalue}" for o in c.outputs
                                               if o.output_type == "error"],
                                    "images": sum("image/png" in o.get("data", {}) for o in c.outputs)}
                                   for c in code]
                mark("saved")
                result["page_errors"] = page_errors
            finally:
                browser.close()
    finally:
        server.stop()
    mark("total")
    summary = {k: v for k, v in result.items() if k != "cells"}
    summary["cells"] = [{"prompt": c["prompt"], "images": len(c["images"]),
                         "stderr_lines": sum(len(s.splitlines()) for s in c["stderr"])} for c in result["cells"]]
    _write_json(out_dir / f"lab_{stem}.json", summary)
    return result


def server_env(tmp: Path) -> dict[str, str]:
    """The server's (and so the kernel's) environment: smoke profile, the data mirror as an
    absolute path when ``COURSE_DATA_DIR`` is set, figures recorded to ``tmp/metrics.json``,
    matplotlib's default (inline) backend."""
    env = kernel_env(COURSE_PROFILE="smoke", COURSE_METRICS_FILE=str(tmp / "metrics.json"))
    env.pop("MPLBACKEND", None)  # a learner's kernel draws inline, whatever this session uses
    return env


def problems(result: dict) -> list[str]:
    """Everything wrong with a run, as sentences (empty when the notebook ran clean)."""
    found = []
    cells, saved = result["cells"], result["saved"]
    if not cells:
        found.append("no code cells on the page")
    for i, cell in enumerate(cells):
        if not PROMPT_DONE.match(cell["prompt"]):
            found.append(f"code cell {i} did not run: its prompt is {cell['prompt']!r}")
        for text in cell["stderr"]:
            if _TRACEBACK.search(text):
                found.append(f"code cell {i} shows an error on the page: {text.strip().splitlines()[-1][:200]}")
    if len(saved) != len(cells):
        found.append(f"the page shows {len(cells)} code cells, the saved notebook has {len(saved)}")
    for i, cell in enumerate(saved):
        if not cell["execution_count"]:
            found.append(f"code cell {i} has no execution count in the saved notebook")
        found += [f"code cell {i} has an error output: {e}" for e in cell["errors"]]
    rendered = [img for c in cells for img in c["images"] if img["complete"] and img["width"] > 0]
    if not rendered:
        found.append("no plot image rendered (.jp-RenderedImage img with pixels)")
    if not any(c["images"] for c in saved):
        found.append("the saved notebook has no image/png output")
    return found


def test_problems_finds_errors_unrun_cells_and_missing_plots():
    """The checks the browser test applies can fail (a page summary as run_in_lab returns it)."""
    plot = {"width": 600, "height": 400, "complete": True}
    clean = {"cells": [{"prompt": "[1]:", "stderr": ["UserWarning: a warning"], "text": "", "images": []},
                       {"prompt": "[2]:", "stderr": [], "text": "", "images": [plot]}],
             "saved": [{"execution_count": 1, "errors": [], "images": 0},
                       {"execution_count": 2, "errors": [], "images": 1}]}
    assert problems(clean) == []
    broken = json.loads(json.dumps(clean))
    broken["cells"][1]["stderr"] = ["---\nZeroDivisionError  Traceback (most recent call last)\n"
                                    "Cell In[2], line 1\n----> 1 1/0\nZeroDivisionError: division by zero"]
    broken["cells"][1]["images"] = []
    broken["cells"].append({"prompt": "[ ]:", "stderr": [], "text": "", "images": []})
    broken["saved"][1] = {"execution_count": 2, "errors": ["ZeroDivisionError: division by zero"], "images": 0}
    broken["saved"].append({"execution_count": None, "errors": [], "images": 0})
    found = "\n".join(problems(broken))
    for expected in ("code cell 1 shows an error on the page: ZeroDivisionError: division by zero",
                     "code cell 2 did not run: its prompt is '[ ]:'",
                     "code cell 1 has an error output: ZeroDivisionError", "code cell 2 has no execution count",
                     "no plot image rendered", "the saved notebook has no image/png output"):
        assert expected in found, found


@pytest.mark.timeout(RUN_TIMEOUT_S + 300)
def test_lesson_01_runs_clean_in_jupyterlab(tmp_path):
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_loudly("the Python package 'playwright' is not installed (pip install -e '.[browser]').")
    chromium = chromium_executable()
    if chromium is None:
        skip_loudly("no Chromium found (COURSE_CHROMIUM, 'chromium' on PATH, /usr/bin/chromium). "
                    "Install Debian's package: apt-get install chromium (CI's .ci/run does this as root).")
    assert (ROOT / "notebooks" / NOTEBOOK).is_file(), f"notebooks/{NOTEBOOK} is missing"
    # A copy, so that JupyterLab's saves and checkpoints never touch the repository.
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

    result = run_in_lab(notebooks, NOTEBOOK, tmp_path / "jupyter", OUT, chromium, server_env(tmp_path))

    assert result["kernel_name"] == KERNEL_DISPLAY_NAME, (
        f"JupyterLab ran the notebook on kernel {result['kernel_name']!r}, not the course kernel "
        f"{KERNEL_DISPLAY_NAME!r}; register it: {sys.executable} -m ipykernel install --sys-prefix "
        f"--name python3 --display-name \"{KERNEL_DISPLAY_NAME}\" (make venv does)")
    assert not problems(result), "\n".join(problems(result)) + f"\nscreenshot: {result['screenshot']}"
    setup_text = result["cells"][0]["text"]
    assert "profile: smoke" in setup_text, f"the setup cell did not report the smoke profile:\n{setup_text}"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["setup"]["profile"] == "smoke" and metrics["setup"]["colab"] == "False", metrics["setup"]
    assert Path(result["screenshot"]).stat().st_size > 10_000


if __name__ == "__main__":  # by hand: python tests/test_browser_lab.py <folder> <notebook.ipynb>
    import tempfile

    folder, name = Path(sys.argv[1]).resolve(), sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "notebooks"
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        chromium = chromium_executable()
        if chromium is None:
            sys.exit("no Chromium: apt-get install chromium")
        res = run_in_lab(copy, name, Path(tmp) / "jupyter", OUT, chromium, server_env(Path(tmp)))
        print(json.dumps({k: v for k, v in res.items() if k != "cells"}, indent=1))
        print("\n".join(problems(res)) or "no problems")
