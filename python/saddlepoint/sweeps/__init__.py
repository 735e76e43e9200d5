r"""Sweeps: thousands of optimizer runs on one surface at once, saved as they finish.

>>> import numpy as np, saddlepoint
>>> df = saddlepoint.sweep("rosenbrock", {"lr": np.logspace(-4, 0, 100).tolist(),
...                                       "beta1": [0.8, 0.9]}, steps=1000, x0=(-1.5, 2.0))
>>> len(df), list(df.columns[:3])
(200, ['lr', 'beta1', 'final_loss'])

Every run is one row of the result (a :class:`pandas.DataFrame`): a column per grid key, then
``final_loss``, ``best_loss``, ``threshold_step`` (the first step t whose iterate x_t has
f(x_t) <= ``threshold``; <NA> if never), ``grad_norm`` (||grad f|| at the final point),
``diverged`` (a loss above ``divergence`` or not finite at some step), ``kind`` (the final
point's classification from the surface's analytic Hessian: ``minimum``, ``maximum``,
``saddle``, ``degenerate``, or ``not critical`` when ``grad_norm > grad_tol``) and the final
point ``x_final_0..``.

How runs are computed
---------------------
* **Native** (built-in surfaces): the whole loop (gradient, optimizer update, learning rate
  from the schedule's precomputed table, best loss, threshold step, divergence) runs in the
  compiled core, across threads, with the GIL released (``_core.native_sweep``).
* **Vectorized** (any other surface): the runs sharing an optimizer variant are the rows of
  one ``(N, dim)`` array with per-row hyper-parameter arrays; each step is one vectorized
  ``surface.value``/``surface.grad`` call and one :mod:`saddlepoint.kernels` call; schedules
  are evaluated once as arrays. No Python loop over runs.

Both paths apply the same optimizer element code with the same constants (bias corrections
through one ``step_power``), and the build disables fused multiply-adds, so for identical
surface maths they agree bit for bit, and a run's result never depends on how runs are cut
into chunks, threads, SIMD lanes or Dask workers. A run also equals a single run of the
optimizer object (:mod:`saddlepoint.optim`) with the same settings.

Grids
-----
A dict of lists (the product), a list of dicts (one run each) or, for large grids, a
:class:`pandas.DataFrame` with a run per row and a column per key: the columnar form, checked
and run with array operations only (no Python object per run).

Persistence and resuming
------------------------
``out="results.sqlite"`` writes each chunk's rows in one SQLite transaction as the chunk
finishes, a real column per grid key and result (``SELECT lr, final_loss FROM results WHERE
final_loss < 1e-3`` in any SQLite tool; NaN is NULL). ``out="results.parquet"`` (or
``store="parquet"``; needs pyarrow) writes a Parquet file per finished chunk into that folder,
each under a temporary name then renamed, for large sweeps. Either way a sweep killed at any
moment loses at most the chunks in flight, and started again with the same arguments computes
only the missing runs; :func:`load` reads either store back as the table. A different sweep
against an existing `out` is refused unless ``overwrite=True``; a second process on the same
`out` is refused in one line naming the first (:class:`OutInUseError`, from a lock file next
to the store; the lock of a killed process is taken over).

Dask
----
``backend="dask"`` runs the same chunks as tasks on a ``dask.distributed`` cluster: a
``Client`` passed as ``client=``, or a local in-process cluster by default. To use a real
cluster, start a scheduler and workers (``dask scheduler``, ``dask worker tcp://host:8786``,
each worker with saddlepoint installed) and pass ``client=Client("tcp://host:8786")``. Results
are written by the calling process as tasks finish, so ``out`` works unchanged. Each task
carries the settings of its own chunk only. See docs/sweeps.md for a deployment.
"""

from ._lock import OutInUseError
from ._models import sweep_model
from ._stores import load
from ._sweep import sweep

__all__ = ["OutInUseError", "load", "sweep", "sweep_model"]
