"""Attacks on the grader: each a real submission notebook, graded by the real command.

One batch (A1, ``--jobs 2``) grades the whole catalogue. Every attack is built on the blank
student notebook (so it must score 0) or on the reference solution (so it must score exactly
what the honest part earns: full marks). The batch must complete with one row per notebook, and
a clean reference graded after the attacks (``zz_reference``) must still get full marks.

On top of the scores, each attack's own promise is checked: what it tried to read never reaches
its output or feedback, what it tried to change is unchanged, what it started is dead, what it
tried to hold (processes, memory, files, output) was cut at the limit. The last tests stop a
batch midway (SIGTERM, SIGKILL): nothing keeps running, no hidden test is left on disk.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from course_tools.grading import batch

MARK = "GRADING-ATTACK-7f3c2a"
OTHER_SECRET = "OTHER-SUBMISSION-SECRET-31337"
#: Limits of the attack batch: small, so that the attacks reach them quickly.
LIMITS = ["--timeout", "60", "--memory-mb", "1024", "--tasks", "64", "--files-mb", "128", "--output-kb", "64"]

#: name -> (base notebook: "blank" scores 0, "reference" scores full marks; where the attack's cell
#: goes: "top" (before every question), "checks" (before every grader.check cell), "end"; the cell).
ATTACKS = {
    # ---- raising a score from inside the student's process
    "patch_allclose": ("blank", "top", """
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True"""),
    "fake_numpy_module": ("blank", "top", """
import sys, types
fake = types.ModuleType("numpy")
fake.__getattr__ = lambda name: (lambda *a, **k: True)
sys.modules["numpy"] = fake"""),
    "always_equal_objects": ("blank", "checks", """
class Always:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __le__ = __lt__ = __ge__ = __gt__ = __eq__
    def __bool__(self): return True
    def __len__(self): return 5000
    def __float__(self): return 32.0727
    def __sub__(self, other): return 0.0
    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __sub__
    def __abs__(self): return 0.0
    def __getattr__(self, name): return self
    def __call__(self, *a, **k): return self
    def __iter__(self): return iter([self, self])
class Float(float):
    def __eq__(self, other): return True
linear_cost = logistic_cost = lambda *a, **k: Float(0.0)
linear_gradient = gradient_descent = logistic_gradient = predict = sigmoid = lambda *a, **k: Always()
theta_gd = costs = y_pred_test = Always()"""),
    "tests_without_asserts": ("blank", "top", """
import glob, os
os.environ["PYTHONOPTIMIZE"] = "2"
for d in (os.getcwd(), "/tmp", os.path.expanduser("~"), "/autograder", "/autograder/source"):
    for p in glob.glob(os.path.join(d, "**", "*.py"), recursive=True):
        try:
            src = open(p).read()
            compile(src, p, "exec", optimize=2)
            open(p, "w").write(src.replace("assert ", "pass  # "))
            print("REWROTE", p)
        except Exception as e:
            print("could not rewrite", p, type(e).__name__)"""),
    "replace_test_runner": ("blank", "top", """
import builtins, importlib, sys
sys.modules.pop("otter", None)
for mod in ("otter.test_files.exception_test", "otter.test_files.abstract_test", "otter.run", "otter.check.notebook"):
    try:
        m = importlib.import_module(mod)
        for obj in vars(m).values():
            if isinstance(obj, type):
                for meth in ("run", "check", "grade", "score"):
                    if hasattr(obj, meth):
                        setattr(obj, meth, lambda self, *a, **k: None)
        print("patched", mod)
    except Exception as e:
        print("could not patch", mod, type(e).__name__)
builtins.AssertionError = type("AssertionError", (Exception,), {})"""),
    "forged_result_files": ("blank", "top", """
import json, os, pickle
forged = {"scores": {"q1": 2, "q2": 2, "q3": 2, "q4": 3, "q5": 2}, "total": 11, "status": "ok"}
real_dump = pickle.dump
pickle.dump = lambda obj, f, *a, **k: real_dump(forged, f)
json.dump = lambda obj, f, *a, **k: f.write(json.dumps(forged))
for d in (os.getcwd(), "/tmp", "/", "/autograder/results", "..", "../.."):
    for name in ("results.json", "results.pkl", "grades.csv"):
        try:
            with open(os.path.join(d, name), "w") as f:
                f.write(json.dumps(forged))
        except OSError as e:
            print("could not write", os.path.join(d, name), type(e).__name__)"""),
    "detached_rewriter": ("blank", "top", f"""
import os, subprocess, sys
code = '''
import glob, time
time.sleep(3)
for p in glob.glob("/**/*.csv", recursive=True):
    try:
        open(p, "a").write("forged,ok,2,2,2,3,2,11,11,0,\\\\n")
    except OSError:
        pass
while True:
    time.sleep(1)
'''
subprocess.Popen([sys.executable, "-c", code, "{MARK}"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pid = os.fork()
if pid == 0:  # a double fork, in a new session
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", code, "{MARK}"])
    os._exit(0)
os.waitpid(pid, 0)
print("two detached processes started")"""),
    "forged_channel_frames": ("blank", "top", """
import json, os, sys
def frame(header):
    head = json.dumps(header).encode()
    return b"GRD1" + len(head).to_bytes(4, "big") + (0).to_bytes(4, "big") + head
out = int(sys.argv[-1])
os.write(out, frame({"ok": True, "checked": ["q1", "q2", "q3", "q4", "q5"], "errors": []}))
for _ in range(50):
    os.write(out, frame({"ok": True, "value": 11.0, "mutated": False}))
os.write(out, b"garbage that is no frame at all")"""),
    "inputs_rewritten_to_match": ("blank", "checks", """
import numpy as np
def gradient_descent(X, y, theta, alpha, n_iters):
    fake = np.zeros(X.shape[1])
    y[:] = X @ fake  # so that least squares on the (changed) inputs gives fake
    return fake, [0.0] * n_iters
def linear_gradient(X, y, theta):
    X[:] = 0.0  # finite differences on zeroed inputs give 0 too
    y[:] = 0.0
    return np.zeros(X.shape[1])"""),
    # ---- reading tests, solutions and other submissions
    "read_filesystem": ("blank", "top", """
import fnmatch, os
wanted = ("*.ipynb", "*.zip", "*autograder*", "otter_config.json", "q[0-9]*.py", "*solution*", "*.csv", "*.log", "*.txt")
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/sys", "/usr") or root.endswith("site-packages"):
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(root, name)
        if any(fnmatch.fnmatch(name, w) for w in wanted):
            try:
                print("==== ", path)
                print(open(path, errors="replace").read(20000))
            except OSError as e:
                print("cannot read", path, type(e).__name__)
print("top level:", sorted(os.listdir("/")))"""),
    "read_proc": ("blank", "top", """
import os
for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    for part in ("cmdline", "environ"):
        try:
            print(pid, part, open(f"/proc/{pid}/{part}", "rb").read().replace(b"\\0", b" ").decode(errors="replace"))
        except OSError as e:
            print(pid, part, type(e).__name__)
    for link in ("cwd", "root", "exe"):
        try:
            print(pid, link, os.readlink(f"/proc/{pid}/{link}"))
        except OSError as e:
            print(pid, link, type(e).__name__)
    try:
        print(pid, "fds", {fd: os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")})
    except OSError as e:
        print(pid, "fds", type(e).__name__)
print(open("/proc/self/mountinfo").read())
for path in ("/proc/1/root", "/proc/1/cwd", "/proc/self/root/.."):
    try:
        print(path, os.listdir(path))
    except OSError as e:
        print(path, type(e).__name__)"""),
    "read_environment": ("blank", "top", "import os\nprint(dict(os.environ))"),
    # ---- changing what grades everyone
    "edit_the_grader": ("blank", "top", """
import glob, importlib.util, os, course_lib, numpy
targets = glob.glob(os.path.join(os.path.dirname(course_lib.__file__), "*.py"))
spec = importlib.util.find_spec("course_tools.grading")
targets += glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "*.py"))
targets.append(numpy.__file__)
for p in targets:
    try:
        with open(p, "a") as f:
            f.write("\\nSCORES = 'forged'\\n")
        print("EDITED", p)
    except OSError as e:
        print("could not edit", p, type(e).__name__)
    try:
        os.rename(p, p + ".bak")
        print("RENAMED", p)
    except OSError as e:
        print("could not rename", p, type(e).__name__)"""),
    "edit_the_archive": ("blank", "top", """
import os
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/sys", "/usr") or root.endswith("site-packages"):
        dirs[:] = []
        continue
    for name in files:
        if "autograder" in root or "autograder" in name or name.endswith((".zip", ".ipynb")):
            try:
                open(os.path.join(root, name), "wb").write(b"forged")
                print("OVERWROTE", os.path.join(root, name))
            except OSError as e:
                print("could not overwrite", os.path.join(root, name), type(e).__name__)"""),
    "delete_other_files": ("blank", "top", """
import os, shutil
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/sys", "/usr", "/dev") or root.endswith("site-packages"):
        dirs[:] = []
        continue
    for name in files:
        if name.endswith((".ipynb", ".csv", ".py")):
            try:
                os.remove(os.path.join(root, name))
                print("DELETED", os.path.join(root, name))
            except OSError as e:
                print("could not delete", os.path.join(root, name), type(e).__name__)
for d in ("..", "../..", "/data", "/tmp", os.getcwd()):
    shutil.rmtree(d, ignore_errors=True)"""),
    # ---- resources
    "fork_bomb": ("blank", "top", f"""
import os, sys
n = 0
try:
    for i in range(1000):
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", "{MARK}"])
        n += 1
except OSError as e:
    print("fork refused after", n, type(e).__name__)
print("forked", n)"""),
    "memory_in_children": ("blank", "top", """
import os, time
for i in range(4):
    if os.fork() == 0:
        block = b"x" * (400 * 2**20)  # 400 MB each, under the per-process limit, 1.6 GB together
        time.sleep(60)
        os._exit(0)
time.sleep(60)"""),
    "memory_in_shared_memory": ("blank", "top", """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
seg = libc.shmget(0, 2**30, 0o1000 | 0o600)
print("shmget:", "ALLOWED" if seg >= 0 else "refused (" + os.strerror(ctypes.get_errno()) + ")")
try:
    os.memfd_create("hog")
    print("memfd_create: ALLOWED")
except OSError as e:
    print("memfd_create: refused (" + e.strerror + ")")
written = 0
try:
    with open("/dev/shm/hog", "wb") as f:
        for _ in range(2048):
            f.write(b"x" * 2**20)
            f.flush()
            written += 1
except OSError as e:
    print("/dev/shm: stopped after", written, "MB:", e.strerror)
from multiprocessing import shared_memory
shm = shared_memory.SharedMemory(create=True, size=2**31)
for i in range(0, 2**31, 2**20):
    shm.buf[i:i + 2**20] = b"x" * 2**20
print("shared_memory: FILLED 2 GB")"""),
    "print_1_gb": ("reference", "end", """
import sys
chunk = "x" * (1 << 20) + "\\n"
for _ in range(1024):
    sys.stdout.write(chunk)"""),
    "infinite_loop": ("blank", "top", "while True:\n    pass"),
    "kill_everything": ("blank", "top", "import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\nprint('still alive')"),
}


def _insert(nb: nbformat.NotebookNode, place: str, code: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with the cell ``code`` at ``place``."""
    nb = copy.deepcopy(nb)
    checks = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "grader.check(" in c.source]
    at = {"top": checks[:1], "checks": checks, "end": [len(nb.cells)]}[place]
    for i in reversed(at):
        nb.cells.insert(i, nbformat.v4.new_code_cell(code))
    return nb


def _processes(needle: str) -> list[str]:
    """Command lines of the live (not zombie) processes whose command line contains ``needle``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmd and state not in ("Z", "X") and int(pid) != os.getpid():
            found.append(f"{pid}: {cmd[:200]}")
    return found


def _wait_no_processes(needle: str, seconds: float = 15.0) -> list[str]:
    end = time.monotonic() + seconds
    while (left := _processes(needle)) and time.monotonic() < end:
        time.sleep(0.2)
    return left


def _hashes(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for f in folders for p in sorted(Path(f).rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _text_under(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in Path(folder).rglob("*") if p.is_file())


@pytest.mark.slow
def test_attack_catalogue(built_assignments, run_grader, master_secrets, tmp_path):
    folder = built_assignments["A1_regression"]
    blank = nbformat.read(folder / "student" / "A1_regression.ipynb", as_version=4)
    reference = nbformat.read(folder / "autograder" / "A1_regression.ipynb", as_version=4)
    subs = tmp_path / "submissions"
    subs.mkdir()
    for name, (base, place, code) in ATTACKS.items():
        nbformat.write(_insert(blank if base == "blank" else reference, place, code.strip("\n")), subs / f"{name}.ipynb")
    clean = copy.deepcopy(reference)
    clean.cells.append(nbformat.v4.new_code_cell(f"# {OTHER_SECRET}"))
    nbformat.write(clean, subs / "zz_reference.ipynb")

    import course_lib
    import course_tools.grading

    guarded = [Path(course_lib.__file__).parent, Path(course_tools.grading.__file__).parent, folder, subs]
    before = _hashes(*guarded)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out" / "grades.csv"
    start = time.monotonic()
    rc, rows, err = run_grader(subs, "A1", out, "--jobs", "2", *LIMITS, env={"TMPDIR": str(tmpdir)})
    seconds = time.monotonic() - start

    # the batch completed: one row per notebook, the clean reference after the attacks intact
    assert set(rows) == {f"{n}.ipynb" for n in ATTACKS} | {"zz_reference.ipynb"}, err[-3000:]
    assert rc == 1, "some attacks are timeout or crashed rows"
    changed = {}
    for name, (base, _, _) in ATTACKS.items():
        row = rows[f"{name}.ipynb"]
        expected = 11.0 if base == "reference" else 0.0
        if float(row["total"]) != expected:
            changed[name] = row
    assert not changed, f"attacks that changed a score: {changed}"
    assert rows["zz_reference.ipynb"]["status"] == "ok" and float(rows["zz_reference.ipynb"]["total"]) == 11
    print(f"\n{len(ATTACKS)} attacks graded in {seconds:.0f} s; score changed by: {len(changed)}")

    logs, feedback = tmp_path / "out" / "grades-logs", tmp_path / "out" / "grades-feedback"
    log = {n: (logs / f"{n}.log").read_text(errors="replace") for n in ATTACKS}

    # nothing of the tests, the solutions, the build or another submission reached what a
    # submission printed or its feedback (the instructor log above the output shows hidden tests)
    solution, hidden = master_secrets["A1_regression"]
    (zip_path,) = (folder / "autograder").glob("*.zip")
    for name in ATTACKS:
        printed = log[name].split("---- output of the notebook", 1)[1]
        text = printed + (feedback / f"{name}.txt").read_text(errors="replace")
        lines = {ln.strip() for ln in text.splitlines()}
        assert not (solution | hidden) & lines, f"{name}: {sorted((solution | hidden) & lines)[:3]}"
        assert str(folder) not in text and zip_path.name not in text, name
        assert OTHER_SECRET not in text and str(subs) not in text and str(tmp_path) not in text, name
    assert "top level:" in log["read_filesystem"], "the filesystem search ran to its end"
    pids = set(re.findall(r"^(\d+) cmdline", log["read_proc"], re.M))
    assert pids and len(pids) < 10, f"the submission sees only its own processes, not {len(pids)}"
    assert "COURSE_DATA_DIR" in log["read_environment"]

    # nothing outside a submission's sandbox changed; no file appeared beside the output
    assert _hashes(*guarded) == before
    for word in ("EDITED", "RENAMED", "OVERWROTE", "REWROTE"):
        assert not any(re.search(rf"^{word} ", t, re.M) for t in log.values()), word
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grades-feedback", "grades-logs", "grades.csv"]
    assert not re.search(r"^forged,", out.read_text(), re.M), "a row written by a submission"
    assert list(tmpdir.iterdir()) == [], "the staging folder is removed"

    # processes: none left; the fork bomb stopped at the limit
    assert _wait_no_processes(MARK) == [], "a process of a submission outlived it"
    assert _processes("course_tools.grading.worker") == []
    bomb = rows["fork_bomb.ipynb"]
    refused = re.search(r"fork refused after (\d+)", log["fork_bomb"])
    assert ("processes:" in bomb["reason"]) or (refused and int(refused.group(1)) <= 64), (bomb, log["fork_bomb"][-500:])
    # memory: children together over the limit are killed; shared memory is refused or capped
    assert rows["memory_in_children.ipynb"]["status"] == "crashed"
    assert "memory:" in rows["memory_in_children.ipynb"]["reason"]
    shm = log["memory_in_shared_memory"]
    assert "shmget: refused" in shm and "memfd_create: refused" in shm and "ALLOWED" not in shm
    assert "FILLED" not in shm
    capped = re.search(r"/dev/shm: stopped after (\d+) MB", shm)
    assert capped and int(capped.group(1)) <= 128, shm[-2000:]
    # output: 1 GB printed, the log keeps at most the limit, the honest part scores in full
    assert rows["print_1_gb.ipynb"]["status"] == "ok"
    assert (logs / "print_1_gb.log").stat().st_size < 64 * 1024 + 20_000
    assert re.search(r"output \d{10} bytes", log["print_1_gb"]), "all of the output was read"
    assert rows["infinite_loop.ipynb"]["status"] == "timeout"
    assert "changed the arguments" in log["inputs_rewritten_to_match"]


# ------------------------------------------------------------------ stopping a batch midway


def _start_batch(built_assignments, data_dir, tmp_path) -> tuple[subprocess.Popen, Path, Path]:
    """A1 batch of notebooks that each start a long-running process with the marker; returns
    once one of them runs (so the canary is done and sandboxes are live)."""
    folder = built_assignments["A1_regression"]
    subs = tmp_path / "submissions"
    subs.mkdir()
    reference = nbformat.read(folder / "autograder" / "A1_regression.ipynb", as_version=4)
    for i in range(4):
        nb = nbformat.reads(nbformat.writes(reference), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(
            f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'while True: pass', '{MARK}-{i}'])"))
        nbformat.write(nb, subs / f"slow{i}.ipynb")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "course_tools.grading", str(subs), "--assignment", "A1",
                             "--build-dir", str(folder.parent), "--out", str(tmp_path / "grades.csv"), "--quiet",
                             "--jobs", "2", "--timeout", "120"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COURSE_DATA_DIR": str(data_dir), "TMPDIR": str(tmpdir)})
    end = time.monotonic() + 300
    while not _processes(MARK) and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.2)
    assert _processes(MARK), f"the batch never reached its submissions: {proc.communicate()[1][-2000:]}"
    return proc, tmpdir, folder


def _no_hidden_test_under(folder: Path, hidden: set[str]) -> list[str]:
    lines = {ln.strip() for ln in _text_under(folder).splitlines()}
    return sorted(hidden & lines)


@pytest.mark.slow
def test_sigterm_midway_leaves_nothing(built_assignments, data_dir, sandbox, master_secrets, tmp_path):
    proc, tmpdir, _ = _start_batch(built_assignments, data_dir, tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "no CSV written" in err
    assert not (tmp_path / "grades.csv").exists()
    assert _wait_no_processes(MARK) == [] and _processes("course_tools.grading.worker") == []
    assert list(tmpdir.iterdir()) == [], "the staging folder is removed"
    assert _no_hidden_test_under(tmp_path, master_secrets["A1_regression"][1]) == []


@pytest.mark.slow
def test_sigkill_midway_kills_the_sandboxes(built_assignments, data_dir, sandbox, master_secrets, tmp_path,
                                            monkeypatch):
    proc, tmpdir, _ = _start_batch(built_assignments, data_dir, tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    # --die-with-parent: every sandbox dies with the grader
    assert _wait_no_processes(MARK, 30) == [] and _processes("course_tools.grading.worker") == []
    assert not (tmp_path / "grades.csv").exists()
    # what a killed batch leaves is its staging copy of the submissions, no hidden test; the next
    # batch removes it
    assert _no_hidden_test_under(tmp_path, master_secrets["A1_regression"][1]) == []
    assert [p.name.startswith(batch.STAGING_PREFIX) for p in tmpdir.iterdir()] == [True]
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    batch.remove_stale_staging()
    assert list(tmpdir.iterdir()) == []
