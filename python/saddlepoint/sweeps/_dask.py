"""The Dask backend of :func:`saddlepoint.sweep`: chunks as tasks on a ``dask.distributed``
cluster, results yielded as they finish (the caller writes them to the store)."""

from __future__ import annotations

from typing import Any

from ._run import _compute_chunk, _Plan


def run_dask(plan: _Plan, chunks: list[list[int]], client: Any) -> Any:
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
        # hash=False: a unique key per sweep; a content-hashed key could be the one a previous,
        # identical sweep is releasing (dask then reports the plan as lost data).
        plan_f = client.scatter(plan, broadcast=True, hash=False)
        futures = [client.submit(_compute_chunk, plan_f, ids, pure=False) for ids in chunks]
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
