"""The Dask backend of :func:`saddlepoint.sweep`: chunks as tasks on a ``dask.distributed``
cluster, results yielded as they finish (the caller writes them to the store)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._run import _compute_chunk, _Plan


def run_dask(plan: _Plan, chunks: list[np.ndarray], client: Any) -> Any:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover
        raise ImportError(
            'backend="dask" needs dask.distributed: pip install "saddlepoint[dask]"'
        ) from None
    own = None
    if client is None:
        # Threads are enough: the compiled loop releases the GIL.
        own = Client(LocalCluster(processes=False, n_workers=1, dashboard_address=":0"))
        client = own
    futures: list[Any] = []
    try:
        # Each task carries the settings of its own runs only (plan.take): a worker never holds
        # the whole grid, and a task's memory is that of its chunk. pure=False: a unique key
        # per task, never one a previous identical sweep is still releasing.
        futures = [
            client.submit(_compute_chunk, plan.take(ids), np.arange(len(ids)), pure=False)
            for ids in chunks
        ]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:  # interrupted: do not leave the cluster computing an abandoned sweep
            client.cancel(pending)
        if own is not None:
            cluster = own.cluster
            own.close()
            cluster.close()
