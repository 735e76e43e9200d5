"""backend="dask": the same chunks as tasks on a dask.distributed cluster, the same table."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("dask.distributed")

from _sweep_surfaces import Rosen  # noqa: E402
from saddlepoint import sweep  # noqa: E402

GRID = {"lr": np.logspace(-4, 0, 20).tolist(), "beta1": [0.8, 0.9]}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_backend_gives_the_local_table(client, tmp_path):
    local = sweep(Rosen(), GRID, steps=300, chunk_size=7, progress=False)
    remote = sweep(
        Rosen(), GRID, steps=300, chunk_size=7, backend="dask", client=client, progress=False
    )
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    # with out=, the calling process writes the rows as tasks finish; resuming works the same
    out = str(tmp_path / "dask.sqlite")
    saved = sweep(
        Rosen(),
        GRID,
        steps=300,
        chunk_size=5,
        backend="dask",
        client=client,
        out=out,
        progress=False,
    )
    pd.testing.assert_frame_equal(saved, local, check_exact=True)
    again = sweep(Rosen(), GRID, steps=300, chunk_size=5, out=out, progress=False)
    pd.testing.assert_frame_equal(again, local, check_exact=True)


def test_client_without_dask_backend_is_refused(client):
    with pytest.raises(ValueError, match="client: only used with backend='dask'"):
        sweep(Rosen(), GRID, steps=3, client=client, progress=False)


def test_default_local_cluster():
    local = sweep(Rosen(), {"lr": [0.01, 0.1]}, steps=50, progress=False)
    remote = sweep(Rosen(), {"lr": [0.01, 0.1]}, steps=50, backend="dask", progress=False)
    pd.testing.assert_frame_equal(remote, local, check_exact=True)


def test_dask_backend_runs_the_native_loop_identically(client, monkeypatch):
    from saddlepoint.sweeps import _sweep as sweep_mod

    monkeypatch.setattr(sweep_mod, "_native_spec", lambda s: sweep_mod._NativeSpec("rosenbrock"))
    local = sweep(Rosen(), GRID, steps=500, chunk_size=3, progress=False)
    remote = sweep(
        Rosen(), GRID, steps=500, chunk_size=9, backend="dask", client=client, progress=False
    )
    pd.testing.assert_frame_equal(remote, local, check_exact=True)


def test_worker_processes_give_the_local_table_bit_for_bit(tmp_path):
    """Two worker processes (each task pickled with its own runs' settings only): the native
    loop and the vectorized path give the local table, and out= works as locally."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    try:
        with distributed.Client(cluster) as c:
            grid = {"optimizer": ["sgd", "adam"], "lr": np.logspace(-4, -1, 12).tolist()}
            for surface, kw in (("rosenbrock", {}), (Rosen(), {"native": False})):
                local = sweep(surface, grid, steps=300, chunk_size=5, progress=False, **kw)
                remote = sweep(
                    surface,
                    grid,
                    steps=300,
                    chunk_size=3,
                    backend="dask",
                    client=c,
                    progress=False,
                    **kw,
                )
                pd.testing.assert_frame_equal(remote, local, check_exact=True)
            out = tmp_path / "r.parquet"
            saved = sweep(
                "rosenbrock",
                grid,
                steps=300,
                chunk_size=4,
                backend="dask",
                client=c,
                out=out,
                progress=False,
            )
            pd.testing.assert_frame_equal(saved, local_native(grid), check_exact=True)
    finally:
        cluster.close()


def local_native(grid):
    return sweep("rosenbrock", grid, steps=300, progress=False)
