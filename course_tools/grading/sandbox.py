"""The sandbox: one worker process per submission under bubblewrap, with limits per submission.

What the submission's code gets (``bwrap``, Debian package ``bubblewrap``):

- new user, PID, network, IPC, UTS and cgroup namespaces: no network (only a loopback), it sees
  only its own processes, it runs as uid 1000 with no capabilities, and it cannot create user
  namespaces of its own (``--disable-userns``);
- a read-only view of the system (``/usr`` and its links, a few files of ``/etc``), of Python
  and its packages, of ``course_lib``, of this package (the worker's code) and of the data
  folder (at ``/data``); nothing else of the host: not the repository, ``build/``, the tests, the
  solutions, the other submissions or the output folder;
- three writable folders, each a memory file system of ``files_mb``: ``/home/student`` (its home
  and working folder), ``/tmp`` and ``/dev/shm``; everything else is read-only;
- a seccomp filter that refuses System V shared memory and message queues and ``memfd_create``
  (memory no process maps would escape the memory count);
- ``--die-with-parent`` and ``--new-session``: when the grader dies the sandbox dies, and the
  PID namespace takes every process the submission started with it.

And limits for the whole submission, enforced from outside by a monitor thread that polls the
sandbox's process tree every ``POLL_S`` seconds and kills the whole sandbox when one is passed:
wall-clock time, total resident memory of all its processes, number of tasks (processes and
threads). Inside, the worker also sets per-process limits (data segment, file size, open files,
no core files, and the task count, which the kernel enforces for the whole sandbox when the
grader does not run as root). At most ``output_kb`` of its output is kept: the first and the last
halves; the rest is read and dropped.
"""

from __future__ import annotations

import collections
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from course_tools import ROOT, kernel_env
from course_tools.grading import protocol

#: How often the monitor looks at the sandbox (seconds).
POLL_S = 0.1
SANDBOX_UID = 1000
#: The sandbox's home and working folder.
HOME = "/home/student"


@dataclass(frozen=True)
class Limits:
    """Limits for one submission (all of its processes together, unless said otherwise)."""

    seconds: float = 300.0
    #: Total resident memory (anonymous + shared) of all its processes, MB. Each process also
    #: gets this as its data-segment limit, so one huge allocation fails with MemoryError.
    memory_mb: int = 3072
    #: Tasks: processes and threads (TensorFlow alone starts a few dozen threads).
    tasks: int = 256
    #: Size of each writable folder (home, /tmp, /dev/shm) and of any one file, MB.
    files_mb: int = 256
    #: Output kept in the log, KB (first half and last half).
    output_kb: int = 256
    open_files: int = 1024

    def worker_rlimits(self) -> dict[str, int]:
        """The per-process limits the worker sets on itself before it runs any notebook code."""
        return {"RLIMIT_NPROC": self.tasks, "RLIMIT_DATA": self.memory_mb << 20,
                "RLIMIT_FSIZE": self.files_mb << 20, "RLIMIT_CORE": 0, "RLIMIT_NOFILE": self.open_files}


class SandboxError(RuntimeError):
    """bubblewrap is missing or cannot run here."""


class SandboxGone(RuntimeError):
    """The worker is no longer there (it exited, crashed, or was killed at a limit)."""


# ------------------------------------------------------------------------------------- bwrap


def check_bwrap() -> str:
    """The path of a ``bwrap`` that works here, or SandboxError saying why not and what to do."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed. Install it "
            "(Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap). "
            "Only if you trust every submission: --no-sandbox (then a submission can forge grades).")
    probe = subprocess.run([path, "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID),
                            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--die-with-parent", "true"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        raise SandboxError(
            f"bwrap is installed ({path}) but cannot create a sandbox: {probe.stderr.strip()}. It needs "
            "unprivileged user namespaces: on Debian/Ubuntu check sysctl kernel.unprivileged_userns_clone=1 "
            "and (Ubuntu 24.04+) kernel.apparmor_restrict_unprivileged_userns=0; in a container, run it with "
            "user namespaces allowed (e.g. docker run --security-opt seccomp=unconfined).")
    return path


def _seccomp_program() -> bytes | None:
    """A classic-BPF seccomp program (as bwrap --seccomp reads it) that makes shmget, msgget,
    memfd_create and memfd_secret fail with EPERM and kills a process using another ABI
    (x32, i386). None on an architecture not listed here."""
    arches = {  # AUDIT_ARCH, syscall numbers (shmget, msgget, memfd_create, memfd_secret)
        "x86_64": (0xC000003E, (29, 68, 319, 447)),
        "aarch64": (0xC00000B7, (194, 186, 279, 447)),
    }
    if platform.machine() not in arches:
        return None
    arch, blocked = arches[platform.machine()]
    ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, kill, eperm = 0x7FFF0000, 0x80000000, 0x00050000 | 1

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    n = len(blocked)
    prog = [op(ld_abs, 4), op(jeq, arch, 1, 0), op(ret, kill),  # another ABI: kill
            op(ld_abs, 0), op(jge, 0x40000000, n + 2, 0)]          # x32 system calls: kill
    prog += [op(jeq, nr, n - i, 0) for i, nr in enumerate(blocked)]  # a blocked call: EPERM
    prog += [op(ret, allow), op(ret, eperm), op(ret, kill)]
    return b"".join(prog)


def _mounts() -> list[str]:
    """bwrap arguments for the read-only part of the sandbox."""
    args: list[str] = []
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts", "mime.types"):
        args += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
    import course_lib
    import course_tools

    here = Path(__file__).resolve().parent
    wanted = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
              Path(course_lib.__file__).resolve().parent, Path(course_tools.__file__).resolve(), here]
    mounted = [Path("/usr")]
    for path in wanted:  # each once, and not inside a folder already mounted
        if not any(path == m or m in path.parents for m in mounted):
            mounted.append(path)
            args += ["--ro-bind", str(path), str(path)]
    return args


def _data_mounts() -> tuple[list[str], dict[str, str]]:
    """Read-only mounts of the data folder and caches, and the environment that names them."""
    args, env = [], {}
    data = kernel_env().get("COURSE_DATA_DIR")  # made absolute in one place
    if data:
        if not Path(data).is_dir():
            raise SandboxError(f"COURSE_DATA_DIR={data} is not a folder")
        args += ["--ro-bind", data, "/data"]
        env["COURSE_DATA_DIR"] = "/data"
    cache = Path(os.environ.get("COURSE_CACHE_DIR", "").strip() or Path.home() / ".cache" / "course_lib").expanduser()
    if cache.is_dir():
        args += ["--ro-bind", str(cache.resolve()), "/cache"]
        env["COURSE_CACHE_DIR"] = "/cache"
    keras = Path(os.environ.get("KERAS_HOME", "").strip() or Path.home() / ".keras").expanduser() / "datasets"
    if keras.is_dir():
        args += ["--ro-bind", str(keras.resolve()), f"{HOME}/.keras/datasets"]
    return args, env


#: Variables passed on from the grader's environment (nothing else is).
PASSED_ENV = ("KERAS_BACKEND", "COURSE_PROFILE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def worker_env(home: str) -> dict[str, str]:
    env = {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": "/tmp",
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0", "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": ""}
    env.update({k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)})
    return env


# ------------------------------------------------------------------------------------- one sandbox


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc/<pid>/task/<tid>/children."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def _usage(pids: list[int]) -> tuple[int, int]:
    """(resident anonymous + shared memory in bytes, number of tasks) of these processes."""
    memory = tasks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(("RssAnon:", "RssShmem:")):
                        memory += int(line.split()[1]) * 1024
                    elif line.startswith("Threads:"):
                        tasks += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return memory, tasks


class Sandbox:
    """One worker, sandboxed (or not, with ``sandboxed=False``), with its monitor.

    Use as a context manager; on exit every process of the sandbox is dead."""

    def __init__(self, limits: Limits, *, sandboxed: bool = True, bwrap: str | None = None):
        self.limits = limits
        self.sandboxed = sandboxed
        self.bwrap = bwrap
        self.killed: str | None = None  # why the monitor killed it
        self.peak_memory = 0
        self.peak_tasks = 0
        self.output_bytes = 0
        self._head = bytearray()
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_len = 0
        self._proc: subprocess.Popen | None = None
        self._threads: list[threading.Thread] = []
        self._done = threading.Event()
        self._tmp: str | None = None
        self.started = 0.0

    # -------------------------------------------------------------- start and stop

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        to_worker_r, self._to_worker = os.pipe()
        self._from_worker, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        worker = [sys.executable, "-m", "course_tools.grading.worker", str(to_worker_r), str(from_worker_w)]
        passed = [to_worker_r, from_worker_w]
        if self.sandboxed:
            mounts = _mounts()
            data_args, data_env = _data_mounts()
            env = worker_env(HOME) | data_env
            files = str(self.limits.files_mb << 20)
            args = ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID),
                    "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--die-with-parent", "--new-session",
                    "--clearenv", *[a for k, v in env.items() for a in ("--setenv", k, v)],
                    "--proc", "/proc", "--dev", "/dev", "--size", files, "--tmpfs", HOME,
                    "--size", files, "--tmpfs", "/tmp", "--size", files, "--tmpfs", "/dev/shm",
                    *mounts, *data_args,  # after the folders above, in case one lies inside them
                    "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", HOME]
            program = _seccomp_program()
            if program is not None:
                seccomp_r, seccomp_w = os.pipe()
                os.write(seccomp_w, program)
                os.close(seccomp_w)
                args += ["--seccomp", str(seccomp_r)]
                passed.append(seccomp_r)
            # the options go through a pipe, so /proc/1/cmdline inside does not list the mounts
            args_r, args_w = os.pipe()
            os.write(args_w, b"\0".join(a.encode() for a in args) + b"\0")
            os.close(args_w)
            passed.append(args_r)
            cmd, env_outer, cwd = [self.bwrap or "bwrap", "--args", str(args_r), "--", *worker], {}, "/"
        else:
            self._tmp = tempfile.mkdtemp(prefix="course-grading-nosandbox-")
            env_outer = worker_env(self._tmp) | {k: v for k, v in kernel_env().items()
                                                 if k in ("COURSE_DATA_DIR", "COURSE_CACHE_DIR") and v}
            env_outer["PYTHONPATH"] = str(ROOT)  # where course_tools is
            cmd, cwd = worker, self._tmp
        self.started = time.monotonic()
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, env=env_outer,
                                          cwd=cwd, pass_fds=passed, start_new_session=True)
        finally:
            for fd in passed + [out_w]:
                os.close(fd)
        self._threads = [threading.Thread(target=self._drain, args=(out_r,), daemon=True),
                         threading.Thread(target=self._monitor, daemon=True)]
        for t in self._threads:
            t.start()

    def kill(self, reason: str | None = None) -> None:
        """Kill every process of the sandbox now (``reason`` is kept for the log)."""
        if reason and not self.killed:
            self.killed = reason
        if self._proc is None:
            return
        for pid in reversed(_tree(self._proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        """Ask the worker to exit, kill what is left, wait until every process is gone."""
        if self._proc is None:
            return
        try:
            protocol.write_frame(self._to_worker, {"op": "exit"})
        except OSError:
            pass
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self._done.set()
        # the worker may have left processes behind (a detached one): kill the whole tree
        pids = _tree(self._proc.pid)
        self.kill()
        self._proc.wait()
        self._wait_gone(pids)
        for t in self._threads:
            t.join(timeout=30)
        for fd in (self._to_worker, self._from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    @staticmethod
    def _wait_gone(pids: list[int], timeout: float = 30.0) -> None:
        """Wait until none of ``pids`` is a live process (zombies count as gone)."""
        end = time.monotonic() + timeout
        for pid in pids:
            while time.monotonic() < end:
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    break
                if state in ("Z", "X"):
                    break
                time.sleep(0.02)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    # -------------------------------------------------------------- the channel

    def request(self, header: dict, arrays: dict | None = None) -> tuple[dict, dict]:
        """Send one request and read its reply. SandboxGone when the worker is not there."""
        try:
            protocol.write_frame(self._to_worker, header, arrays)
            return protocol.read_frame(self._from_worker)
        except (OSError, EOFError) as e:
            raise SandboxGone(self.why_gone() or f"the worker closed the channel ({type(e).__name__})") from None
        except protocol.ProtocolError as e:
            self.kill(f"protocol error: {e}")
            raise SandboxGone(f"the worker sent a malformed reply: {e}") from None

    def why_gone(self) -> str | None:
        if self.killed:
            return self.killed
        if self._proc is not None and self._proc.poll() is not None:
            return f"the worker exited with code {self._proc.returncode}"
        return None

    # -------------------------------------------------------------- threads

    def _drain(self, fd: int) -> None:
        keep = (self.limits.output_kb << 10) // 2
        with open(fd, "rb", buffering=0) as f:
            while chunk := f.read(1 << 16):
                self.output_bytes += len(chunk)
                room = keep - len(self._head)
                if room > 0:
                    self._head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    self._tail.append(chunk)
                    self._tail_len += len(chunk)
                    while self._tail_len - len(self._tail[0]) >= keep:
                        self._tail_len -= len(self._tail.popleft())

    def output(self) -> str:
        """The output kept: the first and the last halves, with the number of bytes dropped between."""
        tail = b"".join(self._tail)[-((self.limits.output_kb << 10) // 2):] if self._tail else b""
        dropped = self.output_bytes - len(self._head) - len(tail)
        middle = f"\n[... {dropped} bytes of output not kept ...]\n".encode() if dropped > 0 else b""
        return (bytes(self._head) + middle + tail).decode("utf-8", errors="replace")

    def _monitor(self) -> None:
        limit_bytes = self.limits.memory_mb << 20
        deadline = self.started + self.limits.seconds
        while not self._done.is_set() and self._proc.poll() is None:
            pids = _tree(self._proc.pid)
            memory, tasks = _usage(pids)
            self.peak_memory, self.peak_tasks = max(self.peak_memory, memory), max(self.peak_tasks, tasks)
            if memory > limit_bytes:
                self.kill(f"memory: its processes used {memory / 2**20:.0f} MB, over the {self.limits.memory_mb} MB limit")
            elif tasks > self.limits.tasks + 4:  # + bwrap's own processes
                self.kill(f"processes: {tasks} tasks, over the limit of {self.limits.tasks}")
            elif time.monotonic() > deadline:
                self.kill(f"timeout: still running after the {self.limits.seconds:g} s limit")
            self._done.wait(POLL_S)
