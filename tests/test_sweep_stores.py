"""The stores of sweep(out=...): SQLite with a real column per field (queried here with the
sqlite3 module), Parquet with a file per chunk (a kill -9 loses at most the chunk in flight),
load(out), one process per out, and clear errors for a bad out."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from _sweep_script import CHUNK, GRID, SCRIPT, STEPS  # noqa: E402
from _sweep_surfaces import Rosen  # noqa: E402
from saddlepoint import sweep  # noqa: E402
from saddlepoint.sweeps import OutInUseError, load  # noqa: E402
from saddlepoint.sweeps import _sweep as sweep_mod  # noqa: E402


@pytest.mark.parametrize("name", ["r.sqlite", "r.parquet"])
def test_load_gives_the_table_sweep_returned(tmp_path, name):
    out = tmp_path / name
    grid = {"optimizer": ["sgd", "adam"], "lr": [1e-4, 1e-2, 10.0], "amsgrad": [False, True]}
    df = sweep(Rosen(), grid, steps=200, out=out, progress=False, chunk_size=2)
    assert not np.isfinite(df["final_loss"]).all()  # NaN/Inf rows go through the store too
    pd.testing.assert_frame_equal(load(out), df, check_exact=True, check_index_type=False)
    pd.testing.assert_frame_equal(load(str(out)), df, check_exact=True, check_index_type=False)


def test_sqlite_store_is_plain_sql(tmp_path):
    out = tmp_path / "r.sqlite"
    df = sweep(
        Rosen(),
        {"lr": np.logspace(-3, -1, 12).tolist(), "beta1": [0.8, 0.9]},
        steps=1500,
        threshold=1e-2,
        out=out,
        progress=False,
    )
    with sqlite3.connect(out) as conn:
        rows = conn.execute(
            "SELECT run, lr, beta1, final_loss, threshold_step, kind FROM results "
            "WHERE final_loss < 1e-3 ORDER BY run"
        ).fetchall()
        types = dict(conn.execute("SELECT name, type FROM pragma_table_info('results')"))
    good = df[df["final_loss"] < 1e-3]
    assert 0 < len(rows) < len(df)
    assert [r[0] for r in rows] == good.index.tolist()
    assert [(r[1], r[2], r[3]) for r in rows] == list(
        zip(good["lr"], good["beta1"], good["final_loss"])
    )
    assert [r[4] for r in rows] == good["threshold_step"].tolist()
    assert [r[5] for r in rows] == good["kind"].tolist()
    assert types["lr"] == types["final_loss"] == "REAL" and types["kind"] == "TEXT"


@pytest.mark.parametrize("name", ["r.sqlite", "r.parquet"])
def test_resume_computes_only_the_missing_runs(tmp_path, name, monkeypatch):
    out = tmp_path / name
    full = sweep(Rosen(), GRID, steps=300, progress=False)
    calls = []
    real = sweep_mod._compute_chunk

    def failing(plan, rows):
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C after three chunks
        calls.append(len(rows))
        return real(plan, rows)

    monkeypatch.setattr(sweep_mod, "_compute_chunk", failing)
    with pytest.raises(KeyboardInterrupt):
        sweep(Rosen(), GRID, steps=300, out=out, chunk_size=5, progress=False)
    assert len(load(out)) == 15
    calls.clear()
    monkeypatch.setattr(
        sweep_mod, "_compute_chunk", lambda p, r: calls.append(len(r)) or real(p, r)
    )
    resumed = sweep(Rosen(), GRID, steps=300, out=out, chunk_size=7, progress=False)
    assert sum(calls) == len(full) - 15
    pd.testing.assert_frame_equal(resumed, full, check_exact=True)


def _part_files(folder):
    return sorted(p.name for p in Path(folder).glob("part-*.parquet")) if folder.exists() else []


def test_parquet_kill_9_loses_at_most_the_chunk_in_flight(tmp_path):
    out = tmp_path / "sweep.parquet"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), str(STEPS)])
    try:
        deadline = time.monotonic() + 60
        while len(_part_files(out)) < 1 and time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the sweep process ended early with status {proc.returncode}")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    total = len(GRID["lr"]) * len(GRID["beta1"])
    saved = load(out)
    assert 0 < len(saved) < total and len(saved) % CHUNK == 0  # whole chunks only
    calls = []
    real = sweep_mod._compute_chunk
    sweep_mod._compute_chunk = lambda p, r: calls.append(len(r)) or real(p, r)
    try:  # the killed process left its lock: stale (its pid is gone), taken over
        resumed = sweep(Rosen(), GRID, steps=STEPS, out=out, chunk_size=CHUNK, progress=False)
    finally:
        sweep_mod._compute_chunk = real
    assert sum(calls) == total - len(saved)
    uninterrupted = sweep(Rosen(), GRID, steps=STEPS, chunk_size=64, progress=False)
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)
    pd.testing.assert_frame_equal(
        load(out), uninterrupted, check_exact=True, check_index_type=False
    )
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


@pytest.mark.parametrize("name", ["busy.sqlite", "busy.parquet"])
def test_a_second_process_on_the_same_out_is_refused(tmp_path, name):
    out = tmp_path / name
    lock = out / ".lock" if name.endswith(".parquet") else Path(f"{out}.lock")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), "200000"])
    try:
        deadline = time.monotonic() + 60
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        holder = json.loads(lock.read_text())
        assert holder["pid"] == proc.pid
        with pytest.raises(OutInUseError) as err:
            sweep(Rosen(), GRID, steps=200000, out=out, chunk_size=CHUNK, progress=False)
        msg = str(err.value)
        assert "\n" not in msg and f"pid {proc.pid} on {holder['host']}" in msg
        assert repr(str(out)) in msg
        assert isinstance(err.value, OSError)  # the CLI's one-line errors catch it
    finally:
        proc.kill()
        proc.wait()


def test_a_stale_lock_is_taken_over(tmp_path):
    out = tmp_path / "r.sqlite"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    import socket

    Path(f"{out}.lock").write_text(
        json.dumps(
            {"pid": int(gone.stdout), "host": socket.gethostname(), "time": time.time() - 5}
        )
    )
    df = sweep(Rosen(), {"lr": [0.01]}, steps=5, out=out, progress=False)
    assert len(df) == 1 and not Path(f"{out}.lock").exists()


def test_bad_out_is_named(tmp_path):
    missing = tmp_path / "no" / "such" / "r.sqlite"
    with pytest.raises(ValueError, match=r"out: the folder of .*r\.sqlite' does not exist"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=missing, progress=False)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(ValueError, match="out: the folder of"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=afile / "r.sqlite", progress=False)
    with pytest.raises(ValueError, match="a Parquet store is a folder"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=afile, store="parquet", progress=False)
    with pytest.raises(ValueError, match="store: expected 'sqlite' or 'parquet'"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=tmp_path / "x", store="csv", progress=False)
    with pytest.raises(TypeError, match="out: expected a path"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=3, progress=False)
    assert not list(tmp_path.glob("*.lock"))


def test_unwritable_folder_is_named(tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open

    def denied(path, *a, **k):
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(ValueError, match=r"out: cannot write in .* \(Permission denied\)"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=tmp_path / "r.sqlite", progress=False)


def test_old_format_files_are_refused_with_what_to_do(tmp_path):
    out = tmp_path / "old.sqlite"
    with sqlite3.connect(out) as conn:
        conn.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE results (run INTEGER PRIMARY KEY, row TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('fingerprint', 'abc');"
            "INSERT INTO results VALUES (0, '{\"final_loss\": 1.0}');"
        )
    for call in (
        lambda: sweep(Rosen(), {"lr": [0.01]}, steps=5, out=out, progress=False),
        lambda: load(out),
    ):
        with pytest.raises(
            ValueError,
            match=r"out: .*old\.sqlite' holds sweep results in the "
            r"old format .*overwrite=True",
        ):
            call()
    df = sweep(Rosen(), {"lr": [0.01]}, steps=5, out=out, overwrite=True, progress=False)
    pd.testing.assert_frame_equal(load(out), df, check_exact=True, check_index_type=False)


def test_a_different_sweep_is_refused_in_a_parquet_folder(tmp_path):
    out = tmp_path / "r.parquet"
    sweep(Rosen(), {"lr": [0.01, 0.1]}, steps=50, out=out, progress=False)
    before = sorted(os.listdir(out))
    with pytest.raises(ValueError, match=r"holds results of a different sweep.*overwrite=True"):
        sweep(Rosen(), {"lr": [0.01, 0.2]}, steps=50, out=out, progress=False)
    assert sorted(os.listdir(out)) == before
    redone = sweep(Rosen(), {"lr": [0.2]}, steps=50, out=out, overwrite=True, progress=False)
    pd.testing.assert_frame_equal(load(out), redone, check_exact=True, check_index_type=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="is a folder but not a sweep results folder"):
        sweep(Rosen(), {"lr": [0.2]}, steps=5, out=tmp_path / "other", progress=False)
