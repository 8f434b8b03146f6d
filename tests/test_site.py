"""The course as a website (``make site``, ``python -m course_tools.site``), checked in a real browser.

The browser test builds the site the way ``make site`` does, from a short course run made here:
lesson 01 executed in the smoke profile by ``python -m course_tools.run_course`` (outputs, figures, a report),
every other lesson as its source without outputs (same page, same math and links; executing them
all would add minutes to ``make test``, and every notebook already runs under nbval). It serves
the site on 127.0.0.1 and opens every page (home, each lesson, "Measured on a GPU") in headless
Chromium with every request to another address refused: the site must read offline. On each page:

- no console error, no page error, no failed request;
- math typeset: each ``.math`` element holds MathJax's output and no ``$$``, ``\\(`` or ``\\[``
  is left in the text outside code;
- every image loaded (``naturalWidth > 0``);
- every internal link answers, and its ``#fragment``, if any, names an element of the target;
- on a lesson page: one Open-in-Colab link, to the notebook at this version's tag, a download
  link that serves the repository's notebook byte for byte, and previous/next links in course order.

The home page and lesson 01 are also opened as plain files, without a server (the README says so).

Screenshots: ``build/browser/site_home.png``, ``build/browser/site_01_linear_regression.png``
(its first figure) and ``..._top.png`` (its title, links and first equations). The browser is
Debian's ``chromium``, as in ``tests/test_browser_lab.py`` (``COURSE_REQUIRE_BROWSER=1`` turns a
missing browser into a failure).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from test_browser_lab import CHROMIUM_ARGS, chromium_executable, skip_loudly

from course_lib import GITHUB_REPO
from course_tools import ROOT
from course_tools import site as build_site
from course_tools.nbfmt import git_ref

# Sphinx 9 warns of its version 11 inside myst-parser and sphinx-book-theme: theirs to change, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

OUT = ROOT / "build" / "browser"
EXECUTED = "01_linear_regression"  # the lesson the browser test runs, for real outputs and figures
LESSONS = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def colab_url(stem: str) -> str:
    return f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/{git_ref()}/notebooks/{stem}.ipynb"


# ---------------------------------------------------------------- staging, without a browser

def _report(tmp_path: Path, profile: str = "smoke", notebooks: list[dict] | None = None) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"meta": {"profile": profile, "device": "CPU: test", "backend": "tensorflow",
                                         "date": "2026-01-01T00:00:00+00:00", "commit": "abc", "total_wall_s": 1.0},
                                "notebooks": notebooks or []}))
    return path


def test_a_lesson_page_gets_colab_and_download_links_instead_of_the_badge(tmp_path):
    source = ROOT / "notebooks" / f"{EXECUTED}.ipynb"
    title, url = build_site.stage_lesson(source, source, tmp_path / "staged.ipynb")
    assert title == "01 · Linear regression" and url == colab_url(EXECUTED)
    first = nbformat.read(tmp_path / "staged.ipynb", as_version=4).cells[0].source
    assert "colab-badge.svg" not in first  # an image from another server: not on an offline site
    assert f"[Open in Colab]({colab_url(EXECUTED)})" in first
    assert f"{{download}}`Download the notebook </downloads/{EXECUTED}.ipynb>`" in first


def test_a_notebook_without_its_badge_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 99 · No badge\n\nText.")])
    nbformat.write(nb, tmp_path / "99_no_badge.ipynb")
    with pytest.raises(SystemExit, match="no Open-in-Colab badge.*nbfmt"):
        build_site.stage_lesson(tmp_path / "99_no_badge.ipynb", tmp_path / "99_no_badge.ipynb", tmp_path / "out.ipynb")


def test_home_page_lists_every_lesson_in_order_and_names_the_profile():
    lessons = [(s, f"title of {s}", colab_url(s)) for s in LESSONS]
    page = build_site.home_page(lessons, {"meta": {"profile": "learn", "device": "CPU: x"},
                                          "notebooks": [{"notebook": LESSONS[1], "status": "ok", "wall_s": 3.5}]},
                                {LESSONS[2]: {"status": "failed", "wall_s": 1.0}})
    assert "**learn** profile" in page
    toctree = page[page.index("```{toctree}"):]
    assert re.findall(r"^notebooks/(\S+)$", toctree, re.M) == LESSONS and toctree.rstrip().endswith("gpu\n```")
    rows = [line for line in page.splitlines() if line.startswith("| [")]
    assert len(rows) == len(LESSONS)
    assert "ok, 3.5 s" in rows[1] and "not run" in rows[0] and "[failed](gpu.md)" in rows[2]


def test_gpu_page_is_made_from_the_committed_results(tmp_path):
    page = build_site.gpu_page(ROOT / "results", tmp_path)
    runs = sorted(p.parent.name for p in (ROOT / "results").glob("*/report.json"))
    assert runs, "no committed results"
    from course_tools.results_table import table

    assert table(ROOT / "results") in page
    for run in runs:
        assert f"```{{include}} results/{run}/report.md" in page
        assert (tmp_path / "results" / run / "report.md").read_bytes() == (ROOT / "results" / run / "report.md").read_bytes()
    assert "enable_extensions: []" in page  # "RMSE ($)" in a report is not the start of an equation


def test_build_says_what_to_do_when_the_course_has_not_run(tmp_path):
    with pytest.raises(SystemExit, match="report.json is missing: run `make course`"):
        build_site.build(tmp_path / "notebooks", tmp_path / "report.json", tmp_path / "site", quiet=True)
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(SystemExit, match=f"not executed.*{EXECUTED}.ipynb.*make course"):
        build_site.build(tmp_path / "notebooks", _report(tmp_path), tmp_path / "site", quiet=True)


# ---------------------------------------------------------------- in the browser

class StaticServer:
    """The folder ``root`` over HTTP on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# Run in the page once it has loaded: wait for MathJax and the images, then describe the page.
_PAGE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  const article = (document.querySelector('article') || document.body).cloneNode(true);
  article.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  const maths = Array.from(document.querySelectorAll('.math'));
  const link = sel => { const a = document.querySelector(sel); return a ? a.href : null; };
  return {
    title: document.title,
    math: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    raw_math: (article.textContent.match(/\\$\\$|\\\\\\(|\\\\\\[/g) || []),
    images: Array.from(document.images).map(img => ({src: img.currentSrc || img.src,
                                                     ok: img.complete && img.naturalWidth > 0})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    colab: Array.from(document.querySelectorAll('a[href^="https://colab.research.google.com/"]')).map(a => a.href),
    downloads: Array.from(document.querySelectorAll('article a.download')).map(a => a.href),
    prev: link('.prev-next-area a.left-prev'),
    next: link('.prev-next-area a.right-next'),
    text: document.querySelector('article') ? document.querySelector('article').innerText : '',
  };
}"""


def inspect_pages(base: str, paths: list[str], chromium: str, screenshots: dict[str, Path] | None = None,
                  figures: dict[str, Path] | None = None) -> dict:
    """Open each page (``base`` + path) in Chromium, everything outside ``base`` refused; return,
    per path, what ``_PAGE_JS`` found plus the console errors, page errors, failed and refused
    requests, and the seconds it took. ``screenshots``: path -> PNG of the top of that page;
    ``figures``: path -> PNG with the page's first figure in the middle."""
    from playwright.sync_api import sync_playwright

    found: dict[str, dict] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            events: dict[str, list[str]] = {}

            def note(kind: str, text: str) -> None:
                events.setdefault(kind, []).append(text)

            def route(r):
                if r.request.url.startswith(base):
                    r.continue_()
                else:
                    note("refused", r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: m.type == "error" and note("console_errors", m.text))
            page.on("pageerror", lambda e: note("page_errors", str(e)))
            page.on("requestfailed", lambda r: r.url.startswith(base) and note("failed_requests", r.url))
            page.on("response", lambda r: r.status >= 400 and note("failed_requests", f"{r.status} {r.url}"))
            for path in paths:
                events.clear()
                start = time.perf_counter()
                page.goto(base + path, wait_until="load")
                info = page.evaluate(_PAGE_JS)
                page.wait_for_timeout(200)  # late console messages
                info.update({k: list(v) for k, v in events.items()}, seconds=round(time.perf_counter() - start, 2))
                found[path] = info
                if path in (screenshots or {}):
                    page.screenshot(path=str(screenshots[path]))
                if path in (figures or {}) and page.locator("article img").count():
                    page.locator("article img").first.evaluate("img => img.scrollIntoView({block: 'center'})")
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(figures[path]))
        finally:
            browser.close()
    return found


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def problems(found: dict[str, dict], base: str | None) -> list[str]:
    """Everything wrong with the pages ``inspect_pages`` saw, as sentences (empty when all is well).
    Links that start with ``base`` are fetched (``None``: links are not checked)."""
    out, bodies = [], {}
    for path, info in found.items():
        for kind in ("console_errors", "page_errors", "failed_requests", "refused"):
            out += [f"{path}: {kind.replace('_', ' ')}: {e}" for e in info.get(kind, [])]
        out += [f"{path}: math not typeset: {m!r}" for m in info["untypeset"]]
        out += [f"{path}: raw math left in the text: {m!r}" for m in info["raw_math"]]
        out += [f"{path}: image did not load: {img['src']}" for img in info["images"] if not img["ok"]]
        for link in info["links"]:
            if base is None or not link.startswith(base):
                continue
            url, _, fragment = link.partition("#")
            if url not in bodies:
                bodies[url] = _fetch(url)
            status, body = bodies[url]
            if status != 200:
                out.append(f"{path}: broken link {link} ({status})")
            elif fragment and not re.search(rf'id="{re.escape(urllib.request.unquote(fragment))}"', body.decode("utf-8", "replace")):
                out.append(f"{path}: link {link}: no element with id {fragment!r} in the target")
    return out


_BROKEN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body><article><p>Raw math: $$x^2$$ and \\(y\\)</p><span class="math">\\(z\\)</span>
<img src="missing.png"><img src="https://example.org/x.png"><a href="nowhere.html">gone</a>
<a href="index.html#no-such-id">anchor</a><a href="index.html#here">fine</a><span id="here"></span></article>
<script>console.error("boom")</script></body></html>"""


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_loudly("the Python package 'playwright' is not installed (pip install -e '.[browser]').")
    found = chromium_executable()
    if found is None:
        skip_loudly("no Chromium found (COURSE_CHROMIUM, 'chromium' on PATH, /usr/bin/chromium). "
                    "Install Debian's package: apt-get install chromium (CI's .ci/run does this as root).")
    return found


def test_the_page_checks_find_what_is_broken(tmp_path, chromium):
    """A page with every fault the site test looks for: each one is reported."""
    (tmp_path / "index.html").write_text(_BROKEN_PAGE)
    with StaticServer(tmp_path) as server:
        found = "\n".join(problems(inspect_pages(server.url, ["index.html"], chromium), server.url))
    for expected in ("console errors: boom", "failed requests: 404", "refused: https://example.org/x.png",
                     "math not typeset: '\\\\(z\\\\)'", "raw math left in the text: '$$'",
                     "raw math left in the text: '\\\\('", "image did not load: " + "http", "broken link",
                     "nowhere.html (404)", "no element with id 'no-such-id'"):
        assert expected in found, f"{expected!r} not reported:\n{found}"
    assert "#here" not in found


@pytest.mark.timeout(900)
def test_the_site_reads_offline_in_a_browser(tmp_path, chromium, data_dir):
    # A short course run, as make course does: lesson 01 executed, the other lessons as sources.
    course, start = tmp_path / "course", time.perf_counter()
    ran = subprocess.run([sys.executable, "-m", "course_tools.run_course", EXECUTED, "--out", str(course)], env={**os.environ, "COURSE_PROFILE": "smoke"}, capture_output=True, text=True)
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}"
    course_s = time.perf_counter() - start
    for stem in LESSONS:
        if stem != EXECUTED:
            (course / "notebooks" / f"{stem}.ipynb").write_bytes((ROOT / "notebooks" / f"{stem}.ipynb").read_bytes())
    start = time.perf_counter()
    summary = build_site.build(course / "notebooks", course / "report.json", tmp_path / "site", quiet=True)
    build_s = time.perf_counter() - start
    assert summary["warnings"] == [], "\n".join(summary["warnings"])
    assert summary["lessons"] == LESSONS and summary["profile"] == "smoke"

    html = tmp_path / "site" / "html"
    pages = ["index.html"] + [f"notebooks/{s}.html" for s in LESSONS] + ["gpu.html"]
    OUT.mkdir(parents=True, exist_ok=True)
    shots = {"index.html": OUT / "site_home.png", f"notebooks/{EXECUTED}.html": OUT / f"site_{EXECUTED}_top.png"}
    figures = {f"notebooks/{EXECUTED}.html": OUT / f"site_{EXECUTED}.png"}
    start = time.perf_counter()
    with StaticServer(html) as server:
        found = inspect_pages(server.url, pages, chromium, shots, figures)
        wrong = problems(found, server.url)
        base = server.url
        for i, stem in enumerate(LESSONS):
            info = found[f"notebooks/{stem}.html"]
            if info["colab"] != [colab_url(stem)]:
                wrong.append(f"{stem}: Colab links {info['colab']}, expected one: {colab_url(stem)}")
            if len(info["downloads"]) != 1:
                wrong.append(f"{stem}: {len(info['downloads'])} download links, expected one")
            elif _fetch(info["downloads"][0])[1] != (ROOT / "notebooks" / f"{stem}.ipynb").read_bytes():
                wrong.append(f"{stem}: the download is not the repository's notebooks/{stem}.ipynb")
            if info["math"] == 0:
                wrong.append(f"{stem}: no math on the page (every lesson has equations)")
            prev = base + ("index.html" if i == 0 else f"notebooks/{LESSONS[i - 1]}.html")
            after = base + (f"notebooks/{LESSONS[i + 1]}.html" if i + 1 < len(LESSONS) else "gpu.html")
            if (info["prev"], info["next"]) != (prev, after):
                wrong.append(f"{stem}: previous/next are {info['prev']} / {info['next']}, expected {prev} / {after}")
    browse_s = time.perf_counter() - start
    # Opened as files, without a server (README: "or open build/site/html/index.html").
    as_files = inspect_pages(html.as_uri() + "/", ["index.html", f"notebooks/{EXECUTED}.html"], chromium)
    wrong += [f"as a file: {p}" for p in problems(as_files, None)]
    home, executed = found["index.html"], found[f"notebooks/{EXECUTED}.html"]
    if "smoke profile" not in home["text"]:
        wrong.append("the home page does not say which profile made the outputs")
    wrong += [f"the home page has no link to {s}" for s in LESSONS if base + f"notebooks/{s}.html" not in home["links"]]
    if not [img for img in executed["images"] if img["ok"]]:
        wrong.append(f"{EXECUTED}: no figure on the page of the executed lesson")
    if "profile: smoke" not in executed["text"]:
        wrong.append(f"{EXECUTED}: the setup cell's output is not on the page")
    timings = {"course_s": round(course_s, 1), "build_s": round(build_s, 1), "browse_s": round(browse_s, 1),
               "pages": {p: i["seconds"] for p, i in found.items()}}
    (OUT / "site.json").write_text(json.dumps(timings, indent=1))
    assert not wrong, "\n".join(wrong)
    for shot in [*shots.values(), *figures.values()]:
        assert shot.stat().st_size > 10_000, shot
