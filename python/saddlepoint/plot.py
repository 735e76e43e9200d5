"""Plots of schedules and loss surfaces (matplotlib: ``pip install "saddlepoint[plot]"``).

matplotlib is imported inside each function, never at import time. The functions draw on the
``Axes`` given, or on a new ``matplotlib.figure.Figure`` (not registered with pyplot) when
none is given, and return that ``Axes`` (its figure is ``ax.figure``); they never call
``show()``, so they work the same off-screen as in a notebook. To display a new figure in a
notebook, pass ``ax=plt.gca()`` or show ``ax.figure``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from ._checks import checked_int, is_int

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .surfaces import Surface

__all__ = ["plot_schedule", "plot_surface"]


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    # A bare Figure, not registered with pyplot: no GUI backend, no global state to close.
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('plotting needs matplotlib: pip install "saddlepoint[plot]"') from exc
    return Figure(figsize=(6.0, 4.5)).add_subplot()


def plot_schedule(
    schedule: Callable[[Any], Any], steps: int | ArrayLike, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw a learning-rate schedule against the step.

    Parameters
    ----------
    schedule
        A :class:`saddlepoint.schedules.Schedule`, or any callable ``int -> float``.
    steps
        An int ``N`` (steps ``0 .. N-1``) or an array of non-negative integer steps.
    ax
        The matplotlib ``Axes`` to draw on; a new figure's when omitted.
    **kwargs
        Passed to ``Axes.plot`` (``label``, ``color``, ...).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.figure.savefig(...)`` saves it.
    """
    if is_int(steps):
        if steps <= 0:
            raise ValueError(f"steps: expected a positive number of steps, got {steps}")
        t = np.arange(int(steps))
    else:
        t = np.asarray(steps)
        if t.ndim != 1 or t.dtype.kind not in "iu":
            raise ValueError(
                f"steps: expected an int or a 1-D integer array, got {t.dtype} of shape {t.shape}"
            )
    from .schedules import Schedule

    if isinstance(schedule, Schedule):
        lr = schedule(t)
    elif callable(schedule):
        lr = np.array([float(schedule(int(k))) for k in t])
    else:
        raise TypeError(f"schedule: expected a callable step -> lr, got {type(schedule).__name__}")
    ax = _new_axes(ax)
    kwargs.setdefault("label", repr(schedule))
    ax.plot(t, lr, **kwargs)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    return ax


def plot_surface(
    surface: Surface,
    trajectories: Iterable[ArrayLike] | dict[str, ArrayLike] | None = None,
    ax: Axes | None = None,
    *,
    bounds: Sequence[tuple[float, float]] | None = None,
    resolution: int = 200,
    levels: int = 30,
    log: bool | None = None,
    critical_points: bool = True,
) -> Axes:
    """Contour plot of a 2-D surface (a curve for a 1-D one), with optimizer paths and the
    critical points.

    Parameters
    ----------
    surface
        A :class:`saddlepoint.surfaces.Surface` (or any object with ``dim``, ``value``,
        ``bounds``) with ``dim`` 2, or 1.
    trajectories
        Paths to draw on top, as a list or as a dict ``label -> path`` (for a legend): arrays
        of shape ``(steps, 2)`` on a 2-D surface; ``(steps,)`` or ``(steps, 1)`` on a 1-D
        one, drawn as points on the curve. Start: a dot; end: a star.
    ax
        The matplotlib ``Axes`` to draw on; a new figure's when omitted.
    bounds
        ``((x_min, x_max), (y_min, y_max))`` (``((x_min, x_max),)`` in 1-D);
        ``surface.bounds`` by default.
    resolution
        Grid points per axis (the surface is evaluated in one vectorized call).
    levels
        Number of contour levels.
    log
        Contour ``log(1 + f - f_min)`` instead of ``f``, which shows the floor of steep
        surfaces (Rosenbrock, Goldstein-Price). By default on when the values on the grid
        span more than three orders of magnitude. Ignored in 1-D.
    critical_points
        Mark ``surface.critical_points`` inside the bounds (minimum: circle, maximum:
        triangle, saddle: filled cross, degenerate: square).

    Returns
    -------
    matplotlib.axes.Axes
    """
    dim = getattr(surface, "dim", None)
    if dim not in (1, 2):
        raise ValueError(f"surface: expected a 2-D (or 1-D) surface, got dim={dim}")
    checked_int("resolution", resolution, 2)
    paths = _paths(trajectories, dim)
    box = [(float(lo), float(hi)) for lo, hi in (bounds if bounds is not None else surface.bounds)]
    if len(box) != dim:
        raise ValueError(f"bounds: expected {dim} pairs (low, high), got {bounds!r}")
    points = [
        (cp.kind, np.asarray(cp.point, dtype=np.float64))
        for cp in (getattr(surface, "critical_points", ()) if critical_points else ())
    ]
    points = [(k, p) for k, p in points if all(lo <= c <= hi for c, (lo, hi) in zip(p, box))]
    ax = _new_axes(ax)
    if dim == 1:
        _curve(ax, surface, box[0], int(resolution), paths, points)
        log = False
    else:
        log = _contours(ax, surface, box, int(resolution), levels, log, paths, points)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    ax.set_title(getattr(surface, "name", "") + (" (log scale)" if log else ""))
    return ax


_MARKERS = {"minimum": "o", "maximum": "^", "saddle": "X", "degenerate": "s"}


def _paths(
    trajectories: Iterable[ArrayLike] | dict[str, ArrayLike] | None, dim: int
) -> list[tuple[str | None, np.ndarray]]:
    """Checked ``(label, path of shape (steps, dim))`` pairs, before anything is drawn."""
    if trajectories is None:
        return []
    items = (
        list(trajectories.items())
        if isinstance(trajectories, dict)
        else [(None, t) for t in trajectories]
    )
    out = []
    for label, path in items:
        p = np.asarray(path, dtype=np.float64)
        if dim == 1 and p.ndim == 1:
            p = p[:, None]
        if p.ndim != 2 or p.shape[1] != dim or p.shape[0] == 0:
            expected = "(steps, 2)" if dim == 2 else "(steps,) or (steps, 1)"
            raise ValueError(
                f"trajectories: expected non-empty arrays of shape {expected}, got shape {p.shape}"
            )
        out.append((label, p))
    return out


def _scatter_points(ax: Axes, points: list[tuple[str, np.ndarray]], y: Any = None) -> None:
    for kind, marker in _MARKERS.items():
        pts = np.array([p for k, p in points if k == kind])
        if len(pts):
            ys = pts[:, 1] if y is None else y(pts)
            ax.scatter(pts[:, 0], ys, marker=marker, c="white", edgecolors="k", s=40,
                       zorder=3, label=kind)  # fmt: skip


def _contours(
    ax: Axes,
    surface: Surface,
    box: list[tuple[float, float]],
    resolution: int,
    levels: int,
    log: bool | None,
    paths: list[tuple[str | None, np.ndarray]],
    points: list[tuple[str, np.ndarray]],
) -> bool:
    (x0, x1), (y0, y1) = box
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    z = np.asarray(surface.value(np.stack(np.meshgrid(xs, ys), axis=-1)), dtype=np.float64)
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    if log is None:
        log = hi - lo > 1e3 * max(1.0, abs(lo))
    if log:
        z = np.log1p(z - lo)
    ax.contourf(xs, ys, z, levels=levels, cmap="viridis")
    ax.contour(xs, ys, z, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    _scatter_points(ax, points)
    for label, p in paths:
        (line,) = ax.plot(p[:, 0], p[:, 1], "-", lw=1.2, label=label, zorder=4)
        ax.plot(p[0, 0], p[0, 1], "o", ms=4, color=line.get_color(), zorder=4)
        ax.plot(p[-1, 0], p[-1, 1], "*", ms=8, color=line.get_color(), zorder=4)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return bool(log)


def _curve(
    ax: Axes,
    surface: Surface,
    box: tuple[float, float],
    resolution: int,
    paths: list[tuple[str | None, np.ndarray]],
    points: list[tuple[str, np.ndarray]],
) -> None:
    xs = np.linspace(box[0], box[1], resolution)
    ax.plot(xs, np.asarray(surface.value(xs[:, None]), dtype=np.float64), "k-", lw=1.2)
    _scatter_points(ax, points, y=lambda pts: np.asarray(surface.value(pts)))
    for label, p in paths:
        f = np.asarray(surface.value(p), dtype=np.float64)
        (line,) = ax.plot(p[:, 0], f, ".-", ms=3, lw=0.6, alpha=0.8, label=label, zorder=4)
        ax.plot(p[0, 0], f[0], "o", ms=5, color=line.get_color(), zorder=4)
        ax.plot(p[-1, 0], f[-1], "*", ms=9, color=line.get_color(), zorder=4)
    ax.set_xlim(*box)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$f(x)$")
