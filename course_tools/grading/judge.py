"""The judge: runs a question's tests in the grader's own process, against the sandboxed worker.

A test function gets, for each of its parameters:

- an *answer* (a name the submission defines): what the worker recorded at the question's
  ``grader.check``, as plain data (NumPy arrays, numbers, lists, tuples, dicts), or, for an
  object that is not plain data (a function, a Keras model), a :class:`Remote` proxy: calling it
  or one of its methods sends the judge's arguments to the worker and brings the result back as
  plain data;
- a *given* (data the notebook provides): a copy of the reference solution's value;
- ``seed``: a fresh random integer, so that hidden tests draw new inputs on every run.

So expected values, tolerances and comparisons all live here, computed by the instructor's code
on numbers the judge holds; nothing the student wrote is imported, unpickled or called in this
process. A student's function that changes the arguments it was given fails the test that called
it (the change itself never reaches the judge).
"""

from __future__ import annotations

import builtins
import copy
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from course_tools.grading import protocol
from course_tools.grading.questions import SEED, Question, Test
from course_tools.grading.sandbox import Sandbox

MESSAGE_CHARS = 500


def _refuse(self: Remote, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"{self._label} is an object of the submission (not a number, array, list or dict); "
                    "the judge can only call it or read its attributes")


class Remote:
    """A proxy for an object that stays in the worker: attribute reads and calls go there;
    everything else (truth value, comparison, len, iteration, conversion to an array) raises."""

    __slots__ = ("_client", "_hid", "_label")

    def __init__(self, client: Client, hid: int, label: str):
        self._client, self._hid, self._label = client, hid, label

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._client.getattr(self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._client.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._label}: an object of the submission>"

    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __len__ = __iter__ = __array__ = _refuse
    __float__ = __int__ = __index__ = __contains__ = __getitem__ = _refuse
    __hash__ = None  # type: ignore[assignment]


def _exception(error: dict, label: str) -> Exception:
    """The exception the student's code raised in the worker, as a built-in exception here."""
    name, message = str(error.get("type", "")), str(error.get("message", ""))[:MESSAGE_CHARS]
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls, message = RuntimeError, f"{name}: {message}"
    return cls(message) if message else cls(f"raised by {label}")


class Client:
    """The judge's side of one worker's channel."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def _handle(self, value: Any) -> int:
        if isinstance(value, Remote) and value._client is self:
            return value._hid
        raise TypeError(f"cannot send an object of type {type(value).__name__} to the submission")

    def _reply(self, reply: dict, arrays: dict, label: str) -> Any:
        if reply.get("ok") is not True:
            raise _exception(reply.get("error") or {}, label)
        return protocol.decode(reply.get("value"), arrays, lambda hid: Remote(self, hid, label))

    def value(self, question: str, name: str) -> Any:
        """The submission's value of ``name`` for ``question`` (None if it does not define it)."""
        reply, arrays = self.sandbox.request({"op": "value", "question": question, "name": name})
        if reply.get("ok") is True and reply.get("missing") is True:
            return None
        return self._reply(reply, arrays, name)

    def getattr(self, obj: Remote, name: str) -> Any:
        label = f"{obj._label}.{name}"
        reply, arrays = self.sandbox.request({"op": "getattr", "handle": obj._hid, "name": name})
        return self._reply(reply, arrays, label)

    def call(self, func: Remote, args: tuple, kwargs: dict) -> Any:
        arrays: dict = {}
        header = {"op": "call", "handle": func._hid, "args": protocol.encode(list(args), arrays, self._handle),
                  "kwargs": protocol.encode(dict(kwargs), arrays, self._handle)}
        reply, out = self.sandbox.request(header, arrays)
        value = self._reply(reply, out, f"{func._label}(...)")
        if reply.get("mutated") is not False:
            raise AssertionError(f"{func._label} changed the arguments it was given; it must leave them unchanged")
        return value


@dataclass
class TestResult:
    test: Test
    passed: bool
    points: float
    message: str = ""     # one line: why it failed
    detail: str = ""      # the traceback (instructor log only: it shows the test's source)
    seed: int | None = None


def run_question(question: Question, client: Client, givens: dict[str, Any],
                 new_seed: Callable[[str], int]) -> list[TestResult]:
    """Run every test of ``question``; ``givens`` are the reference's values, ``new_seed(test name)``
    the seed for a test that takes one."""
    results = []
    for test in question.tests:
        seed = new_seed(test.name) if SEED in test.params else None
        try:
            kwargs = {}
            for p in test.params:
                if p == SEED:
                    kwargs[p] = seed
                elif p in question.answers:
                    kwargs[p] = client.value(question.name, p)
                else:
                    kwargs[p] = copy.deepcopy(givens[p])
            test.func(**kwargs)
        except Exception as e:
            message = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            results.append(TestResult(test, False, 0.0, message.splitlines()[0][:MESSAGE_CHARS] if message else "",
                                      traceback.format_exc(limit=-8)[-4000:], seed))
        else:
            results.append(TestResult(test, True, test.points, seed=seed))
    return results
