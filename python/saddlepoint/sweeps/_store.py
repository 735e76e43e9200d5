"""Sweep results in SQLite (standard library): a real column per grid key and result field,
one transaction per finished chunk.

A chunk's rows go in with one ``executemany`` inside one transaction, which SQLite's journal
makes atomic under Ctrl-C, ``kill -9`` or a power cut (a half-written chunk is rolled back on
the next open); the primary key on ``run`` makes a duplicate row impossible. Any SQLite tool
can query the file: ``SELECT lr, final_loss FROM results WHERE final_loss < 1e-3``. NaN is
stored as NULL (SQL's "no value": comparisons leave it out, as IEEE comparisons do) and read
back as NaN; infinities are stored as such.

A ``meta`` table holds the format, the sweep's fingerprint (surface, grid, optimizer, steps,
dtype, ...) and the columns' kinds (see _codec): results are only ever resumed into the sweep
that produced them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._codec import Stored

FORMAT = "2"
_SQL_TYPE = {"float": "REAL", "int": "INTEGER", "bool": "INTEGER", "step": "INTEGER"}
_OLD_FORMAT = (
    "holds sweep results in the old format (one JSON text per run, before columns); pass "
    "overwrite=True to compute them again in the new format, or read the old rows with "
    "sqlite3 (SELECT run, row FROM results)"
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _meta(conn: sqlite3.Connection) -> dict[str, str] | None:
    """The meta table of a results file (None for a new, empty file); ValueError for an old or
    foreign one."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "meta" not in tables or "results" not in tables:
        raise ValueError("is not a sweep results file (no meta and results tables)")
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format") != FORMAT:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(results)")]
        if cols == ["run", "row"]:
            raise ValueError(_OLD_FORMAT)
        raise ValueError(f"is a sweep results file of format {meta.get('format')!r}")
    return meta


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)  # explicit transactions
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"out: {path!r} is not a sweep results file ({exc})") from None
    return conn


class SQLiteStore:
    """An open results file: ``write`` a chunk atomically, ``read_results`` what is saved."""

    def __init__(
        self,
        path: str,
        fingerprint: str,
        columns: list[tuple[str, str]],
        dim: int,
        *,
        overwrite: bool,
    ) -> None:
        self.path, self.columns = path, columns
        self._conn = connect(path)
        try:
            meta = _meta(self._conn)
        except ValueError as exc:
            if not (overwrite and str(exc) == _OLD_FORMAT):
                self._conn.close()
                raise ValueError(f"out: {path!r} {exc}") from None
            meta = {"fingerprint": ""}
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ValueError(f"out: {path!r} is not a sweep results file ({exc})") from None
        if meta is not None and meta.get("fingerprint") == fingerprint:
            return
        if meta is not None and not overwrite:
            self._conn.close()
            raise ValueError(
                f"out: {path!r} holds results of a different sweep (surface, grid, "
                "optimizer, steps or dtype changed); pass overwrite=True to discard them and "
                "start over, or choose another out file"
            )
        defs = ", ".join(f"{_q(n)} {_SQL_TYPE.get(k, 'TEXT')}" for n, k in columns)
        with self._transaction():
            self._conn.execute("DROP TABLE IF EXISTS results")
            self._conn.execute("DROP TABLE IF EXISTS meta")
            self._conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._conn.execute(f"CREATE TABLE results (run INTEGER PRIMARY KEY, {defs})")
            self._conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("format", FORMAT),
                    ("fingerprint", fingerprint),
                    ("columns", json.dumps(columns)),
                    ("dim", str(dim)),
                ],
            )

    @classmethod
    def reader(cls, path: str, columns: list[tuple[str, str]]) -> SQLiteStore:
        """The file opened for reading its rows (no checks, no writes: see read_columns)."""
        store = cls.__new__(cls)
        store.path, store.columns, store._conn = path, columns, connect(path)
        return store

    def _transaction(self) -> Any:
        conn = self._conn

        class _Tx:
            def __enter__(self) -> None:
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type: Any, *_: Any) -> None:
                conn.execute("COMMIT" if exc_type is None else "ROLLBACK")

        return _Tx()

    def clear(self) -> None:
        with self._transaction():
            self._conn.execute("DELETE FROM results")

    def write(self, run: np.ndarray, stored: dict[str, Stored]) -> None:
        """One chunk's rows, all or nothing."""
        lists = [np.asarray(run).tolist()]
        for name, _ in self.columns:
            values, null = stored[name]
            if values.dtype.kind == "f":
                null = np.isnan(values) if null is None else null | np.isnan(values)
            if values.dtype.kind == "b":
                values = values.astype(np.int64)
            if null is not None and null.any():
                obj = values.astype(object)
                obj[null] = None
                lists.append(obj.tolist())
            else:
                lists.append(values.tolist())
        marks = ", ".join("?" * (len(self.columns) + 1))
        with self._transaction():
            self._conn.executemany(f"INSERT INTO results VALUES ({marks})", zip(*lists))

    def read(self, names: list[str]) -> Iterator[tuple[np.ndarray, dict[str, Stored]]]:
        """The saved runs and their columns `names`, in blocks of rows."""
        cur = self._conn.execute(
            f"SELECT run, {', '.join(_q(n) for n in names)} FROM results ORDER BY run"
        )
        while True:
            rows = cur.fetchmany(1 << 16)
            if not rows:
                return
            cols = list(zip(*rows))
            out: dict[str, Stored] = {}
            for name, values in zip(names, cols[1:]):
                arr = np.array(values, dtype=object)
                null = arr == None  # noqa: E711
                out[name] = (arr, null)
            yield np.array(cols[0], dtype=np.int64), out

    def close(self) -> None:
        self._conn.close()


def read_columns(path: str) -> tuple[list[tuple[str, str]], int]:
    """The columns (and dimension) of an existing results file, for load()."""
    conn = connect(path)
    try:
        meta = _meta(conn)
    except ValueError as exc:
        raise ValueError(f"out: {path!r} {exc}") from None
    finally:
        conn.close()
    if meta is None:
        raise ValueError(f"out: {path!r} holds no sweep results")
    return [tuple(c) for c in json.loads(meta["columns"])], int(meta["dim"])  # type: ignore[misc]


def exists(path: str) -> bool:
    return os.path.isfile(path) and os.path.getsize(path) > 0
