r"""Sweeps: thousands of optimizer runs on one surface at once, saved as they finish.

>>> df = sweep("rosenbrock", {"lr": np.logspace(-4, 0, 100).tolist(),
...                           "beta1": [0.8, 0.9]}, steps=1000, x0=(-1.5, 2.0))

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

Persistence and resuming
------------------------
With ``out="results.sqlite"`` each chunk's rows are written in one SQLite transaction as the
chunk finishes. A sweep killed at any moment and started again with the same arguments
computes only the missing runs. A different sweep (surface, grid, optimizer, steps, dtype,
threshold...) against an existing file is refused unless ``overwrite=True``.

Dask
----
``backend="dask"`` runs the same chunks as tasks on a ``dask.distributed`` cluster: a
``Client`` passed as ``client=``, or a local in-process cluster by default. To use a real
cluster, start a scheduler and workers (``dask scheduler``, ``dask worker tcp://host:8786``,
each worker with saddlepoint installed) and pass ``client=Client("tcp://host:8786")``. Results
are written by the calling process as tasks finish, so ``out`` works unchanged.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core
from ._sweep_grid import OPTIMIZER_DEFAULTS, expand, lr_values, settle

__all__ = ["sweep"]

_NATIVE_OPTIMIZER = {
    "sgd": "sgd",
    "adagrad": "adagrad",
    "rmsprop": "rmsprop",
    "adam": "adam",
    "adamw": "adam",
}
_HYPER_FOR_NATIVE = {
    "adam": ("lr", "beta1", "beta2", "eps", "weight_decay"),
    "sgd": ("lr", "momentum", "dampening", "weight_decay"),
    "adagrad": ("lr", "lr_decay", "weight_decay", "eps"),
    "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum"),
}
RESULT_COLUMNS = ("final_loss", "best_loss", "threshold_step", "grad_norm", "diverged", "kind")


# --------------------------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _NativeSpec:
    name: str
    matrix: Any = None  # quadratic's A


def _resolve_surface(surface: Any, surface_kw: dict[str, Any] | None) -> Any:
    if isinstance(surface, str):
        try:
            from . import surfaces
        except ImportError:  # pragma: no cover - only before the surfaces module exists
            raise ValueError(
                f"surface: built-in surfaces need saddlepoint.surfaces, got {surface!r}"
            ) from None
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
    spec = getattr(surface, "_spec", None)
    if type(surface).__module__ != "saddlepoint.surfaces" or not isinstance(spec, tuple):
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
# The plan: everything a chunk needs, picklable for Dask
# --------------------------------------------------------------------------------------------
@dataclass
class _Plan:
    surface: Any
    native: _NativeSpec | None
    settings: list[dict[str, Any]]
    x0: np.ndarray  # (runs, dim) float64
    steps: int
    dtype: np.dtype
    threshold: float
    divergence: float
    grad_tol: float
    lr_tables: np.ndarray  # (schedules, steps)
    lr_index: np.ndarray  # (runs,) int64, -1: constant lr
    use_native: bool = True
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        self.dim = int(self.x0.shape[1])


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
# Computing a chunk
# --------------------------------------------------------------------------------------------
def _variant(s: dict[str, Any]) -> tuple[Any, ...]:
    """Runs that may share one kernel call: same optimizer and switches, and the same
    zero/non-zero pattern of weight decay and momentum (the kernels pick their code path
    per row by it, so a group must not mix them)."""
    return (
        s["optimizer"],
        s.get("weight_decay", 0.0) != 0.0,
        s.get("momentum", 0.0) != 0.0,
        s.get("nesterov", False),
        s.get("amsgrad", False),
        s.get("centered", False),
        s.get("maximize", False),
        s.get("noise", 0.0) > 0,  # noisy runs take the vectorized path (NumPy's generator)
    )


def _uniform_or_array(values: np.ndarray) -> Any:
    """A number when every run shares it (the kernels skip per-row work then), else the array."""
    return float(values[0]) if values.size and np.all(values == values[0]) else values


def _hyper_arrays(plan: _Plan, ids: np.ndarray) -> dict[str, np.ndarray]:
    names = set().union(*(OPTIMIZER_DEFAULTS[plan.settings[i]["optimizer"]] for i in ids))
    out = {}
    for name in names:
        if name in ("lr", "nesterov", "maximize", "amsgrad", "centered"):
            continue
        out[name] = np.array([plan.settings[i].get(name, 0.0) for i in ids], dtype=np.float64)
    out["lr"] = np.array(
        [0.0 if callable(plan.settings[i]["lr"]) else plan.settings[i]["lr"] for i in ids],
        dtype=np.float64,
    )
    return out


def _run_native(plan: _Plan, ids: np.ndarray, key: tuple[Any, ...]) -> dict[str, np.ndarray]:
    opt, wd_on, mom_on, nesterov, amsgrad, centered, maximize, _ = key
    native = plan.native
    assert native is not None  # only called for surfaces with a native twin
    hyper = _hyper_arrays(plan, ids)
    native_opt = _NATIVE_OPTIMIZER[opt]
    x = np.ascontiguousarray(plan.x0[ids], dtype=plan.dtype)
    res = _core.native_sweep(
        native.name,
        x,
        plan.steps,
        native_opt,
        {k: hyper[k] for k in _HYPER_FOR_NATIVE[native_opt]},
        plan.lr_index[ids],
        plan.lr_tables,
        matrix=native.matrix,
        threshold=plan.threshold,
        divergence=plan.divergence,
        flags={
            "nesterov": nesterov,
            "maximize": maximize,
            "amsgrad": amsgrad,
            "centered": centered,
            "decoupled": opt == "adamw",
            "weight_decay_on": wd_on,
            "momentum_on": mom_on,
        },
    )
    res["x"] = x
    return dict(res)


def _run_vectorized(plan: _Plan, ids: np.ndarray, key: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """All runs of one variant as the rows of one array: one surface call and one kernel
    call per step."""
    from . import kernels

    opt, _wd_on, mom_on, nesterov, amsgrad, centered, maximize, noisy = key
    dtype = plan.dtype
    surface = plan.surface
    h = {k: _uniform_or_array(v) for k, v in _hyper_arrays(plan, ids).items()}
    x = np.ascontiguousarray(plan.x0[ids], dtype=dtype)
    n = len(ids)
    zeros = lambda: np.zeros_like(x)  # noqa: E731
    lr_index = plan.lr_index[ids]
    scheduled = lr_index >= 0
    lr_rows = plan.lr_tables[np.maximum(lr_index, 0)] if scheduled.any() else None
    lr = _hyper_arrays(plan, ids)["lr"] if scheduled.any() else h["lr"]
    best = np.full(n, np.inf)
    hit = np.full(n, -1, dtype=np.int64)
    div = np.zeros(n, dtype=bool)

    # A surface may compute both at once (shared sub-expressions): value_and_grad(X) -> (f, g).
    value_and_grad = getattr(surface, "value_and_grad", None)

    def evaluate(t: int) -> tuple[np.ndarray, np.ndarray]:
        # the loss in the run's dtype, then widened, as the native loop tracks it
        if value_and_grad is not None:
            f, g = value_and_grad(x)
        else:
            f, g = surface.value(x), surface.grad(x)
        f = np.asarray(np.asarray(f, dtype=dtype), dtype=np.float64)
        g = np.ascontiguousarray(g, dtype=dtype)
        np.copyto(best, f, where=f < best)
        np.copyto(hit, t, where=(hit < 0) & (f <= plan.threshold))
        div[:] |= ~(np.abs(f) <= plan.divergence)
        return f, g

    if opt in ("adam", "adamw"):
        m, v = zeros(), zeros()
        vmax = zeros() if amsgrad else None

        def step(g: np.ndarray, t: int) -> None:
            kernels.adam_step(
                x,
                g,
                m,
                v,
                vmax,
                step=t + 1,
                lr=lr,
                betas=(h["beta1"], h["beta2"]),
                eps=h["eps"],
                weight_decay=h["weight_decay"],
                amsgrad=amsgrad,
                maximize=maximize,
                decoupled_weight_decay=opt == "adamw",
            )
    elif opt == "sgd":
        buf = zeros() if mom_on else None

        def step(g: np.ndarray, t: int) -> None:
            kernels.sgd_step(
                x,
                g,
                buf,
                lr=lr,
                momentum=h["momentum"],
                dampening=h["dampening"],
                nesterov=nesterov,
                weight_decay=h["weight_decay"],
                maximize=maximize,
                step=t + 1,
            )
    elif opt == "adagrad":
        s = zeros()

        def step(g: np.ndarray, t: int) -> None:
            kernels.adagrad_step(
                x,
                g,
                s,
                step=t + 1,
                lr=lr,
                lr_decay=h["lr_decay"],
                weight_decay=h["weight_decay"],
                eps=h["eps"],
                maximize=maximize,
            )
    else:
        sq, avg = zeros(), zeros() if centered else None
        mbuf = zeros() if mom_on else None

        def step(g: np.ndarray, t: int) -> None:
            kernels.rmsprop_step(
                x,
                g,
                sq,
                avg,
                mbuf,
                lr=lr,
                alpha=h["alpha"],
                eps=h["eps"],
                weight_decay=h["weight_decay"],
                momentum=h["momentum"],
                centered=centered,
                maximize=maximize,
            )

    noise = _noise(plan, ids) if noisy else None
    with np.errstate(all="ignore"):  # diverging runs are data, not warnings
        for t in range(plan.steps):
            _, g = evaluate(t)
            if noise is not None:
                g = np.ascontiguousarray(g + noise(t), dtype=dtype)
            if lr_rows is not None:
                np.copyto(lr, lr_rows[:, t], where=scheduled)
            step(g, t)
        f, g = evaluate(plan.steps)
        g2 = np.zeros(n)
        for k in range(plan.dim):  # the native loop's order of summation
            gk = g[:, k].astype(np.float64)
            g2 = g2 + gk * gk
    return {
        "final_loss": f,
        "best_loss": best,
        "grad_norm": np.sqrt(g2),
        "threshold_step": hit,
        "diverged": div,
        "x": x,
    }


def _noise(plan: _Plan, ids: np.ndarray) -> Callable[[int], np.ndarray]:
    """Gradient noise of step t for the runs `ids`: noise * xi with xi drawn from
    ``numpy.random.default_rng(seed)`` of each run, the same numbers in the same order as
    :func:`saddlepoint.train.minimize` draws them (``rng.standard_normal(dim)`` per step).
    Drawn a block of steps at a time: a Generator's stream does not depend on how it is cut."""
    block = 128
    std = np.array([plan.settings[i].get("noise", 0.0) for i in ids])[:, None]
    rngs = [np.random.default_rng(plan.settings[i].get("seed", 0)) for i in ids]
    drawn = np.empty((len(ids), block, plan.dim))

    def at(t: int) -> np.ndarray:
        if t % block == 0:
            for j, rng in enumerate(rngs):
                drawn[j] = rng.standard_normal((block, plan.dim))
        return std * drawn[:, t % block, :]

    return at


def _classify(plan: _Plan, x: np.ndarray, grad_norm: np.ndarray) -> list[str]:
    """The final points' kinds from the surface's analytic Hessians."""
    kinds = ["not critical"] * len(x)
    critical = np.flatnonzero(np.isfinite(grad_norm) & (grad_norm <= plan.grad_tol))
    if critical.size == 0:
        return kinds
    hess = getattr(plan.surface, "hessian", None)
    if hess is None:
        for i in critical:
            kinds[i] = "unknown"
        return kinds
    with np.errstate(all="ignore"):
        H = np.asarray(hess(x[critical].astype(np.float64)), dtype=np.float64)
    H = H.reshape(len(critical), plan.dim, plan.dim)
    for i, kind in zip(critical, _kinds_from_hessians(H)):
        kinds[i] = kind
    return kinds


def _kinds_from_hessians(H: np.ndarray) -> list[str]:
    """Minimum / maximum / saddle / degenerate for a stack of Hessians (non-finite ones:
    "not critical"), by :func:`saddlepoint.hessian.classify` and its default tolerance."""
    kinds = np.full(len(H), "not critical", dtype=object)
    finite = np.all(np.isfinite(H), axis=(1, 2))
    if finite.any():
        kinds[finite] = _classify_stack(H[finite])
    return kinds.tolist()


def _classify_stack(H: np.ndarray) -> list[str]:
    try:
        from .hessian import classify
    except ImportError:
        classify = None
    if classify is not None:
        return np.asarray(classify(H, symmetrize=True).kind).reshape(-1).tolist()
    # FALLBACK until saddlepoint.hessian lands: classify's rule on numpy.linalg.eigvalsh, an
    # eigenvalue counting as zero when |lambda| <= 10 * n * eps * max|lambda|.
    lam = np.linalg.eigvalsh(0.5 * (H + np.swapaxes(H, -1, -2)))
    tol = 10 * H.shape[-1] * np.finfo(np.float64).eps * np.max(np.abs(lam), axis=-1)
    pos = np.sum(lam > tol[:, None], axis=-1)
    neg = np.sum(lam < -tol[:, None], axis=-1)
    n = H.shape[-1]
    return [
        "minimum" if p == n else "maximum" if m == n else "saddle" if p and m else "degenerate"
        for p, m in zip(pos.tolist(), neg.tolist())
    ]


def _compute_chunk(plan: _Plan, ids: Sequence[int]) -> dict[str, Any]:
    """The results of the runs `ids` as columns (``run`` first): runs grouped by optimizer
    variant, each group one native call or one vectorized loop."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in np.asarray(ids, dtype=np.int64).tolist():
        groups.setdefault(_variant(plan.settings[i]), []).append(i)
    parts = []
    for key, members in groups.items():
        # Rows sharing betas next to each other: the kernels remember the last bias correction
        # per (beta, step), so interleaved betas would cost two pow() calls per row and step.
        # A run's result does not depend on its row, so the order is free.
        members.sort(
            key=lambda i: (
                plan.settings[i].get("beta1", 0.0),
                plan.settings[i].get("beta2", 0.0),
                i,
            )
        )
        gid = np.asarray(members, dtype=np.int64)
        native = plan.native is not None and plan.use_native and not key[-1]
        run = _run_native if native else _run_vectorized
        res = run(plan, gid, key)
        res["kind"] = np.array(_classify(plan, res["x"], res["grad_norm"]), dtype=object)
        res["run"] = gid
        parts.append(res)
    cols = {c: np.concatenate([p[c] for p in parts]) for c in ("run", *RESULT_COLUMNS)}
    cols["x_final"] = np.concatenate([np.asarray(p["x"], dtype=np.float64) for p in parts])
    order = np.argsort(cols["run"], kind="stable")
    cols = {c: v[order] for c, v in cols.items()}
    cols["threshold_step"] = cols["threshold_step"].astype(np.int64)
    cols["diverged"] = cols["diverged"].astype(bool)
    for c in ("final_loss", "best_loss", "grad_norm"):
        cols[c] = cols[c].astype(np.float64)
    return cols


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
        the key.
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
        One row per run in grid order (index ``run``).
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        raise ImportError('sweep needs pandas: pip install "saddlepoint[sweep]"') from None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps: expected an int >= 0, got {steps!r}")
    steps = int(steps)
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype: expected float32 or float64, got {dt}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected an int >= 1, got {chunk_size!r}")
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
    keys, runs = expand(grid)
    settings = settle(keys, runs, optimizer)
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
        from ._sweep_store import SweepStore

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
            runner = _run_dask if backend == "dask" else _run_local
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


def _run_dask(plan: _Plan, chunks: list[list[int]], client: Any) -> Any:
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
    try:
        plan_f = client.scatter(plan, broadcast=True)
        futures = [client.submit(_compute_chunk, plan_f, ids, pure=False) for ids in chunks]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if own is not None:
            cluster = own.cluster
            own.close()
            cluster.close()


def _table(
    pd: Any,
    keys: list[str],
    settings: list[dict[str, Any]],
    chunks: list[dict[str, Any]],
    dim: int,
) -> Any:
    def show(v: Any) -> Any:
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
