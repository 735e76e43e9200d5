"""Persistence of sweep results in SQLite (standard library), one transaction per chunk.

Why SQLite rather than Parquet: a chunk's rows go in with one transaction, which SQLite's
journal makes atomic under Ctrl-C, ``kill -9`` or a power cut (a half-written chunk is rolled
back on the next open); the primary key on ``run`` makes a duplicate row impossible; and it
needs nothing outside the standard library. Each row is stored as JSON text, whose float
``repr`` round-trips exactly (NaN and Inf included, which SQLite's REAL would turn into NULL),
so a resumed table equals an uninterrupted one bit for bit.

A ``meta`` table holds the sweep's fingerprint (surface, grid, optimizer, steps, dtype, ...):
results are only ever resumed into the sweep that produced them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (run INTEGER PRIMARY KEY, row TEXT NOT NULL);
"""


class SweepStore:
    """An open results file: ``write(columns)`` one chunk atomically, ``columns()``."""

    def __init__(self, path: str | os.PathLike[str], fingerprint: str, *, overwrite: bool) -> None:
        self.path = os.fspath(path)
        self._conn = sqlite3.connect(self.path, isolation_level=None)  # explicit transactions
        try:
            self._conn.execute("PRAGMA journal_mode=DELETE")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ValueError(f"out: {self.path!r} is not a sweep results file ({exc})") from None
        found = self._conn.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        if found is not None and found[0] != fingerprint and not overwrite:
            self._conn.close()
            raise ValueError(
                f"out: {self.path!r} holds results of a different sweep (surface, grid, "
                "optimizer, steps or dtype changed); pass overwrite=True to discard them and "
                "start over, or choose another out file"
            )
        with self._transaction():
            if found is None or found[0] != fingerprint:
                self._conn.execute("DELETE FROM results")
            self._conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('fingerprint', ?)",
                (fingerprint,),
            )

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

    def write(self, cols: dict[str, Any]) -> None:
        """One chunk's results (columns, as sweep computes them), all or nothing."""
        names = [c for c in cols if c != "run"]
        values = {c: cols[c].tolist() for c in names}
        payload = [
            (int(run), json.dumps({c: values[c][j] for c in names}, allow_nan=True))
            for j, run in enumerate(cols["run"].tolist())
        ]
        with self._transaction():
            self._conn.executemany("INSERT INTO results (run, row) VALUES (?, ?)", payload)

    def columns(self, dim: int) -> dict[str, Any] | None:
        """Every saved result as columns like those written, or None if there are none."""
        import numpy as np

        found = self._conn.execute("SELECT run, row FROM results ORDER BY run").fetchall()
        if not found:
            return None
        rows = [json.loads(r) for _, r in found]
        cols: dict[str, Any] = {"run": np.array([r for r, _ in found], dtype=np.int64)}
        for name in rows[0]:
            cols[name] = [row[name] for row in rows]
        for name in ("final_loss", "best_loss", "grad_norm"):
            cols[name] = np.array(cols[name], dtype=np.float64)
        cols["threshold_step"] = np.array(cols["threshold_step"], dtype=np.int64)
        cols["diverged"] = np.array(cols["diverged"], dtype=bool)
        cols["kind"] = np.array(cols["kind"], dtype=object)
        cols["x_final"] = np.array(cols["x_final"], dtype=np.float64).reshape(-1, dim)
        return cols

    def close(self) -> None:
        self._conn.close()
