"""Where a sweep's `out` goes: the store (SQLite file or Parquet folder), its lock, and
:func:`load`, which reads either back as the sweep's table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._codec import decode, encode, kind_codes, schema
from ._lock import Lock
from ._parquet import ParquetStore
from ._parquet import read_columns as parquet_columns
from ._runs import Runs
from ._store import SQLiteStore
from ._store import read_columns as sqlite_columns

STORES = ("sqlite", "parquet")


def store_kind(out: str, store: str | None) -> str:
    """``parquet`` for a folder or a name ending in .parquet, else ``sqlite`` (or as given)."""
    if store is not None:
        if store not in STORES:
            raise ValueError(f"store: expected 'sqlite' or 'parquet', got {store!r}")
        return store
    return "parquet" if out.endswith(".parquet") or os.path.isdir(out) else "sqlite"


def _check_out(out: Any) -> str:
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out: expected a path, got {type(out).__name__}")
    path = os.fspath(out)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"out: the folder of {path!r} does not exist ({folder}); create it first")
    return path


class Session:
    """An open store with its lock: resume from it, write chunks to it as they finish."""

    def __init__(self, store: Any, lock: Lock, runs: Runs, dim: int, names: Any) -> None:
        self.store, self.lock, self.runs, self.dim, self.names = store, lock, runs, dim, names

    def read_results(self) -> Iterator[dict[str, Any]]:
        """The saved results, as the chunks _compute_chunk returns."""
        names = [n for n, _ in self.store.columns if n not in self.runs.keys]
        for run, stored in self.store.read(names):
            cols: dict[str, Any] = {"run": run}
            for name, (values, null) in stored.items():
                if name == "kind":
                    cols[name] = kind_codes(values)
                elif name == "threshold_step":
                    cols[name] = (
                        np.where(null, -1, values).astype(np.int64)
                        if null is not None
                        else np.asarray(values, dtype=np.int64)
                    )
                elif name == "diverged":
                    cols[name] = np.asarray(values).astype(bool)
                else:
                    cols[name] = np.asarray(values, dtype=np.float64)
            x = [cols.pop(f"x_final_{k}") for k in range(self.dim)]
            cols["x_final"] = np.stack(x, axis=1) if x else np.empty((len(run), 0))
            yield cols

    def write(self, cols: dict[str, Any]) -> None:
        chunk_runs = self.runs.take(cols["run"])
        self.store.write(cols["run"], encode(cols, chunk_runs, self.store.columns, self.names))

    def clear(self) -> None:
        self.store.clear()

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            self.lock.release()


def open_store(
    out: Any,
    fingerprint: str,
    runs: Runs,
    dim: int,
    names: Any,
    *,
    overwrite: bool,
    store: str | None = None,
) -> Session:
    """The store at `out`, locked for this process (OutInUseError if another sweep runs on
    it; ValueError naming `out` for a missing folder or a file of another sweep)."""
    path = _check_out(out)
    kind = store_kind(path, store)
    if kind == "parquet" and os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"out: {path!r} is a file; a Parquet store is a folder")
    if kind == "sqlite" and os.path.isdir(path):
        raise ValueError(f"out: {path!r} is a folder; an SQLite store is a file")
    if kind == "parquet":
        os.makedirs(path, exist_ok=True)
    lock = Lock(os.path.join(path, ".lock") if kind == "parquet" else path + ".lock", path)
    lock.acquire()
    try:
        cls = ParquetStore if kind == "parquet" else SQLiteStore
        opened = cls(path, fingerprint, schema(runs, dim), dim, overwrite=overwrite)
    except BaseException:
        lock.release()
        raise
    return Session(opened, lock, runs, dim, names)


def load(out: Any) -> Any:
    """A sweep's results saved in `out` (an SQLite file or a Parquet folder) as one DataFrame,
    the table :func:`saddlepoint.sweep` returned (index ``run``; runs not finished yet are
    missing). It reads without taking the lock, so a running sweep's file can be looked at."""
    import pandas as pd

    path = os.fspath(out)
    if not os.path.exists(path):
        raise ValueError(f"out: {path!r} does not exist")
    if os.path.isdir(path):
        columns, _ = parquet_columns(path)
        store: Any = ParquetStore.reader(path, columns)
    else:
        columns, _ = sqlite_columns(path)
        store = SQLiteStore.reader(path, columns)
    try:
        runs_parts, parts = [], []
        for run, stored in store.read([n for n, _ in columns]):
            runs_parts.append(run)
            parts.append(stored)
    finally:
        store.close()
    run = np.concatenate(runs_parts) if runs_parts else np.empty(0, dtype=np.int64)
    order = np.argsort(run, kind="stable")
    index = pd.Index(run[order], name="run")
    data = {}
    for name, kind in columns:
        values = np.concatenate([p[name][0] for p in parts]) if parts else np.empty(0)
        nulls = [p[name][1] for p in parts]
        null = None
        if any(n is not None for n in nulls):
            null = np.concatenate(
                [np.zeros(len(p[name][0]), bool) if n is None else n for p, n in zip(parts, nulls)]
            )[order]
        data[name] = decode(pd, kind, values[order], null, index)
    return pd.DataFrame(data, index=index, copy=False)
