"""Messages between the judge and the sandboxed worker: plain numeric data, nothing executable.

A message is one frame on a pipe::

    b"GRD1" | header length (4 bytes, big-endian) | arrays length (4 bytes) | header | arrays

The header is JSON. The arrays are one ``.npz`` archive, read back with ``allow_pickle=False``
and only numeric dtypes (bool, int, uint, float, complex) accepted, so reading a message never
runs code and never builds an object of a class the sender chose.

A *value* inside a header is one of::

    null, true/false, a number, a string       itself
    {"a": "a0"}                               the array "a0" of the .npz
    {"l": [...]} / {"t": [...]}               a list / a tuple of values
    {"d": {"key": value, ...}}                a dict with string keys
    {"h": 7}                                  a handle: an object that stays in the worker

Both sides import this module: the judge (``course_tools.grading``) and the worker, which runs
it from a read-only copy inside the sandbox.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

MAGIC = b"GRD1"
#: The largest header and the largest .npz one frame may carry (bytes).
MAX_HEADER = 16 * 1024 * 1024
MAX_ARRAYS = 256 * 1024 * 1024
#: The most arrays in one frame and the deepest nesting of a value.
MAX_ARRAY_COUNT = 10_000
MAX_DEPTH = 32
NUMERIC_KINDS = "biufc"


class ProtocolError(RuntimeError):
    """A frame that is malformed, too large, or holds something that is not plain data."""


class Handle:
    """A reference to an object that stays in the worker (a function, a Keras model...)."""

    def __init__(self, hid: int):
        self.hid = int(hid)


# ------------------------------------------------------------------------------------- frames


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_frame(fd: int, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    """Send ``header`` (JSON-able) and ``arrays`` (name -> numeric array) as one frame."""
    head = json.dumps(header, allow_nan=True).encode()
    buf = io.BytesIO()
    if arrays:
        np.savez(buf, **arrays)
    body = buf.getvalue()
    if len(head) > MAX_HEADER or len(body) > MAX_ARRAYS:
        raise ProtocolError(f"message too large ({len(head)} + {len(body)} bytes; "
                            f"limits {MAX_HEADER} + {MAX_ARRAYS})")
    _write_all(fd, MAGIC + len(head).to_bytes(4, "big") + len(body).to_bytes(4, "big") + head + body)


def read_frame(fd: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Read one frame: (header dict, arrays). Raises ProtocolError on anything malformed, EOFError
    when the channel is closed."""
    prefix = _read_exactly(fd, 12)
    if prefix[:4] != MAGIC:
        raise ProtocolError("not a frame (bad magic bytes)")
    n_head, n_body = int.from_bytes(prefix[4:8], "big"), int.from_bytes(prefix[8:12], "big")
    if n_head > MAX_HEADER or n_body > MAX_ARRAYS:
        raise ProtocolError(f"frame too large ({n_head} + {n_body} bytes)")
    head, body = _read_exactly(fd, n_head), _read_exactly(fd, n_body)
    try:
        header = json.loads(head)
    except (UnicodeDecodeError, ValueError) as e:
        raise ProtocolError(f"header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    return header, _load_arrays(body)


def _load_arrays(body: bytes) -> dict[str, np.ndarray]:
    if not body:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ARRAY_COUNT or sum(i.file_size for i in infos) > MAX_ARRAYS:
                raise ProtocolError("too many or too large arrays")
        with np.load(io.BytesIO(body), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except ProtocolError:
        raise
    except Exception as e:  # zipfile, numpy and ValueError for object arrays
        raise ProtocolError(f"arrays are not a plain .npz: {type(e).__name__}: {e}") from None
    for name, arr in arrays.items():
        if arr.dtype.kind not in NUMERIC_KINDS or arr.dtype.fields is not None:
            raise ProtocolError(f"array {name!r} has dtype {arr.dtype}, not a plain number type")
    return arrays


# ------------------------------------------------------------------------------------- values


def encode(value: Any, arrays: dict[str, np.ndarray], to_handle: Callable[[Any], int] | None = None,
           depth: int = 0) -> Any:
    """``value`` as a JSON-able tree, its arrays added to ``arrays``.

    Numbers, strings, None, numeric arrays (and anything ``np.asarray`` turns into one: NumPy
    scalars, tensors), lists, tuples and string-keyed dicts of those are plain data. Anything else
    becomes a handle through ``to_handle`` (the worker's side), or raises TypeError.
    """
    if depth > MAX_DEPTH:
        raise TypeError("value nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        key = "l" if type(value) is list else "t"
        return {key: [encode(v, arrays, to_handle, depth + 1) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"d": {k: encode(v, arrays, to_handle, depth + 1) for k, v in value.items()}}
    if isinstance(value, Handle):
        return {"h": value.hid}
    if isinstance(value, (int, float, np.ndarray, np.generic)) or hasattr(value, "__array__"):
        try:
            arr = np.array(value, copy=True)
        except Exception:
            arr = None
        if arr is not None and arr.dtype.kind in NUMERIC_KINDS and arr.dtype.fields is None:
            if len(arrays) >= MAX_ARRAY_COUNT:
                raise TypeError("too many arrays in one value")
            name = f"a{len(arrays)}"
            arrays[name] = arr
            return {"a": name}
    if to_handle is None:
        raise TypeError(f"cannot send an object of type {type(value).__name__}: not plain numeric data")
    return {"h": to_handle(value)}


def decode(node: Any, arrays: dict[str, np.ndarray], from_handle: Callable[[int], Any] | None = None,
           depth: int = 0) -> Any:
    """The value a tree from :func:`encode` stands for. Raises ProtocolError for anything else."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not dict or len(node) != 1:
        raise ProtocolError(f"not a value: {type(node).__name__}")
    (kind, inner), = node.items()
    if kind == "a" and type(inner) is str and inner in arrays:
        arr = arrays[inner]
        return arr[()] if arr.ndim == 0 else arr.copy()  # a 0-d array stands for a NumPy scalar
    if kind in ("l", "t") and type(inner) is list:
        items = [decode(v, arrays, from_handle, depth + 1) for v in inner]
        return items if kind == "l" else tuple(items)
    if kind == "d" and type(inner) is dict:
        return {str(k): decode(v, arrays, from_handle, depth + 1) for k, v in inner.items()}
    if kind == "h" and type(inner) is int and from_handle is not None:
        return from_handle(inner)
    raise ProtocolError(f"not a value: {kind!r}")


def same_value(a: Any, b: Any) -> bool:
    """Whether two decoded values are equal (arrays elementwise, NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    return a == b
