"""The guides' commands stay honest: README.md, CONTRIBUTING.md, datasets/README.md and
assignments/README.md name only `make` targets the Makefile has, repository paths that exist, and
`python -m course_tools.<tool>` programs that exist and answer ``--help``.

Only the code in the guides is read (fenced blocks and `inline code`) plus the targets of
markdown links; what the course writes (``build/``, ``grades/``, ``offline/``, environments) and
placeholders (``NN``, ``<name>``, ``A1``) are told apart below.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from course_tools import ROOT

GUIDES = ["README.md", "CONTRIBUTING.md", "datasets/README.md", "assignments/README.md"]
#: Top-level entries of the repository a guide may name as a path.
TRACKED_TOPS = ("notebooks/", "course_lib/", "course_tools/", "tests/", "assignments/", "datasets/", "results/",
                ".github/", ".ci/")
ROOT_FILES = ("Makefile", "pyproject.toml", "constraints.txt", "constraints-backends.txt", "environment.yml",
              "README.md", "CONTRIBUTING.md")


def code_of(text: str) -> list[str]:
    """The fenced blocks and inline code spans of a markdown text."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    rest = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return fenced + re.findall(r"`([^`\n]+)`", rest)


def guide_code() -> list[tuple[str, str]]:
    return [(guide, code) for guide in GUIDES for code in code_of((ROOT / guide).read_text(encoding="utf-8"))]


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*)\s*:(?!=)", text, flags=re.M))


def make_targets_named(code: str) -> list[str]:
    """The targets of every ``make ...`` command in ``code`` (``VAR=value`` words skipped).

    >>> make_targets_named("COURSE_DATA_DIR=~/d make lab; make PYTHON=python3.12 venv && make notebook NB=05")
    ['lab', 'venv', 'notebook']
    """
    found = []
    for match in re.finditer(r"(?:^|[\s;&|(])make((?:\s+[A-Za-z_][A-Za-z0-9_]*=\S*)*)\s+([a-z][a-z0-9-]*)\b", code):
        found.append(match.group(2))
    return found


def test_the_parsers_read_what_the_guides_hold():
    targets = makefile_targets()
    assert {"venv", "test", "course", "lab", "notebook", "data", "test-pythons", "clean-venv"} <= targets
    named = {t for _, code in guide_code() for t in make_targets_named(code)}
    assert {"course", "test", "lab", "notebook", "data"} <= named, named


def test_every_make_target_a_guide_names_exists():
    targets = makefile_targets()
    missing = sorted({(guide, t) for guide, code in guide_code() for t in make_targets_named(code) if t not in targets})
    assert not missing, f"make targets named in the guides but not in the Makefile: {missing}"


def _as_glob(path: str) -> str:
    """A path as the guides write it, as a glob: ``NN`` a two-digit number, ``<name>`` anything."""
    path = re.sub(r"<[^>]+>", "*", path)
    path = re.sub(r"NN_[a-z_]+(?=\.)", "NN_*", path)  # notebooks/NN_snake_case_title.ipynb
    path = path.replace("NN", "[0-9][0-9]").replace("...", "*")
    return re.sub(r"A\d(?=[/_])", "A[0-9]", path)


def paths_named(code: str) -> list[str]:
    """The repository paths in ``code``: words that start with a tracked top-level folder, or a
    root file's name.

    >>> paths_named("see course_lib/data.py and tests/ or build/report.md; make -C . Makefile")
    ['course_lib/data.py', 'tests/', 'Makefile']
    """
    found = []
    for word in re.findall(r"[\w.<>*/-]+", code):
        word = word.rstrip(".,:;)")
        if word.startswith(TRACKED_TOPS) or word in ROOT_FILES:
            found.append(word)
    return found


def test_every_repository_path_a_guide_names_exists():
    missing = []
    for guide, code in guide_code():
        for path in paths_named(code):
            pattern = _as_glob(path.rstrip("/"))
            if not list(ROOT.glob(pattern)):
                missing.append((guide, path))
    assert not missing, f"paths named in the guides that the repository does not have: {sorted(set(missing))}"


def test_every_link_between_files_resolves():
    missing = []
    for guide in GUIDES:
        base = (ROOT / guide).parent
        for target in re.findall(r"\]\(([^)\s]+)\)", (ROOT / guide).read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (base / target.split("#")[0]).exists():
                missing.append((guide, target))
    assert not missing, f"links to files that do not exist: {missing}"


def tools_named() -> list[str]:
    return sorted({m for _, code in guide_code() for m in re.findall(r"-m course_tools\.(\w+)", code)})


def test_the_guides_name_the_tools():
    assert {"run_course", "nbfmt", "lab", "data", "grading"} <= set(tools_named())


@pytest.mark.parametrize("tool", tools_named())
def test_every_tool_a_guide_names_answers_help(tool):
    assert (ROOT / "course_tools" / f"{tool}.py").is_file() or (ROOT / "course_tools" / tool / "__main__.py").is_file()
    done = subprocess.run([sys.executable, "-m", f"course_tools.{tool}", "--help"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower() or "python -m course_tools" in done.stdout, done.stdout[:500]


def used_in(line: str) -> set[str]:
    """``{"00", "01", "A1"}`` from a "used in" text such as ``lessons 00, 01 (...); assignment A1``.

    >>> sorted(used_in("lessons 00, 02, 03 (softmax); A2"))
    ['00', '02', '03', 'A2']
    """
    line = re.sub(r"\([^)]*\)", "", line)
    return set(re.findall(r"\b(\d\d|A\d)\b", line))


def users_of_each_data_set() -> dict[str, set[str]]:
    """For each data set of the registry, the lessons and assignments whose notebook calls its loader."""
    from course_lib import data

    source = (ROOT / "course_lib" / "data.py").read_text()
    loaders = {}  # loader -> data set name, read from data.py: the names each load_* function fetches
    for name, body in re.findall(r"^def (load_\w+)\(.*?\n(.*?)(?=^def |\Z)", source, flags=re.S | re.M):
        found = re.findall(r'(?:fetch\(|_columns\(|REGISTRY\[)"(\w+)"', body)
        assert found, f"{name} loads no registry entry that this test can see"
        loaders[name] = found[0]
    assert set(loaders.values()) == set(data.REGISTRY), "a data set without a loader, or a loader this test misses"
    users = {name: set() for name in data.REGISTRY}
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((ROOT / "assignments").glob("A*/A*.ipynb"))
    for nb in notebooks:
        text = nb.read_text(encoding="utf-8")
        who = nb.name[:2]
        for loader, name in loaders.items():
            # load_mnist_splits (course_lib.mnist) calls load_mnist; \b keeps load_mnist from matching it
            if re.search(rf"\b{loader}\b", text) or (loader == "load_mnist" and "load_mnist_splits" in text):
                users[name].add(who)
    return users


def test_each_data_card_says_where_it_is_used():
    from course_lib import data

    index = (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")
    for name, who in users_of_each_data_set().items():
        card = (ROOT / "datasets" / f"{name}.md").read_text(encoding="utf-8")
        line = re.search(r"^- used in: (.*)$", card, flags=re.M)
        assert line, f"datasets/{name}.md has no '- used in:' line"
        assert used_in(line.group(1)) == who, f"datasets/{name}.md: used in {sorted(who)}, card says {line.group(1)!r}"
        row = re.search(rf"^\| `{name}` \|.*\| ([^|]*) \|$", index, flags=re.M)
        assert row, f"datasets/README.md has no row for {name}"
        assert used_in(row.group(1)) == who, f"datasets/README.md, {name}: used in {sorted(who)}, row says {row.group(1)!r}"
    assert data.REGISTRY
