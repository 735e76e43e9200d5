"""Section 2: saddles outnumber minima — the minimum ratio of small networks' critical points."""

from __future__ import annotations

import numpy as np

from .page import Section
from .runner import Context


def run(ctx: Context) -> Section:
    from .. import data, experiments, models
    from ..experiments import plot_minimum_ratio_study

    n_runs = 10 if ctx.quick else 40
    df = experiments.minimum_ratio_study(
        models.MLP([2, 4, 2], activation="tanh", l2=1e-3),
        data.blobs(60, centers=2, cluster_std=2.0, seed=ctx.seed),
        n_runs,
        epochs=30 if ctx.quick else 60,
        seed=ctx.seed,
    )
    ax = plot_minimum_ratio_study(df)
    figure = ctx.save(
        ax.figure,
        "minimum_ratio",
        "Training loss against minimum ratio (share "
        "of positive Hessian eigenvalues) at points of vanishing gradient of "
        "small tanh networks; colour by kind.",
    )
    kinds = df["kind"].value_counts().to_dict()
    ratio = df["minimum_ratio"].to_numpy(float)
    loss = df["train_loss"].to_numpy(float)
    rho = _spearman(ratio, loss)
    critical = df["grad_norm"].to_numpy(float) < 1e-5
    # one row per kind: the per-run values are in summary.json's "runs"
    table = [
        {
            "kind": str(kind),
            "runs": len(g),
            "median train loss": float(g["train_loss"].median()),
            "median minimum ratio": float(g["minimum_ratio"].median()),
            "largest grad norm": float(g["grad_norm"].max()),
        }
        for kind, g in df.groupby("kind", sort=True)
    ]
    runs = [
        {
            "run": int(r["run"]),
            "train_loss": float(r["train_loss"]),
            "grad_norm": float(r["grad_norm"]),
            "kind": str(r["kind"]),
            "minimum_ratio": float(r["minimum_ratio"]),
        }
        for _, r in df.iterrows()
    ]
    numbers = {
        "n_runs": int(n_runs),
        "n_params": int(df["n_params"].iloc[0]),
        "kinds": {str(k): int(v) for k, v in kinds.items()},
        "share_minima": float(np.mean(df["kind"] == "minimum")),
        "median_minimum_ratio": float(np.median(ratio)),
        "spearman_loss_vs_minimum_ratio": rho,
        "points_with_grad_norm_below_1e-5": int(critical.sum()),
        "runs": runs,
    }
    findings = [
        f"{n_runs} networks with {numbers['n_params']} parameters trained, then driven to "
        f"vanishing gradient: {', '.join(f'{v} {k}' for k, v in kinds.items())}.",
        f"Median minimum ratio {numbers['median_minimum_ratio']:.2f}; Spearman correlation of "
        f"training loss with minimum ratio {rho:.2f} (negative: the higher the loss, the "
        "more negative directions remain).",
        f"{int(critical.sum())} of {n_runs} end points have a gradient norm below 1e-5; the "
        "others sit in flat regions that are not exactly critical (each run is in summary.json).",
    ]
    return Section(
        key="minimum_ratio",
        title="Saddles outnumber minima",
        claim="In many dimensions a point of zero gradient is far more often a saddle than a "
        "minimum, and the points with high loss have the most negative directions "
        "(a low minimum ratio).",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        table=table,
    )


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(a[ok], b[ok]).statistic)
