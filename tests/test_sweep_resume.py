"""Persistence: a sweep killed with SIGKILL mid-way and started again computes only the
missing runs and ends with the uninterrupted table, without duplicates; a different sweep
against the same file is refused."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from _sweep_script import CHUNK, GRID, HERE, SCRIPT, STEPS  # noqa: E402
from _sweep_surfaces import Rosen  # noqa: E402
from saddlepoint import sweep  # noqa: E402


def _rows_in(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_then_resume_gives_the_uninterrupted_table(tmp_path):
    out = tmp_path / "sweep.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)])
    try:
        deadline = time.monotonic() + 60
        while _rows_in(out) < 2 * CHUNK and time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the sweep process ended early with status {proc.returncode}")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = _rows_in(out)
    total = len(GRID["lr"]) * len(GRID["beta1"])
    assert 0 < done_before < total, "the kill should land mid-sweep"
    assert done_before % CHUNK == 0, "chunks are written all or nothing"

    calls = []
    from saddlepoint.sweeps import _sweep as sweep_mod

    real = sweep_mod._compute_chunk

    def counting(plan, ids):
        calls.append(list(ids))
        return real(plan, ids)

    sweep_mod._compute_chunk = counting
    try:
        resumed = sweep(Rosen(), GRID, steps=STEPS, out=str(out), chunk_size=CHUNK, progress=False)
    finally:
        sweep_mod._compute_chunk = real
    recomputed = sum(len(c) for c in calls)
    assert recomputed == total - done_before, "only the missing runs are computed"

    with sqlite3.connect(out) as conn:
        runs = [r for (r,) in conn.execute("SELECT run FROM results")]
    assert sorted(runs) == list(range(total))  # no duplicates, nothing lost
    uninterrupted = sweep(Rosen(), GRID, steps=STEPS, chunk_size=64, progress=False)
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)
    # and reading the finished file again computes nothing
    again = sweep(Rosen(), GRID, steps=STEPS, out=str(out), chunk_size=CHUNK, progress=False)
    pd.testing.assert_frame_equal(again, uninterrupted, check_exact=True)


def test_a_different_sweep_is_refused_unless_overwrite(tmp_path):
    out = str(tmp_path / "s.sqlite")
    first = sweep(Rosen(), {"lr": [0.01, 0.1]}, steps=50, out=out, progress=False)
    before = Path(out).read_bytes()
    for change in (
        dict(grid={"lr": [0.01, 0.2]}, steps=50),
        dict(grid={"lr": [0.01, 0.1]}, steps=51),
        dict(grid={"lr": [0.01, 0.1]}, steps=50, dtype=np.float32),
        dict(grid={"lr": [0.01, 0.1]}, steps=50, optimizer="adamw"),
    ):
        grid = change.pop("grid")
        with pytest.raises(
            ValueError, match=r"holds results of a different sweep.*overwrite=True"
        ):
            sweep(Rosen(), grid, out=out, progress=False, **change)
    assert Path(out).read_bytes() == before
    redone = sweep(Rosen(), {"lr": [0.01, 0.2]}, steps=50, out=out, overwrite=True, progress=False)
    assert redone["lr"].tolist() == [0.01, 0.2]
    assert redone.loc[0, "final_loss"] == first.loc[0, "final_loss"]


def test_resume_false_recomputes_and_nan_survives_the_file(tmp_path):
    out = str(tmp_path / "s.sqlite")
    grid = {"lr": [0.01, 10.0]}  # the second run diverges to NaN/Inf
    a = sweep(Rosen(), grid, steps=200, optimizer="sgd", out=out, progress=False)
    assert not np.isfinite(a.loc[1, "final_loss"])
    b = sweep(Rosen(), grid, steps=200, optimizer="sgd", out=out, progress=False)
    c = sweep(Rosen(), grid, steps=200, optimizer="sgd", out=out, resume=False, progress=False)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(a, c, check_exact=True)


def test_out_that_is_not_a_results_file_is_refused(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not a database, just text that is long enough to have a header" * 10)
    with pytest.raises(ValueError, match="is not a sweep results file"):
        sweep(Rosen(), {"lr": [0.01]}, steps=5, out=str(bad), progress=False)


def test_schedules_in_the_grid_resume_in_a_new_process(tmp_path):
    """A schedule's fingerprint must not hold a memory address: a second process running the
    same script resumes instead of refusing the file."""
    out = tmp_path / "sched.sqlite"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import numpy as np
        from saddlepoint import sweep
        from _sweep_surfaces import Rosen

        def warm(t):
            return 0.01 * np.minimum(1.0, (np.asarray(t) + 1) / 10)

        df = sweep(Rosen(), {{"lr": [warm, 0.001]}}, steps=50, out=sys.argv[1],
                   progress=False)
        print(df["final_loss"].tolist())
        """
    )
    first = subprocess.run(
        [sys.executable, "-c", script, str(out)], capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [sys.executable, "-c", script, str(out)], capture_output=True, text=True, check=True
    )
    assert first.stdout == second.stdout and first.stdout.startswith("[")
