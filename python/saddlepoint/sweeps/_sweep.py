"""The sweep itself: checks, the plan (surface, settings, start points, learning-rate
tables), resuming from the store, and the rows of the result table (see the package docs)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .._checks import int_at_least
from ._columns import Coded
from ._dask import run_dask
from ._plan import fingerprint, make_plan, schedule_name
from ._run import _compute_chunk, _NativeSpec, _Plan
from ._runs import Runs, build_runs
from ._table import Results

__all__ = ["sweep"]


# --------------------------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------------------------
def _resolve_surface(surface: Any, surface_kw: dict[str, Any] | None) -> Any:
    if isinstance(surface, str):
        from .. import surfaces

        try:
            return surfaces.get(surface, **(surface_kw or {}))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"surface: {exc}") from None
        except TypeError as exc:  # an argument the surface's factory does not take
            raise ValueError(f"surface_kw: {exc}") from None
    if surface_kw:
        raise ValueError("surface_kw: only used with a surface given by name")
    for method in ("value", "grad"):
        if not callable(getattr(surface, method, None)):
            raise TypeError(
                f"surface: expected a built-in name or an object with value(X) and grad(X), "
                f"got {type(surface).__name__} without {method}()"
            )
    if not isinstance(getattr(surface, "dim", None), int):
        raise TypeError(f"surface: expected an int attribute dim, got {type(surface).__name__}")
    return surface


def _native_spec(surface: Any) -> _NativeSpec | None:
    """The compiled twin of a built-in surface object, if it has one.

    Only surfaces built by a registered factory of :mod:`saddlepoint.surfaces` qualify (they
    carry ``_spec = (factory name, arguments)``); a user's surface that merely shares a name
    takes the vectorized path. A quadratic's matrix is its (constant, exact) Hessian.
    """
    from ..surfaces._surface import _Formula

    spec = getattr(surface, "_spec", None)
    if type(surface) is not _Formula or not isinstance(spec, tuple):
        return None
    name = spec[0]
    if name in ("quadratic", "ill_conditioned"):
        a = np.asarray(surface.hessian(np.zeros(surface.dim)), dtype=np.float64)
        return _NativeSpec("quadratic", np.ascontiguousarray(a.reshape(surface.dim, -1)))
    if name in _core.native_sweep_surfaces():
        return _NativeSpec(name)
    return None


# --------------------------------------------------------------------------------------------
# The public function
# --------------------------------------------------------------------------------------------
def sweep(
    surface: Any,
    grid: Any,
    *,
    steps: int,
    optimizer: str = "adam",
    x0: Any = None,
    seeds: int | Sequence[int] | None = None,
    out: str | os.PathLike[str] | None = None,
    store: str | None = None,
    resume: bool = True,
    overwrite: bool = False,
    backend: str = "local",
    client: Any = None,
    progress: bool = True,
    chunk_size: int | None = None,
    dtype: Any = np.float64,
    threshold: float | None = None,
    divergence: float = 1e12,
    grad_tol: float | None = None,
    surface_kw: dict[str, Any] | None = None,
    native: bool = True,
) -> Any:
    """Run every setting of `grid` for `steps` steps on `surface`; one DataFrame row per run.

    Parameters
    ----------
    surface : str or surface object
        A built-in name (``"rosenbrock"``; ``surface_kw`` passes its arguments, e.g.
        ``{"n": 5}``), or any object with ``dim``, ``value(X)`` and ``grad(X)`` vectorized over
        ``X`` of shape ``(..., dim)`` (and ``hessian(X)`` for the ``kind`` column).
    grid : dict of lists, list of dicts, or DataFrame
        A dict of lists is the product of its axes; a list of dicts or a DataFrame (a run per
        row, a column per key; the fast form for large grids) lists the runs. Keys: optimizer
        keyword arguments (``lr`` a number or a schedule; ``beta1``/``beta2`` for
        Adam's ``betas``), ``optimizer``, ``x0``, ``noise`` (standard deviation of Gaussian
        noise added to each gradient, drawn from ``default_rng(seed)`` as
        :func:`saddlepoint.train.minimize` does; noisy runs take the vectorized path) and
        ``seed`` (default 0). Unknown keys, bad values and empty lists raise ValueError naming
        the key. Crossing optimizers, a key only some take is an axis for those alone (with
        ``{"optimizer": ["sgd", "adam"], "momentum": [0, 0.9]}`` Adam runs once, with None
        for momentum).
    steps : int
        Optimizer steps per run.
    optimizer : str
        ``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or ``"adamw"`` for runs whose grid
        entry does not name one.
    x0 : point, ``"random"`` or None
        The start point of every run without an ``x0`` grid value (default: the surface's
        ``start``); ``"random"``: uniform in the surface's ``bounds``, drawn with the run's seed.
    seeds : int or list of ints
        Adds a ``seed`` axis to the grid: one run per seed of the gradient noise and of
        ``x0="random"`` start points.
    out : path, optional
        Where the rows are written chunk by chunk: an SQLite file, or a Parquet folder for a
        name ending in ``.parquet`` or an existing folder (see the module docs; read it back
        with :func:`saddlepoint.sweeps.load`).
    store : ``"sqlite"``, ``"parquet"`` or None
        The store of `out` when its name does not say.
    resume : bool
        Reuse the finished runs in `out` (False: recompute them all).
    overwrite : bool
        Discard an `out` that holds a different sweep instead of refusing it.
    backend : ``"local"`` or ``"dask"``
        Where chunks run; ``client`` is the ``dask.distributed.Client`` (default: a local one).
    progress : bool
        A tqdm bar with runs done and runs per second.
    chunk_size : int, optional
        Runs per chunk: the unit of work, of persistence and of Dask tasks (default: about
        2**24 run-steps, between 1,024 and 65,536 runs). Results do not depend on it.
    dtype : float32 or float64
        The parameter dtype of every run.
    threshold : float, optional
        The loss counted as "reached" for ``threshold_step`` (default: none reached).
    divergence : float
        A loss above this (or not finite) marks a run ``diverged``.
    grad_tol : float, optional
        Largest gradient norm of a critical point (default 1e-6 for float64, 1e-3 float32).
    native : bool
        Use the compiled loop for built-in surfaces (False forces the vectorized path).

    Returns
    -------
    pandas.DataFrame
        One row per run in grid order (index ``run``), runs that would repeat another
        exactly (see `grid`) left out.
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        raise ImportError('sweep needs pandas: pip install "saddlepoint[sweep]"') from None
    steps = int_at_least("steps", steps, 0)
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    if chunk_size is None:
        # about 2**24 run-steps per chunk: long enough that a call's fixed costs (waking the
        # threads, ~ms on a busy host) vanish, short enough to lose little to a kill
        chunk_size = min(65536, max(1024, 2**24 // max(steps, 1)))
    chunk_size = int_at_least("chunk_size", chunk_size)
    if backend not in ("local", "dask"):
        raise ValueError(f"backend: expected 'local' or 'dask', got {backend!r}")
    if not (isinstance(divergence, (int, float)) and divergence > 0):
        raise ValueError(f"divergence: expected a number > 0, got {divergence!r}")
    thr = -math.inf if threshold is None else float(threshold)
    if math.isnan(thr):
        raise ValueError("threshold: expected a number, got nan")
    tol = (1e-6 if dt == np.float64 else 1e-3) if grad_tol is None else float(grad_tol)

    if isinstance(grid, dict) and seeds is not None:
        if "seed" in grid:
            raise ValueError("seeds: the grid already has a 'seed' key; give seeds once")
        grid = {**grid, "seed": [seeds] if isinstance(seeds, int) else list(seeds)}
    elif seeds is not None:
        raise ValueError("seeds: only with a grid given as a dict of lists")
    runs = build_runs(grid, optimizer)
    if isinstance(x0, str) and x0 != "random":
        raise ValueError(f"x0: expected a point, 'random' or None, got {x0!r}")
    if "seed" in runs.cols and not (
        (isinstance(x0, str) and x0 == "random") or _draws_randomly(runs)
    ):
        raise ValueError(
            "seeds: a seed draws gradient noise or random start points; give the grid a "
            "'noise' > 0 or pass x0='random'"
        )
    surf = _resolve_surface(surface, surface_kw)
    plan = make_plan(
        surf, _native_spec(surf), runs, x0, steps, dt, thr, float(divergence), tol, native
    )
    runs.variant()  # once for the whole sweep, not per chunk
    results = Results(len(runs), plan.dim)
    session = None
    if out is not None:
        from ._stores import open_store

        session = open_store(
            out,
            fingerprint(plan),
            runs,
            plan.dim,
            (schedule_name, _show),
            overwrite=overwrite,
            store=store,
        )
    try:
        if session is not None and resume:
            for cols in session.read_results():
                results.put(cols)
        elif session is not None:
            session.clear()
        missing = np.flatnonzero(~results.done)
        work = [missing[a : a + chunk_size] for a in range(0, len(missing), chunk_size)]
        bar = _progress_bar(len(runs), len(runs) - len(missing), progress)
        try:
            runner = run_dask if backend == "dask" else _run_local
            for cols in runner(plan, work, client):
                if session is not None:
                    session.write(cols)
                results.put(cols)
                if bar is not None:
                    bar.update(len(cols["run"]))
        finally:
            if bar is not None:
                bar.close()
    finally:
        if session is not None:
            session.close()
    return results.frame(pd, runs, schedule_name, _show)


def _draws_randomly(runs: Runs) -> bool:
    """Whether some run has gradient noise or a random start point (what a seed is for)."""
    x0 = runs.cols.get("x0")
    random_x0 = isinstance(x0, Coded) and any(
        isinstance(v, str) and v == "random" for v in x0.values
    )
    return random_x0 or bool(np.any(runs.setting("noise") > 0))


def _show(v: Any) -> Any:
    """A grid value as the table shows it (start points as tuples)."""
    if isinstance(v, np.ndarray):
        return tuple(v.tolist())
    if isinstance(v, list):
        return tuple(v)
    return v


def _progress_bar(total: int, done: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        raise ImportError(
            'the progress bar needs tqdm: pip install "saddlepoint[sweep]" '
            "(or pass progress=False)"
        ) from None
    return tqdm(total=total, initial=done, unit="run", desc="sweep", smoothing=0.1)


def _run_local(plan: _Plan, chunks: list[np.ndarray], client: Any) -> Any:
    if client is not None:
        raise ValueError("client: only used with backend='dask'")
    for ids in chunks:
        yield _compute_chunk(plan, ids)
