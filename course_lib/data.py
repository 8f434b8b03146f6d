"""The course's data sets: one registry, and loaders that return ready-to-use objects.

Where a file comes from, in this order:

1. the folder named by the ``COURSE_DATA_DIR`` environment variable (an offline mirror);
2. the local cache (``COURSE_CACHE_DIR``, default ``~/.cache/course_lib``);
3. a download from the pinned upstream URL into that cache (with :mod:`pooch`).

Every file is checked against its SHA-256 before use. A file with the wrong hash is never used
and never silently replaced: :class:`DataHashError` names the file, both hashes and the fix.
MNIST is also checked by its contents: a copy of ``mnist.npz`` rebuilt from the four original
files has other bytes than Keras's, so whatever file the arrays came from (a local copy, or
Keras's own download), :func:`load_mnist` checks the SHA-256 of the decoded arrays
(:func:`arrays_sha256`) against the registry.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """One entry of the registry."""

    name: str
    filename: str
    url: str
    sha256: str
    description: str
    #: For an ``.npz`` file: the SHA-256 of its arrays (:func:`arrays_sha256`, in the order of
    #: ``arrays``). A file whose bytes differ from the registry's but whose arrays match is
    #: accepted: it holds the same data.
    arrays_sha256: str | None = None
    arrays: tuple[str, ...] = ()


_LECTURE = "https://raw.githubusercontent.com/leejaymin/TensorFlowLecture/420e15f79fdc357790c8c50b6e3db82f1e74dcba/0.1.Fundamental_Neural_Network"

#: The registry: every data set the course uses. ``datasets/<name>.md`` is each one's card.
REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "ex1data1", "ex1data1.txt", f"{_LECTURE}/ex1/data/ex1data1.txt",
            "6abdea3e6a91a573a18bbe6f20ae79253765a43cf61af7e2d94ef58050e5b50a",
            "city population (10,000s) vs food-truck profit ($10,000s), 97 rows",
        ),
        Dataset(
            "ex1data2", "ex1data2.txt", f"{_LECTURE}/ex1/data/ex1data2.txt",
            "0c0d301ed52906961bdeb2066ea52ffe994759888759602144165cf345fc6377",
            "house size (sq ft), bedrooms, price ($), 47 rows",
        ),
        Dataset(
            "ex2data1", "ex2data1.txt", f"{_LECTURE}/ex2/data/ex2data1.txt",
            "184239c88ad2a4257bb6f2eb88ce8a786bff9b982296b520b4995b635c656421",
            "exam 1 score, exam 2 score, admitted (0/1), 100 rows",
        ),
        Dataset(
            "ex2data2", "ex2data2.txt", f"{_LECTURE}/ex2/data/ex2data2.txt",
            "0d077b391731a9b808e414949b1632371c2c875d92072e8801c0d1f64eeac082",
            "microchip test 1, test 2, accepted (0/1), 118 rows",
        ),
        Dataset(
            "airline_passengers", "airline-passengers.csv",
            "https://raw.githubusercontent.com/jbrownlee/Datasets/d20fcb6402ae34e653d4513b00f39257bb37ed7f/airline-passengers.csv",
            "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
            "monthly international airline passengers (thousands), 1949-01 to 1960-12, 144 months",
        ),
        Dataset(
            "goog_daily", "data-02-stock_daily.csv",
            "https://raw.githubusercontent.com/hunkim/DeepLearningZeroToAll/60c707e02af7bd950401faeadcc6c0e1b39b2978/data-02-stock_daily.csv",
            "a0ebd202da621b20c04253178714ca05147ffd8f712f8adafd38cee78e38a334",
            "daily GOOG open, high, low, volume, close; the file is newest first",
        ),
        Dataset(
            "tiny_shakespeare", "tinyshakespeare.txt",
            "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            "1.1 MB of Shakespeare, plain text, for character-level language models",
        ),
        Dataset(
            "mnist", "mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            "MNIST digits, 60,000 train and 10,000 test images of 28x28 uint8 pixels "
            "(the hash is Keras's file; every copy is also checked by its arrays)",
            arrays_sha256="e5ea4841dd6fde90b155843179ce5756a4864227194eec7fb09d7cfc4cf702a5",
            arrays=("x_train", "y_train", "x_test", "y_test"),
        ),
    ]
}

class DataError(RuntimeError):
    """A data set could not be found, fetched or trusted."""


class DataMissingError(DataError, FileNotFoundError):
    """The file is in no local folder and could not be downloaded."""


class DataHashError(DataError):
    """The file's SHA-256 is not the registry's."""


def sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, as 64 hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dataset(name: str) -> Dataset:
    """The registry entry called ``name``; an unknown name lists the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; known data sets: {', '.join(sorted(REGISTRY))}") from None


def data_dir() -> Path | None:
    """The folder named by ``COURSE_DATA_DIR``, or None."""
    value = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(value).expanduser().resolve() if value else None


def cache_dir() -> Path:
    """The download cache: ``COURSE_CACHE_DIR`` or ``~/.cache/course_lib``."""
    value = os.environ.get("COURSE_CACHE_DIR", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "course_lib"


def arrays_sha256(arrays: Mapping[str, np.ndarray], names: tuple[str, ...]) -> str:
    """The SHA-256 of the arrays ``names`` of ``arrays``, in that order: for each, the line
    ``<name> <dtype> <shape>`` and then its bytes in C order. Two files have the same hash
    exactly when they hold the same arrays, whatever their compression or layout.

    >>> arrays_sha256({"y": np.arange(3, dtype=np.uint8)}, ("y",))[:16]
    'e7126366c3347aab'
    """
    h = hashlib.sha256()
    for name in names:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name} {a.dtype.str} {a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _mismatch(where: str, d: Dataset, expected: str, actual: str, what: str = "SHA-256") -> DataHashError:
    return DataHashError(
        f"{where} does not match the registry for data set {d.name!r}:\n"
        f"  expected {what} {expected}\n  actual   {what} {actual}\n"
        f"The file is corrupt or not the pinned version, and was not used. Delete it and "
        f"download it again from {d.url}, or point COURSE_DATA_DIR at a folder with the right file."
    )


def _read_arrays(path: Path, d: Dataset) -> dict[str, np.ndarray]:
    """The arrays ``d.arrays`` of the ``.npz`` file at ``path``; a clear error when unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in d.arrays}
    except Exception as err:
        raise DataError(f"{path} could not be read as data set {d.name!r} with arrays {', '.join(d.arrays)} "
                        f"({type(err).__name__}: {err}). Delete it and download it again from {d.url}, or "
                        "point COURSE_DATA_DIR at a folder with the right file.") from err


def _check_arrays(arrays: Mapping[str, np.ndarray], d: Dataset, where: str) -> None:
    """Raise :class:`DataHashError` unless ``arrays`` hash to the registry's ``arrays_sha256``."""
    actual = arrays_sha256(arrays, d.arrays)
    if actual != d.arrays_sha256:
        raise _mismatch(where, d, d.arrays_sha256, actual, what=f"SHA-256 of the arrays ({', '.join(d.arrays)})")


def verify(path: str | os.PathLike, name: str) -> Path:
    """``path``, after checking that it is a genuine copy of data set ``name``: its SHA-256 is the
    registry's or, for a data set of arrays, the SHA-256 of its arrays is. Raises
    :class:`DataHashError` (naming the file, both hashes and the upstream URL) otherwise."""
    d, path = dataset(name), Path(path)
    actual = sha256(path)
    if actual == d.sha256:
        return path
    if d.arrays_sha256 is not None:
        _check_arrays(_read_arrays(path, d), d, str(path))
        return path
    raise _mismatch(str(path), d, d.sha256, actual)


def fetch(name: str) -> Path:
    """The local path of data set ``name``'s file, hash-checked; downloads it if needed."""
    d = dataset(name)
    folder = data_dir()
    if folder is not None and (folder / d.filename).is_file():
        return verify(folder / d.filename, name)
    cached = cache_dir() / d.filename
    if cached.is_file():
        return verify(cached, name)
    import pooch

    try:
        path = pooch.retrieve(d.url, known_hash=f"sha256:{d.sha256}", fname=d.filename,
                              path=cache_dir(), progressbar=False)
    except ValueError as err:  # pooch: downloaded bytes with another hash (file removed by pooch)
        raise DataHashError(
            f"the download of {d.filename} from {d.url} does not have the expected SHA-256 "
            f"{d.sha256} ({err}). It was not used. Try again later, or set COURSE_DATA_DIR to a "
            "folder holding a good copy."
        ) from err
    except Exception as err:  # no network, HTTP error, ...
        where = f"COURSE_DATA_DIR={folder}" if folder else "COURSE_DATA_DIR is not set"
        raise DataMissingError(
            f"data set {name!r}: {d.filename} is not in a local folder ({where}; cache {cache_dir()}) "
            f"and could not be downloaded from {d.url} ({type(err).__name__}: {err}). Download it "
            "by hand from there into a folder and set COURSE_DATA_DIR to that folder."
        ) from err
    return Path(path)


def _columns(name: str, ncols: int) -> np.ndarray:
    array = np.loadtxt(fetch(name), delimiter=",", ndmin=2)
    if array.shape[1] != ncols:
        raise DataError(f"{name}: expected {ncols} columns, found {array.shape[1]}")
    return array


def load_food_truck() -> tuple[np.ndarray, np.ndarray]:
    """``ex1data1``: ``x`` city population in 10,000s, ``y`` profit in $10,000s; shapes (97,), (97,)."""
    a = _columns("ex1data1", 2)
    return a[:, 0], a[:, 1]


def load_house_prices() -> tuple[np.ndarray, np.ndarray]:
    """``ex1data2``: ``X`` (47, 2) = [size in sq ft, bedrooms], ``y`` (47,) price in dollars."""
    a = _columns("ex1data2", 3)
    return a[:, :2], a[:, 2]


def load_exam_admissions() -> tuple[np.ndarray, np.ndarray]:
    """``ex2data1``: ``X`` (100, 2) exam scores (0-100), ``y`` (100,) admitted as 0/1 ints."""
    a = _columns("ex2data1", 3)
    return a[:, :2], a[:, 2].astype(int)


def load_microchips() -> tuple[np.ndarray, np.ndarray]:
    """``ex2data2``: ``X`` (118, 2) two test results (centred, about -1 to 1), ``y`` (118,) accepted 0/1."""
    a = _columns("ex2data2", 3)
    return a[:, :2], a[:, 2].astype(int)


def load_airline_passengers() -> pd.Series:
    """Monthly passengers in thousands, a Series of 144 ints on a month-start DatetimeIndex
    (1949-01-01 to 1960-12-01, frequency ``MS``), named ``passengers``."""
    df = pd.read_csv(fetch("airline_passengers"))
    index = pd.DatetimeIndex(pd.to_datetime(df["Month"], format="%Y-%m"), freq="MS", name="month")
    return pd.Series(df["Passengers"].to_numpy(), index=index, name="passengers")


def load_goog_daily() -> pd.DataFrame:
    """GOOG daily prices, oldest first: columns ``open, high, low, volume, close`` (dollars and
    shares) on a RangeIndex of trading days. The file has no dates and lists the newest day
    first; it is reversed here so that row ``t`` comes before row ``t + 1``."""
    df = pd.read_csv(fetch("goog_daily"), comment="#", header=None,
                     names=["open", "high", "low", "volume", "close"])
    return df.iloc[::-1].reset_index(drop=True)


def load_tiny_shakespeare() -> str:
    """Tiny Shakespeare as one string (1,115,394 characters)."""
    return fetch("tiny_shakespeare").read_text(encoding="utf-8")


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: images (n, 28, 28) uint8 in 0-255,
    labels (n,) uint8 in 0-9. From ``COURSE_DATA_DIR/mnist.npz`` when there, else from
    :func:`keras.datasets.mnist.load_data` (which downloads Keras's file and checks its hash).
    Either way the arrays are checked against the registry (:func:`arrays_sha256`)."""
    d = REGISTRY["mnist"]
    folder = data_dir()
    if folder is not None and (folder / d.filename).is_file():
        where = str(folder / d.filename)
        arrays = _read_arrays(folder / d.filename, d)
    else:
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        except Exception as err:
            raise DataMissingError(
                f"MNIST: no {d.filename} in COURSE_DATA_DIR ({folder}) and Keras could not download it from "
                f"{d.url} ({type(err).__name__}: {err}). Download it by hand from there into a folder and set "
                "COURSE_DATA_DIR to that folder."
            ) from err
        where = "MNIST from keras.datasets.mnist.load_data() (its file is ~/.keras/datasets/mnist.npz)"
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    _check_arrays(arrays, d, where)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
