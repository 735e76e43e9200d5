"""Plots of the tables that :mod:`saddlepoint.experiments` returns (matplotlib, an extra,
imported when a plot is drawn)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError('plotting needs matplotlib: pip install "saddlepoint[plot]"') from exc
    return plt


def _axes(axes: Any, n: int, width: float = 4.2) -> tuple[Any, list[Any]]:
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(width * n, 3.6), layout="constrained")
    axes = list(np.atleast_1d(axes))
    if len(axes) != n:
        raise ValueError(f"axes: expected {n} axes, got {len(axes)}")
    return axes[0].figure, axes


def plot_batch_size_study(df: Any, *, axes: Any = None) -> Any:
    """Three panels against the batch size (log scale): seconds per update and per epoch;
    training and validation accuracy; top Hessian eigenvalue and epsilon-sharpness."""
    fig, (ax_time, ax_acc, ax_sharp) = _axes(axes, 3)
    b = df["batch_size"]
    ax_time.loglog(b, df["seconds_per_update"], "o-", label="per update")
    ax_time.loglog(b, df["seconds_per_epoch"], "s-", label="per epoch")
    ax_time.set(xlabel="batch size", ylabel="seconds", title="time (this machine)")
    ax_time.legend()
    ax_acc.semilogx(b, df["train_accuracy"], "o-", label="training")
    ax_acc.semilogx(b, df["val_accuracy"], "s-", label="validation")
    ax_acc.set(xlabel="batch size", ylabel="accuracy", title="accuracy at the end")
    ax_acc.legend()
    ax_sharp.semilogx(b, df["top_eigenvalue"], "o-", color="C2", label="top eigenvalue")
    ax_sharp.set(xlabel="batch size", ylabel="top Hessian eigenvalue", title="sharpness")
    if "sharpness" in df and np.any(np.isfinite(df["sharpness"])):
        twin = ax_sharp.twinx()
        twin.semilogx(b, df["sharpness"], "s--", color="C3", label="epsilon-sharpness (%)")
        twin.set_ylabel("epsilon-sharpness (%)")
        lines = ax_sharp.get_lines() + twin.get_lines()
        ax_sharp.legend(lines, [ln.get_label() for ln in lines])
    return fig


def plot_minimum_ratio_study(df: Any, *, ax: Any = None) -> Any:
    """Training loss against minimum ratio, one point per run, coloured by log10 of the
    gradient norm (points with a large gradient are not really critical)."""
    plt = _pyplot()
    fig, (ax,) = _axes(ax, 1, width=5.0)
    colour = np.log10(np.maximum(np.asarray(df["grad_norm"], dtype=float), 1e-300))
    points = ax.scatter(df["minimum_ratio"], df["train_loss"], c=colour, cmap="viridis")
    fig.colorbar(points, ax=ax, label="log10 gradient norm")
    ax.set(
        xlabel="minimum ratio (share of positive Hessian eigenvalues)",
        ylabel="training loss",
        title="critical points of small networks",
    )
    plt.setp(ax.get_xticklabels(), rotation=0)
    return fig


def plot_optimizer_comparison(
    df: Any, surface: Any = None, *, axes: Any = None, levels: int = 30
) -> Any:
    """Loss curves (left) and, for two-dimensional paths, the paths (right) over the
    contour lines of ``surface`` when it is given (an object with ``value`` and ``bounds``
    or a name for :func:`saddlepoint.surfaces.get`)."""
    has_path = "x1" in df and "x2" not in df
    fig, ax_list = _axes(axes, 2 if has_path else 1)
    ax_loss = ax_list[0]
    for label, run in df.groupby("label", sort=False):
        ax_loss.plot(run["step"], run["loss"], label=str(label))
    ax_loss.set(xlabel="step", ylabel="loss", title="loss")
    if np.all(df["loss"] > 0):
        ax_loss.set_yscale("log")
    ax_loss.legend()
    if not has_path:
        return fig
    ax_path = ax_list[1]
    if surface is not None:
        if isinstance(surface, str):
            from .. import surfaces

            surface = surfaces.get(surface)
        bounds = np.asarray(getattr(surface, "bounds", None), dtype=float)
        if bounds.shape == (2, 2):
            (x_lo, x_hi), (y_lo, y_hi) = bounds
            gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, 200), np.linspace(y_lo, y_hi, 200))
            z = np.asarray(surface.value(np.stack([gx, gy], axis=-1)))
            ax_path.contour(gx, gy, z, levels=levels, cmap="Greys", linewidths=0.6)
            ax_path.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi))
    for label, run in df.groupby("label", sort=False):
        ax_path.plot(run["x0"], run["x1"], ".-", ms=2, lw=1, label=str(label))
    first = df.iloc[0]
    ax_path.plot(first["x0"], first["x1"], "k*", ms=10, label="start")
    ax_path.set(xlabel="x0", ylabel="x1", title="paths")
    ax_path.legend(fontsize="small")
    return fig
