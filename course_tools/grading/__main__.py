"""Grade a folder of submissions of one assignment.

    python -m course_tools.grading SUBMISSIONS_DIR --assignment A1 --out grades/A1.csv

Every ``*.ipynb`` directly in SUBMISSIONS_DIR is run in its own bubblewrap sandbox and judged
from outside it (see ``assignments/README.md``). Writes ``grades/A1.csv`` (one row per
submission), ``grades/A1-logs/`` (for the instructor) and ``grades/A1-feedback/`` (one file per
student, without hidden tests).

Statuses: ``ok``; ``missing-questions`` (graded, a grader.check cell did not run); ``invalid``
(not a notebook of this assignment; 0); ``timeout`` (killed at the time limit); ``crashed`` (its
process died, or was killed at the memory or process limit); ``error`` (the grader failed on it).
Questions graded before a timeout or crash keep their points.

Exit code: 0 when every submission was graded (ok or missing-questions), 1 when some were not,
2 when the batch could not be graded (usage, nothing built, no sandbox, failed canary),
128 + N when stopped by signal N (no CSV is written then, and nothing is left behind).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from course_tools.grading.batch import GRADED, STATUSES, GradeError, Grader, grade_folder
from course_tools.grading.questions import AssignmentError, find_assignment, load_assignment
from course_tools.grading.sandbox import Limits, SandboxError, check_bwrap

DEFAULT_BUILD = Path("build") / "assignments"
WARNING = """
**********************************************************************************************
*  WARNING: --no-sandbox. Student code runs with your rights, on your files, with network.   *
*  A submission can read the solutions and hidden tests, change the grader, and FORGE GRADES. *
*  Use it only to debug, never for grades of record.                                          *
**********************************************************************************************
"""


class Stopped(BaseException):
    def __init__(self, signum: int):
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # one stop is enough: let it clean up
        signal.signal(s, signal.SIG_IGN)
    raise Stopped(signum)


def main(argv: Sequence[str] | None = None) -> int:
    d = Limits()
    parser = argparse.ArgumentParser(prog="python -m course_tools.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, help="folder of *.ipynb submissions")
    parser.add_argument("--assignment", required=True, help="A1, A2, A3 (or the full name, e.g. A1_regression)")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD,
                        help=f"where make assignments built them (default {DEFAULT_BUILD})")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="CSV to write (default grades.csv)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--timeout", type=float, default=d.seconds, help=f"seconds per submission (default {d.seconds:g})")
    parser.add_argument("--memory-mb", type=int, default=d.memory_mb,
                        help=f"memory of all its processes together, MB (default {d.memory_mb})")
    parser.add_argument("--tasks", type=int, default=d.tasks, help=f"processes and threads (default {d.tasks})")
    parser.add_argument("--files-mb", type=int, default=d.files_mb,
                        help=f"size of each writable folder and file, MB (default {d.files_mb})")
    parser.add_argument("--output-kb", type=int, default=d.output_kb,
                        help=f"output kept in the log, KB (default {d.output_kb})")
    parser.add_argument("--seed", type=int, help="derive the tests' seeds from this number (to regrade exactly); "
                                                 "default: fresh random seeds, written in the log")
    parser.add_argument("--no-sandbox", action="store_true", help="run student code without bubblewrap "
                                                                  "(grades can be forged; debugging only)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the judge imports Keras for some tests
    limits = Limits(seconds=args.timeout, memory_mb=args.memory_mb, tasks=args.tasks, files_mb=args.files_mb,
                    output_kb=args.output_kb)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        bwrap = None
        if args.no_sandbox:
            print(WARNING, file=sys.stderr)
        else:
            bwrap = check_bwrap()
        assignment = load_assignment(find_assignment(args.assignment, args.build_dir))
        grader = Grader(assignment, limits, sandboxed=not args.no_sandbox, bwrap=bwrap, seed=args.seed)
        results = grade_folder(args.submissions, grader, args.out, jobs=args.jobs, progress=not args.quiet)
    except (GradeError, AssignmentError, SandboxError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Stopped as e:
        print(f"stopped by signal {e.signum}: no CSV written", file=sys.stderr)
        return 128 + e.signum
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    print(f"graded {len(results)} submissions -> {args.out}: "
          + ", ".join(f"{n} {s}" for s, n in counts.items() if n), file=sys.stderr)
    if args.no_sandbox:
        print(WARNING, file=sys.stderr)
    return 0 if all(r.status in GRADED for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
