"""The one writer of run directories: every command's files go through :class:`RunDir`.

A run directory is created before any work is done, so a directory that cannot
be written fails in a second with one line, not after training. JSON files are
written atomically (a temporary file in the same directory, then ``os.replace``),
so a reader or a killed process never sees half a ``summary.json``; metrics are
appended one complete JSON line at a time; arrays go to ``.npz`` checkpoints the
same atomic way, so a later resume can read them back.

The JSON encoding rules live here once (:func:`jsonable`): NumPy scalars and
arrays become plain numbers and lists, tuples become lists, mapping keys become
strings, and a non-finite float (NaN, inf) becomes ``null``, never the
non-standard token ``Infinity`` that strict JSON readers refuse.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from specgym.errors import ScenarioError


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types, by the encoding rules above (recursively)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    """Strict JSON text of ``value`` (see :func:`jsonable`); ``allow_nan=False`` guards the rules."""
    return json.dumps(jsonable(value), indent=indent, allow_nan=False)


def _unwritable(where: Path | str, error: OSError) -> ScenarioError:
    return ScenarioError(f"cannot write {str(where)!r}: {error.strerror or error}")


def write_file_atomically(path: Path | str, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and ``os.replace`` (a clear error if impossible)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temporary = None
    try:
        if path.exists() and not path.is_file():  # a directory, a device such as /dev/full, a pipe
            raise ScenarioError(f"cannot write {str(path)!r}: it exists and is not a regular file")
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise _unwritable(path, error) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return path


def check_writable_dir(directory: Path | str) -> Path:
    """Create ``directory`` (and its parents) and prove a file can be written in it, before any work."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise _unwritable(directory, error) from None
    return directory


class MetricsLog:
    """``metrics.jsonl``: one complete JSON line per row, flushed so a killed run keeps every line written."""

    def __init__(self, handle: IO[str]):
        self._handle = handle

    def append(self, row: Mapping) -> None:
        self._handle.write(dumps(row) + "\n")

    def flush(self) -> None:
        self._handle.flush()


class RunDir:
    """A run directory and the files in it; create one with :meth:`create`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @classmethod
    def create(cls, root: Path | str, name: str) -> RunDir:
        """A fresh directory ``root/<name>-<time>`` (``-1``, ``-2``... on a clash); a clear error if it cannot be written."""
        root = Path(root)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = name.replace(":", "_").replace("/", "_")
        try:
            root.mkdir(parents=True, exist_ok=True)
            for n in range(1000):
                path = root / (f"{safe}-{stamp}" + (f"-{n}" if n else ""))
                try:
                    path.mkdir()
                except FileExistsError:
                    continue
                return cls(check_writable_dir(path))
        except OSError as error:
            raise ScenarioError(f"cannot write the run directory under {str(root)!r}: "
                                f"{error.strerror or error}") from None
        raise ScenarioError(f"too many runs named {safe}-{stamp} under {str(root)!r}")

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def __str__(self) -> str:
        return str(self.path)

    def write_json(self, name: str, value: Any, indent: int | None = 2) -> Path:
        """Write ``value`` as ``name`` atomically, by the encoding rules of :func:`jsonable`."""
        return write_file_atomically(self.path / name, dumps(value, indent))

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text())

    def metrics(self, name: str = "metrics.jsonl") -> _MetricsFile:
        """``with run_dir.metrics() as log: log.append(row)`` (the file is started afresh)."""
        return _MetricsFile(self.path / name)

    def save_arrays(self, name: str, arrays: Mapping[str, Any]) -> Path:
        """A ``.npz`` checkpoint of named arrays, written atomically (compressed)."""
        path = self.path / name
        try:
            handle, temporary = tempfile.mkstemp(dir=self.path, prefix=f".{name}.", suffix=".tmp")
            try:
                named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
                with os.fdopen(handle, "wb") as out:
                    np.savez_compressed(out, **named)
                os.replace(temporary, path)
            finally:
                Path(temporary).unlink(missing_ok=True)
        except OSError as error:
            raise _unwritable(path, error) from None
        return path

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        """The arrays of a checkpoint written by :meth:`save_arrays`."""
        with np.load(self.path / name) as data:
            return {k: data[k] for k in data.files}


class _MetricsFile:
    def __init__(self, path: Path):
        self.path = path
        self._handle: IO[str] | None = None

    def __enter__(self) -> MetricsLog:
        try:
            self._handle = self.path.open("w")
        except OSError as error:
            raise _unwritable(self.path, error) from None
        return MetricsLog(self._handle)

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()
