"""The plan of a sweep: start points, learning-rate tables and the fingerprint that tells a
store whether it holds this sweep's results."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from ._columns import Coded
from ._grid import lr_values
from ._run import _NativeSpec, _Plan
from ._runs import Runs

RANDOM = "random"


def start_table(surface: Any, runs: Runs, x0: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """The distinct start points, each checked once: the grid's ``x0`` values, then the `x0`
    argument (every run without one); whether each is drawn at random; the bounds to draw in."""
    dim = surface.dim
    col = runs.cols.get("x0")
    given = list(col.values) if isinstance(col, Coded) else []
    points = np.full((len(given) + 1, dim), np.nan)
    drawn = np.zeros(len(given) + 1, dtype=bool)
    used = np.unique(col.codes) if isinstance(col, Coded) else np.array([-1])
    used = np.where(used < 0, len(given), used)
    for i, point in enumerate([*given, x0]):
        if i not in used:  # the default of a grid whose every run has its own x0
            continue
        if isinstance(point, str) and point == RANDOM:
            drawn[i] = True
            points[i] = np.nan
            continue
        if point is None:
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
    bounds = None
    if drawn.any():
        bounds = np.asarray(getattr(surface, "bounds", None), dtype=np.float64)
        if bounds.shape == (2,):
            bounds = np.tile(bounds, (dim, 1))
        if bounds.shape != (dim, 2):
            raise ValueError(
                f"x0: 'random' needs the surface's bounds as (dim, 2), got {bounds.shape}"
            )
    return points, drawn, bounds


def lr_tables(runs: Runs, steps: int) -> np.ndarray:
    """Each distinct schedule evaluated once for every step: (schedules, steps) float64."""
    tables = [lr_values(s, steps) for s in runs.schedules]
    if not tables:
        return np.zeros((1, steps))  # the native loop reads row 0 of a non-empty table
    return np.array(tables, dtype=np.float64).reshape(len(tables), steps)


def schedule_name(schedule: Any) -> str:
    """A schedule's readable repr, without a memory address (stable across processes, so a
    resumed sweep recognises its own grid; the values themselves are fingerprinted too)."""
    text = repr(schedule)
    if " at 0x" in text:
        text = getattr(schedule, "__qualname__", type(schedule).__qualname__)
    return text


def surface_identity(surface: Any) -> dict[str, Any]:
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


def fingerprint(plan: _Plan) -> str:
    """A hash of everything a run's result depends on (and of the grid's form): equal for the
    same sweep in any process, different if any setting of any run changed."""
    runs = plan.runs
    h = hashlib.sha256()
    h.update(runs.opt.tobytes())
    for key, col in runs.cols.items():
        h.update(key.encode())
        if isinstance(col, Coded):
            shown = [schedule_name(v) if callable(v) else v for v in col.values]
            h.update(json.dumps(shown, default=repr).encode())
            h.update(col.codes.tobytes())
        else:
            h.update(col.dtype.str.encode() + col.tobytes())
    doc = {
        "format": 2,
        "surface": surface_identity(plan.surface),
        "keys": runs.keys,
        "runs": h.hexdigest(),
        "starts": hashlib.sha256(plan.starts.tobytes() + plan.random_start.tobytes()).hexdigest(),
        "lr_tables": hashlib.sha256(plan.lr_tables.tobytes()).hexdigest(),
        "steps": plan.steps,
        "dtype": plan.dtype.name,
        "threshold": repr(plan.threshold),
        "divergence": repr(plan.divergence),
        "grad_tol": repr(plan.grad_tol),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()).hexdigest()


def make_plan(
    surface: Any,
    native: _NativeSpec | None,
    runs: Runs,
    x0: Any,
    steps: int,
    dtype: np.dtype,
    threshold: float,
    divergence: float,
    grad_tol: float,
    use_native: bool,
) -> _Plan:
    points, drawn, bounds = start_table(surface, runs, x0)
    return _Plan(
        surface,
        native,
        runs,
        points,
        drawn,
        bounds,
        steps,
        dtype,
        threshold,
        divergence,
        grad_tol,
        lr_tables(runs, steps),
        use_native=use_native,
    )
