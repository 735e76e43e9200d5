"""Sweep results as a Parquet dataset (pyarrow): a folder with one file per finished chunk.

Each chunk is written to a temporary name in the folder and renamed (``os.replace``, atomic on
one filesystem), so a ``kill -9`` at any moment leaves only whole chunk files: at most the
chunk in flight is lost. ``_sweep.json`` holds the format, the fingerprint and the columns'
kinds (see _codec). Any Parquet reader (pyarrow, pandas, DuckDB, polars, Spark) reads the
folder as one table; floats keep their exact bits, NaN included.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._codec import Stored

FORMAT = 2
META = "_sweep.json"


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover
        raise ImportError(
            'a Parquet store needs pyarrow: pip install "saddlepoint[parquet]"'
        ) from None
    return pa, pq


def _parts(folder: str) -> list[str]:
    return sorted(
        os.path.join(folder, f)
        for f in os.listdir(folder)
        if f.startswith("part-") and f.endswith(".parquet")
    )


def read_meta(folder: str) -> dict[str, Any] | None:
    path = os.path.join(folder, META)
    if not os.path.exists(path):
        if any(not f.startswith(".") for f in os.listdir(folder)):
            raise ValueError(f"out: {folder!r} is a folder but not a sweep results folder")
        return None
    with open(path) as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT:
        raise ValueError(f"out: {folder!r} holds sweep results of format {meta.get('format')!r}")
    return dict(meta)


def _replace_atomically(path: str, write: Any) -> None:
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


class ParquetStore:
    def __init__(
        self,
        folder: str,
        fingerprint: str,
        columns: list[tuple[str, str]],
        dim: int,
        *,
        overwrite: bool,
    ) -> None:
        self.pa, self.pq = _pyarrow()
        self.folder, self.columns = folder, columns
        os.makedirs(folder, exist_ok=True)
        meta = read_meta(folder)
        for f in os.listdir(folder):  # a killed writer's temporary file: never a result
            if f.endswith(".tmp") and f.startswith(".part-"):
                os.unlink(os.path.join(folder, f))
        if meta is not None and meta["fingerprint"] == fingerprint:
            return
        if meta is not None and not overwrite:
            raise ValueError(
                f"out: {folder!r} holds results of a different sweep (surface, grid, "
                "optimizer, steps or dtype changed); pass overwrite=True to discard them and "
                "start over, or choose another out folder"
            )
        self.clear()
        doc = {"format": FORMAT, "fingerprint": fingerprint, "columns": columns, "dim": dim}

        def write(tmp: str) -> None:
            with open(tmp, "w") as f:
                json.dump(doc, f)
                f.flush()
                os.fsync(f.fileno())

        _replace_atomically(os.path.join(folder, META), write)

    @classmethod
    def reader(cls, folder: str, columns: list[tuple[str, str]]) -> ParquetStore:
        """The folder opened for reading its chunk files (no checks, no writes)."""
        store = cls.__new__(cls)
        store.pa, store.pq = _pyarrow()
        store.folder, store.columns = folder, columns
        return store

    def clear(self) -> None:
        for path in _parts(self.folder):
            os.unlink(path)

    def write(self, run: np.ndarray, stored: dict[str, Stored]) -> None:
        pa = self.pa
        arrays = [pa.array(np.asarray(run, dtype=np.int64))]
        for name, _ in self.columns:
            values, null = stored[name]
            arrays.append(pa.array(values, mask=null, from_pandas=False))
        table = pa.Table.from_arrays(arrays, names=["run", *(n for n, _ in self.columns)])
        path = os.path.join(self.folder, f"part-{int(np.min(run)):012d}.parquet")

        def write(tmp: str) -> None:
            self.pq.write_table(table, tmp)
            with open(tmp, "rb+") as f:  # on disk before the rename makes it count
                os.fsync(f.fileno())

        _replace_atomically(path, write)

    def read(self, names: list[str]) -> Iterator[tuple[np.ndarray, dict[str, Stored]]]:
        for path in _parts(self.folder):
            table = self.pq.read_table(path, columns=["run", *names])
            out: dict[str, Stored] = {}
            for name in names:
                col = table.column(name)
                null = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else None
                if col.null_count and not self.pa.types.is_string(col.type):
                    col = col.fill_null(self.pa.scalar(0).cast(col.type))
                out[name] = (col.to_numpy(zero_copy_only=False), null)
            yield table.column("run").to_numpy(), out

    def close(self) -> None:
        pass


def read_columns(folder: str) -> tuple[list[tuple[str, str]], int]:
    meta = read_meta(folder)
    if meta is None:
        raise ValueError(f"out: {folder!r} holds no sweep results")
    return [tuple(c) for c in meta["columns"]], int(meta["dim"])  # type: ignore[misc]
