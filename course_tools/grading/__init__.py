"""Grading of the course's assignments: a trusted judge, student code in a sandbox.

    python -m course_tools.grading SUBMISSIONS_DIR --assignment A1 --out grades/A1.csv

Modules, one job each:

- ``questions``: an assignment's questions (points, public and hidden tests, the names a
  submission must define), read from what ``make assignments`` built.
- ``protocol``: the messages between judge and worker (plain numeric data, no pickle).
- ``worker``: runs inside the sandbox: executes a notebook, records answers at each
  ``grader.check``, calls the student's functions when the judge asks.
- ``sandbox``: bubblewrap around the worker, limits per submission, the monitor.
- ``judge``: runs a question's tests in the grader's own process against proxies of the
  student's objects, and scores them.
- ``batch``: a folder of submissions: staging, the canary, parallel grading, logs, CSV.
- ``__main__``: the command line.
"""
