"""An assignment's questions, read from what ``make assignments`` built.

The source of every question is its master notebook (``assignments/<name>/<name>.ipynb``, otter
assign format): one ``# BEGIN QUESTION`` block with the points, the solution, and the test
functions (public, and hidden ones marked ``# HIDDEN``). ``otter assign`` builds from it, into
``build/assignments/<name>/``:

- ``student/<name>.ipynb``, the notebook handed out: its ``grader.check("qN")`` runs the
  *public* tests of qN (otter-grader, in the student's own kernel, for feedback);
- ``autograder/<name>.ipynb``, the reference solution, whose metadata holds every test of every
  question (``metadata.otter.tests``), hidden ones included.

The grader reads the second: the same test functions, now run by the judge. A test function's
parameters name what it needs (as in otter): a name that a solution cell of the reference
defines (cells tagged ``otter_assign_solution_cell``) is an *answer*, taken from the submission;
any other name is a *given* (data the notebook provides, like ``X``), taken from the reference
run, so a submission cannot change what its answers are tested on; the parameter ``seed`` is a
fresh random integer chosen by the judge for every run, for tests that draw their inputs.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: The test parameter the judge fills with a fresh random integer.
SEED = "seed"


class AssignmentError(RuntimeError):
    """The built assignment is missing or malformed."""


@dataclass
class Test:
    """One test function of a question."""

    name: str
    hidden: bool
    points: float
    params: list[str]
    func: Callable
    source: str


@dataclass
class Question:
    """One question: its points, its tests, and which of the names they take are answers."""

    name: str
    points: float
    tests: list[Test]
    answers: set[str] = field(default_factory=set)

    @property
    def names(self) -> list[str]:
        """Every name its tests take (answers and givens), in order, without ``seed``."""
        return list(dict.fromkeys(p for t in self.tests for p in t.params if p != SEED))

    @property
    def givens(self) -> list[str]:
        return [n for n in self.names if n not in self.answers]


@dataclass
class Assignment:
    name: str
    folder: Path
    questions: list[Question]

    @property
    def reference(self) -> Path:
        return self.folder / "autograder" / f"{self.name}.ipynb"

    @property
    def blank(self) -> Path:
        return self.folder / "student" / f"{self.name}.ipynb"

    @property
    def possible(self) -> float:
        return sum(q.points for q in self.questions)


def find_assignment(assignment: str, build_dir: Path) -> Path:
    """The folder ``make assignments`` built for ``assignment`` (``A1`` or ``A1_regression``)."""
    build_dir = Path(build_dir)
    folders = sorted(p for p in build_dir.glob(f"{assignment}*") if p.is_dir()
                     and (p.name == assignment or p.name.startswith(f"{assignment}_")))
    if not folders:
        raise AssignmentError(f"no built assignment {assignment!r} under {build_dir}. Build the assignments "
                              "first: make assignments (or pass --build-dir).")
    if len(folders) > 1:
        raise AssignmentError(f"{assignment!r} matches {', '.join(p.name for p in folders)}; give the full name")
    return folders[0]


def _literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def parse_tests(source: str, label: str) -> tuple[str, float | list, list[tuple[ast.FunctionDef, dict]]]:
    """(name, points, [(function node, test_case keywords)]) of one otter test file."""
    tree = ast.parse(source)
    name, points = _literal(tree, "name"), _literal(tree, "points")
    funcs = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        deco = [d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "test_case"]
        if deco:
            funcs.append((node, {k.arg: ast.literal_eval(k.value) for k in deco[0].keywords}))
    if not isinstance(name, str) or not isinstance(points, (int, float, list)) or not funcs:
        raise AssignmentError(f"{label}: not an otter test file with 'name', 'points' and @test_case functions")
    return name, points, funcs


def _test_points(points: float | list, cases: list[dict], label: str) -> list[float]:
    """Each test's points, as otter resolves them: a list gives each test its own; else the
    question's points go in equal parts to the tests that do not set theirs."""
    if isinstance(points, list):
        if len(points) != len(cases):
            raise AssignmentError(f"{label}: {len(points)} point values for {len(cases)} tests")
        return [float(p) for p in points]
    fixed = [c.get("points") for c in cases]
    free = sum(p is None for p in fixed)
    rest = (points - sum(p for p in fixed if p is not None)) / free if free else 0.0
    return [float(p) if p is not None else rest for p in fixed]


def defined_names(source: str) -> set[str]:
    """The names a cell binds at top level (assignments, defs, imports, loop targets)."""
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return  # their bodies are another scope
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def read_notebook(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssignmentError(f"{path} does not exist: build the assignments first (make assignments)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AssignmentError(f"{path} is not a notebook: {e}") from None


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def load_assignment(folder: Path) -> Assignment:
    """The questions of the assignment built into ``folder`` (``build/assignments/<name>``)."""
    folder = Path(folder)
    name = re.sub(r"-autograder.*$", "", folder.name)
    assignment = Assignment(name, folder, [])
    if not assignment.blank.is_file():
        raise AssignmentError(f"{assignment.blank} does not exist: build the assignments first (make assignments)")
    nb = read_notebook(assignment.reference)
    tests = nb.get("metadata", {}).get("otter", {}).get("tests")
    if not isinstance(tests, dict) or not tests:
        raise AssignmentError(f"{assignment.reference} has no tests in metadata.otter.tests: is it the "
                              "autograder notebook that otter assign built?")
    answers: set[str] = set()
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code" and "otter_assign_solution_cell" in cell.get("metadata", {}).get("tags", []):
            answers |= defined_names(cell_source(cell))
    for key, source in tests.items():
        label = f"{assignment.reference.name}: tests of {key}"
        qname, points, funcs = parse_tests(source, label)
        filename = f"<{name} tests of {qname}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # source in tracebacks
        pts = _test_points(points, [kw for _, kw in funcs], label)
        question = Question(qname, float(sum(pts)), [])
        for (node, kw), p in zip(funcs, pts, strict=True):
            node.decorator_list = []
            code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
            namespace: dict = {"__builtins__": builtins}
            exec(code, namespace)  # the instructor's test function, defined in the judge
            params = [a.arg for a in node.args.args]
            if "env" in params or node.args.vararg or node.args.kwarg:
                raise AssignmentError(f"{label}: {node.name} takes 'env' or *args/**kwargs; the judge passes "
                                      "each name explicitly")
            question.tests.append(Test(node.name, bool(kw.get("hidden", False)), p, params,
                                       namespace[node.name], ast.unparse(node)))
        question.answers = {n for n in question.names if n in answers}
        assignment.questions.append(question)
    assignment.questions.sort(key=lambda q: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", q.name)])
    return assignment
