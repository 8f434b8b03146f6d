"""The worker: runs one notebook's code inside the sandbox and answers the judge's requests.

Started by the judge as ``python -m course_tools.grading.worker IN_FD OUT_FD`` inside the sandbox,
where everything it imports is read-only. It never sees a test, an expected value or a solution:

1. It reads the ``run`` request (the notebook's code cells, the names each question's tests take,
   the resource limits), sets the limits on itself (inherited by anything it starts), and runs the
   cells in order in an IPython shell, as *Restart & Run All* would, going on after a cell fails.
   ``import otter`` gives a stand-in whose ``grader.check("qN")`` records, at that moment, the
   values of the names question qN's tests take (an answer reused later keeps what was checked).
2. It then answers requests until ``exit``: ``value`` (a recorded name), ``call`` (call a handle
   with the judge's arguments) and ``getattr``. Results go back as plain numeric data
   (:mod:`protocol`); an object that is not plain data (a function, a model) stays here and the
   judge gets a handle to it.

Everything here runs in the student's process and could be changed by the student's code; the
judge trusts none of it beyond "these numbers came back".
"""

from __future__ import annotations

import resource
import sys
import time
import types
from typing import Any

from course_tools.grading import protocol

#: Characters of an error message sent back.
MESSAGE_CHARS = 500


class Recorder:
    """What the notebook run leaves for the judge: per question, the recorded values."""

    def __init__(self, names: dict[str, list[str]]):
        self.names = names
        self.shell = None
        self.handles: list[Any] = []
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.checked: list[str] = []

    def to_handle(self, obj: Any) -> int:
        self.handles.append(obj)
        return len(self.handles) - 1

    def from_handle(self, hid: int) -> Any:
        if not 0 <= hid < len(self.handles):
            raise protocol.ProtocolError(f"no handle {hid}")
        return self.handles[hid]

    def record(self, question: str) -> None:
        """Keep, for ``question``, the current value of every name its tests take: plain data as
        an encoded copy (so a later change does not reach it), anything else by reference."""
        if question not in self.names:
            print(f"grader.check: no question {question!r} in this assignment")
            return
        ns = _frozen(self.shell.user_ns)
        snap = {}
        for name in self.names[question]:
            if name not in ns:
                snap[name] = None
                continue
            try:
                arrays: dict = {}
                snap[name] = ("plain", protocol.encode(ns[name], arrays), arrays)
            except Exception:
                snap[name] = ("object", ns[name])
        self.snapshots[question] = snap
        if question not in self.checked:
            self.checked.append(question)
        print(f"{question}: answers recorded for grading")

    def value(self, question: str, name: str) -> tuple[Any, dict] | None:
        """The encoded value of ``name`` for ``question``: as recorded by its check, else (no
        check cell ran) as the notebook left it; None when the name was not defined."""
        snap = self.snapshots.get(question)
        if snap is not None:
            entry = snap.get(name)
            if entry is None:
                return None
            if entry[0] == "plain":
                return entry[1], entry[2]
            obj = entry[1]
        elif name in self.shell.user_ns:
            obj = self.shell.user_ns[name]
        else:
            return None
        arrays: dict = {}
        return protocol.encode(obj, arrays, self.to_handle), arrays


def _frozen(ns: dict) -> dict:
    """A copy of the notebook's namespace in which the notebook's own functions look up their
    globals (other functions, constants) in the copy: a function recorded at a check keeps
    calling the helpers it called then, even if the notebook later reuses their names."""
    frozen = dict(ns)
    for key, value in ns.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is ns:
            copy = types.FunctionType(value.__code__, frozen, value.__name__, value.__defaults__, value.__closure__)
            copy.__kwdefaults__, copy.__qualname__ = value.__kwdefaults__, value.__qualname__
            copy.__dict__.update(value.__dict__)
            frozen[key] = copy
    return frozen


def _fake_otter(recorder: Recorder) -> types.ModuleType:
    """A module that stands in for otter-grader: ``otter.Notebook(...).check("q1")`` records."""

    class Notebook:
        def __init__(self, *args: Any, **kwargs: Any):
            pass

        def check(self, question: str, *args: Any, **kwargs: Any) -> None:
            recorder.record(str(question))

        def check_all(self, *args: Any, **kwargs: Any) -> None:
            for question in recorder.names:
                recorder.record(question)

        def export(self, *args: Any, **kwargs: Any) -> None:
            pass

    module = types.ModuleType("otter", "stand-in for otter-grader while a submission is graded")
    module.Notebook = Notebook
    return module


def set_limits(limits: dict[str, int]) -> None:
    """Soft = hard limits on this process and everything it starts (no way back up without
    privileges the sandbox does not have)."""
    for name, value in limits.items():
        rlimit = getattr(resource, name)
        hard = resource.getrlimit(rlimit)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # never above what this process already has
        resource.setrlimit(rlimit, (value, value))


def run_cells(recorder: Recorder, cells: list[str]) -> list[dict]:
    """Run the code cells in one IPython shell; return the errors (cell index, type, message)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor")
    recorder.shell = shell
    errors = []
    for index, source in enumerate(cells):
        result = shell.run_cell(source, store_history=False)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            errors.append({"cell": index, "type": type(error).__name__,
                           "message": str(error)[:MESSAGE_CHARS]})
    return errors


def _error(e: BaseException) -> dict:
    """An exception as the judge sees it: the nearest built-in exception class and the message."""
    import builtins

    name = next((c.__name__ for c in type(e).__mro__ if getattr(builtins, c.__name__, None) is c), "Exception")
    return {"ok": False, "error": {"type": name, "message": str(e)[:MESSAGE_CHARS]}}


def serve(recorder: Recorder, fd_in: int, fd_out: int) -> None:
    """Answer the judge's requests until ``exit`` or the end of the channel."""
    while True:
        try:
            request, arrays = protocol.read_frame(fd_in)
        except EOFError:
            return
        op = request.get("op")
        if op == "exit":
            return
        out_arrays: dict = {}
        try:
            if op == "value":
                found = recorder.value(request["question"], request["name"])
                if found is None:
                    reply = {"ok": True, "missing": True}
                else:
                    reply, out_arrays = {"ok": True, "value": found[0]}, found[1]
            elif op == "getattr":
                obj = getattr(recorder.from_handle(request["handle"]), request["name"])
                reply = {"ok": True, "value": protocol.encode(obj, out_arrays, recorder.to_handle)}
            elif op == "call":
                func = recorder.from_handle(request["handle"])
                args = protocol.decode(request["args"], arrays, recorder.from_handle)
                kwargs = protocol.decode(request["kwargs"], arrays, recorder.from_handle)
                before = protocol.decode(request["args"], arrays, recorder.from_handle), \
                    protocol.decode(request["kwargs"], arrays, recorder.from_handle)
                value = func(*args, **kwargs)
                mutated = not (protocol.same_value(list(args), list(before[0]))
                               and protocol.same_value(kwargs, before[1]))
                reply = {"ok": True, "value": protocol.encode(value, out_arrays, recorder.to_handle),
                         "mutated": mutated}
            else:
                raise protocol.ProtocolError(f"unknown request {op!r}")
        except Exception as e:
            reply, out_arrays = _error(e), {}
        try:
            protocol.write_frame(fd_out, reply, out_arrays)
        except protocol.ProtocolError as e:
            protocol.write_frame(fd_out, _error(e))


def main(argv: list[str]) -> int:
    import os

    fd_in, fd_out = int(argv[0]), int(argv[1])
    for fd in (fd_in, fd_out):
        os.set_inheritable(fd, False)  # no process the notebook starts gets the channel
    request, _ = protocol.read_frame(fd_in)
    set_limits(request["limits"])
    recorder = Recorder({q: list(names) for q, names in request["names"].items()})
    sys.modules["otter"] = _fake_otter(recorder)
    start = time.monotonic()
    errors = run_cells(recorder, list(request["cells"]))
    sys.stdout.flush()
    protocol.write_frame(fd_out, {"ok": True, "checked": recorder.checked, "errors": errors,
                                  "seconds": time.monotonic() - start})
    serve(recorder, fd_in, fd_out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
