"""The sweep itself: checks, the plan (surface, settings, start points, learning-rate
tables), resuming from the store, and the rows of the result table (see the package docs)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .._checks import int_at_least
from ._dask import run_dask
from ._grid import expand, lr_values, settle
from ._run import RESULT_COLUMNS, _compute_chunk, _NativeSpec, _Plan

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


def _surface_identity(surface: Any) -> dict[str, Any]:
    """What identifies a surface's maths across processes: its type and its values and
    gradients at fixed probe points (object reprs may hold memory addresses)."""
    rng = np.random.default_rng(20240611)
    probe = rng.uniform(-1.5, 1.5, size=(3, surface.dim))
    with np.errstate(all="ignore"):
        v = np.asarray(surface.value(probe), dtype=np.float64)
        g = np.asarray(surface.grad(probe), dtype=np.float64)
    return {
        "type": f"{type(surface).__module__}.{type(surface).__qualname__}",
        "name": getattr(surface, "name", None),
        "dim": surface.dim,
        "probe": hashlib.sha256(v.tobytes() + g.tobytes()).hexdigest(),
    }


# --------------------------------------------------------------------------------------------
# The plan: everything a chunk needs
# --------------------------------------------------------------------------------------------
def _start_points(surface: Any, settings: list[dict[str, Any]], x0: Any) -> np.ndarray:
    dim = surface.dim
    points = np.empty((len(settings), dim), dtype=np.float64)
    if not any("x0" in s for s in settings) and not (isinstance(x0, str) and x0 == "random"):
        settings = settings[:1]  # one start point for every run: check it once, broadcast it
    for i, s in enumerate(settings):
        point = s.get("x0", x0)
        if isinstance(point, str) and point == "random":
            seed = s.get("seed", 0)
            bounds = np.asarray(getattr(surface, "bounds", None), dtype=np.float64)
            if bounds.shape == (2,):
                bounds = np.tile(bounds, (dim, 1))
            if bounds.shape != (dim, 2):
                raise ValueError(
                    f"x0: 'random' needs the surface's bounds as (dim, 2), got {bounds.shape}"
                )
            point = np.random.default_rng(seed).uniform(bounds[:, 0], bounds[:, 1])
        elif point is None:
            point = getattr(surface, "start", None)
            if point is None:
                raise ValueError("x0: the surface has no default start; pass x0=")
        try:
            p = np.asarray(point, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(f"x0: expected a point of {dim} numbers, got {point!r}") from None
        if p.shape != (dim,) or not np.all(np.isfinite(p)):
            raise ValueError(f"x0: expected {dim} finite numbers, got {point!r}")
        points[i] = p
    if len(settings) == 1:
        points[:] = points[0]
    return points


def _schedule_name(schedule: Any) -> str:
    """A schedule's readable repr, without a memory address (stable across processes, so a
    resumed sweep recognises its own grid; the values themselves are fingerprinted too)."""
    text = repr(schedule)
    if " at 0x" in text:
        text = getattr(schedule, "__qualname__", type(schedule).__qualname__)
    return text


def _fingerprint(plan: _Plan, keys: list[str], optimizer: str) -> str:
    def enc(v: Any) -> Any:
        if callable(v):
            return f"schedule:{_schedule_name(v)}"
        if isinstance(v, np.ndarray):
            return v.tolist()
        return v

    doc = {
        "format": 1,
        "surface": _surface_identity(plan.surface),
        "keys": keys,
        "optimizer": optimizer,
        "settings": [{k: enc(v) for k, v in s.items()} for s in plan.settings],
        "x0": hashlib.sha256(plan.x0.tobytes()).hexdigest(),
        "lr_tables": hashlib.sha256(plan.lr_tables.tobytes()).hexdigest(),
        "steps": plan.steps,
        "dtype": plan.dtype.name,
        "threshold": repr(plan.threshold),
        "divergence": repr(plan.divergence),
        "grad_tol": repr(plan.grad_tol),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()).hexdigest()


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
    out: str | None = None,
    resume: bool = True,
    overwrite: bool = False,
    backend: str = "local",
    client: Any = None,
    progress: bool = True,
    chunk_size: int = 4096,
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
    grid : dict of lists or list of dicts
        Optimizer keyword arguments (``lr`` a number or a schedule; ``beta1``/``beta2`` for
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
        SQLite file the rows are written to chunk by chunk (see the module docs).
    resume : bool
        Reuse the finished runs in `out` (False: recompute them all).
    overwrite : bool
        Discard an `out` that holds a different sweep instead of refusing it.
    backend : ``"local"`` or ``"dask"``
        Where chunks run; ``client`` is the ``dask.distributed.Client`` (default: a local one).
    progress : bool
        A tqdm bar with runs done and runs per second.
    chunk_size : int
        Runs per chunk: the unit of work, of persistence and of Dask tasks.
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
    keys, runs, positions = expand(grid)
    settings = settle(keys, runs, optimizer, positions)
    if any("seed" in s for s in settings) and not (
        (isinstance(x0, str) and x0 == "random")
        or any(s.get("x0") == "random" or s.get("noise", 0.0) > 0 for s in settings)
    ):
        raise ValueError(
            "seeds: a seed draws gradient noise or random start points; give the grid a "
            "'noise' > 0 or pass x0='random'"
        )
    if isinstance(x0, str) and x0 != "random":
        raise ValueError(f"x0: expected a point, 'random' or None, got {x0!r}")
    surf = _resolve_surface(surface, surface_kw)
    points = _start_points(surf, settings, x0)

    schedules: dict[int, int] = {}
    tables: list[np.ndarray] = []
    lr_index = np.full(len(settings), -1, dtype=np.int64)
    for i, s in enumerate(settings):
        if callable(s["lr"]):
            k = schedules.get(id(s["lr"]))
            if k is None:
                k = schedules[id(s["lr"])] = len(tables)
                tables.append(lr_values(s["lr"], steps))
            lr_index[i] = k
    lr_tables = np.array(tables, dtype=np.float64).reshape(len(tables), steps)
    if len(tables) == 0:
        lr_tables = np.zeros((1, steps))  # the native loop reads row 0 of a non-empty table

    plan = _Plan(
        surf,
        _native_spec(surf),
        settings,
        points,
        steps,
        dt,
        thr,
        float(divergence),
        tol,
        lr_tables,
        lr_index,
        use_native=native,
    )
    store = None
    chunks: list[dict[str, Any]] = []
    if out is not None:
        from ._store import SweepStore

        store = SweepStore(out, _fingerprint(plan, keys, optimizer), overwrite=overwrite)
        if resume:
            saved = store.columns(plan.dim)
            if saved is not None:
                chunks.append(saved)
        else:
            store.clear()
    try:
        done = set(chunks[0]["run"].tolist()) if chunks else set()
        missing = [i for i in range(len(settings)) if i not in done]
        work = [missing[a : a + chunk_size] for a in range(0, len(missing), chunk_size)]
        bar = _progress_bar(len(settings), len(done), progress)
        try:
            runner = run_dask if backend == "dask" else _run_local
            for cols in runner(plan, work, client):
                if store is not None:
                    store.write(cols)
                chunks.append(cols)
                if bar is not None:
                    bar.update(len(cols["run"]))
        finally:
            if bar is not None:
                bar.close()
    finally:
        if store is not None:
            store.close()
    return _table(pd, keys, settings, chunks, plan.dim)


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


def _run_local(plan: _Plan, chunks: list[list[int]], client: Any) -> Any:
    if client is not None:
        raise ValueError("client: only used with backend='dask'")
    for ids in chunks:
        yield _compute_chunk(plan, ids)


def _table(
    pd: Any,
    keys: list[str],
    settings: list[dict[str, Any]],
    chunks: list[dict[str, Any]],
    dim: int,
) -> Any:
    def show(v: Any) -> Any:
        if type(v) is float:
            return v
        if callable(v):
            return _schedule_name(v)
        if isinstance(v, np.ndarray):
            return tuple(v.tolist())
        if isinstance(v, list):
            return tuple(v)
        return v

    cols = {c: np.concatenate([ch[c] for ch in chunks]) for c in ("run", *RESULT_COLUMNS)}
    x_final = np.concatenate([ch["x_final"].reshape(-1, dim) for ch in chunks])
    order = np.argsort(cols["run"], kind="stable")
    runs = cols["run"][order].tolist()
    data: dict[str, Any] = {}
    for key in keys:
        data[key] = [show(settings[i].get(key)) for i in runs]
    for col in RESULT_COLUMNS:
        data[col] = cols[col][order]
    for k in range(dim):
        data[f"x_final_{k}"] = x_final[order, k]
    df = pd.DataFrame(data, index=pd.Index(runs, name="run"))
    step = cols["threshold_step"][order]
    df["threshold_step"] = pd.array(np.where(step < 0, 0, step), dtype="Int64")
    df.loc[step < 0, "threshold_step"] = pd.NA
    df["diverged"] = df["diverged"].astype(bool)
    df["kind"] = df["kind"].astype(object)
    return df
