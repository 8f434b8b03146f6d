"""Download every data set of the course into one folder, each checked against its SHA-256.

    python -m course_tools.data ~/course-data                 # what `make data DIR=~/course-data` runs
    python -m course_tools.data ~/course-data --only mnist    # some data sets only
    python -m course_tools.data ~/course-data --check         # check the folder, download nothing

The folder then serves as ``COURSE_DATA_DIR`` (working offline, or grading in a sandbox without
network). The URLs and hashes are those of the registry, ``course_lib.data.REGISTRY``: nothing is
repeated here. A file already in the folder is checked and kept when good. A file with the wrong
hash, downloaded or already there, is never kept in its place: the command names the file and both
hashes, goes on with the others and exits with 1. ``--base-url`` fetches ``<base-url>/<file name>``
instead of the upstream URLs (a mirror of the files).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

from course_lib.data import REGISTRY, DataError, Dataset, dataset, verify


def source_url(d: Dataset, base_url: str | None = None) -> str:
    """Where ``d`` is downloaded from: its pinned upstream URL, or ``<base_url>/<file name>``.

    >>> source_url(REGISTRY["ex1data1"], "http://localhost:8000/data/")
    'http://localhost:8000/data/ex1data1.txt'
    """
    return f"{base_url.rstrip('/')}/{d.filename}" if base_url else d.url


def download(d: Dataset, folder: Path, base_url: str | None = None, timeout: float = 60) -> str:
    """Put a checked copy of ``d`` into ``folder``; return what was done. Raises
    :class:`course_lib.data.DataError` when the file cannot be fetched or has the wrong hash
    (then nothing is left in ``folder`` under its name)."""
    target = folder / d.filename
    if target.is_file():
        verify(target, d.name)  # a wrong file already there: DataHashError, and it is left alone
        return f"{d.filename}: already there, SHA-256 checked"
    url = source_url(d, base_url)
    fd, part = tempfile.mkstemp(prefix=f".{d.filename}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    while block := response.read(1 << 20):
                        out.write(block)
            except OSError as err:  # URLError, HTTPError and timeouts are all OSErrors
                raise DataError(f"{d.filename}: could not be downloaded from {url} ({type(err).__name__}: {err})") from err
        try:
            verify(part, d.name)
        except DataError as err:  # the wrong bytes: the error names both hashes; the part file goes
            raise type(err)(f"{d.filename} downloaded from {url} was not kept: {err}") from err
        os.replace(part, target)
    finally:
        Path(part).unlink(missing_ok=True)
    return f"{d.filename}: downloaded from {url} ({target.stat().st_size:,} bytes), SHA-256 checked"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="where the files go (created if missing); then set COURSE_DATA_DIR to it")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"data sets by name: {', '.join(REGISTRY)}")
    parser.add_argument("--check", action="store_true", help="only check the files already in the folder")
    parser.add_argument("--base-url", help="fetch <base-url>/<file name> instead of the upstream URLs")
    args = parser.parse_args(argv)
    try:
        chosen = [dataset(name) for name in args.only] if args.only else list(REGISTRY.values())
    except KeyError as err:
        parser.error(err.args[0])
    folder = args.folder.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    failed = []
    for d in chosen:
        try:
            if args.check:
                if not (folder / d.filename).is_file():
                    raise DataError(f"{d.filename}: missing (upstream: {d.url})")
                verify(folder / d.filename, d.name)
                print(f"{d.filename}: SHA-256 checked", flush=True)
            else:
                print(download(d, folder, args.base_url), flush=True)
        except DataError as err:
            failed.append(d.name)
            print(f"ERROR {err}", file=sys.stderr, flush=True)
    if failed:
        print(f"{len(failed)} of {len(chosen)} data sets are missing or wrong in {folder}: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    print(f"All {len(chosen)} data sets are in {folder.resolve()}. Use it with: export COURSE_DATA_DIR={folder.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
