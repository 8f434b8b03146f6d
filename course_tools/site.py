"""Build the course website from the notebooks ``make course`` executed (``make site``).

    python -m course_tools.site                  # build/notebooks + build/report.json -> build/site/html/
    python -m course_tools.site --notebooks DIR --report FILE --out DIR

The generator is Sphinx with MyST-NB (notebooks rendered as they were run, never executed again)
and the sphinx-book-theme. This module only stages the sources and sets the configuration:

- ``notebooks/NN_*.ipynb``: one page per lesson, the executed copy from ``--notebooks``; the
  Open-in-Colab badge of its first cell becomes a plain link (the badge image lives on Colab's
  server) followed by a download link for the lesson's source notebook from ``notebooks/``;
- ``index.md``: the home page, with the lesson map and which profile, backend and device made
  the outputs (from ``--report``);
- ``gpu.md``: "Measured on a GPU", made from the reports committed under ``results/``.

Everything a page needs is on disk (MathJax from the ``django-static-mathjax`` package), so the
site builds and reads with no network. Writes the site to ``<out>/html/`` (open
``<out>/html/index.html``), the staged sources to ``<out>/src/`` and the figures MyST-NB takes out
of the notebooks to ``<out>/jupyter_execute/``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

from course_lib import GITHUB_REPO
from course_tools import ROOT, results_table
from course_tools.nbfmt import git_ref

TITLE = "Deep learning with Keras"
#: The badge nbfmt writes into every notebook's first cell: ``[![Open In Colab](image)](link)``.
BADGE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\((?P<url>https://colab\.research\.google\.com/[^)\s]+)\)$", re.M)


def lesson_sources(sources: Path) -> list[Path]:
    """The lessons, ``NN_name.ipynb``, in course order."""
    paths = sorted(sources.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SystemExit(f"no lessons (NN_name.ipynb) in {sources}")
    return paths


def title_of(nb: nbformat.NotebookNode, path: Path) -> str:
    """The lesson's title, the first cell's ``# NN · Title`` line."""
    match = re.match(r"#\s+(.+)", nb.cells[0].source) if nb.cells and nb.cells[0].cell_type == "markdown" else None
    if not match:
        raise SystemExit(f"{path}: the first cell must be markdown starting with '# NN · Title'")
    return match.group(1).strip()


def stage_lesson(executed: Path, source: Path, dest: Path) -> tuple[str, str]:
    """Copy the executed notebook to ``dest``, its badge replaced by an Open-in-Colab link and a
    download link for ``source`` (staged as ``/downloads/<name>``). Returns (title, Colab URL)."""
    nb = nbformat.read(executed, as_version=4)
    title = title_of(nb, executed)
    first = nb.cells[0]
    match = BADGE.search(first.source)
    if not match:
        raise SystemExit(f"{executed}: no Open-in-Colab badge in the first cell; run python -m course_tools.nbfmt on "
                         f"{source} and make course again")
    links = f"[Open in Colab]({match['url']}) · {{download}}`Download the notebook <{'/downloads/' + source.name}>`"
    first.source = first.source[:match.start()] + links + first.source[match.end():]
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return title, match["url"]


def _fmt_status(entry: dict | None) -> str:
    if entry is None:
        return "not run"
    return f"{entry['status']}, {entry['wall_s']} s" if entry["status"] == "ok" else entry["status"]


def home_page(lessons: list[tuple[str, str, str]], report: dict, gpu: dict[str, dict]) -> str:
    """The home page (MyST markdown): the lesson map and where the outputs come from.
    ``lessons``: (stem, title, Colab URL) in order; ``gpu``: notebook -> its latest GPU entry."""
    meta = report.get("meta", {})
    entries = {e["notebook"]: e for e in report.get("notebooks", [])}
    lines = [f"# {TITLE}", "",
             "A course in numbered Jupyter notebooks: from linear regression through neural networks and "
             "convolutional networks to recurrent networks (RNN, GRU, LSTM), with Keras. Each page below is a "
             "notebook with the outputs of a real run; open it in Colab to run it yourself, or download it.", "",
             "## The lessons", "",
             f"| lesson | run it | outputs shown here ({meta.get('profile', 'unknown')} profile) | full profile on a GPU |",
             "|---|---|---|---|"]
    for stem, title, colab in lessons:
        gpu_entry = gpu.get(stem)
        lines.append(f"| [{title}](notebooks/{stem}.ipynb) | [Open in Colab]({colab}) · "
                     f"{{download}}`.ipynb </downloads/{stem}.ipynb>` | {_fmt_status(entries.get(stem))} | "
                     + (f"[{_fmt_status(gpu_entry)}](gpu.md)" if gpu_entry else "—") + " |")
    versions = "; ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    lines += ["", "## Where the outputs come from", "",
              f"The outputs on these pages were made by `make course` with the **{meta.get('profile', 'unknown')}** "
              f"profile on {meta.get('device', 'an unknown device')} (Keras backend {meta.get('backend', 'unknown')}), "
              f"{meta.get('date', 'at an unknown date')}, commit `{meta.get('commit', 'unknown')}`"
              + (f"; {versions}" if versions else "") + ". "
              f"Total notebook time: {meta.get('total_wall_s', '?')} s.", "",
              "The full profile, the real sizes and epochs, was run on a GPU: its figures are on the page "
              "[Measured on a GPU](gpu.md).", "",
              "```{toctree}", ":hidden:", ":maxdepth: 1", ""]
    lines += [f"notebooks/{stem}" for stem, _, _ in lessons] + ["gpu", "```", ""]
    return "\n".join(lines)


def gpu_page(results: Path, staged: Path) -> str:
    """"Measured on a GPU" (MyST markdown), from ``results/``: the latest figures per notebook
    (``python -m course_tools.results_table``'s table), then each run's report and benchmark as committed
    (copied to ``staged/results/``, linked for download with their JSON)."""
    lines = ["---", "myst:", "  enable_extensions: []  # a $ in a report is a dollar, not math", "---", "",
             "# Measured on a GPU", "",
             "The full profile (the real data sizes and epochs) of every notebook, run on a GPU. "
             "These figures come from the reports under `results/` in the repository, as the runs wrote them.", "",
             "## Each notebook's latest run", "", results_table.table(results), ""]
    for run in sorted(p for p in results.iterdir() if (p / "report.json").is_file()):
        dest = staged / "results" / run.name
        dest.mkdir(parents=True, exist_ok=True)
        files = [f for f in ("report.md", "report.json", "benchmark.md", "benchmark.json", "nvidia-smi.txt")
                 if (run / f).is_file()]
        for f in files:
            shutil.copy2(run / f, dest / f)
        lines += [f"## Run `{run.name}`", "",
                  "Files: " + ", ".join(f"{{download}}`{f} </results/{run.name}/{f}>`" for f in files), "",
                  f"```{{include}} results/{run.name}/report.md", ":heading-offset: 2", "```", ""]
        if "benchmark.md" in files:
            lines += [f"```{{include}} results/{run.name}/benchmark.md", ":heading-offset: 2", "```", ""]
    return "\n".join(lines)


def draw_favicon(path: Path) -> None:
    """The site's icon, 64 x 64 pixels: a falling learning curve (browsers ask for one on every page)."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=64)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    x = np.linspace(0, 1, 50)
    ax.plot(x, 0.1 + 0.8 * np.exp(-5 * x), color="#d9480f", linewidth=6, solid_capstyle="round")
    ax.set(xlim=(-0.1, 1.1), ylim=(0, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, transparent=True)


def mathjax_dir() -> Path:
    """MathJax 3's browser files, as shipped by the ``django-static-mathjax`` package."""
    try:
        import mathjax
    except ImportError:
        raise SystemExit("MathJax is missing: install the site extra (pip install -c constraints.txt -e '.[site]', "
                         "or make venv)") from None
    found = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (found / "tex-svg.js").is_file():
        raise SystemExit(f"{found}/tex-svg.js is missing: reinstall django-static-mathjax")
    return found


def sphinx_config() -> dict:
    """Sphinx's configuration (what a ``conf.py`` would hold)."""
    return {
        "project": TITLE,
        "extensions": ["myst_nb"],
        "exclude_patterns": ["downloads/**", "results/**", "_static/**"],
        "nb_execution_mode": "off",  # the outputs are those make course produced
        "nb_merge_streams": True,
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_dmath_double_inline": True,  # $$...$$ inside a paragraph or list item, as Jupyter shows it
        "mathjax_path": "mathjax/tex-svg.js",  # in _static: SVG output needs no font files
        "html_static_path": ["_static"],
        "html_theme": "sphinx_book_theme",
        "html_title": TITLE,
        "html_favicon": "_static/favicon.png",
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_theme_options": {
            "repository_url": f"https://github.com/{GITHUB_REPO}",
            "repository_branch": git_ref(),
            "use_repository_button": True,
            "use_download_button": False,
            "home_page_in_toc": True,
            "show_toc_level": 2,
            "navbar_persistent": [],  # the search field is in the sidebar already
            "footer_content_items": [],  # no author or copyright line
        },
        "html_context": {"default_mode": "light"},  # else the theme's script logs an error
    }


def build(notebooks: Path, report_file: Path, out: Path, sources: Path = ROOT / "notebooks",
          results: Path = ROOT / "results", quiet: bool = False) -> dict:
    """Stage the sources in ``<out>/src`` and build the HTML into ``<out>/html``; returns a summary
    (lessons, timing, Sphinx warnings). Raises SystemExit with what to do when an input is missing."""
    start = time.perf_counter()
    if not report_file.is_file():
        raise SystemExit(f"{report_file} is missing: run `make course` first (it executes every notebook "
                         f"into {notebooks} and writes the report)")
    report = json.loads(report_file.read_text())
    lessons = lesson_sources(sources)
    missing = [p.name for p in lessons if not (notebooks / p.name).is_file()]
    if missing:
        raise SystemExit(f"not executed (missing from {notebooks}): {', '.join(missing)}; run `make course`")
    staged, html = out / "src", out / "html"
    for ours in (staged, html, out / "jupyter_execute"):  # a fresh build; nothing else in out is touched
        shutil.rmtree(ours, ignore_errors=True)
    (staged / "downloads").mkdir(parents=True)
    pages = []
    for path in lessons:
        shutil.copy2(path, staged / "downloads" / path.name)
        title, colab = stage_lesson(notebooks / path.name, path, staged / "notebooks" / path.name)
        pages.append((path.stem, title, colab))
    gpu = {notebook: entry for notebook, (entry, _, _) in results_table.latest_runs(results).items()}
    (staged / "index.md").write_text(home_page(pages, report, gpu), encoding="utf-8")
    (staged / "gpu.md").write_text(gpu_page(results, staged), encoding="utf-8")
    shutil.copytree(mathjax_dir(), staged / "_static" / "mathjax")
    draw_favicon(staged / "_static" / "favicon.png")

    from io import StringIO

    from sphinx.application import Sphinx

    warnings = StringIO()
    app = Sphinx(str(staged), None, str(html), str(staged / ".doctrees"), "html", confoverrides=sphinx_config(),
                 status=None if quiet else sys.stdout, warning=warnings, freshenv=True)
    app.build()
    if app.statuscode:
        raise SystemExit(f"Sphinx failed (status {app.statuscode}):\n{warnings.getvalue()}")
    return {"lessons": [p[0] for p in pages], "profile": report.get("meta", {}).get("profile"),
            "seconds": round(time.perf_counter() - start, 1),
            "warnings": [w for w in warnings.getvalue().splitlines() if w.strip()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=Path, default=ROOT / "build" / "notebooks",
                        help="the executed notebooks (default build/notebooks, written by make course)")
    parser.add_argument("--report", type=Path, default=ROOT / "build" / "report.json")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    args = parser.parse_args(argv)
    summary = build(args.notebooks.resolve(), args.report.resolve(), args.out.resolve())
    for warning in summary["warnings"]:
        print(warning, file=sys.stderr)
    print(f"Site: {args.out / 'html' / 'index.html'} ({len(summary['lessons'])} lessons, {summary['profile']} profile, "
          f"{summary['seconds']} s, {len(summary['warnings'])} warnings)")
    return 1 if summary["warnings"] else 0


if __name__ == "__main__":
    sys.exit(main())
